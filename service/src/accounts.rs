//! Sign-up rules: a valid email, a display name, a password within limits, the minimum age
//! confirmed and the current terms accepted (SPEC §7). The grant comes from the config.

use darkroom_store::users::{NewUser, User};

use crate::{auth, AppState, ServiceError};

/// What the sign-up form sends.
pub struct SignUp<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
    /// "I am N or older" ticked.
    pub age_confirmed: bool,
    /// "I accept the terms" ticked.
    pub terms_accepted: bool,
    /// The client's address (rate limits; kept hashed with the consents).
    pub ip: Option<std::net::IpAddr>,
    /// The site's absolute URL, for the verification link.
    pub base: &'a str,
}

/// Checks an email's shape: one `@`, something on both sides, a dot in the domain, ≤ 254 chars.
pub fn check_email(email: &str) -> Result<(), ServiceError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'))
        && !e.chars().any(char::is_whitespace);
    if ok { Ok(()) } else { Err(ServiceError::Invalid("Enter a valid email address.".into())) }
}

/// A display name, trimmed: 1 to 50 characters, none of them control characters.
///
/// Errors: [`ServiceError::Invalid`] saying what a name must be.
pub fn check_display_name(name: &str) -> Result<&str, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 || name.chars().any(char::is_control) {
        return Err(ServiceError::Invalid("Enter a display name of 1 to 50 characters.".into()));
    }
    Ok(name)
}

/// Changes the member's display name (a correction of their data; audited).
///
/// Errors: [`ServiceError::Invalid`] for a name [`check_display_name`] refuses; the store's.
pub async fn set_display_name(state: &AppState, user_id: &str, name: &str) -> Result<(), ServiceError> {
    let name = check_display_name(name)?;
    state.store.set_display_name(user_id, name).await?;
    Ok(())
}

/// The sign-up boxes: the minimum age confirmed and the terms accepted.
///
/// Errors: [`ServiceError::Invalid`] saying which box is missing.
fn check_boxes(settings: &crate::settings::Settings, age_confirmed: bool, terms_accepted: bool) -> Result<(), ServiceError> {
    if !age_confirmed {
        return Err(ServiceError::Invalid(format!("You must be {} or older to use this service.", settings.min_age)));
    }
    if !terms_accepted {
        return Err(ServiceError::Invalid("Please accept the terms of service.".into()));
    }
    Ok(())
}

/// What a consent record keeps of the client's address: a keyed hash (HMAC with the media
/// key), empty when unknown.
pub fn ip_hash(state: &AppState, ip: Option<std::net::IpAddr>) -> String {
    ip.map(|ip| state.signer.keyed_hash(&ip.to_string())).unwrap_or_default()
}

/// What pages and the API call a session: the first 16 bytes of SHA-256 over its id, as 32
/// hex characters. The id itself is the session cookie's value (HttpOnly) and never goes
/// into a page, where a script could read it.
pub fn session_handle(session_id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(session_id.as_bytes())[..16])
}

/// The consents sign-up records: the operator's minimum age and the terms version accepted.
async fn record_sign_up_consents(state: &AppState, user: &User, min_age: u32, ip: Option<std::net::IpAddr>) -> Result<(), ServiceError> {
    let hash = ip_hash(state, ip);
    state.store.record_consent(&user.id, "age", &min_age.to_string(), true, &hash).await?;
    state.store.record_consent(&user.id, "terms", &user.terms_version, true, &hash).await?;
    Ok(())
}

