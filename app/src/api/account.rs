//! Account server functions (SPEC §7): email links (verify, email change), password reset
//! and change, the settings page's data (sessions, security events, consents, exports),
//! ending sessions, training consent, preferences, terms acceptance, data export, account
//! deletion, and the administrators' terms versions. Rules live in
//! `darkroom_service::{accounts, legal, privacy}`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A session as the sessions list shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionView {
    /// The session's handle (`darkroom_service::accounts::session_handle`), never its id.
    pub id: String,
    /// Browser and system, read from the user agent.
    pub device: String,
    /// Truncated.
    pub ip: String,
    pub last_seen_at: i64,
    pub current: bool,
}

/// A security event as the member sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SecurityEventView {
    pub kind: String,
    pub ip: String,
    pub device: String,
    pub created_at: i64,
}

/// An export as the settings page lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExportView {
    pub id: String,
    pub status: String,
    pub bytes: Option<i64>,
    pub created_at: i64,
    /// The signed download link while it works.
    pub link: Option<String>,
}

/// The account settings page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccountView {
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    pub training_consent: bool,
    /// The member restricts processing of their data (no training use, no showcase).
    pub processing_restricted: bool,
    /// The member's display name appears with their public items (Explore, public pages).
    pub show_name: bool,
    pub theme: String,
    pub language: String,
    pub terms_version: String,
    pub sessions: Vec<SessionView>,
    pub events: Vec<SecurityEventView>,
    pub exports: Vec<ExportView>,
}

/// The current terms (or privacy) text and whether the viewer must accept it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LegalView {
    /// `None`: no version published; the built-in text applies.
    pub version: Option<String>,
    /// Sanitised HTML from the markdown.
    pub html: Option<String>,
    pub effective_at: Option<i64>,
    /// The signed-in member must accept this version before creating.
    pub must_accept: bool,
    /// Earlier versions: `(version, effective_at, material)`.
    pub history: Vec<(String, i64, bool)>,
    pub admin: bool,
}

/// `Firefox on Linux`-style words for a user agent (what a member recognises).
pub fn device(ua: &str) -> String {
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl")]
        .iter()
        .find(|(k, _)| ua.contains(k))
        .map_or("A browser", |(_, v)| v);
    let os = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
        .iter()
        .find(|(k, _)| ua.contains(k))
        .map(|(_, v)| *v);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_string(),
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    pub use crate::api::ssr::{admin, client, fail, member, state};
    use leptos::prelude::*;

    pub fn store_err(e: darkroom_store::StoreError) -> ServerFnError {
        fail(e.into())
    }

    /// Ends these sessions in the session store.
    pub async fn end(ids: &[String]) {
        if let Some(store) = use_context::<darkroom_service::auth::SessionStoreRef>() {
            darkroom_service::auth::end_sessions(&store, ids).await;
        }
    }

    /// Sets the preference cookie (`<theme>.<language>`, a year, readable by the page's
    /// script since it holds nothing secret).
    pub fn set_pref_cookie(state: &darkroom_service::AppState, theme: &str, language: &str) {
        if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
            let secure = if state.config.secure_cookies { "; Secure" } else { "" };
            let cookie = format!("{}={theme}.{language}; Path=/; Max-Age=31536000; SameSite=Lax{secure}", crate::i18n::PREF_COOKIE);
            if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
                opts.append_header(axum::http::header::SET_COOKIE, v);
            }
        }
    }

    /// The current session's id.
    pub async fn current_session() -> Option<String> {
        crate::api::ssr::auth().await.ok().and_then(|a| a.session.id()).map(|i| i.to_string())
    }
}

/// Uses a mailed link: `token` (sign-up confirmation: also signs this browser in) or
/// `change` (a new address). Returns what to tell the member. Browsers open links through
/// `GET /verify` (`server/src/routes/account.rs`), which does the same and redirects.
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: Option<String>, change: Option<String>) -> Result<String, ServerFnError> {
    use darkroom_service::accounts::{use_link, LinkOutcome};
    let state = ssr::state()?;
    let client = ssr::client().await;
    match use_link(&state, token.as_deref(), change.as_deref(), &client.origin).await.map_err(ssr::fail)? {
        LinkOutcome::Verified(user) => {
            let mut auth = crate::api::ssr::auth().await?;
            darkroom_service::auth::sign_in_from_link(&state.store, &mut auth, user, &client.origin).await.map_err(ssr::fail)?;
            Ok(crate::pages::account::link_message("verified").into())
        }
        LinkOutcome::EmailChanged => Ok(crate::pages::account::link_message("changed").into()),
    }
}

