//! A stand-in for OpenAI Images' edits endpoint (`POST /v1/images/edits`, multipart), answering
//! with the documented shapes: `{"created", "data": [{"b64_json"}]}` on success and
//! `{"error": {"message", "type", "code"}}` otherwise. Each request takes the next
//! [`Reply`] from a script (success once the script is empty) and is recorded with what it
//! carried, so tests check what left the server.

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
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub authorization: String,
    /// Text fields: `model`, `prompt`, `n`, `user`.
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
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
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
