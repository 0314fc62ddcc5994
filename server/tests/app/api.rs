//! The API for integrators (issue 8): keys, REST v1, idempotency, caps, webhooks, the
//! OpenAI-compatible images endpoints and the OpenAPI document — over real HTTP, with the
//! real engine, on SQLite and PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::*;

/// A small PNG of a sample photo (fast jobs).
pub fn small_photo(side: u32) -> Vec<u8> {
    let img = image::load_from_memory(&sample("astronaut.png")).unwrap().resize_exact(side, side, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Creates a key through the keys page's server function; returns (key id, secret).
pub async fn new_key(app: &TestApp, c: &reqwest::Client, fields: &[(&str, &str)]) -> (String, String) {
    let mut form = vec![("name", "test key"), ("scope_generate", "on"), ("scope_read", "on"), ("rights", "on")];
    for (k, v) in fields {
        form.retain(|(f, _)| f != k);
        if !v.is_empty() {
            form.push((k, v));
        }
    }
    let (status, body) = app.call(c, "create_api_key", &form).await;
    assert_eq!(status, 200, "{body}");
    (body["key"]["id"].as_str().unwrap().to_string(), body["secret"].as_str().unwrap().to_string())
}

/// One API request: (status, JSON body or text, headers).
pub async fn api(app: &TestApp, method: &str, path: &str, secret: Option<&str>, body: Option<Value>, headers: &[(&str, &str)]) -> (u16, Value, reqwest::header::HeaderMap) {
    let c = reqwest::Client::new();
    let mut r = c.request(method.parse().unwrap(), format!("{}{path}", app.base));
    if let Some(s) = secret {
        r = r.bearer_auth(s);
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), headers)
}

async fn wait_generation(app: &TestApp, secret: &str, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (status, g, _) = api(app, "GET", &format!("/api/v1/generations/{id}"), Some(secret), None, &[]).await;
        assert_eq!(status, 200, "{g}");
        if ["succeeded", "failed", "rejected", "canceled"].contains(&g["status"].as_str().unwrap()) {
            return g;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "generation {id} did not finish: {g}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

pub async fn charges(app: &TestApp, user: &str) -> i64 {
    app.state.store.ledger(user, 1000).await.unwrap().iter().filter(|e| e.kind == "charge").count() as i64
}

pub async fn api_keys_scopes_caps_and_revocation(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let c = client();
    app.sign_up(&c, "keys@example.com").await;
    let me = user_id(&app, "keys@example.com").await;
    let (key_id, secret) = new_key(&app, &c, &[]).await;
    assert!(secret.starts_with("dk_") && secret.len() >= 35, "{secret}");
    // Only the hash is stored: no column of the row holds the secret.
    let row: (String, String, String) = sqlx::query_as("SELECT secret_hash, prefix, name FROM api_keys WHERE id = $1")
        .bind(&key_id)
        .fetch_one(&app.state.store.pool)
        .await
        .unwrap();
    assert_eq!(row.0, darkroom_service::api::secret_hash(&secret));
    assert!(!row.0.contains(&secret) && secret.starts_with(&row.1) && row.1.len() == 11);
    // Webhook endpoints must be public HTTPS (SSRF): loopback, private and metadata addresses are refused.
    // IPv6 forms that embed an internal IPv4 address, and the deprecated site-local range, too.
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://[::127.0.0.1]/hook",
        "https://[::ffff:0:7f00:1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[fec0::1]/hook",
        "https://0x7f.1/hook",
    ] {
        let (s, v) = app.call(&c, "set_key_webhook", &[("key_id", &key_id), ("url", url), ("ev_succeeded", "on")]).await;
        assert_eq!(s, 400, "{url}: {v}");
    }
    // The page shows the key without its secret.
    let (_, page) = app.call(&c, "api_keys_page", &[]).await;
    assert!(!page.to_string().contains(&secret), "the secret is shown once only");
    assert_eq!(page["keys"][0]["prefix"], row.1);

    let (s, v, _) = api(&app, "GET", "/api/v1/balance", None, None, &[]).await;
    assert_eq!((s, error_code(&v)), (401, "unauthorized"), "{v}");
    let (s, v, _) = api(&app, "GET", "/api/v1/balance", Some("dk_notakey"), None, &[]).await;
    assert_eq!((s, error_code(&v)), (401, "unauthorized"));
    let (s, v, _) = api(&app, "GET", "/api/v1/balance", Some(&secret), None, &[]).await;
    assert_eq!((s, v["balance"].as_i64()), (200, Some(50)), "{v}");

    // Scope `read` cannot generate (nothing charged), but can read.
    let (_, read_only) = new_key(&app, &c, &[("scope_generate", "")]).await;
    let photo = b64(&small_photo(64));
    let body = json!({ "image": photo, "style": 3 });
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&read_only), Some(body.clone()), &[]).await;
    assert_eq!((s, error_code(&v)), (403, "forbidden"), "{v}");
    assert_eq!(api(&app, "GET", "/api/v1/styles", Some(&read_only), None, &[]).await.0, 200);
    assert_eq!(charges(&app, &me).await, 0);

    // A cap of 5 credits a day (one generation): the second is refused with 402.
    let (capped_id, capped) = new_key(&app, &c, &[("cap_credits", "5"), ("cap_period", "day")]).await;
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&capped), Some(body.clone()), &[]).await;
    assert_eq!((s, v["status"].as_str()), (201, Some("queued")), "{v}");
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&capped), Some(json!({ "image": photo, "style": 4 })), &[]).await;
    assert_eq!((s, error_code(&v)), (402, "credit_cap_reached"), "{v}");
    assert_eq!(charges(&app, &me).await, 1, "the refused request charged nothing");
    let (_, bal, _) = api(&app, "GET", "/api/v1/balance", Some(&capped), None, &[]).await;
    assert_eq!((bal["balance"].as_i64(), bal["key_spent"].as_i64(), bal["key_cap"].as_i64()), (Some(45), Some(5), Some(5)), "{bal}");
    // Canceling refunds, and the refunded job no longer counts against the cap.
    let jobs = app.state.store.jobs_for_user(&me, None, None, 10).await.unwrap();
    let (s, g, _) = api(&app, "POST", &format!("/api/v1/generations/{}/cancel", jobs[0].id), Some(&capped), None, &[]).await;
    assert_eq!((s, g["status"].as_str()), (200, Some("canceled")), "{g}");
    let (s, _, _) = api(&app, "POST", "/api/v1/generations", Some(&capped), Some(json!({ "image": photo, "style": 5 })), &[]).await;
    assert_eq!(s, 201, "cap freed by the refund");

    // Revoked: 401 at once. Expired: 401.
    let (s, _) = app.call(&c, "revoke_api_key", &[("id", &capped_id)]).await;
    assert_eq!(s, 200);
    let (s, v, _) = api(&app, "GET", "/api/v1/balance", Some(&capped), None, &[]).await;
    assert_eq!((s, error_code(&v)), (401, "unauthorized"));
    sqlx::query("UPDATE api_keys SET expires_at = 1 WHERE id = $1").bind(&key_id).execute(&app.state.store.pool).await.unwrap();
    assert_eq!(api(&app, "GET", "/api/v1/balance", Some(&secret), None, &[]).await.0, 401);

    // A suspended account's keys stop at once.
    let (_, live) = new_key(&app, &c, &[]).await;
    assert_eq!(api(&app, "GET", "/api/v1/balance", Some(&live), None, &[]).await.0, 200);
    sqlx::query("UPDATE users SET suspended_at = 1 WHERE id = $1").bind(&me).execute(&app.state.store.pool).await.unwrap();
    let (s, v, _) = api(&app, "GET", "/api/v1/balance", Some(&live), None, &[]).await;
    assert_eq!((s, error_code(&v)), (403, "forbidden"), "{v}");

    // Every authenticated request is in the member's log, with what it cost.
    let log = app.state.store.api_requests(&me, 100).await.unwrap();
    assert!(log.iter().any(|r| r.route == "/api/v1/generations" && r.status == 201 && r.cost == 5), "{log:?}");
    assert!(log.iter().any(|r| r.route == "/api/v1/generations" && r.status == 402 && r.cost == 0));
    assert!(log.iter().any(|r| r.route == "/api/v1/generations/{id}/cancel" && r.status == 200));
}

