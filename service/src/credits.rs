//! Credits rules the pages and routes share: reading the ledger filters, the CSV export.

use darkroom_store::ledger::{Kind, LedgerFilter};

use crate::ServiceError;
use darkroom_store::Store;

/// Midnight UTC of a `YYYY-MM-DD` date, in Unix milliseconds; `None` if malformed.
pub fn day_start_ms(date: &str) -> Option<i64> {
    let d = time::Date::parse(date, &time::format_description::well_known::Iso8601::DATE).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() * 1000)
}

/// The ledger filter for a page or export: `kind` (empty: all), `from`/`to` as `YYYY-MM-DD`
/// (UTC days, both inclusive; empty: open).
///
/// Errors: [`ServiceError::Invalid`] for an unknown kind or a malformed date.
pub fn ledger_filter<'a>(kind: Option<&'a str>, from: Option<&str>, to: Option<&str>) -> Result<LedgerFilter<'a>, ServiceError> {
    let kind = kind.filter(|k| !k.is_empty());
    if kind.is_some_and(|k| Kind::parse(k).is_none()) {
        return Err(ServiceError::Invalid("Unknown entry kind.".into()));
    }
    let day = |d: Option<&str>| match d.filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => day_start_ms(d).map(Some).ok_or_else(|| ServiceError::Invalid("Dates are YYYY-MM-DD.".into())),
    };
    Ok(LedgerFilter { kind, from_ms: day(from)?, until_ms: day(to)?.map(|t| t + 86_400_000) })
}

/// One CSV field: quoted when needed, formula-looking text (`=`, `+`, `-`, `@` first) defused
/// with a leading `'`.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The member's ledger entries that pass `filter` as CSV (RFC 4180, CRLF, newest first):
/// `time,kind,amount,balance_after,reason,generation`. Used by `/credits/ledger.csv` and the
/// data export.
pub async fn ledger_csv(store: &Store, user_id: &str, filter: &LedgerFilter<'_>) -> Result<String, ServiceError> {
    let mut out = String::from("time,kind,amount,balance_after,reason,generation\r\n");
    let mut before: Option<String> = None;
    loop {
        let rows = store.ledger_page(user_id, filter, before.as_deref(), 1000).await?;
        for e in &rows {
            out.push_str(&format!(
                "{},{},{},{},{},{}\r\n",
                crate::api::rfc3339(e.created_at),
                e.kind,
                e.amount,
                e.balance_after,
                csv_field(&e.reason),
                e.job_id.as_deref().unwrap_or("")
            ));
        }
        match rows.last() {
            Some(last) if rows.len() == 1000 => before = Some(last.id.clone()),
            _ => return Ok(out),
        }
    }
}
