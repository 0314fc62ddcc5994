//! Top-up and plan server functions (SPEC §5): what the member can buy and what they paid
//! (`billing_page`), the public pricing page (`pricing`), the administrators' catalogue
//! editor (`admin_plans`, `save_plan`).
//! Checkouts themselves start on the `/payments/checkout` route (a plain form post that
//! ends on the provider's page); rules live in `darkroom_service::payments`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A plan as pages show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanView {
    pub id: String,
    /// `package` or `subscription`.
    pub kind: String,
    pub name: String,
    pub credits: i64,
    /// `"5.00"`: the price in the currency's major unit.
    pub price: String,
    /// Upper case, `USD`.
    pub currency: String,
    /// Days the credits last; `None`: they never expire.
    pub lot_days: Option<i64>,
    pub position: i64,
    pub archived: bool,
}

/// A payment as its member (or an administrator) sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PaymentView {
    pub id: String,
    pub plan: String,
    pub provider: String,
    /// `paid`, `partially_refunded`, `refunded`.
    pub status: String,
    /// `"USD 5.00"`.
    pub amount: String,
    pub credits: i64,
    pub transaction_id: Option<String>,
    pub created_at: i64,
}

/// A subscription as its member sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SubscriptionView {
    pub plan: String,
    pub provider: String,
    /// `active` or `canceled`.
    pub status: String,
    pub created_at: i64,
}

/// The top-up page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BillingView {
    pub balance: i64,
    /// Which providers are on (both off: "payments are off").
    pub stripe: bool,
    pub paypal: bool,
    pub plans: Vec<PlanView>,
    pub payments: Vec<PaymentView>,
    pub subscriptions: Vec<SubscriptionView>,
    /// `Some(status)` when the page was opened with `?paid=<id>` for one of the member's payments.
    pub returned: Option<String>,
}

/// What a generation costs with one template.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TemplatePrice {
    pub name: String,
    pub description: String,
    /// Credits per output.
    pub cost: i64,
}

/// The public pricing page (anyone, signed in or not).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PricingView {
    /// The plans on sale: not archived, and of a kind an enabled provider sells.
    pub plans: Vec<PlanView>,
    /// Credits a new account starts with (the operator's settings).
    pub signup_grant: i64,
    /// The offered templates in catalogue order with their price.
    pub templates: Vec<TemplatePrice>,
    /// Whether the visitor is signed in (the buttons go to the top-up page, not to sign-in).
    pub signed_in: bool,
}

/// A payment in the operator's console.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StaffPaymentRow {
    pub payment: PaymentView,
    pub user_id: String,
    /// The provider's checkout (Stripe Checkout Session, PayPal order) and subscription ids.
    pub checkout_id: Option<String>,
    pub subscription_id: Option<String>,
    /// `"USD 2.50"`: refunded so far; and the payment's credits its refunds revoked (its
    /// refunded share; credits already spent are not taken back twice).
    pub refunded: String,
    pub credits_revoked: i64,
}

/// One page of the payments console.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StaffPaymentsPage {
    pub rows: Vec<StaffPaymentRow>,
    /// The `before` of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// The catalogue editor.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AdminPlansView {
    pub plans: Vec<PlanView>,
    /// The latest payments of all members.
    pub payments: Vec<PaymentView>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use darkroom_store::payments::{Payment, Plan};

    pub fn plan_view(p: Plan) -> PlanView {
        PlanView {
            price: darkroom_service::payments::minor_to_decimal(p.price_minor, &p.currency),
            currency: p.currency.to_ascii_uppercase(),
            archived: p.archived_at.is_some(),
            id: p.id,
            kind: p.kind,
            name: p.name,
            credits: p.credits,
            lot_days: p.lot_days,
            position: p.position,
        }
    }

    /// The plans of `all` on sale now: not archived, and of a kind an enabled provider sells.
    pub fn on_sale(all: &[Plan], providers: &darkroom_service::payments::Providers) -> Vec<PlanView> {
        all.iter().filter(|p| p.archived_at.is_none() && (providers.sells("stripe", &p.kind) || providers.sells("paypal", &p.kind))).cloned().map(plan_view).collect()
    }

    pub fn payment_view(p: Payment, plans: &[Plan]) -> PaymentView {
        PaymentView {
            plan: plans.iter().find(|x| x.id == p.plan_id).map_or(p.plan_id.clone(), |x| x.name.clone()),
            amount: darkroom_service::payments::price_label(p.amount_minor, &p.currency),
            id: p.id,
            provider: p.provider,
            status: p.status,
            credits: p.credits,
            transaction_id: p.transaction_id,
            created_at: p.created_at,
        }
    }
}

