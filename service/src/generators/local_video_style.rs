//! `local-video-style`: video→video on this server's engine — every frame of the member's
//! clip through the 26-style network, with temporal smoothing against flicker
//! (`darkroom_engine::motion::Smoother`), at the clip's own frame rate and length.
//!
//! Parameters: the 26-style network's (`styles`, `strength`, `preserve_color`), `smoothing`
//! (0..=1, default 0.85; 0 is off), `every` (1..=4, default 2: the network runs on every
//! `every`-th frame, and a frame between two of them is the blend of their stylisations when
//! it is itself close to the blend of their inputs, else it is stylised too:
//! `darkroom_engine::motion::Restyler`), `max_side` (longest side of the output, pixels, default 512)
//! and `codec` (`h264` or `vp9`). The clip is the job's upload: already cleaned to a
//! constant frame rate, at most the operator's length (`generation::clean_video`).

use std::sync::Arc;

use darkroom_contract::Mode;
use darkroom_engine::motion::Restyler;
use darkroom_engine::video::{Fps, VideoTools};
use darkroom_engine::{Engine, StyleParams};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::{Capabilities, Clip, GenerateError, Generator, Inputs, Need, Output, Progress};
use crate::video_work::VideoWork;
use crate::Config;

/// This generator's id.
pub const ID: &str = "local-video-style";

/// Smoothing when the template names none.
pub const DEFAULT_SMOOTHING: f32 = 0.85;

pub struct LocalVideoStyle {
    engine: Arc<Engine>,
    caps: Capabilities,
    video: VideoWork,
}

#[derive(Deserialize)]
struct Params {
    #[serde(flatten)]
    style: StyleParams,
    #[serde(default = "default_smoothing")]
    smoothing: f32,
    #[serde(default = "default_every")]
    every: usize,
    #[serde(default = "default_side")]
    max_side: u32,
}

fn default_smoothing() -> f32 {
    DEFAULT_SMOOTHING
}
fn default_side() -> u32 {
    512
}
fn default_every() -> usize {
    2
}

impl LocalVideoStyle {
    /// The generator, when `ffmpeg` is installed (`None` otherwise: its templates are then
    /// not offered).
    pub fn new(engine: Arc<Engine>, config: &Config) -> Option<Self> {
        VideoTools::find(1, std::time::Duration::from_secs(1)).ok()?;
        let caps = super::clip_capabilities(Mode::VideoToVideo, Need::No, engine.config.max_side, false);
        Some(Self { engine, caps, video: VideoWork::from_config(config) })
    }

    fn params(&self, params: &serde_json::Value) -> Result<Params, GenerateError> {
        let p: Params = serde_json::from_value(params.clone()).map_err(|e| GenerateError::BadInput(format!("video parameters: {e}")))?;
        p.style.weights()?;
        if !(1..=4).contains(&p.every) {
            return Err(GenerateError::BadInput(format!("every must be 1 to 4, got {}", p.every)));
        }
        if !(0.0..=1.0).contains(&p.smoothing) {
            return Err(GenerateError::BadInput(format!("smoothing must be 0 to 1, got {}", p.smoothing)));
        }
        if p.max_side < 64 || p.max_side > self.engine.config.max_side {
            return Err(GenerateError::BadInput(format!("max_side must be 64 to {}, got {}", self.engine.config.max_side, p.max_side)));
        }
        super::local_motion::codec(params)?;
        Ok(p)
    }
}

impl Generator for LocalVideoStyle {
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
            let codec = super::local_motion::codec(params)?;
            let video = inputs.video.ok_or_else(|| GenerateError::BadInput("a video is needed".into()))?;
            let tools = self.video.tools()?;
            let engine = self.engine.clone();
            // Probe, open the decoder and make the first frame (the poster) now; the rest are
            // made as the worker pulls them.
            let (poster, width, height, fps, frames, mut restyler) = tokio::task::spawn_blocking(move || -> Result<_, GenerateError> {
                let probe = tools.probe(&video)?;
                let v = probe.video.ok_or_else(|| GenerateError::BadInput("the clip has no video stream".into()))?;
                let fps = v.fps.unwrap_or(Fps::whole(24));
                let frames = v.frames.map(|f| f as usize).unwrap_or_else(|| (probe.duration_secs * fps.value()).round() as usize).max(1);
                let scale = (p.max_side as f64 / v.width.max(v.height) as f64).min(1.0);
                let (w, h) = ((((v.width as f64 * scale).round() as u32) & !1).max(2), (((v.height as f64 * scale).round() as u32) & !1).max(2));
                let reader = tools.frames(&video, w, h, None)?;
                // The reader holds the clip's file open; the path is kept alive beside it.
                let frames_in = Box::new(reader.map(move |f| {
                    let _file = &video;
                    f
                }));
                let mut restyler = Restyler::new(engine, frames_in, p.style, p.smoothing, p.every);
                let poster = restyler.next()?;
                progress(1.0);
                Ok((poster, w, h, fps, frames, restyler))
            })
            .await
            .map_err(|e| GenerateError::Failed(e.to_string()))??;
            let mut first = Some(poster.clone());
            let mut made = 0usize;
            let source = Box::new(move || -> Result<image::RgbImage, GenerateError> {
                made += 1;
                if let Some(f) = first.take() {
                    return Ok(f);
                }
                let frame = restyler.next().map_err(GenerateError::from);
                if made == frames {
                    tracing::debug!(frames, network_runs = restyler.network_runs(), "clip restyled");
                }
                frame
            });
            Ok(Output {
                image: poster,
                created: false,
                made_by: "darkroom local-video-style (multistyle26.onnx)".into(),
                clip: Some(Clip { width, height, fps, frames, codec, source }),
            })
        })
    }
}
