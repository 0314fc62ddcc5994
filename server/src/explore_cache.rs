//! A shared cache of Explore pages (`GET /explore…`) for visitors without a session.
//!
//! Explore is the same for every signed-out visitor, and it is the page a public link brings
//! crowds to. The rendered HTML is kept under a key of (host, path and query, the signing
//! window of its media URLs, the feed's stamp), so it is never staler than the data:
//! - the feed's stamp (`darkroom_service::feed::Stamp`: the database's feed version, read at
//!   most every 250 ms, and this process's own changes, counted at once) moves with every
//!   change to what Explore shows, on this node at once and on others within that time;
//! - signed media URLs are identical within one 600-s step (`UrlSigner::expiry`), which is
//!   part of the key, so no cached page holds an expired URL.
//!
//! Requests with a session cookie (members see their likes), other methods and other paths
//! pass through. Only complete `200` answers without `Set-Cookie` are kept; at most
//! [`MAX_ENTRIES`] pages of at most [`MAX_PAGE_BYTES`] each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use darkroom_service::AppState;

/// Pages kept at most (the whole cache is dropped when full: keys go stale together anyway).
pub const MAX_ENTRIES: usize = 512;
/// Largest page kept, in bytes.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// The cache. Cheap to clone.
#[derive(Clone)]
pub struct ExploreCache {
    app: AppState,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    pages: HashMap<String, (HeaderMap, Bytes)>,
}

impl ExploreCache {
    pub fn new(app: AppState) -> Self {
        Self { app, inner: Arc::new(Mutex::new(Inner { pages: HashMap::new() })) }
    }
}

fn cacheable(req: &Request) -> bool {
    let signed_in = || {
        req.headers().get_all(header::COOKIE).iter().any(|c| c.to_str().map_or(true, |c| c.contains(crate::SESSION_COOKIE)))
    };
    req.method() == Method::GET && req.uri().path() == "/explore" && !signed_in()
}

/// Middleware: answers signed-out Explore requests from the cache, filling it on a miss.
pub async fn layer(State(cache): State<ExploreCache>, req: Request, next: Next) -> Response {
    if !cacheable(&req) {
        return next.run(req).await;
    }
    let Ok(stamp) = cache.app.feed.stamp().await else { return next.run(req).await };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let window = cache.app.signer.expiry(now);
    // The host too: absolute links on a page follow it when no public URL is configured.
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    // The page renders in the preference cookie's theme and language (`app::i18n`), read the
    // same way here: each combination is its own page.
    let cookies: Vec<&str> = req.headers().get_all(header::COOKIE).iter().filter_map(|c| c.to_str().ok()).collect();
    let prefs = app::i18n::parse_cookie(&cookies.join("; "));
    let key = format!("{}.{}.{window} {host} {}.{} {}", stamp.db, stamp.local, prefs.theme, prefs.lang, req.uri());
    if let Some((headers, body)) = cache.inner.lock().unwrap_or_else(|e| e.into_inner()).pages.get(&key).cloned() {
        let (headers, body) = crate::headers::renew_nonce(headers, body);
        let mut resp = Response::new(Body::from(body));
        *resp.headers_mut() = headers;
        return resp;
    }
    let resp = next.run(req).await;
    if resp.status() != StatusCode::OK || resp.headers().contains_key(header::SET_COOKIE) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        let mut resp = Response::new(Body::from("The page could not be rendered."));
        *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return resp;
    };
    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_LENGTH);
    {
        let mut inner = cache.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.pages.len() >= MAX_ENTRIES {
            inner.pages.clear();
        }
        inner.pages.insert(key, (headers, bytes.clone()));
    }
    Response::from_parts(parts, Body::from(bytes))
}
