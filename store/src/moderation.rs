//! Moderation records (SPEC §6): a decision per gate, reports, strikes, account standing.
//!
//! - Every gate a generation passes (prompt, upload, output) and every moderator action
//!   writes a [`Decision`] row in the same transaction as the job change it causes.
//! - Moderator actions (approve/reject a job in review, resolve a report, hide an item, lift
//!   a member's restriction) also write an `audit_log` row with actor, target and reason.
//! - Strikes: each upheld rejection or report adds one; [`StrikeRules`] turn the number of
//!   active strikes (not lifted, inside the window) into a restriction (no new jobs until a
//!   time) and then a suspension (sign-in blocked).

pub use darkroom_contract::moderation::{Category, Decision as Verdict, Gate};
use darkroom_contract::JobStatus;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::audit::audit_in;
use crate::jobs::{emit_job, job_in, Job};
use crate::{new_id, now_ms, Result, Store, StoreError};

/// A gate's or moderator's decision, to record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NewDecision {
    pub gate: Gate,
    pub decision: Verdict,
    /// Set when not `allow`.
    pub category: Option<Category>,
    /// What decided: `rustrict+lists`, `nudenet-320n`, `moderator`, ...
    pub detector: String,
    /// JSON: the detector's labels with scores (and boxes for images).
    pub labels: serde_json::Value,
    /// The policy version in force.
    pub policy_version: String,
    /// The moderator, for `moderator`/`report` decisions.
    pub actor_id: Option<String>,
    /// The moderator's reason.
    pub reason: Option<String>,
}

/// A recorded decision.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    pub id: String,
    pub job_id: Option<String>,
    pub user_id: String,
    pub gate: Gate,
    pub decision: Verdict,
    pub category: Option<Category>,
    pub detector: String,
    /// JSON text.
    pub labels: String,
    pub policy_version: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// When strikes restrict and suspend (operator policy).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrikeRules {
    /// Strikes older than this (milliseconds) no longer count.
    pub window_ms: i64,
    /// Active strikes that restrict the account (no new jobs) ...
    pub restrict_at: i64,
    /// ... for this long (milliseconds).
    pub restrict_ms: i64,
    /// Active strikes that suspend the account (no sign-in, API keys disabled).
    pub suspend_at: i64,
}

/// A strike against a member.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Strike {
    pub id: String,
    pub job_id: Option<String>,
    pub report_id: Option<String>,
    pub category: Category,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
}

/// A member's standing: restrictions in force and their strikes, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Standing {
    /// No new jobs before this time (ms), if in the future.
    pub restricted_until: Option<i64>,
    /// Set when the account is suspended.
    pub suspended_at: Option<i64>,
    pub strikes: Vec<Strike>,
}

impl Standing {
    /// True if the member may not start jobs at `now` (restricted or suspended).
    pub fn blocks_jobs(&self, now: i64) -> bool {
        self.suspended_at.is_some() || self.restricted_until.is_some_and(|t| t > now)
    }
}

/// A report on a shared or public item.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub id: String,
    pub job_id: String,
    pub owner_id: String,
    pub reporter_id: Option<String>,
    /// `sexual`, `minors`, `violence`, `hate`, `illegal`, `spam` or `other`.
    pub reason: String,
    pub note: String,
    /// `open`, `upheld` or `dismissed`.
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub created_at: i64,
}

/// Reasons a report may give.
pub const REPORT_REASONS: [&str; 7] = ["sexual", "minors", "violence", "hate", "illegal", "spam", "other"];

const REPORT_COLUMNS: &str =
    "id, job_id, owner_id, reporter_id, reason, note, status, resolved_by, resolved_at, resolution, created_at";
const DECISION_COLUMNS: &str =
    "id, job_id, user_id, gate, decision, category, detector, labels, policy_version, actor_id, reason, created_at";

/// Records `d` for `user_id` (and `job_id`) inside `tx`.
/// Records `decisions` of one job inside `tx` in one statement (a job's gates: the prompt's,
/// and each image's).
pub(crate) async fn decisions_in(tx: &mut Transaction<'static, Any>, user_id: &str, job_id: Option<&str>, decisions: &[NewDecision]) -> Result<()> {
    if decisions.is_empty() {
        return Ok(());
    }
    let sql = format!("{DECISIONS_INSERT} {}", decision_rows(1, decisions.len()));
    bind_decisions(sqlx::query(&sql), user_id, job_id, decisions, now_ms()).execute(&mut **tx).await?;
    Ok(())
}

