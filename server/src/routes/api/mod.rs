//! The API for integrators (SPEC §9): REST under `/api/v1` (Replicate-shaped generations)
//! and the OpenAI-compatible images endpoints under `/v1/images`, with `Authorization:
//! Bearer dk_…` keys.
//!
//! Every route is registered through `utoipa_axum`'s `routes!`, so the OpenAPI 3.1 document
//! (`/api/v1/openapi.json`, rendered at `/api/v1/docs`) lists exactly the routes served.
//! [`layer`] wraps them all: per-IP then per-key rate limits (429 + `Retry-After`), the key
//! check (401/403), and the member's request log (time, key prefix, route, status, cost).
//! Errors are `{"error":{"code","message"}}` ([`ApiError`]); the `/v1/images` routes add
//! OpenAI's `type` and `param`.

pub mod catalog;
pub mod docs;
pub mod generations;
pub mod openai;
pub mod uploads;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use darkroom_service::api::authenticate;
use darkroom_service::{AppState, ServiceError};
use darkroom_store::api::ApiKey;
use darkroom_service::limits::{Counter, Limiter};
use darkroom_store::cluster::Rate;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The calling key, set by [`layer`] for the handlers.
#[derive(Clone, Debug)]
pub struct Caller(pub ApiKey);

/// The calling key's owner as [`layer`] read them with the key (standing, address, terms),
/// for the handlers that create.
#[derive(Clone, Debug)]
pub struct Owner(pub darkroom_store::users::Eligibility);

/// The absolute base URL for links in answers (see `darkroom_service::api::base_for`).
pub fn base(app: &AppState, headers: &axum::http::HeaderMap) -> String {
    darkroom_service::api::base_for(app, headers.get(header::HOST).and_then(|h| h.to_str().ok()))
}

/// Credits a handler charged (a response extension the request log reads).
#[derive(Clone, Copy, Debug)]
pub struct Charged(pub i64);

/// The handler wrote the request's log row itself, in the transaction that created what it
/// answers (a response extension: [`layer`] then does not log it again).
#[derive(Clone, Copy, Debug)]
pub struct Logged;

/// An API error: `{"error":{"code","message"}}` with its status (and `Retry-After` on 429).
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl From<darkroom_store::StoreError> for ApiError {
    fn from(e: darkroom_store::StoreError) -> Self {
        Self(e.into())
    }
}

/// The error body's inner object.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `invalid_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `insufficient_credits`, `credit_cap_reached`,
    /// `rate_limited`, `invalid_image`, `file_too_large`, `content_rejected`, ...
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// Every API error: `{"error":{"code","message"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody { error: ErrorDetail { code: self.0.code().into(), message: self.0.to_string() } };
        let mut resp = (status, Json(body)).into_response();
        if let ServiceError::RateLimited { retry_after_secs } = self.0 {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        resp
    }
}

/// Rate limits for the API: per key and per client IP, each a burst of its per-minute figure
/// then an even rate; held for the whole cluster on PostgreSQL (`darkroom_service::limits`).
pub struct Limits {
    per_key: Limiter,
    per_ip: Limiter,
}

impl Limits {
    /// `per_key` and `per_ip` requests per minute, each with bursts of the same size.
    pub fn new(counter: &Counter, per_key: u32, per_ip: u32) -> Self {
        Self { per_key: Limiter::new("api-key", Rate::per(per_key, 60_000), counter), per_ip: Limiter::new("api-ip", Rate::per(per_ip, 60_000), counter) }
    }
}

/// State of [`layer`].
#[derive(Clone)]
pub struct LayerState {
    pub app: AppState,
    pub limits: Arc<Limits>,
}

