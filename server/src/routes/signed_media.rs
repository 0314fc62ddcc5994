//! `GET /m/{job_id}/{variant}?exp=&sig=`: a shared or public item's files through a signed,
//! expiring URL (`darkroom_service::sharing::UrlSigner`), for visitors and other members. The
//! signature is the item's grant: one for every file of the item.
//!
//! Answers 403 with no body for a bad or expired signature, 404 with no body when the item is
//! no longer shareable (deleted, hidden, made private): checked on every request. Responses
//! may be cached by browsers until the URL expires (`max-age` ≤ the time left).
//!
//! With `scope=owner` (the API's output URLs, `darkroom_service::api::owner_file_url`) the
//! signature covers `owner:<variant>` and the item need not be shared: it must still exist,
//! have succeeded and not be hidden. A share URL and an owner URL are not interchangeable.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::media::result_file;
use darkroom_service::sharing::now_secs;
use darkroom_service::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Signature {
    exp: Option<u64>,
    sig: Option<String>,
    download: Option<String>,
    scope: Option<String>,
}

pub async fn get(State(app): State<AppState>, Path((id, variant)): Path<(String, String)>, Query(q): Query<Signature>, headers: HeaderMap) -> Response {
    let now = now_secs();
    let (Some(exp), Some(sig)) = (q.exp, q.sig.as_deref()) else { return StatusCode::FORBIDDEN.into_response() };
    let owner = q.scope.as_deref() == Some("owner");
    let valid = if owner { app.signer.verify_owner(&id, &variant, exp, sig, now) } else { app.signer.verify(&id, exp, sig, now) };
    if variant == "upload" || !valid {
        return StatusCode::FORBIDDEN.into_response();
    }
    let job = if owner { app.store.owner_result(&id).await } else { app.store.shared_job(&id).await };
    let Ok(job) = job else { return StatusCode::NOT_FOUND.into_response() };
    let Some((key, mime)) = result_file(&variant, job.result_key.as_deref(), job.thumb_key.as_deref()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(bytes) = app.media.get(&key).await else { return StatusCode::NOT_FOUND.into_response() };
    let max_age = exp.saturating_sub(now).min(3600);
    let scope = if owner { "private" } else { "public" };
    // The bytes never change; only the URL's lifetime bounds how long anyone may keep them.
    let cache = HeaderValue::from_str(&format!("{scope}, max-age={max_age}, immutable")).unwrap_or(HeaderValue::from_static("no-store"));
    let mut resp = super::media::file_response(bytes, mime, cache, q.download.is_some().then_some(id.as_str()), &headers);
    resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}
