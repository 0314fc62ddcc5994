//! A local stand-in for the payment providers' APIs, answering with the payloads their
//! references document: Stripe's `POST /v1/checkout/sessions` (bearer secret key,
//! `Idempotency-Key` replays), PayPal's `POST /v1/oauth2/token`, `POST /v2/checkout/orders`,
//! `POST /v2/checkout/orders/{id}/capture` (a second capture is `ORDER_ALREADY_CAPTURED`) and
//! `POST /v1/notifications/verify-webhook-signature`.
//!
//! PayPal signs real webhooks with RSA and checks them on its side; the stand-in checks its own
//! scheme instead: `transmission_sig` = base64 HMAC-SHA256 (key [`PAYPAL_SIGNING_KEY`]) of
//! `<transmission id>|<transmission time>|<webhook id>|<SHA-256 hex of the event JSON>` —
//! [`paypal_sig`] makes one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const STRIPE_KEY: &str = "sk_test_standin";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_standin_secret";
pub const PAYPAL_CLIENT: (&str, &str) = ("paypal-client", "paypal-secret");
pub const PAYPAL_WEBHOOK_ID: &str = "WH-STANDIN-1";
pub const PAYPAL_SIGNING_KEY: &[u8] = b"paypal stand-in signing key";

#[derive(Default)]
pub struct Recorded {
    /// Checkout Sessions made, by id: the form fields Stripe received.
    pub sessions: HashMap<String, HashMap<String, String>>,
    pub session_order: Vec<String>,
    idempotent: HashMap<String, Value>,
    /// PayPal orders made, by id: the request body.
    pub orders: HashMap<String, Value>,
    pub order_ids: Vec<String>,
    captured: HashMap<String, String>,
    pub verify_calls: usize,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    pub rec: Arc<Mutex<Recorded>>,
}

pub async fn spawn() -> StandIn {
    let rec = Arc::new(Mutex::new(Recorded::default()));
    let router = Router::new()
        .route("/v1/checkout/sessions", post(checkout_session))
        .route("/v1/oauth2/token", post(token))
        .route("/v2/checkout/orders", post(create_order))
        .route("/v2/checkout/orders/{id}/capture", post(capture))
        .route("/v1/notifications/verify-webhook-signature", post(verify))
        .with_state(rec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    StandIn { base, rec }
}

type Rec = State<Arc<Mutex<Recorded>>>;

fn bearer(h: &HeaderMap) -> &str {
    h.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("")
}

async fn checkout_session(State(rec): Rec, h: HeaderMap, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    if bearer(&h) != STRIPE_KEY {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}))).into_response();
    }
    let form: HashMap<String, String> = pairs.into_iter().collect();
    let mut r = rec.lock().unwrap();
    let key = h.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if let Some(v) = r.idempotent.get(&key) {
        return Json(v.clone()).into_response();
    }
    let id = format!("cs_test_{}", r.sessions.len() + 1);
    let session = json!({
        "id": id, "object": "checkout.session", "mode": form["mode"], "status": "open", "payment_status": "unpaid",
        "amount_total": form["line_items[0][price_data][unit_amount]"].parse::<i64>().unwrap(),
        "currency": form["line_items[0][price_data][currency]"], "client_reference_id": form["client_reference_id"],
        "customer_email": form["customer_email"], "success_url": form["success_url"], "cancel_url": form["cancel_url"],
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    });
    r.sessions.insert(id.clone(), form);
    r.session_order.push(id);
    r.idempotent.insert(key, session.clone());
    Json(session).into_response()
}

