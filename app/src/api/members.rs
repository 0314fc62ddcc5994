//! The operator's console on members (`/admin/members`, administrators): search by address or
//! name with role and standing filters, a member's page (balance and ledger, generations,
//! payments, API keys, security events, strikes) and the staff actions, each with a reason
//! and audited. The rules live in `darkroom_service::members`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::payments::PaymentView;

/// A member in the console's list.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MemberRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub balance: i64,
    /// `good`, `restricted` or `suspended`, now.
    pub standing: String,
    pub email_verified: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// One page of the search.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MembersPage {
    pub rows: Vec<MemberRow>,
    /// The `after` of the next page, if there is one.
    pub next: Option<String>,
}

/// An API key as staff see it (never its secret).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    /// `dk_` and 8 characters.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// A line of a member's record (a generation, a ledger entry, a security event, a strike).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecordLine {
    pub at: i64,
    /// What it is: a job status, a ledger kind, an event kind, a strike category.
    pub kind: String,
    pub detail: String,
}

/// A member's page in the console.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MemberDetail {
    pub member: MemberRow,
    pub restricted_until: Option<i64>,
    pub suspended_at: Option<i64>,
    /// Strikes not lifted.
    pub active_strikes: usize,
    pub strikes: Vec<RecordLine>,
    pub keys: Vec<KeyRow>,
    pub generations: Vec<RecordLine>,
    pub ledger: Vec<RecordLine>,
    pub payments: Vec<PaymentView>,
    pub security: Vec<RecordLine>,
    /// Signed-in sessions.
    pub sessions: usize,
}

/// Rows per page of the search.
pub const MEMBERS_PAGE: i64 = 50;

#[cfg(feature = "ssr")]
mod ssr {
    use super::MemberRow;

    pub fn row(u: darkroom_store::users::User, now: i64) -> MemberRow {
        let standing = if u.suspended_at.is_some() {
            "suspended"
        } else if u.restricted_until.is_some_and(|t| t > now) {
            "restricted"
        } else {
            "good"
        };
        MemberRow {
            standing: standing.into(),
            email_verified: u.email_verified_at.is_some(),
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            balance: u.balance,
            created_at: u.created_at,
        }
    }
}

/// Searches members (administrators only, 403 otherwise): `q` a part of the address or name,
/// `role` and `standing` (`good`, `restricted`, `suspended`; each empty: any), `after` the
/// previous page's `next`. Errors: 400 for an unknown role or standing.
#[server(endpoint = "admin_members")]
pub async fn admin_members(q: Option<String>, role: Option<String>, standing: Option<String>, after: Option<String>) -> Result<MembersPage, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    use darkroom_service::ServiceError;
    let (state, _) = admin("see members").await?;
    let role = role.filter(|r| !r.is_empty());
    if role.as_deref().is_some_and(|r| !darkroom_service::members::ROLES.contains(&r)) {
        return Err(fail(ServiceError::Invalid("A role is member, moderator or admin.".into())));
    }
    let standing = darkroom_service::members::standing_filter(standing.as_deref().unwrap_or("")).map_err(fail)?;
    let text = q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 254) {
        return Err(fail(ServiceError::Invalid("Search for at most 254 characters.".into())));
    }
    let filter = darkroom_store::members::MemberFilter { text, role: role.as_deref(), standing };
    let mut users = state.store.search_members(&filter, after.as_deref().filter(|a| !a.is_empty()), MEMBERS_PAGE + 1).await.map_err(|e| fail(e.into()))?;
    let more = users.len() as i64 > MEMBERS_PAGE;
    users.truncate(MEMBERS_PAGE as usize);
    let next = more.then(|| users.last().map(|u| u.id.clone())).flatten();
    let now = darkroom_store::now_ms();
    Ok(MembersPage { rows: users.into_iter().map(|u| ssr::row(u, now)).collect(), next })
}

