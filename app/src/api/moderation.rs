//! Moderation server functions (SPEC §6): the moderators' review queue and rulings, reports
//! from anyone, and a member's own standing. Rules live in `darkroom_service::moderation`;
//! these only check who is asking and shape the answers for the pages.

use leptos::prelude::*;
use darkroom_contract::{Category, Gate, JobStatus};
use darkroom_contract::moderation::Decision as Verdict;
use serde::{Deserialize, Serialize};

/// A detector finding drawn on the image: a box in the image's pixels.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BoxView {
    pub label: String,
    /// 0..=1.
    pub score: f64,
    /// `[x, y, width, height]`, pixels of the image shown.
    pub rect: [i64; 4],
    /// True when a policy rule fired on this finding (review or block).
    pub flagged: bool,
    /// In a clip: the seconds into it of the sampled frame this was found on.
    #[serde(default)]
    pub frame_secs: Option<f64>,
}

/// A recorded moderation decision, for moderators.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DecisionView {
    pub gate: Gate,
    pub decision: Verdict,
    pub category: Option<Category>,
    pub detector: String,
    /// The labels as one line, e.g. `FACE_FEMALE 0.72; blocklist "corpse"`.
    pub summary: String,
    pub reason: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub job_id: Option<String>,
}

/// A report, as the queue shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReportView {
    pub id: String,
    pub reason: String,
    pub note: String,
    pub created_at: i64,
}

/// One entry of the review queue.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QueueEntry {
    /// `review` (held by a gate) or `report`.
    pub kind: String,
    pub job_id: String,
    pub status: JobStatus,
    pub prompt: String,
    pub created_at: i64,
    /// The image the boxes refer to: the result once it exists, else the upload.
    pub image_url: String,
    /// Its size in pixels.
    pub image_width: i64,
    pub image_height: i64,
    /// `image_url` is a clip (MP4): the page plays it and lists the flagged frames' times
    /// instead of drawing boxes over it.
    #[serde(default)]
    pub video: bool,
    pub boxes: Vec<BoxView>,
    /// Every decision on this job, oldest first.
    pub decisions: Vec<DecisionView>,
    pub report: Option<ReportView>,
    pub owner_id: String,
    pub owner_name: String,
    pub owner_email: String,
    /// Strikes not lifted and inside the policy window.
    pub owner_active_strikes: i64,
    pub owner_restricted_until: Option<i64>,
    pub owner_suspended: bool,
    /// The owner's earlier flagged decisions, newest first.
    pub owner_history: Vec<DecisionView>,
}

/// One strike, as its member sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StrikeView {
    /// `sexual`, `minors`, `violence` or `other` (the words: [`category_label`]).
    pub category: Category,
    pub created_at: i64,
    pub lifted: bool,
    /// Past the policy window: no longer counts.
    pub expired: bool,
}

/// The signed-in member's standing (settings page).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StandingView {
    /// Until this time (ms) the member cannot start generations.
    pub restricted_until: Option<i64>,
    pub suspended: bool,
    /// Strikes that count now.
    pub active: i64,
    /// Active strikes that restrict and that suspend, and the window in days (policy).
    pub restrict_at: i64,
    pub suspend_at: i64,
    pub window_days: i64,
    pub strikes: Vec<StrikeView>,
}

