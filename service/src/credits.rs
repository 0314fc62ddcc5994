//! Credits rules the pages and routes share: reading the ledger filters.

use darkroom_store::ledger::{Kind, LedgerFilter};

use crate::ServiceError;

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
