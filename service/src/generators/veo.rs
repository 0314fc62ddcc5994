//! `veo`: Google's Veo image→video models through the Gemini API's long-running predictions
//! (Gemini API reference, "Generate videos with Veo": `POST
//! {base}/v1beta/models/{model}:predictLongRunning`, then `GET {base}/v1beta/{operation name}`
//! until `done`, then the file).
//!
//! Sent: `x-goog-api-key` (the operator's key, to the API's own host only) and
//! `{"instances": [{"prompt", "image": {"bytesBase64Encoded": <the cleaned photo as PNG>,
//! "mimeType": "image/png"}}], "parameters": {"durationSeconds", "aspectRatio": "16:9" |
//! "9:16" (the photo's orientation), "personGeneration": "allow_adult"}}`. No user field:
//! nothing about the member leaves.
//! Answer: an operation `{"name"}`; polled every `DARKROOM_VEO_POLL_MS` until `done`, up to
//! `DARKROOM_VEO_WAIT_SECS`. Done: `error` (a failure) or
//! `response.generateVideoResponse.generatedSamples[0].video.uri`, downloaded at once; no
//! sample with `raiMediaFilteredCount` > 0 is the provider's safety filter (a moderation
//! rejection, charged). Errors while creating or polling are Google's error model, read as
//! for the `gemini` generator (an exhausted quota is not retried).

use std::time::{Duration, Instant};

use base64::Engine as _;
use darkroom_contract::{Category, Mode};
use futures::future::BoxFuture;
use serde_json::json;

use super::remote::{self, Breaker, RemoteSettings};
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::video_work::VideoWork;
use crate::Config;

/// This generator's id.
pub const ID: &str = "veo";

pub struct Veo {
    client: reqwest::Client,
    base: String,
    key: String,
    model: String,
    poll: Duration,
    wait: Duration,
    max_secs: f64,
    video: VideoWork,
    settings: RemoteSettings,
    breaker: Breaker,
    caps: Capabilities,
}

impl Veo {
    /// The generator when the operator set a Gemini API key (`None` otherwise).
    pub fn from_config(config: &Config, settings: &RemoteSettings) -> Option<Self> {
        let key = config.gemini_api_key.clone()?;
        let caps = super::clip_capabilities(Mode::ImageToVideo, Need::Optional, 1280, true);
        Some(Self {
            client: remote::client(settings).ok()?,
            base: config.gemini_api_base.trim_end_matches('/').to_string(),
            key,
            model: config.veo_model.clone(),
            poll: Duration::from_millis(config.veo_poll_ms.max(50)),
            wait: Duration::from_secs(config.veo_wait_secs.max(1)),
            max_secs: config.video_max_secs as f64,
            video: VideoWork::from_config(config),
            settings: settings.clone(),
            breaker: Breaker::new(settings),
            caps,
        })
    }

    /// The clip's length in whole seconds: the job's `seconds` (default 8, Veo's usual), 1 to
    /// the operator's limit. Errors: [`GenerateError::BadInput`].
    fn seconds(&self, params: &serde_json::Value) -> Result<u64, GenerateError> {
        super::clip_seconds(params, 8.0, self.max_secs)
    }

    /// Google's error answer: the account's (401/403/429: the next generator) or a failure.
    fn refused_account(status: u16, body: &[u8]) -> GenerateError {
        if matches!(status, 401 | 403 | 429) {
            tracing::error!(provider = ID, status, "the provider refused the operator's account");
            return GenerateError::Unavailable(format!("{ID}: HTTP {status} (account)"));
        }
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let message: String = v["error"]["message"].as_str().unwrap_or("").chars().take(200).collect();
        GenerateError::Failed(format!("{ID}: HTTP {status}: {message}"))
    }

    async fn get_json(&self, url: &str, with_key: bool) -> Result<remote::Answer, GenerateError> {
        remote::send(
            ID,
            &self.settings,
            &self.breaker,
            || {
                let r = self.client.get(url);
                if with_key { r.header("x-goog-api-key", &self.key) } else { r }
            },
            super::gemini::hint,
        )
        .await
    }
}

