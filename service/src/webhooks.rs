//! Webhooks per API key (SPEC §9), signed per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>, "Signature scheme"):
//!
//! - headers `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp`
//!   (Unix seconds of this attempt) and `webhook-signature` = `v1,` + base64 of
//!   HMAC-SHA256(key, `"{id}.{timestamp}.{body}"`), where key = base64-decoded part of the
//!   `whsec_…` secret after the prefix;
//! - body: the generation object (`crate::api::Generation`) at the time of sending, so its
//!   signed output URLs are fresh;
//! - a 2xx answer within 15 s is a success; anything else is retried after 5 s, 5 min,
//!   30 min, 2 h, 5 h, 10 h and 6.4 h (24 h in all), then the delivery is `failed`. A
//!   delivered one is never sent again unless the member presses "resend".
//!
//! Endpoints must resolve to public addresses ([`outbound`]: checked when set, at each
//! attempt, and by the client's resolver at connection time).
//!
//! Deliveries are created in the job's own transaction (see `darkroom_store::api`), so a
//! crash can delay a webhook but not lose or duplicate it; senders on several nodes claim
//! each attempt with a lease.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use darkroom_store::api::{ApiKey, Delivery};
use darkroom_store::now_ms;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::sync::watch;

use crate::{api, outbound, AppState, ServiceError};

/// Events a webhook can ask for.
pub const EVENTS: [&str; 4] = ["generation.succeeded", "generation.failed", "generation.rejected", "generation.canceled"];

/// Waits before each retry, in seconds (attempt 2, 3, ...): 24 h in all.
pub const RETRY_SCHEDULE_SECS: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 23_000];

/// How long one attempt may take before it counts as failed.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// Longest endpoint URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2000;

/// A new signing secret: `whsec_` + base64 of 24 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", B64.encode(key))
}

