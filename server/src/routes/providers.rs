//! `POST /providers/{id}/webhook`: callbacks of asynchronous providers (Replicate's
//! prediction webhooks), checked by the generator itself (`Generator::webhook`: Standard
//! Webhooks signature, timestamp tolerance). Answers 204 once accepted, 401 for a signature
//! that does not verify (logged), 400 for a body that is not the provider's, 404 for a
//! generator without webhooks here. Accepting one only wakes a run waiting in this process;
//! the run polls the provider in any case, so a lost or forged call changes nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use darkroom_service::generators::WebhookError;
use darkroom_service::AppState;

/// Largest webhook body accepted, in bytes.
pub const WEBHOOK_MAX_BYTES: usize = 256 * 1024;

pub async fn webhook(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(generator) = app.generators.get(&id) else { return StatusCode::NOT_FOUND };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(String::from);
    match generator.webhook(&header, &body, darkroom_service::sharing::now_secs() as i64) {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(WebhookError::Unverified(why)) => {
            tracing::warn!(provider = %id, why, "a provider webhook was refused");
            StatusCode::UNAUTHORIZED
        }
        Err(WebhookError::Malformed) => StatusCode::BAD_REQUEST,
        Err(WebhookError::NotConfigured) => StatusCode::NOT_FOUND,
    }
}
