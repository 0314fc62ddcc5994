//! `GET /api/v1/templates`, `GET /api/v1/styles`, `GET /api/v1/balance`.

use axum::extract::State;
use axum::{Extension, Json};
use darkroom_service::api::{self, require_scope, Style};
use darkroom_service::templates::Template;
use darkroom_service::AppState;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, Caller};

/// A list of templates.
#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    pub results: Vec<Template>,
}

/// A list of styles.
#[derive(Serialize, ToSchema)]
pub struct StyleList {
    pub results: Vec<Style>,
}

/// The templates (presets) a generation can start from, with their cost in credits.
#[utoipa::path(get, path = "/api/v1/templates", tag = "catalog", responses((status = 200, body = TemplateList)))]
pub async fn templates(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>) -> Result<Json<TemplateList>, ApiError> {
    require_scope(&key, "read")?;
    Ok(Json(TemplateList { results: darkroom_service::templates::catalogue(&app).await? }))
}

/// The built-in styles offered now, named by the operator's style templates.
#[utoipa::path(get, path = "/api/v1/styles", tag = "catalog", responses((status = 200, body = StyleList)))]
pub async fn styles(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>) -> Result<Json<StyleList>, ApiError> {
    require_scope(&key, "read")?;
    Ok(Json(StyleList { results: api::styles(&app).await? }))
}

/// The account's balance, and this key's spending in its cap period.
#[derive(Serialize, ToSchema)]
pub struct Balance {
    /// Credits available.
    pub balance: i64,
    /// Credits this key spent in the current cap period (UTC day or month; month without a cap).
    pub key_spent: i64,
    /// The key's cap in credits per `key_cap_period`, if any.
    pub key_cap: Option<i64>,
    pub key_cap_period: Option<String>,
}

/// Your credit balance.
#[utoipa::path(get, path = "/api/v1/balance", tag = "catalog", responses((status = 200, body = Balance)))]
pub async fn balance(State(app): State<AppState>, Extension(Caller(key)): Extension<Caller>) -> Result<Json<Balance>, ApiError> {
    require_scope(&key, "read")?;
    let user = app.store.user(&key.user_id).await?;
    let key_spent = api::spend_this_period(&app, &key).await?;
    Ok(Json(Balance { balance: user.balance, key_spent, key_cap: key.cap_credits, key_cap_period: key.cap_period.clone() }))
}
