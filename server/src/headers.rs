//! Security headers on every response (OWASP Secure Headers Project's recommendations), set
//! only where a route has not set its own:
//! - `X-Content-Type-Options: nosniff`: browsers take the declared type, never guess one;
//! - `Referrer-Policy: strict-origin-when-cross-origin`: other sites see only the origin, so
//!   a share link's token (`/s/<token>`) never leaves in a `Referer`;
//! - `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none';
//!   base-uri 'self'; object-src 'none'`: no page can be framed (clickjacking), no `<base>`
//!   can move relative links, no plugin content. Scripts and styles are not restricted here
//!   yet: Leptos' hydration writes inline scripts, which need a per-response nonce;
//! - with `DARKROOM_SECURE_COOKIES=true` (the site is served over HTTPS),
//!   `Strict-Transport-Security: max-age=31536000; includeSubDomains` (RFC 6797).

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy's text.
pub const CSP: &str = "frame-ancestors 'none'; base-uri 'self'; object-src 'none'";
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
