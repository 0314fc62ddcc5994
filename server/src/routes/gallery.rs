//! `POST /gallery/delete`: deletes the selected items of the member's gallery (form fields
//! `id`, repeated; at most 100) and their files, then sends the browser back to the gallery
//! with how many went. A plain form post, so it works without JavaScript. Items that are not
//! the member's or not finished are skipped (counted as not deleted); nothing else changes.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use darkroom_service::auth::AuthSession;
use darkroom_service::{generation, AppState, ServiceError};

use super::ApiError;

/// Most items one request deletes.
pub const MAX_IDS: usize = 100;

pub async fn delete_selected(State(app): State<AppState>, auth: AuthSession, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let Some(user) = auth.user else { return ApiError(ServiceError::Unauthorized("Please sign in.".into())).into_response() };
    let ids: Vec<&str> = fields.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.as_str()).collect();
    if ids.len() > MAX_IDS {
        return ApiError(ServiceError::Invalid(format!("Select at most {MAX_IDS} items at a time."))).into_response();
    }
    let mut deleted = 0;
    for id in ids {
        match generation::delete(&app, &user.id, id).await {
            Ok(()) => deleted += 1,
            Err(ServiceError::NotFound | ServiceError::Conflict(_)) => {}
            Err(e) => return ApiError(e).into_response(),
        }
    }
    Redirect::to(&format!("/gallery?deleted={deleted}")).into_response()
}
