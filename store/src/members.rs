//! The operator's console on members: search, and staff actions on an account (role,
//! restriction until a time, suspension, disabling one API key), each audited on
//! `user:<id>` (the key: `api_key:<id>`) in the same transaction as the change. Lifting a
//! restriction or suspension is [`Store::lift_standing`](crate::Store::lift_standing).
//! Also every member's generations for staff ([`Store::staff_jobs`]).

use darkroom_contract::{JobStatus, Mode};

use crate::api::ApiKey;
use crate::jobs::Job;
use crate::audit::audit_in;
use crate::users::User;
use crate::{now_ms, Result, Store, StoreError};

/// Which accounts a search keeps, by standing at the time of the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandingFilter {
    /// Neither restricted now nor suspended.
    Good,
    /// Restricted until a time still to come (and not suspended).
    Restricted,
    Suspended,
}

/// A member search: each part optional.
#[derive(Clone, Debug, Default)]
pub struct MemberFilter<'a> {
    /// A part of the email address or the display name (case-insensitive).
    pub text: Option<&'a str>,
    /// `member`, `moderator` or `admin`.
    pub role: Option<&'a str>,
    pub standing: Option<StandingFilter>,
}


/// Which generations the console lists: each part optional.
#[derive(Clone, Debug, Default)]
pub struct StaffJobFilter<'a> {
    pub status: Option<JobStatus>,
    pub mode: Option<Mode>,
    /// A template id.
    pub template: Option<&'a str>,
    /// One member's.
    pub user_id: Option<&'a str>,
    /// Unix milliseconds: created at or after `from_ms`, before `until_ms`.
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

