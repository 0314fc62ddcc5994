//! Stand-ins for the image providers, answering with their documented shapes:
//! - OpenAI Images' edits endpoint (`POST /v1/images/edits`, multipart):
//!   `{"created", "data": [{"b64_json"}]}`, errors `{"error": {"message", "type", "code"}}`;
//! - Gemini's `POST /v1beta/models/{model}:generateContent` (JSON, `x-goog-api-key`):
//!   `{"candidates": [{"content": {"parts": [{"text"}, {"inlineData": {"mimeType", "data"}}]},
//!   "finishReason"}]}`, errors `{"error": {"code", "message", "status"}}`;
//! - OpenRouter's `POST /api/v1/chat/completions` (JSON, `modalities`): the image as a data URL
//!   in `choices[0].message.images[].image_url.url`, errors `{"error": {"code", "message",
//!   "metadata"}}` (moderation: 403 with `metadata.reasons`);
//! - an AUTOMATIC1111 server's `POST /sdapi/v1/img2img` (JSON, basic auth): `{"images":
//!   [<base64 PNG>], "parameters", "info"}`.
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
    let router = Router::new().route("/v1/images/edits", post(edits)).with_state(script.clone());
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
            let Ok(img) = image::load_from_memory(&image) else { return error(400, "invalid_image", None) };
            let mut img = img.into_rgb8();
            image::imageops::invert(&mut img);
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(png);
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
    let google_error = |status: u16, what: &str| {
        let body = json!({ "error": { "code": status, "message": format!("stand-in {what}"), "status": what } });
        (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
    };
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(GEMINI_KEY) {
        return google_error(403, "PERMISSION_DENIED");
    }
    if !call.ends_with(":generateContent") {
        return google_error(404, "NOT_FOUND");
    }
    match reply {
        Reply::Ok => {
            let Ok(img) = image::load_from_memory(&image) else { return google_error(400, "INVALID_ARGUMENT") };
            let mut img = img.into_rgb8();
            image::imageops::invert(&mut img);
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
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
        Reply::Error(status, what, _) => google_error(status, what),
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
            let Ok(img) = image::load_from_memory(&image) else { return or_error(400, "bad image", json!(null)) };
            let mut img = img.into_rgb8();
            image::imageops::invert(&mut img);
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
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
    let router = Router::new().route("/sdapi/v1/img2img", post(img2img)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    OpenAiStandIn { base, script }
}

async fn img2img(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let image = base64::engine::general_purpose::STANDARD.decode(v["init_images"][0].as_str().unwrap_or("")).unwrap_or_default();
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
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", A1111_AUTH.0, A1111_AUTH.1)));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "detail": "Incorrect username or password" }))).into_response();
    }
    match reply {
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
