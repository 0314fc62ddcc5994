//! My gallery (private by default) and the item page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::sharing::{item_sharing, CreateShareLink, RevokeShareLink, SetShowcase, SetVisibility, SharingView};
use crate::api::{gallery_page, get_job, item_nav, DeleteJob, GalleryChunk, ItemNeighbours, JobStatus, RunAgain, Visibility};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, MembersOnly, TileCaption, NotFound, ResultPicture, ResultVideo, SignInPrompt, StyleFilter};

#[component]
pub fn GalleryPage() -> impl IntoView {
    // Made above `MembersOnly`, whose `Suspend` may run its children several times on the
    // server: a resource made inside was fetched once per run, and a job finishing between
    // two runs made the HTML and the hydrated data differ.
    let query = use_query_map();
    let q = move |k: &'static str| query.with(|m| m.get(k));
    let jobs = Resource::new(
        move || (q("status").unwrap_or_else(|| JobStatus::Succeeded.to_string()), q("style").unwrap_or_default(), q("from").unwrap_or_default(), q("to").unwrap_or_default(), q("before")),
        |(s, st, f, t, b)| gallery_page(Some(s), Some(st), Some(f), Some(t), b),
    );
    let names = Resource::new(|| (), |_| crate::api::style_names());
    view! {
        <Title text=title("nav.gallery")/>
        <MembersOnly>
            <Gallery jobs names/>
        </MembersOnly>
    }
}

const FILTERS: [(&str, &str); 5] = [
    (JobStatus::Succeeded.as_str(), "status.succeeded"),
    (JobStatus::Rejected.as_str(), "gallery.f.rejected"),
    (JobStatus::Failed.as_str(), "status.failed"),
    (JobStatus::Canceled.as_str(), "status.canceled"),
    (crate::api::GALLERY_ALL, "gallery.f.all"),
];

