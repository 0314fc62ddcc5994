//! `GET /media/{job_id}/{variant}`: a generation's files. `variant` is `result` (PNG, with
//! its C2PA manifest), `thumb` (JPEG, 512 px wide), a rendition `w{256|512|1200}.{jpg|webp}`
//! or `upload` (the cleaned photo it was made from); `?download=1`
//! asks the browser to save it. Signed, expiring URLs for shared items come with sharing.
//!
//! Who sees what (the database is asked on every request, so a change applies at once):
//! - the owner: `result`, `thumb` and `upload` of their own item, unless it is deleted,
//!   hidden by a moderator, or its result waits in review (moderation, SPEC §6);
//! - moderators and admins: another member's files while the item is under moderation (held,
//!   hidden, reported, flagged or blocked by a gate) or shared, or for an hour after they gave a
//!   reason to open it in the console (`job.staff_view` in the audit log);
//! - everyone else: 404, the same answer as a missing item (no oracle).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_service::auth::AuthSession;
use darkroom_service::moderation::is_moderator;
use darkroom_service::media::result_file;
use darkroom_service::AppState;
use serde::Deserialize;

/// How long a reason given in the console opens a private item's files to that staff member.
pub const STAFF_VIEW_MS: i64 = 3_600_000;

#[derive(Deserialize)]
pub struct Params {
    download: Option<String>,
}

pub async fn get(State(app): State<AppState>, auth: AuthSession, Path((id, variant)): Path<(String, String)>, Query(q): Query<Params>) -> Response {
    let not_found = || StatusCode::NOT_FOUND.into_response();
    let Some(user) = auth.user else { return not_found() };
    let moderator = is_moderator(&user.role);
    let job = if moderator { app.store.job_any_owner(&id).await } else { app.store.job(&id, &user.id).await };
    let Ok(job) = job else { return not_found() };
    // Staff open another member's files only as moderation needs, or after giving a reason in
    // the console (kept in the audit log) within the last hour.
    if moderator && job.user_id != user.id {
        let since = darkroom_store::now_ms() - STAFF_VIEW_MS;
        if !app.store.staff_may_view(&job.id, &user.id, since).await.unwrap_or(false) {
            return not_found();
        }
    }
    if !moderator && (job.hidden_at.is_some() || (job.status == darkroom_contract::JobStatus::Review && variant != "upload")) {
        return not_found();
    }
    let (key, mime) = match variant.as_str() {
        "upload" => match app.store.upload(job.upload_id.as_deref().unwrap_or_default(), &job.user_id).await {
            Ok(u) => (u.object_key, if u.mime == "image/jpeg" { "image/jpeg" } else { "image/png" }),
            Err(_) => return not_found(),
        },
        v => match result_file(v, job.result_key.as_deref(), job.thumb_key.as_deref()) {
            Some(found) => found,
            None => return not_found(),
        },
    };
    let Ok(bytes) = app.media.get(&key).await else { return not_found() };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Private; never cached for moderators' views of others' items (a ruling may remove them).
    // A result's files never change once made (a job finishes once): the owner's browser may
    // keep them a year.
    let cache = if moderator {
        "private, no-store"
    } else if variant == "upload" {
        "private, max-age=3600"
    } else {
        "private, max-age=31536000, immutable"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if q.download.is_some() {
        let ext = mime.strip_prefix("image/").unwrap_or("bin").replace("jpeg", "jpg");
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"darkroom-{id}.{ext}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    resp
}

/// `GET /template-previews/{file}`: a template's preview made by running it
/// (`darkroom_service::templates::make_preview`), public like the catalogue that shows it.
/// The name carries the image's content hash, so it is cached for a year. Names other than
/// `{slug}-{hex}.jpg` are 404 without a lookup.
pub async fn template_preview(State(app): State<AppState>, Path(file): Path<String>) -> Response {
    let well_formed = file.len() <= 100
        && file.strip_suffix(".jpg").is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    if !well_formed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(bytes) = app.media.get(&format!("{}{file}", darkroom_service::templates::PREVIEW_PREFIX)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    resp
}
