//! Darkroom's pages: components and server functions shared by the server (feature `ssr`,
//! renders HTML) and the browser (feature `hydrate`, makes it live).
//!
//! - [`api`]: server functions and the shapes they return.
//! - [`i18n`]: preferences (theme, language) and the UI text per language.
//! - [`live`]: the per-tab live event stream (SSE) and the signals it feeds.
//! - [`pages`]: one module per page.
//! - [`routes`]: the pages the browser loads only when they are opened (lazy routes).

pub mod api;
pub mod i18n;
pub mod live;
pub mod toast;
pub mod pages;
pub mod routes;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, Lazy, SsrMode};

use crate::api::{get_me, Me, SignIn, SignOut, SignUp};

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The stylesheet sits beside the bundle, under its build id (`site_pkg_dir`).
    let css = format!("/{}/darkroom.css", options.site_pkg_dir);
    // This response's script policy: Leptos puts the request's nonce on every inline script
    // it writes (hydration, streamed resources), so only those run.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = axum::http::HeaderValue::from_str(&page_policy(&nonce.to_string())) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" id="leptos" href=css/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The Content Security Policy (CSP Level 3) of a rendered page whose inline scripts carry
/// `nonce`: scripts only from this origin or with the nonce, WebAssembly compiled from this
/// origin (`'wasm-unsafe-eval'`), styles, images, media and connections only from this origin
/// (images also `data:`/`blob:`, the upload previews), no plugins, no `<base>` elsewhere, no
/// framing. `form-action` is left open: checkout forms post here and are redirected to the
/// payment provider, which `form-action 'self'` would block. Server only.
#[cfg(feature = "ssr")]
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
         media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
}

/// Marks the page as interactive once the route's own view has hydrated (`data-hydrated` on
/// `<body>`; the end-to-end tests wait for it). Called by each route's view, not by `App`: a
/// lazy route hydrates after its chunks arrive, later than the shell around it.
pub fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Sign-in state shared by every page: the member resource and the actions that change it.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: Resource<Result<Option<Me>, ServerFnError>>,
    pub sign_in: ServerAction<SignIn>,
    pub sign_up: ServerAction<SignUp>,
    pub sign_out: ServerAction<SignOut>,
}

/// The application: header, routes, global error boundary.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let sign_in = ServerAction::<SignIn>::new();
    let sign_up = ServerAction::<SignUp>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let me = Resource::new(
        move || (sign_in.version().get(), sign_up.version().get(), sign_out.version().get()),
        |_| get_me(),
    );
    provide_context(Session { me, sign_in, sign_up, sign_out });
    let prefs = i18n::read_prefs();
    provide_context(prefs.clone());
    let live = live::Live::provide();
    toast::Toasts::provide();
    // The live stream opens once the member is known: an effect (browser only, after
    // hydration) that reruns when the session resource changes.
    Effect::new(move |_| live.start_when_signed_in(me));

    view! {
        <Html {..} lang=prefs.lang.clone() data-theme=prefs.theme.clone()/>
        <Title text="Darkroom"/>
        <Router>
            <Header/>
            <live::ConnectionBanner/>
            <toast::ToastRegion/>
            <main>
                <ErrorBoundary fallback=|_| view! { <GlobalError/> }>
                    <Routes fallback=|| view! { <pages::NotFound/> }>
                        <Route path=path!("/") view=pages::home::Home/>
                        <Route path=path!("/signup") view={Lazy::<routes::SignUp>::new()}/>
                        <Route path=path!("/signin") view={Lazy::<routes::SignIn>::new()}/>
                        <Route path=path!("/forgot") view={Lazy::<routes::Forgot>::new()}/>
                        <Route path=path!("/reset") view={Lazy::<routes::Reset>::new()}/>
                        <Route path=path!("/verify/done") view={Lazy::<routes::VerifyDone>::new()}/>
                        <Route path=path!("/signup/sent") view={Lazy::<routes::SignUpSent>::new()}/>
                        <Route path=path!("/create") view={Lazy::<routes::Create>::new()}/>
                        <Route path=path!("/dashboard") view={Lazy::<routes::Dashboard>::new()}/>
                        <Route path=path!("/gallery") view={Lazy::<routes::Gallery>::new()}/>
                        // Async: an unknown item answers 404 (the status is set before the page is sent).
                        <Route path=path!("/gallery/:id") view={Lazy::<routes::Item>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/settings") view={Lazy::<routes::Settings>::new()}/>
                        <Route path=path!("/settings/api") view={Lazy::<routes::Keys>::new()}/>
                        <Route path=path!("/credits") view={Lazy::<routes::Credits>::new()}/>
                        <Route path=path!("/credits/buy") view={Lazy::<routes::Buy>::new()}/>
                        <Route path=path!("/pricing") view={Lazy::<routes::Pricing>::new()}/>
                        <Route path=path!("/support") view={Lazy::<routes::Support>::new()}/>
                        <Route path=path!("/admin/support") view={Lazy::<routes::AdminSupport>::new()}/>
                        <Route path=path!("/admin/audit") view={Lazy::<routes::AdminAudit>::new()}/>
                        <Route path=path!("/admin/settings") view={Lazy::<routes::AdminSettings>::new()}/>
                        <Route path=path!("/admin/notices") view={Lazy::<routes::AdminNotices>::new()}/>
                        <Route path=path!("/admin/members") view={Lazy::<routes::AdminMembers>::new()}/>
                        <Route path=path!("/admin/members/:id") view={Lazy::<routes::AdminMember>::new()}/>
                        <Route path=path!("/admin/generations") view={Lazy::<routes::AdminGenerations>::new()}/>
                        <Route path=path!("/admin/payments") view={Lazy::<routes::AdminPayments>::new()}/>
                        <Route path=path!("/admin/plans") view={Lazy::<routes::AdminPlans>::new()}/>
                        <Route path=path!("/admin/providers") view={Lazy::<routes::AdminProviders>::new()}/>
                        <Route path=path!("/admin/templates") view={Lazy::<routes::AdminTemplates>::new()}/>
                        <Route path=path!("/explore") view={Lazy::<routes::Explore>::new()}/>
                        <Route path=path!("/s/:token") view={Lazy::<routes::Share>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/p/:id") view={Lazy::<routes::Public>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/moderation") view={Lazy::<routes::Moderation>::new()}/>
                        <Route path=path!("/terms") view={Lazy::<routes::Terms>::new()}/>
                        <Route path=path!("/privacy") view={Lazy::<routes::Privacy>::new()}/>
                    </Routes>
                </ErrorBoundary>
            </main>
            <footer class="site-footer">
                <A href="/terms">{i18n::t("footer.terms")}</A>
                " · "
                <A href="/privacy">{i18n::t("footer.privacy")}</A>
                " · "
                <A href="/pricing">{i18n::t("footer.pricing")}</A>
                " · "
                <A href="/support">{i18n::t("footer.support")}</A>
                " · " {i18n::t("footer.label")}
                <br/><small class="muted">{i18n::t("cookies.notice")}</small>
            </footer>
        </Router>
    }
}