impl Store {
    /// Every member's generations passing `filter` (deleted ones left out), newest first,
    /// older than the job `before`, at most `limit` (a keyset page). For staff only: the
    /// caller checks the role.
    pub async fn staff_jobs(&self, filter: &StaffJobFilter<'_>, before: Option<&str>, limit: i64) -> Result<Vec<Job>> {
        Ok(sqlx::query_as::<_, Job>(&format!(
            "SELECT {} FROM jobs WHERE deleted_at IS NULL AND ($1 = '' OR status = $1) AND ($2 = '' OR mode = $2) \
             AND ($3 = '' OR template_id = $3) AND ($4 = '' OR user_id = $4) AND ($5 = '' OR id < $5) \
             AND created_at >= $6 AND created_at < $7 ORDER BY id DESC LIMIT $8",
            crate::jobs::COLUMNS
        ))
        .bind(filter.status.map_or("", JobStatus::as_str))
        .bind(filter.mode.map_or("", Mode::as_str))
        .bind(filter.template.unwrap_or(""))
        .bind(filter.user_id.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(filter.from_ms.unwrap_or(0))
        .bind(filter.until_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Accounts passing `filter` (deleted ones left out), in id order after `after`, at most
    /// `limit` (a keyset page).
    pub async fn search_members(&self, filter: &MemberFilter<'_>, after: Option<&str>, limit: i64) -> Result<Vec<User>> {
        let standing = match filter.standing {
            None => "",
            Some(StandingFilter::Good) => "AND suspended_at IS NULL AND (restricted_until IS NULL OR restricted_until <= $5)",
            Some(StandingFilter::Restricted) => "AND suspended_at IS NULL AND restricted_until > $5",
            Some(StandingFilter::Suspended) => "AND suspended_at IS NOT NULL",
        };
        let sql = format!(
            "SELECT {} FROM users WHERE deleted_at IS NULL \
             AND ($1 = '' OR LOWER(email) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\') \
             AND ($3 = '' OR role = $3) AND ($4 = '' OR id > $4) AND $5 >= 0 {standing} ORDER BY id LIMIT $6",
            crate::users::COLUMNS
        );
        let text = filter.text.unwrap_or("").to_lowercase();
        Ok(sqlx::query_as::<_, User>(&sql)
            .bind(&text)
            .bind(format!("%{}%", crate::like_escaped(&text)))
            .bind(filter.role.unwrap_or(""))
            .bind(after.unwrap_or(""))
            .bind(now_ms())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Staff changes an account's role (the caller checks the value), audited as `user.role`
    /// with `"<role>: <reason>"`. Errors: [`StoreError::NotFound`].
    pub async fn staff_set_role(&self, actor_id: &str, user_id: &str, role: &str, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND deleted_at IS NULL").bind(role).bind(user_id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_in(&mut tx, Some(actor_id), "user.role", &format!("user:{user_id}"), &format!("{role}: {reason}")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Staff restricts an account until `until_ms` (no new generations; the member's settings
    /// show until when), audited as `user.restrict`. Errors: [`StoreError::NotFound`].
    pub async fn staff_restrict(&self, actor_id: &str, user_id: &str, until_ms: i64, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET restricted_until = $1 WHERE id = $2 AND deleted_at IS NULL").bind(until_ms).bind(user_id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_in(&mut tx, Some(actor_id), "user.restrict", &format!("user:{user_id}"), reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Staff suspends an account (sign-in refused, its sessions end at their next request),
    /// audited as `user.suspend`. Suspending a suspended account keeps the first time.
    /// Errors: [`StoreError::NotFound`].
    pub async fn staff_suspend(&self, actor_id: &str, user_id: &str, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET suspended_at = COALESCE(suspended_at, $1) WHERE id = $2 AND deleted_at IS NULL")
            .bind(now_ms())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_in(&mut tx, Some(actor_id), "user.suspend", &format!("user:{user_id}"), reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Staff disables one API key at once (it answers 401 from the next request), audited as
    /// `api_key.disable` and shown to its member as a security event. Disabling a revoked key
    /// changes nothing. Errors: [`StoreError::NotFound`].
    pub async fn staff_disable_api_key(&self, actor_id: &str, key_id: &str, reason: &str) -> Result<ApiKey> {
        let owner: Option<String> = sqlx::query_scalar("SELECT user_id FROM api_keys WHERE id = $1").bind(key_id).fetch_optional(&self.pool).await?;
        let owner = owner.ok_or(StoreError::NotFound)?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL").bind(now_ms()).bind(key_id).execute(&mut *tx).await?;
        if done.rows_affected() == 1 {
            audit_in(&mut tx, Some(actor_id), "api_key.disable", &format!("api_key:{key_id}"), reason).await?;
            crate::accounts::security_in(&mut tx, &owner, "api_key_disabled", &Default::default(), reason).await?;
        }
        tx.commit().await?;
        self.api_key(key_id, &owner).await
    }
}

impl Store {
    /// Whether staff member `staff_id` may open another member's item `job_id` now: it is
    /// under moderation (held for review, hidden, reported, or a gate flagged or blocked it),
    /// already visible to others (`link` or `public`), or they opened it from the console
    /// with a reason (a `job.staff_view` audit row of theirs) since `since_ms`. Anything else
    /// is the member's private item, which staff do not browse.
    pub async fn staff_may_view(&self, job_id: &str, staff_id: &str, since_ms: i64) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM jobs j WHERE j.id = $1 AND (j.status = 'review' OR j.hidden_at IS NOT NULL OR j.visibility IN ('link', 'public') \
             OR EXISTS (SELECT 1 FROM reports r WHERE r.job_id = j.id) \
             OR EXISTS (SELECT 1 FROM moderation_decisions d WHERE d.job_id = j.id AND d.decision IN ('review', 'block')) \
             OR EXISTS (SELECT 1 FROM audit_log a WHERE a.target = $2 AND a.actor_id = $3 AND a.action = 'job.staff_view' AND a.created_at >= $4))",
        )
        .bind(job_id)
        .bind(format!("job:{job_id}"))
        .bind(staff_id)
        .bind(since_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}
