//! PayPal: Orders v2 for one-time packages, and the webhook events that complete and refund
//! captures.
//!
//! Follows PayPal's REST reference: `POST /v1/oauth2/token` (client credentials),
//! `POST /v2/checkout/orders` (intent `CAPTURE`, our payment id as `custom_id`, a
//! `PayPal-Request-Id` so a retry makes no second order), the buyer approves on PayPal's
//! `payer-action` page and comes back with `?token=<order id>`, then
//! `POST /v2/checkout/orders/{id}/capture`. Webhooks are verified by PayPal's
//! `POST /v1/notifications/verify-webhook-signature` (the transmission headers, our webhook
//! id and the event; `verification_status: SUCCESS`), after a 5-minute check of the
//! transmission time. Events: `PAYMENT.CAPTURE.COMPLETED`, `PAYMENT.CAPTURE.REFUNDED`.

use darkroom_store::payments::{Applied, EventRef, Paid, Payment, PaymentRef, Plan, RefundAmount};
use darkroom_store::Store;
use serde_json::{json, Value};

use super::{send, unavailable};
use super::{decimal_to_minor, minor_to_decimal, WebhookError};
use crate::{Config, ServiceError};

/// A webhook's capture names no payer.
static NO_PAYER: Value = Value::Null;

/// Seconds a webhook's transmission time may be from now.
pub const TOLERANCE_SECS: i64 = 300;

fn api(config: &Config, path: &str) -> String {
    format!("{}{path}", config.paypal_api_base.trim_end_matches('/'))
}

/// An OAuth access token for the REST API (client credentials grant).
async fn token(config: &Config) -> Result<String, ServiceError> {
    let (Some(id), Some(secret)) = (&config.paypal_client_id, &config.paypal_client_secret) else {
        return Err(ServiceError::Invalid("PayPal is not configured.".into()));
    };
    let (status, body) = send("PayPal", |c| c.post(api(config, "/v1/oauth2/token")).basic_auth(id, Some(secret)).form(&[("grant_type", "client_credentials")])).await?;
    if !status.is_success() {
        return Err(unavailable("PayPal", format!("token: HTTP {status}")));
    }
    body["access_token"].as_str().map(str::to_string).ok_or_else(|| unavailable("PayPal", "token: no access_token"))
}

/// Creates an order for `payment` of `plan`; returns `(order id, approval page URL)`. The
/// buyer comes back to `<base>/payments/paypal/return?token=<order id>`.
///
/// Errors: [`ServiceError::Unavailable`] when PayPal is unreachable or refuses.
pub async fn create_order(config: &Config, base: &str, payment: &Payment, plan: &Plan) -> Result<(String, String), ServiceError> {
    let token = token(config).await?;
    let order = json!({
        "intent": "CAPTURE",
        "purchase_units": [{
            "reference_id": payment.id,
            "custom_id": payment.id,
            "description": format!("{} · {} credits", plan.name, plan.credits),
            "amount": { "currency_code": plan.currency.to_ascii_uppercase(), "value": minor_to_decimal(plan.price_minor, &plan.currency) },
        }],
        "payment_source": { "paypal": { "experience_context": {
            "return_url": format!("{base}/payments/paypal/return"),
            "cancel_url": format!("{base}/credits/buy?canceled={}", payment.id),
            "user_action": "PAY_NOW",
            "shipping_preference": "NO_SHIPPING",
        }}},
    });
    let (status, body) =
        send("PayPal", |c| c.post(api(config, "/v2/checkout/orders")).bearer_auth(&token).header("PayPal-Request-Id", format!("order-{}", payment.id)).json(&order)).await?;
    if !status.is_success() {
        tracing::warn!(%status, error = %body["message"], "PayPal refused the order");
        return Err(ServiceError::Unavailable("The payment provider refused the checkout. Please try again later.".into()));
    }
    let link = body["links"].as_array().and_then(|links| {
        links.iter().find(|l| l["rel"] == "payer-action" || l["rel"] == "approve").and_then(|l| l["href"].as_str())
    });
    match (body["id"].as_str(), link) {
        (Some(id), Some(href)) => Ok((id.to_string(), href.to_string())),
        _ => Err(ServiceError::Unavailable("The payment provider gave no checkout page.".into())),
    }
}

/// What a capture (in a capture answer or a `PAYMENT.CAPTURE.*` resource) says was paid.
fn paid_of<'a>(capture: &'a Value, payer: &'a Value) -> Option<Paid<'a>> {
    let currency = capture["amount"]["currency_code"].as_str()?;
    Some(Paid {
        transaction_id: capture["id"].as_str(),
        customer_id: payer["payer_id"].as_str(),
        billing_email: payer["email_address"].as_str(),
        amount_minor: decimal_to_minor(capture["amount"]["value"].as_str()?, currency)?,
        currency,
    })
}