/// The member's top-up page: balance, the plans on offer, their payments and subscriptions.
/// `paid`: the payment id a provider sent them back with.
#[server(endpoint = "billing_page")]
pub async fn billing_page(paid: Option<String>) -> Result<BillingView, ServerFnError> {
    use crate::api::ssr::{fail, member};
    use darkroom_service::payments::Providers;
    let (state, user) = member().await?;
    let err = |e: darkroom_store::StoreError| fail(e.into());
    let providers = Providers::of(&state.config);
    let all = state.store.plans(true).await.map_err(err)?;
    let payments = state.store.payments(Some(&user.id), 50).await.map_err(err)?;
    let subscriptions = state.store.subscriptions(&user.id).await.map_err(err)?;
    let returned = match paid.filter(|p| !p.is_empty() && p.len() <= 64) {
        Some(id) => state.store.payment(darkroom_store::payments::PaymentRef::Id(&id)).await.map_err(err)?.filter(|p| p.user_id == user.id).map(|p| p.status),
        None => None,
    };
    Ok(BillingView {
        balance: state.store.user(&user.id).await.map_err(err)?.balance,
        stripe: providers.stripe,
        paypal: providers.paypal,
        plans: ssr::on_sale(&all, &providers),
        payments: payments.into_iter().map(|p| ssr::payment_view(p, &all)).collect(),
        subscriptions: subscriptions
            .into_iter()
            .map(|s| SubscriptionView {
                plan: all.iter().find(|x| x.id == s.plan_id).map_or(s.plan_id.clone(), |x| x.name.clone()),
                provider: s.provider,
                status: s.status,
                created_at: s.created_at,
            })
            .collect(),
        returned,
    })
}

/// The public pricing page: plans on sale, the sign-up grant and each template's price.
/// Anyone may call it. Errors: the store's.
#[server(endpoint = "pricing")]
pub async fn pricing() -> Result<PricingView, ServerFnError> {
    use crate::api::ssr::{auth, fail, state};
    let state = state()?;
    let signed_in = auth().await?.user.is_some();
    let providers = darkroom_service::payments::Providers::of(&state.config);
    let all = state.store.plans(true).await.map_err(|e| fail(e.into()))?;
    let templates = darkroom_service::templates::catalogue(&state).await.map_err(fail)?;
    Ok(PricingView {
        plans: ssr::on_sale(&all, &providers),
        signup_grant: darkroom_service::settings::get(&state).await.map_err(fail)?.signup_grant,
        templates: templates.into_iter().map(|t| TemplatePrice { name: t.name, description: t.description, cost: t.cost }).collect(),
        signed_in,
    })
}

/// Every plan (archived ones too) and the latest 100 payments. Administrators only.
#[server(endpoint = "admin_plans")]
pub async fn admin_plans() -> Result<AdminPlansView, ServerFnError> {
    use crate::api::ssr::fail;
    let (state, _) = crate::api::ssr::admin("edit plans").await?;
    let plans = state.store.plans(true).await.map_err(|e| fail(e.into()))?;
    let payments = state.store.payments(None, 100).await.map_err(|e| fail(e.into()))?;
    Ok(AdminPlansView { payments: payments.into_iter().map(|p| ssr::payment_view(p, &plans)).collect(), plans: plans.into_iter().map(ssr::plan_view).collect() })
}

