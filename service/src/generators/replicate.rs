//! `replicate`: Replicate's asynchronous predictions (HTTP API reference, "predictions.create"
//! and "predictions.get"; "Webhooks").
//!
//! A run creates a prediction for an official model (`POST {base}/v1/models/{owner}/{name}/predictions`,
//! `Authorization: Bearer`, body `{"input": {...}, "webhook", "webhook_events_filter":
//! ["completed"]}`), then waits for it to end: woken by Replicate's webhook when the operator
//! gave the signing secret and a public URL (`POST /providers/replicate/webhook`, verified per
//! Standard Webhooks: `webhook-id`, `webhook-timestamp` within 5 minutes, `webhook-signature`
//! `v1,<base64 HMAC-SHA256>` of `id.timestamp.body`), and by polling `GET
//! {base}/v1/predictions/{id}` every `poll` in any case (a webhook that reaches another node,
//! or none, only delays the result). The output file is downloaded at once: Replicate deletes
//! API outputs after an hour.
//!
//! Input: `prompt`; with the member's photo the edit model and `input_image` (the cleaned PNG
//! as a `data:` URL: pixels only, no EXIF or GPS); `seed` and `aspect_ratio` (from the job's
//! size) when given. Nothing else about the member leaves the server. A prediction that fails
//! with the model's safety checker (`NSFW`, `flagged as sensitive`, Replicate's `E005`) is a
//! moderation rejection; any other failure or a cancel is a technical one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use darkroom_contract::Category;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Notify;

use super::remote::{self, Breaker, RemoteSettings};
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress, WebhookError};
use crate::Config;

/// This generator's id.
pub const ID: &str = "replicate";

pub struct Replicate {
    client: reqwest::Client,
    base: String,
    token: String,
    model: String,
    edit_model: String,
    /// `{public}/providers/replicate/webhook` and the `whsec_` secret, when both are set.
    webhook: Option<(String, String)>,
    poll: Duration,
    wait: Duration,
    settings: RemoteSettings,
    breaker: Breaker,
    caps: Capabilities,
    /// Predictions this process waits for, woken (with the verified body) by the webhook.
    waiting: Mutex<HashMap<String, Waiter>>,
}

#[derive(Clone)]
struct Waiter {
    notify: Arc<Notify>,
    body: Arc<Mutex<Option<Prediction>>>,
}

/// A prediction as Replicate answers it (the fields read).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Prediction {
    id: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) output: serde_json::Value,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

impl Replicate {
    /// The generator when the operator set a token (`None` otherwise).
    pub fn from_config(config: &Config, settings: &RemoteSettings) -> Option<Self> {
        let token = config.replicate_api_token.clone()?;
        // The site's address as Replicate reaches it (`DARKROOM_PUBLIC_URL`, else the bound one).
        let public = if config.public_url.is_empty() { format!("http://{}", config.addr) } else { config.public_url.trim_end_matches('/').to_string() };
        let webhook = config.replicate_webhook_secret.clone().map(|secret| (format!("{public}/providers/{ID}/webhook"), secret));
        Some(Self {
            client: remote::client(settings).ok()?,
            base: config.replicate_api_base.trim_end_matches('/').to_string(),
            token,
            model: config.replicate_model.clone(),
            edit_model: config.replicate_edit_model.clone(),
            webhook,
            poll: Duration::from_millis(config.replicate_poll_ms.max(50)),
            wait: Duration::from_secs(config.replicate_wait_secs.max(1)),
            settings: settings.clone(),
            breaker: Breaker::new(settings),
            caps: remote::image_capabilities(Need::Required, 2048),
            waiting: Mutex::new(HashMap::new()),
        })
    }

    /// Checks and applies a webhook: `headers` by lowercase name. A verified `completed`
    /// prediction this process waits for wakes its run; others are accepted and ignored (the
    /// run that waits elsewhere polls).
    pub fn verify_webhook(&self, header: &dyn Fn(&str) -> Option<String>, body: &[u8], now_secs: i64) -> Result<(), WebhookError> {
        let Some((_, secret)) = &self.webhook else { return Err(WebhookError::NotConfigured) };
        let id = header("webhook-id").ok_or(WebhookError::Unverified("no webhook-id"))?;
        let ts = header("webhook-timestamp").ok_or(WebhookError::Unverified("no webhook-timestamp"))?;
        let sigs = header("webhook-signature").ok_or(WebhookError::Unverified("no webhook-signature"))?;
        crate::webhooks::verify(secret, &id, &ts, &sigs, body, now_secs).map_err(WebhookError::Unverified)?;
        let p: Prediction = serde_json::from_slice(body).map_err(|_| WebhookError::Malformed)?;
        let waiter = self.waiting.lock().expect("not poisoned").get(&p.id).cloned();
        if let Some(w) = waiter {
            *w.body.lock().expect("not poisoned") = Some(p);
            w.notify.notify_one();
        }
        Ok(())
    }