/// Words for a stored category.
pub fn category_label(c: &str) -> &'static str {
    match c {
        "sexual" => crate::i18n::t("category.sexual"),
        "minors" => crate::i18n::t("category.minors"),
        "violence" => crate::i18n::t("category.violence"),
        "hate" => crate::i18n::t("category.hate"),
        "illegal" => crate::i18n::t("category.illegal"),
        "spam" => crate::i18n::t("category.spam"),
        _ => crate::i18n::t("category.other"),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use darkroom_service::auth::SessionUser;
    use darkroom_service::moderation::is_moderator;
    use darkroom_service::{AppState, ServiceError};
    use darkroom_store::moderation::Decision;
    use leptos::prelude::*;

    use super::{BoxView, DecisionView};
    use crate::api::ssr::{fail, member};

    /// The signed-in moderator or admin; others get 403.
    pub async fn moderator() -> Result<(AppState, SessionUser), ServerFnError> {
        let (state, user) = member().await?;
        if !is_moderator(&user.role) {
            return Err(fail(ServiceError::Forbidden("This page is for moderators.".into())));
        }
        Ok((state, user))
    }

    pub fn decision_view(d: &Decision) -> DecisionView {
        let labels: serde_json::Value = serde_json::from_str(&d.labels).unwrap_or_default();
        let summary = labels
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|l| {
                        let name = l["label"].as_str().or(l["reason"].as_str()).unwrap_or("finding");
                        match (l["score"].as_f64(), l["match"].as_str()) {
                            (Some(s), _) => format!("{name} {s:.2}"),
                            (None, Some(m)) => format!("{name} \"{m}\""),
                            _ => name.to_string(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        DecisionView {
            gate: d.gate,
            decision: d.decision,
            category: d.category,
            detector: d.detector.clone(),
            summary,
            reason: d.reason.clone(),
            created_at: d.created_at,
            job_id: d.job_id.clone(),
        }
    }

    /// The boxes of the newest image decision at `gate`.
    pub fn boxes(decisions: &[Decision], gate: darkroom_contract::Gate) -> Vec<BoxView> {
        let Some(d) = decisions.iter().rev().find(|d| d.gate == gate) else { return vec![] };
        let labels: serde_json::Value = serde_json::from_str(&d.labels).unwrap_or_default();
        labels
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let b = l["box"].as_array()?;
                let rect = [b.first()?.as_i64()?, b.get(1)?.as_i64()?, b.get(2)?.as_i64()?, b.get(3)?.as_i64()?];
                Some(BoxView { label: l["label"].as_str()?.to_string(), score: l["score"].as_f64()?, rect, flagged: l.get("rule").is_some(), frame_secs: l["frame_secs"].as_f64() })
            })
            .collect()
    }

    /// Turns a service error into a server-function error with its status.
    pub fn err(e: impl Into<ServiceError>) -> ServerFnError {
        fail(e.into())
    }
}

/// The review queue (moderators only): jobs held by a gate, then open reports, oldest
/// first. `kind`: `review` or `report`; `category`: keep items that name it.
#[server(endpoint = "moderation_queue")]
pub async fn moderation_queue(kind: Option<String>, category: Option<String>) -> Result<Vec<QueueEntry>, ServerFnError> {
    use darkroom_service::moderation::{queue, QueueFilter};
    let (state, _) = ssr::moderator().await?;
    let filter = QueueFilter { kind: kind.filter(|k| !k.is_empty()), category: category.filter(|c| !c.is_empty()) };
    let items = queue(&state, &filter).await.map_err(ssr::err)?;
    let window = state.policy.strikes.rules().window_ms;
    let now = darkroom_store::now_ms();
    Ok(items
        .into_iter()
        .map(|it| {
            let has_result = it.job.result_key.is_some();
            let (variant, gate) = if has_result { ("result", Gate::Output) } else { ("upload", Gate::Upload) };
            let video = match &it.job.result_key {
                Some(k) => darkroom_service::media::is_video(k),
                None => it.job.mode == darkroom_contract::Mode::VideoToVideo,
            };
            QueueEntry {
                kind: it.kind,
                image_url: format!("/media/{}/{variant}", it.job.id),
                boxes: ssr::boxes(&it.decisions, gate),
                decisions: it.decisions.iter().map(ssr::decision_view).collect(),
                report: it.report.map(|r| ReportView { id: r.id, reason: r.reason, note: r.note, created_at: r.created_at }),
                job_id: it.job.id,
                status: it.job.status,
                prompt: it.job.prompt,
                created_at: it.job.created_at,
                video,
                image_width: it.image_width,
                image_height: it.image_height,
                owner_id: it.job.user_id,
                owner_name: it.owner_name,
                owner_email: it.owner_email,
                owner_active_strikes: it
                    .owner_standing
                    .strikes
                    .iter()
                    .filter(|s| s.lifted_at.is_none() && s.created_at > now - window)
                    .count() as i64,
                owner_restricted_until: it.owner_standing.restricted_until.filter(|&t| t > now),
                owner_suspended: it.owner_standing.suspended_at.is_some(),
                owner_history: it.owner_history.iter().map(ssr::decision_view).collect(),
            }
        })
        .collect())
}

/// Approves (`verdict = "approve"`) or rejects (`"reject"`) a job waiting in review, with
/// the category the member is shown and a reason for the audit log (moderators only). An
/// empty reason becomes "approved" / "rejected: <category>".
#[server(endpoint = "rule_on_job")]
pub async fn rule_on_job(id: String, verdict: String, category: String, reason: String) -> Result<(), ServerFnError> {
    use darkroom_service::moderation::rule_on_job;
    use darkroom_service::ServiceError;
    let (state, user) = ssr::moderator().await?;
    let approve = match verdict.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ssr::err(ServiceError::Invalid("The verdict is approve or reject.".into()))),
    };
    let category = parse_category(&category)?;
    let reason = default_reason(reason, approve, category.as_str());
    rule_on_job(&state, &user.id, &id, approve, category, &reason).await.map_err(ssr::err)?;
    Ok(())
}

