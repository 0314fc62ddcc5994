//! Moderation (SPEC §6): the three gates every generation passes, the moderator's queue and
//! rulings, reports, strikes and standing.
//!
//! Gates, each recording a decision (allow / review / block, detector, labels with scores,
//! policy version, time) in the store:
//! - **prompt** ([`prompt::check`]), before the charge is kept;
//! - **upload** ([`check_image`] on the cleaned photo), before the job runs;
//! - **output** ([`check_image`] on the result), before anyone can see it.
//!
//! A block ends the job `rejected` with a category the member sees ([`Category::label`]),
//! never the matched rule, and the charge is not refunded. A review holds the job (or its
//! result) for a moderator. The policy ([`policy::Policy`]) is the operator's.

pub mod policy;
pub mod prompt;

use darkroom_engine::{Detection, Engine};
use darkroom_store::jobs::Job;
use darkroom_store::moderation::{Decision as DecisionRow, NewDecision, Report, Ruling, Standing, REPORT_REASONS};
use darkroom_store::now_ms;
use darkroom_store::users::Eligibility;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use policy::{ImageGate, Policy, ReviewMode};

use crate::{AppState, ServiceError};

pub use darkroom_contract::{Category, Decision, Gate};

/// The message a rejected job shows its owner: the category, and that credits stay spent.
pub fn rejection_message(category: Category) -> String {
    format!("Rejected by moderation ({}). Credits are not refunded for rejected generations.", category.label())
}

/// One gate's verdict before it is recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    /// Set when the decision is not `Allow`.
    pub category: Option<Category>,
    pub detector: &'static str,
    /// JSON objects: what matched, with scores and boxes for images.
    pub labels: Vec<serde_json::Value>,
}

impl Verdict {
    pub fn allow(detector: &'static str) -> Self {
        Self { decision: Decision::Allow, category: None, detector, labels: vec![] }
    }

