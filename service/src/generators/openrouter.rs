//! `openrouter`: image models through OpenRouter's chat completions
//! (`POST {base}/api/v1/chat/completions` with `modalities: ["image", "text"]`; OpenRouter docs
//! "Image Generation" and "Errors").
//!
//! Sent: `Authorization: Bearer` (the operator's key), `X-Title: Darkroom`, and a user message
//! whose content is the prompt and the cleaned photo as a `data:image/png;base64,` URL, the
//! model (operator setting), and `user`: the member's opaque keyed hash.
//! Answer: the image as a data URL in `choices[0].message.images[].image_url.url`. Refusals:
//! 403 with `error.metadata.reasons` (OpenRouter's moderation flagged the input) and
//! `finish_reason: "content_filter"` are moderation rejections; 402 (no credits on the
//! operator's account) is never retried.

use base64::Engine as _;
use darkroom_contract::Category;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

use super::remote::{self, Breaker, RemoteSettings};
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::Config;

/// This generator's id.
pub const ID: &str = "openrouter";

pub struct OpenRouter {
    client: reqwest::Client,
    base: String,
    key: String,
    model: String,
    settings: RemoteSettings,
    breaker: Breaker,
    caps: Capabilities,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    images: Vec<Image>,
}

#[derive(Deserialize)]
struct Image {
    image_url: ImageUrl,
}

#[derive(Deserialize)]
struct ImageUrl {
    url: String,
}

impl OpenRouter {
    /// The generator when the operator set a key (`None` otherwise).
    pub fn from_config(config: &Config, settings: &RemoteSettings) -> Option<Self> {
        let key = config.openrouter_api_key.clone()?;
        let caps = remote::image_capabilities(Need::Required, 2048);
        Some(Self {
            client: remote::client(settings).ok()?,
            base: config.openrouter_api_base.trim_end_matches('/').to_string(),
            key,
            model: config.openrouter_image_model.clone(),
            settings: settings.clone(),
            breaker: Breaker::new(settings),
            caps,
        })
    }
}

impl Generator for OpenRouter {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, _params: &serde_json::Value) -> Result<(), GenerateError> {
        Ok(())
    }

    fn breaker(&self) -> Option<&Breaker> {
        Some(&self.breaker)
    }

    fn generate<'a>(&'a self, _params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let mut inputs = inputs;
            let png = remote::photo_png(&mut inputs, Need::Required).await?;
            let edit = png.is_some();
            let mut content = vec![json!({ "type": "text", "text": inputs.prompt })];
            if let Some(png) = &png {
                let data_url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
                content.push(json!({ "type": "image_url", "image_url": { "url": data_url } }));
            }
            let body = json!({
                "model": self.model,
                "messages": [{ "role": "user", "content": content }],
                "modalities": ["image", "text"],
                "stream": false,
                "user": inputs.user_ref,
            });
            progress(0.1);
            let url = format!("{}/api/v1/chat/completions", self.base);
            let make = || self.client.post(&url).bearer_auth(&self.key).header("X-Title", "Darkroom").json(&body);
            let answer = remote::send(ID, &self.settings, &self.breaker, make, |_, _| false).await?;
            progress(0.8);
            if !(200..300).contains(&answer.status) {
                let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
                return Err(match answer.status {
                    403 if v["error"]["metadata"]["reasons"].is_array() => GenerateError::Refused(Category::Other),
                    401..=403 => {
                        tracing::error!(provider = ID, status = answer.status, "the provider refused the operator's account");
                        GenerateError::Unavailable(format!("{ID}: HTTP {} (account)", answer.status))
                    }
                    status => {
                        let message: String = v["error"]["message"].as_str().unwrap_or("").chars().take(200).collect();
                        GenerateError::Failed(format!("{ID}: HTTP {status}: {message}"))
                    }
                });
            }
            let r: Response = serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed answer: {e}")))?;
            let choice = r.choices.into_iter().next().ok_or_else(|| GenerateError::Failed(format!("{ID}: no choice in the answer")))?;
            let url = choice.message.into_iter().flat_map(|m| m.images).map(|i| i.image_url.url).next();
            let Some(url) = url else {
                return Err(match choice.finish_reason.as_deref() {
                    Some("content_filter") => GenerateError::Refused(Category::Other),
                    other => GenerateError::Failed(format!("{ID}: no image in the answer (finish_reason {other:?})")),
                });
            };
            // A data URL (`data:image/png;base64,...`); OpenRouter returns no remote URLs.
            let b64 = url.split_once(";base64,").map(|(_, d)| d).ok_or_else(|| GenerateError::Failed(format!("{ID}: the image is not a data URL")))?;
            let image = remote::image_of(ID, b64).await?;
            progress(1.0);
            Ok(Output { image, created: !edit, made_by: format!("openrouter {}", self.model), clip: None })
        })
    }
}