pub async fn api_generation_lifecycle(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "life@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let photo = small_photo(96);

    // Upload first, then generate from the upload id (JSON), with an Idempotency-Key.
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(photo.clone()).file_name("p.png"));
    let r = reqwest::Client::new().post(format!("{}/api/v1/uploads", app.base)).bearer_auth(&secret).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let upload: Value = r.json().await.unwrap();
    assert_eq!((upload["width"].as_i64(), upload["height"].as_i64()), (Some(96), Some(96)), "{upload}");
    let body = json!({ "upload_id": upload["id"], "template": "style-08", "prompt": "a harbour at dusk" });
    let idem = [("Idempotency-Key", "life-1")];
    let (s, g, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body.clone()), &idem).await;
    assert_eq!(s, 201, "{g}");
    for field in ["id", "status", "input", "output", "error", "created_at", "started_at", "completed_at", "urls"] {
        assert!(g.get(field).is_some(), "Replicate's field {field} in {g}");
    }
    assert_eq!(g["input"]["style"], 7);
    assert_eq!(g["input"]["prompt"], "a harbour at dusk");
    assert!(g["urls"]["get"].as_str().unwrap().ends_with(&format!("/api/v1/generations/{}", g["id"].as_str().unwrap())));
    // The same key and body: the same generation (200); another body: 409.
    let (s, again, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body.clone()), &idem).await;
    assert_eq!((s, &again["id"]), (200, &g["id"]));
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "upload_id": upload["id"], "style": 1 })), &idem).await;
    assert_eq!((s, error_code(&v)), (409, "conflict"), "{v}");

    let done = wait_generation(&app, &secret, g["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["completed_at"].is_string() && done["metrics"]["predict_time"].as_f64().unwrap() >= 0.0);
    // Output URLs are signed and expire; the file is the PNG; a tampered URL is refused.
    let url = done["output"][0].as_str().unwrap().to_string();
    assert!(url.contains("exp=") && url.contains("sig=") && done["output_expires_at"].is_string(), "{done}");
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(reqwest::get(url.replace("sig=", "sig=0")).await.unwrap().status().as_u16(), 403);
    assert_eq!(reqwest::get(url.replace("scope=owner&", "")).await.unwrap().status().as_u16(), 403, "an owner URL is not a share URL");

    // Multipart with the image inline.
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(photo.clone()).file_name("p.png"))
        .text("style", "2")
        .text("strength", "0.5");
    let r = reqwest::Client::new().post(format!("{}/api/v1/generations", app.base)).bearer_auth(&secret).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["input"]["strength"], 0.5);
    // Bad input: a clear error, nothing charged.
    let before = app.balance(&c).await;
    for (bad, code) in [
        (json!({ "style": 1 }), "invalid_request"),
        (json!({ "image": "%%%", "style": 1 }), "invalid_request"),
        (json!({ "image": b64(b"not an image"), "style": 1 }), "invalid_image"),
        (json!({ "image": b64(&photo), "style": 99 }), "invalid_request"),
        (json!({ "image": b64(&photo), "template": "nope" }), "invalid_request"),
        (json!({ "image": b64(&photo), "colour": 1 }), "invalid_request"),
        (json!({ "upload_id": "0190-missing" }), "not_found"),
    ] {
        let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(bad.clone()), &[]).await;
        assert_eq!(error_code(&v), code, "{bad} → {s} {v}");
        assert!(s == 400 || s == 404);
    }
    assert_eq!(app.balance(&c).await, before);

    // List with a cursor: two pages of one.
    let wait2 = wait_generation(&app, &secret, second["id"].as_str().unwrap()).await;
    assert_eq!(wait2["status"], "succeeded");
    let (_, page1, _) = api(&app, "GET", "/api/v1/generations?limit=1", Some(&secret), None, &[]).await;
    assert_eq!(page1["results"][0]["id"], second["id"]);
    let next = page1["next"].as_str().unwrap().to_string();
    let path = &next[next.find("/api/").unwrap()..];
    let (_, page2, _) = api(&app, "GET", path, Some(&secret), None, &[]).await;
    assert_eq!(page2["results"][0]["id"], g["id"]);
    assert!(page2["next"].is_null());
    // A finished one cannot be canceled; delete removes it and its files.
    let gid = g["id"].as_str().unwrap();
    let (s, v, _) = api(&app, "POST", &format!("/api/v1/generations/{gid}/cancel"), Some(&secret), None, &[]).await;
    assert_eq!((s, error_code(&v)), (409, "conflict"));
    assert_eq!(api(&app, "DELETE", &format!("/api/v1/generations/{gid}"), Some(&secret), None, &[]).await.0, 204);
    assert_eq!(api(&app, "GET", &format!("/api/v1/generations/{gid}"), Some(&secret), None, &[]).await.0, 404);
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 404, "the deleted result's URL stops at once");
    // Someone else's key sees none of it.
    let other = client();
    app.sign_up(&other, "other@example.com").await;
    let (_, theirs) = new_key(&app, &other, &[]).await;
    let sid = second["id"].as_str().unwrap();
    assert_eq!(api(&app, "GET", &format!("/api/v1/generations/{sid}"), Some(&theirs), None, &[]).await.0, 404);
    assert_eq!(api(&app, "DELETE", &format!("/api/v1/generations/{sid}"), Some(&theirs), None, &[]).await.0, 404);
    let (_, list, _) = api(&app, "GET", "/api/v1/generations", Some(&theirs), None, &[]).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 0);
}

