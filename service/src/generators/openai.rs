//! `openai`: OpenAI Images: image→image through the edits endpoint
//! (`POST {base}/v1/images/edits`, multipart; API reference "Images → Create image edit"),
//! text→image through `POST {base}/v1/images/generations` (JSON; "Create image"), `size` the
//! nearest of gpt-image's `1024x1024`, `1536x1024`, `1024x1536` by aspect (or `auto`).
//!
//! Sent: the cleaned photo as PNG for edits (decoded from the stored upload, so no EXIF, GPS
//! or XMP), the prompt, `model` (operator setting, default `gpt-image-1`), `n=1`, and `user`: an opaque
//! keyed hash of the member, never their email or name. The key goes in
//! `Authorization: Bearer` and nowhere else (not in logs, errors or pages).
//! Answer: `{"created": …, "data": [{"b64_json": "<PNG>"}]}` (gpt-image models always answer
//! base64). Errors: `{"error": {"message", "type", "code"}}`; `code` `moderation_blocked`
//! (gpt-image) or `content_policy_violation` (DALL·E) is the provider's safety system refusing
//! the content → a moderation rejection; `insufficient_quota` (with 429) is never retried.

use darkroom_contract::Category;
use futures::future::BoxFuture;
use serde::Deserialize;

use super::remote::{self, Breaker, RemoteSettings};
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::Config;

/// This generator's id.
pub const ID: &str = "openai";

pub struct OpenAi {
    client: reqwest::Client,
    base: String,
    key: String,
    model: String,
    settings: RemoteSettings,
    breaker: Breaker,
    caps: Capabilities,
}

#[derive(Deserialize)]
struct ImagesResponse {
    data: Vec<ImageData>,
}

#[derive(Deserialize)]
struct ImageData {
    b64_json: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    code: Option<String>,
}

impl OpenAi {
    /// The generator when the operator set a key (`None` otherwise).
    pub fn from_config(config: &Config, settings: &RemoteSettings) -> Option<Self> {
        let key = config.openai_api_key.clone()?;
        let client = remote::client(settings).ok()?;
        let caps = remote::image_capabilities(Need::Required, 1536);
        Some(Self {
            client,
            base: config.openai_api_base.trim_end_matches('/').to_string(),
            key,
            model: config.openai_image_model.clone(),
            settings: settings.clone(),
            breaker: Breaker::new(settings),
            caps,
        })
    }
}

/// gpt-image's size for a wanted `(width, height)`: the one of its three of the nearest
/// aspect, or `auto` without a wish.
fn size_for(size: Option<(u32, u32)>) -> &'static str {
    match size {
        None => "auto",
        Some((w, h)) if w * 4 > h * 5 => "1536x1024",
        Some((w, h)) if h * 4 > w * 5 => "1024x1536",
        Some(_) => "1024x1024",
    }
}

/// An error body's `code`, if it is OpenAI's shape.
fn error_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body).ok().and_then(|e| e.error.code)
}

impl Generator for OpenAi {
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
            progress(0.1);
            let edit = png.is_some();
            let url = format!("{}/v1/images/{}", self.base, if edit { "edits" } else { "generations" });
            let make = || match &png {
                Some(png) => {
                    let form = reqwest::multipart::Form::new()
                        .text("model", self.model.clone())
                        .text("prompt", inputs.prompt.clone())
                        .text("n", "1")
                        .text("user", inputs.user_ref.clone())
                        .part("image", reqwest::multipart::Part::bytes(png.clone()).file_name("image.png").mime_str("image/png").expect("a valid MIME type"));
                    self.client.post(&url).bearer_auth(&self.key).multipart(form)
                }
                None => self.client.post(&url).bearer_auth(&self.key).json(&serde_json::json!({
                    "model": self.model, "prompt": inputs.prompt, "n": 1, "size": size_for(inputs.size), "user": inputs.user_ref,
                })),
            };
            let answer = remote::send(ID, &self.settings, &self.breaker, make, |status, body| {
                status == 429 && error_code(body).as_deref() == Some("insufficient_quota")
            })
            .await?;
            progress(0.8);
            if !(200..300).contains(&answer.status) {
                let code = error_code(&answer.body);
                return Err(match (answer.status, code.as_deref()) {
                    (_, Some("moderation_blocked" | "content_policy_violation")) => GenerateError::Refused(Category::Other),
                    (429, Some("insufficient_quota")) | (401..=403, _) => {
                        tracing::error!(provider = ID, status = answer.status, "the provider refused the operator's account");
                        GenerateError::Unavailable(format!("{ID}: HTTP {} (account)", answer.status))
                    }
                    (status, _) => {
                        let message = serde_json::from_slice::<ErrorBody>(&answer.body).map(|e| e.error.message).unwrap_or_default();
                        GenerateError::Failed(format!("{ID}: HTTP {status}: {}", message.chars().take(200).collect::<String>()))
                    }
                });
            }
            let body: ImagesResponse =
                serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed answer: {e}")))?;
            let b64 = body.data.into_iter().next().and_then(|d| d.b64_json).ok_or_else(|| GenerateError::Failed(format!("{ID}: no image in the answer")))?;
            let image = remote::image_of(ID, &b64).await?;
            progress(1.0);
            Ok(Output { image, created: !edit, made_by: format!("openai {}", self.model), clip: None })
        })
    }
}
