//! `/api/v1/generations`: create (JSON or multipart, `Idempotency-Key`), get, list (cursor),
//! cancel, delete. The generation object is `darkroom_service::api::Generation`.

use darkroom_contract::JobStatus;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use bytes::Bytes;
use darkroom_service::api::{self, require_scope, Generation};
use darkroom_service::generation::{self, ApiSubmit, Source, Submission};
use darkroom_store::jobs::RequestLog;
use darkroom_service::{AppState, ServiceError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, Caller, Charged, ErrorBody, Logged, Owner};

/// This handler's route, as the request log names it.
const ROUTE: &str = "/api/v1/generations";

/// `POST /api/v1/generations` as JSON. Give the image (or, for a video→video template, the
/// clip) as `image` (base64, or a `data:` URL) or as `upload_id` (from `POST
/// /api/v1/uploads`), not both. Parameters start from `template` (or the first style at full
/// strength) and are overridden by those given.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGeneration {
    /// The source photo: JPEG, PNG or WebP, both sides at least 32 pixels, as base64 (standard
    /// alphabet) or a `data:` URL. For a video→video template, the clip (MP4 or WebM).
    pub image: Option<String>,
    /// An image (or clip) stored with `POST /api/v1/uploads`.
    pub upload_id: Option<String>,
    /// Any image as the style: a second image stored with `POST /api/v1/uploads` whose look
    /// is applied to the photo (`strength` then weighs its style against the photo's own;
    /// the style and blend fields do not apply).
    pub style_upload_id: Option<String>,
    /// A template id from `GET /api/v1/templates`, e.g. `style-07`.
    pub template: Option<String>,
    /// Style index 0..=25 (`GET /api/v1/styles`).
    #[schema(minimum = 0, maximum = 25)]
    pub style: Option<usize>,
    /// A second style to blend with.
    #[schema(minimum = 0, maximum = 25)]
    pub blend_with: Option<usize>,
    /// 0..=1, share of `blend_with` (default 0.5).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub blend: Option<f32>,
    /// 0..=1, how much style over the photo (default 1).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub strength: Option<f32>,
    /// Keep the photo's colours.
    pub preserve_color: Option<bool>,
    /// Optional prompt (title), at most 1,000 characters; moderated.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub prompt: String,
    /// Video templates (image→video): the camera move over the photo (the template's by
    /// default). Local templates only; remote providers ignore it.
    #[schema(pattern = "^(still|zoom_in|zoom_out|pan_left|pan_right|pan_up|pan_down)$")]
    pub camera: Option<String>,
    /// Video templates (image→video): the clip's length in seconds, from 2 to the operator's
    /// limit (10 by default); the price is per second, rounded up. A video→video clip is as
    /// long as the clip sent.
    #[schema(minimum = 1.0, maximum = 600.0)]
    pub seconds: Option<f32>,
    /// Video templates (image→video, local): play forward, then back, so the clip loops.
    pub ping_pong: Option<bool>,
}

/// `POST /api/v1/generations` as `multipart/form-data`: the same fields, with `image` a file
/// (JPEG, PNG or WebP, both sides at least 32 pixels; or an MP4 or WebM clip for a
/// video→video template). Exactly one of `image` and `upload_id`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateGenerationForm {
    #[schema(format = Binary, value_type = Option<String>)]
    image: Option<Vec<u8>>,
    upload_id: Option<String>,
    style_upload_id: Option<String>,
    template: Option<String>,
    #[schema(minimum = 0, maximum = 25)]
    style: Option<usize>,
    #[schema(minimum = 0, maximum = 25)]
    blend_with: Option<usize>,
    #[schema(minimum = 0.0, maximum = 1.0)]
    blend: Option<f32>,
    #[schema(minimum = 0.0, maximum = 1.0)]
    strength: Option<f32>,
    preserve_color: Option<bool>,
    #[schema(max_length = 1000)]
    prompt: Option<String>,
    #[schema(pattern = "^(still|zoom_in|zoom_out|pan_left|pan_right|pan_up|pan_down)$")]
    camera: Option<String>,
    #[schema(minimum = 1.0, maximum = 600.0)]
    seconds: Option<f32>,
    ping_pong: Option<bool>,
}

/// What the request hash covers: everything that shapes the job (the image by its SHA-256).
#[derive(Serialize)]
struct Canonical<'a> {
    image_sha256: Option<String>,
    upload_id: Option<&'a str>,
    style_upload_id: Option<&'a str>,
    request: &'a generation::StyleRequest,
}

/// Longest text field of a multipart request, in bytes.
const MAX_FIELD: usize = 4096;

