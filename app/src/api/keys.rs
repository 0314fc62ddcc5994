//! API key server functions (SPEC §9): the member's keys (create, list, revoke), each key's
//! webhook endpoint and deliveries (resend), and the log of API requests. Rules live in
//! `darkroom_service::api` and `darkroom_service::webhooks`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A key as its owner sees it (never the secret).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    /// `dk_` + 8 characters.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub cap_credits: Option<i64>,
    pub cap_period: Option<String>,
    /// Credits spent in the current cap period (month without a cap).
    pub spent: i64,
    pub expires_at: Option<i64>,
    pub expired: bool,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
    pub created_at: i64,
    pub webhook_url: Option<String>,
    pub webhook_events: Vec<String>,
    /// `whsec_…`, for the member's receiver to verify signatures.
    pub webhook_secret: Option<String>,
}

/// A webhook delivery as the keys page lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeliveryView {
    pub id: String,
    pub key_id: String,
    pub event: String,
    pub job_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
}

/// One logged API request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RequestView {
    pub key_prefix: String,
    pub method: String,
    pub route: String,
    pub status: i64,
    pub cost: i64,
    pub created_at: i64,
}

/// Everything the keys page shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KeysPage {
    pub keys: Vec<KeyView>,
    pub deliveries: Vec<DeliveryView>,
    pub requests: Vec<RequestView>,
    /// The site's address, for the examples.
    pub base_url: String,
    /// Credits per generation.
    pub cost: i64,
}

/// A key just made: its view and the secret, shown once.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NewKey {
    pub key: KeyView,
    pub secret: String,
}

#[cfg(feature = "ssr")]
mod ssr {
    use darkroom_service::ServiceError;
    use darkroom_store::api::ApiKey;
    use leptos::prelude::*;

    use super::KeyView;

    pub fn err(e: impl Into<ServiceError>) -> ServerFnError {
        crate::api::ssr::fail(e.into())
    }

    pub fn key_view(k: ApiKey, spent: i64) -> KeyView {
        let now = darkroom_store::now_ms();
        KeyView {
            expired: k.expires_at.is_some_and(|t| t <= now),
            scopes: k.scopes.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
            webhook_events: k.webhook_events.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
            revoked: k.revoked_at.is_some(),
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            cap_credits: k.cap_credits,
            cap_period: k.cap_period,
            spent,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
            webhook_url: k.webhook_url,
            webhook_secret: k.webhook_secret,
        }
    }

    /// An optional whole number from a form field (empty = none).
    pub fn opt_int(v: &Option<String>, what: &str) -> Result<Option<i64>, ServerFnError> {
        match v.as_deref().map(str::trim) {
            None | Some("") | Some("never") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| err(ServiceError::Invalid(format!("{what} must be a whole number.")))),
        }
    }
}

/// The member's keys, webhook deliveries and latest API requests.
#[server(endpoint = "api_keys_page")]
pub async fn api_keys_page() -> Result<KeysPage, ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    let mut keys = Vec::new();
    for k in state.store.api_keys(&user.id).await.map_err(ssr::err)? {
        let spent = darkroom_service::api::spend_this_period(&state, &k).await.map_err(ssr::err)?;
        keys.push(ssr::key_view(k, spent));
    }
    let deliveries = state
        .store
        .deliveries(&user.id, None, 50)
        .await
        .map_err(ssr::err)?
        .into_iter()
        .map(|d| DeliveryView {
            id: d.id,
            key_id: d.api_key_id,
            event: d.event,
            job_id: d.job_id,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            next_attempt_at: d.next_attempt_at,
        })
        .collect();
    let requests = state
        .store
        .api_requests(&user.id, 100)
        .await
        .map_err(ssr::err)?
        .into_iter()
        .map(|r| RequestView { key_prefix: r.key_prefix, method: r.method, route: r.route, status: r.status, cost: r.cost, created_at: r.created_at })
        .collect();
    let base_url = crate::api::sharing::ssr::base_url(&state).await;
    Ok(KeysPage { keys, deliveries, requests, base_url, cost: state.config.generation_cost })
}

/// Creates a key. Form fields: `name`, `scope_generate` and `scope_read` (checkboxes),
/// `cap_credits` (empty = no cap), `cap_period` (`day`/`month`), `expires_days` (empty or
/// `never` = never), `rights` (checkbox). The secret is in the answer only.
#[server(endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    scope_generate: Option<String>,
    scope_read: Option<String>,
    cap_credits: Option<String>,
    cap_period: Option<String>,
    expires_days: Option<String>,
    rights: Option<String>,
) -> Result<NewKey, ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    let mut scopes = Vec::new();
    if scope_generate.is_some() {
        scopes.push("generate".to_string());
    }
    if scope_read.is_some() {
        scopes.push("read".to_string());
    }
    let form = darkroom_service::api::NewKeyForm {
        name,
        scopes,
        cap_credits: ssr::opt_int(&cap_credits, "The credit cap")?,
        cap_period,
        expires_in_days: ssr::opt_int(&expires_days, "The expiry")?,
        rights_confirmed: rights.is_some(),
    };
    let (key, secret) = darkroom_service::api::create_key(&state, &user.id, &form).await.map_err(ssr::err)?;
    Ok(NewKey { key: ssr::key_view(key, 0), secret })
}

/// Revokes a key at once.
#[server(endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: String) -> Result<(), ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    state.store.revoke_api_key(&id, &user.id).await.map_err(ssr::err)?;
    Ok(())
}

/// Sets a key's webhook: `url` (empty removes it) and the events as checkboxes
/// `ev_succeeded`, `ev_failed`, `ev_rejected`, `ev_canceled`.
#[server(endpoint = "set_key_webhook")]
pub async fn set_key_webhook(
    key_id: String,
    url: String,
    ev_succeeded: Option<String>,
    ev_failed: Option<String>,
    ev_rejected: Option<String>,
    ev_canceled: Option<String>,
) -> Result<(), ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    use crate::api::JobStatus;
    let chosen = [(JobStatus::Succeeded, ev_succeeded), (JobStatus::Failed, ev_failed), (JobStatus::Rejected, ev_rejected), (JobStatus::Canceled, ev_canceled)];
    let events: Vec<String> =
        chosen.into_iter().filter(|(_, on)| on.is_some()).filter_map(|(s, _)| s.webhook_event()).map(String::from).collect();
    darkroom_service::webhooks::set(&state, &user.id, &key_id, Some(url.as_str()), &events).await.map_err(ssr::err)?;
    Ok(())
}

/// Sends a webhook delivery again, now.
#[server(endpoint = "resend_delivery")]
pub async fn resend_delivery(id: String) -> Result<(), ServerFnError> {
    let (state, user) = crate::api::ssr::member().await?;
    state.store.resend_delivery(&id, &user.id).await.map_err(ssr::err)?;
    Ok(())
}
