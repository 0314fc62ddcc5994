//! `/healthz` (the process answers) and `/readyz` (database and media store reachable, engine
//! loaded).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use darkroom_service::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 with `{"database":true,"media":true,"engine":bool}` when the database and the media
/// store (a local folder or an S3 bucket) answer within 5 s each, 503 otherwise (a load
/// balancer then sends this node no traffic). A missing engine is reported, not fatal: images
/// then wait for a moderator.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let within = Duration::from_secs(5);
    let db = matches!(tokio::time::timeout(within, sqlx::query("SELECT 1").execute(&app.store.pool)).await, Ok(Ok(_)));
    let media = match tokio::time::timeout(within, app.media.check()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "media store not ready");
            false
        }
        Err(_) => {
            tracing::warn!("media store did not answer within 5 s");
            false
        }
    };
    let body = serde_json::json!({ "database": db, "media": media, "engine": app.engine.is_some() });
    (if db && media { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
