//! `POST /generations`: the create form (multipart) — photo, optional style image (any image
//! as the style), rights checkbox, style parameters, optional prompt and idempotency key. Answers 303 back to the create page for browsers, or
//! JSON (the job, or `{"error":{...}}`) when the request accepts `application/json`.

use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use bytes::Bytes;
use darkroom_service::auth::AuthSession;
use darkroom_service::generation::{self, StyleRequest};
use darkroom_service::{AppState, ServiceError};

use super::ApiError;

/// The form's fields, as sent.
#[derive(Default)]
struct Form {
    photo: Option<Bytes>,
    style_photo: Option<Bytes>,
    rights: bool,
    style: Option<String>,
    blend_with: Option<String>,
    blend: Option<String>,
    strength: Option<String>,
    preserve_color: bool,
    idempotency_key: Option<String>,
    prompt: String,
    /// A template id (`None`: the style form).
    template: Option<String>,
    /// One of the member's results as the photo ("Use as input").
    input_job: Option<String>,
    /// Video templates: the camera move, the length in seconds, the loop.
    camera: Option<String>,
    seconds: Option<String>,
    ping_pong: bool,
}

/// Longest text field accepted, in bytes.
const MAX_FIELD: usize = 256;

async fn read_form(mut mp: Multipart) -> Result<Form, ServiceError> {
    let mut f = Form::default();
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServiceError::Invalid("The upload is larger than the server accepts.".into())
        } else {
            ServiceError::Invalid(format!("The form could not be read: {}", e.body_text()))
        }
    };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" || name == "style_photo" {
            let bytes = Some(field.bytes().await.map_err(bad)?).filter(|b| !b.is_empty());
            if name == "photo" { f.photo = bytes } else { f.style_photo = bytes }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        if name == "prompt" {
            // Counted in characters by the service (generation::MAX_PROMPT_CHARS); bytes here.
            if text.len() > generation::MAX_PROMPT_CHARS * 4 {
                return Err(ServiceError::Invalid(format!("The prompt can be at most {} characters.", generation::MAX_PROMPT_CHARS)));
            }
            f.prompt = text;
            continue;
        }
        if text.len() > MAX_FIELD {
            return Err(ServiceError::Invalid(format!("The field {name} is too long.")));
        }
        match name.as_str() {
            "rights" => f.rights = !text.is_empty(),
            "preserve_color" => f.preserve_color = !text.is_empty(),
            "style" => f.style = Some(text),
            "blend_with" => f.blend_with = Some(text).filter(|t| !t.is_empty()),
            "blend" => f.blend = Some(text),
            "strength" => f.strength = Some(text),
            "idempotency_key" => f.idempotency_key = Some(text),
            "template" => f.template = Some(text).filter(|t| !t.is_empty()),
            "input_job" => f.input_job = Some(text).filter(|t| !t.is_empty()),
            "camera" => f.camera = Some(text).filter(|t| !t.is_empty()),
            "seconds" => f.seconds = Some(text).filter(|t| !t.is_empty()),
            "ping_pong" => f.ping_pong = !text.is_empty(),
            _ => {}
        }
    }
    Ok(f)
}

fn number<T: std::str::FromStr>(v: Option<&str>, default: T, what: &str) -> Result<T, ServiceError> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s.trim().parse().map_err(|_| ServiceError::Invalid(format!("{what} must be a number."))),
    }
}

fn request(f: &Form) -> Result<StyleRequest, ServiceError> {
    Ok(StyleRequest {
        style: number(f.style.as_deref(), 0usize, "The style")?,
        blend_with: f.blend_with.as_deref().map(|b| number(Some(b), 0usize, "The blend style")).transpose()?,
        // Percentages on the form (0..=100).
        blend: number(f.blend.as_deref(), 50f32, "The blend")? / 100.0,
        strength: number(f.strength.as_deref(), 100f32, "The strength")? / 100.0,
        preserve_color: f.preserve_color,
        prompt: f.prompt.clone(),
        template: f.template.clone(),
        size: None,
        seed: None,
        // Only a video template's form sends these; other templates ignore them.
        motion: generation::MotionChoice::parse(
            f.camera.as_deref(),
            f.seconds.as_deref().map(|s| number(Some(s), 0f32, "The length")).transpose()?,
            f.ping_pong.then_some(true),
        )?,
    })
}

pub async fn create(State(app): State<AppState>, auth: AuthSession, headers: HeaderMap, mp: Multipart) -> Response {
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    // The template's form is where an error is shown again.
    let mut template: Option<String> = None;
    let result = async {
        let user = auth.user.ok_or_else(|| ServiceError::Unauthorized("Please sign in.".into()))?;
        let form = read_form(mp).await?;
        template = form.template.clone();
        let req = request(&form)?;
        // A template decides whether a photo belongs (text→image takes none); the style form
        // always needs one.
        // A photo chosen now wins over a result offered as the input.
        let photo = form.photo.filter(|p| !p.is_empty()).map(generation::Source::Photo).or(form.input_job.clone().map(generation::Source::Result));
        if photo.is_none() && form.template.is_none() {
            return Err(ServiceError::Invalid("Choose a photo to upload.".into()));
        }
        let key = form.idempotency_key.unwrap_or_default();
        let sub = generation::Submission {
            user_id: &user.id,
            source: photo,
            style_source: form.style_photo.map(generation::Source::Photo),
            rights_confirmed: form.rights,
            request: &req,
            idempotency_key: &key,
            api: None,
        };
        Ok(generation::submit_with(&app, sub).await?.0)
    }
    .await;
    match (result, wants_json) {
        (Ok(job), true) => (StatusCode::CREATED, Json(job)).into_response(),
        (Ok(job), false) => Redirect::to(&format!("/create?job={}", job.id)).into_response(),
        (Err(e), false) if template.is_some() => {
            Redirect::to(&format!("/create?template={}&error={}", urlencode(template.as_deref().unwrap_or_default()), urlencode(&e.to_string()))).into_response()
        }
        (Err(e), true) => ApiError(e).into_response(),
        (Err(ServiceError::Unauthorized(_)), false) => Redirect::to("/signin").into_response(),
        (Err(e), false) => Redirect::to(&format!("/create?error={}", urlencode(&e.to_string()))).into_response(),
    }
}

/// Percent-encodes for a query value (RFC 3986 unreserved characters kept).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /generations/preview`: the create form's style choices on the member's own photo,
/// small, before paying (`darkroom_service::styles::preview_on_photo`): the same multipart
/// fields as `/generations` (`photo`, `style`, `blend_with`, `blend`, `strength`,
/// `preserve_color`; others ignored). Answers `image/jpeg` (never cached), or the JSON error
/// `{"error": {"code", "message"}}` with its status (401, 403, 413/400 for the file, 422 for
/// the upload gate, 429 with `Retry-After`, 503 without models).
pub async fn preview(State(app): State<AppState>, auth: AuthSession, mp: Multipart) -> Response {
    let result = async {
        let user = auth.user.ok_or_else(|| ServiceError::Unauthorized("Please sign in.".into()))?;
        let form = read_form(mp).await?;
        let photo = form.photo.clone().ok_or_else(|| ServiceError::Invalid("Choose a photo to upload.".into()))?;
        let params = request(&form)?.params()?;
        darkroom_service::styles::preview_on_photo(&app, &user.id, photo, params).await
    }
    .await;
    match result {
        Ok(jpeg) => ([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "no-store")], jpeg).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