pub async fn api_idempotency_under_concurrency(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let c = client();
    app.sign_up(&c, "idem@example.com").await;
    let me = user_id(&app, "idem@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let body = json!({ "image": b64(&small_photo(64)), "style": 6 });
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (base, secret, body) = (app.base.clone(), secret.clone(), body.clone());
            tokio::spawn(async move {
                let r = reqwest::Client::new()
                    .post(format!("{base}/api/v1/generations"))
                    .bearer_auth(&secret)
                    .header("Idempotency-Key", "same-every-time")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for t in tasks {
        let (status, g) = t.await.unwrap();
        assert!(status == 201 || status == 200, "{status} {g}");
        created += (status == 201) as i32;
        ids.insert(g["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "one generation for 20 identical requests");
    assert_eq!(created, 1, "one 201, the rest replay it");
    assert_eq!(charges(&app, &me).await, 1, "one charge");
    assert_eq!(app.balance(&c).await, 45);
    assert_eq!(app.state.store.jobs_for_user(&me, None, None, 100).await.unwrap().len(), 1);
    // The uploads of the losing requests were removed: one stored upload.
    let uploads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE user_id = $1 AND deleted_at IS NULL").bind(&me).fetch_one(&app.state.store.pool).await.unwrap();
    assert_eq!(uploads, 1);
}

/// A webhook receiver: answers 500 to the first `fail_first` requests, then 200; records
/// each request's headers and body.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, bytes::Bytes, u16)>>>) {
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, bytes::Bytes, u16)>>> = Arc::default();
    let s = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: bytes::Bytes| {
            let s = s.clone();
            async move {
                let mut v = s.lock().unwrap();
                let status = if v.len() < fail_first { 500 } else { 200 };
                v.push((headers, body, status));
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

pub async fn webhooks_signed_retried_and_delivered_once(b: Backend) {
    let app = spawn_app(b, |c| {
        c.webhook_allow_http = true;
        c.webhook_retry_scale = 0.001; // 5 ms, 300 ms, 1.8 s, ...
    })
    .await;
    let c = client();
    app.sign_up(&c, "hooks@example.com").await;
    let me = user_id(&app, "hooks@example.com").await;
    let (key_id, secret) = new_key(&app, &c, &[]).await;
    let (url, seen) = receiver(2).await;
    // Plain http is refused unless the operator allows it (this app does); bad URLs are refused.
    let (s, _) = app.call(&c, "set_key_webhook", &[("key_id", &key_id), ("url", "ftp://x"), ("ev_succeeded", "on")]).await;
    assert_eq!(s, 400);
    let (s, v) = app.call(&c, "set_key_webhook", &[("key_id", &key_id), ("url", &url), ("ev_succeeded", "on"), ("ev_rejected", "on")]).await;
    assert_eq!(s, 200, "{v}");
    let whsec = app.state.store.api_key(&key_id, &me).await.unwrap().webhook_secret.unwrap();
    assert!(whsec.starts_with("whsec_"));

    let (s, g, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "image": b64(&small_photo(64)), "style": 2 })), &[]).await;
    assert_eq!(s, 201);
    let gid = g["id"].as_str().unwrap().to_string();
    wait_generation(&app, &secret, &gid).await;
    let start = Instant::now();
    loop {
        let d = app.state.store.deliveries(&me, None, 10).await.unwrap();
        if d.first().is_some_and(|d| d.status == "delivered") {
            assert_eq!((d.len(), d[0].attempts, d[0].last_status), (1, 3, Some(200)), "{d:?}");
            assert_eq!(d[0].event, "generation.succeeded");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "not delivered: {d:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await; // nothing more arrives
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "two failures, then one success");
    assert_eq!(got.iter().filter(|(_, _, s)| *s == 200).count(), 1, "exactly one success");
    let wh = standardwebhooks::Webhook::new(&whsec).unwrap();
    let first_id = got[0].0["webhook-id"].clone();
    for (headers, body, _) in &got {
        assert_eq!(headers["webhook-id"], first_id, "the same webhook-id on every retry");
        wh.verify(body, headers).expect("a valid Standard Webhooks signature");
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!((payload["id"].as_str(), payload["status"].as_str()), (Some(gid.as_str()), Some("succeeded")));
        // A changed body fails verification.
        let mut tampered = body.to_vec();
        tampered[1] ^= 1;
        assert!(wh.verify(&tampered, headers).is_err());
    }
    // Resend: one more delivery of the same message.
    let d = app.state.store.deliveries(&me, None, 10).await.unwrap();
    let (s, _) = app.call(&c, "resend_delivery", &[("id", &d[0].id)]).await;
    assert_eq!(s, 200);
    let start = Instant::now();
    while seen.lock().unwrap().len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(10), "resend not sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen.lock().unwrap()[3].0["webhook-id"], first_id);
    // The keys page lists the delivery with its status code.
    let (_, page) = app.call(&c, "api_keys_page", &[]).await;
    assert_eq!(page["deliveries"][0]["event"], "generation.succeeded");
}

pub async fn openai_images_endpoints(b: Backend) {
    // Text→image runs on a provider (here OpenAI's stand-in, through the `openai-image`
    // template); edits with a style template stay local.
    let oa = super::provider_standin::spawn().await;
    let base = oa.base.clone();
    let app = spawn_app(b, move |c| {
        c.signup_grant = 100;
        c.openai_api_key = Some(super::provider_standin::KEY.into());
        c.openai_api_base = base;
        c.provider_backoff_ms = 10;
    })
    .await;
    let c = client();
    app.sign_up(&c, "oai@example.com").await;
    let me = user_id(&app, "oai@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let photo = small_photo(96);
    // images.edit, b64_json: OpenAI's ImagesResponse with the PNG inline.
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(photo.clone()).file_name("p.png").mime_str("image/png").unwrap())
        .text("prompt", "a lighthouse")
        .text("model", "style-05-color")
        .text("response_format", "b64_json");
    let r = reqwest::Client::new().post(format!("{}/v1/images/edits", app.base)).bearer_auth(&secret).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_shape(&v, 1, "b64_json");
    let png = base64::engine::general_purpose::STANDARD.decode(v["data"][0]["b64_json"].as_str().unwrap()).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (96, 96));
    // images.generate: n = 2, URLs; a square wish is the provider's square size.
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "a quiet forest", "n": 2, "size": "128x128", "model": "dall-e-3" })), &[]).await;
    assert_eq!(s, 200, "{v}");
    assert_shape(&v, 2, "url");
    let bytes = reqwest::get(v["data"][1]["url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (1024, 1024));
    let sent = oa.received();
    assert_eq!(sent.len(), 2, "one provider call per image");
    assert!(sent.iter().all(|r| r.fields.iter().any(|(k, v)| k == "prompt" && v == "a quiet forest")));
    assert_eq!(charges(&app, &me).await, 3, "charged per image, like the REST API");
    // OpenAI's error shape.
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "x", "model": "no-such-model" })), &[]).await;
    assert_eq!((s, v["error"]["type"].as_str()), (400, Some("invalid_request_error")), "{v}");
    assert!(v["error"]["message"].is_string() && v["error"].get("param").is_some() && v["error"]["code"].is_string());
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", None, Some(json!({ "prompt": "x" })), &[]).await;
    assert_eq!((s, v["error"]["type"].as_str()), (401, Some("authentication_error")));
    // A blocked prompt: content_policy_violation, charged (rejections are not refunded).
    let before = charges(&app, &me).await;
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "child porn", "size": "64x64" })), &[]).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("content_policy_violation")), "{v}");
    assert_eq!(charges(&app, &me).await, before + 1);
    // Obfuscated the way the outside probe did it: zero-width characters inside the words, a
    // word spelled out with dots, a request to undress the person in the photo.
    // Each by a member of their own (three blocks would restrict one account).
    for (i, prompt) in ["chi\u{200B}ld p\u{00AD}orn", "a n.u.d.e photo", "remove her clothes"].into_iter().enumerate() {
        let c = client();
        let email = format!("probe{i}@example.com");
        app.sign_up(&c, &email).await;
        let (_, secret) = new_key(&app, &c, &[]).await;
        let who = user_id(&app, &email).await;
        let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": prompt, "size": "64x64" })), &[]).await;
        assert_eq!((s, v["error"]["code"].as_str()), (400, Some("content_policy_violation")), "{prompt:?}: {v}");
        assert_eq!(charges(&app, &who).await, 1, "{prompt:?}: charged once, like every rejection");
    }
}

