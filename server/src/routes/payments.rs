//! Payments over HTTP (SPEC §5; rules in `darkroom_service::payments`):
//!
//! - `POST /payments/checkout` (form `plan`, `provider`): the signed-in member starts a
//!   checkout; 303 to the provider's page, or back to `/credits/buy?error=…`.
//! - `GET /payments/paypal/return?token=<order id>`: the buyer is back from PayPal; the order
//!   is captured and the member sent to `/credits/buy?paid=<payment id>`.
//! - `POST /payments/stripe/webhook` and `POST /payments/paypal/webhook`: provider events,
//!   verified first (400 and nothing applied when not genuine or stale), then applied exactly
//!   once (200 for applied, duplicate and ignored events alike; 500 when the database fails,
//!   so the provider retries).

use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use darkroom_service::auth::AuthSession;
use darkroom_service::payments::{self, paypal, stripe, WebhookError};
use darkroom_service::{AppState, ServiceError};
use darkroom_store::payments::Applied;
use serde::Deserialize;

/// Largest webhook body accepted, in bytes (provider events are a few KB).
pub const WEBHOOK_MAX_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
pub struct CheckoutForm {
    plan: String,
    provider: String,
}

/// Back to the top-up page with the error's code (the page words it; a URL cannot put
/// arbitrary text on our page).
fn back_with_error(e: &ServiceError) -> Response {
    Redirect::to(&format!("/credits/buy?error={}", e.code())).into_response()
}

pub async fn checkout(State(app): State<AppState>, auth: AuthSession, headers: HeaderMap, Form(f): Form<CheckoutForm>) -> Response {
    let Some(user) = auth.user else { return Redirect::to("/signin?next=/credits/buy").into_response() };
    let email = match app.store.user(&user.id).await {
        Ok(u) => u.email,
        Err(e) => return back_with_error(&e.into()),
    };
    if f.plan.len() > 64 || f.provider.len() > 16 {
        return back_with_error(&ServiceError::Invalid("Unknown plan.".into()));
    }
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
    let base = darkroom_service::api::base_for(&app, host);
    match payments::start_checkout(&app, &user.id, &email, &f.plan, &f.provider, &base).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => back_with_error(&e),
    }
}

#[derive(Deserialize)]
pub struct PaypalReturn {
    token: String,
}

pub async fn paypal_return(State(app): State<AppState>, Query(q): Query<PaypalReturn>) -> Response {
    match paypal::capture(&app.config, &app.store, &q.token).await {
        Ok((payment, _)) => Redirect::to(&format!("/credits/buy?paid={}", payment.id)).into_response(),
        Err(e) => back_with_error(&e),
    }
}

fn answer(applied: Result<Applied, ServiceError>) -> Response {
    match applied {
        Ok(a) => {
            let outcome = match a {
                Applied::Balance { .. } | Applied::Recorded => "applied".to_string(),
                Applied::Duplicate => "duplicate".to_string(),
                Applied::Ignored(why) => format!("ignored: {why}"),
            };
            Json(serde_json::json!({ "received": true, "outcome": outcome })).into_response()
        }
        Err(e) => (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.to_string()).into_response(),
    }
}

fn refuse(e: WebhookError) -> Response {
    tracing::warn!(error = %e, "payment webhook refused");
    (StatusCode::BAD_REQUEST, e.to_string()).into_response()
}

fn now_secs() -> i64 {
    darkroom_store::now_ms() / 1000
}

pub async fn stripe_webhook(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = app.config.stripe_webhook_secret.as_deref() else { return StatusCode::NOT_FOUND.into_response() };
    let sig = headers.get("stripe-signature").and_then(|h| h.to_str().ok()).unwrap_or("");
    if let Err(e) = stripe::verify_signature(&body, sig, secret, now_secs()) {
        return refuse(e);
    }
    answer(stripe::apply_event(&app.store, &body).await)
}

pub async fn paypal_webhook(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if app.config.paypal_webhook_id.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let t = paypal::Transmission {
        id: h("paypal-transmission-id"),
        time: h("paypal-transmission-time"),
        sig: h("paypal-transmission-sig"),
        cert_url: h("paypal-cert-url"),
        auth_algo: h("paypal-auth-algo"),
    };
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else { return refuse(WebhookError::BadPayload) };
    match paypal::verify(&app.config, &t, &event, now_secs()).await {
        Ok(()) => answer(paypal::apply_event(&app.store, &event).await),
        Err(Ok(e)) => refuse(e),
        Err(Err(e)) => answer(Err(e)),
    }
}