#[component]
fn Gallery(jobs: Resource<Result<GalleryChunk, ServerFnError>>, names: Resource<Result<Vec<String>, ServerFnError>>) -> impl IntoView {
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status")).unwrap_or_else(|| JobStatus::Succeeded.to_string());
    let param = move |k: &'static str| move || query.with(|q| q.get(k)).unwrap_or_default();
    let (style, from, to) = (param("style"), param("from"), param("to"));
    let deleted = move || query.with(|q| q.get("deleted"));
    view! {
        <section class="page">
            <h1>{t("nav.gallery")}</h1>
            <p class="muted">{t("gallery.private")}</p>
            {move || deleted().map(|n| view! { <p class="notice" role="status" data-testid="deleted">{tf("gallery.deleted", &[("n", &n)])}</p> })}
            <form method="get" action="/gallery" class="filters row" on:change=crate::pages::apply_on_change>
                <label>{t("filter.show")} " "
                    <select name="status" data-testid="gallery-filter">
                        {FILTERS.map(|(v, l)| view! { <option value=v selected=move || status() == v>{t(l)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t("filter.style")} " " <StyleFilter names selected=Signal::derive(style) testid="gallery-style"/></label>
                <label>{t("filter.from")} " " <input type="date" name="from" value=from data-testid="gallery-from"/></label>
                <label>{t("filter.to")} " " <input type="date" name="to" value=to data-testid="gallery-to"/></label>
                <button type="submit">{t("filter.apply")}</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    // The filters reach the "Older" link only once the server accepted them.
                    let page = match jobs.await {
                        Ok(p) => p,
                        Err(e) => return view! { <p class="notice error" data-testid="gallery-error">{crate::pages::server_message(&e)}</p> }.into_any(),
                    };
                    if page.items.is_empty() && (status() != JobStatus::Succeeded.as_str() || !(style().is_empty() && from().is_empty() && to().is_empty())) {
                        return view! { <p data-testid="gallery-empty">{t("gallery.no_match")}</p> }.into_any();
                    }
                    if page.items.is_empty() {
                        return view! { <p data-testid="gallery-empty">{t("gallery.empty")} " " <A href="/create">{t("gallery.create_something")}</A></p> }.into_any();
                    }
                    let next = page.next.map(|n| format!("/gallery?status={}&style={}&from={}&to={}&before={n}", status(), style(), from(), to()));
                    view! {
                        // A plain form: selecting and deleting works without JavaScript too.
                        <form method="post" action="/gallery/delete" data-testid="gallery-form">
                            <ul class="grid justified" data-testid="gallery">
                                {page.items
                                    .into_iter()
                                    .map(|j| {
                                        let href = format!("/gallery/{}", j.id);
                                        let tile_media = j.id.clone();
                                        let alt = if j.prompt.is_empty() { j.style_label.clone() } else { j.prompt.clone() };
                                        let alt_caption = alt.clone();
                                        let shows_image = j.status == JobStatus::Succeeded && !j.hidden;
                                        let (tile_id, pick_id) = (j.id.clone(), j.id.clone());
                                        let placeholder = if j.hidden { t("gallery.hidden") } else { crate::pages::create::status_label(j.status) };
                                        view! {
                                            <li class=crate::pages::tile_ratio(j.width.unwrap_or(1), j.height.unwrap_or(1)) data-job-id=tile_id>
                                                <A href=href>
                                                    {if shows_image {
                                                        view! {
                                                            <ResultPicture width=j.width.unwrap_or(512) height=j.height.unwrap_or(512) alt lazy=true
                                                                sizes="(max-width: 600px) 50vw, 256px"
                                                                url=Callback::new(move |v: String| format!("/media/{tile_media}/{v}"))/>
                                                        }.into_any()
                                                    } else {
                                                        view! { <div class="placeholder hidden-item">{placeholder}</div> }.into_any()
                                                    }}
                                                </A>
                                                <TileCaption title=alt_caption created_at=j.created_at creator=None/>
                                                <span class="label ai">{t("label.ai")}</span>
                                                {j.video.then(|| view! { <span class="label video" data-testid="video-mark">{t("label.video")}</span> })}
                                                <label class="pick" title=t("gallery.select")>
                                                    <input type="checkbox" name="id" value=pick_id aria-label=t("gallery.select")/>
                                                </label>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <p class="row">
                                <button type="submit" class="danger" data-testid="delete-selected">{t("gallery.delete_selected")}</button>
                                {next.map(|href| view! { <a class="button" href=href rel="next" data-testid="older">{t("gallery.older")}</a> })}
                            </p>
                        </form>
                    }
                        .into_any()
                })}
            </Transition>
        </section>
    }
}

/// Links to the member's next newer and older items (the gallery's order), as `rel=prev` and
/// `rel=next`. Always one element (hydration).
#[component]
fn ItemNavLinks(nav: ItemNeighbours) -> impl IntoView {
    view! {
        <nav class="item-nav" aria-label=t("item.nav")>
            {nav.newer.map(|id| view! { <a href=format!("/gallery/{id}") rel="prev" data-testid="newer">{t("item.newer")}</a> })}
            {nav.older.map(|id| view! { <a href=format!("/gallery/{id}") rel="next" data-testid="older-item">{t("item.older")}</a> })}
        </nav>
    }
}

/// The download choices: an image's original PNG (with its content credentials) and its
/// 1200-wide WebP and JPEG; a clip's file and its poster frame as JPEG.
#[component]
fn Downloads(id: String, href: String, video: bool) -> impl IntoView {
    let other = |variant: &str| format!("/media/{id}/{variant}?download=1");
    let (webp, jpeg) = (other("w1200.webp"), other("w1200.jpg"));
    view! {
        <span class="downloads" role="group" aria-label=t("item.download")>
            <a class="button" href=href download data-testid="download">{t(if video { "item.download_clip" } else { "item.download_png" })}</a>
            {(!video).then(|| view! { <a class="button" href=webp download data-testid="download-webp">"WebP"</a> })}
            <a class="button" href=jpeg download data-testid="download-jpeg">{t(if video { "item.download_poster" } else { "item.download_jpeg" })}</a>
        </span>
    }
}

/// The result at full size over the page when clicked (its original PNG); a click or Escape
/// closes it. Without JavaScript the picture stays as it is.
#[component]
fn Zoomable(id: String, alt: String, children: Children) -> impl IntoView {
    let open = RwSignal::new(false);
    let full = format!("/media/{id}/result");
    let overlay = NodeRef::<leptos::html::Div>::new();
    // Focus moves to the open overlay, so Escape reaches it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = overlay.get() {
            let _ = el.focus();
        }
    });
    view! {
        <button type="button" class="zoom" aria-label=t("item.zoom") data-testid="zoom" on:click=move |_| open.set(true)>
            {children()}
        </button>
        {move || open.get().then(|| view! {
            <div class="lightbox" role="dialog" aria-modal="true" aria-label=t("item.zoom") tabindex="-1" data-testid="lightbox" node_ref=overlay
                on:click=move |_| open.set(false)
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
                <img src=full.clone() alt=alt.clone()/>
            </div>
        })}
    }
}

/// The result against the member's own photo: the photo shows left of the slider's position.
/// Both are shown at the result's size (`width`×`height` pixels).
#[component]
fn BeforeAfter(id: String, width: i64, height: i64) -> impl IntoView {
    let pos = RwSignal::new(50i64);
    let frame = NodeRef::<leptos::html::Div>::new();
    // The position reaches the stylesheet as `--pos` through the CSSOM, which the page's
    // Content-Security-Policy (`style-src 'self'`, no inline style attributes) allows. Until
    // the page is interactive the stylesheet's default, 50%, applies.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let p = format!("{}%", pos.get());
        if let Some(el) = frame.get() {
            let _ = web_sys::HtmlElement::style(&el).set_property("--pos", &p);
        }
    });
    view! {
        <div class="before-after" data-testid="before-after" node_ref=frame>
            <div class="ba-frame">
                <img src=format!("/media/{id}/w1200.jpg") alt=t("item.after") width=width.to_string() height=height.to_string()/>
                <img class="before" src=format!("/media/{id}/upload") alt=t("item.before") width=width.to_string() height=height.to_string()/>
            </div>
            <input type="range" min="0" max="100" prop:value=move || pos.get().to_string() aria-label=t("item.compare") data-testid="compare"
                on:input=move |ev| pos.set(event_target_value(&ev).parse().unwrap_or(50))/>
        </div>
    }
}