/// A member's page (administrators only). Errors: 404.
#[server(endpoint = "admin_member")]
pub async fn admin_member(id: String) -> Result<MemberDetail, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, _) = admin("see members").await?;
    let err = |e: darkroom_store::StoreError| fail(e.into());
    let user = state.store.user(&id).await.map_err(err)?;
    let standing = state.store.standing(&id).await.map_err(err)?;
    let keys = state.store.api_keys(&id).await.map_err(err)?;
    let jobs = state.store.gallery_jobs(&id, &Default::default(), None, 20).await.map_err(err)?;
    let ledger = state.store.ledger(&id, 20).await.map_err(err)?;
    let plans = state.store.plans(true).await.map_err(err)?;
    let payments = state.store.payments(Some(&id), 20).await.map_err(err)?;
    let security = state.store.security_events(&id, 20).await.map_err(err)?;
    let sessions = state.store.user_sessions(&id).await.map_err(err)?.len();
    let now = darkroom_store::now_ms();
    Ok(MemberDetail {
        restricted_until: standing.restricted_until.filter(|t| *t > now),
        suspended_at: standing.suspended_at,
        active_strikes: standing.strikes.iter().filter(|s| s.lifted_at.is_none()).count(),
        strikes: standing
            .strikes
            .into_iter()
            .map(|s| RecordLine { at: s.created_at, kind: s.category.to_string(), detail: if s.lifted_at.is_some() { "lifted".into() } else { String::new() } })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow { id: k.id, name: k.name, prefix: k.prefix, created_at: k.created_at, last_used_at: k.last_used_at, revoked: k.revoked_at.is_some() })
            .collect(),
        generations: jobs.into_iter().map(|j| RecordLine { at: j.created_at, kind: j.status.to_string(), detail: format!("{} · {} credits", j.id, j.cost) }).collect(),
        ledger: ledger.into_iter().map(|e| RecordLine { at: e.created_at, kind: e.kind, detail: format!("{:+} → {} · {}", e.amount, e.balance_after, e.reason) }).collect(),
        payments: payments.into_iter().map(|p| crate::api::payments::ssr::payment_view(p, &plans)).collect(),
        security: security.into_iter().map(|e| RecordLine { at: e.created_at, kind: e.kind, detail: e.detail }).collect(),
        sessions,
        member: ssr::row(user, now),
    })
}

/// A staff action on a member (administrators only; audited with `reason`): `action` is
/// `role` (with `role`), `restrict` (with `until`, `YYYY-MM-DD`), `suspend`, `lift` or
/// `end_sessions`. Errors: 400 naming what is missing or wrong, 404.
#[server(endpoint = "admin_member_action")]
pub async fn admin_member_action(id: String, action: String, role: Option<String>, until: Option<String>, reason: Option<String>) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    use darkroom_service::{members, ServiceError};
    let (state, staff) = admin("act on members").await?;
    let reason = reason.unwrap_or_default();
    match action.as_str() {
        "role" => members::set_role(&state, &staff.id, &id, role.as_deref().unwrap_or(""), &reason).await.map_err(fail)?,
        "restrict" => {
            members::restrict(&state, &staff.id, &id, until.as_deref().unwrap_or(""), &reason).await.map_err(fail)?;
        }
        "suspend" => {
            members::suspend(&state, &staff.id, &id, &reason).await.map_err(fail)?;
            // Signed out everywhere now, not at their next request only.
            let ids = state.store.end_user_sessions(&id, None, None).await.map_err(|e| fail(e.into()))?;
            crate::api::account::ssr::end(&ids).await;
        }
        "lift" => members::lift(&state, &staff.id, &id, &reason).await.map_err(fail)?,
        "end_sessions" => {
            let reason = members::check_reason(&reason).map_err(fail)?;
            state.store.user(&id).await.map_err(|e| fail(e.into()))?;
            let ids = state.store.end_user_sessions(&id, None, None).await.map_err(|e| fail(e.into()))?;
            crate::api::account::ssr::end(&ids).await;
            state.store.audit(Some(&staff.id), "user.end_sessions", &format!("user:{id}"), reason).await.map_err(|e| fail(e.into()))?;
            let origin = darkroom_store::accounts::Origin::default();
            state.store.security_event(&id, "sessions_ended", &origin, "by staff").await.map_err(|e| fail(e.into()))?;
        }
        _ => return Err(fail(ServiceError::Invalid("Unknown action.".into()))),
    }
    Ok(())
}

