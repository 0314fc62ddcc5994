//! `GET /admin/audit.csv?actor=&action=&target=&from=&to=`: the audit log as CSV for
//! administrators (RFC 4180, newest first, the console's filters); 401 signed out, 403 for
//! anyone else, 400 for a malformed filter.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::audit::{audit_csv, AuditSearch};
use darkroom_service::auth::AuthSession;
use darkroom_service::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn csv(State(app): State<AppState>, auth: AuthSession, Query(q): Query<Params>) -> Response {
    let Some(user) = auth.user else { return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response() };
    if user.role != "admin" {
        return (StatusCode::FORBIDDEN, "Only administrators can read the audit log.").into_response();
    }
    let search = match AuditSearch::parse(&app.store, &q.actor, &q.action, &q.target, &q.from, &q.to).await {
        Ok(s) => s,
        Err(e) => return (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST), e.to_string()).into_response(),
    };
    match audit_csv(&app.store, &search).await {
        Ok(out) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"darkroom-audit.csv\""),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            out,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "audit export failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