    pub fn block(category: Category, detector: &'static str, labels: serde_json::Value) -> Self {
        let labels = match labels {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        Self { decision: Decision::Block, category: Some(category), detector, labels }
    }

    /// Adds a finding that calls for `decision`; the verdict keeps the highest decision (and
    /// that decision's category).
    pub fn raise(mut self, decision: Decision, category: Category, label: serde_json::Value) -> Self {
        self.labels.push(label);
        if decision > self.decision {
            self.decision = decision;
            self.category = Some(category);
        }
        self
    }

    /// Folds in the verdict on one sampled frame of a clip, `secs` seconds in: its labels
    /// join this verdict's with the frame's time (`frame_secs`), and the worst frame's
    /// decision and category win. Frames that found nothing add nothing.
    pub fn add_frame(&mut self, frame: Verdict, secs: f64) {
        for mut label in frame.labels {
            if let Some(o) = label.as_object_mut() {
                o.insert("frame_secs".into(), json!((secs * 100.0).round() / 100.0));
            }
            self.labels.push(label);
        }
        if frame.decision > self.decision {
            self.decision = frame.decision;
            self.category = frame.category;
        }
    }

    /// The verdict with its findings' boxes scaled by `factor` (e.g. from a frame scaled down
    /// for the detector back to the clip's own pixels), rounded to whole pixels.
    pub fn scale_boxes(mut self, factor: f64) -> Self {
        for label in &mut self.labels {
            if let Some(b) = label.get_mut("box").and_then(|b| b.as_array_mut()) {
                for v in b.iter_mut() {
                    if let Some(n) = v.as_f64() {
                        *v = json!((n * factor).round() as i64);
                    }
                }
            }
        }
        self
    }

    /// The store record for this verdict at `gate`.
    pub fn record(&self, gate: Gate, policy_version: &str) -> NewDecision {
        NewDecision {
            gate,
            decision: self.decision,
            category: self.category,
            detector: self.detector.into(),
            labels: serde_json::Value::Array(self.labels.clone()),
            policy_version: policy_version.into(),
            actor_id: None,
            reason: None,
        }
    }
}

/// Name of the image detector in decision records.
pub const IMAGE_DETECTOR: &str = "nudenet-320n";

/// Applies the image rules to the detector's findings at `gate`.
pub fn judge_detections(detections: &[Detection], gate: ImageGate, policy: &Policy) -> Verdict {
    let mut v = Verdict::allow(IMAGE_DETECTOR);
    for d in detections {
        let mut label = json!({ "label": d.label, "score": (d.score * 1000.0).round() / 1000.0, "box": d.bbox });
        for rule in &policy.images.rules {
            let decision = rule.decide(&d.label, d.score, gate);
            if decision > Decision::Allow {
                label["rule"] = json!(decision.as_str());
                if decision > v.decision {
                    v.decision = decision;
                    v.category = Some(rule.category);
                }
            }
        }
        v.labels.push(label);
    }
    v
}

/// Runs the detector on `img` and applies the policy. Without an engine (models not
/// fetched) or when the detector fails, the image goes to review: nothing passes unchecked.
pub fn check_image(engine: Option<&Engine>, img: &RgbImage, gate: ImageGate, policy: &Policy) -> Verdict {
    match engine.map(|e| e.detect(img)) {
        Some(Ok(found)) => judge_detections(&found, gate, policy),
        Some(Err(e)) => {
            tracing::error!(error = %e, "image detector failed; holding for review");
            Verdict::allow(IMAGE_DETECTOR).raise(Decision::Review, Category::Other, json!({ "label": "detector_error" }))
        }
        None => Verdict::allow(IMAGE_DETECTOR).raise(Decision::Review, Category::Other, json!({ "label": "detector_unavailable" })),
    }
}

/// Refuses job creation for a restricted or suspended member, one who has not confirmed their
/// email address (when the operator requires it), or one who must accept new terms.
///
/// Errors: [`ServiceError::Forbidden`] saying which (with the date a restriction ends).
pub async fn ensure_may_create(state: &AppState, user_id: &str) -> Result<Eligibility, ServiceError> {
    // One read of the member's row (standing, address, terms): no strike list needed here.
    let member = state.store.eligibility(user_id).await?;
    check_may_create(state, &member).await?;
    Ok(member)
}

/// [`ensure_may_create`] for a member's row read already (with their API key).
///
/// Errors: as [`ensure_may_create`].
pub async fn check_may_create(state: &AppState, member: &Eligibility) -> Result<(), ServiceError> {
    if member.suspended_at.is_some() {
        return Err(ServiceError::Forbidden("This account is suspended.".into()));
    }
    if let Some(until) = member.restricted_until.filter(|&t| t > now_ms()) {
        return Err(ServiceError::Forbidden(format!(
            "After repeated moderation strikes, this account can't start new generations until {} (UTC).",
            format_utc(until)
        )));
    }
    if state.config.require_verified_email && member.email_verified_at.is_none() {
        return Err(ServiceError::Forbidden(
            "Please confirm your email address first: open the link we mailed you (Settings sends a new one).".into(),
        ));
    }
    crate::legal::require_current_terms(state, &member.terms_version).await
}

/// `YYYY-MM-DD HH:MM` in UTC for a time in milliseconds.
pub fn format_utc(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
        Err(_) => "an unknown date".into(),
    }
}

/// True for the roles that may moderate.
pub fn is_moderator(role: &str) -> bool {
    role == "moderator" || role == "admin"
}

/// One item of the moderator's queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueItem {
    /// `review` (a job held by a gate) or `report`.
    pub kind: String,
    pub job: Job,
    pub report: Option<Report>,
    /// Every decision on the job, oldest first (labels, scores, boxes).
    pub decisions: Vec<DecisionRow>,
    pub owner_name: String,
    pub owner_email: String,
    pub owner_standing: Standing,
    /// The owner's earlier flagged decisions, newest first.
    pub owner_history: Vec<DecisionRow>,
    /// Pixel size of the image the boxes refer to (upload before a run, result after).
    pub image_width: i64,
    pub image_height: i64,
}

/// Filters for [`queue`].
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueFilter {
    /// `review` or `report`; `None` for both.
    pub kind: Option<String>,
    /// Keep items whose decisions name this category.
    pub category: Option<String>,
}

