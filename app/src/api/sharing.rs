//! Sharing server functions (SPEC §4): the owner's visibility, share links and showcase
//! consent; the share-link page, the public page and Explore for everyone; likes. Rules live
//! in `darkroom_service::sharing` and the store; media for others go through signed URLs.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A share link as its owner sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LinkView {
    pub id: String,
    /// Unix ms, `None` = never.
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub expired: bool,
    pub views: i64,
    pub created_at: i64,
}

/// The owner's sharing settings for one item.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SharingView {
    pub visibility: crate::api::Visibility,
    pub links: Vec<LinkView>,
    /// The owner allows the operator to showcase the item.
    pub showcase: bool,
    /// The owner has confirmed the publishing notice once ([`set_visibility`]'s `reviewed`).
    pub publish_reviewed: bool,
}

/// An item as others see it (share-link page, public page, Explore).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PublicItem {
    pub id: String,
    /// The prompt, or the style when there is none.
    pub title: String,
    pub style_label: String,
    /// Result size, pixels.
    pub width: i64,
    pub height: i64,
    /// Signed, expiring URLs (relative) of the result (PNG with content credentials) and
    /// the 512-px thumbnail, and `srcset` values over the WebP and JPEG renditions.
    pub image_url: String,
    pub thumb_url: String,
    pub srcset_webp: String,
    pub srcset_jpeg: String,
    /// Absolute URLs for link previews (OpenGraph / Twitter cards): the 1200-wide JPEG
    /// rendition under the share link or public page (it answers as long as they do, unlike a
    /// signed URL) and its size in pixels.
    pub og_image: String,
    pub og_width: i64,
    pub og_height: i64,
    /// The page's canonical address (`og:url`): the share link on a share page, `/p/<id>` on
    /// a public page.
    pub page_url: String,
    /// All-time likes, and whether the viewer is among them.
    pub likes: i64,
    pub liked: bool,
    pub created_at: i64,
    /// Listed in Explore (public) or only reachable by link.
    pub public: bool,
    /// The viewer is signed in (item pages show like and report to members). Answered with
    /// the item, so the page awaits one resource, not the item and the shared session too.
    #[serde(default)]
    pub viewer_signed_in: bool,
    /// The result is a clip: `image_url` is its MP4/WebM, `thumb_url` its poster frame.
    #[serde(default)]
    pub video: bool,
    /// For an MP4 clip, its absolute URL under the share link or public page (`og:video`),
    /// which lives as long as they do.
    #[serde(default)]
    pub og_video: Option<String>,
    /// The owner's display name, if they show it with their public items (on public pages
    /// only: a share link names nobody).
    #[serde(default)]
    pub creator: Option<String>,
}

/// A tile of Explore: what the grid shows of a public item. Its files' URLs are built from
/// `grant` ([`darkroom_contract::media::shared_url`]), so the page's data carries one
/// signature per item rather than one URL per rendition.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExploreItem {
    pub id: String,
    /// The prompt, or the style when there is none.
    pub title: String,
    /// Result size, pixels.
    pub width: i64,
    pub height: i64,
    /// The signed query (`exp=…&sig=…`) that opens the item's files until it expires.
    pub grant: String,
    /// All-time likes, and whether the viewer is among them.
    pub likes: i64,
    pub liked: bool,
    /// The item is a clip: the tile shows its poster with a video mark.
    #[serde(default)]
    pub video: bool,
    /// When it was made, milliseconds since the Unix epoch.
    #[serde(default)]
    pub created_at: i64,
    /// The owner's display name, if they show it with their public items.
    #[serde(default)]
    pub creator: Option<String>,
}

