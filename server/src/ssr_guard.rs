//! A guard for the pages rendered whole before the first byte (`SsrMode::Async`: `/p/{id}` and
//! `/s/{token}`, whose OpenGraph tags must be in the `<head>`). Leptos' server rendering has
//! been seen, rarely, to never finish such a page (a race between resources awaited in one
//! render; see ARCHITECTURE, Runtime). A GET to those pages that has not produced a response
//! after [`RENDER_TIMEOUT`] is logged and rendered again, up to [`ATTEMPTS`] times in all,
//! then answered 503 — a hung render never hangs the visitor.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How long one render may take.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Renders tried before answering 503.
pub const ATTEMPTS: usize = 3;

fn guarded(req: &Request) -> bool {
    req.method() == Method::GET && (req.uri().path().starts_with("/p/") || req.uri().path().starts_with("/s/"))
}

/// Middleware form (see the module docs).
pub async fn layer(req: Request, next: Next) -> Response {
    if !guarded(&req) {
        return next.run(req).await;
    }
    let (parts, _) = req.into_parts();
    for attempt in 1..=ATTEMPTS {
        let req = Request::from_parts(parts.clone(), Body::empty());
        match tokio::time::timeout(RENDER_TIMEOUT, next.clone().run(req)).await {
            Ok(response) => return response,
            Err(_) => tracing::warn!(path = %parts.uri.path(), attempt, "page render did not finish in time; rendering again"),
        }
    }
    (StatusCode::SERVICE_UNAVAILABLE, "This page could not be rendered. Please try again.").into_response()
}