async fn token(h: HeaderMap, body: String) -> Response {
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", PAYPAL_CLIENT.0, PAYPAL_CLIENT.1)));
    if h.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) || body != "grant_type=client_credentials" {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client", "error_description": "Client Authentication failed"}))).into_response();
    }
    Json(json!({"scope": "https://uri.paypal.com/services/payments/payment", "access_token": "A21AAstandin", "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 32400, "nonce": "2026-11-27T00:00:00Zstandin"})).into_response()
}

fn authorized(h: &HeaderMap) -> bool {
    bearer(h) == "A21AAstandin"
}

async fn create_order(State(rec): Rec, h: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut r = rec.lock().unwrap();
    let id = format!("5O190127TN36471{}T", r.orders.len() + 1);
    r.orders.insert(id.clone(), body);
    r.order_ids.push(id.clone());
    Json(json!({
        "id": id, "status": "PAYER_ACTION_REQUIRED", "payment_source": {"paypal": {}},
        "links": [
            {"href": format!("https://api-m.paypal.com/v2/checkout/orders/{id}"), "rel": "self", "method": "GET"},
            {"href": format!("https://www.paypal.com/checkoutnow?token={id}"), "rel": "payer-action", "method": "GET"},
        ],
    }))
    .into_response()
}

/// The capture id the stand-in gives an order.
pub fn capture_id(order: &str) -> String {
    format!("3C6793{}", &order[..8])
}

async fn capture(State(rec): Rec, h: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut r = rec.lock().unwrap();
    let Some(order) = r.orders.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, Json(json!({"name": "RESOURCE_NOT_FOUND", "details": [{"issue": "INVALID_RESOURCE_ID"}]}))).into_response();
    };
    if r.captured.contains_key(&id) {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "ORDER_ALREADY_CAPTURED"}]}))).into_response();
    }
    let unit = &order["purchase_units"][0];
    r.captured.insert(id.clone(), capture_id(&id));
    Json(json!({
        "id": id, "status": "COMPLETED",
        "payment_source": {"paypal": {"email_address": "buyer@example.com", "account_id": "QYR5Z8XDVJNXQ"}},
        "purchase_units": [{"reference_id": unit["reference_id"], "payments": {"captures": [{
            "id": capture_id(&id), "status": "COMPLETED", "amount": unit["amount"], "final_capture": true,
            "custom_id": unit["custom_id"], "create_time": "2026-11-27T00:00:00Z",
        }]}}],
        "payer": {"name": {"given_name": "John", "surname": "Doe"}, "email_address": "buyer@example.com", "payer_id": "QYR5Z8XDVJNXQ"},
    }))
    .into_response()
}

