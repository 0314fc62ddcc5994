//! OpenAI-compatible images endpoints (OpenAI API reference, "Images": create image, create
//! image edit), so OpenAI's SDKs work with `base_url` set to this server's `/v1`:
//!
//! - `POST /v1/images/edits` (multipart: `image`, `prompt`, `model`, `n`, `size`,
//!   `response_format`): the photo through the style `model` names;
//! - `POST /v1/images/generations` (JSON: `prompt`, `model`, `n`, `size`,
//!   `response_format`): text→image through one of the operator's text→image templates (a
//!   remote provider); a server without one answers 400 saying so.
//!
//! `model` is a template id (`style-07`, `openai-image`) of the endpoint's mode; OpenAI's own
//! model names and no model mean the operator's first template of that mode. Both wait for their generations (up to
//! `DARKROOM_API_SYNC_TIMEOUT_SECS`) and charge as `POST /api/v1/generations` does, per image.
//! Answers `{"created", "data":[{"url"}|{"b64_json"}]}`; errors add OpenAI's `type`/`param`.

use darkroom_contract::JobStatus;
use std::time::{Duration, Instant};

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use bytes::Bytes;
use darkroom_service::api::{self, require_scope};
use darkroom_service::generation::{self, ApiSubmit, Source, Submission};
use darkroom_service::{AppState, ServiceError};
use darkroom_contract::Mode;
use darkroom_store::jobs::Job;
use darkroom_store::templates::Template as TemplateRow;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Caller, Charged};

