//! Plans and payments (SPEC §5): the catalogue of top-up packages and monthly
//! subscriptions, the payments members make through a provider (Stripe, PayPal), and the
//! provider events applied to them — each exactly once.
//!
//! Exactly once: every provider event is applied in one transaction that first inserts
//! `(provider, event id)` into `payment_events`; a second delivery, concurrent or later,
//! fails that insert and changes nothing ([`Applied::Duplicate`]). Different events about the
//! same payment (a capture answer and its webhook, `checkout.session.completed` and a
//! retried one with a new id) are kept apart by the payment's status (`created` → `paid`
//! happens once, under the row's lock) and by the ledger's idempotency key `payment:<id>`.
//!
//! Only provider, customer id, transaction id, status, amount, currency and billing email are
//! stored. Amounts are in the currency's minor unit (cents).

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::ledger::{self, Kind};
use crate::{new_id, now_ms, Result, Store, StoreError};

/// A catalogue entry.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub id: String,
    /// `package` (one-time top-up) or `subscription` (monthly).
    pub kind: String,
    pub name: String,
    /// Credits added per purchase or per paid month.
    pub credits: i64,
    /// Price in the currency's minor unit (cents).
    pub price_minor: i64,
    /// ISO 4217, lower case (`usd`).
    pub currency: String,
    /// The credits expire this many days after they are added; `None`: never.
    pub lot_days: Option<i64>,
    /// Order on the page (ascending).
    pub position: i64,
    /// Set: no longer offered.
    pub archived_at: Option<i64>,
}

/// What an administrator sets on a plan. `id: None` makes a new plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanInput {
    pub id: Option<String>,
    pub kind: String,
    pub name: String,
    pub credits: i64,
    pub price_minor: i64,
    pub currency: String,
    pub lot_days: Option<i64>,
    pub position: i64,
    pub archived: bool,
}

/// A payment, as stored.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Payment {
    pub id: String,
    pub user_id: String,
    pub plan_id: String,
    pub provider: String,
    pub kind: String,
    pub checkout_id: Option<String>,
    pub customer_id: Option<String>,
    pub transaction_id: Option<String>,
    pub subscription_id: Option<String>,
    /// `created`, `paid`, `partially_refunded` or `refunded`.
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
    pub billing_email: Option<String>,
    pub credits: i64,
    pub lot_id: Option<String>,
    pub refunded_minor: i64,
    pub credits_revoked: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which payments the console lists: each part optional.
#[derive(Clone, Debug, Default)]
pub struct PaymentFilter<'a> {
    /// `stripe` or `paypal`.
    pub provider: Option<&'a str>,
    /// `created`, `paid`, `partially_refunded` or `refunded`.
    pub status: Option<&'a str>,
    pub user_id: Option<&'a str>,
    /// Unix milliseconds: created at or after `from_ms`, before `until_ms`.
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

/// A member's subscription.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub user_id: String,
    pub plan_id: String,
    pub provider: String,
    pub provider_subscription_id: String,
    pub customer_id: Option<String>,
    /// `active` or `canceled`.
    pub status: String,
    pub created_at: i64,
}

/// A provider event: its id makes it count once.
#[derive(Clone, Copy, Debug)]
pub struct EventRef<'a> {
    /// `stripe` or `paypal`.
    pub provider: &'a str,
    pub id: &'a str,
    /// The provider's event type (`checkout.session.completed`, `PAYMENT.CAPTURE.COMPLETED`).
    pub kind: &'a str,
}

/// What applying an event or capture did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Credits were added or taken; the member's balance after.
    Balance { user_id: String, balance: i64 },
    /// Recorded, no credits moved (a subscription started or ended, a refund of spent credits).
    Recorded,
    /// This event (or this payment) was applied before; nothing changed.
    Duplicate,
    /// Nothing to do (unknown payment, amount mismatch, ...); the reason is kept with the event.
    Ignored(String),
}

/// How a payment is found.
#[derive(Clone, Copy, Debug)]
pub enum PaymentRef<'a> {
    Id(&'a str),
    /// `(provider, checkout id)`: the Stripe Checkout Session or PayPal order.
    Checkout(&'a str, &'a str),
    /// `(provider, transaction id)`.
    Transaction(&'a str, &'a str),
}