/// Creates (`id` empty) or updates a plan. `price` in major units (`"5.00"`), `lot_days`
/// empty for credits that never expire, `archived` from a checkbox (`"on"`). Audited.
/// Errors: a message naming the bad field (400); not an administrator (403).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_plan")]
pub async fn save_plan(
    id: String,
    kind: String,
    name: String,
    credits: String,
    price: String,
    currency: String,
    lot_days: String,
    position: String,
    archived: Option<String>,
) -> Result<PlanView, ServerFnError> {
    use crate::api::ssr::fail;
    use darkroom_service::ServiceError;
    let (state, user) = crate::api::ssr::admin("edit plans").await?;
    let invalid = |m: &str| fail(ServiceError::Invalid(m.into()));
    let number = |s: &str, what: &str| s.trim().parse::<i64>().map_err(|_| invalid(&format!("{what} must be a whole number.")));
    let currency = currency.trim().to_ascii_lowercase();
    let input = darkroom_store::payments::PlanInput {
        id: Some(id.trim().to_string()).filter(|i| !i.is_empty()),
        kind,
        name,
        credits: number(&credits, "Credits")?,
        price_minor: darkroom_service::payments::decimal_to_minor(price.trim(), &currency).ok_or_else(|| invalid("The price is a number such as 5.00."))?,
        lot_days: match lot_days.trim() {
            "" => None,
            d => Some(number(d, "Days")?),
        },
        position: if position.trim().is_empty() { 0 } else { number(&position, "Position")? },
        archived: archived.is_some_and(|a| !a.is_empty()),
        currency,
    };
    let input = darkroom_service::payments::check_plan(input).map_err(fail)?;
    let plan = state.store.save_plan(&user.id, &input).await.map_err(|e| fail(e.into()))?;
    Ok(ssr::plan_view(plan))
}

/// Every member's payments (administrators only), newest first. Filters (each empty: any):
/// `provider` (`stripe`, `paypal`), `status` (`created`, `paid`, `partially_refunded`,
/// `refunded`), `member` (an email address), `from`/`to` (`YYYY-MM-DD`); `before` the previous
/// page's `next`. Errors: 400 for a malformed filter.
#[server(endpoint = "admin_payments")]
pub async fn admin_payments(
    provider: Option<String>,
    status: Option<String>,
    member: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<StaffPaymentsPage, ServerFnError> {
    use crate::api::ssr::{admin, day_range, fail, member_filter};
    use darkroom_service::ServiceError;
    let (state, _) = admin("see payments").await?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let (provider, status) = (given(&provider), given(&status));
    if provider.as_deref().is_some_and(|p| !["stripe", "paypal"].contains(&p)) || status.as_deref().is_some_and(|s| !["created", "paid", "partially_refunded", "refunded"].contains(&s)) {
        return Err(fail(ServiceError::Invalid("Unknown provider or status.".into())));
    }
    let (from_ms, until_ms) = day_range(from.as_deref(), to.as_deref())?;
    let user_id = member_filter(&state, member.as_deref()).await?;
    let filter = darkroom_store::payments::PaymentFilter { provider: provider.as_deref(), status: status.as_deref(), user_id: user_id.as_deref(), from_ms, until_ms };
    const PAGE: i64 = 50;
    let mut payments = state.store.staff_payments(&filter, given(&before).as_deref(), PAGE + 1).await.map_err(|e| fail(e.into()))?;
    let more = payments.len() as i64 > PAGE;
    payments.truncate(PAGE as usize);
    let next = more.then(|| payments.last().map(|p| p.id.clone())).flatten();
    let plans = state.store.plans(true).await.map_err(|e| fail(e.into()))?;
    let rows = payments
        .into_iter()
        .map(|p| StaffPaymentRow {
            user_id: p.user_id.clone(),
            checkout_id: p.checkout_id.clone(),
            subscription_id: p.subscription_id.clone(),
            refunded: darkroom_service::payments::price_label(p.refunded_minor, &p.currency),
            credits_revoked: p.credits_revoked,
            payment: ssr::payment_view(p, &plans),
        })
        .collect();
    Ok(StaffPaymentsPage { rows, next })
}