/// Mails the signed-in member a new verification link.
#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    state.auth_limits.check(client.ip, Some(&format!("verify:{}", user.id))).await.map_err(ssr::fail)?;
    let u = state.store.user(&user.id).await.map_err(ssr::store_err)?;
    if u.email_verified_at.is_none() {
        darkroom_service::accounts::send_verification(&state, &u.id, &u.email, &client.base).await.map_err(ssr::fail)?;
    }
    Ok(())
}

/// "Forgot password": mails a reset link if the address has an account; the answer is the
/// same either way.
#[server(endpoint = "request_reset")]
pub async fn request_reset(email: String) -> Result<String, ServerFnError> {
    let state = ssr::state()?;
    let client = ssr::client().await;
    darkroom_service::accounts::check_email(&email).map_err(ssr::fail)?;
    let msg = darkroom_service::accounts::request_reset(&state, &email, client.ip, client.origin, &client.base).await.map_err(ssr::fail)?;
    Ok(msg.into())
}

/// Sets a new password from a reset link; every session of the account ends. Goes to the
/// sign-in page.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), ServerFnError> {
    let state = ssr::state()?;
    let client = ssr::client().await;
    let user = darkroom_service::accounts::reset_password(&state, &token, &password, &client.origin).await.map_err(ssr::fail)?;
    let ids = state.store.end_user_sessions(&user, None, None).await.map_err(ssr::store_err)?;
    ssr::end(&ids).await;
    leptos_axum::redirect("/signin?reset=1");
    Ok(())
}

/// The settings page's account data.
#[server(endpoint = "account_page")]
pub async fn account_page() -> Result<AccountView, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let u = state.store.user(&user.id).await.map_err(ssr::store_err)?;
    let current = ssr::current_session().await;
    let now = darkroom_store::now_ms();
    let sessions = state.store.user_sessions(&u.id).await.map_err(ssr::store_err)?;
    let events = state.store.security_events(&u.id, 50).await.map_err(ssr::store_err)?;
    let exports = state.store.exports(&u.id).await.map_err(ssr::store_err)?;
    Ok(AccountView {
        email: u.email,
        display_name: u.display_name,
        email_verified: u.email_verified_at.is_some(),
        training_consent: u.training_consent_at.is_some(),
        processing_restricted: u.processing_restricted_at.is_some(),
        show_name: u.show_name_at.is_some(),
        theme: u.theme,
        language: u.language,
        terms_version: u.terms_version,
        sessions: sessions
            .into_iter()
            .map(|s| SessionView {
                current: current.as_deref() == Some(s.session_id.as_str()),
                device: device(&s.user_agent),
                ip: s.ip,
                last_seen_at: s.last_seen_at,
                id: darkroom_service::accounts::session_handle(&s.session_id),
            })
            .collect(),
        events: events.into_iter().map(|e| SecurityEventView { kind: e.kind, ip: e.ip, device: device(&e.user_agent), created_at: e.created_at }).collect(),
        exports: exports
            .into_iter()
            .map(|x| ExportView {
                link: match (x.status.as_str(), x.expires_at) {
                    ("ready", Some(exp)) if exp > now => Some(state.signer.sign_export(&x.id, exp as u64 / 1000)),
                    _ => None,
                },
                id: x.id,
                status: x.status,
                bytes: x.bytes,
                created_at: x.created_at,
            })
            .collect(),
    })
}

