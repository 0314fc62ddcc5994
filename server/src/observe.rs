//! What an operator sees of a running node: the request id, HTTP metrics and `/metrics`.
//!
//! - [`layer`] (outermost but compression): behind a trusted load balancer the client's
//!   address is taken from `X-Forwarded-For` ([`client_addr`]) for everything after it.
//!   Every request gets an id: the client's or the
//!   load balancer's `x-request-id` when it is acceptable (`darkroom_service::request_id`),
//!   otherwise a new UUIDv7. It is in the request's log span, in the answer's `x-request-id`
//!   header, and in scope for the handler, so a job created by the request records it and
//!   the worker's log lines for that job carry it. The answer is counted by route pattern
//!   and status with its latency (`darkroom_service::metrics`).
//! - [`metrics`]: `GET /metrics` on the site's address, only with `Authorization: Bearer
//!   <DARKROOM_METRICS_TOKEN>` (404 when no token is set, 401 for a wrong one);
//!   [`serve_metrics`] serves it without a token on `DARKROOM_METRICS_ADDR`, an address the
//!   operator keeps private (workers use it too: they have no site).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use darkroom_service::{request_id, AppState};
use sha2::{Digest, Sha256};

/// The header that carries the request id both ways.
pub const REQUEST_ID: &str = "x-request-id";

/// The client behind trusted proxies: the last `X-Forwarded-For` entry that is not a
/// trusted proxy, when the peer is one (`DARKROOM_TRUSTED_PROXIES`); the peer otherwise.
pub fn client_addr(peer: SocketAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let hops = forwarded_for.unwrap_or("").split(',').rev().map(str::trim);
    for hop in hops {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return SocketAddr::new(ip, 0),
            Err(_) => break,
        }
    }
    peer
}

/// The client's address, the request id, the log span, the metrics (see the module's doc).
pub async fn layer(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if !app.config.trusted_proxies.is_empty() {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
            let xff = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
            let client = client_addr(peer, xff, &app.config.trusted_proxies);
            req.extensions_mut().insert(ConnectInfo(client));
        }
    }
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| request_id::acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_string);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let method = req.method().as_str().to_string();
    // The pattern, not the path: ids in paths would make a metric per item. (`Router::layer`
    // runs after routing, so the matched pattern is known; the fallback has none.)
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %method, uri = %req.uri().path());
    let start = Instant::now();
    let mut resp = tracing::Instrument::instrument(request_id::scope(id.clone(), next.run(req)), span.clone()).await;
    let (status, took) = (resp.status().as_u16(), start.elapsed());
    app.metrics.http(&method, &route, status, took);
    // One line per request: failures at warn, the rest at debug (nginx keeps the access log).
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms = took.as_secs_f64() * 1000.0, route = %route, "request failed");
        } else {
            tracing::debug!(status, ms = took.as_secs_f64() * 1000.0, route = %route, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// `GET /metrics` on the site's address (token required; see the module's doc).
pub async fn metrics(State(app): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = app.config.metrics_token.as_deref() else { return StatusCode::NOT_FOUND.into_response() };
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    // Compared as digests, so the time taken says nothing about the token.
    if Sha256::digest(sent.as_bytes()) != Sha256::digest(token.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")]).into_response();
    }
    render(&app).await
}

async fn render(app: &AppState) -> Response {
    match app.metrics.render(app).await {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// Serves `GET /metrics` (no token) on `addr` until `stop` turns true. For a private address
/// only: nothing else is served there.
///
/// Errors: the address cannot be bound.
pub async fn serve_metrics(app: AppState, addr: &str, mut stop: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "metrics listener");
    let router = axum::Router::new().route("/metrics", axum::routing::get(|State(app): State<AppState>| async move { render(&app).await })).with_state(app);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let lb: IpAddr = "127.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(lb, 5000);
        let client = |xff: Option<&str>, trusted: &[IpAddr]| client_addr(peer, xff, trusted).ip().to_string();
        assert_eq!(client(Some("203.0.113.9"), &[lb]), "203.0.113.9");
        // A client's own header is kept in front; only the hop the proxy added counts.
        assert_eq!(client(Some("198.51.100.1, 203.0.113.9"), &[lb]), "203.0.113.9");
        assert_eq!(client(Some("203.0.113.9, 127.0.0.1"), &[lb]), "203.0.113.9", "trusted hops are skipped");
        assert_eq!(client(Some("203.0.113.9"), &[]), "127.0.0.1", "untrusted peer: the header is ignored");
        assert_eq!(client(Some("not-an-ip"), &[lb]), "127.0.0.1");
        assert_eq!(client(None, &[lb]), "127.0.0.1");
    }
}
