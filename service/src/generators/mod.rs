//! Generators: what turns a job's inputs into an image, local models and remote providers
//! alike, behind one trait ([`Generator`]) and one registry ([`Generators`]).
//!
//! A job's parameters (JSON, `jobs.params`) name their generator and its fallbacks
//! (`{"generator": "local-style", "fallbacks": [...], ...the generator's own fields}`; rows
//! from before generators existed carry no name and are `local-style`). The worker
//! ([`crate::worker`]) parses that [`Plan`], gives each generator in order the inputs its
//! [`Capabilities`] ask for, and moves to the next one only when a generator is
//! [`GenerateError::Unavailable`] (not configured, its circuit open, or still failing after
//! its retries). Every result, whoever made it, then passes the output gate and is labelled.
//!
//! Adding a model or provider is one module here implementing [`Generator`] and one line in
//! [`Generators::new`].

pub mod any_style;
pub mod automatic1111;
pub mod gemini;
pub mod local_motion;
pub mod local_style;
pub mod local_video_style;
pub mod openai;
pub mod openrouter;
pub mod remote;
pub mod replicate;
pub mod replicate_video;
pub mod veo;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use darkroom_contract::{Category, Mode};
use futures::future::BoxFuture;
use image::RgbImage;
use serde::Deserialize;

use crate::Config;

/// Whether a generator needs an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    No,
    Optional,
    Required,
}

/// What a generator can do and what it needs, declared once.
#[derive(Clone, Debug)]
pub struct Capabilities {
    /// The modes it makes.
    pub modes: &'static [Mode],
    /// The member's photo (the job's upload).
    pub photo: Need,
    /// A second image whose look is applied (the job's `style_upload_id`).
    pub style_image: Need,
    /// The prompt text.
    pub prompt: Need,
    /// Takes a negative prompt, a seed, an output size.
    pub negative_prompt: bool,
    pub seed: bool,
    pub size: bool,
    /// Longest side, in pixels, of what it returns.
    pub max_side: u32,
    /// Runs on another service (the request leaves this server).
    pub remote: bool,
}

/// The inputs of one run, as the capabilities asked for them: cleaned images (decoded from
/// the stored, metadata-free uploads), the prompt as the prompt gate checked it.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub photo: Option<RgbImage>,
    pub style_image: Option<RgbImage>,
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: Option<u64>,
    /// Output size in pixels, `(width, height)`.
    pub size: Option<(u32, u32)>,
    /// An opaque, keyed hash of the member for providers' `user` fields (never an email or
    /// a name).
    pub user_ref: String,
    /// Set when the worker gives the run up (the job was cancelled or its lease lost): a
    /// long local run checks it between steps and stops.
    pub cancelled: Arc<AtomicBool>,
    /// The member's clip (video→video): its cleaned copy in a private temporary file, removed
    /// when the last holder drops it.
    pub video: Option<Arc<tempfile::TempPath>>,
}

/// What a generator made.
pub struct Output {
    /// The image; for a clip, its poster frame (the first).
    pub image: RgbImage,
    /// `true` when the image is new (text→image: C2PA `c2pa.created`), `false` when it is
    /// the member's photo changed (`c2pa.edited`).
    pub created: bool,
    /// Who made it, for the content credentials: e.g. `darkroom local-style
    /// (multistyle26.onnx)` or `openai gpt-image-1`.
    pub made_by: String,
    /// A clip (image→video, video→video): its frames, drawn by the worker while it encodes.
    pub clip: Option<Clip>,
}

/// A clip a generator made, as frames the worker pulls in order (a local model draws them
/// on demand; a remote provider's file is decoded), so a clip is never held whole in memory.
pub struct Clip {
    /// Frame size in pixels (even: 4:2:0 chroma).
    pub width: u32,
    pub height: u32,
    pub fps: darkroom_engine::video::Fps,
    /// Frames in the clip.
    pub frames: usize,
    /// The output codec the template asks for (H.264 MP4 unless it says VP9 WebM).
    pub codec: darkroom_engine::video::OutputCodec,
    /// Draws the next frame; called `frames` times, in order, on a blocking thread.
    pub source: Box<dyn FnMut() -> Result<RgbImage, GenerateError> + Send>,
}

impl std::fmt::Debug for Clip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clip({}x{}, {} frames at {} fps)", self.width, self.height, self.frames, self.fps.value())
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").field("size", &self.image.dimensions()).field("made_by", &self.made_by).field("clip", &self.clip).finish()
    }
}