async fn read_multipart(mut mp: Multipart) -> Result<(CreateGeneration, Option<Bytes>), ServiceError> {
    let bad = |e: axum::extract::multipart::MultipartError| ServiceError::Invalid(format!("The form could not be read: {}", e.body_text()));
    let mut f = CreateGeneration::default();
    let mut image = None;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "image" {
            image = Some(field.bytes().await.map_err(bad)?);
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        if text.len() > MAX_FIELD {
            return Err(ServiceError::Invalid(format!("The field {name} is too long.")));
        }
        let num = |what: &str| ServiceError::Invalid(format!("{what} must be a number."));
        match name.as_str() {
            "upload_id" => f.upload_id = Some(text),
            "style_upload_id" => f.style_upload_id = Some(text).filter(|t| !t.is_empty()),
            "template" => f.template = Some(text).filter(|t| !t.is_empty()),
            "style" => f.style = Some(text.trim().parse().map_err(|_| num("style"))?),
            "blend_with" => f.blend_with = Some(text.trim().parse().map_err(|_| num("blend_with"))?),
            "blend" => f.blend = Some(text.trim().parse().map_err(|_| num("blend"))?),
            "strength" => f.strength = Some(text.trim().parse().map_err(|_| num("strength"))?),
            "preserve_color" => f.preserve_color = Some(matches!(text.trim(), "true" | "1" | "on")),
            "camera" => f.camera = Some(text).filter(|t| !t.is_empty()),
            "seconds" => f.seconds = Some(text.trim().parse().map_err(|_| num("seconds"))?),
            "ping_pong" => f.ping_pong = Some(matches!(text.trim(), "true" | "1" | "on")),
            "prompt" => f.prompt = text,
            other => return Err(ServiceError::Invalid(format!("Unknown field {other:?}."))),
        }
    }
    Ok((f, image))
}

/// Decodes `image` (base64 or a `data:` URL). Errors: [`ServiceError::Invalid`].
fn decode_image(s: &str) -> Result<Bytes, ServiceError> {
    let b64 = match s.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map(|(_, d)| d).ok_or_else(|| ServiceError::Invalid("The data: URL has no data.".into()))?,
        None => s,
    };
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map(Bytes::from)
        .map_err(|_| ServiceError::Invalid("`image` is not valid base64.".into()))
}

/// The idempotency key from the header (1..=128 bytes), or a fresh one (`true`: made now).
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<(String, bool), ServiceError> {
    match headers.get("idempotency-key") {
        None => Ok((darkroom_store::new_id(), true)),
        Some(v) => {
            let k = v.to_str().map_err(|_| ServiceError::Invalid("The Idempotency-Key header must be text.".into()))?.trim();
            if k.is_empty() || k.len() > generation::MAX_KEY_LEN {
                return Err(ServiceError::Invalid(format!("The Idempotency-Key must be 1 to {} characters.", generation::MAX_KEY_LEN)));
            }
            Ok((format!("api:{k}"), false))
        }
    }
}

/// Create a generation. Answers at once with status `queued` (or `review`, or `rejected` when
/// moderation blocks it: charged, not refunded). The same `Idempotency-Key` with the same
/// request answers the first generation (200) and charges nothing; with another request, 409.
#[utoipa::path(
    post, path = "/api/v1/generations", tag = "generations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Up to 128 characters; retries with the same key and body create one generation")),
    request_body(content(
        (CreateGeneration = "application/json"),
        (CreateGenerationForm = "multipart/form-data")
    )),
    responses(
        (status = 201, description = "Created", body = Generation),
        (status = 200, description = "An earlier request with this Idempotency-Key", body = Generation),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 402, description = "`insufficient_credits` or `credit_cap_reached`", body = ErrorBody),
        (status = 403, description = "No `generate` scope, or account restricted", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another request", body = ErrorBody),
        (status = 413, description = "Image too large", body = ErrorBody),
        (status = 429, description = "Rate limited (see Retry-After)", body = ErrorBody)
    )
)]
pub async fn create(
    State(app): State<AppState>,
    Extension(Caller(key)): Extension<Caller>,
    Extension(Owner(owner)): Extension<Owner>,
    req: Request,
) -> Result<Response, ApiError> {
    require_scope(&key, "generate")?;
    let headers = req.headers().clone();
    let (idem, key_is_new) = idempotency_key(&headers)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (body, image) = if content_type.starts_with("multipart/form-data") {
        let mp = Multipart::from_request(req, &()).await.map_err(|e| ServiceError::Invalid(e.body_text()))?;
        read_multipart(mp).await?
    } else {
        let Json(body) = Json::<CreateGeneration>::from_request(req, &())
            .await
            .map_err(|e| ServiceError::Invalid(format!("The JSON body could not be read: {}", e.body_text())))?;
        let image = body.image.as_deref().map(decode_image).transpose()?;
        (body, image)
    };
    let template = match body.template.as_deref() {
        Some(t) => Some(darkroom_service::templates::offered(&app, t).await?),
        None => None,
    };
    let text_to_image = template.as_ref().is_some_and(|t| t.mode == darkroom_contract::Mode::TextToImage);
    let mut request = api::style_request(
        template.as_ref(),
        body.style,
        body.blend_with,
        body.blend,
        body.strength,
        body.preserve_color,
        &body.prompt,
    )?;
    request.motion = generation::MotionChoice::parse(body.camera.as_deref(), body.seconds, body.ping_pong)?;
    let source = match (image, body.upload_id) {
        (None, None) if text_to_image => None,
        (Some(bytes), None) if !bytes.is_empty() => Some(Source::Photo(bytes)),
        (None, Some(id)) if !id.is_empty() => Some(Source::Upload(id)),
        _ if text_to_image => return Err(ServiceError::Invalid("This template makes an image from the prompt alone: send no `image` or `upload_id`.".into()).into()),
        _ => return Err(ServiceError::Invalid("Send the photo as `image` or `upload_id` (one of them).".into()).into()),
    };
    let canonical = Canonical {
        image_sha256: match &source {
            Some(Source::Photo(b)) => Some(hex::encode(Sha256::digest(b))),
            _ => None,
        },
        upload_id: match &source {
            Some(Source::Upload(id)) => Some(id),
            _ => None,
        },
        style_upload_id: body.style_upload_id.as_deref(),
        request: &request,
    };
    let request_hash = hex::encode(Sha256::digest(serde_json::to_vec(&canonical).map_err(ServiceError::internal)?));
    let (job, created) = generation::submit_with(
        &app,
        Submission {
            user_id: &key.user_id,
            source,
            style_source: body.style_upload_id.clone().map(Source::Upload),
            rights_confirmed: true, // confirmed for every image when the key was made
            request: &request,
            idempotency_key: &idem,
            api: Some(ApiSubmit {
                key: &key,
                request_hash: &request_hash,
                key_is_new,
                // A created generation's log row is written with it (status 201).
                log: Some(RequestLog { key_prefix: &key.prefix, method: "POST", route: ROUTE }),
                owner: Some(&owner),
            }),
        },
    )
    .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut resp = (status, Json(api::generation(&app, &super::base(&app, &headers), &job))).into_response();
    if created {
        resp.extensions_mut().insert(Charged(job.cost));
        resp.extensions_mut().insert(Logged);
    }
    Ok(resp)
}

