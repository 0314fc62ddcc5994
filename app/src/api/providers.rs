//! The providers' health for administrators (`/admin/providers`): each generator this server
//! runs, its circuit state, last success and failure, latency and error rates.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One generator as the console shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ProviderView {
    pub id: String,
    pub remote: bool,
    /// `ok`, `degraded` (failures in the last hour), `open` (skipped), `half_open`
    /// (one trial call out), or `local`.
    pub state: String,
    /// Unix milliseconds.
    pub last_success: Option<i64>,
    pub last_failure: Option<i64>,
    pub last_error: Option<String>,
    /// Latency of successful calls over the last hour, milliseconds.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    /// Share of failed calls, 0..=1, over the last hour and the last day.
    pub error_rate_hour: f64,
    pub error_rate_day: f64,
    pub calls_day: usize,
}

/// Every generator's health. Administrators only (403 otherwise).
#[server(endpoint = "provider_health")]
pub async fn provider_health() -> Result<Vec<ProviderView>, ServerFnError> {
    use std::time::{Duration, UNIX_EPOCH};

    use darkroom_service::generators::remote::BreakerState;
    let (state, _) = crate::api::ssr::admin("see the providers").await?;
    let ms = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    Ok(state
        .generators
        .health()
        .into_iter()
        .map(|p| {
            let (hour, p50, p95) = p.health.summary(Duration::from_secs(3600));
            let (day, _, _) = p.health.summary(Duration::from_secs(86_400));
            let state = match p.state {
                None => "local",
                Some(BreakerState::Open { .. }) => "open",
                Some(BreakerState::HalfOpen) => "half_open",
                Some(BreakerState::Closed) if hour > 0.0 => "degraded",
                Some(BreakerState::Closed) => "ok",
            };
            ProviderView {
                id: p.id.to_string(),
                remote: p.remote,
                state: state.into(),
                last_success: p.health.last_success.map(ms),
                last_failure: p.health.last_failure.as_ref().map(|(t, _)| ms(*t)),
                last_error: p.health.last_failure.map(|(_, e)| e),
                p50_ms: p50.map(|d| d.as_millis() as i64),
                p95_ms: p95.map(|d| d.as_millis() as i64),
                error_rate_hour: hour,
                error_rate_day: day,
                calls_day: p.health.calls.len(),
            }
        })
        .collect())
}