/// One item of the member's gallery. Unlike the other members' pages this is not wrapped in
/// [`MembersOnly`]: its resources are made here, at the top of the component, and one
/// `Transition` awaits the session and the item together. A resource made inside a nested
/// `Suspend` intermittently hydrated against another run's data (the sharing panel was
/// rendered by the server and missing in the browser), which killed the page.
#[component]
pub fn ItemPage() -> impl IntoView {
    let session = expect_context::<crate::Session>();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let delete = ServerAction::<DeleteJob>::new();
    let again = ServerAction::<RunAgain>::new();
    let actions = SharingActions {
        visibility: ServerAction::new(),
        create: ServerAction::new(),
        revoke: ServerAction::new(),
        showcase: ServerAction::new(),
    };
    crate::toast::toast_on_success(actions.visibility, t("sharing.saved"));
    crate::toast::toast_on_success(actions.showcase, t("sharing.saved"));
    crate::toast::toast_on_success(actions.revoke, t("sharing.link_revoked"));
    // The item and its sharing settings load together and again after each sharing action.
    let job = Resource::new(
        move || (id(), actions.visibility.version().get(), actions.create.version().get(), actions.revoke.version().get(), actions.showcase.version().get()),
        |(id, ..)| async move { (get_job(id.clone()).await, item_sharing(id.clone()).await.ok(), item_nav(id).await.unwrap_or_default()) },
    );
    view! {
        <Title text=title("item.title")/>
        <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                let (me, item) = (session.me.await, job.await);
                if !matches!(me, Ok(Some(_))) {
                    return view! { <SignInPrompt/> }.into_any();
                }
                let (Ok(j), sharing, nav) = item else { return view! { <NotFound/> }.into_any() };
                let download = format!("/media/{}/result?download=1", j.id);
                let shown = j.status == JobStatus::Succeeded && !j.hidden;
                let (again_id, again_key, cost, input_href) = (j.id.clone(), j.again_key.clone(), j.cost, format!("/create?input={}", j.id));
                let can_again = j.template.is_some() && j.status.is_terminal();
                view! {
                    <section class="page item">
                        {j.hidden.then(|| view! {
                            <p class="notice error" role="status" data-testid="hidden-notice">
                                {tf("item.hidden", &[("category", &crate::api::moderation::category_label(j.moderation_category.unwrap_or(crate::api::Category::Other).as_str()))])}
                            </p>
                        })}
                        {(j.status == JobStatus::Review).then(|| view! {
                            <p class="notice" role="status">{t("item.in_review")}</p>
                        })}
                        <ItemNavLinks nav=nav.clone()/>
                        {(!j.prompt.is_empty()).then(|| view! { <h1 class="item-title">{j.prompt.clone()}</h1> })}
                        <figure>
                            {(shown && !j.video).then(|| {
                                let (media, zoom_id, alt, zoom_alt) = (j.id.clone(), j.id.clone(), j.style_label.clone(), j.style_label.clone());
                                let (width, height) = (j.width.unwrap_or(1200), j.height.unwrap_or(1200));
                                view! {
                                    <Zoomable id=zoom_id alt=zoom_alt>
                                        <ResultPicture width height alt
                                            sizes="(max-width: 900px) 100vw, 900px" testid="result"
                                            url=Callback::new(move |v: String| format!("/media/{media}/{v}"))/>
                                    </Zoomable>
                                }
                            })}
                            {(j.status == JobStatus::Succeeded && !j.hidden && j.video).then(|| view! {
                                <ResultVideo src=format!("/media/{}/result", j.id) poster=format!("/media/{}/w1200.jpg", j.id)
                                    width=j.width.unwrap_or(512) height=j.height.unwrap_or(512)/>
                            })}
                            <figcaption>
                                <span class="label ai">{t("label.ai")}</span>
                                " "
                                <span class="label">{if j.visibility == Visibility::Private { t("item.private") } else { t("item.shared") }}</span>
                            </figcaption>
                        </figure>
                        {(shown && !j.video && nav.before).then(|| view! {
                            <details class="compare" data-testid="compare-open">
                                <summary>{t("item.compare")}</summary>
                                <BeforeAfter id=j.id.clone() width=j.width.unwrap_or(1200) height=j.height.unwrap_or(1200)/>
                            </details>
                        })}
                        <dl class="details">
                            <dt>{t("item.status")}</dt><dd>{crate::pages::create::status_label(j.status)}</dd>
                            <dt>{t("item.style")}</dt><dd>{j.style_label.clone()}</dd>
                            <dt>{t("item.strength")}</dt><dd>{format!("{}%", j.strength)}</dd>
                            <dt>{t("item.colours")}</dt><dd>{if j.preserve_color { t("item.colours_kept") } else { t("item.colours_style") }}</dd>
                            <dt>{t("item.size")}</dt><dd>{match (j.width, j.height) { (Some(w), Some(h)) => format!("{w} × {h} px"), _ => "—".into() }}</dd>
                            <dt>{t("item.cost")}</dt><dd>{tf("credits.n", &[("n", &j.cost)])}</dd>
                            <dt>{t("item.made")}</dt><dd>{format_time(j.created_at)}</dd>
                            // Always both elements: an optional pair of siblings did not hydrate.
                            <dt>{t("item.kept")}</dt>
                            <dd data-testid="expires">{j.expires_at.map(format_time).unwrap_or_else(|| t("item.no_expiry").into())}</dd>
                        </dl>
                        <p class="actions">
                            {shown.then(|| view! { <Downloads id=j.id.clone() href=download.clone() video=j.video/> })}
                            " "
                            {(j.status == JobStatus::Succeeded && !j.hidden).then(|| view! {
                                <a class="button" href=input_href data-testid="use-as-input">{t("item.use_as_input")}</a>
                            })}
                            " "
                            <A href="/create">{t("item.another")}</A>
                        </p>
                        // Run again asks first: a new generation, charged again.
                        {can_again.then(move || view! {
                            <details class="run-again" data-testid="run-again">
                                <summary>{t("item.run_again")}</summary>
                                <ActionForm action=again>
                                    <input type="hidden" name="id" value=again_id/>
                                    <input type="hidden" name="idempotency_key" value=again_key/>
                                    <p>{tf("item.run_again_help", &[("cost", &cost)])}</p>
                                    <button type="submit" class="primary" data-testid="run-again-confirm">{tf("item.run_again_confirm", &[("cost", &cost)])}</button>
                                </ActionForm>
                                {move || again.value().get().and_then(|r| r.err()).map(|e| view! { <p class="notice error" data-testid="run-again-error">{crate::pages::server_message(&e)}</p> })}
                            </details>
                        })}
                        {sharing.filter(|_| j.status == JobStatus::Succeeded && !j.hidden).map(|sharing| view! { <SharingPanel id=j.id.clone() sharing actions share_title=if j.prompt.is_empty() { j.style_label.clone() } else { j.prompt.clone() }/> })}
                        // Deleting asks first (a disclosure: works before hydration and without JavaScript).
                        <details class="danger-zone" data-testid="delete-dialog">
                            <summary class="button danger" data-testid="delete">{t("item.delete")}</summary>
                            <p role="alert">{t("item.delete_help")}</p>
                            <ActionForm action=delete attr:class="row">
                                <input type="hidden" name="id" value=j.id.clone()/>
                                <button type="submit" class="danger" data-testid="delete-confirm">{t("item.delete_confirm")}</button>
                            </ActionForm>
                        </details>
                    </section>
                }
                    .into_any()
            })}
        </Transition>
    }
}