/// The review queue: jobs held by a gate, then open reports, oldest first.
pub async fn queue(state: &AppState, filter: &QueueFilter) -> Result<Vec<QueueItem>, ServiceError> {
    let store = &state.store;
    let mut items = Vec::new();
    if filter.kind.as_deref() != Some("report") {
        for job in store.jobs_in_review(100).await? {
            items.push(("review", job, None));
        }
    }
    if filter.kind.as_deref() != Some("review") {
        for report in store.open_reports(100).await? {
            let job = store.job_any_owner(&report.job_id).await?;
            items.push(("report", job, Some(report)));
        }
    }
    let mut out = Vec::new();
    for (kind, job, report) in items {
        let decisions = store.decisions_for_job(&job.id).await?;
        if let Some(c) = &filter.category {
            let named = decisions.iter().any(|d| d.category.is_some_and(|dc| dc.as_str() == c))
                || report.as_ref().is_some_and(|r| &r.reason == c);
            if !named {
                continue;
            }
        }
        let owner = store.user(&job.user_id).await?;
        let (image_width, image_height) = match (job.result_width, job.result_height) {
            (Some(w), Some(h)) => (w, h),
            _ => match job.upload_id.as_deref() {
                Some(id) => {
                    let u = store.upload(id, &job.user_id).await?;
                    (u.width, u.height)
                }
                // Text→image held before it ran: nothing to show yet but the prompt.
                None => (0, 0),
            },
        };
        out.push(QueueItem {
            kind: kind.into(),
            owner_standing: store.standing(&owner.id).await?,
            owner_history: store.flagged_decisions_for_user(&owner.id, 10).await?,
            owner_name: owner.display_name,
            owner_email: owner.email,
            job,
            report,
            decisions,
            image_width,
            image_height,
        });
    }
    Ok(out)
}

fn check_reason(reason: &str) -> Result<&str, ServiceError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(ServiceError::Invalid("Give a reason (1 to 500 characters); it goes into the audit log.".into()));
    }
    Ok(r)
}

/// What a moderator's ruling carries besides actor and reason: the member's message for the
/// category and the policy's strike rules. Owned here; [`RulingBasis::ruling`] lends it out.
struct RulingBasis {
    message: String,
    rules: darkroom_store::moderation::StrikeRules,
    category: Category,
}

impl RulingBasis {
    fn new(policy: &Policy, category: Category) -> Self {
        Self { message: rejection_message(category), rules: policy.strikes.rules(), category }
    }

    fn ruling<'a>(&'a self, policy: &'a Policy, actor_id: &'a str, reason: &'a str) -> Ruling<'a> {
        Ruling {
            actor_id,
            reason,
            category: self.category,
            message: &self.message,
            policy_version: &policy.version,
            strike: &self.rules,
        }
    }
}

/// Approves or rejects a job waiting in review. A rejection removes any hidden result from
/// storage, is not refunded, and adds a strike.
///
/// Errors: [`ServiceError::Invalid`] (no reason), [`ServiceError::NotFound`],
/// [`ServiceError::Conflict`] (not in review any more).
pub async fn rule_on_job(
    state: &AppState,
    actor_id: &str,
    job_id: &str,
    approve: bool,
    category: Category,
    reason: &str,
) -> Result<Job, ServiceError> {
    let reason = check_reason(reason)?;
    let basis = RulingBasis::new(&state.policy, category);
    let job = state.store.moderate_job(job_id, approve, &basis.ruling(&state.policy, actor_id, reason)).await?;
    if !approve {
        // Rejected content is not kept: the hidden result, and the upload it was made from.
        state.media.delete_result(job.result_key.as_deref(), job.thumb_key.as_deref()).await?;
        if let Some(Ok(upload)) = match job.upload_id.as_deref() {
            Some(id) => Some(state.store.upload(id, &job.user_id).await),
            None => None,
        } {
            state.store.delete_upload(&upload.id, &job.user_id).await?;
            state.media.delete(&upload.object_key).await?;
        }
    }
    Ok(job)
}

/// Upholds (optionally hiding the item everywhere) or dismisses a report.
pub async fn rule_on_report(
    state: &AppState,
    actor_id: &str,
    report_id: &str,
    uphold: bool,
    hide: bool,
    category: Category,
    reason: &str,
) -> Result<Report, ServiceError> {
    let reason = check_reason(reason)?;
    let basis = RulingBasis::new(&state.policy, category);
    Ok(state.store.resolve_report(report_id, uphold, hide, &basis.ruling(&state.policy, actor_id, reason)).await?)
}

