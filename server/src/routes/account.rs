//! `GET /account/exports/{id}?exp=&sig=`: a data export's ZIP, for whoever holds the signed
//! link the export mail carries (valid 24 h; `darkroom_service::privacy`). A bad or expired
//! signature, or an export that is gone, is 404.

use axum::extract::{Path, Query, State};
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
    if !app.signer.verify(&id, "export", q.exp, &q.sig, now) {
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
