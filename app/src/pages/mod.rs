//! One module per page.

pub mod account;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod create;
pub mod credits;
pub mod dashboard;
pub mod gallery;
pub mod home;
pub mod keys;
pub mod legal;
pub mod members;
pub mod moderation;
pub mod notices;
pub mod providers;
pub mod settings;
pub mod share;
pub mod site_settings;
pub mod support;
pub mod templates;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::t;

/// The 404 page (also what a missing or someone else's item shows: no oracle).
#[component]
pub fn NotFound() -> impl IntoView {
    crate::mark_hydrated();
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="page narrow">
            <h1>{t("notfound.title")}</h1>
            <p>{t("notfound.body")}</p>
            <A href="/">{t("notfound.home")}</A>
        </section>
    }
}

/// The operator's console's sections, atop each administrators' page.
#[component]
pub fn ConsoleNav() -> impl IntoView {
    view! {
        <nav class="console-nav" aria-label=t("console.nav") data-testid="console-nav">
            <A href="/admin/members">{t("console.members")}</A>
            <A href="/admin/generations">{t("console.generations")}</A>
            <A href="/admin/payments">{t("console.payments")}</A>
            <A href="/admin/support">{t("console.support")}</A>
            <A href="/admin/audit">{t("console.audit")}</A>
            <A href="/admin/notices">{t("console.notices")}</A>
            <A href="/admin/settings">{t("console.settings")}</A>
            <A href="/admin/templates">{t("console.templates")}</A>
            <A href="/admin/providers">{t("console.providers")}</A>
            <A href="/admin/plans">{t("console.plans")}</A>
            <A href="/moderation">{t("nav.moderation")}</A>
        </nav>
    }
}

/// Shows `children` to a signed-in member; a visitor is asked to sign in.
#[component]
pub fn MembersOnly(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<crate::Session>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(_)) => children.with_value(|c| c()).into_any(),
                    _ => view! { <SignInPrompt/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What a visitor sees on a members' page.
#[component]
pub fn SignInPrompt() -> impl IntoView {
    view! {
        <section class="page narrow">
            <h1>{t("members.title")}</h1>
            <p>{t("members.body")}</p>
            <A href="/signin" attr:class="button">{t("nav.sign_in")}</A>
            " "
            <A href="/signup">{t("auth.create_account")}</A>
        </section>
    }
}

/// The message of a server function's error, as the member should read it (without the
/// transport's prefix).
pub fn server_message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// What an action's last run says, as text: `done` when it succeeded, the server's message
/// when it failed, nothing before it ran.
pub fn outcome(last: Option<Result<(), ServerFnError>>, done: &str) -> Option<String> {
    last.map(|r| r.map(|()| done.to_string()).unwrap_or_else(|e| server_message(&e)))
}

/// A `<select name="style">` of the styles in `names` (`(index, name)` in the page's
/// language), "Any style" first (value ""), `selected` chosen.
#[component]
pub fn StyleSelect(names: Vec<(usize, String)>, #[prop(into)] selected: String, testid: &'static str) -> impl IntoView {
    view! {
        <select name="style" data-testid=testid>
            <option value="" selected=selected.is_empty()>{t("style.any")}</option>
            {names.into_iter().map(|(i, name)| view! { <option value=i.to_string() selected=selected == i.to_string()>{name}</option> }).collect_view()}
        </select>
    }
}

/// A filter's [`StyleSelect`] once `names` (a page's `Resource` of `crate::api::style_names`,
/// made above any `MembersOnly`) has loaded; `selected` follows the address.
#[component]
pub fn StyleFilter(names: Resource<Result<Vec<String>, ServerFnError>>, selected: Signal<String>, testid: &'static str) -> impl IntoView {
    view! {
        <Transition fallback=move || view! { <StyleSelect names=Vec::new() selected=selected.get_untracked() testid/> }>
            {move || Suspend::new(async move {
                let names = names.await.unwrap_or_default().into_iter().enumerate().collect();
                view! { <StyleSelect names selected=selected.get() testid/> }
            })}
        </Transition>
    }
}

pub use darkroom_contract::media::RENDITION_WIDTHS;

/// The renditions worth listing for a result `width` px wide, as (variant width, actual
/// width): every nominal width below the result's, then one rendition at the result's own
/// width (renditions are never upscaled, so the larger ones are that same size).
pub fn renditions_for(width: i64) -> Vec<(u32, u32)> {
    let width = u32::try_from(width).unwrap_or(0);
    let mut out = Vec::with_capacity(RENDITION_WIDTHS.len());
    for w in RENDITION_WIDTHS {
        if w < width {
            out.push((w, w));
        } else {
            out.push((w, width.max(1)));
            break;
        }
    }
    out
}

/// A `srcset` over a result's renditions in `ext` (`webp` or `jpg`): `url(variant) Nw, …`,
/// where `url` turns a variant name (`w512.webp`) into its URL.
pub fn srcset(width: i64, ext: &str, url: impl Fn(&str) -> String) -> String {
    renditions_for(width).into_iter().map(|(v, actual)| format!("{} {actual}w", url(&format!("w{v}.{ext}")))).collect::<Vec<_>>().join(", ")
}

/// A button that puts `text` on the clipboard (the Clipboard API, `navigator.clipboard
/// .writeText`) and then says so. The text stays in its read-only field beside it, so it can
/// still be selected by hand before hydration or where the browser refuses the clipboard.
#[component]
pub fn CopyButton(text: String, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| write_clipboard(&text, copied);
    view! {
        <button type="button" class="copy" on:click=copy data-testid=testid aria-live="polite">
            {move || if copied.get() { t("copy.done") } else { t("copy.label") }}
        </button>
    }
}

/// "Share…": the system share sheet (the Web Share API, `navigator.share`) with `url` and
/// `title`, shown only where the browser has one (phones, mostly); elsewhere nothing renders
/// and the Copy button beside it does the job.
#[component]
pub fn ShareButton(url: String, title: String) -> impl IntoView {
    let available = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let has = web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w.navigator(), &"share".into()).unwrap_or(false));
        available.set(has);
    });
    let share = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let data = web_sys::ShareData::new();
            data.set_url(&url);
            data.set_title(&title);
            // The promise rejects when the member closes the sheet: nothing to do then.
            let _ = w.navigator().share_with_data(&data);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&url, &title);
    };
    view! {
        <span class="share-slot">
            {move || available.get().then(|| view! { <button type="button" class="share" on:click=share.clone() data-testid="share-system">{t("share.system")}</button> })}
        </span>
    }
}

