//! The credit ledger: append-only entries, each with the balance after it.
//!
//! Invariant: `users.balance` = sum of the member's `ledger_entries.amount` = the last
//! entry's `balance_after`, and never negative (a `CHECK` on both tables backs the code).
//! Every entry carries an idempotency key unique per member, so a retried request changes
//! nothing. Debits are a single conditional `UPDATE ... WHERE balance >= cost`, which is what
//! keeps concurrent charges from overdrawing on both databases.
//!
//! Credit lots: every credit added is a lot with an optional expiry; a debit takes from the
//! soonest-expiring live lots first (never-expiring last) and records its draws; a job's
//! refund gives the credits back to the lots they came from. Lots past their expiry are
//! expired (an `expiry` entry for what is left) before any debit of their owner and by
//! [`Store::expire_lots`]; so balance = sum of entries = sum of lots' `remaining`.

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
    /// Every kind, in the order pages list them.
    pub const ALL: [Kind; 7] = [Kind::Grant, Kind::Purchase, Kind::SubscriptionGrant, Kind::Charge, Kind::Refund, Kind::Adjustment, Kind::Expiry];

    /// From the stored form; `None` for an unknown kind.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

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

/// Which ledger entries a page or export shows (all `None`: every entry).
#[derive(Clone, Debug, Default)]
pub struct LedgerFilter<'a> {
    /// One kind (`grant`, `charge`, ...).
    pub kind: Option<&'a str>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms).
    pub until_ms: Option<i64>,
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

