//! The audit log as administrators read it: the console's filters (from its form or the CSV
//! link's query) and the CSV export.

use darkroom_store::audit::AuditFilter;
use darkroom_store::Store;

use crate::ServiceError;

/// A search of the audit log, checked and resolved (the actor's address turned into their id).
#[derive(Clone, Debug, Default)]
pub struct AuditSearch {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

impl AuditSearch {
    /// From the form's texts (each empty: any): `actor` an email address or a user id;
    /// `action` an action or its family (`[a-z0-9._]`, ≤ 64); `target` exact (≤ 200);
    /// `from`/`to` `YYYY-MM-DD` (UTC days, both inclusive). An address nobody has matches
    /// nothing.
    ///
    /// Errors: [`ServiceError::Invalid`] naming the field; the store's.
    pub async fn parse(store: &Store, actor: &str, action: &str, target: &str, from: &str, to: &str) -> Result<Self, ServiceError> {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let action = some(action);
        if action.as_deref().is_some_and(|a| a.len() > 64 || !a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')) {
            return Err(ServiceError::Invalid("An action is lower-case letters, digits, dots and underscores.".into()));
        }
        let target = some(target);
        if target.as_deref().is_some_and(|t| t.chars().count() > 200) {
            return Err(ServiceError::Invalid("A target is at most 200 characters.".into()));
        }
        let day = |d: &str| match d.trim() {
            "" => Ok(None),
            d => crate::credits::day_start_ms(d).map(Some).ok_or_else(|| ServiceError::Invalid("Dates are YYYY-MM-DD.".into())),
        };
        let actor_id = match some(actor) {
            None => None,
            Some(a) if a.contains('@') => Some(store.user_by_email(&a).await?.map_or_else(|| "(nobody)".to_string(), |u| u.id)),
            Some(id) => Some(id),
        };
        Ok(Self { actor_id, action, target, from_ms: day(from)?, until_ms: day(to)?.map(|t| t + 86_400_000) })
    }

    /// The store's filter over this search.
    pub fn filter(&self) -> AuditFilter<'_> {
        AuditFilter { actor_id: self.actor_id.as_deref(), action: self.action.as_deref(), target: self.target.as_deref(), from_ms: self.from_ms, until_ms: self.until_ms }
    }
}

/// The rows of `search` as CSV (RFC 4180, CRLF, newest first):
/// `time,actor_id,actor_email,action,target,reason`. Used by `/admin/audit.csv`.
pub async fn audit_csv(store: &Store, search: &AuditSearch) -> Result<String, ServiceError> {
    let mut out = String::from("time,actor_id,actor_email,action,target,reason\r\n");
    let filter = search.filter();
    let mut before: Option<String> = None;
    loop {
        let rows = store.audit_page(&filter, before.as_deref(), 1000).await?;
        for r in &rows {
            let fields = [
                crate::api::rfc3339(r.created_at),
                r.actor_id.clone().unwrap_or_default(),
                r.actor_email.clone().unwrap_or_default(),
                r.action.clone(),
                r.target.clone(),
                r.reason.clone(),
            ];
            out.push_str(&fields.iter().map(|f| crate::credits::csv_field(f)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        match rows.last() {
            Some(last) if rows.len() == 1000 => before = Some(last.id.clone()),
            _ => return Ok(out),
        }
    }
}
