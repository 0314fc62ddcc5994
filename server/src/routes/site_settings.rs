//! `POST /admin/settings/logo`: an administrator uploads the watermark's logo (multipart:
//! `version`, the settings' version the page showed, and `logo`, a PNG or WebP with
//! transparency). Answers 303 back to `/admin/settings` for browsers (`?error=` with the
//! reason when refused), or JSON (`{"version": n}` or `{"error":{...}}`) when the request
//! accepts `application/json`. Rules: `service::settings::set_logo`.

use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use darkroom_service::auth::AuthSession;
use darkroom_service::{AppState, ServiceError};

use super::ApiError;

/// The form's body limit: the logo's limit and room for the other field.
pub const MAX_BODY: usize = darkroom_engine::watermark::MAX_LOGO_BYTES + 64 * 1024;

async fn read(mut mp: Multipart) -> Result<(i64, bytes::Bytes), ServiceError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServiceError::Invalid(format!("The logo can be at most {} bytes.", darkroom_engine::watermark::MAX_LOGO_BYTES))
        } else {
            ServiceError::Invalid(format!("The form could not be read: {}", e.body_text()))
        }
    };
    let (mut version, mut logo) = (None, None);
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "logo" => logo = Some(field.bytes().await.map_err(bad)?),
            "version" => version = field.text().await.map_err(bad)?.trim().parse::<i64>().ok(),
            _ => {}
        }
    }
    let version = version.ok_or_else(|| ServiceError::Invalid("`version` must be a whole number.".into()))?;
    let logo = logo.filter(|l| !l.is_empty()).ok_or_else(|| ServiceError::Invalid("Choose a logo file (PNG or WebP).".into()))?;
    Ok((version, logo))
}

pub async fn logo(State(app): State<AppState>, auth: AuthSession, headers: HeaderMap, mp: Multipart) -> Response {
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    let result = async {
        let user = auth.user.ok_or_else(|| ServiceError::Unauthorized("Please sign in.".into()))?;
        if user.role != "admin" {
            return Err(ServiceError::Forbidden("Only administrators can change the settings.".into()));
        }
        let (version, logo) = read(mp).await?;
        darkroom_service::settings::set_logo(&app, &user.id, &logo, version).await
    }
    .await;
    match (result, wants_json) {
        (Ok(version), true) => Json(serde_json::json!({ "version": version })).into_response(),
        (Ok(_), false) => Redirect::to("/admin/settings").into_response(),
        (Err(e), true) => ApiError(e).into_response(),
        (Err(e), false) => Redirect::to(&format!("/admin/settings?error={}", super::generations::urlencode(&e.to_string()))).into_response(),
    }
}