/// A configured remote provider is a template (`openai-edit`) integrators choose by id, and
/// what OpenAI's own model names run on the OpenAI-compatible endpoint.
pub async fn remote_provider_templates_through_the_api(b: Backend) {
    let oa = super::provider_standin::spawn().await;
    let base = oa.base.clone();
    let app = spawn_app(b, move |c| {
        c.openai_api_key = Some(super::provider_standin::KEY.into());
        c.openai_api_base = base;
        c.provider_backoff_ms = 10;
    })
    .await;
    let c = client();
    app.sign_up(&c, "tpl@example.com").await;
    let me = user_id(&app, "tpl@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let (s, v, _) = api(&app, "GET", "/api/v1/templates", Some(&secret), None, &[]).await;
    assert_eq!(s, 200);
    let t = v["results"].as_array().unwrap().iter().find(|t| t["id"] == "openai-edit").expect("listed").clone();
    assert_eq!((t["params"]["generator"].as_str(), t["cost"].as_i64()), (Some("openai"), Some(5)), "{t}");
    let photo = small_photo(96);
    // The provider needs a prompt: refused before anything is charged.
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "image": b64(&photo), "template": "openai-edit" })), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("needs a prompt"), "{v}");
    assert_eq!(charges(&app, &me).await, 0);
    let body = json!({ "image": b64(&photo), "template": "openai-edit", "prompt": "a lighthouse at dawn" });
    let (s, g, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body), &[("idempotency-key", "tpl-1")]).await;
    assert_eq!(s, 201, "{g}");
    let done = wait_generation(&app, &secret, g["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let sent = oa.received();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].fields.iter().any(|(k, v)| k == "prompt" && v == "a lighthouse at dawn"));
    // OpenAI's own model name on the OpenAI-compatible endpoint runs the provider too.
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(photo.clone()).file_name("p.png").mime_str("image/png").unwrap())
        .text("prompt", "a lighthouse")
        .text("model", "gpt-image-1")
        .text("response_format", "b64_json");
    let r = reqwest::Client::new().post(format!("{}/v1/images/edits", app.base)).bearer_auth(&secret).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(oa.received().len(), 2, "the request went to the provider");
    let png = base64::engine::general_purpose::STANDARD.decode(v["data"][0]["b64_json"].as_str().unwrap()).unwrap();
    let out = image::load_from_memory(&png).unwrap().into_rgb8();
    let input = image::load_from_memory(&photo).unwrap().into_rgb8();
    assert_eq!(out.dimensions(), input.dimensions());
    assert!(out.pixels().zip(input.pixels()).all(|(o, i)| o.0 == i.0.map(|v| 255 - v)), "the provider's image, unchanged (the stand-in inverts)");
    assert_eq!(charges(&app, &me).await, 2);
}

