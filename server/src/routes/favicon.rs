//! `GET /favicon.svg`: the site's icon (a darkroom's red safelight ring on black), linked from
//! every page's `<head>`. SVG, so one small file is sharp at every size; cached for a day.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The icon, 64×64 user units.
pub const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1d1c1a"/><circle cx="32" cy="32" r="17" fill="none" stroke="#b4452a" stroke-width="6"/><circle cx="32" cy="32" r="6" fill="#f6f5f2"/></svg>"##;

pub async fn get() -> Response {
    let mut resp = SVG.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    resp
}