/// The buyer came back from PayPal with `order_id`: captures the order (once: PayPal
/// answers a repeated capture with `ORDER_ALREADY_CAPTURED`, and the payment is credited
/// once whichever of this answer and the webhook comes first). Returns our payment.
///
/// Errors: [`ServiceError::NotFound`] for an order we did not make;
/// [`ServiceError::Unavailable`] when PayPal does not answer.
pub async fn capture(config: &Config, store: &Store, order_id: &str) -> Result<(Payment, Applied), ServiceError> {
    let payment = store.payment(PaymentRef::Checkout("paypal", order_id)).await?.ok_or(ServiceError::NotFound)?;
    if payment.status != "created" {
        return Ok((payment, Applied::Duplicate));
    }
    let token = token(config).await?;
    let (status, body) = send("PayPal", |c| {
        c.post(api(config, &format!("/v2/checkout/orders/{order_id}/capture")))
            .bearer_auth(&token)
            .header("PayPal-Request-Id", format!("capture-{}", payment.id))
            .json(&json!({}))
    })
    .await?;
    if !status.is_success() {
        tracing::warn!(%status, error = %body["name"], "PayPal refused the capture");
        // Already captured (the webhook may have credited it) or declined: nothing to apply here.
        return Ok((payment, Applied::Ignored(format!("capture refused: {}", body["name"]))));
    }
    let capture = &body["purchase_units"][0]["payments"]["captures"][0];
    if capture["status"] != "COMPLETED" {
        return Ok((payment, Applied::Ignored(format!("capture is {}", capture["status"]))));
    }
    let paid = paid_of(capture, &body["payer"]).ok_or_else(|| unavailable("PayPal", "capture without an amount"))?;
    let applied = store.complete_payment(None, PaymentRef::Id(&payment.id), &paid).await?;
    Ok((payment, applied))
}

/// The transmission headers PayPal signs a webhook with.
#[derive(Clone, Debug, Default)]
pub struct Transmission<'a> {
    pub id: &'a str,
    pub time: &'a str,
    pub sig: &'a str,
    pub cert_url: &'a str,
    pub auth_algo: &'a str,
}

/// Verifies a webhook with PayPal: the transmission time within [`TOLERANCE_SECS`] of `now`
/// (Unix seconds), then `verify-webhook-signature` must answer `SUCCESS`.
///
/// Errors: `Err(Ok(WebhookError))` when the webhook is not genuine (the route answers 400);
/// `Err(Err(ServiceError))` when PayPal cannot be asked (500, so PayPal retries).
pub async fn verify(config: &Config, t: &Transmission<'_>, event: &Value, now: i64) -> Result<(), Result<WebhookError, ServiceError>> {
    if t.id.is_empty() || t.sig.is_empty() || t.cert_url.is_empty() || t.auth_algo.is_empty() {
        return Err(Ok(WebhookError::Malformed));
    }
    let sent = time::OffsetDateTime::parse(t.time, &time::format_description::well_known::Rfc3339).map_err(|_| Ok(WebhookError::Malformed))?;
    if (now - sent.unix_timestamp()).abs() > TOLERANCE_SECS {
        return Err(Ok(WebhookError::Stale));
    }
    let webhook_id = config.paypal_webhook_id.as_deref().ok_or(Ok(WebhookError::Malformed))?;
    let token = token(config).await.map_err(Err)?;
    let request = json!({
        "auth_algo": t.auth_algo,
        "cert_url": t.cert_url,
        "transmission_id": t.id,
        "transmission_sig": t.sig,
        "transmission_time": t.time,
        "webhook_id": webhook_id,
        "webhook_event": event,
    });
    let (status, body) = send("PayPal", |c| c.post(api(config, "/v1/notifications/verify-webhook-signature")).bearer_auth(&token).json(&request)).await.map_err(Err)?;
    if !status.is_success() {
        return Err(Err(unavailable("PayPal", format!("verify-webhook-signature: HTTP {status}"))));
    }
    if body["verification_status"] == "SUCCESS" {
        Ok(())
    } else {
        Err(Ok(WebhookError::BadSignature))
    }
}

/// Applies a verified event. Unknown event types are ignored without a trace.
///
/// Errors: [`ServiceError::Invalid`] for a body that is not an event; store errors.
pub async fn apply_event(store: &Store, event: &Value) -> Result<Applied, ServiceError> {
    let bad = || ServiceError::Invalid(WebhookError::BadPayload.to_string());
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["event_type"].as_str()) else { return Err(bad()) };
    let r = &event["resource"];
    let ev = Some(EventRef { provider: "paypal", id, kind });
    let applied = match kind {
        "PAYMENT.CAPTURE.COMPLETED" => {
            let paid = paid_of(r, &NO_PAYER).ok_or_else(bad)?;
            let order = r["supplementary_data"]["related_ids"]["order_id"].as_str();
            let by = match (r["custom_id"].as_str(), order) {
                (Some(pid), _) => PaymentRef::Id(pid),
                (None, Some(order)) => PaymentRef::Checkout("paypal", order),
                (None, None) => return Err(bad()),
            };
            // Our id in `custom_id` must name a PayPal payment.
            match store.payment(by).await? {
                Some(p) if p.provider == "paypal" => store.complete_payment(ev, PaymentRef::Id(&p.id), &paid).await?,
                _ => Applied::Ignored("unknown payment".into()),
            }
        }
        "PAYMENT.CAPTURE.REFUNDED" => {
            let currency = r["amount"]["currency_code"].as_str().ok_or_else(bad)?;
            let amount = decimal_to_minor(r["amount"]["value"].as_str().ok_or_else(bad)?, currency).ok_or_else(bad)?;
            // The refund links `up` to the capture it refunds.
            let capture = r["links"].as_array().and_then(|links| {
                links.iter().find(|l| l["rel"] == "up").and_then(|l| l["href"].as_str()).and_then(|h| h.rsplit('/').next())
            });
            match capture {
                Some(capture) => store.refund_payment(ev, PaymentRef::Transaction("paypal", capture), RefundAmount::More(amount)).await?,
                None => return Err(bad()),
            }
        }
        _ => Applied::Ignored(format!("{kind} is not used")),
    };
    if let Applied::Ignored(why) = &applied {
        tracing::info!(event = id, kind, why, "PayPal event ignored");
    }
    Ok(applied)
}