/// The statement that records decisions, up to its `VALUES` rows ([`decision_rows`]).
pub(crate) const DECISIONS_INSERT: &str =
    "INSERT INTO moderation_decisions (id, job_id, user_id, gate, decision, category, detector, labels, policy_version, actor_id, reason, created_at) VALUES";

/// `n` rows of [`DECISIONS_INSERT`], their 12 placeholders each numbered from `$first` on.
pub(crate) fn decision_rows(first: usize, n: usize) -> String {
    (0..n)
        .map(|i| {
            let b = first + i * 12;
            let cols: Vec<String> = (b..b + 12).map(|k| format!("${k}")).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds the values of [`decision_rows`] in order (each decision gets a new id).
pub(crate) fn bind_decisions<'q, Q: crate::BindArgs<'q>>(mut q: Q, user_id: &str, job_id: Option<&str>, decisions: &[NewDecision], now: i64) -> Q {
    for d in decisions {
        q = q
            .bind_arg(new_id())
            .bind_arg(job_id.map(str::to_owned))
            .bind_arg(user_id.to_owned())
            .bind_arg(d.gate)
            .bind_arg(d.decision)
            .bind_arg(d.category)
            .bind_arg(d.detector.clone())
            .bind_arg(d.labels.to_string())
            .bind_arg(d.policy_version.clone())
            .bind_arg(d.actor_id.clone())
            .bind_arg(d.reason.clone())
            .bind_arg(now);
    }
    q
}

pub(crate) async fn decision_in(tx: &mut Transaction<'static, Any>, user_id: &str, job_id: Option<&str>, d: &NewDecision) -> Result<()> {
    decisions_in(tx, user_id, job_id, std::slice::from_ref(d)).await
}

/// Adds a strike inside `tx` and applies `rules` to the member's active strikes.
pub(crate) async fn strike_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    job_id: Option<&str>,
    report_id: Option<&str>,
    category: Category,
    reason: &str,
    rules: &StrikeRules,
) -> Result<()> {
    let now = now_ms();
    sqlx::query("INSERT INTO strikes (id, user_id, job_id, report_id, category, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(user_id)
        .bind(job_id)
        .bind(report_id)
        .bind(category)
        .bind(reason)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM strikes WHERE user_id = $1 AND lifted_at IS NULL AND created_at > $2")
        .bind(user_id)
        .bind(now - rules.window_ms)
        .fetch_one(&mut **tx)
        .await?;
    if active >= rules.suspend_at {
        sqlx::query("UPDATE users SET suspended_at = COALESCE(suspended_at, $1) WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    } else if active >= rules.restrict_at {
        sqlx::query("UPDATE users SET restricted_until = $1 WHERE id = $2 AND (restricted_until IS NULL OR restricted_until < $1)")
            .bind(now + rules.restrict_ms)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A moderator's ruling on a job in `review` or on a report.
pub struct Ruling<'a> {
    pub actor_id: &'a str,
    /// Required, recorded in the audit log.
    pub reason: &'a str,
    /// The category the member is shown when rejected/hidden.
    pub category: Category,
    /// The message a rejected job shows the member.
    pub message: &'a str,
    pub policy_version: &'a str,
    pub strike: &'a StrikeRules,
}

impl Store {
    /// Decisions recorded for a job, oldest first.
    pub async fn decisions_for_job(&self, job_id: &str) -> Result<Vec<Decision>> {
        Ok(sqlx::query_as::<_, Decision>(&format!(
            "SELECT {DECISION_COLUMNS} FROM moderation_decisions WHERE job_id = $1 ORDER BY created_at, id"
        ))
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A member's non-`allow` decisions, newest first (the moderator's view of their history).
    pub async fn flagged_decisions_for_user(&self, user_id: &str, limit: i64) -> Result<Vec<Decision>> {
        Ok(sqlx::query_as::<_, Decision>(&format!(
            "SELECT {DECISION_COLUMNS} FROM moderation_decisions WHERE user_id = $1 AND decision <> 'allow' \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The member's standing and strikes.
    pub async fn standing(&self, user_id: &str) -> Result<Standing> {
        let (restricted_until, suspended_at): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT restricted_until, suspended_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let strikes = sqlx::query_as::<_, Strike>(
            "SELECT id, job_id, report_id, category, created_at, lifted_at FROM strikes WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Standing { restricted_until, suspended_at, strikes })
    }

    /// Lifts a member's restriction and suspension and their active strikes (moderator or
    /// admin action, audited).
    pub async fn lift_standing(&self, user_id: &str, actor_id: &str, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let done = sqlx::query("UPDATE users SET restricted_until = NULL, suspended_at = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE strikes SET lifted_at = $1, lifted_by = $2 WHERE user_id = $3 AND lifted_at IS NULL")
            .bind(now)
            .bind(actor_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        audit_in(&mut tx, Some(actor_id), "standing.lift", &format!("user:{user_id}"), reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Jobs waiting in the review queue, oldest first.
    pub async fn jobs_in_review(&self, limit: i64) -> Result<Vec<Job>> {
        Ok(sqlx::query_as::<_, Job>(&format!(
            "SELECT {} FROM jobs WHERE status = 'review' AND deleted_at IS NULL ORDER BY id LIMIT $1",
            crate::jobs::COLUMNS
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Approves or rejects a job in `review` (audited, recorded as a `moderator` decision,
    /// told to the member live). Approve: a held job is queued to run; a hidden result is
    /// released (`succeeded`). Reject: `rejected`, no refund, a strike. Returns the job after.
    ///
    /// Errors: [`StoreError::NotFound`]; [`StoreError::Conflict`] if it is not in review
    /// (another moderator was first).
    pub async fn moderate_job(&self, job_id: &str, approve: bool, ruling: &Ruling<'_>) -> Result<Job> {
        let mut tx = self.begin_write().await?;
        let job = job_in(&mut tx, job_id).await?;
        if job.status != JobStatus::Review {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!("the job is {} and no longer waits for review", job.status)));
        }
        let now = now_ms();
        if approve {
            let (status, finished) = if job.result_key.is_some() { (JobStatus::Succeeded, Some(now)) } else { (JobStatus::Queued, None) };
            sqlx::query("UPDATE jobs SET status = $1, finished_at = $2 WHERE id = $3 AND status = 'review'")
                .bind(status)
                .bind(finished)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "UPDATE jobs SET status = 'rejected', error = $1, moderation_category = $2, finished_at = $3 WHERE id = $4 AND status = 'review'",
            )
            .bind(ruling.message)
            .bind(ruling.category)
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
            strike_in(&mut tx, &job.user_id, Some(job_id), None, ruling.category, ruling.reason, ruling.strike).await?;
        }
        let decision = NewDecision {
            gate: Gate::Moderator,
            decision: if approve { Verdict::Allow } else { Verdict::Block },
            category: (!approve).then_some(ruling.category),
            detector: "moderator".into(),
            labels: serde_json::json!([]),
            policy_version: ruling.policy_version.into(),
            actor_id: Some(ruling.actor_id.into()),
            reason: Some(ruling.reason.into()),
        };
        decision_in(&mut tx, &job.user_id, Some(job_id), &decision).await?;
        let action = if approve { "job.approve" } else { "job.reject" };
        audit_in(&mut tx, Some(ruling.actor_id), action, &format!("job:{job_id}"), ruling.reason).await?;
        let after = job_in(&mut tx, job_id).await?;
        emit_job(&mut tx, &after).await?;
        tx.commit().await?;
        self.changed(&after.user_id);
        if after.status == JobStatus::Queued {
            self.queued();
        }
        Ok(after)
    }

    /// Files a report on a shared or public item. `reporter_key` identifies the reporter for
    /// rate limiting and duplicates (member id, or a hash of the visitor's IP).
    ///
    /// Errors: [`StoreError::NotFound`] unless the item is succeeded, not hidden or deleted,
    /// and `link` or `public`; [`StoreError::Conflict`] if this reporter has an open report
    /// on it already.
    pub async fn create_report(
        &self,
        job_id: &str,
        reporter_id: Option<&str>,
        reporter_key: &str,
        reason: &str,
        note: &str,
    ) -> Result<Report> {
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM jobs WHERE id = $1 AND status = 'succeeded' AND deleted_at IS NULL AND hidden_at IS NULL \
             AND visibility IN ('link', 'public')",
        )
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(owner) = owner else {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        };
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE job_id = $1 AND reporter_key = $2 AND status = 'open'")
            .bind(job_id)
            .bind(reporter_key)
            .fetch_one(&mut *tx)
            .await?;
        if open > 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict("you have already reported this item; a moderator will look at it".into()));
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO reports (id, job_id, owner_id, reporter_id, reporter_key, reason, note, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8)",
        )
        .bind(&id)
        .bind(job_id)
        .bind(&owner)
        .bind(reporter_id)
        .bind(reporter_key)
        .bind(reason)
        .bind(note)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let report = report_in(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// How many reports `reporter_key` filed since `since_ms` (for rate limits).
    pub async fn reports_since(&self, reporter_key: &str, since_ms: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE reporter_key = $1 AND created_at >= $2")
            .bind(reporter_key)
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Open reports, oldest first.
    pub async fn open_reports(&self, limit: i64) -> Result<Vec<Report>> {
        Ok(sqlx::query_as::<_, Report>(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE status = 'open' ORDER BY id LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Upholds or dismisses an open report (audited). Upholding adds a strike to the owner
    /// and, with `hide`, hides the item everywhere (its pages and media stop answering).
    ///
    /// Errors: [`StoreError::NotFound`]; [`StoreError::Conflict`] if already resolved.
    pub async fn resolve_report(&self, report_id: &str, uphold: bool, hide: bool, ruling: &Ruling<'_>) -> Result<Report> {
        let mut tx = self.begin_write().await?;
        let report = report_in(&mut tx, report_id).await?;
        if report.status != "open" {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!("the report was already {}", report.status)));
        }
        let now = now_ms();
        sqlx::query("UPDATE reports SET status = $1, resolved_by = $2, resolved_at = $3, resolution = $4 WHERE id = $5")
            .bind(if uphold { "upheld" } else { "dismissed" })
            .bind(ruling.actor_id)
            .bind(now)
            .bind(ruling.reason)
            .bind(report_id)
            .execute(&mut *tx)
            .await?;
        if uphold {
            strike_in(&mut tx, &report.owner_id, Some(&report.job_id), Some(report_id), ruling.category, ruling.reason, ruling.strike)
                .await?;
            if hide {
                hide_in(&mut tx, &report.job_id, ruling.category).await?;
            }
        }
        let decision = NewDecision {
            gate: Gate::Report,
            decision: if uphold && hide { Verdict::Block } else { Verdict::Allow },
            category: uphold.then_some(ruling.category),
            detector: "moderator".into(),
            labels: serde_json::json!([{ "report": report_id, "reason": report.reason }]),
            policy_version: ruling.policy_version.into(),
            actor_id: Some(ruling.actor_id.into()),
            reason: Some(ruling.reason.into()),
        };
        decision_in(&mut tx, &report.owner_id, Some(&report.job_id), &decision).await?;
        let action = match (uphold, hide) {
            (true, true) => "report.uphold_hide",
            (true, false) => "report.uphold",
            _ => "report.dismiss",
        };
        audit_in(&mut tx, Some(ruling.actor_id), action, &format!("report:{report_id}"), ruling.reason).await?;
        let job = job_in(&mut tx, &report.job_id).await?;
        emit_job(&mut tx, &job).await?;
        let after = report_in(&mut tx, report_id).await?;
        tx.commit().await?;
        self.changed(&job.user_id);
        if uphold && hide {
            self.feed_changed();
        }
        Ok(after)
    }

    /// Hides (or shows again) an item everywhere, whoever owns it (moderator action, audited).
    pub async fn set_hidden(&self, job_id: &str, hidden: bool, ruling: &Ruling<'_>) -> Result<Job> {
        let mut tx = self.begin_write().await?;
        let job = job_in(&mut tx, job_id).await?;
        if hidden {
            hide_in(&mut tx, job_id, ruling.category).await?;
        } else {
            sqlx::query("UPDATE jobs SET hidden_at = NULL, moderation_category = NULL WHERE id = $1")
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            crate::bump_feed(&mut tx).await?;
        }
        audit_in(&mut tx, Some(ruling.actor_id), if hidden { "job.hide" } else { "job.unhide" }, &format!("job:{job_id}"), ruling.reason)
            .await?;
        let after = job_in(&mut tx, job_id).await?;
        emit_job(&mut tx, &after).await?;
        tx.commit().await?;
        self.changed(&job.user_id);
        self.feed_changed();
        Ok(after)
    }

    /// The newest audit rows about `target` (e.g. `job:<id>`, `user:<id>`), or all when empty.
    pub async fn audit_entries(&self, target: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as::<_, AuditEntry>(
            "SELECT id, actor_id, action, target, reason, created_at FROM audit_log WHERE ($1 = '' OR target = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(target)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// One audit log row.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: String,
    pub reason: String,
    pub created_at: i64,
}

async fn hide_in(tx: &mut Transaction<'static, Any>, job_id: &str, category: Category) -> Result<()> {
    sqlx::query("UPDATE jobs SET hidden_at = $1, moderation_category = $2 WHERE id = $3 AND hidden_at IS NULL")
        .bind(now_ms())
        .bind(category)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    crate::bump_feed(tx).await?;
    Ok(())
}

async fn report_in(tx: &mut Transaction<'static, Any>, id: &str) -> Result<Report> {
    sqlx::query_as::<_, Report>(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)
}
