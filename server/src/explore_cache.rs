//! A shared cache of Explore pages (`GET /explore…`) for visitors without a session.
//!
//! Explore is the same for every signed-out visitor, and it is the page a public link brings
//! crowds to. The rendered HTML is kept under a key of (host, path and query, the signing
//! window of its media URLs, the feed version), so it is never staler than the data:
//! - the database's feed version (`Store::feed_version`) grows in the same transaction as
//!   every change to what Explore shows (visibility, hide, delete, purge, likes); it is read
//!   at most every [`DB_CHECK`], so another process's change shows within that time;
//! - this process's own changes are counted right after commit (`Store::local_feed_changes`)
//!   and apply at once; on PostgreSQL so are other nodes' (their `NOTIFY`, through the
//!   listener of `darkroom_store::live`), the database read being the safety net;
//! - signed media URLs are identical within one 600-s step (`UrlSigner::expiry`), which is
//!   part of the key, so no cached page holds an expired URL.
//!
//! Requests with a session cookie (members see their likes), other methods and other paths
//! pass through. Only complete `200` answers without `Set-Cookie` are kept; at most
//! [`MAX_ENTRIES`] pages of at most [`MAX_PAGE_BYTES`] each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use darkroom_service::AppState;

/// How often the database's feed version is read (another process's changes show within it).
pub const DB_CHECK: Duration = Duration::from_millis(250);
/// Pages kept at most (the whole cache is dropped when full: keys go stale together anyway).
pub const MAX_ENTRIES: usize = 512;
/// Largest page kept, in bytes.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// The cache and the last database feed version read. Cheap to clone.
#[derive(Clone)]
pub struct ExploreCache {
    app: AppState,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    db_version: i64,
    checked: Option<Instant>,
    pages: HashMap<String, (HeaderMap, Bytes)>,
}

impl ExploreCache {
    pub fn new(app: AppState) -> Self {
        Self { app, inner: Arc::new(Mutex::new(Inner { db_version: 0, checked: None, pages: HashMap::new() })) }
    }

    /// The key part that changes with the data: the database's version (re-read when older
    /// than [`DB_CHECK`]) and this process's own change count. `None` if the database
    /// cannot be read (then nothing is cached).
    async fn version(&self) -> Option<(i64, u64)> {
        let local = self.app.store.local_feed_changes();
        let fresh = {
            let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.checked.filter(|t| t.elapsed() < DB_CHECK).map(|_| inner.db_version)
        };
        let db = match fresh {
            Some(v) => v,
            None => {
                let v = self.app.store.feed_version().await.ok()?;
                let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                inner.db_version = v;
                inner.checked = Some(Instant::now());
                v
            }
        };
        Some((db, local))
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
    let Some((db, local)) = cache.version().await else { return next.run(req).await };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let window = cache.app.signer.expiry(now);
    // The host too: absolute links on a page follow it when no public URL is configured.
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let key = format!("{db}.{local}.{window} {host} {}", req.uri());
    if let Some((headers, body)) = cache.inner.lock().unwrap_or_else(|e| e.into_inner()).pages.get(&key).cloned() {
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