/// Why a run made nothing.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The member's input cannot be used (told to them; a technical refund applies).
    #[error("{0}")]
    BadInput(String),
    /// The provider refused the content (a moderation rejection: charged, category shown).
    #[error("refused by the provider's content policy ({0})")]
    Refused(Category),
    /// This generator cannot run it now (not configured, circuit open, still failing after
    /// its retries): the next generator in the plan is tried.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A technical failure that another generator would not fix.
    #[error("failed: {0}")]
    Failed(String),
}

impl From<darkroom_engine::video::VideoError> for GenerateError {
    fn from(e: darkroom_engine::video::VideoError) -> Self {
        use darkroom_engine::video::VideoError;
        match e {
            VideoError::BadInput(m) => GenerateError::BadInput(m),
            VideoError::Missing(m) => GenerateError::Unavailable(m),
            other => GenerateError::Failed(other.to_string()),
        }
    }
}

impl From<darkroom_engine::EngineError> for GenerateError {
    fn from(e: darkroom_engine::EngineError) -> Self {
        match e {
            darkroom_engine::EngineError::BadInput(m) => GenerateError::BadInput(m),
            darkroom_engine::EngineError::Missing(m) => GenerateError::Unavailable(format!("model missing: {m}")),
            other => GenerateError::Failed(other.to_string()),
        }
    }
}

/// What a clip generator declares: `mode`, the member's photo or clip required, the prompt as
/// `prompt`, no style image, seed or size; `max_side` pixels; `remote` or local.
pub fn clip_capabilities(mode: Mode, prompt: Need, max_side: u32, remote: bool) -> Capabilities {
    let modes: &'static [Mode] = match mode {
        Mode::VideoToVideo => &[Mode::VideoToVideo],
        _ => &[Mode::ImageToVideo],
    };
    Capabilities { modes, photo: Need::Required, style_image: Need::No, prompt, negative_prompt: false, seed: false, size: false, max_side, remote }
}

/// A remote clip's length in whole seconds: the job's `seconds` (`default` when absent), 1 to
/// `max` (the operator's limit), rounded up. Errors: [`GenerateError::BadInput`].
pub fn clip_seconds(params: &serde_json::Value, default: f64, max: f64) -> Result<u64, GenerateError> {
    let secs = params.get("seconds").map(|s| s.as_f64().ok_or_else(|| GenerateError::BadInput("seconds must be a number".into()))).transpose()?.unwrap_or(default);
    if !(1.0..=max).contains(&secs) {
        return Err(GenerateError::BadInput(format!("seconds must be 1 to {max}, got {secs}")));
    }
    Ok(secs.ceil() as u64)
}

/// A provider's video file as a [`Clip`]: written to a private temporary file, probed
/// (sniffed container forced, locked-down ffprobe), and decoded frame by frame at its own
/// rate, scaled to fit `max_side` (even sizes); the first frame is also returned as the
/// poster. Blocking: call it on a blocking thread. Errors: [`GenerateError::Failed`] for a
/// file that is no MP4/WebM video or does not decode (the provider's fault, not the member's).
pub fn clip_from_file(file: &[u8], max_side: u32, video: &crate::video_work::VideoWork) -> Result<(RgbImage, Clip), GenerateError> {
    use darkroom_engine::video::{Fps, OutputCodec, VideoError};
    let provider = |e: VideoError| match e {
        VideoError::Missing(m) => GenerateError::Unavailable(m),
        other => GenerateError::Failed(format!("the provider's video: {other}")),
    };
    let tools = video.tools().map_err(provider)?;
    let mut tmp = video.file("provider-", ".video").map_err(|e| GenerateError::Failed(e.to_string()))?;
    std::io::Write::write_all(&mut tmp, file).map_err(|e| GenerateError::Failed(e.to_string()))?;
    let path = tmp.into_temp_path();
    let probe = tools.probe(&path).map_err(provider)?;
    let v = probe.video.ok_or_else(|| GenerateError::Failed("the provider's file has no video stream".into()))?;
    let fps = v.fps.unwrap_or(Fps::whole(24));
    let frames = v.frames.map(|f| f as usize).unwrap_or_else(|| (probe.duration_secs * fps.value()).round() as usize).max(1);
    let scale = (max_side as f64 / v.width.max(v.height).max(1) as f64).min(1.0);
    let (w, h) = ((((v.width as f64 * scale).round() as u32) & !1).max(2), (((v.height as f64 * scale).round() as u32) & !1).max(2));
    let mut reader = tools.frames(&path, w, h, None).map_err(provider)?;
    let poster = reader.next().ok_or_else(|| GenerateError::Failed("the provider's video has no frames".into()))?.map_err(provider)?;
    let mut first = Some(poster.clone());
    let mut made = 0usize;
    let source = Box::new(move || -> Result<RgbImage, GenerateError> {
        // The file lives as long as its reader.
        let _file = &path;
        made += 1;
        if let Some(f) = first.take() {
            return Ok(f);
        }
        match reader.next() {
            Some(frame) => frame.map_err(provider),
            None => Err(GenerateError::Failed(format!("the provider's video ended after {} frames", made - 1))),
        }
    });
    Ok((poster, Clip { width: w, height: h, fps, frames, codec: OutputCodec::H264, source }))
}

