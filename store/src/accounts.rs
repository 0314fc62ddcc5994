//! Accounts beyond sign-up (SPEC §7): single-use email links (verification, password reset,
//! email change), password and email changes, security events, the member's sessions,
//! consents (terms versions, age, training use), versioned terms and privacy texts,
//! preferences, data exports, and account deletion.
//!
//! Email-link tokens are kept only as their SHA-256 (hex); the caller makes the token and
//! mails it. A token works once, before its expiry, for its purpose.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::{new_id, now_ms, Result, Store, StoreError};

/// What an email link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Reset,
    EmailChange,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::EmailChange => "email_change",
        }
    }
}

/// A security event as its member sees it.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct SecurityEvent {
    pub id: String,
    /// `sign_in`, `sign_in_failed`, `password_reset_requested`, `password_reset`,
    /// `password_changed`, `email_verified`, `email_change_requested`, `email_changed`,
    /// `sessions_ended`, `api_key_created`, `api_key_revoked`, `admin_action`, ...
    pub kind: String,
    /// Truncated (IPv4 /24, IPv6 /48).
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
    pub created_at: i64,
}

/// Where a request came from, as kept: truncated IP and the user agent (≤ 300 characters).
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub ip: String,
    pub user_agent: String,
}

/// A signed-in session of a member.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct UserSession {
    pub session_id: String,
    pub user_agent: String,
    pub ip: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// A published terms or privacy text.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct LegalVersion {
    pub id: String,
    /// `terms` or `privacy`.
    pub doc: String,
    pub version: String,
    /// Markdown.
    pub body: String,
    /// Unix ms from which it applies.
    pub effective_at: i64,
    /// 1: members must accept it again before creating.
    pub material: i64,
    pub created_at: i64,
}

/// A consent given or withdrawn.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Consent {
    /// `terms`, `age` or `training`.
    pub kind: String,
    pub version: String,
    /// 1 given, 0 withdrawn.
    pub granted: i64,
    pub ip_hash: String,
    pub created_at: i64,
}

/// A data export.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Export {
    pub id: String,
    pub user_id: String,
    /// `queued`, `ready` or `failed`.
    pub status: String,
    pub file_key: Option<String>,
    pub bytes: Option<i64>,
    /// The download link stops working at this time (Unix ms).
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