/// One page of Explore.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExplorePage {
    pub items: Vec<ExploreItem>,
    /// The `after` value of the next page, if there is one.
    pub next: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use darkroom_service::sharing::now_secs;
    use darkroom_service::{AppState, ServiceError};
    use darkroom_store::jobs::Job;
    use leptos::prelude::*;

    use super::{ExploreItem, PublicItem};

    pub fn err(e: impl Into<ServiceError>) -> ServerFnError {
        crate::api::ssr::fail(e.into())
    }

    /// The site's address for absolute links: `DARKROOM_PUBLIC_URL`, else this request's host
    /// (`darkroom_service::api::base_for`, which the API uses too).
    pub async fn base_url(state: &AppState) -> String {
        let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
        darkroom_service::api::base_for(state, headers.get("host").and_then(|h| h.to_str().ok()))
    }

    /// The title others see: the prompt, or the style's name (from `names`,
    /// `crate::api::ssr::style_names`) when there is none.
    fn title(job: &Job, names: &[String]) -> (String, String) {
        let style_label = crate::api::ssr::job_view(job.clone(), None, names).style_label;
        let title = if job.prompt.is_empty() { style_label.clone() } else { job.prompt.clone() };
        (title, style_label)
    }

    /// An Explore tile of `job` with its grant for this signing window.
    pub fn explore_item(state: &AppState, job: &Job, likes: i64, creator: Option<String>, names: &[String]) -> ExploreItem {
        ExploreItem {
            id: job.id.clone(),
            title: title(job, names).0,
            width: job.result_width.unwrap_or(0),
            height: job.result_height.unwrap_or(0),
            grant: state.signer.grant(&job.id, now_secs()),
            likes,
            liked: false,
            video: job.result_key.as_deref().is_some_and(darkroom_service::media::is_video),
            created_at: job.created_at,
            creator,
        }
    }

    /// The item as its share page or public page shows it; `preview` is the path of its link
    /// preview image (`og:image`), which lives as long as the link or the page.
    pub fn public_item(state: &AppState, base: &str, job: Job, likes: i64, liked: bool, preview: &str, names: &[String]) -> PublicItem {
        let grant = state.signer.grant(&job.id, now_secs());
        let sign = |v: &str| darkroom_contract::media::shared_url(&job.id, v, &grant);
        let image_url = sign("result");
        let (title, style_label) = title(&job, names);
        let (w, h) = (job.result_width.unwrap_or(0), job.result_height.unwrap_or(0));
        let og_width = crate::pages::renditions_for(w).last().map_or(1200, |r| r.1);
        PublicItem {
            thumb_url: sign("thumb"),
            srcset_webp: crate::pages::srcset(w, "webp", sign),
            srcset_jpeg: crate::pages::srcset(w, "jpg", sign),
            og_image: format!("{base}{preview}"),
            og_width: og_width as i64,
            og_height: if w > 0 { (h * og_width as i64 + w / 2) / w } else { 0 },
            page_url: format!("{base}/p/{}", job.id),
            image_url,
            id: job.id,
            title,
            style_label,
            width: job.result_width.unwrap_or(0),
            height: job.result_height.unwrap_or(0),
            likes,
            liked,
            created_at: job.created_at,
            public: job.visibility == crate::api::Visibility::Public,
            viewer_signed_in: false,
            video: job.result_key.as_deref().is_some_and(darkroom_service::media::is_video),
            og_video: job.result_key.as_deref().filter(|k| darkroom_service::media::original_mime(k) == "video/mp4").map(|_| {
                let dir = preview.strip_suffix(darkroom_service::sharing::PREVIEW_FILE).unwrap_or(preview);
                format!("{base}{dir}{}", darkroom_service::sharing::PREVIEW_VIDEO_FILE)
            }),
            creator: None,
        }
    }
}

/// The owner's sharing settings for an item.
#[server(endpoint = "item_sharing")]
pub async fn item_sharing(id: String) -> Result<SharingView, ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    let job = state.store.job(&id, &user.id).await.map_err(ssr::err)?;
    let now = darkroom_store::now_ms();
    let links = state.store.share_links(&id, &user.id).await.map_err(ssr::err)?;
    let owner = state.store.user(&user.id).await.map_err(ssr::err)?;
    Ok(SharingView {
        publish_reviewed: owner.publish_reviewed_at.is_some(),
        visibility: job.visibility,
        showcase: job.showcase_at.is_some(),
        links: links
            .into_iter()
            .map(|l| LinkView {
                expired: l.expires_at.is_some_and(|t| t <= now),
                id: l.id,
                expires_at: l.expires_at,
                revoked: l.revoked_at.is_some(),
                views: l.views,
                created_at: l.created_at,
            })
            .collect(),
    })
}

