//! The audit log for administrators (`/admin/audit`): filtered, newest first, in pages; the
//! same filters download as CSV from `/admin/audit.csv`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An audit row as the console shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditRowView {
    pub id: String,
    /// The actor's address; `None` for the system or the command line.
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub reason: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// One page of the audit log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditPage {
    pub rows: Vec<AuditRowView>,
    /// The `before` of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// Rows per page.
pub const AUDIT_PAGE: i64 = 50;

/// A page of the audit log (administrators only, 403 otherwise). Filters (each empty: any):
/// `actor` an email address or user id, `action` an action or family (`support`), `target`
/// exact, `from`/`to` `YYYY-MM-DD`; `before` the previous page's `next`. Errors: 400 naming
/// a malformed filter.
#[server(endpoint = "admin_audit")]
pub async fn admin_audit(
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<AuditPage, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, _) = admin("read the audit log").await?;
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let search = darkroom_service::audit::AuditSearch::parse(&state.store, &text(&actor), &text(&action), &text(&target), &text(&from), &text(&to))
        .await
        .map_err(fail)?;
    let mut rows = state.store.audit_page(&search.filter(), before.as_deref().filter(|b| !b.is_empty()), AUDIT_PAGE + 1).await.map_err(|e| fail(e.into()))?;
    let more = rows.len() as i64 > AUDIT_PAGE;
    rows.truncate(AUDIT_PAGE as usize);
    let next = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    let rows = rows
        .into_iter()
        .map(|r| AuditRowView { id: r.id, actor: r.actor_email, action: r.action, target: r.target, reason: r.reason, created_at: r.created_at })
        .collect();
    Ok(AuditPage { rows, next })
}
