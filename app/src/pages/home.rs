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
        </section>
    }
}