/// OpenAI's documented `ImagesResponse`: `created` (integer), `data` (array of objects with
/// exactly one of `url` / `b64_json`, both strings), nothing else required.
fn assert_shape(v: &Value, n: usize, field: &str) {
    assert!(v["created"].is_i64(), "{v}");
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), n);
    for d in data {
        let obj = d.as_object().unwrap();
        assert!(obj[field].is_string(), "{d}");
        assert!(obj.keys().all(|k| ["url", "b64_json", "revised_prompt"].contains(&k.as_str())), "{d}");
        assert_eq!(obj.contains_key("url") as u8 + obj.contains_key("b64_json") as u8, 1);
    }
}

/// Every API route, as `(method, path)`: the OpenAPI document must list exactly these.
const ROUTES: [(&str, &str); 11] = [
    ("post", "/api/v1/generations"),
    ("get", "/api/v1/generations"),
    ("get", "/api/v1/generations/{id}"),
    ("delete", "/api/v1/generations/{id}"),
    ("post", "/api/v1/generations/{id}/cancel"),
    ("post", "/api/v1/uploads"),
    ("get", "/api/v1/templates"),
    ("get", "/api/v1/styles"),
    ("get", "/api/v1/balance"),
    ("post", "/v1/images/generations"),
    ("post", "/v1/images/edits"),
];

