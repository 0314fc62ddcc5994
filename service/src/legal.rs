//! Terms and privacy versions (SPEC §7): administrators publish versions (markdown, effective
//! date, material flag); the newest version in effect is current; a material version makes
//! every member accept again before creating or using the API. Before any version is
//! published, the built-in texts apply under `DARKROOM_TERMS_VERSION`.

use darkroom_store::accounts::LegalVersion;

use crate::{AppState, ServiceError};

/// The newest version of `doc` (`terms` or `privacy`) in effect at `now` (Unix ms), if any
/// was published.
pub async fn current(state: &AppState, doc: &str, now: i64) -> Result<Option<LegalVersion>, ServiceError> {
    Ok(state.store.legal_versions(doc).await?.into_iter().find(|v| v.effective_at <= now))
}

/// The terms version a new member accepts now.
pub async fn current_terms_version(state: &AppState, now: i64) -> Result<String, ServiceError> {
    Ok(current(state, "terms", now).await?.map_or_else(|| state.config.terms_version.clone(), |v| v.version))
}

/// The material terms version a member who accepted `accepted` still has to accept, if any:
/// the newest material version in effect, unless the member accepted it or a version in
/// effect after it.
pub async fn pending_terms(state: &AppState, accepted: &str, now: i64) -> Result<Option<String>, ServiceError> {
    Ok(state.store.pending_material_terms(accepted, now).await?)
}

/// Refuses members who must accept new terms first (SPEC §7); `accepted` is the version
/// they last accepted.
///
/// Errors: [`ServiceError::Forbidden`] naming the page where they accept.
pub async fn require_current_terms(state: &AppState, accepted: &str) -> Result<(), ServiceError> {
    match pending_terms(state, accepted, darkroom_store::now_ms()).await? {
        Some(v) => Err(ServiceError::Forbidden(format!("The terms changed (version {v}). Please read and accept them at /terms before creating."))),
        None => Ok(()),
    }
}

/// Checks an administrator's new version: document `terms`/`privacy`, a version label of
/// 1-40 characters (letters, digits, `.-_`), a body of 1-100,000 characters.
pub fn check_version(doc: &str, version: &str, body: &str) -> Result<(), ServiceError> {
    if doc != "terms" && doc != "privacy" {
        return Err(ServiceError::Invalid("The document is the terms or the privacy notice.".into()));
    }
    if version.is_empty() || version.len() > 40 || !version.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return Err(ServiceError::Invalid("The version is 1-40 letters, digits, dots, dashes or underscores.".into()));
    }
    if body.trim().is_empty() || body.chars().count() > 100_000 {
        return Err(ServiceError::Invalid("The text is 1 to 100,000 characters.".into()));
    }
    Ok(())
}

/// Renders an administrator's markdown (CommonMark via `pulldown-cmark`) as HTML for the
/// terms pages. Raw HTML in the source is shown as text, never passed through, and links
/// keep only `http(s):`, `mailto:` and relative targets.
pub fn to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag};
    let safe = |url: &str| url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:") || url.starts_with('/') || url.starts_with('#');
    let events = Parser::new(markdown).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: "#".into(), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: "#".into(), title, id })
        }
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_without_raw_html_or_script_links() {
        let html = to_html("# Terms\n\nBe **kind**. <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.com)");
        assert!(html.contains("<h1>Terms</h1>") && html.contains("<strong>kind</strong>"), "{html}");
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:") && html.contains("href=\"https://example.com\""), "{html}");
    }
}