/// The `webhook-signature` value for a message: `v1,<base64 HMAC-SHA256>`.
///
/// Errors: [`ServiceError::Internal`] when the secret is not `whsec_` + base64.
pub fn sign(secret: &str, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> Result<String, ServiceError> {
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).map_err(ServiceError::internal)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(ServiceError::internal)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// How far a received message's `webhook-timestamp` may be from now (Standard Webhooks'
/// recommended tolerance), in seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// Verifies a received Standard Webhooks message: `id`, `timestamp` and `signatures` are the
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (space-separated
/// `v1,<base64>` entries, one must match), compared in constant time by `hmac`.
///
/// Errors: a short reason (a timestamp not a number or further than [`TOLERANCE_SECS`] from
/// `now_secs`, a secret that is not `whsec_` + base64, no matching signature).
pub fn verify(secret: &str, id: &str, timestamp: &str, signatures: &str, body: &[u8], now_secs: i64) -> Result<(), &'static str> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| "a timestamp that is not a number")?;
    if (now_secs - ts).abs() > TOLERANCE_SECS {
        return Err("a timestamp outside the tolerance");
    }
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).map_err(|_| "the secret is not whsec_ base64")?;
    for sig in signatures.split_whitespace().filter_map(|s| s.strip_prefix("v1,")) {
        let Ok(sig) = B64.decode(sig) else { continue };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| "the secret is not a key")?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(ts.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err("no signature matches")
}

/// Checks an endpoint: an absolute `https://` URL (or `http://` when the operator allows it,
/// `DARKROOM_WEBHOOK_ALLOW_HTTP`), no credentials in it, at most [`MAX_URL_LEN`] bytes.
///
/// Errors: [`ServiceError::Invalid`] saying which.
pub fn check_url(url: &str, allow_http: bool) -> Result<(), ServiceError> {
    if url.len() > MAX_URL_LEN {
        return Err(ServiceError::Invalid(format!("The webhook URL can be at most {MAX_URL_LEN} characters.")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| ServiceError::Invalid("The webhook URL is not a valid absolute URL.".into()))?;
    let scheme_ok = parsed.scheme() == "https" || (allow_http && parsed.scheme() == "http");
    if !scheme_ok {
        return Err(ServiceError::Invalid("The webhook URL must start with https://.".into()));
    }
    if parsed.host_str().is_none() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ServiceError::Invalid("The webhook URL needs a host and no user name or password.".into()));
    }
    Ok(())
}

/// Sets the key's webhook endpoint and events (`url = None` removes it). The signing secret
/// is made the first time and kept after.
///
/// Errors: [`ServiceError::Invalid`] (URL, unknown or no events), [`ServiceError::NotFound`]
/// (not the member's key, or revoked).
pub async fn set(state: &AppState, user_id: &str, key_id: &str, url: Option<&str>, events: &[String]) -> Result<ApiKey, ServiceError> {
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    if let Some(u) = url {
        check_url(u, state.config.webhook_allow_http)?;
        outbound::check_target(u, state.config.webhook_allow_http).await?;
        if events.is_empty() || events.iter().any(|e| !EVENTS.contains(&e.as_str())) {
            return Err(ServiceError::Invalid(format!("Choose the webhook's events among {}.", EVENTS.join(", "))));
        }
    }
    let key = state.store.api_key(key_id, user_id).await?;
    let secret = (url.is_some() && key.webhook_secret.is_none()).then(new_secret);
    let events = if url.is_some() { events.join(",") } else { String::new() };
    Ok(state.store.set_webhook(key_id, user_id, url, &events, secret.as_deref()).await?)
}

/// The wait before attempt `attempts + 1`, scaled by `DARKROOM_WEBHOOK_RETRY_SCALE`; `None`
/// once the schedule is used up.
pub fn retry_delay_ms(attempts_done: i64, scale: f64) -> Option<i64> {
    let i = usize::try_from(attempts_done - 1).ok()?;
    RETRY_SCHEDULE_SECS.get(i).map(|s| ((*s as f64) * 1000.0 * scale).round().max(1.0) as i64)
}

/// Starts the sender: polls for due deliveries every 250 ms until `shutdown` is `true`.
pub fn spawn(state: &AppState, shutdown: &watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (state, mut stop) = (state.clone(), shutdown.clone());
    tokio::spawn(async move {
        let client = match outbound::client(ATTEMPT_TIMEOUT, state.config.webhook_allow_http, concat!("Darkroom-Webhooks/", env!("CARGO_PKG_VERSION"))) {
            Ok(c) => c,
            Err(e) => return tracing::error!(error = %e, "webhook sender not started"),
        };
        loop {
            if let Err(e) = send_due(&state, &client).await {
                tracing::warn!(error = %e, "webhook sending failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

/// Sends every due delivery once (those another sender holds are skipped).
pub async fn send_due(state: &AppState, client: &reqwest::Client) -> Result<usize, ServiceError> {
    let now = now_ms();
    let due = state.store.due_deliveries(now, 32).await?;
    let mut sent = 0;
    for d in due {
        let lease = now + ATTEMPT_TIMEOUT.as_millis() as i64 * 2;
        if !state.store.claim_delivery(&d.id, now, lease).await? {
            continue;
        }
        attempt(state, client, &d).await?;
        sent += 1;
    }
    Ok(sent)
}

/// One attempt of one claimed delivery; records its outcome.
async fn attempt(state: &AppState, client: &reqwest::Client, d: &Delivery) -> Result<(), ServiceError> {
    let key = state.store.api_key(&d.api_key_id, &d.user_id).await?;
    let (Some(url), Some(secret)) = (key.webhook_url.as_deref().filter(|_| key.revoked_at.is_none()), key.webhook_secret.as_deref()) else {
        state.store.delivery_attempted(&d.id, None, Some("the key's webhook was removed"), false, None).await?;
        return Ok(());
    };
    // Checked again at each attempt (the name may resolve elsewhere now), and the client's
    // resolver checks the address it connects to.
    if let Err(e) = outbound::check_target(url, state.config.webhook_allow_http).await {
        let next = retry_delay_ms(d.attempts + 1, state.config.webhook_retry_scale).map(|w| now_ms() + w);
        state.store.delivery_attempted(&d.id, None, Some(&e.to_string()), false, next).await?;
        return Ok(());
    }
    let job = state.store.job_any_owner(&d.job_id).await?;
    let body = serde_json::to_vec(&api::generation(state, &api::base_url(state), &job)).map_err(ServiceError::internal)?;
    let ts = now_ms() / 1000;
    let signature = sign(secret, &d.id, ts, &body)?;
    let result = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let (status, error) = match result {
        Ok(r) => (Some(r.status().as_u16() as i64), (!r.status().is_success()).then(|| format!("HTTP {}", r.status()))),
        Err(e) => (None, Some(if e.is_timeout() { "timed out".to_string() } else { "could not connect".to_string() })),
    };
    let delivered = error.is_none();
    let outcome = if delivered { "delivered" } else { "failed" };
    state.metrics.webhook_deliveries.get_or_create(&crate::metrics::OutcomeLabels { outcome: outcome.into() }).inc();
    let next = if delivered { None } else { retry_delay_ms(d.attempts + 1, state.config.webhook_retry_scale).map(|w| now_ms() + w) };
    tracing::info!(delivery = %d.id, event = %d.event, ?status, delivered, "webhook attempt");
    state.store.delivery_attempted(&d.id, status, error.as_deref(), delivered, next).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_for_a_day_then_stop() {
        let waits: Vec<i64> = (1..=7).map(|n| retry_delay_ms(n, 1.0).unwrap()).collect();
        assert!(waits.windows(2).take(5).all(|w| w[1] > w[0]), "growing waits: {waits:?}");
        let total: i64 = waits.iter().sum();
        assert!((23 * 3_600_000..=25 * 3_600_000).contains(&total), "about 24 h in all: {total} ms");
        assert_eq!(retry_delay_ms(8, 1.0), None, "no attempt after the window");
        assert_eq!(retry_delay_ms(1, 0.001), Some(5));
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification ("Signature scheme").
        let sig = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
