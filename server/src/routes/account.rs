//! Links from mail:
//!
//! - `GET /verify?token=` (sign-up confirmation) or `?change=` (new address): uses the link,
//!   signs the browser in after a sign-up confirmation, and redirects to
//!   `/verify/done?m=verified|changed|invalid|conflict`. A plain route rather than a page, so
//!   the session it starts is saved before any HTML streams.
//! - `GET /account/exports/{id}?exp=&sig=`: a data export's ZIP, for whoever holds the signed
//!   link the export mail carries (valid 24 h; `darkroom_service::privacy`). A bad or expired
//!   signature, or an export that is gone, is 404.

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Redirect;
use darkroom_service::accounts::{request_origin, use_link, LinkOutcome};
use darkroom_service::auth::AuthSession;
use darkroom_service::ServiceError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Signed {
    exp: u64,
    sig: String,
}

pub async fn export_download(State(app): State<AppState>, Path(id): Path<String>, Query(q): Query<Signed>) -> Response {
    let now = darkroom_service::sharing::now_secs();
    if !app.signer.verify_export(&id, q.exp, &q.sig, now) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = match app.store.export_file(&id).await {
        Ok(Some((key, expires))) if expires / 1000 > now as i64 => key,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "export lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    match app.media.get(&file).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/zip"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"darkroom-export.zip\""),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
    change: Option<String>,
}

pub async fn verify(
    State(app): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    mut auth: AuthSession,
    headers: axum::http::HeaderMap,
    Query(q): Query<Link>,
) -> Response {
    let from = request_origin(Some(addr.ip()), &headers);
    let code = match use_link(&app, q.token.as_deref(), q.change.as_deref(), &from).await {
        Ok(LinkOutcome::Verified(user)) => {
            if darkroom_service::auth::sign_in_from_link(&app.store, &mut auth, user, &from).await.is_err() {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            "verified"
        }
        Ok(LinkOutcome::EmailChanged) => "changed",
        Err(ServiceError::Conflict(_)) => "conflict",
        Err(ServiceError::Invalid(_)) => "invalid",
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    Redirect::to(&format!("/verify/done?m={code}")).into_response()
}
