//! The API for integrators (SPEC §9): API keys, their webhook endpoint and deliveries, and the
//! per-member log of API requests.
//!
//! - A key's secret is never stored: only its SHA-256 (`secret_hash`) and a display prefix.
//!   A key stops working when revoked, expired, or when its owner is suspended; all three are
//!   read on every request ([`Store::api_key_by_hash`]).
//! - Spending caps are enforced in the job-creation transaction (see `jobs::ApiOrigin`).
//! - A webhook delivery row is created in the same transaction as the job's final state (in
//!   `jobs::emit_job`), one per key, job and event (unique), so an event is neither lost nor
//!   sent twice by a crash; senders claim a due row with a lease, and a delivered row is never
//!   sent again.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::audit::audit_in;
use crate::jobs::Job;
use crate::{new_id, now_ms, Result, Store, StoreError};

/// An API key as stored (no secret).
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The secret's first 11 characters (`dk_` + 8), to recognise it in lists and logs.
    pub prefix: String,
    /// Comma-separated scopes: `generate`, `read`.
    pub scopes: String,
    /// Spending cap in credits per [`Self::cap_period`], if any.
    pub cap_credits: Option<i64>,
    /// `day` (UTC) or `month` (UTC calendar month).
    pub cap_period: Option<String>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The webhook endpoint (HTTPS), if set.
    pub webhook_url: Option<String>,
    /// Comma-separated events: `generation.succeeded`, `.failed`, `.rejected`, `.canceled`.
    pub webhook_events: String,
    /// `whsec_` + base64 of the signing key.
    pub webhook_secret: Option<String>,
    pub created_at: i64,
}

const KEY_COLUMNS: &str = "id, user_id, name, prefix, scopes, cap_credits, cap_period, expires_at, last_used_at, revoked_at, \
     webhook_url, webhook_events, webhook_secret, created_at";

impl ApiKey {
    /// True if the key carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.split(',').any(|s| s == scope)
    }

    /// True if the webhook wants `event`.
    pub fn wants_event(&self, event: &str) -> bool {
        self.webhook_url.is_some() && self.webhook_events.split(',').any(|e| e == event)
    }
}

/// A key to create.
pub struct NewApiKey<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    /// SHA-256 of the whole secret, lowercase hex.
    pub secret_hash: &'a str,
    pub scopes: &'a str,
    pub cap_credits: Option<i64>,
    pub cap_period: Option<&'a str>,
    pub expires_at: Option<i64>,
}

/// A key found by its secret, with what decides whether it may be used now.
#[derive(Clone, Debug)]
pub struct KeyAuth {
    pub key: ApiKey,
    /// The owner's standing, address and terms (suspended: the key does not work).
    pub owner: crate::users::Eligibility,
}

/// A webhook delivery: one event of one job to one key's endpoint.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    /// The Standard Webhooks `webhook-id` (stable across retries).
    pub id: String,
    pub api_key_id: String,
    pub user_id: String,
    pub job_id: String,
    /// `generation.succeeded`, ...
    pub event: String,
    /// `pending`, `delivered` or `failed` (gave up after the retry window).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The HTTP status of the last attempt (None: no answer).
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str =
    "id, api_key_id, user_id, job_id, event, status, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";

/// One logged API request.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct ApiRequest {
    pub id: String,
    pub key_prefix: String,
    pub method: String,
    /// The route pattern, e.g. `/api/v1/generations/{id}`.
    pub route: String,
    pub status: i64,
    /// Credits charged by this request (0 for reads and refused requests).
    pub cost: i64,
    pub created_at: i64,
}

