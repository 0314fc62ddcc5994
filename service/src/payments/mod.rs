//! Payments (SPEC §5): which providers are on, starting a checkout for a plan, the plan
//! catalogue's rules, and money formatting. The providers' protocols are in [`stripe`]
//! (Checkout Sessions, `Stripe-Signature` webhooks) and [`paypal`] (Orders v2, verified
//! webhooks); what an event does to the ledger is in `darkroom_store::payments`.
//!
//! Both talk plain HTTPS through `reqwest` (already used by the webhook sender) rather than
//! an SDK: Darkroom calls three Stripe endpoints and four PayPal ones, and `async-stripe`
//! alone would add minutes to every clean build on two cores.

pub mod paypal;
pub mod stripe;

use darkroom_store::payments::PlanInput;

use crate::{AppState, Config, ServiceError};

/// The payment providers this server can take money through, from its configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Providers {
    pub stripe: bool,
    pub paypal: bool,
}

impl Providers {
    /// Stripe is on with a secret key and a webhook secret; PayPal with a client id, a
    /// secret and a webhook id.
    pub fn of(config: &Config) -> Self {
        Self {
            stripe: config.stripe_secret_key.is_some() && config.stripe_webhook_secret.is_some(),
            paypal: config.paypal_client_id.is_some() && config.paypal_client_secret.is_some() && config.paypal_webhook_id.is_some(),
        }
    }

    /// True if members can buy anything.
    pub fn any(self) -> bool {
        self.stripe || self.paypal
    }

    /// Whether `provider` can sell a plan of `kind`: Stripe sells both kinds, PayPal
    /// (Orders v2) one-time packages only.
    pub fn sells(self, provider: &str, kind: &str) -> bool {
        match provider {
            "stripe" => self.stripe,
            "paypal" => self.paypal && kind == "package",
            _ => false,
        }
    }
}

/// Starts a checkout for the member `user_id` (billing `email`): records a `created` payment for the offered plan `plan_id` and asks
/// `provider` (`stripe` or `paypal`) for a checkout whose return pages are under `base`
/// (the site's absolute URL, see `api::base_for`); returns the provider's page to send the
/// member to.
///
/// Errors: [`ServiceError::Invalid`] when payments through that provider are off or the plan
/// is not offered; [`ServiceError::Unavailable`] when the provider does not answer well.
pub async fn start_checkout(state: &AppState, user_id: &str, email: &str, plan_id: &str, provider: &str, base: &str) -> Result<String, ServiceError> {
    let providers = Providers::of(&state.config);
    if !providers.any() {
        return Err(ServiceError::Invalid("Payments are off on this server.".into()));
    }
    let plan = state.store.plan(plan_id).await.map_err(|_| ServiceError::Invalid("That plan is not offered.".into()))?;
    if plan.archived_at.is_some() {
        return Err(ServiceError::Invalid("That plan is not offered any more.".into()));
    }
    if !providers.sells(provider, &plan.kind) {
        return Err(ServiceError::Invalid(format!("{plan} cannot be bought through {provider} here.", plan = plan.name)));
    }
    let payment = state.store.create_payment(user_id, &plan, provider).await?;
    let (checkout_id, url) = match provider {
        "stripe" => stripe::create_checkout(&state.config, base, &payment, &plan, email).await?,
        _ => paypal::create_order(&state.config, base, &payment, &plan).await?,
    };
    state.store.set_payment_checkout(&payment.id, &checkout_id).await?;
    Ok(url)
}

/// A client for provider calls: 30 s timeout, no redirects.
pub(crate) fn client() -> Result<reqwest::Client, ServiceError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ServiceError::internal)
}

/// Logs a failed provider call; the member reads that the provider is not reachable.
pub(crate) fn unavailable(provider: &str, e: impl std::fmt::Display) -> ServiceError {
    tracing::warn!(provider, error = %e, "payment provider call failed");
    ServiceError::Unavailable("The payment provider is not reachable. Please try again later.".into())
}

/// Sends one provider request (the client is [`client`]); returns the HTTP status and the
/// JSON body, whatever the status.
///
/// Errors: [`ServiceError::Unavailable`] when the provider is unreachable or answers without JSON.
pub(crate) async fn send(provider: &str, build: impl FnOnce(reqwest::Client) -> reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, serde_json::Value), ServiceError> {
    let answer = build(client()?).send().await.map_err(|e| unavailable(provider, e))?;
    let status = answer.status();
    let body = answer.json().await.map_err(|e| unavailable(provider, e))?;
    Ok((status, body))
}

/// Currencies without a minor unit (ISO 4217 exponent 0), as Stripe lists them.
const ZERO_DECIMAL: [&str; 16] = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

/// Digits after the decimal point in `currency` (0 or 2).
pub fn exponent(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        0
    } else {
        2
    }
}