/// A category from a moderator's form. Errors: an unknown one (400).
#[cfg(feature = "ssr")]
fn parse_category(c: &str) -> Result<darkroom_contract::Category, ServerFnError> {
    c.parse().map_err(|e: darkroom_contract::ParseError| ssr::err(darkroom_service::ServiceError::Invalid(e.to_string())))
}

#[cfg(feature = "ssr")]
fn default_reason(reason: String, yes: bool, category: &str) -> String {
    if !reason.trim().is_empty() {
        reason
    } else if yes {
        "approved".into()
    } else {
        format!("rejected: {}", category_label(category))
    }
}

/// Resolves an open report (moderators only): `verdict` is `uphold` (a strike for the
/// owner), `hide` (uphold and hide the item everywhere) or `dismiss`.
#[server(endpoint = "rule_on_report")]
pub async fn rule_on_report(id: String, verdict: String, category: String, reason: String) -> Result<(), ServerFnError> {
    use darkroom_service::moderation::rule_on_report;
    use darkroom_service::ServiceError;
    let (state, user) = ssr::moderator().await?;
    let (uphold, hide) = match verdict.as_str() {
        "uphold" => (true, false),
        "hide" => (true, true),
        "dismiss" => (false, false),
        _ => return Err(ssr::err(ServiceError::Invalid("The verdict is uphold, hide or dismiss.".into()))),
    };
    let category = parse_category(&category)?;
    let reason = default_reason(reason, !uphold, category.as_str());
    rule_on_report(&state, &user.id, &id, uphold, hide, category, &reason).await.map_err(ssr::err)?;
    Ok(())
}

/// Hides an item everywhere (`hidden = "true"`) or shows it again (moderators only;
/// audited, with the category its owner is shown).
#[server(endpoint = "set_hidden")]
pub async fn set_hidden(id: String, hidden: String, category: String, reason: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::moderator().await?;
    let hide = hidden == "true";
    let category = parse_category(&category)?;
    let reason = default_reason(reason, !hide, category.as_str());
    darkroom_service::moderation::set_hidden(&state, &user.id, &id, hide, category, &reason).await.map_err(ssr::err)?;
    Ok(())
}

/// Lifts a member's restriction, suspension and active strikes (moderators only; audited).
#[server(endpoint = "lift_standing")]
pub async fn lift_standing(user_id: String, reason: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::moderator().await?;
    darkroom_service::moderation::lift(&state, &user.id, &user_id, &reason).await.map_err(ssr::err)?;
    Ok(())
}

/// Reports a shared or public item (anyone, signed in or not; rate limited per member or per
/// address). `reason`: one of `sexual`, `minors`, `violence`, `hate`, `illegal`, `spam`,
/// `other`; `note`: up to 1,000 characters.
#[server(endpoint = "report_item")]
pub async fn report_item(id: String, reason: String, note: String) -> Result<(), ServerFnError> {
    use darkroom_service::moderation::{report, visitor_key};
    let state = crate::api::ssr::state()?;
    let user = crate::api::ssr::auth().await?.user;
    let key = match &user {
        Some(u) => format!("user:{}", u.id),
        None => {
            let addr = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .await
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|_| "unknown".into());
            visitor_key(&addr)
        }
    };
    report(&state, user.as_ref().map(|u| u.id.as_str()), &key, &id, &reason, &note).await.map_err(ssr::err)?;
    Ok(())
}

/// The signed-in member's standing and strikes.
#[server(endpoint = "my_standing")]
pub async fn my_standing() -> Result<StandingView, ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    let s = state.store.standing(&user.id).await.map_err(ssr::err)?;
    let rules = state.policy.strikes.rules();
    let now = darkroom_store::now_ms();
    let strikes: Vec<StrikeView> = s
        .strikes
        .iter()
        .map(|k| StrikeView {
            category: k.category,
            created_at: k.created_at,
            lifted: k.lifted_at.is_some(),
            expired: k.created_at <= now - rules.window_ms,
        })
        .collect();
    Ok(StandingView {
        restricted_until: s.restricted_until.filter(|&t| t > now),
        suspended: s.suspended_at.is_some(),
        active: strikes.iter().filter(|k| !k.lifted && !k.expired).count() as i64,
        restrict_at: rules.restrict_at,
        suspend_at: rules.suspend_at,
        window_days: rules.window_ms / 86_400_000,
        strikes,
    })
}