/// Creates a member account with the sign-up grant, records the age and terms consents
/// (version, time, keyed hash of the IP) and mails the verification link; the link signs
/// them in. Returns `None` when the address already has an account: then nothing is made and
/// the owner is mailed a note instead, so the answer (and its timing: mail goes out in the
/// background either way) never tells whether an address is registered.
///
/// Errors: [`ServiceError::RateLimited`] (per IP); [`ServiceError::Invalid`] naming the field
/// to fix.
pub async fn sign_up(state: &AppState, form: SignUp<'_>) -> Result<Option<User>, ServiceError> {
    state.auth_limits.check(form.ip, None).await?;
    check_email(form.email)?;
    let name = check_display_name(form.display_name)?;
    auth::check_password(form.password)?;
    let settings = crate::settings::get(state).await?;
    check_boxes(&settings, form.age_confirmed, form.terms_accepted)?;
    let hash = auth::hash_password_off_thread(form.password).await?;
    let terms_version = crate::legal::current_terms_version(state, darkroom_store::now_ms()).await?;
    let user = state
        .store
        .create_user(NewUser {
            email: form.email,
            password_hash: &hash,
            display_name: name,
            role: "member",
            terms_version: &terms_version,
            signup_grant: settings.signup_grant,
            email_verified: false,
        })
        .await;
    let (state, base) = (state.clone(), form.base.to_string());
    let user = match user {
        Ok(user) => user,
        Err(darkroom_store::StoreError::Conflict(_)) => {
            let to = darkroom_store::users::normalize_email(form.email);
            tokio::spawn(async move {
                let mail = Mail::with_link(
                    "Someone tried to sign up with your address",
                    &["Someone (perhaps you) tried to create a Darkroom account with this email address. It already has an account, so nothing changed."],
                    "Sign in",
                    &format!("{base}/signin"),
                    "Forgot the password? Choose a new one from the sign-in page. If it was not you, you can ignore this message.",
                );
                if let Err(e) = state.mailer.send(&to, mail).await {
                    tracing::warn!(error = %e, "sign-up notice not sent");
                }
            });
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    record_sign_up_consents(&state, &user, settings.min_age, form.ip).await?;
    let (id, email) = (user.id.clone(), user.email.clone());
    tokio::spawn(async move {
        if let Err(e) = send_verification(&state, &id, &email, &base).await {
            tracing::warn!(error = %e, "verification mail not sent");
        }
    });
    Ok(Some(user))
}

/// Creates an account for an identity Google verified (no password: it signs in with Google
/// or sets one through "forgot password"), once the person confirmed age and terms. The
/// address counts as confirmed.
///
/// Errors: as [`sign_up`], without the email and password checks.
pub async fn sign_up_with_identity(state: &AppState, who: &crate::oidc::Identity, age_confirmed: bool, terms_accepted: bool, ip: Option<std::net::IpAddr>) -> Result<User, ServiceError> {
    state.auth_limits.check(ip, None).await?;
    let settings = crate::settings::get(state).await?;
    check_boxes(&settings, age_confirmed, terms_accepted)?;
    let terms_version = crate::legal::current_terms_version(state, darkroom_store::now_ms()).await?;
    let name = if who.name.trim().is_empty() { who.email.split('@').next().unwrap_or("Member").to_string() } else { who.name.trim().to_string() };
    let user = state
        .store
        .create_user(NewUser {
            email: &who.email,
            password_hash: "",
            display_name: &name.chars().take(50).collect::<String>(),
            role: "member",
            terms_version: &terms_version,
            signup_grant: settings.signup_grant,
            email_verified: true,
        })
        .await
        .map_err(|e| match e {
            darkroom_store::StoreError::Conflict(_) => ServiceError::Conflict("An account with this email already exists. Sign in instead.".into()),
            other => other.into(),
        })?;
    record_sign_up_consents(state, &user, settings.min_age, ip).await?;
    Ok(user)
}

/// Creates an admin account (the `create-admin` command), or promotes an existing account.
pub async fn create_admin(state: &AppState, email: &str, password: &str, display_name: &str) -> Result<User, ServiceError> {
    check_email(email)?;
    auth::check_password(password)?;
    let store = &state.store;
    let user = match store.user_by_email(email).await? {
        Some(u) => u,
        None => {
            let hash = auth::hash_password(password);
            store
                .create_user(NewUser {
                    email,
                    password_hash: &hash,
                    display_name,
                    role: "admin",
                    terms_version: &state.config.terms_version,
                    signup_grant: 0,
                    email_verified: true,
                })
                .await?
        }
    };
    store.set_role(&user.id, "admin").await?;
    store.audit(None, "create_admin", &user.id, "created from the command line").await?;
    Ok(store.user(&user.id).await?)
}

/// Roles an account can have (SPEC §2).
pub const ROLES: [&str; 3] = ["member", "moderator", "admin"];

/// Gives the account with `email` a role (operator command line; audited).
///
/// Errors: [`ServiceError::Invalid`] for an unknown role, [`ServiceError::NotFound`] for an
/// unknown email.
pub async fn set_role(state: &AppState, email: &str, role: &str) -> Result<User, ServiceError> {
    if !ROLES.contains(&role) {
        return Err(ServiceError::Invalid(format!("The role is one of {}.", ROLES.join(", "))));
    }
    let store = &state.store;
    let user = store.user_by_email(email).await?.ok_or(ServiceError::NotFound)?;
    store.set_role(&user.id, role).await?;
    store.audit(None, "set_role", &user.id, &format!("role {role} from the command line")).await?;
    Ok(store.user(&user.id).await?)
}

// ---- Email verification, password reset and change, email change (SPEC §7) ----

use std::net::IpAddr;
use darkroom_store::accounts::{Origin, Purpose};
use darkroom_store::cluster::Rate;

use crate::limits::{Counter, Limiter};

use crate::mail::Mail;

/// How long a verification link works, in milliseconds (24 h).
pub const VERIFY_TTL_MS: i64 = 24 * 3_600_000;
/// How long a password-reset link works (1 h).
pub const RESET_TTL_MS: i64 = 3_600_000;
/// How long an email-change link works (24 h).
pub const EMAIL_CHANGE_TTL_MS: i64 = 24 * 3_600_000;

/// The client address as kept in security events and session lists: IPv4 to its /24
/// (`203.0.113.0/24`), IPv6 to its /48.
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Where a request came from, as kept.
pub fn origin(ip: Option<IpAddr>, user_agent: &str) -> Origin {
    Origin { ip: ip.map(truncate_ip).unwrap_or_default(), user_agent: user_agent.chars().take(300).collect() }
}

/// [`origin`] of a request: its client IP and its `User-Agent` header (empty when absent or
/// not text).
pub fn request_origin(ip: Option<IpAddr>, headers: &reqwest::header::HeaderMap) -> Origin {
    origin(ip, headers.get(reqwest::header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""))
}

/// Sign-in, sign-up and reset limits: per client IP (`per_ip_per_hour`) and per email address
/// (`per_account` at once, then one every 3 minutes: a lockout that backs off). Keys are
/// normalised emails whether or not an account has them, so the answers never tell. Counted
/// for the whole cluster on PostgreSQL ([`crate::limits`]).
pub struct AuthLimits {
    per_ip: Limiter,
    per_account: Limiter,
}

impl AuthLimits {
    pub fn new(counter: &Counter, per_ip_per_hour: u32, per_account: u32) -> Self {
        Self {
            per_ip: Limiter::new("auth-ip", Rate::per(per_ip_per_hour, 3_600_000), counter),
            per_account: Limiter::new("auth-account", Rate { interval_ms: 180_000, burst: i64::from(per_account.max(1)) }, counter),
        }
    }

    /// Takes one attempt for `ip` and, if given, for `email`.
    ///
    /// Errors: [`ServiceError::RateLimited`] with the seconds to wait.
    pub async fn check(&self, ip: Option<IpAddr>, email: Option<&str>) -> Result<(), ServiceError> {
        if let Some(ip) = ip {
            self.per_ip.check(&ip.to_string()).await?;
        }
        if let Some(email) = email {
            self.per_account.check(&darkroom_store::users::normalize_email(email)).await?;
        }
        Ok(())
    }
}

/// Mails the member a link that confirms their address (valid 24 h; earlier links stop
/// working). `base` is the site's absolute URL.
pub async fn send_verification(state: &AppState, user_id: &str, email: &str, base: &str) -> Result<(), ServiceError> {
    let (token, hash) = crate::sharing::new_token();
    state.store.issue_token(user_id, Purpose::Verify, &hash, None, VERIFY_TTL_MS).await?;
    let mail = Mail::with_link(
        "Confirm your email address",
        &["Welcome to Darkroom. Please confirm that this is your email address; then you can start creating."],
        "Confirm my address",
        &format!("{base}/verify?token={token}"),
        "The link works for 24 hours. If you did not sign up, ignore this message.",
    );
    state.mailer.send(email, mail).await
}

/// Confirms an address with the token from a verification mail. Returns the member's id.
///
/// Errors: [`ServiceError::Invalid`] for an unknown, used or expired link.
pub async fn verify_email(state: &AppState, token: &str, origin: &Origin) -> Result<String, ServiceError> {
    match state.store.verify_email(&crate::sharing::token_hash(token.trim()), origin).await {
        Err(darkroom_store::StoreError::NotFound) => Err(ServiceError::Invalid("This link is not valid any more. Sign in and ask for a new one.".into())),
        other => Ok(other?),
    }
}

/// What a mailed link did.
pub enum LinkOutcome {
    /// Sign-up confirmed: the member to sign in (the link proves the mailbox).
    Verified(User),
    /// The account moved to the new address.
    EmailChanged,
}

/// Uses a mailed link: `token` (sign-up confirmation) or `change` (a new address).
///
/// Errors: [`ServiceError::Invalid`] for a bad, used or expired link; [`ServiceError::Conflict`]
/// for a new address another account took meanwhile.
pub async fn use_link(state: &AppState, token: Option<&str>, change: Option<&str>, origin: &Origin) -> Result<LinkOutcome, ServiceError> {
    match (token.filter(|t| !t.is_empty()), change.filter(|t| !t.is_empty())) {
        (Some(t), _) => {
            let id = verify_email(state, t, origin).await?;
            Ok(LinkOutcome::Verified(state.store.user(&id).await?))
        }
        (None, Some(t)) => {
            confirm_email_change(state, t, origin).await?;
            Ok(LinkOutcome::EmailChanged)
        }
        _ => Err(ServiceError::Invalid("This link is incomplete.".into())),
    }
}

/// The answer to a reset request, whether or not the address has an account.
pub const RESET_SENT: &str = "If an account uses that address, we sent it a link to choose a new password. The link works for one hour.";

/// Mails a password-reset link (valid 1 h, single use; earlier links stop working) if an
/// account has `email`. Answers the same either way (no account oracle); the mail is sent
/// in the background so the timing does not tell either.
///
/// Errors: [`ServiceError::RateLimited`] (per IP and per address, the same for every address).
pub async fn request_reset(state: &AppState, email: &str, ip: Option<IpAddr>, origin: Origin, base: &str) -> Result<&'static str, ServiceError> {
    state.auth_limits.check(ip, Some(email)).await?;
    let user = state.store.user_by_email(email).await?;
    // Accounts made with Google have no password yet: this is how they set one.
    if let Some(user) = user {
        let state = state.clone();
        let base = base.to_string();
        tokio::spawn(async move {
            let (token, hash) = crate::sharing::new_token();
            let sent = async {
                state.store.issue_token(&user.id, Purpose::Reset, &hash, None, RESET_TTL_MS).await?;
                state.store.security_event(&user.id, "password_reset_requested", &origin, "").await?;
                let mail = Mail::with_link(
                    "Choose a new password",
                    &["Someone (we hope you) asked to reset the password of your Darkroom account."],
                    "Choose a new password",
                    &format!("{base}/reset?token={token}"),
                    "The link works once, for one hour. Choosing a new password signs you out everywhere. If you did not ask, ignore this message: your password stays as it is.",
                );
                state.mailer.send(&user.email, mail).await
            };
            if let Err(e) = sent.await {
                tracing::warn!(error = %e, "password reset mail not sent");
            }
        });
    }
    Ok(RESET_SENT)
}

/// Sets a new password with the token from a reset mail; every session of the account ends.
///
/// Errors: [`ServiceError::Invalid`] for a bad password or an unknown, used or expired link.
pub async fn reset_password(state: &AppState, token: &str, password: &str, origin: &Origin) -> Result<String, ServiceError> {
    auth::check_password(password)?;
    let hash = auth::hash_password_off_thread(password).await?;
    let user = match state.store.reset_password(&crate::sharing::token_hash(token.trim()), &hash, origin).await {
        Err(darkroom_store::StoreError::NotFound) => return Err(ServiceError::Invalid("This link is not valid any more. Ask for a new one.".into())),
        other => other?,
    };
    Ok(user)
}

/// Checks the member's current password (argon2, off the async threads).
///
/// Errors: [`ServiceError::Unauthorized`] when it does not match.
pub async fn check_current_password(state: &AppState, user_id: &str, password: &str) -> Result<darkroom_store::users::User, ServiceError> {
    let user = state.store.user(user_id).await?;
    let (hash, password) = (user.password_hash.clone(), password.to_string());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await.unwrap_or(false);
    if ok { Ok(user) } else { Err(ServiceError::Unauthorized("The current password is not right.".into())) }
}

/// Changes the password (needs the current one). Other sessions end at their next request
/// (their password hash no longer matches); the caller keeps this one signed in.
pub async fn change_password(state: &AppState, user_id: &str, current: &str, new: &str, origin: &Origin) -> Result<(), ServiceError> {
    check_current_password(state, user_id, current).await?;
    auth::check_password(new)?;
    let hash = auth::hash_password_off_thread(new).await?;
    state.store.set_password(user_id, &hash, origin).await?;
    Ok(())
}

/// Starts an email change (needs the password): a link to the new address (24 h) that
/// moves the account there, verified. The answer is the same whether the new address is
/// taken or not; a taken one fails when the link is used.
pub async fn request_email_change(state: &AppState, user_id: &str, password: &str, new_email: &str, origin: &Origin, base: &str) -> Result<(), ServiceError> {
    check_email(new_email)?;
    check_current_password(state, user_id, password).await?;
    let new_email = darkroom_store::users::normalize_email(new_email);
    let (token, hash) = crate::sharing::new_token();
    state.store.issue_token(user_id, Purpose::EmailChange, &hash, Some(&new_email), EMAIL_CHANGE_TTL_MS).await?;
    state.store.security_event(user_id, "email_change_requested", origin, "").await?;
    let mail = Mail::with_link(
        "Confirm your new email address",
        &["You asked to move your Darkroom account to this address."],
        "Use this address",
        &format!("{base}/verify?change={token}"),
        "The link works for 24 hours. If you did not ask, ignore this message.",
    );
    state.mailer.send(&new_email, mail).await
}

/// Moves the account to the address of an email-change link. Returns the member's id.
///
/// Errors: [`ServiceError::Invalid`] for a bad link; [`ServiceError::Conflict`] if the address
/// now belongs to another account.
pub async fn confirm_email_change(state: &AppState, token: &str, origin: &Origin) -> Result<String, ServiceError> {
    match state.store.change_email(&crate::sharing::token_hash(token.trim()), origin).await {
        Err(darkroom_store::StoreError::NotFound) => Err(ServiceError::Invalid("This link is not valid any more.".into())),
        Err(darkroom_store::StoreError::Conflict(_)) => Err(ServiceError::Conflict("That address belongs to another account.".into())),
        Ok((user, _)) => Ok(user),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_are_truncated() {
        assert_eq!(truncate_ip("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(truncate_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348".parse().unwrap()), "2001:db8:85a3::/48");
    }

    #[tokio::test]
    async fn limits_lock_an_address_whoever_owns_it_and_back_off() {
        let l = AuthLimits::new(&Counter::InProcess, 1000, 3);
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..3 {
            l.check(Some(ip), Some("Someone@Example.com")).await.unwrap();
        }
        match l.check(Some(ip), Some("someone@example.com")).await {
            Err(ServiceError::RateLimited { retry_after_secs }) => assert!((1..=180).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("{other:?}"),
        }
        l.check(Some(ip), Some("other@example.com")).await.unwrap();
        let tight = AuthLimits::new(&Counter::InProcess, 2, 100);
        tight.check(Some(ip), None).await.unwrap();
        tight.check(Some(ip), None).await.unwrap();
        assert!(tight.check(Some(ip), None).await.is_err(), "per IP");
    }
}