/// Writes `text` to the clipboard and sets `copied` to whether the browser took it.
#[cfg(feature = "hydrate")]
fn write_clipboard(text: &str, copied: RwSignal<bool>) {
    if let Some(w) = web_sys::window() {
        let promise = w.navigator().clipboard().write_text(text);
        leptos::task::spawn_local(async move {
            copied.set(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok());
        });
    }
}

/// On the server there is no clipboard (the button only acts in the browser).
#[cfg(not(feature = "hydrate"))]
fn write_clipboard(_: &str, _: RwSignal<bool>) {}

/// A result's picture: WebP renditions with JPEG fallbacks, the browser picking the width
/// that `sizes` (a CSS `sizes` value) asks for. `url` maps a variant name to its URL.
#[component]
pub fn ResultPicture(
    width: i64,
    height: i64,
    url: Callback<String, String>,
    alt: String,
    sizes: &'static str,
    #[prop(optional)] lazy: bool,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let webp = srcset(width, "webp", |v| url.run(v.to_string()));
    let jpeg = srcset(width, "jpg", |v| url.run(v.to_string()));
    let src = url.run(format!("w{}.jpg", renditions_for(width).last().map(|r| r.0).unwrap_or(512)));
    view! {
        <picture>
            <source type="image/webp" srcset=webp sizes=sizes/>
            <img src=src srcset=jpeg sizes=sizes alt=alt width=width.to_string() height=height.to_string()
                loading=if lazy { "lazy" } else { "eager" } data-testid=testid/>
        </picture>
    }
}

/// A grid tile's aspect-ratio class for the justified grids (My gallery, Explore): `r<n>`,
/// where `n` is the result's width over its height in twentieths, rounded (`r30` is 3:2),
/// clamped to 5..=80 (1:4 to 4:1), so each row's tiles share one height and keep their own
/// aspect ratio (no square crop). Sizes of 0 count as square. A class rather than an inline
/// `--r`: the pages' Content-Security-Policy (`style-src 'self'`) blocks style attributes;
/// `style/main.css` maps each class to its `--r`.
pub fn tile_ratio(width: i64, height: i64) -> String {
    let r = if width > 0 && height > 0 { width as f64 / height as f64 } else { 1.0 };
    format!("tile r{}", (r * 20.0).round().clamp(5.0, 80.0) as i64)
}