/// Ends one of the member's sessions (`id`: its handle from [`account_page`]), or every
/// other one (`id` empty). Errors: this session's own handle (use sign-out), a handle of
/// no session of this member (404).
#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<usize, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    let current = ssr::current_session().await;
    let ids = if id.is_empty() {
        state.store.end_user_sessions(&user.id, None, current.as_deref()).await
    } else if current.as_deref().map(darkroom_service::accounts::session_handle) == Some(id.clone()) {
        return Err(ssr::fail(darkroom_service::ServiceError::Invalid("Use “Sign out” for this session.".into())));
    } else {
        // `id` is a handle: find the member's own session it names.
        let sessions = state.store.user_sessions(&user.id).await.map_err(ssr::store_err)?;
        let Some(s) = sessions.into_iter().find(|s| darkroom_service::accounts::session_handle(&s.session_id) == id) else {
            return Err(ssr::fail(darkroom_service::ServiceError::NotFound));
        };
        state.store.end_user_sessions(&user.id, Some(&s.session_id), None).await
    }
    .map_err(ssr::store_err)?;
    ssr::end(&ids).await;
    let detail = if id.is_empty() { "every other session" } else { "one session" };
    state.store.security_event(&user.id, "sessions_ended", &client.origin, detail).await.map_err(ssr::store_err)?;
    Ok(ids.len())
}

/// Changes the password (needs the current one); other sessions end, this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    state.auth_limits.check(client.ip, Some(&format!("password:{}", user.id))).await.map_err(ssr::fail)?;
    darkroom_service::accounts::change_password(&state, &user.id, &current, &new, &client.origin).await.map_err(ssr::fail)?;
    let this = ssr::current_session().await;
    let ids = state.store.end_user_sessions(&user.id, None, this.as_deref()).await.map_err(ssr::store_err)?;
    ssr::end(&ids).await;
    // Keep this session: it now carries the new password's hash.
    let fresh = state.store.user(&user.id).await.map_err(ssr::store_err)?;
    let mut auth = crate::api::ssr::auth().await?;
    auth.login(&fresh.into()).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(())
}

/// Starts moving the account to `email` (needs the password): a link goes to the new address.
#[server(endpoint = "change_email")]
pub async fn change_email(password: String, email: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    state.auth_limits.check(client.ip, Some(&format!("password:{}", user.id))).await.map_err(ssr::fail)?;
    darkroom_service::accounts::request_email_change(&state, &user.id, &password, &email, &client.origin, &client.base).await.map_err(ssr::fail)
}

/// Opts in to (`consent` set) or out of training use of the member's images; recorded.
#[server(endpoint = "set_training_consent")]
pub async fn set_training_consent(consent: Option<String>) -> Result<bool, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    let on = consent.is_some_and(|c| !c.is_empty());
    let ip_hash = darkroom_service::accounts::ip_hash(&state, client.ip);
    state.store.record_consent(&user.id, "training", "", on, &ip_hash).await.map_err(ssr::store_err)?;
    Ok(on)
}

/// Shows (`show` set) or stops showing the member's display name with their public items
/// (Explore, public pages); off by default. Audited. Returns the new state.
#[server(endpoint = "set_show_name")]
pub async fn set_show_name(show: Option<String>) -> Result<bool, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let on = show.is_some_and(|s| !s.is_empty());
    state.store.set_show_name(&user.id, on).await.map_err(ssr::store_err)?;
    Ok(on)
}

/// Changes the member's display name (1 to 50 characters; audited). Errors: 400 naming the rule.
#[server(endpoint = "set_display_name")]
pub async fn set_display_name(display_name: Option<String>) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    darkroom_service::accounts::set_display_name(&state, &user.id, display_name.as_deref().unwrap_or("")).await.map_err(ssr::fail)
}

/// Restricts processing of the member's data (`restrict` set) or lifts the restriction:
/// while it holds, no training use (the consent is withdrawn and recorded) and no showcase
/// (cleared on every item, refused for new ones). Audited. Returns the new state.
#[server(endpoint = "set_processing_restricted")]
pub async fn set_processing_restricted(restrict: Option<String>) -> Result<bool, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    let on = restrict.is_some_and(|c| !c.is_empty());
    let ip_hash = darkroom_service::accounts::ip_hash(&state, client.ip);
    state.store.set_processing_restricted(&user.id, on, &ip_hash).await.map_err(ssr::store_err)?;
    Ok(on)
}

