//! Google sign-in (`darkroom_service::oidc`), on when a client id and secret are configured:
//!
//! - `GET /auth/google`: keeps `state`, `nonce` and the PKCE verifier in the session; 303 to
//!   the provider.
//! - `GET /auth/google/callback?code=&state=`: verifies and signs in. An account with the same
//!   address is linked when that address is confirmed; an unconfirmed one is refused (sign in
//!   with the password and confirm it first). A new address goes to the sign-up page, which
//!   asks for the age confirmation and the terms before the account is made
//!   (`app::api::account::sign_up_google`).
//!
//! Failures land on `/signin?error=<code>`: `google` (not genuine or refused), `google_unverified`.

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use darkroom_service::auth::AuthSession;
use darkroom_service::oidc::{self, Identity, Pending};
use darkroom_service::AppState;
use serde::Deserialize;

/// Session keys.
pub const PENDING_KEY: &str = "oidc.pending";
pub use darkroom_service::oidc::SIGNUP_KEY;

fn redirect_uri(app: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    format!("{}/auth/google/callback", darkroom_service::api::base_for(app, host))
}

fn fail(code: &str) -> Response {
    Redirect::to(&format!("/signin?error={code}")).into_response()
}

pub async fn start(State(app): State<AppState>, auth: AuthSession, headers: HeaderMap) -> Response {
    if !oidc::enabled(&app.config) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let provider = match oidc::discover(&app.config).await {
        Ok(p) => p,
        Err(_) => return fail("google_unavailable"),
    };
    let (url, pending) = oidc::begin(&app.config, &provider, &redirect_uri(&app, &headers));
    if auth.session.insert(PENDING_KEY, pending).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    Redirect::to(&url).into_response()
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
}

pub async fn callback(
    State(app): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    mut auth: AuthSession,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    if !oidc::enabled(&app.config) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let pending: Option<Pending> = auth.session.remove(PENDING_KEY).await.ok().flatten();
    let (Some(pending), Some(code), Some(state)) = (pending, q.code, q.state) else { return fail("google") };
    let provider = match oidc::discover(&app.config).await {
        Ok(p) => p,
        Err(_) => return fail("google_unavailable"),
    };
    let who: Identity = match oidc::finish(&app.config, &provider, &pending, &code, &state, &redirect_uri(&app, &headers)).await {
        Ok(who) => who,
        Err(Ok(e)) => {
            tracing::warn!(error = %e, "Google sign-in refused");
            return fail("google");
        }
        Err(Err(_)) => return fail("google_unavailable"),
    };
    match app.store.user_by_email(&who.email).await {
        Ok(Some(user)) if user.suspended_at.is_some() => fail("google"),
        Ok(Some(user)) if user.email_verified_at.is_some() => {
            let origin = darkroom_service::accounts::request_origin(Some(addr.ip()), &headers);
            if darkroom_service::auth::sign_in(&app.store, &mut auth, user.into(), &origin, "google").await.is_err() {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            // A fresh Google sign-in counts as re-authentication (account deletion without a password).
            let _ = auth.session.insert(oidc::REAUTH_KEY, darkroom_store::now_ms()).await;
            Redirect::to("/create").into_response()
        }
        Ok(Some(_)) => fail("google_unverified"),
        Ok(None) => {
            if auth.session.insert(SIGNUP_KEY, who).await.is_err() {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            Redirect::to("/signup?google=1").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "Google sign-in lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
