//! What several nodes on one database share besides the data: rate limits counted for the
//! whole cluster, and the fingerprints of keys every node must hold alike.
//!
//! **Rate limits** are GCRA (the generic cell rate algorithm of ITU-T I.371, the one
//! `governor` implements in memory): a bucket keeps one number, its theoretical arrival time
//! (`tat`, Unix ms). A request at `now` moves it to `max(tat, now) + interval` and is allowed
//! when that lies at most `burst × interval` ahead of `now`. That is one conditional upsert
//! (`INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`), atomic on both databases, so N
//! nodes allow the quota once between them, not N times. A busy node takes several requests
//! in one upsert (`take_rate_tokens`: the same test with `tokens × interval`) and spends them
//! from memory (`darkroom_service::limits`). On PostgreSQL the buckets are written on
//! connections that do not wait for the disk at commit (see `Store::rate_pool`): an upsert
//! costs a round trip, not a WAL flush.

use crate::{Result, Store};

/// A rate: `burst` requests at once, then one every `interval_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Milliseconds between requests once the burst is spent (the emission interval).
    pub interval_ms: i64,
    /// Requests allowed at once from a full bucket (at least 1).
    pub burst: i64,
}

impl Rate {
    /// `n` per `period_ms`, with bursts of `n` (what `governor::Quota::with_period(period/n)
    /// .allow_burst(n)` means).
    pub fn per(n: u32, period_ms: i64) -> Self {
        let n = i64::from(n.max(1));
        Self { interval_ms: (period_ms / n).max(1), burst: n }
    }
}

/// What a [`Store::take_rate`] call found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Refused; the next request can pass after this many milliseconds.
    Limited { retry_after_ms: i64 },
}

/// What [`Store::agree_on_key`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyAgreement {
    /// This node's fingerprint is the one recorded (or is now the first).
    Agreed,
    /// Another node recorded another key: `(fingerprint recorded, when, Unix ms)`.
    Differs { recorded: String, set_at: i64 },
}

impl Store {
    /// Takes one request from `bucket` at `now_ms` under `rate`. The bucket's name says
    /// what it counts (`api-key:<id>`, `auth-ip:<address>`, ...); buckets are shared by
    /// every node on this database.
    ///
    /// Errors: the database's only; a caller that cannot reach the database cannot serve
    /// the request anyway.
    pub async fn take_rate(&self, bucket: &str, rate: Rate, now_ms: i64) -> Result<Admission> {
        if self.take_rate_tokens(bucket, rate, now_ms, 1).await? {
            return Ok(Admission::Allowed);
        }
        let Rate { interval_ms, burst } = rate;
        let window = interval_ms * burst.max(1);
        let tat: i64 = sqlx::query_scalar("SELECT tat FROM rate_limits WHERE bucket = $1").bind(bucket).fetch_optional(&self.rate_pool).await?.unwrap_or(now_ms);
        Ok(Admission::Limited { retry_after_ms: (tat.max(now_ms) + interval_ms - now_ms - window).max(1) })
    }

    /// Takes `tokens` requests at once from `bucket` at `now_ms` under `rate`, all or none:
    /// GCRA with an increment of `tokens × interval` (a node leasing several requests ahead,
    /// see `darkroom_service::limits`). Returns whether they were taken. `tokens` is clamped
    /// to `1..=burst`, so a full bucket always grants it.
    ///
    /// Errors: the database's only.
    pub async fn take_rate_tokens(&self, bucket: &str, rate: Rate, now_ms: i64, tokens: i64) -> Result<bool> {
        let Rate { interval_ms, burst } = rate;
        let window = interval_ms * burst.max(1);
        let step = interval_ms * tokens.clamp(1, burst.max(1));
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO rate_limits (bucket, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (bucket) DO UPDATE SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
             WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 - $2 <= $4 \
             RETURNING tat",
        )
        .bind(bucket)
        .bind(now_ms)
        .bind(step)
        .bind(window)
        .fetch_optional(&self.rate_pool)
        .await?;
        Ok(taken.is_some())
    }

    /// Deletes buckets that are full again (their time has passed: a new request starts
    /// them afresh with the same result). Returns how many.
    pub async fn prune_rate_limits(&self, now_ms: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM rate_limits WHERE tat <= $1").bind(now_ms).execute(&self.rate_pool).await?.rows_affected())
    }

    /// Records `fingerprint` as the cluster's for key `name` if none is recorded, and says
    /// whether the recorded one is the same. A fingerprint must not reveal the key (an HMAC
    /// of a fixed text under it).
    pub async fn agree_on_key(&self, name: &str, fingerprint: &str) -> Result<KeyAgreement> {
        sqlx::query("INSERT INTO cluster_keys (name, fingerprint, set_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fingerprint)
            .bind(crate::now_ms())
            .execute(&self.write_pool)
            .await?;
        let (recorded, set_at): (String, i64) =
            sqlx::query_as("SELECT fingerprint, set_at FROM cluster_keys WHERE name = $1").bind(name).fetch_one(&self.pool).await?;
        Ok(if recorded == fingerprint { KeyAgreement::Agreed } else { KeyAgreement::Differs { recorded, set_at } })
    }

    /// Forgets every recorded key fingerprint, for a deliberate key change on every node:
    /// the next node to start records its own. Returns how many were forgotten.
    pub async fn forget_cluster_keys(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM cluster_keys").execute(&self.write_pool).await?.rows_affected())
    }
}