/// What the provider says about a completed payment.
#[derive(Clone, Debug, Default)]
pub struct Paid<'a> {
    pub transaction_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub billing_email: Option<&'a str>,
    pub amount_minor: i64,
    pub currency: &'a str,
}

/// A paid subscription invoice (Stripe `invoice.paid`).
#[derive(Clone, Debug, Default)]
pub struct InvoicePaid<'a> {
    pub invoice_id: &'a str,
    pub subscription_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub billing_email: Option<&'a str>,
    pub amount_minor: i64,
    pub currency: &'a str,
    /// Our payment id, from the metadata set when the checkout was created (first invoice).
    pub payment_id: Option<&'a str>,
}

/// A refund's size.
#[derive(Clone, Copy, Debug)]
pub enum RefundAmount {
    /// Everything refunded so far (Stripe's `amount_refunded`).
    Total(i64),
    /// This refund only (PayPal's refund resource).
    More(i64),
}

const PLAN_COLUMNS: &str = "id, kind, name, credits, price_minor, currency, lot_days, position, archived_at";
const PAYMENT_COLUMNS: &str = "id, user_id, plan_id, provider, kind, checkout_id, customer_id, transaction_id, subscription_id, status, \
     amount_minor, currency, billing_email, credits, lot_id, refunded_minor, credits_revoked, created_at, updated_at";

