//! `GET /media/{job_id}/{variant}`: a generation's files. `variant` is `result` (PNG, or a
//! clip's MP4/WebM, with its C2PA manifest), `thumb` (JPEG, 512 px wide), a rendition `w{256|512|1200}.{jpg|webp}`
//! or `upload` (the cleaned photo it was made from); `?download=1`
//! asks the browser to save it; on a clip (`result` or `upload`), `?t=1.5` asks moderators for
//! the frame shown 1.5 s in, as a JPEG (the review queue's stills of flagged frames). Signed,
//! expiring URLs for shared items come with sharing.
//! Every file answers byte ranges (RFC 9110 §14: one range per request, `206` with
//! `Content-Range`, `416` past the end), so video players can seek.
//!
//! Who sees what (the database is asked on every request, so a change applies at once):
//! - the owner: `result`, `thumb` and `upload` of their own item, unless it is deleted,
//!   hidden by a moderator, or its result waits in review (moderation, SPEC §6);
//! - moderators and admins: another member's files while the item is under moderation (held,
//!   hidden, reported, flagged or blocked by a gate) or shared, or for an hour after they gave a
//!   reason to open it in the console (`job.staff_view` in the audit log);
//! - everyone else: 404, the same answer as a missing item (no oracle).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use bytes::Bytes;
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
    /// A clip's frame, seconds in (moderators only).
    t: Option<f64>,
}

pub async fn get(State(app): State<AppState>, auth: AuthSession, Path((id, variant)): Path<(String, String)>, Query(q): Query<Params>, headers: HeaderMap) -> Response {
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
            Ok(u) => {
                let mime = match u.mime.as_str() {
                    "image/jpeg" => "image/jpeg",
                    "video/mp4" => "video/mp4",
                    _ => "image/png",
                };
                (u.object_key, mime)
            }
            Err(_) => return not_found(),
        },
        v => match result_file(v, job.result_key.as_deref(), job.thumb_key.as_deref()) {
            Some(found) => found,
            None => return not_found(),
        },
    };
    let Ok(bytes) = app.media.get(&key).await else { return not_found() };
    if let Some(secs) = q.t {
        // Decoding costs a process per request: only for the review queue.
        if !moderator || !mime.starts_with("video/") {
            return not_found();
        }
        return frame_still(&app, bytes, secs, &headers).await;
    }
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
    file_response(bytes, mime, HeaderValue::from_static(cache), q.download.is_some().then_some(id.as_str()), &headers)
}

/// The frame nearest to `secs` seconds into a clip (the gates record frame times rounded to
/// hundredths), as a JPEG at the clip's own size (never cached: a ruling may remove the
/// clip). A time past the end is 404; a server without ffmpeg answers 503.
async fn frame_still(app: &AppState, clip: Bytes, secs: f64, headers: &HeaderMap) -> Response {
    use darkroom_engine::video::VideoError;
    let video = darkroom_service::video_work::VideoWork::from_config(&app.config);
    let made = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, VideoError> {
        let file = video.file("still-", ".video").map_err(|e| VideoError::Failed(e.to_string()))?;
        std::fs::write(file.path(), &clip).map_err(|e| VideoError::Failed(e.to_string()))?;
        let tools = video.tools()?;
        let v = tools.probe(file.path())?.video.ok_or_else(|| VideoError::BadInput("no video stream".into()))?;
        // Half a frame before the nearest frame's time: the first frame from there is it.
        let fps = v.fps.map_or(24.0, |f| f.value()).max(1.0);
        let start = (((secs * fps).round() - 0.5).max(0.0)) / fps;
        let frame = tools.frame_at(file.path(), start, v.width & !1, v.height & !1)?;
        Ok(darkroom_engine::imageio::encode_jpeg(&frame, 85))
    })
    .await
    .unwrap_or_else(|e| Err(VideoError::Failed(e.to_string())));
    match made {
        Ok(jpeg) => file_response(Bytes::from(jpeg), "image/jpeg", HeaderValue::from_static("private, no-store"), None, headers),
        Err(VideoError::BadInput(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(VideoError::Missing(_)) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "a clip's frame could not be made");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A media file's answer, shared by the session-checked and the signed routes: its type,
/// `cache`, `nosniff`, `Accept-Ranges: bytes` and, when `Range` asks for one satisfiable byte
/// range, only that range (`206`, `Content-Range`); `416` with `Content-Range: bytes */len`
/// for a range past the end. Several ranges in one request get the whole file (`200`), which
/// RFC 9110 §14.2 allows. `download`: the job id, for `Content-Disposition: attachment` with
/// the file's own extension.
pub fn file_response(bytes: Bytes, mime: &'static str, cache: HeaderValue, download: Option<&str>, headers: &HeaderMap) -> Response {
    let len = bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| http_range_header::parse_range_header(r).and_then(|ranges| ranges.validate(len)));
    let (status, body, content_range) = match range {
        None => (StatusCode::OK, bytes, None),
        Some(Err(_)) => {
            let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return resp;
        }
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let (start, end) = (*ranges[0].start(), *ranges[0].end());
            (StatusCode::PARTIAL_CONTENT, bytes.slice(start as usize..=end as usize), Some(format!("bytes {start}-{end}/{len}")))
        }
        Some(Ok(_)) => (StatusCode::OK, bytes, None),
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if let Some(v) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Some(id) = download {
        let ext = match mime.split('/').nth(1).unwrap_or("bin") {
            "jpeg" => "jpg",
            other => other,
        };
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
