//! `automatic1111`: a Stable Diffusion server speaking the AUTOMATIC1111 web UI's API (also
//! Forge and SD.Next), image→image through `POST {base}/sdapi/v1/img2img` (the server's
//! `/docs`, `StableDiffusionProcessingImg2Img`) and text→image through `/sdapi/v1/txt2img`
//! (`StableDiffusionProcessingTxt2Img`: the job's `width`/`height`, default 512×512, rounded
//! down to multiples of 8, 64..=2048).
//!
//! Sent: `init_images` (the cleaned photo, base64 PNG), `prompt`, and from the job's
//! parameters `negative_prompt`, `seed` (-1: random), `denoising_strength` (0..=1, default
//! 0.6) and `steps` (1..=150, default 25); the output keeps the photo's size (rounded down to
//! multiples of 8, as the models need). Optional HTTP basic auth (`--api-auth` on the server).
//! Answer: `{"images": [<base64 PNG>], "parameters", "info"}`. Such a server has no content
//! policy of its own: the output gate is what moderates it.

use base64::Engine as _;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

use super::remote::{self, Breaker, RemoteSettings};
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::Config;

/// This generator's id.
pub const ID: &str = "automatic1111";

pub struct Automatic1111 {
    client: reqwest::Client,
    base: String,
    auth: Option<(String, String)>,
    settings: RemoteSettings,
    breaker: Breaker,
    caps: Capabilities,
}

/// The job parameters this generator reads.
#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    negative_prompt: String,
    seed: Option<i64>,
    denoising_strength: Option<f32>,
    steps: Option<u32>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    images: Vec<String>,
}

impl Automatic1111 {
    /// The generator when the operator set the server's address (`None` otherwise).
    pub fn from_config(config: &Config, settings: &RemoteSettings) -> Option<Self> {
        let base = config.a1111_api_base.clone()?;
        let auth = config.a1111_auth.as_deref().and_then(|a| a.split_once(':')).map(|(u, p)| (u.to_string(), p.to_string()));
        let caps = remote::image_capabilities(Need::Optional, 2048);
        Some(Self { client: remote::client(settings).ok()?, base: base.trim_end_matches('/').to_string(), auth, settings: settings.clone(), breaker: Breaker::new(settings), caps })
    }

    fn params(params: &serde_json::Value) -> Result<Params, GenerateError> {
        let p: Params = serde_json::from_value(params.clone()).map_err(|e| GenerateError::BadInput(format!("parameters: {e}")))?;
        if p.denoising_strength.is_some_and(|d| !(0.0..=1.0).contains(&d)) {
            return Err(GenerateError::BadInput("The denoising strength must be between 0 and 1.".into()));
        }
        if p.steps.is_some_and(|s| !(1..=150).contains(&s)) {
            return Err(GenerateError::BadInput("Steps must be 1 to 150.".into()));
        }
        if p.negative_prompt.chars().count() > 1000 {
            return Err(GenerateError::BadInput("The negative prompt can be at most 1000 characters.".into()));
        }
        Ok(p)
    }
}

impl Generator for Automatic1111 {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError> {
        Self::params(params).map(|_| ())
    }

    fn breaker(&self) -> Option<&Breaker> {
        Some(&self.breaker)
    }

    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let p = Self::params(params)?;
            let mut inputs = inputs;
            let side = |v: u32| (v.clamp(64, 2048) / 8 * 8).max(64);
            let (w, h) = match (&inputs.photo, inputs.size) {
                (Some(p), _) => (side(p.width()), side(p.height())),
                (None, Some((w, h))) => (side(w), side(h)),
                (None, None) => (512, 512),
            };
            let png = remote::photo_png(&mut inputs, Need::Optional).await?;
            let edit = png.is_some();
            let mut body = json!({
                "prompt": inputs.prompt,
                "negative_prompt": p.negative_prompt,
                "seed": p.seed.unwrap_or(-1),
                "denoising_strength": p.denoising_strength.unwrap_or(0.6),
                "steps": p.steps.unwrap_or(25),
                "width": w,
                "height": h,
                "n_iter": 1,
                "batch_size": 1,
                "send_images": true,
                "save_images": false,
            });
            match &png {
                Some(png) => body["init_images"] = json!([base64::engine::general_purpose::STANDARD.encode(png)]),
                None => {
                    body.as_object_mut().expect("an object").remove("denoising_strength");
                }
            }
            progress(0.1);
            let url = format!("{}/sdapi/v1/{}", self.base, if edit { "img2img" } else { "txt2img" });
            let make = || {
                let r = self.client.post(&url).json(&body);
                match &self.auth {
                    Some((u, pw)) => r.basic_auth(u, Some(pw)),
                    None => r,
                }
            };
            let answer = remote::send(ID, &self.settings, &self.breaker, make, |_, _| false).await?;
            progress(0.8);
            match answer.status {
                200..=299 => {}
                401 | 403 => return Err(GenerateError::Unavailable(format!("{ID}: HTTP {} (credentials)", answer.status))),
                status => return Err(GenerateError::Failed(format!("{ID}: HTTP {status}"))),
            }
            let r: Response = serde_json::from_slice(&answer.body).map_err(|e| GenerateError::Failed(format!("{ID}: malformed answer: {e}")))?;
            let b64 = r.images.into_iter().next().ok_or_else(|| GenerateError::Failed(format!("{ID}: no image in the answer")))?;
            let image = remote::image_of(ID, &b64).await?;
            progress(1.0);
            Ok(Output { image, created: !edit, made_by: format!("automatic1111 {}", if edit { "img2img" } else { "txt2img" }), clip: None })
        })
    }
}