/// Hides an item everywhere (or shows it again), whoever owns it; audited. Its pages and
/// media stop answering to anyone but moderators at once; the owner sees the category.
///
/// Errors: [`ServiceError::Invalid`] (no reason), [`ServiceError::NotFound`].
pub async fn set_hidden(state: &AppState, actor_id: &str, job_id: &str, hidden: bool, category: Category, reason: &str) -> Result<Job, ServiceError> {
    let reason = check_reason(reason)?;
    let basis = RulingBasis::new(&state.policy, category);
    Ok(state.store.set_hidden(job_id, hidden, &basis.ruling(&state.policy, actor_id, reason)).await?)
}

/// Lifts a member's restriction, suspension and active strikes.
pub async fn lift(state: &AppState, actor_id: &str, user_id: &str, reason: &str) -> Result<(), ServiceError> {
    let reason = check_reason(reason)?;
    Ok(state.store.lift_standing(user_id, actor_id, reason).await?)
}

/// The reporter key of a visitor: `ip:` and the SHA-256 of their address (hex), so rate
/// limits work without storing the address itself.
pub fn visitor_key(ip: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("ip:{}", hex::encode(Sha256::digest(format!("darkroom-report:{ip}").as_bytes())))
}

/// Reports per reporter per hour.
pub const REPORTS_PER_HOUR: i64 = 10;
/// Longest report note, characters.
pub const MAX_REPORT_NOTE: usize = 1000;

/// Files a report on a shared or public item. `reporter_key`: the member id, or a hash of the
/// visitor's address.
///
/// Errors: [`ServiceError::Invalid`] (unknown reason, note too long),
/// [`ServiceError::RateLimited`] (more than [`REPORTS_PER_HOUR`] in the last hour),
/// [`ServiceError::NotFound`] (not shared/public: no oracle), [`ServiceError::Conflict`]
/// (already reported by this reporter).
pub async fn report(
    state: &AppState,
    reporter_id: Option<&str>,
    reporter_key: &str,
    job_id: &str,
    reason: &str,
    note: &str,
) -> Result<Report, ServiceError> {
    if !REPORT_REASONS.contains(&reason) {
        return Err(ServiceError::Invalid(format!("Pick a reason: {}.", REPORT_REASONS.join(", "))));
    }
    if note.chars().count() > MAX_REPORT_NOTE {
        return Err(ServiceError::Invalid(format!("The note can be at most {MAX_REPORT_NOTE} characters.")));
    }
    let hour_ago = now_ms() - 3_600_000;
    if state.store.reports_since(reporter_key, hour_ago).await? >= REPORTS_PER_HOUR {
        return Err(ServiceError::RateLimited { retry_after_secs: 3600 });
    }
    Ok(state.store.create_report(job_id, reporter_id, reporter_key, reason, note.trim()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses_and_validates() {
        let p = Policy::default();
        assert_eq!(p.images.review_mode, ReviewMode::Hold);
        assert!(Policy::parse(&DEFAULT_POLICY_WITH_BAD_LABEL()).unwrap_err().contains("unknown detector label"));
    }

    #[allow(non_snake_case)]
    fn DEFAULT_POLICY_WITH_BAD_LABEL() -> String {
        policy::DEFAULT_POLICY.replace("\"ANUS_EXPOSED\"]", "\"ANUS_EXPOSED\", \"NOT_A_LABEL\"]")
    }

    #[test]
    fn image_rules_pick_the_highest_decision() {
        let p = Policy::default();
        let d = |label: &str, score| Detection { label: label.into(), score, bbox: [0, 0, 10, 10] };
        let v = judge_detections(&[d("FACE_FEMALE", 0.9), d("FEMALE_BREAST_EXPOSED", 0.4)], ImageGate::Upload, &p);
        assert_eq!((v.decision, v.category), (Decision::Review, Some(Category::Sexual)));
        assert_eq!(v.labels.len(), 2, "every detection is recorded");
        let v = judge_detections(&[d("FEMALE_BREAST_EXPOSED", 0.4), d("MALE_GENITALIA_EXPOSED", 0.8)], ImageGate::Output, &p);
        assert_eq!(v.decision, Decision::Block);
        let v = judge_detections(&[d("FACE_FEMALE", 0.99), d("FEET_EXPOSED", 0.9)], ImageGate::Upload, &p);
        assert_eq!(v.decision, Decision::Allow);
    }

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00");
        assert_eq!(format_utc(1_795_000_000_000), "2026-11-18 11:06");
    }
}