/// Theme (`light`, `dark`, `system`) and language (`en`, `de`), for the member and in a
/// preference cookie (visitors too).
#[server(endpoint = "set_preferences")]
pub async fn set_preferences(theme: String, language: String) -> Result<(), ServerFnError> {
    use darkroom_service::ServiceError;
    let state = ssr::state()?;
    if !["light", "dark", "system"].contains(&theme.as_str()) || !crate::i18n::LANGUAGES.iter().any(|(l, _)| *l == language) {
        return Err(ssr::fail(ServiceError::Invalid("Unknown theme or language.".into())));
    }
    if let Some(user) = crate::api::ssr::auth().await?.user {
        state.store.set_preferences(&user.id, &theme, &language).await.map_err(ssr::store_err)?;
    }
    ssr::set_pref_cookie(&state, &theme, &language);
    Ok(())
}

/// The current terms (`doc` `terms`) or privacy notice (`privacy`).
#[server(endpoint = "legal_page")]
pub async fn legal_page(doc: String) -> Result<LegalView, ServerFnError> {
    let state = ssr::state()?;
    if doc != "terms" && doc != "privacy" {
        return Err(ssr::fail(darkroom_service::ServiceError::NotFound));
    }
    let now = darkroom_store::now_ms();
    let versions = state.store.legal_versions(&doc).await.map_err(ssr::store_err)?;
    let current = versions.iter().find(|v| v.effective_at <= now).cloned();
    let user = crate::api::ssr::auth().await?.user;
    let (must_accept, admin) = match &user {
        Some(u) => {
            let full = state.store.user(&u.id).await.map_err(ssr::store_err)?;
            let pending = if doc == "terms" { darkroom_service::legal::pending_terms(&state, &full.terms_version, now).await.map_err(ssr::fail)?.is_some() } else { false };
            (pending, u.role == "admin")
        }
        None => (false, false),
    };
    Ok(LegalView {
        html: current.as_ref().map(|v| darkroom_service::legal::to_html(&v.body)),
        version: current.as_ref().map(|v| v.version.clone()),
        effective_at: current.as_ref().map(|v| v.effective_at),
        must_accept,
        history: versions.iter().map(|v| (v.version.clone(), v.effective_at, v.material == 1)).collect(),
        admin,
    })
}

/// The member accepts the current terms version (recorded with time and IP hash).
#[server(endpoint = "accept_terms")]
pub async fn accept_terms(version: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    let current = darkroom_service::legal::current_terms_version(&state, darkroom_store::now_ms()).await.map_err(ssr::fail)?;
    if version != current {
        return Err(ssr::fail(darkroom_service::ServiceError::Conflict("The terms changed again; reload the page.".into())));
    }
    let ip_hash = darkroom_service::accounts::ip_hash(&state, client.ip);
    state.store.record_consent(&user.id, "terms", &version, true, &ip_hash).await.map_err(ssr::store_err)?;
    Ok(())
}

/// An administrator publishes a terms or privacy version: markdown `body`, `effective` date
/// (`YYYY-MM-DD`, UTC; empty: now), `material` checkbox. Audited.
#[server(endpoint = "publish_legal")]
pub async fn publish_legal(doc: String, version: String, body: String, effective: String, material: Option<String>) -> Result<(), ServerFnError> {
    use darkroom_service::ServiceError;
    let (state, user) = ssr::admin("publish terms").await?;
    let version = version.trim();
    darkroom_service::legal::check_version(&doc, version, &body).map_err(ssr::fail)?;
    let effective_at = match effective.trim() {
        "" => darkroom_store::now_ms(),
        d => darkroom_service::credits::day_start_ms(d).ok_or_else(|| ssr::fail(ServiceError::Invalid("The date is YYYY-MM-DD.".into())))?,
    };
    state.store.publish_legal(&user.id, &doc, version, &body, effective_at, material.is_some_and(|m| !m.is_empty())).await.map_err(ssr::store_err)?;
    Ok(())
}

/// Starts a data export; a mail says when the archive is ready.
#[server(endpoint = "request_export")]
pub async fn request_export() -> Result<String, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    state.auth_limits.check(None, Some(&format!("export:{}", user.id))).await.map_err(ssr::fail)?;
    darkroom_service::privacy::start_export(&state, &user.id, &client.base).await.map_err(ssr::fail)
}

