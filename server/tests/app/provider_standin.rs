//! Stand-ins for the image providers, answering with their documented shapes:
//! - OpenAI Images' edits endpoint (`POST /v1/images/edits`, multipart) and create endpoint
//!   (`POST /v1/images/generations`, JSON: `model`, `prompt`, `n`, `size`, `user`):
//!   `{"created", "data": [{"b64_json"}]}`, errors `{"error": {"message", "type", "code"}}`;
//! - Gemini's `POST /v1beta/models/{model}:generateContent` (JSON, `x-goog-api-key`):
//!   `{"candidates": [{"content": {"parts": [{"text"}, {"inlineData": {"mimeType", "data"}}]},
//!   "finishReason"}]}`, errors `{"error": {"code", "message", "status"}}`;
//! - OpenRouter's `POST /api/v1/chat/completions` (JSON, `modalities`): the image as a data URL
//!   in `choices[0].message.images[].image_url.url`, errors `{"error": {"code", "message",
//!   "metadata"}}` (moderation: 403 with `metadata.reasons`);
//! - an AUTOMATIC1111 server's `POST /sdapi/v1/img2img` and `/sdapi/v1/txt2img` (JSON, basic
//!   auth): `{"images": [<base64 PNG>], "parameters", "info"}`.
//!
//! An edit answers the photo it received, inverted; a request without a photo (text→image)
//! answers an image painted from the prompt's hash at the size asked for.
//!
//! Each request takes the next [`Reply`] from its provider's script (success once the script is
//! empty) and is recorded with what it carried, so tests check what left the server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::json;

pub const KEY: &str = "sk-standin-openai";

/// How the stand-in answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with the photo it received, inverted, as base64 PNG.
    Ok,
    /// A status with OpenAI's error body (`code`), and `Retry-After` seconds if given.
    Error(u16, &'static str, Option<u64>),
    /// 200 with a body that is not the documented shape.
    Malformed,
    /// Never answers (the client's timeout must end it).
    Hang,
    /// Gemini: a candidate with this `finishReason` and no image (the output withheld).
    Withheld(&'static str),
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub authorization: String,
    /// Every header, lowercase names (to check no other provider's key leaks).
    pub headers: Vec<(String, String)>,
    /// OpenAI: the text fields (`model`, `prompt`, `n`, `user`); Gemini: `path` and `body`
    /// (the JSON as sent).
    pub fields: Vec<(String, String)>,
    /// The `image` file's bytes.
    pub image: Vec<u8>,
}

#[derive(Default)]
pub struct Script {
    pub replies: VecDeque<Reply>,
    pub received: Vec<Received>,
}

#[derive(Clone)]
pub struct OpenAiStandIn {
    pub base: String,
    pub script: Arc<Mutex<Script>>,
}

impl OpenAiStandIn {
    pub fn push(&self, replies: &[Reply]) {
        self.script.lock().unwrap().replies.extend(replies.iter().cloned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }
}

pub async fn spawn() -> OpenAiStandIn {
    let script = Arc::new(Mutex::new(Script::default()));
    let router = Router::new().route("/v1/images/edits", post(edits)).route("/v1/images/generations", post(generations)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    OpenAiStandIn { base, script }
}

async fn edits(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, mut mp: Multipart) -> Response {
    let mut rec = Received {
        at: Instant::now(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
        headers: header_list(&headers),
        fields: vec![],
        image: vec![],
    };
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        if name == "image" {
            rec.image = field.bytes().await.unwrap().to_vec();
        } else {
            rec.fields.push((name, field.text().await.unwrap()));
        }
    }
    let image = rec.image.clone();
    let reply = {
        let mut s = script.lock().unwrap();
        s.received.push(rec);
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    if rec_unauthorized(&headers) {
        return error(401, "invalid_api_key", None);
    }
    match reply {
        Reply::Ok => {
            let Some(png) = inverted(&image) else { return error(400, "invalid_image", None) };
            let b64 = base64::engine::general_purpose::STANDARD.encode(png);
            Json(json!({ "created": 1_700_000_000, "data": [{ "b64_json": b64 }], "usage": { "total_tokens": 100 } })).into_response()
        }
        Reply::Error(status, code, after) => error(status, code, after),
        Reply::Malformed => (StatusCode::OK, "<html>not the images API</html>").into_response(),
        Reply::Hang => hang().await,
        Reply::Withheld(_) => error(500, "not_an_openai_reply", None),
    }
}

/// An edit's answer: the photo received, inverted, as PNG (`None`: not an image).
pub fn inverted(photo: &[u8]) -> Option<Vec<u8>> {
    let mut img = image::load_from_memory(photo).ok()?.into_rgb8();
    image::imageops::invert(&mut img);
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    Some(png)
}

/// A PNG of `w`×`h` painted from the prompt's bytes (a stand-in's "generated" image).
pub fn painted(prompt: &str, w: u32, h: u32) -> Vec<u8> {
    let seed = prompt.bytes().fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w.max(1)) as u8 ^ seed as u8, (y * 255 / h.max(1)) as u8 ^ (seed >> 8) as u8, ((x + y) % 256) as u8 ^ (seed >> 16) as u8])
    });
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    png
}

