use leptos::prelude::*;
use leptos_router::components::A;

/// The landing page.
#[component]
pub fn Home() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Turn a photo into a painting."</h1>
            <p>
                "Upload a photo, pick one of 26 styles or blend two, and watch it develop. "
                "Everything you make is private until you choose otherwise."
            </p>
            <p class="actions">
                <A href="/create" attr:class="button primary">"Start creating"</A>
                " "
                <A href="/signup">"Create a free account"</A>
            </p>
            <ul class="facts">
                <li>"New accounts get free credits to try it."</li>
                <li>"Runs on this server: your photos are not sent to anyone else."</li>
                <li>"Location and camera data are removed from every upload."</li>
            </ul>
        </section>
    }
}