/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}`.
pub struct OpenAiError(pub ServiceError);

impl From<ServiceError> for OpenAiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl From<darkroom_store::StoreError> for OpenAiError {
    fn from(e: darkroom_store::StoreError) -> Self {
        Self(e.into())
    }
}

/// OpenAI's error object.
#[derive(Serialize, ToSchema)]
pub struct OpenAiErrorDetail {
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `insufficient_quota`, `rate_limit_error` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    /// Darkroom's code (`content_policy_violation` for moderation rejections).
    pub code: String,
}

/// OpenAI's error body.
#[derive(Serialize, ToSchema)]
pub struct OpenAiErrorBody {
    pub error: OpenAiErrorDetail,
}

/// OpenAI's error `type` for an HTTP status.
pub fn error_kind(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "insufficient_quota",
        403 => "permission_error",
        429 => "rate_limit_error",
        s if s >= 500 => "server_error",
        _ => "invalid_request_error",
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        // OpenAI answers content-policy refusals with 400.
        let status = if matches!(self.0, ServiceError::ContentRejected(_)) { 400 } else { self.0.status() };
        let kind = error_kind(status);
        let code = match &self.0 {
            ServiceError::ContentRejected(_) => "content_policy_violation",
            e => e.code(),
        };
        let body = OpenAiErrorBody { error: OpenAiErrorDetail { message: self.0.to_string(), kind: kind.into(), param: None, code: code.into() } };
        let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(body)).into_response();
        if let ServiceError::RateLimited { retry_after_secs } = self.0 {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        resp
    }
}

/// One image of a response.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ImageData {
    /// A signed URL that expires (1 hour by default), for `response_format=url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The PNG as base64, for `response_format=b64_json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
}

/// OpenAI's `ImagesResponse`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ImagesResponse {
    /// Unix seconds.
    pub created: i64,
    pub data: Vec<ImageData>,
}

/// `POST /v1/images/generations` body (OpenAI's `CreateImageRequest`; other fields are
/// accepted and ignored).
#[derive(Deserialize, ToSchema, Default)]
pub struct CreateImageRequest {
    /// 1 to 1,000 characters, not only spaces; moderated. Seeds the canvas and titles the result.
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub prompt: String,
    /// A template or style id; OpenAI model names mean the first template.
    pub model: Option<String>,
    /// 1..=4 images (each charged).
    #[schema(minimum = 1, maximum = 4)]
    pub n: Option<u32>,
    /// `auto` (1024x1024, or the server's largest side) or `WIDTHxHEIGHT`, each side 1 to 9999
    /// without leading zeros; sides are clamped to 64..=the server's largest side.
    #[schema(pattern = "^(auto|[1-9][0-9]{0,3}x[1-9][0-9]{0,3})$")]
    pub size: Option<String>,
    /// `url` (default) or `b64_json`.
    #[schema(pattern = "^(url|b64_json)$")]
    pub response_format: Option<String>,
}

/// `POST /v1/images/edits` multipart body (OpenAI's `CreateImageEditRequest`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateImageEditRequest {
    /// The photo (JPEG, PNG or WebP). `image[]` is accepted too (first one used).
    #[schema(format = Binary, value_type = String)]
    image: Vec<u8>,
    /// What to make of the photo, 1 to 1,000 characters, not only spaces; moderated, and the
    /// result's title.
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    prompt: String,
    model: Option<String>,
    #[schema(minimum = 1, maximum = 4)]
    n: Option<u32>,
    /// Accepted for compatibility (`auto` or `WIDTHxHEIGHT` as for generations); the result
    /// keeps the photo's aspect ratio.
    #[schema(pattern = "^(auto|[1-9][0-9]{0,3}x[1-9][0-9]{0,3})$")]
    size: Option<String>,
    /// `url` (default) or `b64_json`.
    #[schema(pattern = "^(url|b64_json)$")]
    response_format: Option<String>,
}

/// OpenAI's Images API requires a prompt that is not all spaces (the document's `\S`: Unicode
/// white space and the ASCII separators U+001C..U+001F). Checked first, before any work; the
/// length limit is `generation::submit`'s. Errors: [`ServiceError::Invalid`].
fn check_prompt(prompt: &str) -> Result<(), ServiceError> {
    if prompt.chars().all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)) {
        return Err(ServiceError::Invalid("`prompt` is required.".into()));
    }
    Ok(())
}

/// Largest `n`.
pub const MAX_N: u32 = 4;

/// OpenAI model names that mean "the default template".
const OPENAI_MODELS: [&str; 4] = ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini"];

/// Every `model` value the endpoints accept, exactly as written, as of now: the offered
/// template ids, OpenAI's model names, `darkroom` and the empty string. For the API document
/// (made at start: `GET /api/v1/templates` is the current list).
pub async fn model_ids(state: &AppState) -> Vec<String> {
    let mut ids: Vec<String> = darkroom_service::templates::catalogue(state).await.unwrap_or_default().into_iter().map(|t| t.id).collect();
    ids.extend(OPENAI_MODELS.iter().map(|m| m.to_string()));
    ids.extend(["darkroom".to_string(), String::new()]);
    ids
}

/// The template for `model` on an endpoint of `mode`: a template id as written (of that
/// mode); OpenAI's own model names, `darkroom` and no model mean the operator's first
/// template of the mode (for edits, a remote provider's when one is configured, else the
/// first style). Errors: [`ServiceError::Invalid`] for an unknown model, one of the other
/// mode, or no template of the mode on this server (text→image needs a provider).
async fn template_for(app: &AppState, model: Option<&str>, mode: Mode) -> Result<TemplateRow, ServiceError> {
    use darkroom_service::templates;
    let row = match model.filter(|m| !m.is_empty()) {
        Some(m) if !OPENAI_MODELS.contains(&m) && m != "darkroom" => {
            templates::offered(app, m).await.map_err(|_| ServiceError::Invalid(format!("Unknown model {m:?}: use a template id from GET /api/v1/templates.")))?
        }
        _ if mode == Mode::ImageToImage => match templates::first_of(app, mode, true).await? {
            Some(remote) => remote,
            None => templates::offered(app, &api::style_id(0)).await?,
        },
        _ => templates::first_of(app, mode, false).await?.ok_or_else(|| {
            ServiceError::Invalid(
                "This server offers no text-to-image template: an operator adds one in /admin/templates, with a provider configured (OpenAI, Gemini, OpenRouter or AUTOMATIC1111).".into(),
            )
        })?,
    };
    if row.mode != mode {
        return Err(ServiceError::Invalid(format!(
            "The model {:?} is a {} template: use {}.",
            row.id,
            row.mode,
            if row.mode == Mode::TextToImage { "/v1/images/generations" } else { "/v1/images/edits" }
        )));
    }
    Ok(row)
}

fn check_n(n: Option<u32>) -> Result<u32, ServiceError> {
    match n.unwrap_or(1) {
        n @ 1..=MAX_N => Ok(n),
        _ => Err(ServiceError::Invalid(format!("`n` must be 1 to {MAX_N}."))),
    }
}

fn check_format(f: Option<&str>) -> Result<bool, ServiceError> {
    match f.unwrap_or("url") {
        "url" => Ok(false),
        "b64_json" => Ok(true),
        other => Err(ServiceError::Invalid(format!("`response_format` must be url or b64_json, not {other:?}."))),
    }
}

/// `WxH` or `auto` → pixels, each side 64..=`max`. Errors: [`ServiceError::Invalid`].
fn parse_size(size: Option<&str>, max: u32) -> Result<(u32, u32), ServiceError> {
    let bad = || ServiceError::Invalid("`size` must be auto or WIDTHxHEIGHT (sides 1 to 9999, no leading zeros).".into());
    // The document's pattern, exactly: `auto|[1-9][0-9]{0,3}x[1-9][0-9]{0,3}`.
    let side = |s: &str| -> Option<u32> {
        let ok = (1..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
        ok.then(|| s.parse().ok()).flatten()
    };
    let clamp = |v: u32| v.clamp(64, max.max(64));
    match size.unwrap_or("auto") {
        "auto" => Ok((max.min(1024), max.min(1024))),
        s => {
            let (w, h) = s.split_once('x').ok_or_else(bad)?;
            let (w, h) = (side(w).ok_or_else(bad)?, side(h).ok_or_else(bad)?);
            Ok((clamp(w), clamp(h)))
        }
    }
}

/// Submits `n` generations of `photo` and waits for them; answers OpenAI's shape.
#[allow(clippy::too_many_arguments)]
async fn run(app: &AppState, key: &darkroom_store::api::ApiKey, headers: &HeaderMap, photo: Option<Bytes>, prompt: &str, template: &TemplateRow, size: Option<(u32, u32)>, n: u32, b64: bool) -> Result<Response, OpenAiError> {
    let mut request = api::style_request(Some(template), None, None, None, None, None, prompt)?;
    request.size = size;
    let (idem, _) = super::generations::idempotency_key(headers)?;
    let photo_hash = photo.as_ref().map(|p| hex::encode(Sha256::digest(p))).unwrap_or_default();
    let mut jobs = Vec::new();
    let mut charged = 0;
    for i in 0..n {
        let request_hash = hex::encode(Sha256::digest(format!("openai\n{photo_hash}\n{}\n{size:?}\n{i}\n{prompt}", template.id)));
        let key_i = format!("{idem}:{i}");
        let (job, created) = generation::submit_with(
            app,
            Submission {
                user_id: &key.user_id,
                source: photo.clone().map(Source::Photo),
                style_source: None,
                rights_confirmed: true,
                request: &request,
                idempotency_key: &key_i,
                // Several jobs per request: the layer logs the request once.
                api: Some(ApiSubmit { key, request_hash: &request_hash, key_is_new: false, log: None, owner: None }),
            },
        )
        .await?;
        if created {
            charged += job.cost;
        }
        jobs.push(job);
    }
    let deadline = Instant::now() + Duration::from_secs(app.config.api_sync_timeout_secs);
    let mut done: Vec<Job> = Vec::new();
    for job in jobs {
        done.push(wait(app, job, deadline).await?);
    }
    let mut data = Vec::new();
    for job in &done {
        match job.status {
            JobStatus::Succeeded if job.hidden_at.is_none() => {
                data.push(if b64 {
                    let key = job.result_key.as_deref().ok_or_else(|| ServiceError::internal("succeeded without a result"))?;
                    ImageData { url: None, b64_json: Some(base64::engine::general_purpose::STANDARD.encode(app.media.get(key).await?)) }
                } else {
                    ImageData { url: Some(api::owner_file_url(app, &super::base(app, headers), &job.id, "result").0), b64_json: None }
                });
            }
            JobStatus::Rejected => {
                let category = job.moderation_category.unwrap_or(darkroom_contract::Category::Other);
                return Err(ServiceError::ContentRejected(format!(
                    "Rejected by moderation ({category}). Credits are not refunded for rejected generations (generation {}).",
                    job.id
                ))
                .into());
            }
            JobStatus::Failed => {
                return Err(ServiceError::Unavailable(format!("The generation {} failed and was refunded: {}", job.id, job.error.as_deref().unwrap_or("error"))).into());
            }
            status => {
                return Err(ServiceError::Unavailable(format!(
                    "The generation {} is still {status}; follow it at /api/v1/generations/{}.",
                    job.id, job.id
                ))
                .into());
            }
        }
    }
    let mut resp = Json(ImagesResponse { created: darkroom_store::now_ms() / 1000, data }).into_response();
    resp.extensions_mut().insert(Charged(charged));
    Ok(resp)
}

/// Polls the job until it is final (or held in review with a result) or the deadline passes.
async fn wait(app: &AppState, job: Job, deadline: Instant) -> Result<Job, ServiceError> {
    let mut job = job;
    while !job.status.is_terminal() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        job = app.store.job(&job.id, &job.user_id).await?;
    }
    Ok(job)
}

/// Create an image from a prompt (OpenAI `images.generate`).
#[utoipa::path(
    post, path = "/v1/images/generations", tag = "openai",
    request_body(content((CreateImageRequest = "application/json"))),
    responses(
        (status = 200, body = ImagesResponse),
        (status = 400, description = "Bad input, or `content_policy_violation`", body = OpenAiErrorBody),
        (status = 401, body = OpenAiErrorBody),
        (status = 402, body = OpenAiErrorBody),
        (status = 429, body = OpenAiErrorBody),
        (status = 503, description = "Failed (refunded) or still running at the timeout", body = OpenAiErrorBody)
    )
)]
pub async fn generations(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, headers: HeaderMap, body: Bytes) -> Result<Response, OpenAiError> {
    require_scope(&key, "generate")?;
    let req: CreateImageRequest = serde_json::from_slice(&body).map_err(|e| ServiceError::Invalid(format!("The JSON body could not be read: {e}")))?;
    check_prompt(&req.prompt)?;
    let template = template_for(&app, req.model.as_deref(), Mode::TextToImage).await?;
    let n = check_n(req.n)?;
    let b64 = check_format(req.response_format.as_deref())?;
    let size = match req.size.as_deref() {
        None | Some("auto") => None,
        // The wish as given: the provider picks its nearest size (its outputs are its own size).
        s => Some(parse_size(s, 4096)?),
    };
    run(&app, &key, &headers, None, &req.prompt, &template, size, n, b64).await
}

/// Restyle a photo (OpenAI `images.edit`).
#[utoipa::path(
    post, path = "/v1/images/edits", tag = "openai",
    request_body(content((CreateImageEditRequest = "multipart/form-data"))),
    responses(
        (status = 200, body = ImagesResponse),
        (status = 400, description = "Bad input, or `content_policy_violation`", body = OpenAiErrorBody),
        (status = 401, body = OpenAiErrorBody),
        (status = 402, body = OpenAiErrorBody),
        (status = 429, body = OpenAiErrorBody),
        (status = 503, description = "Failed (refunded) or still running at the timeout", body = OpenAiErrorBody)
    )
)]
pub async fn edits(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, headers: HeaderMap, mut mp: Multipart) -> Result<Response, OpenAiError> {
    require_scope(&key, "generate")?;
    let bad = |e: axum::extract::multipart::MultipartError| ServiceError::Invalid(format!("The form could not be read: {}", e.body_text()));
    let (mut image, mut prompt, mut model, mut n, mut size, mut format) = (None, String::new(), None, None, None, None);
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "image" || name == "image[]" {
            let bytes = field.bytes().await.map_err(bad)?;
            image.get_or_insert(bytes);
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        if text.len() > 16 * 1024 {
            return Err(ServiceError::Invalid(format!("The field {name} is too long.")).into());
        }
        match name.as_str() {
            "prompt" => prompt = text,
            "model" => model = Some(text),
            "n" => n = Some(text.trim().parse::<u32>().map_err(|_| ServiceError::Invalid("`n` must be a number.".into()))?),
            "size" => size = Some(text),
            "response_format" => format = Some(text),
            _ => {} // mask, quality, user, ...: accepted, not used
        }
    }
    let image = image.filter(|i| !i.is_empty()).ok_or_else(|| ServiceError::Invalid("`image` is required.".into()))?;
    check_prompt(&prompt)?;
    let template = template_for(&app, model.as_deref(), Mode::ImageToImage).await?;
    let n = check_n(n)?;
    let b64 = check_format(format.as_deref())?;
    parse_size(size.as_deref(), 4096)?;
    run(&app, &key, &headers, Some(image), &prompt, &template, None, n, b64).await
}