async fn generations(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let fields = ["model", "prompt", "n", "size", "user"]
        .iter()
        .filter_map(|k| v.get(*k).map(|x| (k.to_string(), x.as_str().map(String::from).unwrap_or_else(|| x.to_string()))))
        .collect();
    let reply = {
        let mut s = script.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
            headers: header_list(&headers),
            fields,
            image: vec![],
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    if rec_unauthorized(&headers) {
        return error(401, "invalid_api_key", None);
    }
    let (Some(prompt), Some(model)) = (v["prompt"].as_str(), v["model"].as_str()) else { return error(400, "missing_required_parameter", None) };
    let (w, h) = match v["size"].as_str().unwrap_or("auto") {
        "auto" | "1024x1024" => (1024, 1024),
        "1536x1024" => (1536, 1024),
        "1024x1536" => (1024, 1536),
        _ => return error(400, "invalid_value", None),
    };
    match reply {
        Reply::Ok => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(painted(&format!("{model} {prompt}"), w, h));
            Json(json!({ "created": 1_700_000_000, "data": [{ "b64_json": b64 }], "usage": { "total_tokens": 100 } })).into_response()
        }
        Reply::Error(status, code, after) => error(status, code, after),
        Reply::Malformed => (StatusCode::OK, "<html>not the images API</html>").into_response(),
        Reply::Hang => hang().await,
        Reply::Withheld(_) => error(500, "not_an_openai_reply", None),
    }
}

async fn hang() -> Response {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect()
}

pub const GEMINI_KEY: &str = "AIza-standin-gemini";

