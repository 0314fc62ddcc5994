//! Stripe: Checkout Sessions for packages (`mode=payment`) and monthly subscriptions
//! (`mode=subscription`), and the webhook events that pay, renew, refund and end them.
//!
//! Follows Stripe's API reference: `POST /v1/checkout/sessions` (form-encoded, bearer secret
//! key, `Idempotency-Key`), and "Check the webhook signatures": the `Stripe-Signature` header
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the endpoint secret>`,
//! several `v1` allowed (secret rotation), refused outside a 5-minute tolerance.
//!
//! Events applied (each once, by event id; see `darkroom_store::payments`):
//! `checkout.session.completed` / `checkout.session.async_payment_succeeded` (a package paid,
//! or a subscription started), `invoice.paid` (a subscription month paid: its credits),
//! `charge.refunded` (take back the unspent credits), `customer.subscription.deleted`.
//! Invoices are read in both shapes: `subscription` and `subscription_details` at the top
//! (API versions before 2025-03-31) and under `parent.subscription_details` (after).

use darkroom_store::payments::{Applied, EventRef, InvoicePaid, Paid, Payment, PaymentRef, Plan, RefundAmount};
use darkroom_store::Store;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{send, WebhookError};
use crate::{Config, ServiceError};

/// Seconds a signed webhook stays acceptable (Stripe's libraries default to 300).
pub const TOLERANCE_SECS: i64 = 300;

/// Creates a Checkout Session for `payment` of `plan`; returns `(session id, page URL)`.
/// `base` is the site's absolute URL: the member comes back to `/credits/buy`.
///
/// Errors: [`ServiceError::Unavailable`] when Stripe is unreachable or refuses.
pub async fn create_checkout(config: &Config, base: &str, payment: &Payment, plan: &Plan, email: &str) -> Result<(String, String), ServiceError> {
    let key = config.stripe_secret_key.as_deref().ok_or_else(|| ServiceError::Invalid("Stripe is not configured.".into()))?;
    let subscription = plan.kind == "subscription";
    let mut form: Vec<(String, String)> = vec![
        ("mode".into(), if subscription { "subscription" } else { "payment" }.into()),
        ("success_url".into(), format!("{base}/credits/buy?paid={}", payment.id)),
        ("cancel_url".into(), format!("{base}/credits/buy?canceled={}", payment.id)),
        ("client_reference_id".into(), payment.id.clone()),
        ("customer_email".into(), email.to_string()),
        ("metadata[payment_id]".into(), payment.id.clone()),
        ("line_items[0][quantity]".into(), "1".into()),
        ("line_items[0][price_data][currency]".into(), plan.currency.clone()),
        ("line_items[0][price_data][unit_amount]".into(), plan.price_minor.to_string()),
        ("line_items[0][price_data][product_data][name]".into(), format!("{} · {} credits", plan.name, plan.credits)),
    ];
    if subscription {
        form.push(("line_items[0][price_data][recurring][interval]".into(), "month".into()));
        form.push(("subscription_data[metadata][payment_id]".into(), payment.id.clone()));
    } else {
        form.push(("payment_intent_data[metadata][payment_id]".into(), payment.id.clone()));
    }
    let url = format!("{}/v1/checkout/sessions", config.stripe_api_base.trim_end_matches('/'));
    let (status, body) = send("Stripe", |c| c.post(&url).bearer_auth(key).header("Idempotency-Key", format!("checkout-{}", payment.id)).form(&form)).await?;
    if !status.is_success() {
        tracing::warn!(%status, error = %body["error"]["message"], "Stripe refused the checkout session");
        return Err(ServiceError::Unavailable("The payment provider refused the checkout. Please try again later.".into()));
    }
    match (body["id"].as_str(), body["url"].as_str()) {
        (Some(id), Some(url)) => Ok((id.to_string(), url.to_string())),
        _ => Err(ServiceError::Unavailable("The payment provider gave no checkout page.".into())),
    }
}

/// Checks a `Stripe-Signature` header over the raw `payload` with the endpoint `secret` at
/// `now` (Unix seconds).
///
/// Errors: [`WebhookError::Malformed`] (no `t` or no `v1`), [`WebhookError::Stale`] (more
/// than [`TOLERANCE_SECS`] away from `now`), [`WebhookError::BadSignature`].
pub fn verify_signature(payload: &[u8], header: &str, secret: &str, now: i64) -> Result<(), WebhookError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let t = t.ok_or(WebhookError::Malformed)?;
    if sigs.is_empty() {
        return Err(WebhookError::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(WebhookError::Stale);
    }
    for sig in sigs {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(WebhookError::BadSignature)
}

/// The `Stripe-Signature` header for `payload` at `t` (Unix seconds): what Stripe sends, for
/// tests and stand-ins.
pub fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// An id that may come as a string or as an expanded object with an `id`.
fn id_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["id"].as_str())
}

/// Applies a verified event (the raw body). Unknown event types are ignored without a trace.
///
/// Errors: [`WebhookError::BadPayload`] (as `ServiceError::Invalid`) for a body that is not
/// an event; store errors (the route answers 500 and Stripe retries).
pub async fn apply_event(store: &Store, payload: &[u8]) -> Result<Applied, ServiceError> {
    let bad = || ServiceError::Invalid(WebhookError::BadPayload.to_string());
    let event: Value = serde_json::from_slice(payload).map_err(|_| bad())?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else { return Err(bad()) };
    let obj = &event["data"]["object"];
    let ev = Some(EventRef { provider: "stripe", id, kind });
    let applied = match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let Some(session) = obj["id"].as_str() else { return Err(bad()) };
            // The session id we stored; the payment id we put in `client_reference_id` otherwise.
            let payment = match store.payment(PaymentRef::Checkout("stripe", session)).await? {
                Some(p) => Some(p),
                None => match obj["client_reference_id"].as_str() {
                    Some(pid) => store.payment(PaymentRef::Id(pid)).await?.filter(|p| p.provider == "stripe"),
                    None => None,
                },
            };
            let payment_id = payment.as_ref().map_or("", |p| p.id.as_str());
            let email = obj["customer_details"]["email"].as_str().or(obj["customer_email"].as_str());
            if obj["mode"] == "subscription" {
                match id_of(&obj["subscription"]) {
                    Some(sub) => store.start_subscription(ev, PaymentRef::Id(payment_id), sub, id_of(&obj["customer"]), email).await?,
                    None => return Err(bad()),
                }
            } else if obj["payment_status"] == "paid" {
                let paid = Paid {
                    transaction_id: id_of(&obj["payment_intent"]),
                    customer_id: id_of(&obj["customer"]),
                    billing_email: email,
                    amount_minor: obj["amount_total"].as_i64().ok_or_else(bad)?,
                    currency: obj["currency"].as_str().ok_or_else(bad)?,
                };
                store.complete_payment(ev, PaymentRef::Id(payment_id), &paid).await?
            } else {
                // Paid later by a delayed method: `async_payment_succeeded` completes it.
                Applied::Ignored("not paid yet".into())
            }
        }
        "invoice.paid" => {
            let details = if obj["parent"]["subscription_details"].is_object() { &obj["parent"]["subscription_details"] } else { &obj["subscription_details"] };
            let Some(sub) = id_of(&details["subscription"]).or_else(|| id_of(&obj["subscription"])) else {
                return Ok(Applied::Ignored("not a subscription invoice".into()));
            };
            let inv = InvoicePaid {
                invoice_id: obj["id"].as_str().ok_or_else(bad)?,
                subscription_id: sub,
                customer_id: id_of(&obj["customer"]),
                billing_email: obj["customer_email"].as_str(),
                amount_minor: obj["amount_paid"].as_i64().ok_or_else(bad)?,
                currency: obj["currency"].as_str().ok_or_else(bad)?,
                payment_id: details["metadata"]["payment_id"].as_str(),
            };
            store.pay_invoice(ev, &inv).await?
        }
        "charge.refunded" => {
            let total = obj["amount_refunded"].as_i64().ok_or_else(bad)?;
            // A package's payment is known by its PaymentIntent, a subscription month's by its invoice.
            let mut by = PaymentRef::Transaction("stripe", "");
            for t in [id_of(&obj["payment_intent"]), id_of(&obj["invoice"])].into_iter().flatten() {
                if store.payment(PaymentRef::Transaction("stripe", t)).await?.is_some() {
                    by = PaymentRef::Transaction("stripe", t);
                    break;
                }
            }
            store.refund_payment(ev, by, RefundAmount::Total(total)).await?
        }
        "customer.subscription.deleted" => store.end_subscription(ev, "stripe", obj["id"].as_str().ok_or_else(bad)?).await?,
        _ => Applied::Ignored(format!("{kind} is not used")),
    };
    if let Applied::Ignored(why) = &applied {
        tracing::info!(event = id, kind, why, "Stripe event ignored");
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_with_tolerance() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let secret = "whsec_test_secret";
        let header = sign(body, secret, 1_700_000_000);
        assert_eq!(verify_signature(body, &header, secret, 1_700_000_000), Ok(()));
        assert_eq!(verify_signature(body, &header, secret, 1_700_000_000 + 300), Ok(()));
        assert_eq!(verify_signature(body, &header, secret, 1_700_000_000 + 301), Err(WebhookError::Stale));
        assert_eq!(verify_signature(body, &header, secret, 1_700_000_000 - 301), Err(WebhookError::Stale));
        assert_eq!(verify_signature(body, &header, "whsec_other", 1_700_000_000), Err(WebhookError::BadSignature));
        assert_eq!(verify_signature(b"{}", &header, secret, 1_700_000_000), Err(WebhookError::BadSignature));
        assert_eq!(verify_signature(body, "v1=00", secret, 1_700_000_000), Err(WebhookError::Malformed));
        assert_eq!(verify_signature(body, "t=1700000000", secret, 1_700_000_000), Err(WebhookError::Malformed));
        // A rotated secret: one of several v1 signatures matches.
        let other = sign(body, "whsec_old", 1_700_000_000);
        let both = format!("{},{}", header, other.split(',').nth(1).unwrap());
        assert_eq!(verify_signature(body, &both, "whsec_old", 1_700_000_000), Ok(()));
    }

    /// Stripe's documented scheme, computed independently: HMAC-SHA256("t.payload").
    #[test]
    fn signature_matches_the_documented_scheme() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_abc").unwrap();
        mac.update(b"1614556828.{\"a\":1}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(sign(b"{\"a\":1}", "whsec_abc", 1614556828), format!("t=1614556828,v1={expected}"));
    }
}
