//! `/healthz` (the process answers) and `/readyz` (database reachable, engine loaded).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use darkroom_service::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 with `{"database":true,"engine":bool}` when the database answers, 503 otherwise.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let db = sqlx::query("SELECT 1").execute(&app.store.pool).await.is_ok();
    let body = serde_json::json!({ "database": db, "engine": app.engine.is_some() });
    (if db { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