/// The Gemini stand-in (its own script).
pub async fn spawn_gemini() -> OpenAiStandIn {
    let script = Arc::new(Mutex::new(Script::default()));
    let router = Router::new().route("/v1beta/models/{call}", post(generate_content)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    OpenAiStandIn { base, script }
}

async fn generate_content(State(script): State<Arc<Mutex<Script>>>, axum::extract::Path(call): axum::extract::Path<String>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let image = v["contents"][0]["parts"].as_array().into_iter().flatten().find_map(|p| p["inlineData"]["data"].as_str()).unwrap_or("");
    let image = base64::engine::general_purpose::STANDARD.decode(image).unwrap_or_default();
    let reply = {
        let mut s = script.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
            headers: header_list(&headers),
            fields: vec![("path".into(), call.clone()), ("body".into(), body.clone())],
            image: image.clone(),
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    // Google's error model: a wait is a `google.rpc.RetryInfo` detail (no Retry-After header).
    let google_error_after = |status: u16, what: &str, delay: Option<u64>| {
        let mut body = json!({ "error": { "code": status, "message": format!("stand-in {what}"), "status": what } });
        if let Some(d) = delay {
            body["error"]["details"] = json!([
                { "@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{ "subject": "project", "description": "per-minute" }] },
                { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{d}s") },
            ]);
        }
        (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
    };
    let google_error = |status: u16, what: &str| google_error_after(status, what, None);
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(GEMINI_KEY) {
        return google_error(403, "PERMISSION_DENIED");
    }
    if !call.ends_with(":generateContent") {
        return google_error(404, "NOT_FOUND");
    }
    match reply {
        Reply::Ok => {
            let text = v["contents"][0]["parts"][0]["text"].as_str().unwrap_or("").to_string();
            let png = if image.is_empty() {
                painted(&text, 1024, 1024)
            } else {
                let Some(png) = inverted(&image) else { return google_error(400, "INVALID_ARGUMENT") };
                png
            };
            let data = base64::engine::general_purpose::STANDARD.encode(png);
            Json(json!({
                "candidates": [{ "content": { "role": "model", "parts": [
                    { "text": "Here is the edited image." },
                    { "inlineData": { "mimeType": "image/png", "data": data } },
                ]}, "finishReason": "STOP", "index": 0 }],
                "usageMetadata": { "promptTokenCount": 10, "totalTokenCount": 20 },
                "modelVersion": "gemini-2.5-flash-image",
            }))
            .into_response()
        }
        Reply::Withheld("PROMPT") => Json(json!({ "promptFeedback": { "blockReason": "SAFETY" } })).into_response(),
        Reply::Withheld(reason) => Json(json!({ "candidates": [{ "content": { "parts": [] }, "finishReason": reason }] })).into_response(),
        Reply::Error(status, what, delay) => google_error_after(status, what, delay),
        Reply::Malformed => (StatusCode::OK, "{\"candidates\": \"no\"}").into_response(),
        Reply::Hang => hang().await,
    }
}

fn rec_unauthorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
}

fn error(status: u16, code: &str, retry_after: Option<u64>) -> Response {
    let body = json!({ "error": { "message": format!("stand-in error {code}"), "type": "invalid_request_error", "param": null, "code": code } });
    let mut resp = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    if let Some(s) = retry_after {
        resp.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
    }
    resp
}

pub const OPENROUTER_KEY: &str = "sk-or-standin";

/// The OpenRouter stand-in (its own script). `Reply::Error(403, "moderation", _)` answers
/// OpenRouter's moderation error; `Reply::Withheld(r)` a choice with `finish_reason` `r` and
/// no image.
pub async fn spawn_openrouter() -> OpenAiStandIn {
    let script = Arc::new(Mutex::new(Script::default()));
    let router = Router::new().route("/api/v1/chat/completions", post(chat_completions)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    OpenAiStandIn { base, script }
}

async fn chat_completions(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let url = v["messages"][0]["content"].as_array().into_iter().flatten().find_map(|p| p["image_url"]["url"].as_str()).unwrap_or("");
    let image = url.split_once(";base64,").map(|(_, d)| base64::engine::general_purpose::STANDARD.decode(d).unwrap_or_default()).unwrap_or_default();
    let reply = {
        let mut s = script.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
            headers: header_list(&headers),
            fields: vec![("body".into(), body.clone())],
            image: image.clone(),
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    let or_error = |status: u16, message: &str, metadata: serde_json::Value| {
        (StatusCode::from_u16(status).unwrap(), Json(json!({ "error": { "code": status, "message": message, "metadata": metadata } }))).into_response()
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {OPENROUTER_KEY}")) {
        return or_error(401, "No auth credentials found", json!(null));
    }
    if v["modalities"] != json!(["image", "text"]) {
        return or_error(400, "this model needs modalities", json!(null));
    }
    match reply {
        Reply::Ok => {
            let png = if image.is_empty() {
                painted(v["messages"][0]["content"][0]["text"].as_str().unwrap_or(""), 1024, 1024)
            } else {
                let Some(png) = inverted(&image) else { return or_error(400, "bad image", json!(null)) };
                png
            };
            let url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
            Json(json!({
                "id": "gen-standin", "object": "chat.completion", "model": v["model"],
                "choices": [{ "index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": "Here it is.",
                    "images": [{ "type": "image_url", "image_url": { "url": url } }],
                }}],
            }))
            .into_response()
        }
        Reply::Error(403, "moderation", _) => or_error(
            403,
            "Input was flagged",
            json!({ "reasons": ["sexual"], "flagged_input": "…", "provider_name": "standin", "model_slug": v["model"] }),
        ),
        Reply::Error(status, what, _) => or_error(status, what, json!(null)),
        Reply::Withheld(reason) => Json(json!({ "choices": [{ "finish_reason": reason, "message": { "role": "assistant", "content": "" } }] })).into_response(),
        Reply::Malformed => (StatusCode::OK, "[]").into_response(),
        Reply::Hang => hang().await,
    }
}

/// The AUTOMATIC1111 stand-in's `--api-auth`.
pub const A1111_AUTH: (&str, &str) = ("sd", "sd-secret");

/// The AUTOMATIC1111 stand-in (its own script).
pub async fn spawn_a1111() -> OpenAiStandIn {
    let script = Arc::new(Mutex::new(Script::default()));
    let router = Router::new().route("/sdapi/v1/img2img", post(img2img)).route("/sdapi/v1/txt2img", post(img2img)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    OpenAiStandIn { base, script }
}

async fn img2img(State(script): State<Arc<Mutex<Script>>>, uri: axum::http::Uri, headers: HeaderMap, body: String) -> Response {
    let txt2img = uri.path().ends_with("/txt2img");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let image = base64::engine::general_purpose::STANDARD.decode(v["init_images"][0].as_str().unwrap_or("")).unwrap_or_default();
    let reply = {
        let mut s = script.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
            headers: header_list(&headers),
            fields: vec![("body".into(), body.clone()), ("path".into(), uri.path().to_string())],
            image: image.clone(),
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", A1111_AUTH.0, A1111_AUTH.1)));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "detail": "Incorrect username or password" }))).into_response();
    }
    match reply {
        // The server's schemas: txt2img takes no init images, img2img needs them.
        Reply::Ok if txt2img != v.get("init_images").is_none() => {
            (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": "init_images do not match the endpoint" }))).into_response()
        }
        Reply::Ok if txt2img => {
            let (w, h) = (v["width"].as_u64().unwrap_or(512) as u32, v["height"].as_u64().unwrap_or(512) as u32);
            let b64 = base64::engine::general_purpose::STANDARD.encode(painted(v["prompt"].as_str().unwrap_or(""), w, h));
            Json(json!({ "images": [b64], "parameters": v, "info": "{\"seed\": 42}" })).into_response()
        }
        Reply::Ok => {
            let Ok(img) = image::load_from_memory(&image) else { return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": "bad image" }))).into_response() };
            // The model's output at the requested size.
            let (w, h) = (v["width"].as_u64().unwrap_or(512) as u32, v["height"].as_u64().unwrap_or(512) as u32);
            let mut img = image::imageops::resize(&img.into_rgb8(), w, h, image::imageops::FilterType::Triangle);
            image::imageops::invert(&mut img);
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(png);
            Json(json!({ "images": [b64], "parameters": v, "info": "{\"seed\": 42}" })).into_response()
        }
        Reply::Error(status, what, _) => (StatusCode::from_u16(status).unwrap(), Json(json!({ "error": what, "detail": what }))).into_response(),
        Reply::Malformed | Reply::Withheld(_) => Json(json!({ "images": [] })).into_response(),
        Reply::Hang => hang().await,
    }
}

/// The Replicate stand-in's API token and webhook signing secret (`whsec_` + base64).
pub const REPLICATE_TOKEN: &str = "r8_standin_token";
pub const REPLICATE_SECRET: &str = "whsec_c3RhbmRpbi1yZXBsaWNhdGUtc2lnbmluZy1rZXk=";

/// How the Replicate stand-in tells of a finished prediction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tell {
    /// No webhook: only polling finds out.
    Nothing,
    /// A webhook signed with [`REPLICATE_SECRET`].
    Signed,
    /// A webhook with a wrong signature (then nothing).
    Forged,
}

/// Replicate's predictions API: `POST /v1/models/{owner}/{name}/predictions` answers 201 with a
/// `starting` prediction, which ends after `finish_ms` (`succeeded` with an output file URL
/// on a second, "delivery" address; or, for `Reply::Withheld(error)`, `failed` with that
/// error); `GET /v1/predictions/{id}` answers its state; the webhook named in the request is
/// called as `tell` says, and the status our server answered is kept.
#[derive(Clone)]
pub struct ReplicateStandIn {
    pub base: String,
    pub script: Arc<Mutex<Script>>,
    pub tell: Arc<Mutex<Tell>>,
    pub finish_ms: Arc<Mutex<u64>>,
    /// What our server answered each webhook.
    pub webhook_answers: Arc<Mutex<Vec<u16>>>,
    /// Downloads of output files, with whether they carried an `Authorization` header.
    pub downloads: Arc<Mutex<Vec<bool>>>,
}

#[derive(Clone)]
struct ReplicateState {
    standin: ReplicateStandIn,
    delivery: String,
    predictions: Arc<Mutex<std::collections::HashMap<String, serde_json::Value>>>,
}

impl ReplicateStandIn {
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    pub fn push(&self, replies: &[Reply]) {
        self.script.lock().unwrap().replies.extend(replies.iter().cloned());
    }
}

pub async fn spawn_replicate() -> ReplicateStandIn {
    use axum::routing::get;
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let files = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let standin = ReplicateStandIn {
        base: format!("http://{}", api.local_addr().unwrap()),
        script: Arc::new(Mutex::new(Script::default())),
        tell: Arc::new(Mutex::new(Tell::Signed)),
        finish_ms: Arc::new(Mutex::new(300)),
        webhook_answers: Arc::new(Mutex::new(vec![])),
        downloads: Arc::new(Mutex::new(vec![])),
    };
    let state = ReplicateState {
        standin: standin.clone(),
        delivery: format!("http://{}", files.local_addr().unwrap()),
        predictions: Arc::new(Mutex::new(Default::default())),
    };
    let router = Router::new()
        .route("/v1/models/{owner}/{name}/predictions", post(create_prediction))
        .route("/v1/predictions/{id}", get(get_prediction))
        .with_state(state.clone());
    let delivery = Router::new().route("/{file}", get(deliver)).with_state(state);
    tokio::spawn(async move { axum::serve(api, router).await.unwrap() });
    tokio::spawn(async move { axum::serve(files, delivery).await.unwrap() });
    standin
}

fn replicate_unauthorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {REPLICATE_TOKEN}"))
}

async fn create_prediction(
    State(st): State<ReplicateState>,
    axum::extract::Path((owner, name)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    // Image models take `input_image`; video models (image→video) `image` and `duration`.
    let video = v["input"]["image"].is_string();
    let image = v["input"]["input_image"].as_str().or(v["input"]["image"].as_str()).and_then(|u| u.split_once(";base64,")).map(|(_, d)| base64::engine::general_purpose::STANDARD.decode(d).unwrap_or_default()).unwrap_or_default();
    let reply = {
        let mut s = st.standin.script.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
            headers: header_list(&headers),
            fields: vec![("path".into(), format!("{owner}/{name}")), ("body".into(), body.clone())],
            image: image.clone(),
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    if replicate_unauthorized(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401 }))).into_response();
    }
    let Some(prompt) = v["input"]["prompt"].as_str().map(String::from) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "title": "Input validation failed", "detail": "prompt is required", "status": 422 }))).into_response();
    };
    let error = match reply {
        Reply::Error(status, what, _) => return (StatusCode::from_u16(status).unwrap(), Json(json!({ "title": what, "detail": what, "status": status }))).into_response(),
        Reply::Malformed => return (StatusCode::CREATED, "{\"id\": 5}").into_response(),
        Reply::Hang => return hang().await,
        Reply::Withheld(error) => Some(error),
        Reply::Ok => None,
    };
    let id = format!("p{}", darkroom_store::new_id().to_lowercase());
    let prediction = json!({
        "id": id, "model": format!("{owner}/{name}"), "version": "hidden", "input": v["input"], "logs": "", "output": null,
        "data_removed": false, "error": null, "status": "starting", "created_at": "2026-12-02T08:00:00.000Z",
        "urls": { "get": format!("{}/v1/predictions/{id}", st.standin.base), "cancel": format!("{}/v1/predictions/{id}/cancel", st.standin.base) },
    });
    st.predictions.lock().unwrap().insert(id.clone(), prediction.clone());
    // The file to deliver: the photo inverted, or a picture painted from the prompt.
    let png = if image.is_empty() {
        painted(&prompt, 512, 512)
    } else {
        inverted(&image).unwrap()
    };
    let file = if video {
        // A clip of `duration` seconds at 8 fps: the inverted photo, made by ffmpeg.
        let secs = v["input"]["duration"].as_u64().unwrap_or(5);
        let still = std::env::temp_dir().join(format!("replicate-standin-{id}-still.png"));
        std::fs::write(&still, &png).unwrap();
        let out = std::env::temp_dir().join(format!("replicate-standin-{id}.mp4"));
        let ok = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "8", "-t", &secs.to_string(), "-i"])
            .arg(&still)
            .args(["-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-metadata", "title=standin", "-movflags", "+faststart"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(ok.success());
        format!("{id}.mp4")
    } else {
        std::fs::write(std::env::temp_dir().join(format!("replicate-standin-{id}.png")), png).unwrap();
        format!("{id}.png")
    };
    let webhook = v["webhook"].as_str().map(String::from);
    let st2 = st.clone();
    tokio::spawn(async move {
        let wait = *st2.standin.finish_ms.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let done = {
            let mut all = st2.predictions.lock().unwrap();
            let p = all.get_mut(&id).unwrap();
            match error {
                None => {
                    p["status"] = "succeeded".into();
                    p["output"] = if file.ends_with(".mp4") { json!(format!("{}/{file}", st2.delivery)) } else { json!([format!("{}/{file}", st2.delivery)]) };
                }
                Some(e) => {
                    p["status"] = "failed".into();
                    p["error"] = e.into();
                }
            }
            p["completed_at"] = "2026-12-02T08:00:01.000Z".into();
            p.clone()
        };
        let tell = *st2.standin.tell.lock().unwrap();
        if let (Some(url), true) = (webhook, tell != Tell::Nothing) {
            let body = done.to_string();
            let msg_id = format!("msg_{id}");
            let ts = darkroom_service::sharing::now_secs() as i64;
            let mut sig = darkroom_service::webhooks::sign(REPLICATE_SECRET, &msg_id, ts, body.as_bytes()).unwrap();
            if tell == Tell::Forged {
                sig = darkroom_service::webhooks::sign("whsec_Zm9yZ2VkLWtleS1mb3ItdGVzdHM=", &msg_id, ts, body.as_bytes()).unwrap();
            }
            let r = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", msg_id)
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            st2.standin.webhook_answers.lock().unwrap().push(r.status().as_u16());
        }
    });
    (StatusCode::CREATED, Json(prediction)).into_response()
}

