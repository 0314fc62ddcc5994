//! `POST /api/v1/uploads`: stores a photo or a clip for later generations (`upload_id`). A
//! photo is checked (type, size, pixels), cleaned (EXIF orientation applied, metadata
//! dropped); a clip (MP4 or WebM) is probed, limited (bytes, seconds, pixels, frame rate) and
//! re-encoded without sound or tags by ffmpeg. Either passes the upload gate now (a clip on
//! one frame a second); a blocked upload is not stored (422 `content_rejected`). Uploads are
//! kept for the operator's upload retention (7 days by default).

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use darkroom_service::api::{rfc3339, require_scope};
use darkroom_service::generation::store_api_upload;
use darkroom_service::{AppState, ServiceError};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, Caller, ErrorBody};

/// A stored upload.
#[derive(Serialize, ToSchema)]
pub struct UploadObject {
    /// Pass as `upload_id` to `POST /api/v1/generations`.
    pub id: String,
    /// `image/jpeg`, `image/png` or `video/mp4` (the cleaned copy).
    pub content_type: String,
    /// Pixels, after EXIF orientation (a clip: its frames, after scaling to the limit).
    pub width: i64,
    pub height: i64,
    /// A clip's length in seconds; null for an image.
    pub duration_seconds: Option<f64>,
    /// Bytes of the stored copy.
    pub bytes: i64,
    /// SHA-256 of the bytes sent, hex.
    pub sha256: String,
    pub created_at: String,
    /// When it will be purged (RFC 3339), if the operator keeps uploads for a limited time.
    pub expires_at: Option<String>,
}

/// The multipart body: one file field `file` (or `image`): JPEG, PNG or WebP, both sides at
/// least 32 pixels; or an MP4 or WebM clip (H.264, H.265, VP8, VP9 or AV1) within the
/// operator's length limit (10 s by default).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
}

/// Upload a photo (JPEG, PNG or WebP) or a clip (MP4 or WebM).
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "generations",
    request_body(content((UploadForm = "multipart/form-data"))),
    responses(
        (status = 201, body = UploadObject),
        (status = 400, description = "Not an image or clip, or a clip over a limit", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 422, description = "Rejected by moderation (not stored)", body = ErrorBody),
        (status = 503, description = "Clips cannot be processed on this server (no ffmpeg)", body = ErrorBody)
    )
)]
pub async fn create(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, mut mp: Multipart) -> Result<(StatusCode, Json<UploadObject>), ApiError> {
    require_scope(&key, "generate")?;
    let bad = |e: axum::extract::multipart::MultipartError| ServiceError::Invalid(format!("The form could not be read: {}", e.body_text()));
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        if matches!(field.name(), Some("file" | "image")) {
            file = Some(field.bytes().await.map_err(bad)?);
        }
    }
    let file = file.filter(|f| !f.is_empty()).ok_or_else(|| ServiceError::Invalid("Send the photo or clip as the multipart field `file`.".into()))?;
    let up = store_api_upload(&app, &key.user_id, file).await?;
    let days = app.config.upload_retention_days as i64;
    Ok((
        StatusCode::CREATED,
        Json(UploadObject {
            id: up.id,
            content_type: up.mime,
            width: up.width,
            height: up.height,
            duration_seconds: up.duration_ms.map(|ms| ms as f64 / 1000.0),
            bytes: up.bytes,
            sha256: up.content_hash,
            created_at: rfc3339(up.created_at),
            expires_at: (days > 0).then(|| rfc3339(up.created_at + days * 86_400_000)),
        }),
    ))
}