/// Rate limits, authentication and the request log around every API route.
pub async fn layer(State(s): State<LayerState>, mut req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let openai = req.uri().path().starts_with("/v1/");
    let fail = move |e: ServiceError| if openai { openai::OpenAiError(e).into_response() } else { ApiError(e).into_response() };
    // Per IP first: also slows down guessing keys.
    if let Err(e) = s.limits.per_ip.check(&ip.to_string()).await {
        return fail(e);
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|v| v.trim().to_string());
    let Some(bearer) = bearer else {
        return fail(ServiceError::Unauthorized("Send your API key as `Authorization: Bearer dk_…`.".into()));
    };
    let (key, owner) = match authenticate(&s.app, &bearer).await {
        Ok(k) => (k.key, k.owner),
        Err(e) => return fail(e),
    };
    let method = req.method().to_string();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "?".to_string(), |m| m.as_str().to_string());
    let limit = s.limits.per_key.check(&key.id).await;
    // The handler runs in a task of its own (below): it takes the request's id along.
    let request_id = darkroom_service::request_id::current().unwrap_or_default();
    // The handler and the log run to the end in their own task even if the client hangs
    // up: a generation created for a request is always in the log with its cost.
    let task = tokio::spawn(darkroom_service::request_id::scope(request_id, async move {
        let resp = match limit {
            Err(e) => fail(e),
            Ok(()) => {
                req.extensions_mut().insert(Caller(key.clone()));
                req.extensions_mut().insert(Owner(owner));
                next.run(req).await
            }
        };
        let resp = json_errors(resp, openai).await;
        let cost = resp.extensions().get::<Charged>().map_or(0, |c| c.0);
        if resp.extensions().get::<Logged>().is_some() {
            return resp;
        }
        if let Err(e) = s.app.store.log_api_request(&key.user_id, &key.id, &key.prefix, &method, &route, resp.status().as_u16(), cost).await {
            tracing::warn!(error = %e, "API request not logged");
        }
        resp
    }));
    task.await.unwrap_or_else(|e| ApiError(ServiceError::internal(format!("API handler panicked: {e}"))).into_response())
}

/// Error answers that are not JSON yet (axum's own extractor rejections: a missing or
/// malformed multipart body, a bad query string, a body over the limit) become the documented
/// error body, keeping their status, headers and text: `{"error":{"code","message"}}`, or
/// OpenAI's shape under `/v1/`.
async fn json_errors(resp: Response, openai: bool) -> Response {
    let status = resp.status();
    let is_json = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("Error").to_string() } else { text };
    let code = match status.as_u16() {
        400 | 422 => "invalid_request",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "file_too_large",
        415 => "unsupported_media_type",
        s if s >= 500 => "internal",
        _ => "invalid_request",
    };
    let body = if openai {
        let kind = openai::error_kind(status.as_u16());
        serde_json::to_vec(&openai::OpenAiErrorBody { error: openai::OpenAiErrorDetail { message, kind: kind.into(), param: None, code: code.into() } })
    } else {
        serde_json::to_vec(&ErrorBody { error: ErrorDetail { code: code.into(), message } })
    }
    .unwrap_or_default();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("dk_…").description(Some("An API key from the API keys page.")).build()),
        );
    }
}

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Darkroom API",
        description = "Generations (image→image styles) for integrators. Authenticate with `Authorization: Bearer dk_…`. \
            Errors are `{\"error\":{\"code\",\"message\"}}`; 429 answers carry `Retry-After`. Output URLs are signed and expire \
            (1 hour by default): fetch the generation again for fresh ones. The `/v1/images/*` routes follow OpenAI's Images API, \
            so OpenAI's SDKs work with the base URL changed to this server's `/v1`.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "generations", description = "Create and follow generations"),
        (name = "catalog", description = "Templates, styles, balance"),
        (name = "openai", description = "OpenAI-compatible images endpoints")
    )
)]
pub struct ApiDoc;

/// The API routes and their OpenAPI document, built together.
pub fn routes() -> (axum::Router<crate::ServerState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(generations::create, generations::list))
        .routes(routes!(generations::get, generations::delete))
        .routes(routes!(generations::cancel))
        .routes(routes!(uploads::create))
        .routes(routes!(catalog::templates))
        .routes(routes!(catalog::styles))
        .routes(routes!(catalog::balance))
        .routes(routes!(openai::generations))
        .routes(routes!(openai::edits))
        .split_for_parts()
}
