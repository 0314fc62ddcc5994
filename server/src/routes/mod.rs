//! HTTP routes that are not pages: one file per resource.

pub mod account;
pub mod api;
pub mod audit;
pub mod events;
pub mod favicon;
pub mod gallery;
pub mod generations;
pub mod health;
pub mod ledger;
pub mod media;
pub mod oidc;
pub mod payments;
pub mod previews;
pub mod providers;
pub mod signed_media;
pub mod site_settings;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use darkroom_service::ServiceError;

/// A [`ServiceError`] as an HTTP response: `{"error":{"code","message"}}` with its status.
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({ "error": { "code": self.0.code(), "message": self.0.to_string() } });
        (status, Json(body)).into_response()
    }
}