/// Why a provider's webhook (`POST /providers/{id}/webhook`) was not accepted.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WebhookError {
    /// Missing or wrong signature headers, an old timestamp or a signature that does not
    /// match (401).
    #[error("the webhook's signature does not verify: {0}")]
    Unverified(&'static str),
    /// Verified, but not what the provider sends (400).
    #[error("the webhook's body is not a prediction")]
    Malformed,
    /// This generator takes no webhooks here (404).
    #[error("no webhook is configured")]
    NotConfigured,
}

/// Progress of a run, 0..=1 (the worker maps it onto the job's percentage).
pub type Progress = Arc<dyn Fn(f32) + Send + Sync>;

/// One way to make an image.
pub trait Generator: Send + Sync {
    /// The id parameters name it by: `local-style`, `openai`, ...
    fn id(&self) -> &'static str;

    /// What it does and needs.
    fn capabilities(&self) -> &Capabilities;

    /// Checks the generator's own fields of a job's parameters before the job is charged.
    /// Errors: [`GenerateError::BadInput`] naming the field.
    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError>;

    /// Makes the image. `params` are the job's parameters (its own fields among them).
    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>>;

    /// A remote provider's circuit breaker and health figures (`None`: local).
    fn breaker(&self) -> Option<&remote::Breaker> {
        None
    }

    /// A webhook from the provider (asynchronous providers): `header` by lowercase name,
    /// the raw body, the time now in Unix seconds. Errors: [`WebhookError`].
    fn webhook(&self, _header: &dyn Fn(&str) -> Option<String>, _body: &[u8], _now_secs: i64) -> Result<(), WebhookError> {
        Err(WebhookError::NotConfigured)
    }
}

/// The generator id of parameters that name none (rows from before generators existed).
pub const DEFAULT_GENERATOR: &str = local_style::ID;

/// A job's generators in the order to try them, read from its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub chain: Vec<String>,
    /// The parameters, whole.
    pub params: serde_json::Value,
}

impl Plan {
    /// Reads `jobs.params`. Errors: not JSON, or `generator`/`fallbacks` of the wrong type.
    pub fn parse(params: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Head {
            generator: Option<String>,
            #[serde(default)]
            fallbacks: Vec<String>,
        }
        let params: serde_json::Value = serde_json::from_str(params).map_err(|e| format!("parameters are not JSON: {e}"))?;
        let head: Head = serde_json::from_value(params.clone()).map_err(|e| format!("parameters: {e}"))?;
        let mut chain = vec![head.generator.unwrap_or_else(|| DEFAULT_GENERATOR.to_string())];
        chain.extend(head.fallbacks);
        Ok(Self { chain, params })
    }
}

/// Every generator this server can run, by id.
#[derive(Clone)]
pub struct Generators {
    by_id: BTreeMap<&'static str, Arc<dyn Generator>>,
}

impl Generators {
    /// The registry: the local models when the engine is loaded, and each remote provider
    /// the operator configured.
    pub fn new(engine: Option<Arc<darkroom_engine::Engine>>, config: &Config) -> Self {
        let mut all: Vec<Arc<dyn Generator>> = Vec::new();
        if let Some(engine) = engine {
            all.push(Arc::new(local_style::LocalStyle::new(engine.clone())));
            if let Some(g) = local_motion::LocalMotion::new(engine.clone(), config) {
                all.push(Arc::new(g));
            }
            if let Some(g) = local_video_style::LocalVideoStyle::new(engine.clone(), config) {
                all.push(Arc::new(g));
            }
            all.push(Arc::new(any_style::AnyStyle::new(engine)));
        }
        let remote = remote::RemoteSettings::from_config(config);
        if let Some(g) = openai::OpenAi::from_config(config, &remote) {
            all.push(Arc::new(g));
        }
        if let Some(g) = gemini::Gemini::from_config(config, &remote) {
            all.push(Arc::new(g));
        }
        if let Some(g) = veo::Veo::from_config(config, &remote) {
            all.push(Arc::new(g));
        }
        if let Some(g) = openrouter::OpenRouter::from_config(config, &remote) {
            all.push(Arc::new(g));
        }
        if let Some(g) = automatic1111::Automatic1111::from_config(config, &remote) {
            all.push(Arc::new(g));
        }
        if let Some(g) = replicate::Replicate::from_config(config, &remote) {
            let g = Arc::new(g);
            // Video models share the account, its circuit breaker and its webhook.
            all.push(Arc::new(replicate_video::ReplicateVideo::new(g.clone(), config)));
            all.push(g);
        }
        Self { by_id: all.into_iter().map(|g| (g.id(), g)).collect() }
    }

