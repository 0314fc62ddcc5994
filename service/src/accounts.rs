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
}

/// Checks an email's shape: one `@`, something on both sides, a dot in the domain, ≤ 254 chars.
pub fn check_email(email: &str) -> Result<(), ServiceError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'))
        && !e.chars().any(char::is_whitespace);
    if ok { Ok(()) } else { Err(ServiceError::Invalid("Enter a valid email address.".into())) }
}

/// Creates a member account with the sign-up grant.
///
/// Errors: [`ServiceError::Invalid`] naming the field to fix; [`ServiceError::Conflict`] if the
/// email is registered (the form says so plainly; sign-up rate limits come with the accounts
/// issue).
pub async fn sign_up(state: &AppState, form: SignUp<'_>) -> Result<User, ServiceError> {
    check_email(form.email)?;
    let name = form.display_name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(ServiceError::Invalid("Enter a display name of 1 to 50 characters.".into()));
    }
    auth::check_password(form.password)?;
    if !form.age_confirmed {
        return Err(ServiceError::Invalid(format!("You must be {} or older to use this service.", state.config.min_age)));
    }
    if !form.terms_accepted {
        return Err(ServiceError::Invalid("Please accept the terms of service.".into()));
    }
    let password = form.password.to_string();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await.map_err(ServiceError::internal)?;
    let user = state
        .store
        .create_user(NewUser {
            email: form.email,
            password_hash: &hash,
            display_name: name,
            role: "member",
            terms_version: &state.config.terms_version,
            signup_grant: state.config.signup_grant,
        })
        .await
        .map_err(|e| match e {
            darkroom_store::StoreError::Conflict(_) => ServiceError::Conflict("An account with this email already exists. Sign in instead.".into()),
            other => other.into(),
        })?;
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