/// "Something went wrong" with a reload button (SPEC §8).
#[component]
pub fn GlobalError() -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            <p>{i18n::t("error.global")}</p>
            <a class="button" href="" rel="external">{i18n::t("error.reload")}</a>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    use crate::i18n::t;
    let session = expect_context::<Session>();
    let live = expect_context::<live::Live>();
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Darkroom"</A>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.me.await {
                        Ok(Some(me)) => {
                            let initial = me.balance;
                            let moderator = me.role == "moderator" || me.role == "admin";
                            let admin = me.role == "admin";
                            let (verified, pending_terms, notices) = (me.email_verified, me.pending_terms.is_some(), me.notices);
                            let toggle = NodeRef::<leptos::html::Input>::new();
                            view! {
                                // On a phone the links fold into a menu (a checkbox and its
                                // label: no script needed); following a link folds it again.
                                <input type="checkbox" id="menu-toggle" class="menu-toggle" node_ref=toggle aria-label=t("nav.menu")/>
                                <nav class="member" on:click=move |_| { if let Some(el) = toggle.get_untracked() { el.set_checked(false) } }>
                                    <A href="/explore">{t("nav.explore")}</A>
                                    <A href="/create">{t("nav.create")}</A>
                                    <A href="/gallery">{t("nav.gallery")}</A>
                                    {moderator.then(|| view! { <A href="/moderation">{t("nav.moderation")}</A> })}
                                    {admin.then(|| view! { <A href="/admin/members" attr:data-testid="nav-console">{t("nav.console")}</A> })}
                                    <A href="/settings">{t("nav.settings")}</A>
                                    <A href="/credits" attr:class="balance" attr:data-testid="balance" attr:title=t("nav.credits_title")>
                                        {move || live.balance.get().unwrap_or(initial)} " " {t("nav.credits")}
                                    </A>
                                    <ActionForm action=session.sign_out attr:class="inline">
                                        <button type="submit" class="link">{t("nav.sign_out")}</button>
                                    </ActionForm>
                                </nav>
                                <label for="menu-toggle" class="menu-button" data-testid="menu-button">{t("nav.menu")}</label>
                                // Under the links, awaited with them (no extra resource in rendering).
                                <pages::account::AccountNotices verified pending_terms notices/>
                            }
                                .into_any()
                        }
                        _ => view! {
                            <nav>
                                <A href="/explore">{t("nav.explore")}</A>
                                <A href="/signin">{t("nav.sign_in")}</A>
                                <A href="/signup" attr:class="button">{t("nav.sign_up")}</A>
                            </nav>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}
