//! `GET /media/{job_id}/{variant}`: a generation's files, for their owner only (this issue's
//! scope; signed, expiring URLs for shared items come with sharing). `variant` is `result`
//! (PNG) or `thumb` (JPEG, 512 px wide); `?download=1` asks the browser to save it.
//! A deleted job's files answer 404 at once: the database is asked on every request.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::auth::AuthSession;
use darkroom_service::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    download: Option<String>,
}

pub async fn get(State(app): State<AppState>, auth: AuthSession, Path((id, variant)): Path<(String, String)>, Query(q): Query<Params>) -> Response {
    let not_found = || StatusCode::NOT_FOUND.into_response();
    let Some(user) = auth.user else { return not_found() };
    let Ok(job) = app.store.job(&id, &user.id).await else { return not_found() };
    let (key, mime) = match variant.as_str() {
        "result" => (job.result_key, "image/png"),
        "thumb" => (job.thumb_key, "image/jpeg"),
        _ => return not_found(),
    };
    let Some(key) = key else { return not_found() };
    let Ok(bytes) = app.media.get(&key).await else { return not_found() };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Private, immutable per attempt (the key changes if the job is re-run).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if q.download.is_some() {
        let ext = if mime == "image/png" { "png" } else { "jpg" };
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"darkroom-{id}.{ext}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    resp
}
