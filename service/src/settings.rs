//! The settings an operator changes in the console without a restart: the visibility of new
//! results, the sign-up grant, the minimum age, and per plan the result retention and the
//! visible watermark. Stored in the database (`store::settings`, one JSON document with a
//! version) and read on every use through the store's copy of operator data
//! (`darkroom_store::cached`), so a save applies at the next request on the node that made it,
//! on other PostgreSQL nodes when its notice arrives, and everywhere within a second. Before
//! the first save the environment's values (`Config`) are the settings. Every save is
//! audited (`settings.save`, its reason naming what changed).
//!
//! Per-plan settings follow the member's newest active subscription (`Store::member_plan`);
//! members without one, and members on a plan without its own entry, get `free`.

use std::collections::BTreeMap;

use darkroom_contract::Visibility;
use serde::{Deserialize, Serialize};

use crate::{AppState, ServiceError};

/// The longest result retention an operator may set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// The largest sign-up grant, in credits.
pub const MAX_SIGNUP_GRANT: i64 = 100_000;
/// The minimum age's range, in years (13: COPPA's floor; no service of this kind goes lower).
pub const MIN_AGE_RANGE: std::ops::RangeInclusive<u32> = 13..=99;
/// The watermark text's length limit, in characters.
pub const MAX_WATERMARK_CHARS: usize = 40;

/// What a plan (or `free`) gives its members' results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Perks {
    /// Results are purged this many days after they finish; 0 keeps them.
    pub result_retention_days: u32,
    /// The visible watermark is drawn on new results.
    pub watermark: bool,
}

/// Where the watermark sits on the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    #[default]
    BottomRight,
}

impl Corner {
    pub const ALL: [Corner; 4] = [Corner::TopLeft, Corner::TopRight, Corner::BottomLeft, Corner::BottomRight];

    pub fn as_str(self) -> &'static str {
        match self {
            Corner::TopLeft => "top_left",
            Corner::TopRight => "top_right",
            Corner::BottomLeft => "bottom_left",
            Corner::BottomRight => "bottom_right",
        }
    }

    /// Parses the form's value. Errors: an unknown corner (400).
    pub fn parse(s: &str) -> Result<Corner, ServiceError> {
        Corner::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| ServiceError::Invalid(format!("Unknown watermark position: {s}.")))
    }

    fn engine(self) -> darkroom_engine::watermark::Corner {
        use darkroom_engine::watermark::Corner as E;
        match self {
            Corner::TopLeft => E::TopLeft,
            Corner::TopRight => E::TopRight,
            Corner::BottomLeft => E::BottomLeft,
            Corner::BottomRight => E::BottomRight,
        }
    }
}

/// How the watermark looks (one look for every plan that has it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatermarkStyle {
    /// 1 to [`MAX_WATERMARK_CHARS`] characters.
    pub text: String,
    pub position: Corner,
    /// 5 to 100 percent.
    pub opacity_percent: u8,
    /// The operator's logo (a media key under [`LOGO_PREFIX`]), drawn instead of the text.
    #[serde(default)]
    pub logo: Option<String>,
}

/// Where uploaded logos are kept in media storage (one file per upload, never overwritten).
pub const LOGO_PREFIX: &str = "site/watermark/";

/// The operator's settings. Fields missing from a stored document take the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Visibility of new results (private by default; a community service chooses public).
    /// `public` applies to members who have acknowledged once that AI output may be
    /// inaccurate (the publishing prompt); others' results start private.
    pub default_visibility: Visibility,
    /// Credits a new account starts with.
    pub signup_grant: i64,
    /// Years a person must have reached to sign up.
    pub min_age: u32,
    /// Members without a subscription, and plans without their own entry.
    pub free: Perks,
    /// By subscription plan id.
    pub plans: BTreeMap<String, Perks>,
    pub watermark: WatermarkStyle,
}

impl Settings {
    /// The settings before any save: the environment's (`DARKROOM_SIGNUP_GRANT`,
    /// `DARKROOM_MIN_AGE`, `DARKROOM_RESULT_RETENTION_DAYS`), private results, no watermark.
    pub fn defaults(config: &crate::Config) -> Settings {
        Settings {
            default_visibility: Visibility::Private,
            signup_grant: config.signup_grant,
            min_age: config.min_age,
            free: Perks { result_retention_days: config.result_retention_days, watermark: false },
            plans: BTreeMap::new(),
            watermark: WatermarkStyle { text: "AI · Darkroom".into(), position: Corner::BottomRight, opacity_percent: 60, logo: None },
        }
    }

    /// The visibility a new result starts with, for a member who has (`reviewed`) or has not
    /// yet acknowledged that AI output may be inaccurate: `public` needs that acknowledgement
    /// (publishing is the member's to confirm once); without it the result starts private.
    pub fn new_result_visibility(&self, reviewed: bool) -> Visibility {
        match self.default_visibility {
            Visibility::Public if !reviewed => Visibility::Private,
            v => v,
        }
    }

