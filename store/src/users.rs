//! Accounts. Emails are stored trimmed and lowercased; passwords only as argon2id PHC
//! strings made by the caller.

use serde::{Deserialize, Serialize};

use crate::{ledger, new_id, now_ms, Result, Store, StoreError};

/// A member, moderator or admin. `balance` is the cached sum of the member's ledger entries.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    pub display_name: String,
    /// `member`, `moderator` or `admin`.
    pub role: String,
    /// Credits.
    pub balance: i64,
    pub created_at: i64,
    /// No new jobs before this time (ms) after strikes (SPEC §6).
    pub restricted_until: Option<i64>,
    /// Set while the account is suspended: sign-in is refused.
    pub suspended_at: Option<i64>,
    /// When the member confirmed their email address (`None`: they may browse, not create).
    pub email_verified_at: Option<i64>,
    /// The terms version the member last accepted.
    pub terms_version: String,
    /// Opted in to training use of their images (SPEC §7; off by default).
    pub training_consent_at: Option<i64>,
    /// `light`, `dark` or `system`.
    pub theme: String,
    /// UI language tag (`en`, `de`).
    pub language: String,
    /// When the member confirmed, before making an item public for the first time, that AI
    /// output may be inaccurate and that they reviewed it (`None`: not yet; asked once).
    pub publish_reviewed_at: Option<i64>,
    /// Since when the member restricts processing of their data (no training use, no
    /// showcase); `None`: not restricted.
    pub processing_restricted_at: Option<i64>,
    /// Since when the member shows their display name with their public items (Explore, the
    /// public page); `None`, the default: no name is shown.
    pub show_name_at: Option<i64>,
    /// The `seq` of the member's newest live event (`store::events`: taken from this counter
    /// in the event's own transaction), 0 before the first; what the live stream resumes after.
    pub event_seq: i64,
}

/// What decides whether a member may start generations now (standing, confirmed address,
/// accepted terms), and their publishing confirmation, which a new result's visibility reads.
/// The API reads it with the key in one query (`Store::api_key_by_hash`).
#[derive(Clone, Debug, sqlx::FromRow, PartialEq, Eq)]
pub struct Eligibility {
    pub suspended_at: Option<i64>,
    pub restricted_until: Option<i64>,
    pub email_verified_at: Option<i64>,
    pub terms_version: String,
    pub publish_reviewed_at: Option<i64>,
}

/// [`Eligibility`]'s columns of `users`.
pub(crate) const ELIGIBILITY_COLUMNS: &str = "suspended_at, restricted_until, email_verified_at, terms_version, publish_reviewed_at";

impl From<&User> for Eligibility {
    fn from(u: &User) -> Self {
        Self {
            suspended_at: u.suspended_at,
            restricted_until: u.restricted_until,
            email_verified_at: u.email_verified_at,
            terms_version: u.terms_version.clone(),
            publish_reviewed_at: u.publish_reviewed_at,
        }
    }
}

/// What sign-up records.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    /// The terms version accepted at sign-up.
    pub terms_version: &'a str,
    /// Credits granted at sign-up (a `grant` ledger entry), 0 for none.
    pub signup_grant: i64,
    /// The address is known to work (accounts made by an operator); otherwise the member
    /// confirms it through a mailed link.
    pub email_verified: bool,
}

pub(crate) const COLUMNS: &str = "id, email, password_hash, display_name, role, balance, created_at, restricted_until, suspended_at, \
     email_verified_at, terms_version, training_consent_at, theme, language, publish_reviewed_at, processing_restricted_at, show_name_at, event_seq";

/// Canonical form of an email address for storage and lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Store {
    /// Creates an account (age confirmation and terms acceptance recorded now) and its
    /// sign-up grant in one transaction.
    ///
    /// Errors: [`StoreError::Conflict`] if the email is taken.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<User> {
        let id = new_id();
        let now = now_ms();
        let email = normalize_email(new.email);
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, password_hash, display_name, role, balance, age_confirmed_at, terms_version, terms_accepted_at, created_at, email_verified_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $6, $6, $8)",
        )
        .bind(&id)
        .bind(&email)
        .bind(new.password_hash)
        .bind(new.display_name.trim())
        .bind(new.role)
        .bind(now)
        .bind(new.terms_version)
        .bind(new.email_verified.then_some(now))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from);
        match inserted {
            Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict("email already registered".into())),
            other => other?,
        };
        if new.signup_grant > 0 {
            ledger::credit_in(&mut tx, &id, ledger::Kind::Grant, new.signup_grant, "sign-up grant", None, "signup", None).await?;
        }
        tx.commit().await?;
        self.user(&id).await
    }

    /// Whether the member may create now ([`Eligibility`]). Errors: [`StoreError::NotFound`].
    pub async fn eligibility(&self, id: &str) -> Result<Eligibility> {
        sqlx::query_as::<_, Eligibility>(&format!("SELECT {ELIGIBILITY_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The account with this id. Errors: [`StoreError::NotFound`].
    pub async fn user(&self, id: &str) -> Result<User> {
        sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The account with this email (any case), if any.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
            .bind(normalize_email(email))
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Changes an account's role. Errors: [`StoreError::NotFound`].
    pub async fn set_role(&self, id: &str, role: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2").bind(role).bind(id).execute(&self.write_pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
