//! `replicate-video`: image→video on a Replicate video model (HTTP API reference,
//! "predictions.create"; the model's own input schema), through the `replicate` generator's
//! account, circuit breaker, webhook and polling ([`super::replicate::Replicate::predict`]).
//!
//! Input: `prompt` (the template's with the member's in its slot), the member's photo as a
//! `data:` URL (the cleaned PNG: pixels only) in the model's image field
//! (`DARKROOM_REPLICATE_VIDEO_IMAGE_FIELD`, `image` by default: `start_image` for Kling,
//! `first_frame_image` for MiniMax), and `duration` in whole seconds (the job's `seconds`).
//! The model's MP4 is downloaded at once (Replicate deletes outputs after an hour), probed and
//! decoded by the worker like a local clip; the safety checker's failures are moderation
//! rejections, as for images.

use std::sync::Arc;

use base64::Engine as _;
use darkroom_contract::Mode;
use futures::future::BoxFuture;
use serde_json::json;

use super::replicate::Replicate;
use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::video_work::VideoWork;
use crate::Config;

/// This generator's id.
pub const ID: &str = "replicate-video";

pub struct ReplicateVideo {
    replicate: Arc<Replicate>,
    model: String,
    image_field: String,
    max_secs: f64,
    video: VideoWork,
    caps: Capabilities,
}

impl ReplicateVideo {
    /// The video generator over the operator's Replicate account.
    pub fn new(replicate: Arc<Replicate>, config: &Config) -> Self {
        let caps = super::clip_capabilities(Mode::ImageToVideo, Need::Optional, 1280, true);
        Self {
            replicate,
            model: config.replicate_video_model.clone(),
            image_field: config.replicate_video_image_field.clone(),
            max_secs: config.video_max_secs as f64,
            video: VideoWork::from_config(config),
            caps,
        }
    }

    /// The clip's length in whole seconds: the job's `seconds` (default 5), 1 to the
    /// operator's limit. Errors: [`GenerateError::BadInput`].
    fn seconds(&self, params: &serde_json::Value) -> Result<u64, GenerateError> {
        super::clip_seconds(params, 5.0, self.max_secs)
    }
}

impl Generator for ReplicateVideo {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError> {
        self.seconds(params).map(|_| ())
    }

    fn breaker(&self) -> Option<&super::remote::Breaker> {
        self.replicate.breaker()
    }

    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let secs = self.seconds(params)?;
            let mut inputs = inputs;
            let png = super::remote::photo_png(&mut inputs, Need::Optional).await?.ok_or_else(|| GenerateError::BadInput("a photo is needed".into()))?;
            let mut input = json!({ "prompt": inputs.prompt, "duration": secs });
            input[self.image_field.as_str()] = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png)).into();
            let p = self.replicate.predict(&self.model, input, &progress).await?;
            match p.status.as_str() {
                "succeeded" => {
                    let file = self.replicate.fetch(&p.output).await?;
                    progress(1.0);
                    let (video, side) = (self.video.clone(), self.caps.max_side);
                    let (image, clip) = tokio::task::spawn_blocking(move || super::clip_from_file(&file, side, &video))
                        .await
                        .map_err(|e| GenerateError::Failed(e.to_string()))??;
                    Ok(Output { image, created: false, made_by: format!("replicate {}", self.model), clip: Some(clip) })
                }
                "failed" => Err(Replicate::failure(p)),
                _ => Err(GenerateError::Failed(format!("{ID}: the prediction was canceled"))),
            }
        })
    }
}