/// Get a generation (fresh signed output URLs each time).
#[utoipa::path(
    get, path = "/api/v1/generations/{id}", tag = "generations",
    params(("id" = String, Path, description = "Generation id")),
    responses(
        (status = 200, body = Generation),
        (status = 404, description = "Not found (or not yours)", body = ErrorBody)
    )
)]
pub async fn get(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Generation>, ApiError> {
    require_scope(&key, "read")?;
    let job = app.store.job(&id, &key.user_id).await?;
    Ok(Json(api::generation(&app, &super::base(&app, &headers), &job)))
}

/// `GET /api/v1/generations` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From the previous page's `next`.
    pub cursor: Option<String>,
    /// 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Only this status.
    #[param(pattern = "^(queued|review|running|succeeded|failed|rejected|canceled)?$")]
    pub status: Option<String>,
}

/// A page of generations, newest first.
#[derive(Serialize, ToSchema)]
pub struct GenerationPage {
    pub results: Vec<Generation>,
    /// URL of the next page, or null at the end.
    pub next: Option<String>,
}

/// List your generations, newest first (cursor pagination).
#[utoipa::path(
    get, path = "/api/v1/generations", tag = "generations",
    params(ListQuery),
    responses((status = 200, body = GenerationPage))
)]
pub async fn list(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Result<Json<GenerationPage>, ApiError> {
    let base = super::base(&app, &headers);
    require_scope(&key, "read")?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ServiceError::Invalid("`limit` must be 1 to 100.".into()).into());
    }
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<JobStatus>().map_err(|_| {
            let all: Vec<_> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            ServiceError::Invalid(format!("Unknown status {s:?}; one of {}.", all.join(", ")))
        })?),
    };
    let mut jobs = app.store.jobs_for_user(&key.user_id, status, q.cursor.as_deref(), limit + 1).await?;
    let more = jobs.len() as i64 > limit;
    jobs.truncate(limit as usize);
    let next = match (more, jobs.last()) {
        (true, Some(last)) => {
            let status = status.map(|s| format!("&status={s}")).unwrap_or_default();
            Some(format!("{base}/api/v1/generations?cursor={}&limit={limit}{status}", last.id))
        }
        _ => None,
    };
    Ok(Json(GenerationPage { results: jobs.iter().map(|j| api::generation(&app, &base, j)).collect(), next }))
}

/// Cancel a generation that has not started (refunded).
#[utoipa::path(
    post, path = "/api/v1/generations/{id}/cancel", tag = "generations",
    params(("id" = String, Path, description = "Generation id")),
    responses(
        (status = 200, body = Generation),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already started or finished", body = ErrorBody)
    )
)]
pub async fn cancel(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Generation>, ApiError> {
    require_scope(&key, "generate")?;
    let job = app.store.cancel_job(&id, &key.user_id, app.config.refund_on_cancel).await?;
    Ok(Json(api::generation(&app, &super::base(&app, &headers), &job)))
}

/// Delete a finished generation and its files.
#[utoipa::path(
    delete, path = "/api/v1/generations/{id}", tag = "generations",
    params(("id" = String, Path, description = "Generation id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Still queued or running", body = ErrorBody)
    )
)]
pub async fn delete(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    require_scope(&key, "generate")?;
    generation::delete(&app, &key.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
