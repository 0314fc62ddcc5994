//! `GET /credits/ledger.csv?kind=&from=&to=`: the signed-in member's ledger as CSV (RFC 4180,
//! newest first, the same filters as the ledger page). Text fields that a spreadsheet would
//! read as a formula (`=`, `+`, `-`, `@` first) are prefixed with `'`.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::auth::AuthSession;
use darkroom_service::AppState;
use darkroom_service::credits::{ledger_csv, ledger_filter};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub async fn csv(State(app): State<AppState>, auth: AuthSession, Query(q): Query<Params>) -> Response {
    let Some(user) = auth.user else { return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response() };
    let filter = match ledger_filter(q.kind.as_deref(), q.from.as_deref(), q.to.as_deref()) {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let out = match ledger_csv(&app.store, &user.id, &filter).await {
        Ok(csv) => csv,
        Err(e) => {
            tracing::error!(error = %e, "ledger export failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
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