/// Sets an item's visibility: `private`, `link` or `public` (owner only).
///
/// The first time a member makes an item public they confirm that AI output may be
/// inaccurate and that they reviewed it (`reviewed` = `on`, the form's checkbox); the
/// confirmation is recorded and not asked again. Errors: `Invalid` for an unknown visibility
/// or a first public item without the confirmation (nothing changes); the store's.
#[server(endpoint = "set_visibility")]
pub async fn set_visibility(id: String, visibility: String, reviewed: Option<String>) -> Result<(), ServerFnError> {
    use darkroom_service::ServiceError;
    let (state, user) = crate::api::ssr::member().await?;
    let Ok(visibility) = visibility.parse::<crate::api::Visibility>() else {
        return Err(ssr::err(ServiceError::Invalid("Visibility is private, link or public.".into())));
    };
    if visibility == crate::api::Visibility::Public && state.store.user(&user.id).await.map_err(ssr::err)?.publish_reviewed_at.is_none() {
        if reviewed.as_deref() != Some("on") {
            return Err(ssr::err(ServiceError::Invalid(
                "AI output may be inaccurate. Review the result, then tick the box to confirm before publishing it.".into(),
            )));
        }
        state.store.mark_publish_reviewed(&user.id).await.map_err(ssr::err)?;
    }
    state.store.set_visibility(&id, &user.id, visibility).await.map_err(ssr::err)?;
    Ok(())
}

/// Makes a share link (owner only); `days` is `1`, `7`, `30` or `never`. Returns the link's
/// full address: the token is shown this once.
#[server(endpoint = "create_share_link")]
pub async fn create_share_link(id: String, days: String) -> Result<String, ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    let days = if days == "never" { None } else { Some(days.parse::<i64>().unwrap_or(-1)) };
    let (_, token) = darkroom_service::sharing::create_link(&state, &user.id, &id, days).await.map_err(ssr::err)?;
    Ok(format!("{}/s/{token}", ssr::base_url(&state).await))
}

/// Revokes one of the owner's share links.
#[server(endpoint = "revoke_share_link")]
pub async fn revoke_share_link(id: String) -> Result<(), ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    state.store.revoke_share_link(&id, &user.id).await.map_err(ssr::err)?;
    Ok(())
}

/// Sets the owner's showcase consent (`on` = `"true"`).
#[server(endpoint = "set_showcase")]
pub async fn set_showcase(id: String, on: String) -> Result<(), ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    state.store.set_showcase(&id, &user.id, on == "true").await.map_err(ssr::err)?;
    Ok(())
}

/// The item behind a share link (anyone). 404 for every reason it is not there.
#[server(endpoint = "shared_item")]
pub async fn shared_item(token: String) -> Result<PublicItem, ServerFnError> {
    let state = crate::api::ssr::state()?;
    let viewer = crate::api::ssr::auth().await?.user.map(|u| u.id);
    let job = darkroom_service::sharing::open_link(&state, &token).await.map_err(ssr::err)?;
    let (likes, liked) = state.store.likes(&job.id, viewer.as_deref()).await.map_err(ssr::err)?;
    let base = ssr::base_url(&state).await;
    // The page's own address is the share link: a link-only item has no public page.
    let page_url = format!("{base}/s/{token}");
    let preview = darkroom_service::sharing::link_preview_path(&token);
    let names = crate::api::ssr::style_names(&state).await?;
    Ok(PublicItem { viewer_signed_in: viewer.is_some(), page_url, ..ssr::public_item(&state, &base, job, likes, liked, &preview, &names) })
}

/// A public item (anyone). 404 unless it is public and viewable.
#[server(endpoint = "get_public_item")]
pub async fn get_public_item(id: String) -> Result<PublicItem, ServerFnError> {
    let state = crate::api::ssr::state()?;
    let viewer = crate::api::ssr::auth().await?.user.map(|u| u.id);
    let job = state.store.public_job(&id).await.map_err(ssr::err)?;
    let (likes, liked) = state.store.likes(&job.id, viewer.as_deref()).await.map_err(ssr::err)?;
    let base = ssr::base_url(&state).await;
    let preview = darkroom_service::sharing::public_preview_path(&job.id);
    let creator = state.store.public_name(&job.user_id).await.map_err(ssr::err)?;
    let names = crate::api::ssr::style_names(&state).await?;
    Ok(PublicItem { viewer_signed_in: viewer.is_some(), creator, ..ssr::public_item(&state, &base, job, likes, liked, &preview, &names) })
}

/// Items the home page shows.
pub const SHOWCASE_ITEMS: i64 = 8;