/// Inside a job's state transaction: queues the webhook delivery its final state calls for
/// (none if the key has no endpoint, does not want the event, or it is already queued).
pub(crate) async fn queue_delivery_in(tx: &mut Transaction<'static, Any>, job: &Job) -> Result<()> {
    let (Some(key_id), Some(event)) = (job.api_key_id.as_deref(), job.status.webhook_event()) else { return Ok(()) };
    let now = now_ms();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, api_key_id, user_id, job_id, event, status, attempts, next_attempt_at, created_at) \
         SELECT $1, k.id, k.user_id, $2, $3, 'pending', 0, $4, $4 FROM api_keys k \
         WHERE k.id = $5 AND k.webhook_url IS NOT NULL AND k.revoked_at IS NULL \
         AND (',' || k.webhook_events || ',') LIKE ('%,' || $3 || ',%') \
         ON CONFLICT (api_key_id, job_id, event) DO NOTHING",
    )
    .bind(new_id())
    .bind(&job.id)
    .bind(event)
    .bind(now)
    .bind(key_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Creates a key (audited). Errors: [`StoreError::Conflict`] on a hash collision.
    pub async fn create_api_key(&self, new: NewApiKey<'_>) -> Result<ApiKey> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, cap_credits, cap_period, expires_at, \
             rights_confirmed_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(new.user_id)
        .bind(new.name)
        .bind(new.prefix)
        .bind(new.secret_hash)
        .bind(new.scopes)
        .bind(new.cap_credits)
        .bind(new.cap_period)
        .bind(new.expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            e if e.is_unique_violation() => StoreError::Conflict("key collision".into()),
            e => e,
        })?;
        audit_in(&mut tx, Some(new.user_id), "api_key.create", &id, new.name).await?;
        crate::accounts::security_in(&mut tx, new.user_id, "api_key_created", &Default::default(), new.name).await?;
        tx.commit().await?;
        self.api_key(&id, new.user_id).await
    }

    /// The member's key. Errors: [`StoreError::NotFound`], also for others' keys.
    pub async fn api_key(&self, id: &str, user_id: &str) -> Result<ApiKey> {
        sqlx::query_as::<_, ApiKey>(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND user_id = $2"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The member's keys, newest first (revoked ones too).
    pub async fn api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>> {
        Ok(sqlx::query_as::<_, ApiKey>(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY id DESC"))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The key whose secret hashes to `secret_hash`, with its owner's suspension, whatever
    /// its state (the caller decides). `None` if no key has that hash.
    pub async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<KeyAuth>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            key: ApiKey,
            #[sqlx(flatten)]
            owner: crate::users::Eligibility,
        }
        let cols = KEY_COLUMNS.split(", ").map(|c| format!("k.{c}")).collect::<Vec<_>>().join(", ");
        let owner = crate::users::ELIGIBILITY_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let row = sqlx::query_as::<_, Row>(&format!("SELECT {cols}, {owner} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| KeyAuth { key: r.key, owner: r.owner }))
    }

    /// Records that the key was used at `now` if it was last marked before `older_than`
    /// (so busy keys are not written on every request).
    pub async fn touch_api_key(&self, id: &str, now: i64, older_than: i64) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(now)
            .bind(id)
            .bind(older_than)
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    /// Revokes the member's key at once (audited); revoking twice is a no-op.
    /// Errors: [`StoreError::NotFound`], also for others' keys.
    pub async fn revoke_api_key(&self, id: &str, user_id: &str) -> Result<ApiKey> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            audit_in(&mut tx, Some(user_id), "api_key.revoke", id, "").await?;
            crate::accounts::security_in(&mut tx, user_id, "api_key_revoked", &Default::default(), "").await?;
        }
        tx.commit().await?;
        self.api_key(id, user_id).await
    }

    /// Credits spent through the key since `since_ms`: the cost of its jobs created since
    /// then, less those refunded.
    pub async fn api_key_spend(&self, key_id: &str, since_ms: i64) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>(SPEND_SQL).bind(key_id).bind(since_ms).fetch_one(&self.pool).await?)
    }

    /// Sets (or with `url = None` removes) the key's webhook endpoint, its events and signing
    /// secret (audited). Errors: [`StoreError::NotFound`], also for others' or revoked keys.
    pub async fn set_webhook(&self, key_id: &str, user_id: &str, url: Option<&str>, events: &str, secret: Option<&str>) -> Result<ApiKey> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET webhook_url = $1, webhook_events = $2, webhook_secret = COALESCE($3, webhook_secret) \
             WHERE id = $4 AND user_id = $5 AND revoked_at IS NULL",
        )
        .bind(url)
        .bind(events)
        .bind(secret)
        .bind(key_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_in(&mut tx, Some(user_id), "api_key.webhook", key_id, url.unwrap_or("removed")).await?;
        tx.commit().await?;
        self.api_key(key_id, user_id).await
    }

    /// The member's latest webhook deliveries (of one key, or all), newest first.
    pub async fn deliveries(&self, user_id: &str, key_id: Option<&str>, limit: i64) -> Result<Vec<Delivery>> {
        Ok(sqlx::query_as::<_, Delivery>(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE user_id = $1 AND ($2 = '' OR api_key_id = $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(user_id)
        .bind(key_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Pending deliveries due at `now`, oldest first (not claimed, or their claim lapsed).
    pub async fn due_deliveries(&self, now: i64, limit: i64) -> Result<Vec<Delivery>> {
        Ok(sqlx::query_as::<_, Delivery>(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims a due delivery until `lease_until`; `false` if another sender holds it or it is
    /// no longer pending.
    pub async fn claim_delivery(&self, id: &str, now: i64, lease_until: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET lease_until = $1 WHERE id = $2 AND status = 'pending' \
             AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(lease_until)
        .bind(id)
        .bind(now)
        .execute(&self.write_pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an attempt's outcome: `delivered` on success; otherwise the next attempt time
    /// (`None`: give up, `failed`).
    pub async fn delivery_attempted(&self, id: &str, http_status: Option<i64>, error: Option<&str>, delivered: bool, next_attempt_at: Option<i64>) -> Result<()> {
        let now = now_ms();
        let status = if delivered { "delivered" } else if next_attempt_at.is_some() { "pending" } else { "failed" };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status = $2, last_error = $3, lease_until = NULL, \
             next_attempt_at = $4, delivered_at = $5 WHERE id = $6 AND status = 'pending'",
        )
        .bind(status)
        .bind(http_status)
        .bind(error)
        .bind(next_attempt_at.unwrap_or(now))
        .bind(delivered.then_some(now))
        .bind(id)
        .execute(&self.write_pool)
        .await?;
        Ok(())
    }

    /// Sends the member's delivery again, now (whatever its state). Errors:
    /// [`StoreError::NotFound`], also for others' deliveries.
    pub async fn resend_delivery(&self, id: &str, user_id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL, delivered_at = NULL \
             WHERE id = $2 AND user_id = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(user_id)
        .execute(&self.write_pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Logs an authenticated API request.
    #[allow(clippy::too_many_arguments)]
    pub async fn log_api_request(&self, user_id: &str, key_id: &str, key_prefix: &str, method: &str, route: &str, status: u16, cost: i64) -> Result<()> {
        log_request(&self.write_pool, user_id, key_id, &crate::jobs::RequestLog { key_prefix, method, route }, status, cost, now_ms()).await
    }

    /// Deletes logged API requests made before `before_ms`; returns how many.
    pub async fn prune_api_requests(&self, before_ms: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM api_requests WHERE created_at < $1").bind(before_ms).execute(&self.write_pool).await?.rows_affected())
    }

    /// The member's latest API requests, newest first.
    pub async fn api_requests(&self, user_id: &str, limit: i64) -> Result<Vec<ApiRequest>> {
        Ok(sqlx::query_as::<_, ApiRequest>(
            "SELECT id, key_prefix, method, route, status, cost, created_at FROM api_requests WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Credits a key spent since a time: its jobs' cost, less refunded ones (`$1` key, `$2` since).
pub(crate) const SPEND_SQL: &str = "SELECT CAST(COALESCE(SUM(j.cost), 0) AS BIGINT) FROM jobs j WHERE j.api_key_id = $1 AND j.created_at >= $2 \
     AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.user_id = j.user_id AND l.idempotency_key = 'refund:' || j.id)";

/// Writes one row of the member's API request log on `conn` (a pool, or a transaction's
/// connection: a job's creation logs its request in the same transaction).
pub(crate) async fn log_request<'e, E>(conn: E, user_id: &str, key_id: &str, log: &crate::jobs::RequestLog<'_>, status: u16, cost: i64, at_ms: i64) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO api_requests (id, user_id, api_key_id, key_prefix, method, route, status, cost, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(key_id)
    .bind(log.key_prefix)
    .bind(log.method)
    .bind(log.route)
    .bind(i64::from(status))
    .bind(cost)
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}