/// The item page's sharing actions (the page's resource refetches after each).
#[derive(Clone, Copy)]
struct SharingActions {
    visibility: ServerAction<SetVisibility>,
    create: ServerAction<CreateShareLink>,
    revoke: ServerAction<RevokeShareLink>,
    showcase: ServerAction<SetShowcase>,
}

/// The owner's sharing controls: visibility, share links (made, listed with views, revoked),
/// and the separate showcase consent.
#[component]
fn SharingPanel(id: String, sharing: SharingView, actions: SharingActions, share_title: String) -> impl IntoView {
    let SharingActions { visibility, create, revoke, showcase } = actions;
    let errors = move || {
        [visibility.value().get().and_then(Result::err), revoke.value().get().and_then(Result::err), showcase.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
            .map(|e| view! { <p class="notice error" role="alert">{crate::pages::server_message(&e)}</p> })
    };
    let s = sharing;
    let vis = s.visibility;
    let option = move |v: Visibility, label: &'static str| view! { <option value=v.as_str() selected=vis == v>{t(label)}</option> };
    let (id1, id2, id3, public_href) = (id.clone(), id.clone(), id.clone(), format!("/p/{id}"));
    view! {
        <section class="sharing" data-testid="sharing">
            <h2>{t("share.title")}</h2>
            {errors}
            <ActionForm action=visibility attr:class="row">
                <input type="hidden" name="id" value=id1/>
                <label>{t("share.who")} " "
                    <select name="visibility" data-testid="visibility">
                        {option(Visibility::Private, "share.private")}
                        {option(Visibility::Link, "share.link")}
                        {option(Visibility::Public, "share.public")}
                    </select>
                </label>
                // Asked once, before the member's first public item.
                {(!s.publish_reviewed).then(|| view! {
                    <label class="check" data-testid="publish-review">
                        <input type="checkbox" name="reviewed" data-testid="publish-reviewed"/>
                        " " {t("share.review")}
                    </label>
                })}
                <button type="submit" data-testid="visibility-save">{t("settings.save")}</button>
            </ActionForm>
            {(s.visibility == Visibility::Public).then(|| view! {
                <p><a href=public_href data-testid="public-link">{t("share.public_page")}</a></p>
            })}
            <ActionForm action=create attr:class="row">
                <input type="hidden" name="id" value=id2/>
                <label>{t("share.new_link")} " "
                    <select name="days" data-testid="link-days">
                        <option value="1">{t("share.after1")}</option>
                        <option value="7" selected>{t("share.after7")}</option>
                        <option value="30">{t("share.after30")}</option>
                        <option value="never">{t("never")}</option>
                    </select>
                </label>
                <button type="submit" data-testid="link-create">{t("share.create")}</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(url) => view! {
                    <p class="notice">{t("share.copy")} " "
                        <input type="text" readonly value=url.clone() data-testid="new-link" aria-label=t("share.new_link_label")/>
                        " " <crate::pages::CopyButton text=url.clone() testid="copy-link"/>
                        " " <crate::pages::ShareButton url=url.clone() title=share_title.clone()/>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="notice error">{crate::pages::server_message(&e)}</p> }.into_any(),
            })}
            {(!s.links.is_empty()).then(|| view! {
                <ul class="links" data-testid="links">
                    {s.links.into_iter().map(|l| {
                        let state = if l.revoked { t("share.revoked").to_string() } else if l.expired { t("share.expired").to_string() } else {
                            l.expires_at.map(|at| tf("share.expires", &[("time", &format_time(at))])).unwrap_or_else(|| t("share.never_expires").into())
                        };
                        let link_id = l.id.clone();
                        view! {
                            <li data-link-id=link_id>
                                {tf("share.link_row", &[("time", &format_time(l.created_at)), ("state", &state), ("views", &l.views)])}
                                {(!l.revoked && !l.expired).then(|| view! {
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=l.id.clone()/>
                                        <button type="submit" class="link" data-testid="link-revoke">{t("revoke")}</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <ActionForm action=showcase attr:class="row">
                <input type="hidden" name="id" value=id3/>
                <input type="hidden" name="on" value=(!s.showcase).to_string()/>
                <span>{if s.showcase { t("share.showcase_on") } else { t("share.showcase_off") }}</span>
                <button type="submit" class="link" data-testid="showcase">
                    {if s.showcase { t("share.withdraw") } else { t("share.allow") }}
                </button>
            </ActionForm>
        </section>
    }
}