impl Generator for Veo {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError> {
        self.seconds(params).map(|_| ())
    }

    fn breaker(&self) -> Option<&Breaker> {
        Some(&self.breaker)
    }

    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let secs = self.seconds(params)?;
            let mut inputs = inputs;
            let portrait = inputs.photo.as_ref().is_some_and(|p| p.height() > p.width());
            let png = remote::photo_png(&mut inputs, Need::Optional).await?.ok_or_else(|| GenerateError::BadInput("a photo is needed".into()))?;
            let body = json!({
                "instances": [{
                    "prompt": inputs.prompt,
                    "image": { "bytesBase64Encoded": base64::engine::general_purpose::STANDARD.encode(&png), "mimeType": "image/png" },
                }],
                "parameters": { "durationSeconds": secs, "aspectRatio": if portrait { "9:16" } else { "16:9" }, "personGeneration": "allow_adult" },
            });
            progress(0.05);
            let url = format!("{}/v1beta/models/{}:predictLongRunning", self.base, self.model);
            let answer = remote::send(ID, &self.settings, &self.breaker, || self.client.post(&url).header("x-goog-api-key", &self.key).json(&body), super::gemini::hint).await?;
            if !(200..300).contains(&answer.status) {
                return Err(Self::refused_account(answer.status, &answer.body));
            }
            let op: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed operation: {e}")))?;
            let name = op["name"].as_str().filter(|n| !n.is_empty() && !n.contains("..") && !n.starts_with('/')).ok_or_else(|| GenerateError::Failed(format!("{ID}: no operation name")))?.to_string();
            let deadline = Instant::now() + self.wait;
            let mut op = op;
            while op["done"].as_bool() != Some(true) {
                if Instant::now() >= deadline {
                    return Err(GenerateError::Failed(format!("{ID}: the operation did not finish in {} s", self.wait.as_secs())));
                }
                progress(0.2);
                tokio::time::sleep(self.poll).await;
                let answer = self.get_json(&format!("{}/v1beta/{name}", self.base), true).await?;
                if !(200..300).contains(&answer.status) {
                    return Err(Self::refused_account(answer.status, &answer.body));
                }
                op = serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed operation: {e}")))?;
            }
            if let Some(message) = op["error"]["message"].as_str() {
                return Err(GenerateError::Failed(format!("{ID}: the operation failed: {}", message.chars().take(200).collect::<String>())));
            }
            let response = &op["response"]["generateVideoResponse"];
            let Some(uri) = response["generatedSamples"][0]["video"]["uri"].as_str() else {
                return Err(if response["raiMediaFilteredCount"].as_u64().unwrap_or(0) > 0 {
                    tracing::info!(provider = ID, reasons = %response["raiMediaFilteredReasons"], "the provider's safety filter withheld the video");
                    GenerateError::Refused(Category::Other)
                } else {
                    GenerateError::Failed(format!("{ID}: no video in the answer"))
                });
            };
            if !(uri.starts_with("https://") || uri.starts_with("http://")) {
                return Err(GenerateError::Failed(format!("{ID}: the video's address is not a URL")));
            }
            // The key goes to the API's own host only.
            let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin().ascii_serialization());
            let same_host = origin(uri).is_some() && origin(uri) == origin(&self.base);
            let file = self.get_json(uri, same_host).await?;
            if !(200..300).contains(&file.status) {
                return Err(GenerateError::Failed(format!("{ID}: the video file answered HTTP {}", file.status)));
            }
            progress(1.0);
            let (video, side, bytes) = (self.video.clone(), self.caps.max_side, file.body);
            let (image, clip) = tokio::task::spawn_blocking(move || super::clip_from_file(&bytes, side, &video))
                .await
                .map_err(|e| GenerateError::Failed(e.to_string()))??;
            Ok(Output { image, created: false, made_by: format!("google {}", self.model), clip: Some(clip) })
        })
    }
}