pub async fn openapi_document_and_rate_limits(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.api_key_rate_per_min = 5;
    })
    .await;
    let (s, doc, _) = api(&app, "GET", "/api/v1/openapi.json", None, None, &[]).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let mut listed: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            listed.push((method.clone(), path.clone()));
        }
    }
    listed.sort();
    let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    expected.sort();
    assert_eq!(listed, expected);
    // Each listed route is served (not 404) and asks for a key.
    for (m, p) in ROUTES {
        let (s, v, _) = api(&app, &m.to_uppercase(), &p.replace("{id}", "x"), None, None, &[]).await;
        assert_eq!(s, 401, "{m} {p}: {v}");
    }
    let r = reqwest::get(format!("{}/api/v1/docs", app.base)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    for (m, p) in ROUTES {
        assert!(html.contains(&format!("{} {}", m.to_uppercase(), p)), "docs page lacks {m} {p}");
    }
    // Per-key rate limit: 5 a minute, then 429 with Retry-After.
    let c = client();
    app.sign_up(&c, "rate@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    for _ in 0..5 {
        assert_eq!(api(&app, "GET", "/api/v1/styles", Some(&secret), None, &[]).await.0, 200);
    }
    let (s, v, headers) = api(&app, "GET", "/api/v1/styles", Some(&secret), None, &[]).await;
    assert_eq!((s, error_code(&v)), (429, "rate_limited"));
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

pub async fn per_ip_rate_limit_applies_before_the_key_check(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.api_ip_rate_per_min = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(api(&app, "GET", "/api/v1/balance", Some("dk_guess"), None, &[]).await.0, 401);
    }
    let (s, v, headers) = api(&app, "GET", "/api/v1/balance", Some("dk_guess"), None, &[]).await;
    assert_eq!((s, error_code(&v)), (429, "rate_limited"), "{v}");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // OpenAI's routes answer in OpenAI's shape.
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", None, Some(json!({ "prompt": "x" })), &[]).await;
    assert_eq!((s, v["error"]["type"].as_str()), (429, Some("rate_limit_error")), "{v}");
}

