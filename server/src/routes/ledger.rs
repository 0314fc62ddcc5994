//! `GET /credits/ledger.csv?kind=&from=&to=`: the signed-in member's ledger as CSV (RFC 4180,
//! newest first, the same filters as the ledger page). Text fields that a spreadsheet would
//! read as a formula (`=`, `+`, `-`, `@` first) are prefixed with `'`.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::api::rfc3339;
use darkroom_service::auth::AuthSession;
use darkroom_service::AppState;
use darkroom_service::credits::ledger_filter;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// One CSV field: quoted when needed, formula-looking text defused.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

pub async fn csv(State(app): State<AppState>, auth: AuthSession, Query(q): Query<Params>) -> Response {
    let Some(user) = auth.user else { return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response() };
    let filter = match ledger_filter(q.kind.as_deref(), q.from.as_deref(), q.to.as_deref()) {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut out = String::from("time,kind,amount,balance_after,reason,generation\r\n");
    let mut before: Option<String> = None;
    loop {
        let rows = match app.store.ledger_page(&user.id, &filter, before.as_deref(), 1000).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "ledger export failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        for e in &rows {
            out.push_str(&format!(
                "{},{},{},{},{},{}\r\n",
                rfc3339(e.created_at),
                e.kind,
                e.amount,
                e.balance_after,
                field(&e.reason),
                e.job_id.as_deref().unwrap_or("")
            ));
        }
        match rows.last() {
            Some(last) if rows.len() == 1000 => before = Some(last.id.clone()),
            _ => break,
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"darkroom-ledger.csv\""),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        out,
    )
        .into_response()
}