    /// What the plan `plan` (`None`: no subscription) gives.
    pub fn perks(&self, plan: Option<&str>) -> &Perks {
        plan.and_then(|p| self.plans.get(p)).unwrap_or(&self.free)
    }

    /// Checks every bound. Errors: the first value out of range, named (400).
    pub fn check(&self) -> Result<(), ServiceError> {
        let bad = |m: String| Err(ServiceError::Invalid(m));
        if !(0..=MAX_SIGNUP_GRANT).contains(&self.signup_grant) {
            return bad(format!("The sign-up grant must be between 0 and {MAX_SIGNUP_GRANT} credits."));
        }
        if !MIN_AGE_RANGE.contains(&self.min_age) {
            return bad(format!("The minimum age must be between {} and {} years.", MIN_AGE_RANGE.start(), MIN_AGE_RANGE.end()));
        }
        for p in std::iter::once(&self.free).chain(self.plans.values()) {
            if p.result_retention_days > MAX_RETENTION_DAYS {
                return bad(format!("Retention must be at most {MAX_RETENTION_DAYS} days (0 keeps results)."));
            }
        }
        let chars = self.watermark.text.trim().chars().count();
        if chars == 0 || chars > MAX_WATERMARK_CHARS || self.watermark.text.chars().any(char::is_control) {
            return bad(format!("The watermark text must be 1 to {MAX_WATERMARK_CHARS} characters on one line."));
        }
        if !(5..=100).contains(&self.watermark.opacity_percent) {
            return bad("The watermark's opacity must be between 5 and 100 percent.".into());
        }
        Ok(())
    }

    /// What differs from `before`, for the audit row: `signup_grant 50 → 80; plan monthly: …`.
    pub fn changes_from(&self, before: &Settings) -> String {
        let mut out = Vec::new();
        let mut diff = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{name} {a} → {b}"));
            }
        };
        diff("default_visibility", before.default_visibility.as_str().into(), self.default_visibility.as_str().into());
        diff("signup_grant", before.signup_grant.to_string(), self.signup_grant.to_string());
        diff("min_age", before.min_age.to_string(), self.min_age.to_string());
        let perks = |p: Option<&Perks>| p.map(|p| format!("{} days, watermark {}", p.result_retention_days, if p.watermark { "on" } else { "off" })).unwrap_or_else(|| "default".into());
        diff("free", perks(Some(&before.free)), perks(Some(&self.free)));
        let plans: std::collections::BTreeSet<&String> = before.plans.keys().chain(self.plans.keys()).collect();
        for plan in plans {
            diff(&format!("plan {plan}"), perks(before.plans.get(plan)), perks(self.plans.get(plan)));
        }
        let look = |w: &WatermarkStyle| format!("\"{}\" {} {}% logo {}", w.text, w.position.as_str(), w.opacity_percent, w.logo.as_deref().unwrap_or("none"));
        diff("watermark", look(&before.watermark), look(&self.watermark));
        if out.is_empty() {
            "no change".into()
        } else {
            out.join("; ")
        }
    }
}

/// The document as stored, every field optional so older documents keep reading.
#[derive(Deserialize)]
struct Stored {
    default_visibility: Option<Visibility>,
    signup_grant: Option<i64>,
    min_age: Option<u32>,
    free: Option<Perks>,
    plans: Option<BTreeMap<String, Perks>>,
    watermark: Option<WatermarkStyle>,
}

/// The settings in force and the version they were read at (0: never saved).
///
/// Errors: the database failed, or the stored document is not JSON of this shape (500; the
/// database was edited by hand).
pub async fn current(state: &AppState) -> Result<(Settings, i64), ServiceError> {
    let defaults = Settings::defaults(&state.config);
    let Some(row) = state.store.site_settings().await? else {
        return Ok((defaults, 0));
    };
    let s: Stored = serde_json::from_str(&row.doc).map_err(ServiceError::internal)?;
    Ok((
        Settings {
            default_visibility: s.default_visibility.unwrap_or(defaults.default_visibility),
            signup_grant: s.signup_grant.unwrap_or(defaults.signup_grant),
            min_age: s.min_age.unwrap_or(defaults.min_age),
            free: s.free.unwrap_or(defaults.free),
            plans: s.plans.unwrap_or_default(),
            watermark: s.watermark.unwrap_or(defaults.watermark),
        },
        row.version,
    ))
}

/// The settings in force (see [`current`]).
pub async fn get(state: &AppState) -> Result<Settings, ServiceError> {
    Ok(current(state).await?.0)
}