/// Deletes the account for good: needs the password (or, for an account made with Google and
/// no password, a Google sign-in in the last 10 minutes) and `confirm` = `DELETE`. Signs out
/// everywhere, revokes API keys, removes media and personal data.
#[server(endpoint = "delete_account")]
pub async fn delete_account(password: String, confirm: String) -> Result<(), ServerFnError> {
    use darkroom_service::ServiceError;
    let (state, user) = ssr::member().await?;
    let client = ssr::client().await;
    state.auth_limits.check(client.ip, Some(&format!("password:{}", user.id))).await.map_err(ssr::fail)?;
    if confirm.trim() != "DELETE" {
        return Err(ssr::fail(ServiceError::Invalid("Type DELETE to confirm.".into())));
    }
    let full = state.store.user(&user.id).await.map_err(ssr::store_err)?;
    if full.password_hash.is_empty() {
        let at: Option<i64> = crate::api::ssr::auth().await?.session.get(darkroom_service::oidc::REAUTH_KEY).await.ok().flatten();
        if at.is_none_or(|t| darkroom_store::now_ms() - t > 600_000) {
            return Err(ssr::fail(ServiceError::Unauthorized("Sign in with Google again, then delete within 10 minutes.".into())));
        }
    } else {
        darkroom_service::accounts::check_current_password(&state, &user.id, &password).await.map_err(ssr::fail)?;
    }
    let ids = darkroom_service::privacy::delete_account(&state, &user.id).await.map_err(ssr::fail)?;
    ssr::end(&ids).await;
    let mut auth = crate::api::ssr::auth().await?;
    let _ = auth.logout().await;
    leptos_axum::redirect("/?deleted=1");
    Ok(())
}

/// What the sign-in and sign-up pages offer: Google sign-in (when configured) and, after a
/// Google sign-in with a new address, that identity waiting for age and terms; and the
/// minimum age the sign-up form asks to confirm.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuthChoices {
    pub google: bool,
    /// `(email, name)` Google verified, when a sign-up with it is pending.
    pub google_signup: Option<(String, String)>,
    /// The age, in years, a member must have reached (the operator's settings).
    pub min_age: u32,
}

/// See [`AuthChoices`].
#[server(endpoint = "auth_options")]
pub async fn auth_options() -> Result<AuthChoices, ServerFnError> {
    let state = ssr::state()?;
    let auth = crate::api::ssr::auth().await?;
    let pending: Option<darkroom_service::oidc::Identity> = auth.session.get(darkroom_service::oidc::SIGNUP_KEY).await.ok().flatten();
    let min_age = darkroom_service::settings::get(&state).await.map_err(ssr::fail)?.min_age;
    Ok(AuthChoices { google: darkroom_service::oidc::enabled(&state.config), google_signup: pending.map(|p| (p.email, p.name)), min_age })
}

/// Makes the account for the identity Google verified (kept in the session by the callback),
/// once age and terms are confirmed; signs it in and goes to the create page.
#[server(endpoint = "sign_up_google")]
pub async fn sign_up_google(age_confirmed: Option<String>, terms_accepted: Option<String>) -> Result<(), ServerFnError> {
    let state = ssr::state()?;
    let client = ssr::client().await;
    let mut auth = crate::api::ssr::auth().await?;
    let who: darkroom_service::oidc::Identity = auth
        .session
        .get(darkroom_service::oidc::SIGNUP_KEY)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| ssr::fail(darkroom_service::ServiceError::Invalid("Sign in with Google again.".into())))?;
    let user = darkroom_service::accounts::sign_up_with_identity(&state, &who, age_confirmed.is_some(), terms_accepted.is_some(), client.ip).await.map_err(ssr::fail)?;
    let _ = auth.session.remove::<darkroom_service::oidc::Identity>(darkroom_service::oidc::SIGNUP_KEY).await;
    darkroom_service::auth::sign_in(&state.store, &mut auth, user.into(), &client.origin, "google").await.map_err(ssr::fail)?;
    leptos_axum::redirect("/create");
    Ok(())
}
