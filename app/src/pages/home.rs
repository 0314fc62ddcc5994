use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::t;

/// The landing page.
#[component]
pub fn Home() -> impl IntoView {
    crate::mark_hydrated();
    view! {
        <section class="hero">
            <h1>{t("home.title")}</h1>
            <p>
                {t("home.lead")}
            </p>
            <p class="actions">
                <A href="/create" attr:class="button primary">{t("home.start")}</A>
                " "
                <A href="/signup">{t("home.signup")}</A>
            </p>
            <ul class="facts">
                <li>{t("home.fact1")}</li>
                <li>{t("home.fact2")}</li>
                <li>{t("home.fact3")}</li>
            </ul>
        </section>
    }
}