/// `500, "usd"` → `"5.00"` (PayPal's `value`, and pages).
pub fn minor_to_decimal(minor: i64, currency: &str) -> String {
    match exponent(currency) {
        0 => minor.to_string(),
        _ => format!("{}{}.{:02}", if minor < 0 { "-" } else { "" }, minor.abs() / 100, minor.abs() % 100),
    }
}

/// `"5.00", "usd"` → `500`. `None` for a malformed amount or more digits than the currency has.
pub fn decimal_to_minor(value: &str, currency: &str) -> Option<i64> {
    let exp = exponent(currency);
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > exp as usize {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<width$}", width = exp as usize).parse().ok()? };
    whole.checked_mul(10_i64.pow(exp))?.checked_add(frac)
}

/// A price as people read it: `"USD 5.00"`.
pub fn price_label(minor: i64, currency: &str) -> String {
    format!("{} {}", currency.to_ascii_uppercase(), minor_to_decimal(minor, currency))
}

/// Checks and normalises an administrator's plan: kind `package`/`subscription`, a name of
/// 1-80 characters, 1-10,000,000 credits, a price of 1-100,000,000 minor units, a
/// three-letter currency (stored lower case), lots that expire after 1-3650 days or never.
///
/// Errors: [`ServiceError::Invalid`] naming the field.
pub fn check_plan(mut p: PlanInput) -> Result<PlanInput, ServiceError> {
    let bad = |m: &str| Err(ServiceError::Invalid(m.into()));
    if p.kind != "package" && p.kind != "subscription" {
        return bad("A plan is a one-time package or a monthly subscription.");
    }
    p.name = p.name.trim().to_string();
    if p.name.is_empty() || p.name.chars().count() > 80 {
        return bad("Give the plan a name of up to 80 characters.");
    }
    if !(1..=10_000_000).contains(&p.credits) {
        return bad("Credits must be between 1 and 10,000,000.");
    }
    if !(1..=100_000_000).contains(&p.price_minor) {
        return bad("The price must be positive (and at most 1,000,000.00).");
    }
    p.currency = p.currency.trim().to_ascii_lowercase();
    if p.currency.len() != 3 || !p.currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return bad("The currency is a three-letter ISO 4217 code, such as USD.");
    }
    if p.lot_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return bad("Credits expire after 1 to 3650 days, or never.");
    }
    if !(0..=10_000).contains(&p.position) {
        return bad("The position is between 0 and 10,000.");
    }
    Ok(p)
}

/// Verification failures of a provider webhook (the route answers 400 and applies nothing).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing or malformed signature header")]
    Malformed,
    #[error("timestamp outside the tolerance")]
    Stale,
    #[error("signature does not match")]
    BadSignature,
    #[error("payload is not a provider event")]
    BadPayload,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips_in_both_exponents() {
        assert_eq!(minor_to_decimal(500, "usd"), "5.00");
        assert_eq!(minor_to_decimal(1999, "EUR"), "19.99");
        assert_eq!(minor_to_decimal(7, "usd"), "0.07");
        assert_eq!(minor_to_decimal(500, "jpy"), "500");
        assert_eq!(decimal_to_minor("5.00", "usd"), Some(500));
        assert_eq!(decimal_to_minor("5", "usd"), Some(500));
        assert_eq!(decimal_to_minor("5.5", "usd"), Some(550));
        assert_eq!(decimal_to_minor("500", "jpy"), Some(500));
        assert_eq!(decimal_to_minor("5.001", "usd"), None);
        assert_eq!(decimal_to_minor("5.0", "jpy"), None);
        assert_eq!(decimal_to_minor("-5", "usd"), None);
        assert_eq!(decimal_to_minor("", "usd"), None);
        for m in [0, 1, 99, 100, 12345] {
            assert_eq!(decimal_to_minor(&minor_to_decimal(m, "usd"), "usd"), Some(m));
        }
    }

    #[test]
    fn plans_are_checked() {
        let ok = PlanInput { id: None, kind: "package".into(), name: " Starter ".into(), credits: 100, price_minor: 500, currency: "USD".into(), lot_days: Some(365), position: 1, archived: false };
        let p = check_plan(ok.clone()).unwrap();
        assert_eq!((p.name.as_str(), p.currency.as_str()), ("Starter", "usd"));
        assert!(check_plan(PlanInput { kind: "weekly".into(), ..ok.clone() }).is_err());
        assert!(check_plan(PlanInput { credits: 0, ..ok.clone() }).is_err());
        assert!(check_plan(PlanInput { price_minor: 0, ..ok.clone() }).is_err());
        assert!(check_plan(PlanInput { currency: "dollars".into(), ..ok.clone() }).is_err());
        assert!(check_plan(PlanInput { lot_days: Some(0), ..ok.clone() }).is_err());
        assert!(check_plan(PlanInput { name: "  ".into(), ..ok }).is_err());
    }
}