/// A result that is a clip: a `<video>` player (controls, inline on phones, looping, muted:
/// clips carry no sound) with the poster frame shown until it plays. `src` is the MP4/WebM,
/// `poster` a JPEG rendition of its first frame; the file answers byte ranges, so it seeks.
#[component]
pub fn ResultVideo(src: String, poster: String, width: i64, height: i64) -> impl IntoView {
    view! {
        <video class="result-video" src=src poster=poster width=width.to_string() height=height.to_string()
            controls=true playsinline=true loop=true muted=true preload="metadata" data-testid="result-video"></video>
    }
}

/// An instant in the reader's language, in UTC to the minute: "18 Nov 2026, 11:06 UTC" /
/// "18. Nov. 2026, 11:06 UTC". `ms`: milliseconds since the Unix epoch.
pub fn format_time(ms: i64) -> String {
    let iso = format_iso(ms);
    format!("{}, {} UTC", format_day(ms), &iso[11..16])
}

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM UTC` (ISO 8601's order, for machines and
/// `datetime` attributes).
pub fn format_iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// A filter form's `change` handler: a changed choice applies at once, as the Apply button
/// would (which stays, for pages without JavaScript).
pub fn apply_on_change(ev: leptos::ev::Event) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(form) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) {
            let _ = form.request_submit();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// A day in the reader's language, for captions: "18 Nov 2026" / "18. Nov. 2026" (UTC).
/// `ms`: milliseconds since the Unix epoch.
pub fn format_day(ms: i64) -> String {
    let iso = format_iso(ms);
    let (y, m, d) = (&iso[0..4], iso[5..7].parse::<usize>().unwrap_or(1), iso[8..10].trim_start_matches('0'));
    let month = t("date.months").split(',').nth(m.saturating_sub(1)).unwrap_or("");
    crate::i18n::tf("date.day", &[("d", &d), ("m", &month), ("y", &y)])
}

/// The caption under a grid tile: its title (cut to one line by the stylesheet), then the
/// creator's name when given (Explore, for owners who show it) and the day it was made, as a
/// `<time>` with the ISO instant.
#[component]
pub fn TileCaption(title: String, created_at: i64, creator: Option<String>) -> impl IntoView {
    let iso = format_iso(created_at);
    let hover = title.clone();
    view! {
        <span class="caption">
            <span class="caption-title" title=hover>{title}</span>
            <span class="caption-meta">
                {creator.map(|c| view! { <span class="creator" data-testid="creator">{crate::i18n::tf("explore.by", &[("name", &c)])}</span> })}
                <time datetime=format!("{}T{}:00Z", &iso[0..10], &iso[11..16])>{format_day(created_at)}</time>
            </span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_days() {
        assert_eq!(super::format_day(1_795_000_000_000), "18 Nov 2026");
        assert_eq!(super::format_day(0), "1 Jan 1970");
    }

    #[test]
    fn formats_times() {
        assert_eq!(super::format_iso(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::format_iso(1_795_000_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(super::format_time(1_795_000_000_000), "18 Nov 2026, 11:06 UTC");
    }

    #[test]
    fn tiles_keep_their_aspect_ratio_within_bounds() {
        assert_eq!(super::tile_ratio(640, 427), "tile r30");
        assert_eq!(super::tile_ratio(427, 640), "tile r13");
        assert_eq!((super::tile_ratio(0, 0), super::tile_ratio(5, -1)), ("tile r20".to_string(), "tile r20".to_string()));
        assert_eq!(super::tile_ratio(10_000, 10), "tile r80", "a panorama stays a tile");
        assert_eq!(super::tile_ratio(10, 10_000), "tile r5", "so does a tall strip");
    }

    #[test]
    fn srcset_lists_each_width_once_never_past_the_result() {
        let url = |v: &str| format!("/media/j/{v}");
        assert_eq!(super::srcset(2000, "webp", url), "/media/j/w256.webp 256w, /media/j/w512.webp 512w, /media/j/w1200.webp 1200w");
        assert_eq!(super::srcset(451, "jpg", url), "/media/j/w256.jpg 256w, /media/j/w512.jpg 451w");
        assert_eq!(super::srcset(200, "jpg", url), "/media/j/w256.jpg 200w");
    }
}