/// Appends a security event inside `tx`.
pub(crate) async fn security_in(tx: &mut Transaction<'static, Any>, user_id: &str, kind: &str, origin: &Origin, detail: &str) -> Result<()> {
    sqlx::query("INSERT INTO security_events (id, user_id, kind, ip, user_agent, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(user_id)
        .bind(kind)
        .bind(&origin.ip)
        .bind(origin.user_agent.chars().take(300).collect::<String>())
        .bind(detail)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Uses a token inside `tx`: marks it used if it is unused, unexpired and for `purpose`.
/// Returns `(user id, new email)`. Errors: [`StoreError::NotFound`] otherwise.
async fn use_token_in(tx: &mut Transaction<'static, Any>, purpose: Purpose, token_hash: &str) -> Result<(String, Option<String>)> {
    let now = now_ms();
    sqlx::query_as::<_, (String, Option<String>)>(
        "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 RETURNING user_id, new_email",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)
}

impl Store {
    /// Records a new email-link token for `purpose` valid for `ttl_ms`; earlier unused
    /// tokens of the same purpose stop working (only the latest link works).
    pub async fn issue_token(&self, user_id: &str, purpose: Purpose, token_hash: &str, new_email: Option<&str>, ttl_ms: i64) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE email_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now)
            .bind(user_id)
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO email_tokens (id, user_id, purpose, token_hash, new_email, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(new_id())
            .bind(user_id)
            .bind(purpose.as_str())
            .bind(token_hash)
            .bind(new_email)
            .bind(now + ttl_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms the member's email with a `verify` token. Returns the user id.
    /// Errors: [`StoreError::NotFound`] for an unknown, used or expired token.
    pub async fn verify_email(&self, token_hash: &str, origin: &Origin) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let (user, _) = use_token_in(&mut tx, Purpose::Verify, token_hash).await?;
        sqlx::query("UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2").bind(now_ms()).bind(&user).execute(&mut *tx).await?;
        security_in(&mut tx, &user, "email_verified", origin, "").await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a new password with a `reset` token (the caller hashed it). Every session of the
    /// account ends: they are removed here, and the session's password hash no longer
    /// matches. Returns the user id.
    /// Errors: [`StoreError::NotFound`] for an unknown, used or expired token.
    pub async fn reset_password(&self, token_hash: &str, password_hash: &str, origin: &Origin) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let (user, _) = use_token_in(&mut tx, Purpose::Reset, token_hash).await?;
        sqlx::query("UPDATE users SET password_hash = $1, email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $3")
            .bind(password_hash)
            .bind(now_ms())
            .bind(&user)
            .execute(&mut *tx)
            .await?;
        security_in(&mut tx, &user, "password_reset", origin, "").await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a new password (the caller checked the current one and hashed the new one).
    pub async fn set_password(&self, user_id: &str, password_hash: &str, origin: &Origin) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(user_id).execute(&mut *tx).await?;
        security_in(&mut tx, user_id, "password_changed", origin, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves the account to the new address of an `email_change` token (now verified).
    /// Returns `(user id, new email)`.
    /// Errors: [`StoreError::NotFound`] for a bad token; [`StoreError::Conflict`] if the
    /// address was taken meanwhile.
    pub async fn change_email(&self, token_hash: &str, origin: &Origin) -> Result<(String, String)> {
        let mut tx = self.begin_write().await?;
        let (user, new_email) = use_token_in(&mut tx, Purpose::EmailChange, token_hash).await?;
        let new_email = new_email.ok_or(StoreError::NotFound)?;
        let r = sqlx::query("UPDATE users SET email = $1, email_verified_at = $2 WHERE id = $3")
            .bind(&new_email)
            .bind(now_ms())
            .bind(&user)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
        match r {
            Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict("that address belongs to another account".into())),
            r => r?,
        };
        security_in(&mut tx, &user, "email_changed", origin, "").await?;
        tx.commit().await?;
        Ok((user, new_email))
    }

    /// Appends a security event for `user_id`.
    pub async fn security_event(&self, user_id: &str, kind: &str, origin: &Origin, detail: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        security_in(&mut tx, user_id, kind, origin, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The member's security events, newest first.
    pub async fn security_events(&self, user_id: &str, limit: i64) -> Result<Vec<SecurityEvent>> {
        Ok(sqlx::query_as::<_, SecurityEvent>(
            "SELECT id, kind, ip, user_agent, detail, created_at FROM security_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records that `session_id` belongs to the member and was seen now (insert or update).
    pub async fn touch_session(&self, session_id: &str, user_id: &str, origin: &Origin) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO user_sessions (session_id, user_id, user_agent, ip, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (session_id) DO UPDATE SET last_seen_at = $5, ip = $4, user_agent = $3, user_id = $2",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(origin.user_agent.chars().take(300).collect::<String>())
        .bind(&origin.ip)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The member's sessions, most recently seen first.
    pub async fn user_sessions(&self, user_id: &str) -> Result<Vec<UserSession>> {
        Ok(sqlx::query_as::<_, UserSession>(
            "SELECT session_id, user_agent, ip, created_at, last_seen_at FROM user_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Forgets the member's session rows: `only` one, or all but `keep` (`None`: all).
    /// Returns the session ids removed (the caller deletes them from the session store).
    pub async fn end_user_sessions(&self, user_id: &str, only: Option<&str>, keep: Option<&str>) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "DELETE FROM user_sessions WHERE user_id = $1 AND ($2 = '' OR session_id = $2) AND ($3 = '' OR session_id <> $3) RETURNING session_id",
        )
        .bind(user_id)
        .bind(only.unwrap_or(""))
        .bind(keep.unwrap_or(""))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Records a consent given (`granted`) or withdrawn. `kind` `training` also sets or
    /// clears `users.training_consent_at`; `terms` sets `users.terms_version`. Errors:
    /// [`StoreError::Conflict`] for training consent given while processing is restricted.
    pub async fn record_consent(&self, user_id: &str, kind: &str, version: &str, granted: bool, ip_hash: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if kind == "training" && granted {
            let restricted: Option<i64> = sqlx::query_scalar("SELECT processing_restricted_at FROM users WHERE id = $1").bind(user_id).fetch_one(&mut *tx).await?;
            if restricted.is_some() {
                return Err(StoreError::Conflict("Processing of your data is restricted: lift the restriction first.".into()));
            }
        }
        sqlx::query("INSERT INTO consents (id, user_id, kind, version, granted, ip_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(new_id())
            .bind(user_id)
            .bind(kind)
            .bind(version)
            .bind(granted as i64)
            .bind(ip_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        match kind {
            "training" => {
                sqlx::query("UPDATE users SET training_consent_at = $1 WHERE id = $2").bind(granted.then_some(now)).bind(user_id).execute(&mut *tx).await?;
            }
            "terms" if granted => {
                sqlx::query("UPDATE users SET terms_version = $1, terms_accepted_at = $2 WHERE id = $3").bind(version).bind(now).bind(user_id).execute(&mut *tx).await?;
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes the member's display name (the caller checks it), audited as `account.rename`
    /// on `user:<id>`.
    pub async fn set_display_name(&self, user_id: &str, name: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2").bind(name).bind(user_id).execute(&mut *tx).await?;
        crate::audit::audit_in(&mut tx, Some(user_id), "account.rename", &format!("user:{user_id}"), "").await?;
        // Explore may show the name (`show_name_at`).
        crate::bump_feed(&mut tx).await?;
        tx.commit().await?;
        self.feed_changed();
        Ok(())
    }

    /// Shows (`on`) or stops showing the member's display name with their public items.
    /// Audited as `account.show_name` / `account.hide_name` on `user:<id>`; the public feed's
    /// version moves, so cached Explore pages change at once.
    pub async fn set_show_name(&self, user_id: &str, on: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET show_name_at = CASE WHEN $1 THEN COALESCE(show_name_at, $2) END WHERE id = $3")
            .bind(on)
            .bind(now_ms())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        crate::audit::audit_in(&mut tx, Some(user_id), if on { "account.show_name" } else { "account.hide_name" }, &format!("user:{user_id}"), "").await?;
        crate::bump_feed(&mut tx).await?;
        tx.commit().await?;
        self.feed_changed();
        Ok(())
    }

    /// The name shown with `user_id`'s public items: their display name if they opted in.
    pub async fn public_name(&self, user_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1 AND show_name_at IS NOT NULL").bind(user_id).fetch_optional(&self.pool).await?)
    }

    /// Restricts processing of the member's data (`on`), or lifts the restriction: while it
    /// holds, their images are not used for training (the consent is withdrawn and recorded,
    /// and cannot be given again) and none of their items is showcased (every showcase
    /// consent is cleared, and new ones are refused by [`Store::set_showcase`]). Audited as
    /// `privacy.restrict` / `privacy.unrestrict` on `user:<id>`, in one transaction.
    pub async fn set_processing_restricted(&self, user_id: &str, on: bool, ip_hash: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET processing_restricted_at = $1 WHERE id = $2").bind(on.then_some(now)).bind(user_id).execute(&mut *tx).await?;
        if on {
            let consenting: Option<i64> = sqlx::query_scalar("SELECT training_consent_at FROM users WHERE id = $1").bind(user_id).fetch_one(&mut *tx).await?;
            if consenting.is_some() {
                sqlx::query("INSERT INTO consents (id, user_id, kind, version, granted, ip_hash, created_at) VALUES ($1, $2, 'training', '', 0, $3, $4)")
                    .bind(new_id())
                    .bind(user_id)
                    .bind(ip_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE users SET training_consent_at = NULL WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE jobs SET showcase_at = NULL WHERE user_id = $1 AND showcase_at IS NOT NULL").bind(user_id).execute(&mut *tx).await?;
        }
        crate::audit::audit_in(&mut tx, Some(user_id), if on { "privacy.restrict" } else { "privacy.unrestrict" }, &format!("user:{user_id}"), "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that the member confirmed the publishing notice (AI output may be inaccurate;
    /// they reviewed it). The first time counts; later calls keep it.
    pub async fn mark_publish_reviewed(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET publish_reviewed_at = COALESCE(publish_reviewed_at, $1) WHERE id = $2")
            .bind(now_ms())
            .bind(user_id)
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    /// The member's consent records, oldest first.
    pub async fn consents(&self, user_id: &str) -> Result<Vec<Consent>> {
        Ok(sqlx::query_as::<_, Consent>("SELECT kind, version, granted, ip_hash, created_at FROM consents WHERE user_id = $1 ORDER BY created_at, id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Publishes a terms or privacy version (audited). Errors: [`StoreError::Conflict`] if
    /// that version of the document exists.
    pub async fn publish_legal(&self, actor_id: &str, doc: &str, version: &str, body: &str, effective_at: i64, material: bool) -> Result<LegalVersion> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("INSERT INTO legal_versions (id, doc, version, body, effective_at, material, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&id)
            .bind(doc)
            .bind(version)
            .bind(body)
            .bind(effective_at)
            .bind(material as i64)
            .bind(actor_id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
        match r {
            Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict(format!("{doc} version {version} exists"))),
            r => r?,
        };
        crate::audit::audit_in(&mut tx, Some(actor_id), "legal.publish", &id, &format!("{doc} {version}{}", if material { " (material)" } else { "" })).await?;
        crate::announce_operator_change(&mut tx).await?;
        tx.commit().await?;
        self.operator_changed();
        Ok(LegalVersion { id, doc: doc.into(), version: version.into(), body: body.into(), effective_at, material: material as i64, created_at: now_ms() })
    }

    /// Every published version of `doc`, newest effective first.
    pub async fn legal_versions(&self, doc: &str) -> Result<Vec<LegalVersion>> {
        Ok(sqlx::query_as::<_, LegalVersion>(
            "SELECT id, doc, version, body, effective_at, material, created_at FROM legal_versions WHERE doc = $1 ORDER BY effective_at DESC, created_at DESC",
        )
        .bind(doc)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest material terms version in effect at `now` (Unix ms) that a member who
    /// accepted version `accepted` still has to accept: one whose effective date is after the
    /// accepted version's (any, if `accepted` was never published). `None`: nothing pending.
    /// Every signed-in page and every creation asks it: answered from the terms versions as
    /// this process last read them ([`crate::cached`]; no bodies).
    pub async fn pending_material_terms(&self, accepted: &str, now: i64) -> Result<Option<String>> {
        let versions = self
            .operator
            .terms
            .get(&self.hub, || async {
                Ok(sqlx::query_as::<_, crate::cached::TermsVersion>(
                    "SELECT version, effective_at, created_at, material FROM legal_versions WHERE doc = 'terms'",
                )
                .fetch_all(&self.pool)
                .await?)
            })
            .await?;
        Ok(crate::cached::pending_terms(&versions, accepted, now))
    }

    /// Sets the member's theme and language (the caller checked them).
    pub async fn set_preferences(&self, user_id: &str, theme: &str, language: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET theme = $1, language = $2 WHERE id = $3").bind(theme).bind(language).bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a data export for the member.
    pub async fn create_export(&self, user_id: &str) -> Result<Export> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO exports (id, user_id, status, created_at) VALUES ($1, $2, 'queued', $3)").bind(&id).bind(user_id).bind(now_ms()).execute(&mut *tx).await?;
        tx.commit().await?;
        self.export(&id, user_id).await
    }

    /// Marks an export built (`Some(key, bytes, expires_at)`) or failed (`None`).
    pub async fn finish_export(&self, id: &str, done: Option<(&str, i64, i64)>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match done {
            Some((key, bytes, expires)) => sqlx::query("UPDATE exports SET status = 'ready', file_key = $1, bytes = $2, expires_at = $3, finished_at = $4 WHERE id = $5")
                .bind(key)
                .bind(bytes)
                .bind(expires)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?,
            None => sqlx::query("UPDATE exports SET status = 'failed', finished_at = $1 WHERE id = $2").bind(now_ms()).bind(id).execute(&mut *tx).await?,
        };
        tx.commit().await?;
        Ok(())
    }

    /// The member's export. Errors: [`StoreError::NotFound`].
    pub async fn export(&self, id: &str, user_id: &str) -> Result<Export> {
        sqlx::query_as::<_, Export>("SELECT id, user_id, status, file_key, bytes, expires_at, created_at FROM exports WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The member's exports, newest first.
    pub async fn exports(&self, user_id: &str) -> Result<Vec<Export>> {
        Ok(sqlx::query_as::<_, Export>("SELECT id, user_id, status, file_key, bytes, expires_at, created_at FROM exports WHERE user_id = $1 ORDER BY id DESC LIMIT 10")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Deletes an account's personal data (SPEC §7), after the caller removed its media from
    /// storage: sessions, tokens, API keys (and their webhooks), uploads, jobs' prompts and
    /// files, likes, reports made, share links, consents, security events, exports, support
    /// requests and payments' billing emails go; the account row stays as `deleted-<id>@invalid` with no
    /// password, name or preferences, so the ledger and the audit log keep their rows,
    /// anonymised. Returns the session ids to remove from the session store.
    pub async fn delete_account(&self, user_id: &str) -> Result<Vec<String>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let sessions: Vec<String> = sqlx::query_scalar("DELETE FROM user_sessions WHERE user_id = $1 RETURNING session_id").bind(user_id).fetch_all(&mut *tx).await?;
        for sql in [
            "DELETE FROM email_tokens WHERE user_id = $1",
            "DELETE FROM security_events WHERE user_id = $1",
            "DELETE FROM consents WHERE user_id = $1",
            "DELETE FROM exports WHERE user_id = $1",
            "DELETE FROM likes WHERE user_id = $1",
            "DELETE FROM share_links WHERE job_id IN (SELECT id FROM jobs WHERE user_id = $1)",
            "DELETE FROM webhook_deliveries WHERE api_key_id IN (SELECT id FROM api_keys WHERE user_id = $1)",
            "DELETE FROM api_requests WHERE api_key_id IN (SELECT id FROM api_keys WHERE user_id = $1)",
            "UPDATE api_keys SET name = '', webhook_url = NULL, webhook_secret = NULL, revoked_at = COALESCE(revoked_at, $2) WHERE user_id = $1",
            "UPDATE payments SET billing_email = NULL, customer_id = NULL WHERE user_id = $1",
            "UPDATE subscriptions SET customer_id = NULL WHERE user_id = $1",
            "DELETE FROM events WHERE user_id = $1",
            "UPDATE reports SET note = '', reporter_id = NULL WHERE reporter_id = $1",
            "DELETE FROM support_requests WHERE user_id = $1 OR email = (SELECT email FROM users WHERE id = $1)",
            "UPDATE support_requests SET answered_by = NULL WHERE answered_by = $1",
            "UPDATE jobs SET prompt = '', error = NULL, result_key = NULL, thumb_key = NULL, result_hash = NULL, visibility = 'private', \
             showcase_at = NULL, deleted_at = COALESCE(deleted_at, $2) WHERE user_id = $1",
            "UPDATE uploads SET object_key = '', content_hash = '', deleted_at = COALESCE(deleted_at, $2) WHERE user_id = $1",
            // Their own actions stay in the audit log without the words they typed (key names, URLs).
            "UPDATE audit_log SET reason = '(removed with the account)' WHERE actor_id = $1 AND reason <> ''",
        ] {
            let q = sqlx::query(sql).bind(user_id);
            let q = if sql.contains("$2") { q.bind(now) } else { q };
            q.execute(&mut *tx).await?;
        }
        crate::bump_feed(&mut tx).await?;
        sqlx::query(
            "UPDATE users SET email = 'deleted-' || id || '@invalid', password_hash = '', display_name = 'Deleted account', \
             email_verified_at = NULL, training_consent_at = NULL, publish_reviewed_at = NULL, processing_restricted_at = NULL, theme = 'system', language = 'en', deleted_at = $1, \
             suspended_at = COALESCE(suspended_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        crate::audit::audit_in(&mut tx, None, "account.delete", user_id, "deleted by its member").await?;
        tx.commit().await?;
        self.feed_changed();
        Ok(sessions)
    }
}

impl Store {
    /// The member's uploads whose files are still kept: `(id, object key, mime)`.
    pub async fn live_uploads(&self, user_id: &str) -> Result<Vec<(String, String, String)>> {
        Ok(sqlx::query_as("SELECT id, object_key, mime FROM uploads WHERE user_id = $1 AND deleted_at IS NULL AND object_key <> '' ORDER BY id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every file key the member's jobs still name: `(result key, thumb key)` per job.
    pub async fn result_keys_of(&self, user_id: &str) -> Result<Vec<(Option<String>, Option<String>)>> {
        Ok(sqlx::query_as("SELECT result_key, thumb_key FROM jobs WHERE user_id = $1 AND (result_key IS NOT NULL OR thumb_key IS NOT NULL)")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The member's export files.
    pub async fn export_keys_of(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT file_key FROM exports WHERE user_id = $1 AND file_key IS NOT NULL").bind(user_id).fetch_all(&self.pool).await?)
    }
}

impl Store {
    /// A ready export's file key and expiry, whoever owns it (the caller checked a signed link).
    pub async fn export_file(&self, id: &str) -> Result<Option<(String, i64)>> {
        Ok(sqlx::query_as("SELECT file_key, expires_at FROM exports WHERE id = $1 AND status = 'ready' AND file_key IS NOT NULL AND expires_at IS NOT NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
