//! A guard for the pages rendered whole before the first byte (`SsrMode::Async`: `/p/{id}` and
//! `/s/{token}`, whose OpenGraph tags must be in the `<head>`). Leptos' server rendering has
//! been seen, rarely, to never finish such a page (a race between resources awaited in one
//! render; see ARCHITECTURE, Runtime). A GET to those pages that has not produced a response
//! after [`RENDER_TIMEOUT`] is logged and rendered again, up to [`ATTEMPTS`] times in all,
//! then answered 503 — a hung render never hangs the visitor. [`finish_renders`]: every
//! page is rendered to its end even when its reader goes away (see there why).

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

/// How long a page whose reader went away is still rendered to its end (then dropped).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// Middleware: every HTML page is rendered to its end, even when the client goes away
/// mid-stream. The page's body is polled by a task of its own, which forwards it to the
/// response while the client reads and discards it once the client has gone.
///
/// Why: dropping a streaming Leptos render while a resource's future is still running can drop
/// the render's last owner inside that future's `use_context` walk, and reactive_graph then
/// write-locks an owner its own walk holds for reading: the worker thread blocks forever
/// (seen with `reactive_graph` 0.2 under Leptos 0.8: `OwnerInner::drop` → `cleanup` →
/// `RwLock::write` inside `Owner::with_context`, from `leptos_axum::extract`). Letting every
/// render finish before its owner is dropped avoids that path; [`DRAIN_LIMIT`] bounds the
/// work spent on a page nobody reads.
pub async fn finish_renders(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let html = response.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return response;
    }
    let (parts, body) = response.into_parts();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, axum::Error>>(8);
    tokio::spawn(async move {
        use futures::StreamExt;
        let mut stream = body.into_data_stream();
        // Forward while the client reads.
        while let Some(chunk) = stream.next().await {
            if tx.send(chunk).await.is_err() {
                // The client is gone: finish the render, reading nothing more out.
                let _ = tokio::time::timeout(DRAIN_LIMIT, async { while stream.next().await.is_some() {} }).await;
                return;
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)))
}