async fn get_prediction(State(st): State<ReplicateState>, axum::extract::Path(id): axum::extract::Path<String>, headers: HeaderMap) -> Response {
    st.standin.script.lock().unwrap().received.push(Received {
        at: Instant::now(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
        headers: header_list(&headers),
        fields: vec![("path".into(), format!("GET {id}"))],
        image: vec![],
    });
    if replicate_unauthorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match st.predictions.lock().unwrap().get(&id) {
        Some(p) => Json(p.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "detail": "Not found." }))).into_response(),
    }
}

async fn deliver(State(st): State<ReplicateState>, axum::extract::Path(file): axum::extract::Path<String>, headers: HeaderMap) -> Response {
    st.standin.downloads.lock().unwrap().push(headers.contains_key("authorization"));
    let mime = if file.ends_with(".mp4") { "video/mp4" } else { "image/png" };
    match std::fs::read(std::env::temp_dir().join(format!("replicate-standin-{file}"))) {
        Ok(bytes) => ([("content-type", mime)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A stand-in for Veo on the Gemini API: `POST /v1beta/models/{model}:predictLongRunning`
/// (`x-goog-api-key`; `instances[0].prompt` and `.image.bytesBase64Encoded`,
/// `parameters.durationSeconds`) answers an operation `{"name":
/// "models/{model}/operations/{id}"}`; `GET /v1beta/models/{model}/operations/{id}` answers
/// `{"name", "done": false}` until `finish_ms` passed, then `done` with
/// `response.generateVideoResponse.generatedSamples[0].video.uri` (a `files/{id}:download`
/// URL on the same host, which wants the key) or, for `Reply::Withheld(reason)`, no sample
/// and `raiMediaFilteredCount: 1` with the reason. The video is the photo inverted, made into
/// a clip of `durationSeconds` at 8 fps by ffmpeg.
#[derive(Clone)]
pub struct VeoStandIn {
    pub base: String,
    pub script: Arc<Mutex<Script>>,
    /// Operation reads and file downloads, as `(path, carried the key)`.
    pub reads: Arc<Mutex<Vec<(String, bool)>>>,
    operations: Arc<Mutex<std::collections::HashMap<String, (Instant, Option<&'static str>)>>>,
}

impl VeoStandIn {
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    pub fn push(&self, replies: &[Reply]) {
        self.script.lock().unwrap().replies.extend(replies.iter().cloned());
    }
}

pub async fn spawn_veo() -> VeoStandIn {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let st = VeoStandIn {
        base: format!("http://{}", listener.local_addr().unwrap()),
        script: Arc::new(Mutex::new(Script::default())),
        reads: Arc::new(Mutex::new(vec![])),
        operations: Arc::new(Mutex::new(Default::default())),
    };
    let router = Router::new()
        .route("/v1beta/models/{call}", post(veo_predict))
        .route("/v1beta/models/{model}/operations/{op}", get(veo_operation))
        .route("/v1beta/files/{file}", get(veo_file))
        .with_state(st.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    st
}

fn veo_key_ok(headers: &HeaderMap) -> bool {
    headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) == Some(GEMINI_KEY)
}

async fn veo_predict(State(st): State<VeoStandIn>, axum::extract::Path(call): axum::extract::Path<String>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let image = v["instances"][0]["image"]["bytesBase64Encoded"].as_str().map(|d| base64::engine::general_purpose::STANDARD.decode(d).unwrap_or_default()).unwrap_or_default();
    let reply = {
        let mut s = st.script.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            authorization: String::new(),
            headers: header_list(&headers),
            fields: vec![("path".into(), call.clone()), ("body".into(), body.clone())],
            image: image.clone(),
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    if !veo_key_ok(&headers) {
        return (StatusCode::FORBIDDEN, Json(json!({ "error": { "code": 403, "message": "API key not valid.", "status": "PERMISSION_DENIED" } }))).into_response();
    }
    let Some(model) = call.strip_suffix(":predictLongRunning") else { return StatusCode::NOT_FOUND.into_response() };
    if image.is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": { "code": 400, "message": "image is required", "status": "INVALID_ARGUMENT" } }))).into_response();
    }
    let withheld = match reply {
        Reply::Withheld(reason) => Some(reason),
        Reply::Error(status, what, _) => return (StatusCode::from_u16(status).unwrap(), Json(json!({ "error": { "code": status, "message": what, "status": what } }))).into_response(),
        _ => None,
    };
    let id = darkroom_store::new_id().to_lowercase();
    let secs = v["parameters"]["durationSeconds"].as_u64().unwrap_or(8);
    let still = std::env::temp_dir().join(format!("veo-standin-{id}.png"));
    std::fs::write(&still, inverted(&image).unwrap()).unwrap();
    let out = std::env::temp_dir().join(format!("veo-standin-{id}.mp4"));
    let ok = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "8", "-t", &secs.to_string(), "-i"])
        .arg(&still)
        .args(["-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(ok.success());
    st.operations.lock().unwrap().insert(id.clone(), (Instant::now() + Duration::from_millis(400), withheld));
    Json(json!({ "name": format!("models/{model}/operations/{id}") })).into_response()
}

async fn veo_operation(State(st): State<VeoStandIn>, axum::extract::Path((model, op)): axum::extract::Path<(String, String)>, headers: HeaderMap) -> Response {
    st.reads.lock().unwrap().push((format!("operations/{op}"), veo_key_ok(&headers)));
    if !veo_key_ok(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some((ready, withheld)) = st.operations.lock().unwrap().get(&op).cloned() else { return StatusCode::NOT_FOUND.into_response() };
    let name = format!("models/{model}/operations/{op}");
    if Instant::now() < ready {
        return Json(json!({ "name": name, "done": false })).into_response();
    }
    let response = match withheld {
        Some(reason) => json!({ "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": { "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason] } }),
        None => json!({ "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": { "generatedSamples": [{ "video": { "uri": format!("{}/v1beta/files/{op}:download?alt=media", st.base) } }] } }),
    };
    Json(json!({ "name": name, "done": true, "response": response })).into_response()
}

async fn veo_file(State(st): State<VeoStandIn>, axum::extract::Path(file): axum::extract::Path<String>, headers: HeaderMap) -> Response {
    st.reads.lock().unwrap().push((format!("files/{file}"), veo_key_ok(&headers)));
    if !veo_key_ok(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let id = file.trim_end_matches(":download");
    match std::fs::read(std::env::temp_dir().join(format!("veo-standin-{id}.mp4"))) {
        Ok(bytes) => ([("content-type", "video/mp4")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
