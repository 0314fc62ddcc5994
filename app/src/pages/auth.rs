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

/// Sign-up: email, password, display name, age and terms.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let session = expect_context::<crate::Session>();
    view! {
        <Title text="Sign up · Darkroom"/>
        <section class="page narrow">
            <h1>"Create your account"</h1>
            <ActionForm action=session.sign_up attr:class="stack">
                <label>"Email" <input type="email" name="email" required autocomplete="email"/></label>
                <label>"Password" <input type="password" name="password" required minlength="10" maxlength="128" autocomplete="new-password"/>
                    <small>"At least 10 characters."</small>
                </label>
                <label>"Display name" <input type="text" name="display_name" required maxlength="50" autocomplete="nickname"/></label>
                <label class="check"><input type="checkbox" name="age_confirmed" required/> "I am 18 or older"</label>
                <label class="check"><input type="checkbox" name="terms_accepted" required/>
                    "I accept the " <a href="/terms" target="_blank">"terms"</a> " and have read the "
                    <a href="/privacy" target="_blank">"privacy notice"</a>
                </label>
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
            <p><A href="/forgot">{t("auth.forgot")}</A></p>
            <p>{t("auth.new_here")} " " <A href="/signup">{t("auth.create_account")}</A></p>
        </section>
    }
}