/// The stand-in's webhook signature (see the module docs).
pub fn paypal_sig(transmission_id: &str, time: &str, webhook_id: &str, event: &Value) -> String {
    let digest = hex::encode(Sha256::digest(serde_json::to_string(event).unwrap().as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(PAYPAL_SIGNING_KEY).unwrap();
    mac.update(format!("{transmission_id}|{time}|{webhook_id}|{digest}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn verify(State(rec): Rec, h: HeaderMap, Json(b): Json<Value>) -> Response {
    if !authorized(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    rec.lock().unwrap().verify_calls += 1;
    let s = |k: &str| b[k].as_str().unwrap_or("").to_string();
    let ok = s("auth_algo") == "SHA256withRSA"
        && s("cert_url").starts_with("https://api.paypal.com/")
        && s("webhook_id") == PAYPAL_WEBHOOK_ID
        && s("transmission_sig") == paypal_sig(&s("transmission_id"), &s("transmission_time"), &s("webhook_id"), &b["webhook_event"]);
    Json(json!({"verification_status": if ok { "SUCCESS" } else { "FAILURE" }})).into_response()
}

// ---- OpenID Connect provider (Google's role) ----

/// What the OIDC stand-in does at its token endpoint: the identity it vouches for, and how
/// the test wants the ID token spoiled.
#[derive(Clone, Default)]
pub struct OidcGrant {
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    /// Use this nonce instead of the one the authorization request carried.
    pub nonce_override: Option<String>,
    /// Sign with a key the JWKS does not publish.
    pub wrong_key: bool,
}

/// An OpenID provider stand-in: discovery, JWKS, and a token endpoint that checks the PKCE
/// verifier and client secret and answers with an RS256 ID token it really signs.
#[derive(Clone)]
pub struct Oidc {
    pub issuer: String,
    codes: Arc<Mutex<HashMap<String, Issued>>>,
    key: Arc<rsa::RsaPrivateKey>,
    other_key: Arc<rsa::RsaPrivateKey>,
}

/// A code the stand-in issued: the grant, the request's nonce and PKCE challenge.
type Issued = (OidcGrant, String, String);

pub const OIDC_CLIENT: (&str, &str) = ("darkroom-test.apps.example", "oidc-client-secret");

impl Oidc {
    pub async fn spawn() -> Oidc {
        let mut rng = rand::rngs::OsRng;
        let key = Arc::new(rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap());
        let other_key = Arc::new(rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let oidc = Oidc { issuer, codes: Default::default(), key, other_key };
        let router = Router::new()
            .route("/.well-known/openid-configuration", axum::routing::get(discovery))
            .route("/jwks", axum::routing::get(jwks))
            .route("/token", post(oidc_token))
            .with_state(oidc.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        oidc
    }

    /// What the provider does when the person signs in at `authorize_url` (the URL Darkroom
    /// redirected to): a code for `grant`, and the redirect back with `state`.
    pub fn approve(&self, authorize_url: &str, grant: OidcGrant) -> String {
        let url = reqwest::Url::parse(authorize_url).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], OIDC_CLIENT.0);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["scope"].split(' ').any(|s| s == "openid"));
        let code = format!("code-{}", darkroom_store::new_id());
        self.codes.lock().unwrap().insert(code.clone(), (grant, q["nonce"].clone(), q["code_challenge"].clone()));
        format!("{}?code={code}&state={}", q["redirect_uri"], q["state"])
    }
}

fn b64u(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

async fn discovery(State(o): State<Oidc>) -> Json<Value> {
    Json(json!({
        "issuer": o.issuer, "authorization_endpoint": format!("{}/authorize", o.issuer), "token_endpoint": format!("{}/token", o.issuer),
        "jwks_uri": format!("{}/jwks", o.issuer), "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(o): State<Oidc>) -> Json<Value> {
    use rsa::traits::PublicKeyParts;
    let public = o.key.to_public_key();
    Json(json!({ "keys": [{ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "standin-1", "n": b64u(&public.n().to_bytes_be()), "e": b64u(&public.e().to_bytes_be()) }] }))
}

async fn oidc_token(State(o): State<Oidc>, Form(f): Form<HashMap<String, String>>) -> Response {
    use rsa::signature::{SignatureEncoding, Signer};
    let Some((grant, nonce, challenge)) = o.codes.lock().unwrap().remove(f.get("code").map(String::as_str).unwrap_or("")) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if b64u(&Sha256::digest(verifier.as_bytes())) != challenge || f.get("client_secret").map(String::as_str) != Some(OIDC_CLIENT.1) || f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    }
    let now = darkroom_store::now_ms() / 1000;
    let header = b64u(json!({"alg": "RS256", "kid": "standin-1", "typ": "JWT"}).to_string().as_bytes());
    let claims = b64u(
        json!({
            "iss": o.issuer, "aud": OIDC_CLIENT.0, "sub": format!("sub-{}", grant.email), "email": grant.email, "email_verified": grant.email_verified,
            "name": grant.name, "iat": now, "exp": now + 3600, "nonce": grant.nonce_override.clone().unwrap_or(nonce),
        })
        .to_string()
        .as_bytes(),
    );
    let key = if grant.wrong_key { &o.other_key } else { &o.key };
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**key).clone());
    let sig = signer.sign(format!("{header}.{claims}").as_bytes()).to_vec();
    Json(json!({ "access_token": "ya29.standin", "token_type": "Bearer", "expires_in": 3599, "id_token": format!("{header}.{claims}.{}", b64u(&sig)) })).into_response()
}