/// The home page's showcase (anyone): public items whose owners gave showcase consent, at
/// most [`SHOWCASE_ITEMS`], as a heading and a justified grid of tiles, rendered here as HTML
/// in the viewer's language (every member-written text escaped) so the first page a visitor
/// loads carries no code for them. Empty when there is nothing to show.
#[server(endpoint = "showcase")]
pub async fn showcase() -> Result<String, ServerFnError> {
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
    let state = crate::api::ssr::state()?;
    let lang = crate::i18n::read_prefs().lang;
    let jobs = state.store.showcase(SHOWCASE_ITEMS).await.map_err(ssr::err)?;
    if jobs.is_empty() {
        return Ok(String::new());
    }
    let mut html = format!("<h2>{}</h2><ul class=\"grid justified\">", text(crate::i18n::tr(&lang, "home.showcase")));
    let names = darkroom_service::styles::names(&state, &lang).await.map_err(ssr::err)?;
    for job in &jobs {
        let item = ssr::explore_item(&state, job, 0, None, &names);
        let src = darkroom_contract::media::shared_url(&item.id, "w512.jpg", &item.grant);
        html.push_str(&format!(
            "<li class=\"{class}\" data-job-id=\"{id}\"><a href=\"/p/{id}\"><img src=\"{src}\" alt=\"{alt}\" loading=\"lazy\"/></a><span class=\"label ai\">{label}</span></li>",
            class = crate::pages::tile_ratio(item.width, item.height),
            id = attr(&item.id),
            src = attr(&src),
            alt = attr(&item.title),
            label = text(crate::i18n::tr(&lang, "label.ai")),
        ));
    }
    html.push_str("</ul>");
    Ok(html)
}

/// Items per Explore page.
pub const EXPLORE_PAGE: i64 = 24;

/// One page of Explore (anyone): `sort` is `newest` or `top` (likes in the last 7 days);
/// `style` a style's index (empty: any; out of range: 400); `after` is the previous page's
/// `next`.
#[server(endpoint = "explore")]
pub async fn explore(sort: Option<String>, style: Option<String>, after: Option<String>) -> Result<ExplorePage, ServerFnError> {
    use darkroom_store::sharing::{Cursor, Sort};
    let state = crate::api::ssr::state()?;
    let viewer = crate::api::ssr::auth().await?.user.map(|u| u.id);
    let sort = if sort.as_deref() == Some("top") { Sort::Top } else { Sort::Newest };
    let cursor = after.as_deref().and_then(|a| {
        let (likes, id) = a.split_once('.')?;
        Some(Cursor { likes: likes.parse().ok()?, id: id.to_string() })
    });
    let style = crate::api::ssr::style_filter(style.as_deref())?;
    // The page with its grants is the same for every viewer within one signing window
    // (`UrlSigner::expiry`): built once per feed change, then only the viewer's likes are
    // marked.
    // Titles without a prompt are style names in the viewer's language: one form per language.
    let lang = crate::i18n::read_prefs().lang;
    let names = darkroom_service::styles::names(&state, &lang).await.map_err(ssr::err)?;
    let form = format!("{}.{lang}", state.signer.expiry(darkroom_service::sharing::now_secs()));
    let page = state
        .feed
        .page_as(sort, style, cursor.as_ref(), EXPLORE_PAGE + 1, &form, |rows| {
            let more = rows.len() as i64 > EXPLORE_PAGE;
            let items: Vec<ExploreItem> = rows.iter().take(EXPLORE_PAGE as usize).map(|row| ssr::explore_item(&state, &row.job, row.likes, row.creator.clone(), &names)).collect();
            (items, more)
        })
        .await
        .map_err(ssr::err)?;
    let (items, more) = (&page.0, page.1);
    let liked = match &viewer {
        Some(v) => {
            let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
            state.store.liked_among(v, &ids).await.map_err(ssr::err)?
        }
        None => Default::default(),
    };
    let items: Vec<ExploreItem> = items.iter().map(|i| ExploreItem { liked: liked.contains(&i.id), ..i.clone() }).collect();
    let next = more.then(|| items.last().map(|i| format!("{}.{}", i.likes, i.id))).flatten();
    Ok(ExplorePage { items, next })
}

/// Likes (`on` = `"true"`) or unlikes a public item (members). Returns the new count.
#[server(endpoint = "like_item")]
pub async fn like_item(id: String, on: String) -> Result<i64, ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    state.store.like(&id, &user.id, on == "true").await.map_err(ssr::err)
}
