//! Page requests per client address: the limit on scraping the site's pages.
//!
//! Pages (`GET`/`HEAD`) and the server functions the pages call (`POST /api/{name}`) are
//! counted per client address, as `observe::layer` resolved it behind trusted proxies, with
//! the limiter the API uses (`darkroom_service::limits`: GCRA, in memory on SQLite, in the
//! database on PostgreSQL so that N nodes allow the quota once). Over it: `429 Too Many
//! Requests` (RFC 6585 §4) with `Retry-After` in seconds, as a short HTML page for a browser
//! or the usual JSON error for a server-function call. Integrators use the API, which has its
//! own limits per key and per address.
//!
//! Not counted: what one page loads by itself (the browser bundle, media, previews, static
//! files), the live event stream, health and metrics, the API and the OpenAI-compatible
//! routes, and providers' and payment providers' webhooks.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use darkroom_service::limits::{Counter, Limiter};
use darkroom_service::ServiceError;
use darkroom_store::cluster::Rate;

/// Paths under these prefixes are never counted (see the module's documentation).
const NOT_COUNTED: &[&str] = &[
    "/pkg/", "/m/", "/media/", "/template-previews/", "/previews/", "/events", "/healthz", "/readyz", "/metrics",
    "/api/v1/", "/v1/", "/payments/stripe/webhook", "/payments/paypal/webhook", "/providers/", "/favicon",
    "/robots.txt",
];

/// The page limit of one node. `None` inside: off (`DARKROOM_PAGE_RATE_PER_MIN=0`).
#[derive(Clone)]
pub struct PageLimit(Option<std::sync::Arc<Limiter>>);

impl PageLimit {
    /// `per_min` requests per client address per minute, in bursts of the same size; 0 is off.
    pub fn new(per_min: u32, counter: &Counter) -> Self {
        Self((per_min > 0).then(|| std::sync::Arc::new(Limiter::new("pages-ip", Rate::per(per_min, 60_000), counter))))
    }
}

/// True if `method` on `path` is a page view or a page's server-function call.
pub fn counted(method: &Method, path: &str) -> bool {
    let page = matches!(*method, Method::GET | Method::HEAD);
    let server_fn = *method == Method::POST && path.starts_with("/api/");
    (page || server_fn) && !NOT_COUNTED.iter().any(|p| path.starts_with(p))
}

/// Middleware: counts page requests per client address; over the limit answers 429.
pub async fn layer(State(limit): State<PageLimit>, req: Request, next: Next) -> Response {
    let Some(limiter) = &limit.0 else { return next.run(req).await };
    if !counted(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match limiter.check(&ip.to_string()).await {
        Ok(()) => next.run(req).await,
        Err(ServiceError::RateLimited { retry_after_secs }) => too_many(&req, retry_after_secs),
        // The count could not be read (the database is down): the page is served; the
        // page's own queries will say what is wrong.
        Err(e) => {
            tracing::warn!(error = %e, "page limit not counted");
            next.run(req).await
        }
    }
}

/// The 429 answer: JSON for a server-function call, a short page otherwise.
fn too_many(req: &Request, retry_after_secs: u64) -> Response {
    let mut resp = if *req.method() == Method::POST {
        let body = serde_json::json!({ "error": { "code": "rate_limited", "message": format!("Too many requests from your address. Try again in {retry_after_secs} s.") } });
        (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response()
    } else {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Too many requests</title></head>\
             <body><h1>Too many requests</h1><p>This address has opened more pages than the site allows in a minute. \
             Try again in {retry_after_secs} s. Programs should use the API (<a href=\"/api/v1/docs\">documentation</a>).</p></body></html>"
        );
        (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
    };
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_server_functions_count_and_what_a_page_loads_does_not() {
        for (m, p) in [(Method::GET, "/"), (Method::GET, "/explore"), (Method::HEAD, "/p/abc"), (Method::GET, "/s/0123"), (Method::POST, "/api/explore"), (Method::POST, "/api/sign_in")] {
            assert!(counted(&m, p), "{m} {p}");
        }
        for (m, p) in [
            (Method::GET, "/pkg/abc/darkroom.wasm"),
            (Method::GET, "/m/id/thumb"),
            (Method::GET, "/media/id/result"),
            (Method::GET, "/events"),
            (Method::GET, "/healthz"),
            (Method::GET, "/api/v1/generations"),
            (Method::POST, "/api/v1/generations"),
            (Method::POST, "/v1/images/edits"),
            (Method::POST, "/payments/stripe/webhook"),
            (Method::POST, "/providers/replicate/webhook"),
            (Method::POST, "/generations"),
            (Method::OPTIONS, "/"),
        ] {
            assert!(!counted(&m, p), "{m} {p}");
        }
    }
}
