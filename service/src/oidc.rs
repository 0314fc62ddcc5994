//! Google sign-in (OpenID Connect Core 1.0, authorization code flow with PKCE, RFC 7636).
//!
//! `begin` makes the `state`, `nonce` and PKCE verifier (kept in the member's session) and
//! the provider's authorization URL; `finish` checks `state`, swaps the code for tokens at
//! the token endpoint (with the verifier and the client secret) and verifies the ID token:
//! RS256 signature against the provider's JWKS (`kid`), `iss`, `aud`, `exp`, `nonce`, and
//! `email_verified`. Endpoints come from the issuer's discovery document
//! (`/.well-known/openid-configuration`), so a local stand-in serves the tests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Config, ServiceError};

/// The session key under which a verified identity with no account waits for the sign-up
/// page (age and terms) to make one.
pub const SIGNUP_KEY: &str = "oidc.signup";

/// The session key holding when (Unix ms) the member last signed in with Google: for an
/// account without a password, that is the re-authentication deletion asks for (10 minutes).
pub const REAUTH_KEY: &str = "oidc.reauth_at";

/// The provider's endpoints, from its discovery document.
#[derive(Clone, Debug, Deserialize)]
pub struct Provider {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// What the session keeps between the redirect and the callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Unix ms; a callback more than 10 minutes later is refused.
    pub created_at: i64,
}

/// Who the provider says signed in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    /// The provider's stable user id (`sub`).
    pub subject: String,
    pub email: String,
    pub name: String,
}

/// Why a sign-in was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the sign-in request does not match this browser (state)")]
    BadState,
    #[error("the sign-in took too long; please try again")]
    Expired,
    #[error("the provider's token is not valid ({0})")]
    BadToken(&'static str),
    #[error("the provider has not verified this email address")]
    EmailNotVerified,
}

fn random_b64(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn client() -> Result<reqwest::Client, ServiceError> {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)).redirect(reqwest::redirect::Policy::none()).build().map_err(ServiceError::internal)
}

fn unavailable(e: impl std::fmt::Display) -> ServiceError {
    tracing::warn!(error = %e, "OpenID provider call failed");
    ServiceError::Unavailable("Google sign-in is not reachable right now. Please try again later.".into())
}

/// True when Google sign-in is configured.
pub fn enabled(config: &Config) -> bool {
    config.google_client_id.is_some() && config.google_client_secret.is_some()
}

/// Reads `<issuer>/.well-known/openid-configuration`.
///
/// Errors: [`ServiceError::Unavailable`] when it cannot be read or names another issuer.
pub async fn discover(config: &Config) -> Result<Provider, ServiceError> {
    let issuer = config.google_issuer.trim_end_matches('/');
    let p: Provider = client()?
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)?;
    if p.issuer.trim_end_matches('/') != issuer {
        return Err(unavailable(format!("discovery names issuer {}", p.issuer)));
    }
    Ok(p)
}

/// The authorization URL to send the browser to, and what to keep in its session.
/// `redirect_uri` is `<site>/auth/google/callback`.
pub fn begin(config: &Config, provider: &Provider, redirect_uri: &str) -> (String, Pending) {
    let pending = Pending { state: random_b64(24), nonce: random_b64(24), verifier: random_b64(32), created_at: darkroom_store::now_ms() };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let mut url = reqwest::Url::parse(&provider.authorization_endpoint).expect("discovery gave an absolute URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", config.google_client_id.as_deref().unwrap_or_default())
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    (url.to_string(), pending)
}

