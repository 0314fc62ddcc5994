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
    // What members made and agreed to show here (none: the section is left out).
    let showcase = Resource::new(|| (), |_| crate::api::sharing::showcase());
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
        <section class="example" aria-label=t("home.example")>
            <figure><img src="/previews/example-before.jpg" alt=t("item.before") width="451" height="300"/><figcaption>{t("item.before")}</figcaption></figure>
            <figure><img src="/previews/example-after.jpg" alt=t("item.after") width="451" height="300"/><figcaption>{t("home.example_after")}</figcaption></figure>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let items = showcase.await.unwrap_or_default();
                (!items.is_empty()).then(|| view! {
                    <section class="showcase" data-testid="showcase">
                        <h2>{t("home.showcase")}</h2>
                        <ul class="grid justified">
                            {items.into_iter().map(|i| {
                                let (href, src) = (format!("/p/{}", i.id), darkroom_contract::media::shared_url(&i.id, "w512.jpg", &i.grant));
                                view! {
                                <li class=crate::pages::tile_ratio(i.width, i.height) data-job-id=i.id>
                                    <A href=href>
                                        <img src=src alt=i.title loading="lazy"/>
                                    </A>
                                    <span class="label ai">{t("label.ai")}</span>
                                </li>
                            }}).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}