    /// The generator with this id, if this server has it.
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Generator>> {
        self.by_id.get(id)
    }

    /// Every id, sorted.
    pub fn ids(&self) -> Vec<&'static str> {
        self.by_id.keys().copied().collect()
    }

    /// The ids of the remote providers, sorted.
    pub fn remote_ids(&self) -> Vec<&'static str> {
        self.by_id.values().filter(|g| g.capabilities().remote).map(|g| g.id()).collect()
    }

    /// Checks a plan before the job is charged: the first generator this server has can make
    /// `mode`, gets the prompt it needs, and accepts the parameters. Errors:
    /// [`GenerateError::BadInput`]; [`GenerateError::Unavailable`] when this server has none
    /// of the plan's generators.
    pub fn check(&self, plan: &Plan, mode: Mode, prompt: &str) -> Result<&Arc<dyn Generator>, GenerateError> {
        let known: Vec<_> = plan.chain.iter().filter_map(|id| self.get(id)).collect();
        let Some(first) = known.first() else {
            return Err(GenerateError::Unavailable(format!("no generator of {:?} runs on this server", plan.chain)));
        };
        if !first.capabilities().modes.contains(&mode) {
            return Err(GenerateError::BadInput(format!("{} does not make {mode}", first.id())));
        }
        if (first.capabilities().prompt == Need::Required || mode == Mode::TextToImage) && prompt.trim().is_empty() {
            return Err(GenerateError::BadInput("This template needs a prompt.".into()));
        }
        first.check(&plan.params)?;
        Ok(first)
    }
}

/// Runs the plan's generators in order; the next one is tried only when one is
/// [`GenerateError::Unavailable`].
pub async fn run(chain: &[Arc<dyn Generator>], plan: &Plan, inputs: Inputs, progress: Progress) -> Result<Output, GenerateError> {
    let mut last = GenerateError::Unavailable("no generator".into());
    for g in chain {
        match g.generate(&plan.params, inputs.clone(), progress.clone()).await {
            Ok(out) => return Ok(out),
            Err(GenerateError::Unavailable(m)) => {
                tracing::warn!(generator = g.id(), error = %m, "generator unavailable; trying the next");
                last = GenerateError::Unavailable(format!("{}: {m}", g.id()));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_parameters_are_the_local_style_network_and_fallbacks_follow_the_first() {
        let old = Plan::parse(r#"{"styles":[[3,1.0]],"strength":1.0,"preserve_color":false}"#).unwrap();
        assert_eq!(old.chain, ["local-style"]);
        let remote = Plan::parse(r#"{"generator":"openai","fallbacks":["gemini","local-style"],"style_upload_id":"u1"}"#).unwrap();
        assert_eq!(remote.chain, ["openai", "gemini", "local-style"]);
        assert!(Plan::parse("not json").is_err());
        assert!(Plan::parse(r#"{"generator": 5}"#).is_err());
    }
}

/// One generator's health, for the operator's console.
#[derive(Clone, Debug)]
pub struct ProviderHealth {
    pub id: &'static str,
    pub remote: bool,
    /// `None` for local generators (no breaker).
    pub state: Option<remote::BreakerState>,
    pub health: remote::Health,
}

impl Generators {
    /// Every generator with its breaker state and figures (local ones have none).
    pub fn health(&self) -> Vec<ProviderHealth> {
        self.by_id
            .values()
            .map(|g| ProviderHealth {
                id: g.id(),
                remote: g.capabilities().remote,
                state: g.breaker().map(|b| b.state()),
                health: g.breaker().map(|b| b.health()).unwrap_or_default(),
            })
            .collect()
    }
}
