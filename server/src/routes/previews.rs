//! Link-preview images (OpenGraph `og:image`, Twitter cards): `GET /s/{token}/preview.jpg` for
//! a share link and `GET /p/{id}/preview.jpg` for a public page. Messengers and social sites
//! fetch a preview when a link is posted and again days later; a signed media URL would have
//! expired by then. These answer for as long as the link (not revoked or expired) or the
//! public page does, checked in the database on every request, without counting a link view.
//! The file is the result's 1200-wide JPEG rendition (`darkroom_contract::media`). For a clip,
//! `GET /s/{token}/preview.mp4` and `GET /p/{id}/preview.mp4` serve its MP4 the same way
//! (OpenGraph `og:video`), with byte ranges. 404 with no body otherwise.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::media::result_file;
use darkroom_service::sharing;
use darkroom_service::AppState;
use darkroom_store::jobs::Job;

/// How long a cache may keep a preview, seconds: a revoked link or an item made private stops
/// showing in caches within this time (and on this server at once).
const MAX_AGE_SECS: u32 = 300;

/// `GET /s/{token}/preview.jpg`.
pub async fn share_link(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    serve(&app, sharing::link_preview(&app, &token).await.ok()).await
}

/// `GET /p/{id}/preview.jpg`.
pub async fn public_page(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    serve(&app, app.store.public_job(&id).await.ok()).await
}

/// `GET /s/{token}/preview.mp4`.
pub async fn share_link_video(State(app): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    serve_video(&app, sharing::link_preview(&app, &token).await.ok(), &headers).await
}

/// `GET /p/{id}/preview.mp4`.
pub async fn public_page_video(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    serve_video(&app, app.store.public_job(&id).await.ok(), &headers).await
}

/// A shared clip's MP4, with byte ranges (players and link previews seek).
async fn serve_video(app: &AppState, job: Option<Job>, headers: &HeaderMap) -> Response {
    let Some(job) = job else { return StatusCode::NOT_FOUND.into_response() };
    let Some((key, "video/mp4")) = result_file("result", job.result_key.as_deref(), job.thumb_key.as_deref()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(bytes) = app.media.get(&key).await else { return StatusCode::NOT_FOUND.into_response() };
    let cache = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}")).unwrap_or(HeaderValue::from_static("no-store"));
    let mut resp = super::media::file_response(bytes, "video/mp4", cache, None, headers);
    resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

async fn serve(app: &AppState, job: Option<Job>) -> Response {
    let Some(job) = job else { return StatusCode::NOT_FOUND.into_response() };
    let Some((key, mime)) = result_file("w1200.jpg", job.result_key.as_deref(), job.thumb_key.as_deref()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(bytes) = app.media.get(&key).await else { return StatusCode::NOT_FOUND.into_response() };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}
