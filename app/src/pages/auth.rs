use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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

/// The sign-up form's age confirmation and terms acceptance (both required).
#[component]
fn ConsentBoxes() -> impl IntoView {
    view! {
        <label class="check"><input type="checkbox" name="age_confirmed" required/> "I am 18 or older"</label>
        <label class="check"><input type="checkbox" name="terms_accepted" required/>
            "I accept the " <a href="/terms" target="_blank">"terms"</a> " and have read the "
            <a href="/privacy" target="_blank">"privacy notice"</a>
        </label>
    }
}

/// Starts Google sign-in (`/auth/google`, a full page load).
#[component]
fn GoogleButton() -> impl IntoView {
    view! { <p><a class="button" href="/auth/google" rel="external" data-testid="google">"Continue with Google"</a></p> }
}

/// Sign-up: email, password, display name, age and terms.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let session = expect_context::<crate::Session>();
    let options = Resource::new(|| (), |_| crate::api::account::auth_options());
    let google = ServerAction::<crate::api::account::SignUpGoogle>::new();
    view! {
        <Title text="Sign up · Darkroom"/>
        <section class="page narrow">
            <h1>"Create your account"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let o = options.await.ok()?;
                    Some(match o.google_signup {
                        // Back from Google with a new address: age and terms, then the account.
                        Some((email, _)) => view! {
                            <div>
                            <ActionForm action=google attr:class="stack notice" attr:data-testid="google-signup">
                                <p>"Google confirmed " <strong>{email}</strong> ". One more step:"</p>
                                <ConsentBoxes/>
                                <button type="submit" class="primary">"Create my account"</button>
                            </ActionForm>
                            <ActionError value=Signal::derive(move || google.value().get())/>
                            </div>
                        }.into_any(),
                        None => view! { {o.google.then(|| view! { <GoogleButton/> })} }.into_any(),
                    })
                })}
            </Suspense>
            <ActionForm action=session.sign_up attr:class="stack">
                <label>"Email" <input type="email" name="email" required autocomplete="email"/></label>
                <label>"Password" <input type="password" name="password" required minlength="10" maxlength="128" autocomplete="new-password"/>
                    <small>"At least 10 characters."</small>
                </label>
                <label>"Display name" <input type="text" name="display_name" required maxlength="50" autocomplete="nickname"/></label>
                <ConsentBoxes/>
                <button type="submit" class="primary">"Create account"</button>
            </ActionForm>
            <ActionError value=Signal::derive(move || session.sign_up.value().get())/>
            <p>"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </section>
    }
}

/// Sign-in with email and password.
#[component]
pub fn SignInPage() -> impl IntoView {
    use crate::i18n::t;
    let session = expect_context::<crate::Session>();
    let query = leptos_router::hooks::use_query_map();
    let options = Resource::new(|| (), |_| crate::api::account::auth_options());
    view! {
        <Title text="Sign in · Darkroom"/>
        <section class="page narrow">
            <h1>{t("auth.sign_in")}</h1>
            <ActionForm action=session.sign_in attr:class="stack">
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
                    "google_unverified" => Some("An account uses this address but has not confirmed it. Sign in with your password and confirm the address first; then Google sign-in works."),
                    "google_unavailable" => Some("Google sign-in is not reachable right now. Please try again later."),
                    _ => Some("Google sign-in did not succeed. Please try again."),
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
