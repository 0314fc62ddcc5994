//! Terms of service and privacy notice (SPEC §7). Administrators publish versions
//! (markdown, effective date, material flag) on these pages; the newest version in effect is
//! shown, and a member who must accept a material change accepts it here. Until a version is
//! published, Darkroom's own built-in texts below apply (version `DARKROOM_TERMS_VERSION`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{legal_page, AcceptTerms, PublishLegal};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, outcome};

#[component]
pub fn Terms() -> impl IntoView {
    view! {
        <Title text=title("footer.terms")/>
        <LegalDoc doc="terms" title="legal.terms" builtin=|| view! { <BuiltinTerms/> }.into_any()/>
    }
}

#[component]
pub fn Privacy() -> impl IntoView {
    view! {
        <Title text=title("footer.privacy")/>
        <LegalDoc doc="privacy" title="legal.privacy" builtin=|| view! { <BuiltinPrivacy/> }.into_any()/>
    }
}

/// A document: the published version (or `builtin`), acceptance when due, history, and the
/// administrators' publish form. `title` is a text key.
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
            <h1>{t(title)}</h1>
            <Suspense fallback=|| view! { <p class="muted">"…"</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| view! {
                        {match (p.version.clone(), p.html.clone()) {
                            (Some(v), Some(html)) => view! {
                                <p class="muted" data-testid="legal-version">{tf("legal.version", &[("v", &v), ("time", &format_time(p.effective_at.unwrap_or(0)))])}</p>
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
                            <h2>{t("legal.earlier")}</h2>
                            <ul>{p.history.iter().skip(1).map(|(v, at, material)| view! {
                                <li>{format!("{v} · {}{}", format_time(*at), if *material { t("legal.material_mark") } else { "" })}</li>
                            }).collect_view()}</ul>
                            </div>
                        })}
                        {p.admin.then(|| view! {
                            <div>
                            <h2>{t("legal.publish_title")}</h2>
                            <ActionForm action=publish attr:class="stack" attr:data-testid="publish-legal">
                                <input type="hidden" name="doc" value=doc/>
                                <label>{t("legal.f.version")} " " <input type="text" name="version" required maxlength="40" placeholder="2027-01-01"/></label>
                                <label>{t("legal.f.effective")} " " <input type="date" name="effective"/></label>
                                <label>{t("legal.f.body")} " " <textarea name="body" rows="12" required></textarea></label>
                                <label><input type="checkbox" name="material"/>" " {t("legal.f.material")}</label>
                                <button type="submit">{t("legal.publish")}</button>
                            </ActionForm>
                            {move || outcome(publish.value().get(), t("legal.published"))}
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
            <p class="muted">{tf("legal.builtin_version", &[("v", &"2026-11-22")])}</p>
            <h2>{t("terms.b1")}</h2>
            <p>{t("terms.b2")}</p>
            <h2>{t("terms.b3")}</h2>
            <p>{t("terms.b4")}</p>
            <h2>{t("terms.b5")}</h2>
            <p>{t("terms.b6")}</p>
            <h2>{t("terms.b7")}</h2>
            <p>{t("terms.b8")}</p>
            <h2>{t("terms.b9")}</h2>
            <p>{t("terms.b10")}</p>
    }
}

#[component]
fn BuiltinPrivacy() -> impl IntoView {
    view! {
            <p class="muted">{tf("legal.builtin_version", &[("v", &"2026-11-22")])}</p>
            <h2>{t("privacy.b1")}</h2>
            <p>{t("privacy.b2")}</p>
            <h2>{t("privacy.b3")}</h2>
            <p>{t("privacy.b4")}</p>
            <h2>{t("privacy.b5")}</h2>
            <p>{t("privacy.b6")}</p>
            <h2>{t("privacy.b7")}</h2>
            <p>{t("privacy.b8")}</p>
            <h2>{t("privacy.b9")}</h2>
            <p>{t("privacy.b10")}</p>
            <h2>{t("privacy.b11")}</h2>
            <p>{t("privacy.b12")}</p>
            <h2>{t("privacy.b13")}</h2>
            <p>{t("privacy.b14")}</p>
    }
}
