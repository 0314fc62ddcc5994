//! What others see (SPEC §4): the share-link page `/s/:token` (noindex), the public page
//! `/p/:id`, and Explore. Both item pages render their OpenGraph and Twitter card tags into
//! the `<head>` of the first HTML response (their routes render in `SsrMode::Async`), so
//! messenger previews work without JavaScript. Media come through signed, expiring URLs.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::moderation::ReportItem;
use crate::api::sharing::{explore, get_public_item, shared_item, LikeItem, PublicItem};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, server_message, NotFound, StyleFilter, TileCaption};

/// `/s/:token`: an item shared by link.
#[component]
pub fn SharePage() -> impl IntoView {
    let params = use_params_map();
    let item = Resource::new(move || params.with(|p| p.get("token").unwrap_or_default()), shared_item);
    view! { <ItemPageFrame item noindex=true/> }
}

/// `/p/:id`: a public item.
#[component]
pub fn PublicPage() -> impl IntoView {
    let params = use_params_map();
    let item = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), get_public_item);
    view! { <ItemPageFrame item noindex=false/> }
}

/// One `Suspense` that awaits the item alone (which says whether the viewer is signed in),
/// then renders the page. (Awaiting the page-wide session resource here as well, first in a
/// nested boundary and then beside the item, raced under load: on rare requests the server's
/// render never finished.)
#[component]
fn ItemPageFrame(item: Resource<Result<PublicItem, ServerFnError>>, noindex: bool) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match item.await {
                    Ok(i) => {
                        let signed_in = i.viewer_signed_in;
                        view! { <ItemView item=i noindex signed_in/> }.into_any()
                    }
                    Err(_) if noindex => view! { <Meta name="robots" content="noindex"/><NotFound/> }.into_any(),
                    Err(_) => view! { <NotFound/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

const REPORT_REASONS: [(&str, &str); 7] = [
    ("sexual", "report.sexual"),
    ("minors", "report.minors"),
    ("violence", "report.violence"),
    ("hate", "report.hate"),
    ("illegal", "report.illegal"),
    ("spam", "report.spam"),
    ("other", "report.other"),
];

#[component]
fn ItemView(item: PublicItem, noindex: bool, signed_in: bool) -> impl IntoView {
    let like = ServerAction::<LikeItem>::new();
    let report = ServerAction::<ReportItem>::new();
    let description = tf("public.description", &[("style", &item.style_label)]);
    let likes = RwSignal::new(item.likes);
    let liked = RwSignal::new(item.liked);
    Effect::new(move |_| {
        if let Some(Ok(n)) = like.value().get() {
            likes.set(n);
            liked.update(|l| *l = !*l);
        }
    });
    let (w, h) = (item.width.to_string(), item.height.to_string());
    let id = item.id.clone();
    let download = format!("{}&download=1", item.image_url);
    view! {
        <Title text=format!("{} · Darkroom", item.title)/>
        {noindex.then(|| view! { <Meta name="robots" content="noindex, nofollow"/> })}
        <Meta name="description" content=description.clone()/>
        <Meta property="og:type" content="website"/>
        <Meta property="og:site_name" content="Darkroom"/>
        <Meta property="og:title" content=item.title.clone()/>
        <Meta property="og:description" content=description.clone()/>
        <Meta property="og:image" content=item.og_image.clone()/>
        <Meta property="og:image:type" content="image/jpeg"/>
        <Meta property="og:image:width" content=item.og_width.to_string()/>
        <Meta property="og:image:height" content=item.og_height.to_string()/>
        <Meta property="og:image:alt" content=item.title.clone()/>
        <Meta property="og:url" content=item.page_url.clone()/>
        {item.og_video.clone().map(|v| view! { <Meta property="og:video" content=v/> })}
        {item.og_video.is_some().then(|| view! { <Meta property="og:video:type" content="video/mp4"/> })}
        {item.og_video.is_some().then(|| view! { <Meta property="og:video:width" content=item.width.to_string()/> })}
        {item.og_video.is_some().then(|| view! { <Meta property="og:video:height" content=item.height.to_string()/> })}
        <Meta name="twitter:card" content="summary_large_image"/>
        <Meta name="twitter:title" content=item.title.clone()/>
        <Meta name="twitter:description" content=description/>
        <Meta name="twitter:image" content=item.og_image.clone()/>
        <section class="page item public-item" data-testid="public-item">
            <h1 class="item-title">{item.title.clone()}</h1>
            <figure>
                {if item.video {
                    view! { <crate::pages::ResultVideo src=item.image_url.clone() poster=item.thumb_url.clone() width=item.width height=item.height/> }.into_any()
                } else {
                    view! {
                        <picture>
                            <source type="image/webp" srcset=item.srcset_webp.clone() sizes="(max-width: 900px) 100vw, 900px"/>
                            <img src=item.image_url.clone() srcset=item.srcset_jpeg.clone() sizes="(max-width: 900px) 100vw, 900px"
                                alt=item.title.clone() width=w height=h data-testid="shared-image"/>
                        </picture>
                    }.into_any()
                }}
                <figcaption><span class="label ai">{t("label.ai")}</span></figcaption>
            </figure>
            <p class="muted">
                {item.creator.clone().map(|c| view! { <span data-testid="creator">{tf("explore.by", &[("name", &c)])}</span> " · " })}
                {item.style_label.clone()} " · " {format_time(item.created_at)}
            </p>
            // A <div>, not a <p>: the like form inside may not sit in a paragraph (HTML).
            <div class="actions row">
                <a class="button" href=download download>{t("item.download")}</a>
                {item.public.then(|| if signed_in {
                    view! {
                        <ActionForm action=like attr:class="inline">
                            <input type="hidden" name="id" value=id.clone()/>
                            <input type="hidden" name="on" value=move || (!liked.get()).to_string()/>
                            <button type="submit" data-testid="like">
                                {move || if liked.get() { t("public.liked") } else { t("public.like") }} " · " {move || likes.get()}
                            </button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <span class="muted">{move || format!("♥ {}", likes.get())}</span> }.into_any()
                })}
            </div>
            <details class="report">
                <summary data-testid="report-open">{t("report.open")}</summary>
                {move || match report.value().get() {
                    Some(Ok(())) => view! { <p class="notice" data-testid="reported">{t("report.thanks")}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                    None => ().into_any(),
                }}
                <ActionForm action=report attr:class="stack">
                    <input type="hidden" name="id" value=item.id.clone()/>
                    <label>{t("col.reason")} " "
                        <select name="reason" data-testid="report-reason">
                            {REPORT_REASONS.map(|(v, l)| view! { <option value=v>{t(l)}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t("report.details")} " "<textarea name="note" rows="2" maxlength="1000"></textarea></label>
                    <button type="submit" data-testid="report-submit">{t("report.send")}</button>
                </ActionForm>
            </details>
        </section>
    }
}

/// `/explore`: public items, newest or top, of any or one style; "More" links page on
/// without JavaScript.
#[component]
pub fn ExploreFeed() -> impl IntoView {
    let query = use_query_map();
    let sort = move || query.with(|q| q.get("sort")).filter(|s| s == "top");
    let style = move || query.with(|q| q.get("style")).unwrap_or_default();
    let after = move || query.with(|q| q.get("after"));
    let page = Resource::new(move || (sort(), style(), after()), |(s, st, a)| explore(s, Some(st), a));
    let names = Resource::new(|| (), |_| crate::api::style_names());
    // Every link keeps the other choices: `/explore?sort=top&style=3`.
    let href = move |top: bool, after: Option<String>| {
        let mut q: Vec<String> = Vec::new();
        if top {
            q.push("sort=top".into());
        }
        if !style().is_empty() {
            q.push(format!("style={}", style()));
        }
        if let Some(a) = after {
            q.push(format!("after={a}"));
        }
        if q.is_empty() { "/explore".to_string() } else { format!("/explore?{}", q.join("&")) }
    };
    view! {
        <Title text=title("nav.explore")/>
        <section class="page">
            <h1>{t("nav.explore")}</h1>
            <nav class="tabs">
                <a href=move || href(false, None) class:active=move || sort().is_none() aria-current=move || sort().is_none().then_some("page") data-testid="sort-newest">{t("explore.newest")}</a>
                <a href=move || href(true, None) class:active=move || sort().is_some() aria-current=move || sort().is_some().then_some("page") data-testid="sort-top">{t("explore.top")}</a>
            </nav>
            <form method="get" action="/explore" class="filters row" on:change=crate::pages::apply_on_change>
                {move || sort().map(|s| view! { <input type="hidden" name="sort" value=s/> })}
                <label>{t("filter.style")} " " <StyleFilter names selected=Signal::derive(style) testid="explore-style"/></label>
                <button type="submit">{t("filter.apply")}</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    let p = match page.await {
                        Ok(p) => p,
                        Err(e) => return view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                    };
                    if p.items.is_empty() {
                        return view! { <p data-testid="explore-empty">{t("explore.empty")}</p> }.into_any();
                    }
                    // Reached only once the server accepted the style.
                    let next = p.next.map(|n| href(sort().is_some(), Some(n)));
                    view! {
                        <ul class="grid justified" data-testid="explore">
                            {p.items.into_iter().map(|i| {
                                let url = |v: &str| darkroom_contract::media::shared_url(&i.id, v, &i.grant);
                                let (webp, jpeg, thumb) = (crate::pages::srcset(i.width, "webp", url), crate::pages::srcset(i.width, "jpg", url), url("thumb"));
                                let (caption, creator) = (i.title.clone(), i.creator.clone());
                                view! {
                                <li class=crate::pages::tile_ratio(i.width, i.height) data-job-id=i.id.clone()>
                                    <A href=format!("/p/{}", i.id)>
                                        <picture>
                                            <source type="image/webp" srcset=webp sizes="(max-width: 600px) 50vw, 256px"/>
                                            <img src=thumb srcset=jpeg sizes="(max-width: 600px) 50vw, 256px" alt=i.title loading="lazy"/>
                                        </picture>
                                    </A>
                                    <TileCaption title=caption created_at=i.created_at creator=creator/>
                                    <span class="label ai">{t("label.ai")}</span>
                                    {i.video.then(|| view! { <span class="label video" data-testid="video-mark">{t("label.video")}</span> })}
                                    <span class="label likes">{format!("♥ {}", i.likes)}</span>
                                </li>
                            }}).collect_view()}
                        </ul>
                        {next.map(|href| view! { <p class="more"><a class="button" href=href rel="next" data-testid="more">{t("explore.more")}</a></p> })}
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}