/// Disables one member's API key at once (administrators only; audited, shown to the member).
/// Errors: 400 without a reason, 404.
#[server(endpoint = "admin_disable_key")]
pub async fn admin_disable_key(key_id: String, reason: Option<String>) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, staff) = admin("disable API keys").await?;
    darkroom_service::members::disable_key(&state, &staff.id, &key_id, reason.as_deref().unwrap_or("")).await.map_err(fail)?;
    Ok(())
}

/// A generation in the console's list.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GenerationRow {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub mode: String,
    pub template: Option<String>,
    /// `private`, `link` or `public`: opening a non-public one asks for a reason.
    pub visibility: String,
    pub cost: i64,
    /// Set when moderation hid it or decided its category.
    pub moderation: Option<String>,
    pub created_at: i64,
}

/// One page of the console's generations.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GenerationsPage {
    pub rows: Vec<GenerationRow>,
    /// The `before` of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// Every member's generations (administrators only), newest first. Filters (each empty: any):
/// `status`, `mode`, `template` (an id), `member` (an email address), `from`/`to`
/// (`YYYY-MM-DD`); `before` the previous page's `next`. Errors: 400 for a malformed filter.
#[server(endpoint = "admin_generations")]
pub async fn admin_generations(
    status: Option<String>,
    mode: Option<String>,
    template: Option<String>,
    member: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<GenerationsPage, ServerFnError> {
    use crate::api::ssr::{admin, day_range, fail, member_filter};
    use darkroom_service::ServiceError;
    let (state, _) = admin("see every member's generations").await?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let bad = |what: &str| fail(ServiceError::Invalid(format!("Unknown {what}.")));
    let status = given(&status).map(|s| s.parse::<darkroom_contract::JobStatus>().map_err(|_| bad("status"))).transpose()?;
    let mode = given(&mode).map(|m| m.parse::<darkroom_contract::Mode>().map_err(|_| bad("mode"))).transpose()?;
    let (from_ms, until_ms) = day_range(from.as_deref(), to.as_deref())?;
    let user_id = member_filter(&state, member.as_deref()).await?;
    let template = given(&template);
    let filter = darkroom_store::members::StaffJobFilter { status, mode, template: template.as_deref(), user_id: user_id.as_deref(), from_ms, until_ms };
    let mut jobs = state.store.staff_jobs(&filter, given(&before).as_deref(), MEMBERS_PAGE + 1).await.map_err(|e| fail(e.into()))?;
    let more = jobs.len() as i64 > MEMBERS_PAGE;
    jobs.truncate(MEMBERS_PAGE as usize);
    let next = more.then(|| jobs.last().map(|j| j.id.clone())).flatten();
    let rows = jobs
        .into_iter()
        .map(|j| GenerationRow {
            moderation: j.moderation_category.map(|c| c.to_string()).or_else(|| j.hidden_at.map(|_| "hidden".into())),
            id: j.id,
            user_id: j.user_id,
            status: j.status.to_string(),
            mode: j.mode.to_string(),
            template: j.template_id,
            visibility: j.visibility.to_string(),
            cost: j.cost,
            created_at: j.created_at,
        })
        .collect();
    Ok(GenerationsPage { rows, next })
}

/// Opens a member's generation for an administrator: a public one at once; any other only
/// with a reason, which the audit log keeps (`job.staff_view` on `job:<id>`; internal access
/// only as needed). Returns the address of its result. Errors: 400 without a reason, 404.
#[server(endpoint = "admin_open_generation")]
pub async fn admin_open_generation(id: String, reason: Option<String>) -> Result<String, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, staff) = admin("open members' generations").await?;
    let job = state.store.job_any_owner(&id).await.map_err(|e| fail(e.into()))?;
    if job.visibility != darkroom_contract::Visibility::Public {
        let reason = darkroom_service::members::check_reason(reason.as_deref().unwrap_or("")).map_err(fail)?;
        state.store.audit(Some(&staff.id), "job.staff_view", &format!("job:{id}"), reason).await.map_err(|e| fail(e.into()))?;
    }
    Ok(format!("/media/{id}/result"))
}
