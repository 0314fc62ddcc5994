//! `gemini`: Google's Gemini image models, image→image through `generateContent`
//! (`POST {base}/v1beta/models/{model}:generateContent`, Gemini API reference "Generating
//! content" and the image generation guide).
//!
//! Sent: `x-goog-api-key` (the operator's key, nowhere else), and
//! `{"contents": [{"role": "user", "parts": [{"text": <prompt>}, {"inlineData": {"mimeType":
//! "image/png", "data": <the cleaned photo, base64>}}]}], "generationConfig":
//! {"responseModalities": ["TEXT", "IMAGE"]}}`. The API takes no user field: nothing about the
//! member leaves.
//! Answer: `candidates[0].content.parts[]`, the image in a part's `inlineData`. A prompt the
//! provider blocks has `promptFeedback.blockReason` and no candidates; a blocked output has
//! `finishReason` `SAFETY`, `IMAGE_SAFETY`, `PROHIBITED_CONTENT`, `BLOCKLIST` or `SPII` and no
//! image: both are moderation rejections. Errors are `{"error": {"code", "message",
//! "status"}}`; a 429 whose details carry a `google.rpc.QuotaFailure` and no
//! `google.rpc.RetryInfo` is an exhausted quota and is not retried; a `RetryInfo.retryDelay` is
//! waited like a `Retry-After`.

use base64::Engine as _;
use darkroom_contract::Category;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

use std::time::Duration;

use super::remote::{self, Breaker, Hint, RemoteSettings};
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::Config;

/// This generator's id.
pub const ID: &str = "gemini";

/// `finishReason`s that mean the provider's safety system withheld the output.
const REFUSED: [&str; 5] = ["SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"];

pub struct Gemini {
    client: reqwest::Client,
    base: String,
    key: String,
    model: String,
    settings: RemoteSettings,
    breaker: Breaker,
    caps: Capabilities,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    inline_data: Option<InlineData>,
}

#[derive(Deserialize)]
struct InlineData {
    data: String,
}

/// How to treat a retryable answer from its `error.details` (Google's error model,
/// <https://cloud.google.com/apis/design/errors#error_details>): a 429 with
/// `google.rpc.QuotaFailure` and no `google.rpc.RetryInfo` is a used-up quota (no retry helps);
/// a `RetryInfo.retryDelay` (a protobuf `Duration` in JSON, e.g. `"3s"`, `"0.5s"`) is the wait.
pub(crate) fn hint(status: u16, body: &[u8]) -> Hint {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return Hint::Retry };
    let details = v["error"]["details"].as_array().cloned().unwrap_or_default();
    let of = |t: &str| details.iter().find(|d| d["@type"].as_str().is_some_and(|x| x.ends_with(t)));
    if let Some(delay) = of("google.rpc.RetryInfo").and_then(|d| d["retryDelay"].as_str()) {
        if let Some(secs) = delay.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()).filter(|s| s.is_finite() && *s >= 0.0) {
            return Hint::RetryAfter(Duration::from_secs_f64(secs.min(86_400.0)));
        }
    }
    if status == 429 && of("google.rpc.QuotaFailure").is_some() && of("google.rpc.RetryInfo").is_none() {
        return Hint::Final;
    }
    Hint::Retry
}

impl Gemini {
    /// The generator when the operator set a key (`None` otherwise).
    pub fn from_config(config: &Config, settings: &RemoteSettings) -> Option<Self> {
        let key = config.gemini_api_key.clone()?;
        let caps = remote::image_capabilities(Need::Required, 2048);
        Some(Self {
            client: remote::client(settings).ok()?,
            base: config.gemini_api_base.trim_end_matches('/').to_string(),
            key,
            model: config.gemini_image_model.clone(),
            settings: settings.clone(),
            breaker: Breaker::new(settings),
            caps,
        })
    }
}

impl Generator for Gemini {
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
            let mut parts = vec![json!({ "text": inputs.prompt })];
            if let Some(png) = &png {
                parts.push(json!({ "inlineData": { "mimeType": "image/png", "data": base64::engine::general_purpose::STANDARD.encode(png) } }));
            }
            let body = json!({
                "contents": [{ "role": "user", "parts": parts }],
                "generationConfig": { "responseModalities": ["TEXT", "IMAGE"] },
            });
            progress(0.1);
            let url = format!("{}/v1beta/models/{}:generateContent", self.base, self.model);
            let make = || self.client.post(&url).header("x-goog-api-key", &self.key).json(&body);
            let answer = remote::send(ID, &self.settings, &self.breaker, make, hint).await?;
            progress(0.8);
            if !(200..300).contains(&answer.status) {
                return Err(match answer.status {
                    429 | 401 | 403 => {
                        tracing::error!(provider = ID, status = answer.status, "the provider refused the operator's account");
                        GenerateError::Unavailable(format!("{ID}: HTTP {} (account)", answer.status))
                    }
                    status => {
                        let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
                        let message: String = v["error"]["message"].as_str().unwrap_or("").chars().take(200).collect();
                        GenerateError::Failed(format!("{ID}: HTTP {status}: {message}"))
                    }
                });
            }
            let r: Response = serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed answer: {e}")))?;
            if r.prompt_feedback.and_then(|f| f.block_reason).is_some() {
                return Err(GenerateError::Refused(Category::Other));
            }
            let candidate = r.candidates.into_iter().next().ok_or_else(|| GenerateError::Failed(format!("{ID}: no candidate in the answer")))?;
            let data = candidate.content.into_iter().flat_map(|c| c.parts).find_map(|p| p.inline_data).map(|d| d.data);
            let Some(data) = data else {
                return Err(match candidate.finish_reason.as_deref() {
                    Some(r) if REFUSED.contains(&r) => GenerateError::Refused(Category::Other),
                    other => GenerateError::Failed(format!("{ID}: no image in the answer (finishReason {other:?})")),
                });
            };
            let image = remote::image_of(ID, &data).await?;
            progress(1.0);
            Ok(Output { image, created: !edit, made_by: format!("google {}", self.model), clip: None })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Hint;
    use std::time::Duration;

    #[test]
    fn an_exhausted_quota_is_told_apart_from_a_rate_limit() {
        let quota = br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"}]}}"#;
        let rate = br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3s"}]}}"#;
        let half = br#"{"error":{"code":503,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.5s"}]}}"#;
        assert_eq!(super::hint(429, quota), Hint::Final);
        assert_eq!(super::hint(429, rate), Hint::RetryAfter(Duration::from_secs(3)));
        assert_eq!(super::hint(503, half), Hint::RetryAfter(Duration::from_millis(500)));
        assert_eq!(super::hint(503, quota), Hint::Retry, "only a 429 is a used-up quota");
        assert_eq!(super::hint(429, b"not json"), Hint::Retry);
    }
}