/// The payment `by` names, read on `conn` (a transaction's, or the pool).
async fn payment_in<'c, E: sqlx::Executor<'c, Database = Any>>(conn: E, by: PaymentRef<'_>) -> Result<Option<Payment>> {
    let (sql, a, b) = match by {
        PaymentRef::Id(id) => ("id = $1 AND $2 = ''", id, ""),
        PaymentRef::Checkout(p, c) => ("provider = $1 AND checkout_id = $2", p, c),
        PaymentRef::Transaction(p, t) => ("provider = $1 AND transaction_id = $2", p, t),
    };
    Ok(sqlx::query_as::<_, Payment>(&format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE {sql}"))
        .bind(a)
        .bind(b)
        .fetch_optional(conn)
        .await?)
}

async fn plan_in(tx: &mut Transaction<'static, Any>, id: &str) -> Result<Plan> {
    sqlx::query_as::<_, Plan>(&format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1")).bind(id).fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)
}

fn lot_expiry(plan: &Plan, now: i64) -> Option<i64> {
    plan.lot_days.map(|d| now + d * 86_400_000)
}

/// Credits a paid payment inside `tx` (once: the ledger key is `payment:<id>`). Returns the balance.
async fn credit_payment_in(tx: &mut Transaction<'static, Any>, p: &Payment, plan: &Plan) -> Result<i64> {
    let now = now_ms();
    let kind = if p.kind == "subscription" { Kind::SubscriptionGrant } else { Kind::Purchase };
    let reason = format!("{} ({}, {})", plan.name, p.provider, if p.kind == "subscription" { "monthly subscription" } else { "top-up" });
    let balance = ledger::credit_in(tx, &p.user_id, kind, p.credits, &reason, None, &format!("payment:{}", p.id), lot_expiry(plan, now)).await?;
    let lot: String = sqlx::query_scalar(
        "SELECT l.id FROM credit_lots l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.user_id = $1 AND e.idempotency_key = $2",
    )
    .bind(&p.user_id)
    .bind(format!("payment:{}", p.id))
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("UPDATE payments SET lot_id = $1 WHERE id = $2").bind(lot).bind(&p.id).execute(&mut **tx).await?;
    Ok(balance)
}

impl Store {
    /// The catalogue in page order; archived plans only with `include_archived`.
    pub async fn plans(&self, include_archived: bool) -> Result<Vec<Plan>> {
        Ok(sqlx::query_as::<_, Plan>(&format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE ($1 = 1 OR archived_at IS NULL) ORDER BY position, id"
        ))
        .bind(include_archived as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One plan. Errors: [`StoreError::NotFound`].
    pub async fn plan(&self, id: &str) -> Result<Plan> {
        sqlx::query_as::<_, Plan>(&format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)
    }

    /// Creates or updates a plan (an administrator's change, audited in the same
    /// transaction). The caller validates the fields. Errors: [`StoreError::NotFound`] for
    /// an unknown id.
    pub async fn save_plan(&self, actor_id: &str, p: &PlanInput) -> Result<Plan> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let archived = p.archived.then_some(now);
        let id = match &p.id {
            Some(id) => {
                let done = sqlx::query(
                    "UPDATE plans SET kind = $1, name = $2, credits = $3, price_minor = $4, currency = $5, lot_days = $6, position = $7, \
                     archived_at = CASE WHEN $8 = 1 THEN COALESCE(archived_at, $9) ELSE NULL END, updated_at = $9 WHERE id = $10",
                )
                .bind(&p.kind)
                .bind(&p.name)
                .bind(p.credits)
                .bind(p.price_minor)
                .bind(&p.currency)
                .bind(p.lot_days)
                .bind(p.position)
                .bind(p.archived as i64)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                id.clone()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO plans (id, kind, name, credits, price_minor, currency, lot_days, position, archived_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(&id)
                .bind(&p.kind)
                .bind(&p.name)
                .bind(p.credits)
                .bind(p.price_minor)
                .bind(&p.currency)
                .bind(p.lot_days)
                .bind(p.position)
                .bind(archived)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let summary = format!(
            "{} {} · {} credits for {} {} · lots {} · {}",
            p.kind,
            p.name,
            p.credits,
            p.price_minor,
            p.currency,
            p.lot_days.map_or("never expire".into(), |d| format!("expire after {d} days")),
            if p.archived { "archived" } else { "offered" }
        );
        crate::audit::audit_in(&mut tx, Some(actor_id), "plans.save", &id, &summary).await?;
        let plan = plan_in(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Records a checkout the member is starting: a `created` payment for `plan` through
    /// `provider`, with the plan's price and credits as they are now.
    pub async fn create_payment(&self, user_id: &str, plan: &Plan, provider: &str) -> Result<Payment> {
        let now = now_ms();
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO payments (id, user_id, plan_id, provider, kind, status, amount_minor, currency, credits, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(&plan.id)
        .bind(provider)
        .bind(&plan.kind)
        .bind(plan.price_minor)
        .bind(&plan.currency)
        .bind(plan.credits)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let p = payment_in(&mut *tx, PaymentRef::Id(&id)).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(p)
    }

    /// Names the provider's checkout (Stripe Checkout Session id, PayPal order id) of a payment.
    pub async fn set_payment_checkout(&self, payment_id: &str, checkout_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE payments SET checkout_id = $1, updated_at = $2 WHERE id = $3").bind(checkout_id).bind(now_ms()).bind(payment_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A payment found by id, checkout or transaction.
    pub async fn payment(&self, by: PaymentRef<'_>) -> Result<Option<Payment>> {
        payment_in(&self.pool, by).await
    }

    /// The member's payments, newest first (all members' with `user_id: None`, for admins).
    pub async fn payments(&self, user_id: Option<&str>, limit: i64) -> Result<Vec<Payment>> {
        Ok(sqlx::query_as::<_, Payment>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE ($1 = '' OR user_id = $1) AND status <> 'created' ORDER BY id DESC LIMIT $2"
        ))
        .bind(user_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every member's payments for staff, newest first: `provider`, `status` and `user_id`
    /// each `None` for any, created in `[from_ms, until_ms)`, older than the payment `before`,
    /// at most `limit` (a keyset page; checkouts never paid, `created`, included).
    pub async fn staff_payments(&self, filter: &PaymentFilter<'_>, before: Option<&str>, limit: i64) -> Result<Vec<Payment>> {
        Ok(sqlx::query_as::<_, Payment>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR status = $2) \
             AND ($3 = '' OR user_id = $3) AND ($4 = '' OR id < $4) AND created_at >= $5 AND created_at < $6 ORDER BY id DESC LIMIT $7"
        ))
        .bind(filter.provider.unwrap_or(""))
        .bind(filter.status.unwrap_or(""))
        .bind(filter.user_id.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(filter.from_ms.unwrap_or(0))
        .bind(filter.until_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The member's subscriptions, newest first.
    pub async fn subscriptions(&self, user_id: &str) -> Result<Vec<Subscription>> {
        Ok(sqlx::query_as::<_, Subscription>(
            "SELECT id, user_id, plan_id, provider, provider_subscription_id, customer_id, status, created_at FROM subscriptions WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Begins the write transaction that applies `event` once (`None` for a provider's
    /// direct answer, such as a PayPal capture, that has no event id): the event row is
    /// written first, so a concurrent duplicate waits on it and then finds it. `Ok(None)`: the
    /// event was applied before.
    async fn begin_event(&self, event: Option<EventRef<'_>>) -> Result<Option<Transaction<'static, Any>>> {
        let mut tx = self.begin_write().await?;
        if let Some(e) = event {
            let r = sqlx::query("INSERT INTO payment_events (provider, event_id, event_type, outcome, received_at) VALUES ($1, $2, $3, 'pending', $4)")
                .bind(e.provider)
                .bind(e.id)
                .bind(e.kind)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from);
            match r {
                Err(err) if err.is_unique_violation() => {
                    tx.rollback().await?;
                    return Ok(None);
                }
                r => r?,
            };
        }
        Ok(Some(tx))
    }

    /// Records what `event` did, appends the balance event if credits moved, and commits.
    async fn finish_event(&self, mut tx: Transaction<'static, Any>, event: Option<EventRef<'_>>, applied: Applied) -> Result<Applied> {
        if let Some(e) = event {
            let outcome = match &applied {
                Applied::Balance { .. } | Applied::Recorded => "applied".to_string(),
                Applied::Duplicate => "duplicate".to_string(),
                Applied::Ignored(why) => format!("ignored: {why}"),
            };
            sqlx::query("UPDATE payment_events SET outcome = $1 WHERE provider = $2 AND event_id = $3").bind(outcome).bind(e.provider).bind(e.id).execute(&mut *tx).await?;
        }
        if let Applied::Balance { user_id, balance } = &applied {
            ledger::emit_balance(&mut tx, user_id, *balance).await?;
        }
        tx.commit().await?;
        if let Applied::Balance { user_id, .. } = &applied {
            self.changed(user_id);
        }
        Ok(applied)
    }

    /// A one-time payment completed (Stripe `checkout.session.completed` with
    /// `payment_status: paid`, a PayPal capture `COMPLETED`): marks the payment `paid`, keeps
    /// what `paid` says, and adds the plan's credits as a `purchase` lot expiring per the plan.
    /// Once per event and once per payment. An amount or currency other than the payment's
    /// is ignored (and logged by the caller).
    pub async fn complete_payment(&self, event: Option<EventRef<'_>>, by: PaymentRef<'_>, paid: &Paid<'_>) -> Result<Applied> {
        let Some(mut tx) = self.begin_event(event).await? else { return Ok(Applied::Duplicate) };
        let applied: Result<Applied> = {
            let tx = &mut tx;
            async move {
            let Some(p) = payment_in(&mut **tx, by).await? else { return Ok(Applied::Ignored("unknown payment".into())) };
            if paid.amount_minor != p.amount_minor || !paid.currency.eq_ignore_ascii_case(&p.currency) {
                return Ok(Applied::Ignored(format!("paid {} {} for a payment of {} {}", paid.amount_minor, paid.currency, p.amount_minor, p.currency)));
            }
            let done = sqlx::query(
                "UPDATE payments SET status = 'paid', transaction_id = COALESCE($1, transaction_id), customer_id = COALESCE($2, customer_id), \
                 billing_email = COALESCE($3, billing_email), updated_at = $4 WHERE id = $5 AND status = 'created'",
            )
            .bind(paid.transaction_id)
            .bind(paid.customer_id)
            .bind(paid.billing_email)
            .bind(now_ms())
            .bind(&p.id)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(Applied::Duplicate);
            }
            let plan = plan_in(tx, &p.plan_id).await?;
            let balance = credit_payment_in(tx, &p, &plan).await?;
            Ok(Applied::Balance { user_id: p.user_id, balance })
            }
            .await
        };
        let applied = applied?;
        self.finish_event(tx, event, applied).await
    }

    /// A subscription checkout completed (Stripe `checkout.session.completed`, mode
    /// `subscription`): records the subscription. Its credits come with each paid invoice.
    pub async fn start_subscription(&self, event: Option<EventRef<'_>>, by: PaymentRef<'_>, subscription_id: &str, customer_id: Option<&str>, billing_email: Option<&str>) -> Result<Applied> {
        let Some(mut tx) = self.begin_event(event).await? else { return Ok(Applied::Duplicate) };
        let applied: Result<Applied> = {
            let tx = &mut tx;
            async move {
            let Some(p) = payment_in(&mut **tx, by).await? else { return Ok(Applied::Ignored("unknown payment".into())) };
            sqlx::query("UPDATE payments SET subscription_id = $1, customer_id = COALESCE($2, customer_id), billing_email = COALESCE($3, billing_email), updated_at = $4 WHERE id = $5")
                .bind(subscription_id)
                .bind(customer_id)
                .bind(billing_email)
                .bind(now_ms())
                .bind(&p.id)
                .execute(&mut **tx)
                .await?;
            upsert_subscription_in(tx, &p, subscription_id, customer_id).await?;
            Ok(Applied::Recorded)
            }
            .await
        };
        let applied = applied?;
        self.finish_event(tx, event, applied).await
    }

    /// A subscription invoice was paid (Stripe `invoice.paid`): a `paid` payment for it (the
    /// checkout's own payment for the first invoice) and the plan's credits as a
    /// `subscription_grant` lot expiring per the plan. Once per event and once per invoice.
    pub async fn pay_invoice(&self, event: Option<EventRef<'_>>, inv: &InvoicePaid<'_>) -> Result<Applied> {
        let Some(mut tx) = self.begin_event(event).await? else { return Ok(Applied::Duplicate) };
        let applied: Result<Applied> = {
            let tx = &mut tx;
            async move {
            let provider = event.map_or("stripe", |e| e.provider);
            if payment_in(&mut **tx, PaymentRef::Transaction(provider, inv.invoice_id)).await?.is_some() {
                return Ok(Applied::Duplicate);
            }
            let first = match inv.payment_id {
                Some(id) => payment_in(&mut **tx, PaymentRef::Id(id)).await?.filter(|p| p.provider == provider),
                None => None,
            };
            let sub: Option<Subscription> = sqlx::query_as(
                "SELECT id, user_id, plan_id, provider, provider_subscription_id, customer_id, status, created_at FROM subscriptions WHERE provider = $1 AND provider_subscription_id = $2",
            )
            .bind(provider)
            .bind(inv.subscription_id)
            .fetch_optional(&mut **tx)
            .await?;
            let (user_id, plan_id) = match (&sub, &first) {
                (Some(s), _) => (s.user_id.clone(), s.plan_id.clone()),
                (None, Some(p)) => {
                    upsert_subscription_in(tx, p, inv.subscription_id, inv.customer_id).await?;
                    (p.user_id.clone(), p.plan_id.clone())
                }
                (None, None) => return Ok(Applied::Ignored("unknown subscription".into())),
            };
            let plan = plan_in(tx, &plan_id).await?;
            let now = now_ms();
            let payment_id = match first.filter(|p| p.status == "created" && p.user_id == user_id) {
                Some(p) => {
                    sqlx::query(
                        "UPDATE payments SET status = 'paid', transaction_id = $1, subscription_id = $2, customer_id = COALESCE($3, customer_id), \
                         billing_email = COALESCE($4, billing_email), amount_minor = $5, currency = $6, updated_at = $7 WHERE id = $8",
                    )
                    .bind(inv.invoice_id)
                    .bind(inv.subscription_id)
                    .bind(inv.customer_id)
                    .bind(inv.billing_email)
                    .bind(inv.amount_minor)
                    .bind(inv.currency)
                    .bind(now)
                    .bind(&p.id)
                    .execute(&mut **tx)
                    .await?;
                    p.id
                }
                None => {
                    let id = new_id();
                    sqlx::query(
                        "INSERT INTO payments (id, user_id, plan_id, provider, kind, customer_id, transaction_id, subscription_id, status, amount_minor, currency, billing_email, credits, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, 'subscription', $5, $6, $7, 'paid', $8, $9, $10, $11, $12, $12)",
                    )
                    .bind(&id)
                    .bind(&user_id)
                    .bind(&plan.id)
                    .bind(provider)
                    .bind(inv.customer_id)
                    .bind(inv.invoice_id)
                    .bind(inv.subscription_id)
                    .bind(inv.amount_minor)
                    .bind(inv.currency)
                    .bind(inv.billing_email)
                    .bind(plan.credits)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                    id
                }
            };
            let p = payment_in(&mut **tx, PaymentRef::Id(&payment_id)).await?.ok_or(StoreError::NotFound)?;
            let balance = credit_payment_in(tx, &p, &plan).await?;
            Ok(Applied::Balance { user_id, balance })
            }
            .await
        };
        let applied = applied?;
        self.finish_event(tx, event, applied).await
    }

    /// A subscription ended (Stripe `customer.subscription.deleted`): no more grants. Credits
    /// already added stay until their lots expire.
    pub async fn end_subscription(&self, event: Option<EventRef<'_>>, provider: &str, subscription_id: &str) -> Result<Applied> {
        let Some(mut tx) = self.begin_event(event).await? else { return Ok(Applied::Duplicate) };
        let applied: Result<Applied> = {
            let tx = &mut tx;
            async move {
            let done = sqlx::query("UPDATE subscriptions SET status = 'canceled', updated_at = $1 WHERE provider = $2 AND provider_subscription_id = $3")
                .bind(now_ms())
                .bind(provider)
                .bind(subscription_id)
                .execute(&mut **tx)
                .await?;
            Ok(if done.rows_affected() == 0 { Applied::Ignored("unknown subscription".into()) } else { Applied::Recorded })
            }
            .await
        };
        let applied = applied?;
        self.finish_event(tx, event, applied).await
    }

    /// A payment was refunded (Stripe `charge.refunded`, PayPal `PAYMENT.CAPTURE.REFUNDED`):
    /// records the refunded amount and takes back the credits of that purchase's lot that are
    /// still unspent, in proportion to the share refunded (all of them for a full refund; credits
    /// already spent are not taken from other lots). A `refund` entry with a negative amount.
    pub async fn refund_payment(&self, event: Option<EventRef<'_>>, by: PaymentRef<'_>, amount: RefundAmount) -> Result<Applied> {
        let Some(mut tx) = self.begin_event(event).await? else { return Ok(Applied::Duplicate) };
        let applied: Result<Applied> = {
            let tx = &mut tx;
            async move {
            let Some(p) = payment_in(&mut **tx, by).await? else { return Ok(Applied::Ignored("unknown payment".into())) };
            if p.status == "created" {
                return Ok(Applied::Ignored("the payment was never completed".into()));
            }
            let total = match amount {
                RefundAmount::Total(t) => t,
                RefundAmount::More(m) => p.refunded_minor + m,
            }
            .min(p.amount_minor);
            if total <= p.refunded_minor {
                return Ok(Applied::Duplicate);
            }
            // Credits this much refund takes back: in proportion, rounded down; all for a full refund.
            let target = if total >= p.amount_minor { p.credits } else { p.credits * total / p.amount_minor.max(1) };
            let want = (target - p.credits_revoked).max(0);
            let status = if total >= p.amount_minor { "refunded" } else { "partially_refunded" };
            sqlx::query("UPDATE payments SET status = $1, refunded_minor = $2, credits_revoked = $3, updated_at = $4 WHERE id = $5")
                .bind(status)
                .bind(total)
                .bind(target.max(p.credits_revoked))
                .bind(now_ms())
                .bind(&p.id)
                .execute(&mut **tx)
                .await?;
            let taken = match &p.lot_id {
                Some(lot) if want > 0 => {
                    ledger::take_from_lot_in(tx, &p.user_id, lot, want, "payment refunded: its unspent credits are taken back", &format!("payment-refund:{}:{total}", p.id)).await?
                }
                _ => None,
            };
            Ok(match taken {
                Some(balance) => Applied::Balance { user_id: p.user_id, balance },
                None => Applied::Recorded,
            })
            }
            .await
        };
        let applied = applied?;
        self.finish_event(tx, event, applied).await
    }

    /// How an event was applied (`applied`, `ignored: …`), if it was received.
    pub async fn payment_event_outcome(&self, provider: &str, event_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT outcome FROM payment_events WHERE provider = $1 AND event_id = $2").bind(provider).bind(event_id).fetch_optional(&self.pool).await?)
    }
}

async fn upsert_subscription_in(tx: &mut Transaction<'static, Any>, p: &Payment, subscription_id: &str, customer_id: Option<&str>) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO subscriptions (id, user_id, plan_id, provider, provider_subscription_id, customer_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7) ON CONFLICT (provider, provider_subscription_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(&p.user_id)
    .bind(&p.plan_id)
    .bind(&p.provider)
    .bind(subscription_id)
    .bind(customer_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
