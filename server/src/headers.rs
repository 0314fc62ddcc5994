//! Security headers on every response (OWASP Secure Headers Project's recommendations), set
//! only where a route has not set its own:
//! - `X-Content-Type-Options: nosniff`: browsers take the declared type, never guess one;
//! - `Referrer-Policy: strict-origin-when-cross-origin`: other sites see only the origin, so
//!   a share link's token (`/s/<token>`) never leaves in a `Referer`;
//! - `X-Frame-Options: DENY` and a Content Security Policy: rendered pages carry their own
//!   (`app::page_policy`: scripts from this origin or with the response's nonce, which Leptos
//!   puts on each inline script it writes; styles, images and connections from this origin);
//!   every other response gets [`CSP`] (no script at all: an API answer, the API reference or
//!   an image opened directly runs nothing; its stylesheet comes from this origin); neither can be framed (clickjacking), no `<base>` can move
//!   relative links, no plugin content;
//! - with `DARKROOM_SECURE_COOKIES=true` (the site is served over HTTPS),
//!   `Strict-Transport-Security: max-age=31536000; includeSubDomains` (RFC 6797).

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of every response that is not a rendered page.
pub const CSP: &str = "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";
/// HSTS for a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Adds the headers to every response of `router` that lacks them; HSTS when `https`.
pub fn apply(router: Router, https: bool) -> Router {
    let set = |name: header::HeaderName, value: &'static str| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    let router = router
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::CONTENT_SECURITY_POLICY, CSP));
    if https {
        router.layer(set(header::STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        router
    }
}

/// A stored page served again (the Explore cache): the response's nonce is replaced by a
/// fresh one in its policy and wherever the page wrote it, so no two responses share a nonce.
/// A page without a nonce in its policy is returned as it is.
pub fn renew_nonce(mut headers: axum::http::HeaderMap, body: axum::body::Bytes) -> (axum::http::HeaderMap, axum::body::Bytes) {
    let old = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .and_then(|p| p.split("'nonce-").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .map(str::to_string);
    let (Some(old), Ok(text)) = (old, std::str::from_utf8(&body)) else { return (headers, body) };
    let new = leptos::nonce::Nonce::new().to_string();
    let Ok(policy) = HeaderValue::from_str(&app::page_policy(&new)) else { return (headers, body) };
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    (headers, axum::body::Bytes::from(text.replace(&old, &new)))
}
