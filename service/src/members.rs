//! Staff actions on members from the operator's console: each checked here (a reason is
//! always given; nobody changes their own role or suspends themselves), done and audited by
//! the store. The member sees a restriction or suspension on their settings page (their
//! standing) and at sign-in, and a disabled API key among their keys and security events.

use darkroom_store::api::ApiKey;
use darkroom_store::members::StandingFilter;

use crate::{AppState, ServiceError};

/// The roles an account can have.
pub const ROLES: [&str; 3] = ["member", "moderator", "admin"];

/// A staff action's reason, trimmed: 1 to 500 characters. Errors: [`ServiceError::Invalid`].
pub fn check_reason(reason: &str) -> Result<&str, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ServiceError::Invalid("Give a reason (at most 500 characters): it is kept in the audit log.".into()));
    }
    Ok(reason)
}

/// A search's standing filter: empty (any), `good`, `restricted` or `suspended`.
/// Errors: [`ServiceError::Invalid`] for anything else.
pub fn standing_filter(s: &str) -> Result<Option<StandingFilter>, ServiceError> {
    match s {
        "" => Ok(None),
        "good" => Ok(Some(StandingFilter::Good)),
        "restricted" => Ok(Some(StandingFilter::Restricted)),
        "suspended" => Ok(Some(StandingFilter::Suspended)),
        _ => Err(ServiceError::Invalid("Standing is good, restricted or suspended.".into())),
    }
}

fn not_self(actor_id: &str, user_id: &str, what: &str) -> Result<(), ServiceError> {
    if actor_id == user_id {
        return Err(ServiceError::Invalid(format!("You cannot {what} your own account.")));
    }
    Ok(())
}

/// Sets a member's role. Errors: `Invalid` for an unknown role, a missing reason or one's own
/// account; `NotFound`.
pub async fn set_role(state: &AppState, actor_id: &str, user_id: &str, role: &str, reason: &str) -> Result<(), ServiceError> {
    if !ROLES.contains(&role) {
        return Err(ServiceError::Invalid("A role is member, moderator or admin.".into()));
    }
    not_self(actor_id, user_id, "change the role of")?;
    Ok(state.store.staff_set_role(actor_id, user_id, role, check_reason(reason)?).await?)
}

/// Restricts a member until the end of `until` (`YYYY-MM-DD`, UTC): no new generations.
/// Errors: `Invalid` for a malformed or past date or a missing reason; `NotFound`.
pub async fn restrict(state: &AppState, actor_id: &str, user_id: &str, until: &str, reason: &str) -> Result<i64, ServiceError> {
    let day = crate::credits::day_start_ms(until.trim()).ok_or_else(|| ServiceError::Invalid("Restrict until a date, YYYY-MM-DD.".into()))?;
    let until_ms = day + 86_400_000;
    if until_ms <= darkroom_store::now_ms() {
        return Err(ServiceError::Invalid("Restrict until a date still to come.".into()));
    }
    not_self(actor_id, user_id, "restrict")?;
    state.store.staff_restrict(actor_id, user_id, until_ms, check_reason(reason)?).await?;
    Ok(until_ms)
}

/// Suspends a member: sign-in refused, sessions end at their next request.
/// Errors: `Invalid` for a missing reason or one's own account; `NotFound`.
pub async fn suspend(state: &AppState, actor_id: &str, user_id: &str, reason: &str) -> Result<(), ServiceError> {
    not_self(actor_id, user_id, "suspend")?;
    Ok(state.store.staff_suspend(actor_id, user_id, check_reason(reason)?).await?)
}

/// Lifts a member's restriction, suspension and active strikes. Errors: `Invalid` for a
/// missing reason; `NotFound`.
pub async fn lift(state: &AppState, actor_id: &str, user_id: &str, reason: &str) -> Result<(), ServiceError> {
    Ok(state.store.lift_standing(user_id, actor_id, check_reason(reason)?).await?)
}

/// Disables one API key at once. Errors: `Invalid` for a missing reason; `NotFound`.
pub async fn disable_key(state: &AppState, actor_id: &str, key_id: &str, reason: &str) -> Result<ApiKey, ServiceError> {
    Ok(state.store.staff_disable_api_key(actor_id, key_id, check_reason(reason)?).await?)
}
