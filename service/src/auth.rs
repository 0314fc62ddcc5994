//! Passwords and sign-in: argon2id hashes (PHC strings) and the axum-login backend.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum_login::{AuthUser, AuthnBackend};
use darkroom_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::ServiceError;

/// Shortest and longest password accepted, in characters.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 10..=128;

/// Hashes with argon2id (the crate's defaults: m=19 MiB, t=2, p=1) and a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with valid params").to_string()
}

/// [`hash_password`] on a blocking thread (argon2 takes tens of milliseconds of CPU).
pub async fn hash_password_off_thread(password: &str) -> Result<String, ServiceError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(ServiceError::internal)
}

/// True if `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Checks length. Errors: [`ServiceError::Invalid`] with the rule.
pub fn check_password(password: &str) -> Result<(), ServiceError> {
    if !PASSWORD_LEN.contains(&password.chars().count()) {
        return Err(ServiceError::Invalid(format!(
            "Use a password of {} to {} characters.",
            PASSWORD_LEN.start(),
            PASSWORD_LEN.end()
        )));
    }
    Ok(())
}

/// The signed-in account as the session knows it.
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    pub role: String,
    pub display_name: String,
    /// Suspended after strikes (SPEC §6): sign-in is refused and sessions end.
    #[serde(default)]
    pub suspended: bool,
    /// The password hash: changing the password ends every other session.
    password_hash: String,
    /// The account's row as this request read it (axum-login's `get_user` reads it once per
    /// request), so a page needs no second read for the balance or the last event id.
    #[serde(skip)]
    pub row: Option<std::sync::Arc<darkroom_store::users::User>>,
}

impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser").field("id", &self.id).field("role", &self.role).finish()
    }
}

impl AuthUser for SessionUser {
    type Id = String;
    fn id(&self) -> String {
        self.id.clone()
    }
    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

impl From<darkroom_store::users::User> for SessionUser {
    fn from(u: darkroom_store::users::User) -> Self {
        Self {
            suspended: u.suspended_at.is_some(),
            id: u.id.clone(),
            role: u.role.clone(),
            display_name: u.display_name.clone(),
            password_hash: u.password_hash.clone(),
            row: Some(std::sync::Arc::new(u)),
        }
    }
}

/// Email and password as typed.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// axum-login backend over the store.
#[derive(Clone)]
pub struct Backend {
    store: Store,
}

impl Backend {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// The session type handlers extract.
pub type AuthSession = axum_login::AuthSession<Backend>;

/// A hash of a random password, verified against when the email is unknown so both answers
/// take the same time (no account-existence oracle).
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("darkroom-timing-equaliser"))
}

impl AuthnBackend for Backend {
    type User = SessionUser;
    type Credentials = Credentials;
    type Error = StoreError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<SessionUser>, StoreError> {
        let user = self.store.user_by_email(&creds.email).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
        let ok = tokio::task::spawn_blocking(move || verify_password(&creds.password, &hash))
            .await
            .unwrap_or(false);
        Ok(user.filter(|_| ok).map(SessionUser::from))
    }

    async fn get_user(&self, id: &String) -> Result<Option<SessionUser>, StoreError> {
        match self.store.user(id).await {
            // A suspended account's sessions end at their next request.
            Ok(u) if u.suspended_at.is_some() => Ok(None),
            Ok(u) => Ok(Some(u.into())),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The session store, as server functions reach it (the server provides it as Leptos context)
/// to end sessions other than the current one.
pub type SessionStoreRef = std::sync::Arc<dyn axum_login::tower_sessions::SessionStore>;

/// Removes the sessions with these ids (as `user_sessions` keeps them) from the session
/// store: their cookies stop working at once. Unparsable ids are skipped.
pub async fn end_sessions(store: &SessionStoreRef, ids: &[String]) {
    for id in ids {
        if let Ok(id) = id.parse::<axum_login::tower_sessions::session::Id>() {
            if let Err(e) = store.delete(&id).await {
                tracing::warn!(error = %e, "a session could not be ended");
            }
        }
    }
}

/// Signs `user` in on this session (its id rotates) and records the `sign_in` security event;
/// `how` is `password`, `google` or `email link`.
///
/// Errors: [`ServiceError::Internal`] when the session cannot be saved.
pub async fn sign_in(store: &Store, auth: &mut AuthSession, user: SessionUser, origin: &darkroom_store::accounts::Origin, how: &str) -> Result<(), ServiceError> {
    let id = user.id.clone();
    auth.login(&user).await.map_err(ServiceError::internal)?;
    store.security_event(&id, "sign_in", origin, how).await?;
    Ok(())
}

/// After a sign-up confirmation link: signs its member in on this session, unless the session
/// is theirs already or the account is suspended.
pub async fn sign_in_from_link(store: &Store, auth: &mut AuthSession, user: darkroom_store::users::User, origin: &darkroom_store::accounts::Origin) -> Result<(), ServiceError> {
    if user.suspended_at.is_some() || auth.user.as_ref().is_some_and(|u| u.id == user.id) {
        return Ok(());
    }
    sign_in(store, auth, user.into(), origin, "email link").await
}