/// The README's default limits, from outside: sign-ins (5 per address at once, 60 per IP per
/// hour) and API requests (120 per key and 600 per IP per minute) end in 429 with
/// `Retry-After`, where the README says and not before.
pub async fn default_rate_limits_answer_429_with_retry_after(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.auth_rate_per_ip_per_hour = 60;
        c.auth_rate_per_account = 5;
        c.api_key_rate_per_min = 120;
        c.api_ip_rate_per_min = 600;
    })
    .await;
    let c = client();
    app.sign_up(&c, "limits@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    // Per key: 120, then 429. The buckets refill while the test runs (2/s per key, 10/s per
    // IP), so the upper bounds allow for the time taken on a busy machine.
    let started = Instant::now();
    let mut ok = 0;
    let (status, headers) = loop {
        let (s, _, h) = api(&app, "GET", "/api/v1/styles", Some(&secret), None, &[]).await;
        if s != 200 || ok > 200 {
            break (s, h);
        }
        ok += 1;
    };
    assert_eq!(status, 429, "per-key limit");
    let refilled = |per_sec: f64| (started.elapsed().as_secs_f64() * per_sec).ceil() as i64;
    assert!(ok >= 120 && ok <= 125 + refilled(2.0), "per key: {ok} requests before 429 in {:?}", started.elapsed());
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Per IP: 600 in all (the key's requests counted too), then 429 even for unknown keys.
    let mut from_ip = ok + 1;
    let (status, headers) = loop {
        let (s, _, h) = api(&app, "GET", "/api/v1/balance", Some("dk_guess"), None, &[]).await;
        if s == 429 || from_ip > 800 {
            break (s, h);
        }
        assert_eq!(s, 401);
        from_ip += 1;
    };
    assert_eq!(status, 429, "per-IP limit");
    assert!(from_ip >= 600 && from_ip <= 640 + refilled(10.0), "per IP: {from_ip} requests before 429 in {:?}", started.elapsed());
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Sign-in per address: 5 tries at once, then 429 with Retry-After (at most 3 minutes).
    let sign_in = |email: String| {
        let base = app.base.clone();
        async move {
            let r = client().post(format!("{base}/api/sign_in")).header("accept", "application/json").form(&[("email", email.as_str()), ("password", "not the password")]).send().await.unwrap();
            (r.status().as_u16(), r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()))
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sign_in("limits@example.com".into()).await);
    }
    assert_eq!(statuses.iter().map(|s| s.0).collect::<Vec<_>>(), [401, 401, 401, 401, 401, 429]);
    assert!(statuses[5].1.is_some_and(|r| (1..=180).contains(&r)), "Retry-After on the sign-in 429: {:?}", statuses[5]);
    // Per IP: 60 attempts an hour (sign-up and the six above included), then 429.
    let mut attempts = 7;
    let last = loop {
        let (s, retry) = sign_in(format!("nobody{attempts}@example.com")).await;
        if s == 429 || attempts > 80 {
            break (s, retry);
        }
        attempts += 1;
    };
    assert_eq!(last.0, 429, "per-IP sign-in limit");
    assert!((55..=61).contains(&attempts), "per IP: {attempts} attempts before 429");
    assert!(last.1.is_some_and(|r| r >= 1), "Retry-After: {last:?}");
}