/// Applies `change` to the settings in force and saves the result for `actor_id` over the
/// version `read_version` the administrator edited, audited (one read of the stored document).
///
/// Errors: a value out of range (400, [`Settings::check`]); a plan entry naming a plan that
/// is not a subscription in the catalogue (400); someone saved since `read_version` (409:
/// reload and apply the change again); the database failed.
pub async fn edit(state: &AppState, actor_id: &str, read_version: i64, change: impl FnOnce(&mut Settings)) -> Result<i64, ServiceError> {
    let (before, version) = current(state).await?;
    let mut new = before.clone();
    change(&mut new);
    new.check()?;
    let plans = state.store.plans(true).await?;
    for id in new.plans.keys() {
        if !plans.iter().any(|p| &p.id == id && p.kind == "subscription") {
            return Err(ServiceError::Invalid(format!("No subscription plan `{id}`.")));
        }
    }
    let conflict = || ServiceError::Conflict("The settings were changed meanwhile; reload and try again.".into());
    if version != read_version {
        return Err(conflict());
    }
    let summary = new.changes_from(&before);
    let doc = serde_json::to_string(&new).map_err(ServiceError::internal)?;
    state.store.save_site_settings(actor_id, &doc, read_version, &summary).await?.ok_or_else(conflict)
}

/// The watermark to draw on a new result of `user_id`, `None` when their plan has none.
///
/// Errors: the database failed.
pub async fn watermark_for(state: &AppState, user_id: &str) -> Result<Option<darkroom_engine::watermark::Watermark>, ServiceError> {
    let settings = get(state).await?;
    let plan = state.store.member_plan(user_id).await?;
    if !settings.perks(plan.as_deref()).watermark {
        return Ok(None);
    }
    let w = &settings.watermark;
    let logo = match &w.logo {
        // Checked when it was uploaded; a file that no longer reads falls back to the text.
        Some(key) => match state.media.get(key).await {
            Ok(bytes) => darkroom_engine::watermark::decode_logo(&bytes).map_err(|e| tracing::error!(key, error = %e, "the watermark logo does not read")).ok(),
            Err(e) => {
                tracing::error!(key, error = %e, "the watermark logo is missing");
                None
            }
        },
        None => None,
    };
    Ok(Some(darkroom_engine::watermark::Watermark { text: w.text.trim().to_string(), logo, corner: w.position.engine(), opacity: w.opacity_percent as f32 / 100.0 }))
}

/// Stores an uploaded logo (checked by `decode_logo`, kept as the PNG it decodes to, so no
/// metadata travels) and makes it the watermark, saved over `read_version` for `actor_id`
/// (audited like every save).
///
/// Errors: the file is not a usable logo (400, naming why); someone saved since
/// `read_version` (409); storage or the database failed.
pub async fn set_logo(state: &AppState, actor_id: &str, bytes: &[u8], read_version: i64) -> Result<i64, ServiceError> {
    let logo = darkroom_engine::watermark::decode_logo(bytes).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let mut png = Vec::new();
    logo.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(ServiceError::internal)?;
    let key = format!("{LOGO_PREFIX}{}.png", darkroom_store::new_id());
    state.media.put(&key, bytes::Bytes::from(png)).await?;
    let mut old = None;
    match edit(state, actor_id, read_version, |s| old = s.watermark.logo.replace(key.clone())).await {
        Ok(version) => {
            if let Some(old) = old {
                let _ = state.media.delete(&old).await;
            }
            Ok(version)
        }
        Err(e) => {
            let _ = state.media.delete(&key).await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Settings {
        Settings::defaults(&crate::Config::from_env())
    }

    #[test]
    fn bounds_are_checked() {
        assert!(base().check().is_ok());
        let mut s = base();
        s.min_age = 12;
        assert!(s.check().is_err());
        let mut s = base();
        s.watermark.text = "a\nb".into();
        assert!(s.check().is_err());
        let mut s = base();
        s.watermark.opacity_percent = 0;
        assert!(s.check().is_err());
        let mut s = base();
        s.plans.insert("monthly".into(), Perks { result_retention_days: MAX_RETENTION_DAYS + 1, watermark: false });
        assert!(s.check().is_err());
    }

    #[test]
    fn perks_follow_the_plan_and_changes_are_named() {
        let mut s = base();
        s.plans.insert("monthly".into(), Perks { result_retention_days: 365, watermark: false });
        s.free.watermark = true;
        assert!(s.perks(None).watermark);
        assert!(s.perks(Some("studio")).watermark, "a plan without an entry is free");
        assert_eq!(s.perks(Some("monthly")).result_retention_days, 365);
        let summary = s.changes_from(&base());
        assert!(summary.contains("plan monthly default → 365 days, watermark off"), "{summary}");
        assert!(summary.contains("watermark on"), "{summary}");
        assert_eq!(base().changes_from(&base()), "no change");
    }
}
