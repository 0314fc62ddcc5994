//! The operator's settings page (`/admin/settings`, administrators): default visibility of new
//! results, the sign-up grant, the minimum age, the watermark's look, and per plan the result
//! retention and whether the watermark is drawn. Rules and storage: `service::settings`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Retention and watermark of one plan (or of members without a subscription).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PerksView {
    /// Days after finishing that results are purged; 0 keeps them.
    pub retention_days: u32,
    pub watermark: bool,
}

/// A subscription plan of the catalogue and its own entry (`None`: it follows `free`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanPerksView {
    pub id: String,
    pub name: String,
    pub perks: Option<PerksView>,
}

/// The settings as the page edits them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SettingsView {
    /// The version they were read at: a save over an older one is refused (409).
    pub version: i64,
    /// `private`, `link` or `public`.
    pub default_visibility: String,
    /// Credits.
    pub signup_grant: i64,
    /// Years.
    pub min_age: u32,
    pub free: PerksView,
    pub plans: Vec<PlanPerksView>,
    pub watermark_text: String,
    /// `top_left`, `top_right`, `bottom_left`, `bottom_right`.
    pub watermark_position: String,
    /// 5–100.
    pub watermark_opacity: u8,
    /// A logo is uploaded (drawn instead of the text).
    pub watermark_logo: bool,
}

/// The settings in force (administrators only: 401/403 otherwise).
#[server(endpoint = "admin_settings")]
pub async fn admin_settings() -> Result<SettingsView, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, _) = admin("change the settings").await?;
    let (s, version) = darkroom_service::settings::current(&state).await.map_err(fail)?;
    let catalogue = state.store.plans(true).await.map_err(|e| fail(e.into()))?;
    let perks = |p: &darkroom_service::settings::Perks| PerksView { retention_days: p.result_retention_days, watermark: p.watermark };
    let plans = catalogue
        .into_iter()
        .filter(|p| p.kind == "subscription" && (p.archived_at.is_none() || s.plans.contains_key(&p.id)))
        .map(|p| PlanPerksView { perks: s.plans.get(&p.id).map(perks), id: p.id, name: p.name })
        .collect();
    Ok(SettingsView {
        version,
        default_visibility: s.default_visibility.as_str().into(),
        signup_grant: s.signup_grant,
        min_age: s.min_age,
        free: perks(&s.free),
        plans,
        watermark_text: s.watermark.text,
        watermark_position: s.watermark.position.as_str().into(),
        watermark_opacity: s.watermark.opacity_percent,
        watermark_logo: s.watermark.logo.is_some(),
    })
}

/// Saves the general settings over `version` (administrators only); `remove_logo` goes back
/// from the logo to the text. Numbers arrive as the form's text. Errors: 400 naming a malformed or out-of-range field; 409 when someone saved
/// since `version`.
#[server(endpoint = "save_settings")]
#[allow(clippy::too_many_arguments)]
pub async fn save_settings(
    version: Option<String>,
    default_visibility: Option<String>,
    signup_grant: Option<String>,
    min_age: Option<String>,
    free_retention_days: Option<String>,
    free_watermark: Option<String>,
    watermark_text: Option<String>,
    watermark_position: Option<String>,
    watermark_opacity: Option<String>,
    remove_logo: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    use darkroom_service::settings::{Corner, Perks};
    let (state, user) = admin("change the settings").await?;
    let version = ssr::number::<i64>(&version, "version").map_err(fail)?;
    let visibility: darkroom_contract::Visibility =
        ssr::text(&default_visibility, "default_visibility")?.parse().map_err(|_| fail(darkroom_service::ServiceError::Invalid("Unknown visibility.".into())))?;
    let signup_grant = ssr::number(&signup_grant, "signup_grant").map_err(fail)?;
    let min_age = ssr::number(&min_age, "min_age").map_err(fail)?;
    let free = Perks { result_retention_days: ssr::number(&free_retention_days, "free_retention_days").map_err(fail)?, watermark: free_watermark.is_some() };
    let text = ssr::text(&watermark_text, "watermark_text")?.trim().to_string();
    let position = Corner::parse(&ssr::text(&watermark_position, "watermark_position")?).map_err(fail)?;
    let opacity = ssr::number(&watermark_opacity, "watermark_opacity").map_err(fail)?;
    darkroom_service::settings::edit(&state, &user.id, version, |s| {
        s.default_visibility = visibility;
        s.signup_grant = signup_grant;
        s.min_age = min_age;
        s.free = free;
        s.watermark.text = text;
        s.watermark.position = position;
        s.watermark.opacity_percent = opacity;
        if remove_logo.is_some() {
            s.watermark.logo = None;
        }
    })
    .await
    .map_err(fail)?;
    Ok(())
}

/// Sets one subscription plan's retention and watermark over `version`, or with `reset`
/// removes its entry (it then follows members without a subscription). Administrators only.
/// Errors: 400 for an unknown plan or a malformed field; 409 as [`save_settings`].
#[server(endpoint = "save_plan_settings")]
pub async fn save_plan_settings(
    version: Option<String>,
    plan: Option<String>,
    retention_days: Option<String>,
    watermark: Option<String>,
    reset: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, user) = admin("change the settings").await?;
    let version = ssr::number::<i64>(&version, "version").map_err(fail)?;
    let plan = ssr::text(&plan, "plan")?;
    let perks = match reset {
        Some(_) => None,
        None => Some(darkroom_service::settings::Perks { result_retention_days: ssr::number(&retention_days, "retention_days").map_err(fail)?, watermark: watermark.is_some() }),
    };
    darkroom_service::settings::edit(&state, &user.id, version, |s| match perks {
        Some(p) => {
            s.plans.insert(plan, p);
        }
        None => {
            s.plans.remove(&plan);
        }
    })
    .await
    .map_err(fail)?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use darkroom_service::ServiceError;
    use leptos::prelude::ServerFnError;

    /// A required text field. Errors: missing (400 through `fail`).
    pub fn text(v: &Option<String>, name: &str) -> Result<String, ServerFnError> {
        v.clone().ok_or_else(|| crate::api::ssr::fail(ServiceError::Invalid(format!("`{name}` is missing."))))
    }

    /// A required whole number. Errors: missing or not a number in range of `T` (400).
    pub fn number<T: std::str::FromStr>(v: &Option<String>, name: &str) -> Result<T, ServiceError> {
        v.as_deref().map(str::trim).unwrap_or("").parse().map_err(|_| ServiceError::Invalid(format!("`{name}` must be a whole number.")))
    }
}
