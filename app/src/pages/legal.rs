//! Terms of service and privacy notice: Darkroom's own texts, stating the rules the software
//! enforces. Versioned by `DARKROOM_TERMS_VERSION`.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Terms() -> impl IntoView {
    view! {
        <Title text="Terms · Darkroom"/>
        <article class="page narrow prose">
            <h1>"Terms of service"</h1>
            <p class="muted">"Version 2026-11-22"</p>
            <h2>"Who may use it"</h2>
            <p>"You must be 18 or older (or the higher age the operator sets) and accept these terms to create an account."</p>
            <h2>"Your uploads"</h2>
            <p>"Upload only photos you own or have permission to use, and only of people who agreed to it. You confirm this for every upload. Do not upload images of minors in any sexual or suggestive context, or anything illegal."</p>
            <h2>"Credits"</h2>
            <p>"Each generation costs the credits shown before you submit; they are taken when you submit. If a generation fails for a technical reason, the credits go back to your balance. If you cancel before it starts, they go back too. If moderation rejects your input or the result, the credits are not refunded."</p>
            <h2>"Results"</h2>
            <p>"Results are private to you unless you share them. They are produced by an AI model, are marked as AI-generated, and may be imperfect. Do not present them as real photographs of real events."</p>
            <h2>"Ending"</h2>
            <p>"You may delete items or your account at any time. The operator may restrict accounts that break these terms."</p>
        </article>
    }
}

#[component]
pub fn Privacy() -> impl IntoView {
    view! {
        <Title text="Privacy · Darkroom"/>
        <article class="page narrow prose">
            <h1>"Privacy notice"</h1>
            <p class="muted">"Version 2026-11-22"</p>
            <h2>"What we keep"</h2>
            <p>"Your email, display name, a hash of your password (never the password), your credit ledger, your uploads and results, and a fingerprint (hash) of each upload."</p>
            <h2>"What we remove"</h2>
            <p>"Camera, location (GPS) and other metadata are stripped from every upload before it is stored."</p>
            <h2>"Where it goes"</h2>
            <p>"The built-in engine runs on this server. Your photos are not sent to third parties unless the operator enables an external provider for a template you choose, and then only what that generation needs."</p>
            <h2>"Cookies"</h2>
            <p>"Only an essential session cookie, which keeps you signed in. No tracking or advertising cookies."</p>
            <h2>"How long"</h2>
            <p>"You can delete any item at once; its files are removed from storage. Uploads are kept only as long as the operator's retention settings allow."</p>
            <h2>"Training"</h2>
            <p>"Your images are not used to train models unless you opt in separately."</p>
        </article>
    }
}
