//! The credit ledger: append-only entries, each with the balance after it.
//!
//! Invariant: `users.balance` = sum of the member's `ledger_entries.amount` = the last
//! entry's `balance_after`, and never negative (a `CHECK` on both tables backs the code).
//! Every entry carries an idempotency key unique per member, so a retried request changes
//! nothing. Debits are a single conditional `UPDATE ... WHERE balance >= cost`, which is what
//! keeps concurrent charges from overdrawing on both databases.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::{new_id, now_ms, Result, Store, StoreError};

/// Kinds of ledger entry (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Grant,
    Purchase,
    SubscriptionGrant,
    Charge,
    Refund,
    Adjustment,
    Expiry,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Grant => "grant",
            Kind::Purchase => "purchase",
            Kind::SubscriptionGrant => "subscription_grant",
            Kind::Charge => "charge",
            Kind::Refund => "refund",
            Kind::Adjustment => "adjustment",
            Kind::Expiry => "expiry",
        }
    }
}

/// One ledger row. `amount` is signed credits (charges negative).
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: String,
    pub job_id: Option<String>,
    pub created_at: i64,
}

/// Adds `amount` (> 0) credits inside `tx` and writes the entry. Returns the new balance.
///
/// Errors: [`StoreError::Conflict`] if `(user, idempotency_key)` was used before.
pub(crate) async fn credit_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    kind: Kind,
    amount: i64,
    reason: &str,
    job_id: Option<&str>,
    idempotency_key: &str,
) -> Result<i64> {
    debug_assert!(amount > 0);
    let balance: i64 = sqlx::query_scalar("UPDATE users SET balance = balance + $1 WHERE id = $2 RETURNING balance")
        .bind(amount)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    insert_entry(tx, user_id, kind, amount, balance, reason, job_id, idempotency_key).await?;
    Ok(balance)
}

/// Takes `cost` (≥ 0) credits inside `tx` if the balance covers it, and writes a `charge`
/// entry. Returns the new balance.
///
/// Errors: [`StoreError::InsufficientCredits`] (nothing written), [`StoreError::Conflict`]
/// for a reused idempotency key.
pub(crate) async fn charge_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    cost: i64,
    reason: &str,
    job_id: Option<&str>,
    idempotency_key: &str,
) -> Result<i64> {
    let balance: Option<i64> =
        sqlx::query_scalar("UPDATE users SET balance = balance - $1 WHERE id = $2 AND balance >= $1 RETURNING balance")
            .bind(cost)
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(balance) = balance else {
        let have: Option<i64> = sqlx::query_scalar("SELECT balance FROM users WHERE id = $1").bind(user_id).fetch_optional(&mut **tx).await?;
        return match have {
            Some(balance) => Err(StoreError::InsufficientCredits { balance, needed: cost }),
            None => Err(StoreError::NotFound),
        };
    };
    insert_entry(tx, user_id, Kind::Charge, -cost, balance, reason, job_id, idempotency_key).await?;
    Ok(balance)
}

#[allow(clippy::too_many_arguments)]
async fn insert_entry(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    kind: Kind,
    amount: i64,
    balance_after: i64,
    reason: &str,
    job_id: Option<&str>,
    idempotency_key: &str,
) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO ledger_entries (id, user_id, kind, amount, balance_after, reason, job_id, idempotency_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(kind.as_str())
    .bind(amount)
    .bind(balance_after)
    .bind(reason)
    .bind(job_id)
    .bind(idempotency_key)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(StoreError::from);
    match r {
        Err(e) if e.is_unique_violation() => Err(StoreError::Conflict(format!("idempotency key {idempotency_key} already used"))),
        other => other.map(|_| ()),
    }
}

impl Store {
    /// Grants credits (admin action or sign-up), once per idempotency key: a repeated key
    /// returns the current balance and writes nothing.
    pub async fn grant(&self, user_id: &str, amount: i64, reason: &str, idempotency_key: &str) -> Result<i64> {
        if amount <= 0 {
            return Err(StoreError::Conflict("a grant must be positive".into()));
        }
        let mut tx = self.begin_write().await?;
        match credit_in(&mut tx, user_id, Kind::Grant, amount, reason, None, idempotency_key).await {
            Ok(balance) => {
                tx.commit().await?;
                Ok(balance)
            }
            Err(StoreError::Conflict(_)) => {
                tx.rollback().await?;
                Ok(self.user(user_id).await?.balance)
            }
            Err(e) => Err(e),
        }
    }

    /// The member's ledger, newest first, at most `limit` rows.
    pub async fn ledger(&self, user_id: &str, limit: i64) -> Result<Vec<Entry>> {
        Ok(sqlx::query_as::<_, Entry>(
            "SELECT id, kind, amount, balance_after, reason, job_id, created_at FROM ledger_entries \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sum of the member's ledger amounts (for invariant checks; equals `users.balance`).
    pub async fn ledger_sum(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?)
    }
}