/// Completes the sign-in: checks `state`, redeems `code`, verifies the ID token.
///
/// Errors: `Err(Ok(OidcError))` when the sign-in is not genuine; `Err(Err(ServiceError))` when
/// the provider cannot be reached.
pub async fn finish(config: &Config, provider: &Provider, pending: &Pending, code: &str, state: &str, redirect_uri: &str) -> Result<Identity, Result<OidcError, ServiceError>> {
    if !subtle_eq(state.as_bytes(), pending.state.as_bytes()) {
        return Err(Ok(OidcError::BadState));
    }
    if darkroom_store::now_ms() - pending.created_at > 600_000 {
        return Err(Ok(OidcError::Expired));
    }
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", config.google_client_id.as_deref().unwrap_or_default()),
        ("client_secret", config.google_client_secret.as_deref().unwrap_or_default()),
        ("code_verifier", &pending.verifier),
    ];
    let c = client().map_err(Err)?;
    let answer = c.post(&provider.token_endpoint).form(&form).send().await.map_err(|e| Err(unavailable(e)))?;
    if !answer.status().is_success() {
        tracing::warn!(status = %answer.status(), "the token endpoint refused the code");
        return Err(Ok(OidcError::BadToken("code refused")));
    }
    let tokens: Value = answer.json().await.map_err(|e| Err(unavailable(e)))?;
    let id_token = tokens["id_token"].as_str().ok_or(Ok(OidcError::BadToken("no id_token")))?;
    let jwks: Value = c.get(&provider.jwks_uri).send().await.map_err(|e| Err(unavailable(e)))?.json().await.map_err(|e| Err(unavailable(e)))?;
    let audience = config.google_client_id.as_deref().unwrap_or_default();
    let claims = verify_id_token(id_token, &jwks, &provider.issuer, audience, &pending.nonce, darkroom_store::now_ms() / 1000).map_err(Ok)?;
    let verified = claims["email_verified"].as_bool() == Some(true) || claims["email_verified"] == "true";
    let email = claims["email"].as_str().unwrap_or_default();
    if !verified || email.is_empty() {
        return Err(Ok(OidcError::EmailNotVerified));
    }
    Ok(Identity {
        subject: claims["sub"].as_str().unwrap_or_default().to_string(),
        email: darkroom_store::users::normalize_email(email),
        name: claims["name"].as_str().or(claims["given_name"].as_str()).unwrap_or("").chars().take(50).collect(),
    })
}

/// Constant-time equality of two byte strings.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a compact JWS ID token (RFC 7515, alg RS256) against `jwks` (RFC 7517) and its
/// claims (OpenID Connect Core §3.1.3.7): `iss`, `aud` (string or list), `exp` after `now`
/// (Unix seconds, 60 s leeway), `nonce`. Returns the claims.
pub fn verify_id_token(token: &str, jwks: &Value, issuer: &str, audience: &str, nonce: &str, now: i64) -> Result<Value, OidcError> {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(OidcError::BadToken("not a JWS")) };
    let decode = |x: &str| URL_SAFE_NO_PAD.decode(x).map_err(|_| OidcError::BadToken("bad base64"));
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| OidcError::BadToken("bad header"))?;
    if header["alg"] != "RS256" {
        return Err(OidcError::BadToken("algorithm"));
    }
    let kid = header["kid"].as_str().unwrap_or_default();
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kty"] == "RSA" && (kid.is_empty() || k["kid"] == kid)))
        .ok_or(OidcError::BadToken("unknown key"))?;
    let n = rsa::BigUint::from_bytes_be(&decode(key["n"].as_str().unwrap_or_default())?);
    let e = rsa::BigUint::from_bytes_be(&decode(key["e"].as_str().unwrap_or_default())?);
    let public = rsa::RsaPublicKey::new(n, e).map_err(|_| OidcError::BadToken("bad key"))?;
    let signature = Signature::try_from(decode(s)?.as_slice()).map_err(|_| OidcError::BadToken("bad signature"))?;
    VerifyingKey::<Sha256>::new(public).verify(format!("{h}.{p}").as_bytes(), &signature).map_err(|_| OidcError::BadToken("signature"))?;
    let claims: Value = serde_json::from_slice(&decode(p)?).map_err(|_| OidcError::BadToken("bad claims"))?;
    if claims["iss"].as_str().map(|i| i.trim_end_matches('/')) != Some(issuer.trim_end_matches('/')) {
        return Err(OidcError::BadToken("issuer"));
    }
    let aud_ok = claims["aud"] == audience || claims["aud"].as_array().is_some_and(|a| a.iter().any(|x| x == audience));
    if !aud_ok {
        return Err(OidcError::BadToken("audience"));
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp + 60 < now) {
        return Err(OidcError::BadToken("expired"));
    }
    if !subtle_eq(claims["nonce"].as_str().unwrap_or_default().as_bytes(), nonce.as_bytes()) {
        return Err(OidcError::BadToken("nonce"));
    }
    Ok(claims)
}
