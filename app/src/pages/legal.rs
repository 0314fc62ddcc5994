//! Terms of service and privacy notice (SPEC §7). Administrators publish versions
//! (markdown, effective date, material flag) on these pages; the newest version in effect is
//! shown, and a member who must accept a material change accepts it here. Until a version is
//! published, Darkroom's own built-in texts below apply (version `DARKROOM_TERMS_VERSION`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{legal_page, AcceptTerms, PublishLegal};
use crate::pages::{format_time, server_message};

#[component]
pub fn Terms() -> impl IntoView {
    view! {
        <Title text="Terms · Darkroom"/>
        <LegalDoc doc="terms" title="Terms of service" builtin=|| view! { <BuiltinTerms/> }.into_any()/>
    }
}

#[component]
pub fn Privacy() -> impl IntoView {
    view! {
        <Title text="Privacy · Darkroom"/>
        <LegalDoc doc="privacy" title="Privacy notice" builtin=|| view! { <BuiltinPrivacy/> }.into_any()/>
    }
}

/// A document: the published version (or `builtin`), acceptance when due, history, and the
/// administrators' publish form.
#[component]
fn LegalDoc(doc: &'static str, title: &'static str, builtin: fn() -> AnyView) -> impl IntoView {
    let accept = ServerAction::<AcceptTerms>::new();
    let publish = ServerAction::<PublishLegal>::new();
    let session = expect_context::<crate::Session>();
    let page = Resource::new(move || (accept.version().get(), publish.version().get()), move |_| legal_page(doc.to_string()));
    // Accepting changes what the banner says.
    Effect::new(move |_| {
        if let Some(Ok(())) = accept.value().get() {
            session.me.refetch();
        }
    });
    view! {
        <article class="page narrow prose">
            <h1>{title}</h1>
            <Suspense fallback=|| view! { <p class="muted">"…"</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| view! {
                        {match (p.version.clone(), p.html.clone()) {
                            (Some(v), Some(html)) => view! {
                                <p class="muted" data-testid="legal-version">{format!("Version {v}, in effect since {}", format_time(p.effective_at.unwrap_or(0)))}</p>
                                <div data-testid="legal-body" inner_html=html></div>
                            }.into_any(),
                            _ => builtin(),
                        }}
                        {(p.must_accept).then(|| view! {
                            <ActionForm action=accept attr:class="notice" attr:data-testid="accept-terms">
                                <input type="hidden" name="version" value=p.version.clone().unwrap_or_default()/>
                                <button type="submit" class="primary">{crate::i18n::t("terms.accept")}</button>
                            </ActionForm>
                        })}
                        {(p.history.len() > 1).then(|| view! {
                            <div>
                            <h2>"Earlier versions"</h2>
                            <ul>{p.history.iter().skip(1).map(|(v, at, material)| view! {
                                <li>{format!("{v} · {}{}", format_time(*at), if *material { " · material change" } else { "" })}</li>
                            }).collect_view()}</ul>
                            </div>
                        })}
                        {p.admin.then(|| view! {
                            <div>
                            <h2>"Publish a new version"</h2>
                            <ActionForm action=publish attr:class="stack" attr:data-testid="publish-legal">
                                <input type="hidden" name="doc" value=doc/>
                                <label>"Version " <input type="text" name="version" required maxlength="40" placeholder="2027-01-01"/></label>
                                <label>"In effect from (YYYY-MM-DD, empty: now) " <input type="date" name="effective"/></label>
                                <label>"Text (markdown) " <textarea name="body" rows="12" required></textarea></label>
                                <label><input type="checkbox" name="material"/>" Material change: members must accept it again before creating"</label>
                                <button type="submit">"Publish"</button>
                            </ActionForm>
                            {move || publish.value().get().map(|r| match r {
                                Ok(()) => "Published.".to_string(),
                                Err(e) => server_message(&e),
                            })}
                            </div>
                        })}
                    })
                })}
            </Suspense>
        </article>
    }
}

#[component]
fn BuiltinTerms() -> impl IntoView {
    view! {
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
    }
}

#[component]
fn BuiltinPrivacy() -> impl IntoView {
    view! {
            <p class="muted">"Version 2026-11-22"</p>
            <h2>"What we keep"</h2>
            <p>"Your email, display name, a hash of your password (never the password), your credit ledger, your uploads and results, and a fingerprint (hash) of each upload."</p>
            <h2>"What we remove"</h2>
            <p>"Camera, location (GPS) and other metadata are stripped from every upload before it is stored."</p>
            <h2>"Where it goes"</h2>
            <p>"The built-in engine runs on this server. Your photos are not sent to third parties unless the operator enables an external provider for a template you choose, and then only what that generation needs."</p>
            <h2>"Cookies"</h2>
            <p>"Only essential cookies: the session cookie, which keeps you signed in, and a preference cookie with your theme and language. No tracking or advertising cookies."</p>
            <h2>"How long"</h2>
            <p>"You can delete any item at once; its files are removed from storage. Uploads are kept only as long as the operator's retention settings allow."</p>
            <h2>"Training"</h2>
            <p>"Your images are not used to train models unless you opt in separately (Settings)."</p>
            <h2>"Your rights"</h2>
            <p>"In Settings you can see where you are signed in and what happened to your account, export all your data as a ZIP file, correct your email and name, and delete your account. Deletion removes your media and personal data; ledger and audit records stay, anonymised."</p>
    }
}
