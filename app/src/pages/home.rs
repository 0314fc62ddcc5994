use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::t;

/// The landing page.
#[component]
pub fn Home() -> impl IntoView {
    crate::mark_hydrated();
    // A member's home is the dashboard: the server answers `/` with a redirect for them, and
    // a link to `/` followed in the browser goes there too.
    #[cfg(feature = "hydrate")]
    {
        let session = expect_context::<crate::Session>();
        let navigate = leptos_router::hooks::use_navigate();
        Effect::new(move |_| {
            if let Some(Ok(Some(_))) = session.me.get() {
                navigate("/dashboard", leptos_router::NavigateOptions { replace: true, ..Default::default() });
            }
        });
    }
    // What members made and agreed to show here: HTML made by the server (`showcase`),
    // fetched once the page is interactive and set into its section. No resource and no
    // suspense on the first page a visitor loads: those cost 6 KB of its code.
    let showcase = NodeRef::<leptos::html::Section>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let (Ok(html), Some(el)) = (crate::api::sharing::showcase().await, showcase.get_untracked()) {
                el.set_inner_html(&html);
            }
        });
    });
    view! {
        <section class="hero">
            <h1>{t("home.title")}</h1>
            <p>
                {t("home.lead")}
            </p>
            <p class="actions">
                // A visitor starts with an account: sign-up ends, once the address is
                // confirmed, on the create page; a member signing in returns there too.
                <A href="/signup" attr:class="button primary" attr:data-testid="home-start">{t("home.start")}</A>
                " "
                <A href="/signin?next=/create">{t("home.signin")}</A>
            </p>
            <ul class="facts">
                <li>{t("home.fact1")}</li>
                <li>{t("home.fact2")}</li>
                <li>{t("home.fact3")}</li>
            </ul>
            <p><A href="/pricing">{t("home.prices")}</A></p>
        </section>
        // Before and after: the sample photo and one style on it, made by this server's engine.
        // (Markup as one string: every element type here costs code on the first visit.)
        <section class="example" aria-label=t("home.example") inner_html=format!(
            "<figure><img src=\"/previews/example-before.jpg\" alt=\"{b}\" width=\"451\" height=\"300\"><figcaption>{b}</figcaption></figure>\
             <figure><img src=\"/previews/example-after.jpg\" alt=\"{a}\" width=\"451\" height=\"300\"><figcaption>{a}</figcaption></figure>",
            b = t("item.before"),
            a = t("home.example_after"),
        )></section>
        <section class="showcase" data-testid="showcase" node_ref=showcase></section>
    }
}
