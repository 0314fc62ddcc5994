use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::{t, tf, title};

/// Shows the last error of an action, if any.
#[component]
pub fn ActionError(value: Signal<Option<Result<(), ServerFnError>>>) -> impl IntoView {
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            let msg = match e {
                ServerFnError::ServerError(m) => m,
                other => other.to_string(),
            };
            view! { <p class="notice error" role="alert" data-testid="form-error">{msg}</p> }
        })
    }
}

/// The sign-up form's age confirmation (`min_age`: the operator's `DARKROOM_MIN_AGE`, years)
/// and terms acceptance (both required).
#[component]
fn ConsentBoxes(min_age: u32) -> impl IntoView {
    view! {
        <label class="check"><input type="checkbox" name="age_confirmed" required/> {tf("signup.age", &[("age", &min_age)])}</label>
        <label class="check"><input type="checkbox" name="terms_accepted" required/>
            {t("signup.accept1")} " " <a href="/terms" target="_blank">{t("signup.terms")}</a> " " {t("signup.accept2")} " "
            <a href="/privacy" target="_blank">{t("signup.privacy")}</a> {t("signup.accept3")}
        </label>
    }
}

/// Starts Google sign-in (`/auth/google`, a full page load).
#[component]
fn GoogleButton() -> impl IntoView {
    view! { <p><a class="button" href="/auth/google" rel="external" data-testid="google">{t("auth.google")}</a></p> }
}

/// Sign-up: email, password, display name, age and terms.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let session = expect_context::<crate::Session>();
    let options = Resource::new(|| (), |_| crate::api::account::auth_options());
    let google = ServerAction::<crate::api::account::SignUpGoogle>::new();
    view! {
        <Title text=title("nav.sign_up")/>
        <section class="page narrow">
            <h1>{t("signup.title")}</h1>
            // The forms wait for the server's choices: Google, a pending Google sign-up, and
            // the operator's minimum age, which the age box names.
            <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    let o = options.await.unwrap_or(crate::api::account::AuthChoices { google: false, google_signup: None, min_age: 18 });
                    let min_age = o.min_age;
                    let google_part = match o.google_signup {
                        // Back from Google with a new address: age and terms, then the account.
                        Some((email, _)) => view! {
                            <div>
                            <ActionForm action=google attr:class="stack notice" attr:data-testid="google-signup">
                                <p>{t("signup.google1")} " " <strong>{email}</strong> ". " {t("signup.google2")}</p>
                                <ConsentBoxes min_age/>
                                <button type="submit" class="primary">{t("signup.create_mine")}</button>
                            </ActionForm>
                            <ActionError value=Signal::derive(move || google.value().get())/>
                            </div>
                        }.into_any(),
                        None => view! { <div>{o.google.then(|| view! { <GoogleButton/> })}</div> }.into_any(),
                    };
                    view! {
                        {google_part}
                        <ActionForm action=session.sign_up attr:class="stack">
                            <label>{t("auth.email")} <input type="email" name="email" required autocomplete="email"/></label>
                            <label>{t("auth.password")} <input type="password" name="password" required minlength="10" maxlength="128" autocomplete="new-password"/>
                                <small>{t("signup.min")}</small>
                            </label>
                            <label>{t("signup.name")} <input type="text" name="display_name" required maxlength="50" autocomplete="nickname"/></label>
                            <ConsentBoxes min_age/>
                            <button type="submit" class="primary">{t("signup.create")}</button>
                        </ActionForm>
                    }
                })}
            </Suspense>
            <ActionError value=Signal::derive(move || session.sign_up.value().get())/>
            <p>{t("signup.have")} " " <A href="/signin">{t("nav.sign_in")}</A></p>
        </section>
    }
}

/// Sign-in with email and password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = expect_context::<crate::Session>();
    let query = leptos_router::hooks::use_query_map();
    let options = Resource::new(|| (), |_| crate::api::account::auth_options());
    view! {
        <Title text=title("nav.sign_in")/>
        <section class="page narrow">
            <h1>{t("auth.sign_in")}</h1>
            <ActionForm action=session.sign_in attr:class="stack">
                // Where to go afterwards (`?next=/credits/buy` from the pricing page); the
                // server keeps only paths of this site.
                {move || query.with(|m| m.get("next")).map(|next| view! { <input type="hidden" name="next" value=next/> })}
                <label>{t("auth.email")} <input type="email" name="email" required autocomplete="email"/></label>
                <label>{t("auth.password")} <input type="password" name="password" required autocomplete="current-password"/></label>
                <button type="submit" class="primary">{t("auth.sign_in")}</button>
            </ActionForm>
            <ActionError value=Signal::derive(move || session.sign_in.value().get())/>
            {move || (query.with(|m| m.get("reset").is_some())).then(|| view! { <p class="notice" data-testid="reset-done">{t("auth.reset_done")}</p> })}
            {move || {
                let code = query.with(|m| m.get("error").unwrap_or_default());
                let msg = match code.as_str() {
                    "" => None,
                    "google_unverified" => Some(t("google.unverified")),
                    "google_unavailable" => Some(t("google.unavailable")),
                    _ => Some(t("google.failed")),
                };
                msg.map(|m| view! { <p class="notice error" data-testid="signin-error">{m}</p> })
            }}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    options.await.ok().filter(|o| o.google).map(|_| view! { <GoogleButton/> })
                })}
            </Suspense>
            <p><A href="/forgot">{t("auth.forgot")}</A></p>
            <p>{t("auth.new_here")} " " <A href="/signup">{t("auth.create_account")}</A></p>
        </section>
    }
}
