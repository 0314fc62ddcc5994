//! Credits server functions (SPEC §5): the member's ledger page (filters, keyset pages; the
//! CSV export is the `/credits/ledger.csv` route) and the admin's adjustment of a member's
//! credits (a required reason, audited). Rules live in `darkroom_store::ledger`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A ledger entry as the member sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EntryView {
    pub id: String,
    pub kind: String,
    /// Signed credits (debits negative).
    pub amount: i64,
    pub balance_after: i64,
    pub reason: String,
    pub job_id: Option<String>,
    pub created_at: i64,
}

/// One page of the ledger.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LedgerView {
    pub balance: i64,
    pub entries: Vec<EntryView>,
    /// The `before` of the next page, if any.
    pub next: Option<String>,
    /// The viewer may adjust members' credits.
    pub admin: bool,
    /// A fresh key for the admin form (a resubmitted form changes nothing twice).
    pub form_key: String,
}

/// Entries per page.
pub const LEDGER_PAGE: i64 = 50;

/// The member's ledger, newest first. Filters: `kind` (empty: all), `from`/`to` as
/// `YYYY-MM-DD` (UTC days, inclusive); `before`: the previous page's `next`.
#[server(endpoint = "ledger_page")]
pub async fn ledger_page(kind: Option<String>, from: Option<String>, to: Option<String>, before: Option<String>) -> Result<LedgerView, ServerFnError> {
    use crate::api::ssr::{fail, member};
    let (state, user) = member().await?;
    let filter = darkroom_service::credits::ledger_filter(kind.as_deref(), from.as_deref(), to.as_deref()).map_err(fail)?;
    let before = before.filter(|b| !b.is_empty());
    let mut rows = state.store.ledger_page(&user.id, &filter, before.as_deref(), LEDGER_PAGE + 1).await.map_err(|e| fail(e.into()))?;
    let next = (rows.len() as i64 > LEDGER_PAGE).then(|| {
        rows.truncate(LEDGER_PAGE as usize);
        rows.last().map(|r| r.id.clone()).unwrap_or_default()
    });
    let balance = state.store.user(&user.id).await.map_err(|e| fail(e.into()))?.balance;
    Ok(LedgerView {
        balance,
        next,
        admin: user.role == "admin",
        form_key: darkroom_store::new_id(),
        entries: rows
            .into_iter()
            .map(|e| EntryView { id: e.id, kind: e.kind, amount: e.amount, balance_after: e.balance_after, reason: e.reason, job_id: e.job_id, created_at: e.created_at })
            .collect(),
    })
}

/// An admin adds (positive) or takes (negative) a member's credits, with a reason; audited.
/// `key` makes a resubmitted form a no-op. Returns the member's new balance.
#[server(endpoint = "admin_adjust_credits")]
pub async fn admin_adjust_credits(email: String, amount: String, reason: String, key: String) -> Result<i64, ServerFnError> {
    use crate::api::ssr::fail;
    use darkroom_service::ServiceError;
    let (state, admin) = crate::api::ssr::admin("adjust credits").await?;
    let amount: i64 = amount.trim().parse().map_err(|_| fail(ServiceError::Invalid("The amount must be a whole number.".into())))?;
    if amount == 0 || amount.abs() > 1_000_000_000 {
        return Err(fail(ServiceError::Invalid("The amount must be non-zero and at most 1,000,000,000.".into())));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(fail(ServiceError::Invalid("Give a reason (up to 500 characters).".into())));
    }
    if key.is_empty() || key.len() > 128 {
        return Err(fail(ServiceError::Invalid("Missing form key; reload the page.".into())));
    }
    let target = state
        .store
        .user_by_email(&darkroom_store::users::normalize_email(&email))
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ServiceError::NotFound))?;
    match state.store.adjust_credits(&admin.id, &target.id, amount, reason, &format!("adjust:{key}")).await {
        Ok(Some(balance)) => Ok(balance),
        Ok(None) => Ok(state.store.user(&target.id).await.map_err(|e| fail(e.into()))?.balance),
        Err(e) => Err(fail(e.into())),
    }
}