/// Every rejection, axum's extractors' included, answers the documented error body; the
/// document states the list's query parameters and the error statuses.
pub async fn rejections_use_the_documented_error_body(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let c = client();
    app.sign_up(&c, "shape@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let raw = |method: &str, path: &str, content_type: &str, body: &'static str| {
        let req = reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", app.base)).bearer_auth(&secret).header("content-type", content_type).body(body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            (status, ct, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for (path, openai) in [("/api/v1/uploads", false), ("/v1/images/edits", true), ("/api/v1/generations", false)] {
        let (s, ct, v) = raw("POST", path, "text/plain", "not a form").await;
        assert_eq!((s, ct.as_str()), (400, "application/json"), "{path}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {v}");
        assert_eq!(v["error"]["type"].is_string(), openai, "{path}: OpenAI's shape only under /v1: {v}");
        let (s, ct, v) = raw("POST", path, "multipart/form-data; boundary=x", "--x\r\nbroken").await;
        assert_eq!((s, ct.as_str()), (400, "application/json"), "{path} with a broken form: {v}");
    }
    for query in ["limit=abc", "limit=0", "limit=101", "status=bogus"] {
        let (s, v, _) = api(&app, "GET", &format!("/api/v1/generations?{query}"), Some(&secret), None, &[]).await;
        assert_eq!((s, error_code(&v)), (400, "invalid_request"), "{query}: {v}");
    }
    assert_eq!(api(&app, "GET", "/api/v1/generations?limit=5&status=queued", Some(&secret), None, &[]).await.0, 200);
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": " " })), &[]).await;
    assert_eq!((s, v["error"]["type"].as_str()), (400, Some("invalid_request_error")), "an empty prompt: {v}");
    // Titles are stored without invisible characters (a bidi override cannot reorder them).
    let image = base64::engine::general_purpose::STANDARD.encode(small_photo(96));
    let (s, t, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "image": image, "prompt": "\u{202E}a quiet\u{200B} pier" })), &[]).await;
    assert_eq!((s, t["input"]["prompt"].as_str()), (201, Some("a quiet pier")), "{t}");

    let (_, doc, _) = api(&app, "GET", "/api/v1/openapi.json", None, None, &[]).await;
    let params = doc.pointer("/paths/~1api~1v1~1generations/get/parameters").and_then(Value::as_array).expect("list parameters");
    for name in ["cursor", "limit", "status"] {
        let p = params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{name} documented"));
        assert_eq!((p["in"].as_str(), p["required"].as_bool().unwrap_or(false)), (Some("query"), false), "{name}: {p}");
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for status in ["400", "401", "429", "500"] {
                assert!(op["responses"].get(status).is_some(), "{method} {path} documents {status}");
            }
        }
    }
    let one_of = doc.pointer("/components/schemas/CreateGeneration/oneOf").expect("image xor upload_id");
    assert_eq!(one_of.as_array().unwrap().len(), 2);
}

on_both!(
    rejections_use_the_documented_error_body,
    default_rate_limits_answer_429_with_retry_after,
    per_ip_rate_limit_applies_before_the_key_check,
    api_keys_scopes_caps_and_revocation,
    api_generation_lifecycle,
    api_idempotency_under_concurrency,
    webhooks_signed_retried_and_delivered_once,
    openai_images_endpoints,
    openapi_document_and_rate_limits,
    remote_provider_templates_through_the_api,
);
