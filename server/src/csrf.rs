//! CSRF defence for state-changing requests (OWASP "verify origin with standard headers").
//!
//! Session cookies are `SameSite=Lax`, so browsers do not send them on cross-site POSTs; on
//! top of that, a request with a method other than GET/HEAD/OPTIONS is refused (403) when
//! its `Origin` names another host, or when it has no `Origin` but `Sec-Fetch-Site` says
//! `cross-site`/`same-site`. Requests with neither header (non-browser clients) pass: they
//! carry no ambient browser credentials. Nor do API requests that authenticate with an
//! `Authorization: Bearer` key, which pass too.

use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// True if the request may proceed.
pub fn same_origin(method: &Method, headers: &axum::http::HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).is_some_and(|h| h.starts_with("Bearer ")) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        return Some(origin_host) == host;
    }
    !matches!(headers.get("sec-fetch-site").and_then(|h| h.to_str().ok()), Some("cross-site") | Some("same-site"))
}

/// Middleware form of [`same_origin`].
pub async fn layer(req: Request, next: Next) -> Response {
    if same_origin(req.method(), req.headers()) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn refuses_cross_site_posts_only() {
        assert!(same_origin(&Method::GET, &h(&[("host", "a.test"), ("origin", "https://evil.test")])));
        assert!(same_origin(&Method::POST, &h(&[("host", "a.test:3000"), ("origin", "http://a.test:3000")])));
        assert!(!same_origin(&Method::POST, &h(&[("host", "a.test"), ("origin", "https://evil.test")])));
        assert!(!same_origin(&Method::POST, &h(&[("host", "a.test"), ("origin", "null")])));
        assert!(!same_origin(&Method::DELETE, &h(&[("host", "a.test"), ("sec-fetch-site", "cross-site")])));
        assert!(same_origin(&Method::POST, &h(&[("host", "a.test"), ("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&Method::POST, &h(&[("host", "a.test")])));
        assert!(same_origin(&Method::POST, &h(&[("host", "a.test"), ("origin", "https://evil.test"), ("authorization", "Bearer dk_x")])));
    }
}