    /// Creates a prediction of `model` with `input` and waits for its end (woken by the
    /// webhook, polling in any case), up to the operator's wait. Returns the ended
    /// prediction: `succeeded`, `failed` or `canceled`.
    pub(crate) async fn predict(&self, model: &str, input: serde_json::Value, progress: &Progress) -> Result<Prediction, GenerateError> {
        let mut body = json!({ "input": input });
        if let Some((url, _)) = &self.webhook {
            body["webhook"] = url.clone().into();
            body["webhook_events_filter"] = json!(["completed"]);
        }
        let url = format!("{}/v1/models/{model}/predictions", self.base);
        progress(0.05);
        let answer = remote::send(ID, &self.settings, &self.breaker, || self.client.post(&url).bearer_auth(&self.token).json(&body), |_, _| false).await?;
        if !(200..300).contains(&answer.status) {
            return Err(account_or_failure(answer.status, &answer.body));
        }
        let mut p: Prediction = serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed prediction: {e}")))?;
        let prediction_id = p.id.clone();
        let waiter = Waiter { notify: Arc::new(Notify::new()), body: Arc::new(Mutex::new(None)) };
        self.waiting.lock().expect("not poisoned").insert(prediction_id.clone(), waiter.clone());
        let deadline = Instant::now() + self.wait;
        let done = loop {
            if matches!(p.status.as_str(), "succeeded" | "failed" | "canceled") {
                break Ok(p);
            }
            if Instant::now() >= deadline {
                break Err(GenerateError::Failed(format!("{ID}: the prediction did not finish in {} s", self.wait.as_secs())));
            }
            progress(0.2);
            let _ = tokio::time::timeout(self.poll, waiter.notify.notified()).await;
            let pushed = waiter.body.lock().expect("not poisoned").take();
            p = match pushed {
                Some(from_webhook) => from_webhook,
                None => match self.get(&p.id).await {
                    Ok(fresh) => fresh,
                    Err(e) => break Err(e),
                },
            };
        };
        self.waiting.lock().expect("not poisoned").remove(&prediction_id);
        done
    }

    /// A failed prediction's error: the model's safety checker (a refusal) or a failure.
    pub(crate) fn failure(p: Prediction) -> GenerateError {
        let error = p.error.map(|e| e.as_str().map(String::from).unwrap_or_else(|| e.to_string())).unwrap_or_default();
        if is_refusal(&error) {
            GenerateError::Refused(Category::Other)
        } else {
            GenerateError::Failed(format!("{ID}: the prediction failed: {}", error.chars().take(200).collect::<String>()))
        }
    }

    async fn get(&self, id: &str) -> Result<Prediction, GenerateError> {
        let url = format!("{}/v1/predictions/{id}", self.base);
        let answer = remote::send(ID, &self.settings, &self.breaker, || self.client.get(&url).bearer_auth(&self.token), |_, _| false).await?;
        if !(200..300).contains(&answer.status) {
            return Err(account_or_failure(answer.status, &answer.body));
        }
        serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed prediction: {e}")))
    }

    /// Downloads the first output file (the API's own file URLs with the token, others
    /// without: a delivery URL must not receive the operator's key) and decodes it.
    async fn download(&self, output: &serde_json::Value) -> Result<image::RgbImage, GenerateError> {
        let bytes = self.fetch(output).await?;
        tokio::task::spawn_blocking(move || image::load_from_memory(&bytes).map(|i| i.into_rgb8()))
            .await
            .map_err(|e| GenerateError::Failed(e.to_string()))?
            .map_err(|e| GenerateError::Failed(format!("{ID}: the output does not decode: {e}")))
    }