/// Adds `amount` (> 0) credits inside `tx` as a new lot (expiring at `expires_at`, Unix ms;
/// `None` never) and writes the entry. Returns the new balance.
///
/// Errors: [`StoreError::Conflict`] if `(user, idempotency_key)` was used before.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn credit_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    kind: Kind,
    amount: i64,
    reason: &str,
    job_id: Option<&str>,
    idempotency_key: &str,
    expires_at: Option<i64>,
) -> Result<i64> {
    debug_assert!(amount > 0);
    let balance = add_balance(tx, user_id, amount).await?;
    let entry = insert_entry(tx, user_id, kind, amount, balance, reason, job_id, idempotency_key).await?;
    sqlx::query(
        "INSERT INTO credit_lots (id, user_id, entry_id, kind, amount, remaining, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(&entry)
    .bind(kind.as_str())
    .bind(amount)
    .bind(expires_at)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(balance)
}

/// Appends the member's live `balance` event inside `tx`.
pub(crate) async fn emit_balance(tx: &mut Transaction<'static, Any>, user_id: &str, balance: i64) -> Result<()> {
    let event = darkroom_contract::LiveEvent::Balance(darkroom_contract::event::Balance { balance });
    crate::events::append_in(tx, user_id, &event).await?;
    Ok(())
}

/// Adds `amount` to the member's balance inside `tx` and counts an addition to their lots
/// (`credit_additions`: a creation in one statement checks it did not change meanwhile, see
/// `Store::create_job_at_once`). Returns the new balance.
async fn add_balance(tx: &mut Transaction<'static, Any>, user_id: &str, amount: i64) -> Result<i64> {
    sqlx::query_scalar("UPDATE users SET balance = balance + $1, credit_additions = credit_additions + 1 WHERE id = $2 RETURNING balance")
        .bind(amount)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Refunds a debit inside `tx`: gives `amount` back to the lots the debit with
/// `debit_key` drew from (a lot that expired meanwhile expires again at the next check) and
/// writes a `refund` entry. Returns the new balance.
///
/// Errors: [`StoreError::Conflict`] for a reused idempotency key.
pub(crate) async fn refund_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    amount: i64,
    job_id: Option<&str>,
    idempotency_key: &str,
    debit_key: &str,
) -> Result<i64> {
    let balance = add_balance(tx, user_id, amount).await?;
    insert_entry(tx, user_id, Kind::Refund, amount, balance, "refund", job_id, idempotency_key).await?;
    let draws: Vec<(String, i64)> = sqlx::query_as(
        "SELECT d.lot_id, d.amount FROM lot_draws d JOIN ledger_entries e ON e.id = d.entry_id \
         WHERE e.user_id = $1 AND e.idempotency_key = $2 ORDER BY d.lot_id",
    )
    .bind(user_id)
    .bind(debit_key)
    .fetch_all(&mut **tx)
    .await?;
    let mut left = amount;
    for (lot, drawn) in draws {
        let give = drawn.min(left);
        if give == 0 {
            break;
        }
        sqlx::query("UPDATE credit_lots SET remaining = remaining + $1 WHERE id = $2").bind(give).bind(&lot).execute(&mut **tx).await?;
        left -= give;
    }
    if left > 0 {
        // A debit from before lots existed: the credits come back as a lot of their own.
        sqlx::query(
            "INSERT INTO credit_lots (id, user_id, entry_id, kind, amount, remaining, expires_at, created_at) \
             VALUES ($1, $2, $3, 'refund', $4, $4, NULL, $5)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(idempotency_key)
        .bind(left)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    }
    Ok(balance)
}

/// Expires the member's lots past their time inside `tx`: an `expiry` entry for each lot's
/// remainder. Returns the balance after, if anything expired.
pub(crate) async fn expire_due_in(tx: &mut Transaction<'static, Any>, user_id: &str, now: i64) -> Result<Option<i64>> {
    let due: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, remaining FROM credit_lots WHERE user_id = $1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $2 ORDER BY expires_at, id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let mut balance = None;
    for (lot, remaining) in due {
        sqlx::query("UPDATE credit_lots SET remaining = 0 WHERE id = $1").bind(&lot).execute(&mut **tx).await?;
        let b: i64 = sqlx::query_scalar("UPDATE users SET balance = balance - $1 WHERE id = $2 RETURNING balance")
            .bind(remaining)
            .bind(user_id)
            .fetch_one(&mut **tx)
            .await?;
        insert_entry(tx, user_id, Kind::Expiry, -remaining, b, "credits expired", None, &format!("expiry:{lot}:{}", new_id())).await?;
        balance = Some(b);
    }
    Ok(balance)
}

/// The condition and order of a member's lots with credits left that are live at a time, in
/// spending order (soonest-expiring first, never-expiring last, then oldest), with `user` and
/// `now` the statement's placeholders for the member's id and the time.
pub(crate) fn live_lots(user: &str, now: &str) -> String {
    format!(
        "user_id = {user} AND remaining > 0 AND (expires_at IS NULL OR expires_at > {now}) \
         ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, created_at, id"
    )
}

/// Takes `cost` (≥ 0) credits inside `tx` if the balance covers it, from the soonest-expiring
/// live lots first, and writes a `kind` entry (`charge`, or `adjustment` for an admin
/// deduction). Due lots are expired first. Returns the new balance. Most debits (no lot due,
/// the first lot covers the cost) take four statements: the balance, the entry, the lot, the
/// draw.
///
/// Errors: [`StoreError::InsufficientCredits`] (nothing written but expiries), [`StoreError::Conflict`]
/// for a reused idempotency key.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn debit_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    kind: Kind,
    cost: i64,
    reason: &str,
    job_id: Option<&str>,
    idempotency_key: &str,
) -> Result<i64> {
    let now = now_ms();
    // Most debits find no lot due: the balance is taken in the statement that checks that.
    let balance: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET balance = balance - $1 WHERE id = $2 AND balance >= $1 \
         AND NOT EXISTS (SELECT 1 FROM credit_lots WHERE user_id = $2 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $3) \
         RETURNING balance",
    )
    .bind(cost)
    .bind(user_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let balance = match balance {
        Some(b) => b,
        None => {
            expire_due_in(tx, user_id, now).await?;
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
            balance
        }
    };
    let entry = insert_entry(tx, user_id, kind, -cost, balance, reason, job_id, idempotency_key).await?;
    if cost == 0 {
        return Ok(balance);
    }
    // Most debits fit in the first live lot in spending order: taken in one statement.
    let first: Option<String> = sqlx::query_scalar(&format!(
        "UPDATE credit_lots SET remaining = remaining - $1 WHERE id = (SELECT id FROM credit_lots WHERE {} LIMIT 1) \
         AND remaining >= $1 RETURNING id",
        live_lots("$2", "$3")
    ))
    .bind(cost)
    .bind(user_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(lot) = first {
        sqlx::query("INSERT INTO lot_draws (entry_id, lot_id, amount) VALUES ($1, $2, $3)").bind(&entry).bind(&lot).bind(cost).execute(&mut **tx).await?;
        return Ok(balance);
    }
    let lots: Vec<(String, i64)> = sqlx::query_as(
        &format!("SELECT id, remaining FROM credit_lots WHERE {}", live_lots("$1", "$2")),
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let mut left = cost;
    for (lot, remaining) in lots {
        if left == 0 {
            break;
        }
        let take = remaining.min(left);
        sqlx::query("UPDATE credit_lots SET remaining = remaining - $1 WHERE id = $2").bind(take).bind(&lot).execute(&mut **tx).await?;
        sqlx::query("INSERT INTO lot_draws (entry_id, lot_id, amount) VALUES ($1, $2, $3)").bind(&entry).bind(&lot).bind(take).execute(&mut **tx).await?;
        left -= take;
    }
    if left > 0 {
        return Err(StoreError::Conflict(format!("ledger and credit lots disagree for {user_id}")));
    }
    Ok(balance)
}

/// Takes up to `max` credits back from one lot inside `tx` (a refunded purchase's lot): what
/// is still unspent in it, after due lots are expired. Writes a `refund` entry with the
/// negative amount and the draw. Returns the new balance, or `None` if the lot was empty.
///
/// Errors: [`StoreError::Conflict`] for a reused idempotency key.
pub(crate) async fn take_from_lot_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    lot_id: &str,
    max: i64,
    reason: &str,
    idempotency_key: &str,
) -> Result<Option<i64>> {
    expire_due_in(tx, user_id, now_ms()).await?;
    let remaining: i64 = sqlx::query_scalar("UPDATE credit_lots SET remaining = remaining WHERE id = $1 AND user_id = $2 RETURNING remaining")
        .bind(lot_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or(0);
    let take = remaining.min(max);
    if take <= 0 {
        return Ok(None);
    }
    sqlx::query("UPDATE credit_lots SET remaining = remaining - $1 WHERE id = $2").bind(take).bind(lot_id).execute(&mut **tx).await?;
    let balance: i64 = sqlx::query_scalar("UPDATE users SET balance = balance - $1 WHERE id = $2 RETURNING balance")
        .bind(take)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
    let entry = insert_entry(tx, user_id, Kind::Refund, -take, balance, reason, None, idempotency_key).await?;
    sqlx::query("INSERT INTO lot_draws (entry_id, lot_id, amount) VALUES ($1, $2, $3)").bind(&entry).bind(lot_id).bind(take).execute(&mut **tx).await?;
    Ok(Some(balance))
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
) -> Result<String> {
    let id = new_id();
    let r = sqlx::query(
        "INSERT INTO ledger_entries (id, user_id, kind, amount, balance_after, reason, job_id, idempotency_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
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
        other => other.map(|_| id),
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
        match credit_in(&mut tx, user_id, Kind::Grant, amount, reason, None, idempotency_key, None).await {
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

    /// Finishes a balance change begun in `tx`: on success the balance event and commit
    /// (`Some(balance)`); a reused idempotency key rolls back and is `None`.
    async fn finish_balance_change(&self, mut tx: Transaction<'static, Any>, user_id: &str, done: Result<i64>) -> Result<Option<i64>> {
        match done {
            Ok(balance) => {
                emit_balance(&mut tx, user_id, balance).await?;
                tx.commit().await?;
                self.changed(user_id);
                Ok(Some(balance))
            }
            Err(StoreError::Conflict(m)) if m.starts_with("idempotency key") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds `amount` credits as a lot expiring at `expires_at` (Unix ms; `None` never), once
    /// per idempotency key: a repeated key changes nothing and returns `Ok(None)`.
    /// `kind` is `grant`, `purchase`, `subscription_grant` or `adjustment`.
    ///
    /// Errors: [`StoreError::Conflict`] for another kind or a non-positive amount.
    pub async fn add_credits(&self, user_id: &str, kind: Kind, amount: i64, reason: &str, idempotency_key: &str, expires_at: Option<i64>) -> Result<Option<i64>> {
        if amount <= 0 || !matches!(kind, Kind::Grant | Kind::Purchase | Kind::SubscriptionGrant | Kind::Adjustment) {
            return Err(StoreError::Conflict("credits are added by a positive grant, purchase or adjustment".into()));
        }
        let mut tx = self.begin_write().await?;
        let done = credit_in(&mut tx, user_id, kind, amount, reason, None, idempotency_key, expires_at).await;
        self.finish_balance_change(tx, user_id, done).await
    }

    /// Takes `amount` credits (an admin deduction: an `adjustment` entry), soonest-expiring
    /// lots first, once per idempotency key (a repeat changes nothing: `Ok(None)`).
    ///
    /// Errors: [`StoreError::InsufficientCredits`]; [`StoreError::Conflict`] for a
    /// non-positive amount.
    pub async fn deduct(&self, user_id: &str, amount: i64, reason: &str, idempotency_key: &str) -> Result<Option<i64>> {
        if amount <= 0 {
            return Err(StoreError::Conflict("a deduction must be positive".into()));
        }
        let mut tx = self.begin_write().await?;
        let done = debit_in(&mut tx, user_id, Kind::Adjustment, amount, reason, None, idempotency_key).await;
        self.finish_balance_change(tx, user_id, done).await
    }

    /// Expires every lot past its time at `now` (Unix ms): an `expiry` entry per lot for what
    /// was left, and a balance event per member. Returns how many members' balances changed.
    pub async fn expire_lots(&self, now: i64) -> Result<u64> {
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT user_id FROM credit_lots WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut changed = 0;
        for user in users {
            let mut tx = self.begin_write().await?;
            if let Some(balance) = expire_due_in(&mut tx, &user, now).await? {
                emit_balance(&mut tx, &user, balance).await?;
                changed += 1;
            }
            tx.commit().await?;
            self.changed(&user);
        }
        Ok(changed)
    }

    /// Sum of the member's lots' remaining credits (equals the balance once due lots are expired).
    pub async fn lots_sum(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM credit_lots WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// An admin's adjustment of a member's credits: `amount` > 0 adds a non-expiring lot,
    /// < 0 takes credits (soonest-expiring first); either way an `adjustment` entry and an
    /// audit row (actor, member, reason) in one transaction. A repeated idempotency key
    /// changes nothing (`Ok(None)`).
    ///
    /// Errors: [`StoreError::Conflict`] for 0 or an empty reason;
    /// [`StoreError::InsufficientCredits`] for a deduction larger than the balance.
    pub async fn adjust_credits(&self, actor_id: &str, user_id: &str, amount: i64, reason: &str, idempotency_key: &str) -> Result<Option<i64>> {
        if amount == 0 || reason.trim().is_empty() {
            return Err(StoreError::Conflict("an adjustment needs a non-zero amount and a reason".into()));
        }
        let mut tx = self.begin_write().await?;
        let done = if amount > 0 {
            credit_in(&mut tx, user_id, Kind::Adjustment, amount, reason, None, idempotency_key, None).await
        } else {
            debit_in(&mut tx, user_id, Kind::Adjustment, -amount, reason, None, idempotency_key).await
        };
        let done = match done {
            Ok(balance) => {
                crate::audit::audit_in(&mut tx, Some(actor_id), "credits.adjust", user_id, &format!("{amount:+} credits: {reason}")).await?;
                crate::accounts::security_in(&mut tx, user_id, "admin_action", &Default::default(), &format!("credits adjusted by an administrator ({amount:+})")).await?;
                Ok(balance)
            }
            e => e,
        };
        self.finish_balance_change(tx, user_id, done).await
    }

    /// The member's ledger entries that pass `filter`, newest first, at most `limit`;
    /// `before`: an entry id to page after (keyset on the time-ordered id).
    pub async fn ledger_page(&self, user_id: &str, filter: &LedgerFilter<'_>, before: Option<&str>, limit: i64) -> Result<Vec<Entry>> {
        Ok(sqlx::query_as::<_, Entry>(
            "SELECT id, kind, amount, balance_after, reason, job_id, created_at FROM ledger_entries \
             WHERE user_id = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR id < $3) AND created_at >= $4 AND created_at < $5 \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(user_id)
        .bind(filter.kind.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(filter.from_ms.unwrap_or(0))
        .bind(filter.until_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
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