    /// The first output file's bytes, as [`Replicate::download`] fetches them.
    pub(crate) async fn fetch(&self, output: &serde_json::Value) -> Result<bytes::Bytes, GenerateError> {
        let url = match output {
            serde_json::Value::String(u) => u.clone(),
            serde_json::Value::Array(a) => a.iter().find_map(|v| v.as_str()).map(String::from).unwrap_or_default(),
            _ => String::new(),
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(GenerateError::Failed(format!("{ID}: no output file in the prediction")));
        }
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin().ascii_serialization());
        let same_host = origin(&url).is_some() && origin(&url) == origin(&self.base);
        let answer = remote::send(
            ID,
            &self.settings,
            &self.breaker,
            || {
                let r = self.client.get(&url);
                if same_host { r.bearer_auth(&self.token) } else { r }
            },
            |_, _| false,
        )
        .await?;
        if !(200..300).contains(&answer.status) {
            return Err(GenerateError::Failed(format!("{ID}: the output file answered HTTP {}", answer.status)));
        }
        Ok(answer.body)
    }
}

/// Replicate's error answer: the account's (401/402/403: the next generator) or a failure.
fn account_or_failure(status: u16, body: &[u8]) -> GenerateError {
    if matches!(status, 401..=403) {
        tracing::error!(provider = ID, status, "the provider refused the operator's account");
        return GenerateError::Unavailable(format!("{ID}: HTTP {status} (account)"));
    }
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let detail: String = v["detail"].as_str().unwrap_or("").chars().take(200).collect();
    GenerateError::Failed(format!("{ID}: HTTP {status}: {detail}"))
}

/// Whether a failed prediction's error is the model's safety checker.
fn is_refusal(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    ["nsfw", "flagged as sensitive", "e005", "safety"].iter().any(|w| e.contains(w))
}

/// Flux-style `aspect_ratio` for a wanted size.
fn aspect_ratio((w, h): (u32, u32)) -> &'static str {
    let r = w as f64 / h.max(1) as f64;
    [("1:1", 1.0), ("16:9", 16.0 / 9.0), ("9:16", 9.0 / 16.0), ("4:3", 4.0 / 3.0), ("3:4", 0.75), ("3:2", 1.5), ("2:3", 2.0 / 3.0)]
        .into_iter()
        .min_by(|a, b| (a.1 - r).abs().total_cmp(&(b.1 - r).abs()))
        .map_or("1:1", |a| a.0)
}

impl Generator for Replicate {
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
            let mut input = json!({ "prompt": inputs.prompt });
            if let Some(png) = &png {
                input["input_image"] = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)).into();
            }
            if let Some(seed) = inputs.seed {
                input["seed"] = seed.into();
            }
            if let Some(size) = inputs.size {
                input["aspect_ratio"] = aspect_ratio(size).into();
            }
            let model = if edit { &self.edit_model } else { &self.model };
            let p = self.predict(model, input, &progress).await?;
            match p.status.as_str() {
                "succeeded" => {
                    progress(0.8);
                    let image = self.download(&p.output).await?;
                    progress(1.0);
                    Ok(Output { image, created: !edit, made_by: format!("replicate {model}"), clip: None })
                }
                "failed" => Err(Self::failure(p)),
                _ => Err(GenerateError::Failed(format!("{ID}: the prediction was canceled"))),
            }
        })
    }

    fn webhook(&self, header: &dyn Fn(&str) -> Option<String>, body: &[u8], now_secs: i64) -> Result<(), WebhookError> {
        self.verify_webhook(header, body, now_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_aspect_ratios_and_signatures() {
        assert!(is_refusal("NSFW content detected. Try running it again, or try a different prompt."));
        assert!(is_refusal("The input or output was flagged as sensitive. Please try again with different inputs. (E005)"));
        assert!(!is_refusal("CUDA out of memory"));
        assert_eq!(aspect_ratio((1024, 1024)), "1:1");
        assert_eq!(aspect_ratio((1920, 1080)), "16:9");
        assert_eq!(aspect_ratio((768, 1024)), "3:4");
        let secret = "whsec_c3RhbmRpbi1yZXBsaWNhdGUtc2lnbmluZy1rZXk=";
        let sig = crate::webhooks::sign(secret, "msg_1", 1000, b"{}").unwrap();
        assert_eq!(crate::webhooks::verify(secret, "msg_1", "1000", &format!("v1,AAAA {sig}"), b"{}", 1100), Ok(()));
        assert!(crate::webhooks::verify(secret, "msg_1", "1000", &sig, b"{ }", 1100).is_err(), "another body");
        assert!(crate::webhooks::verify(secret, "msg_1", "1000", &sig, b"{}", 1400).is_err(), "too old");
    }
}
