//! Submitting a generation: the checks, the cleaned upload, the charge and the queue entry.
//!
//! Order matters for "lose nothing": everything that can be refused is checked before the
//! charge (parameters, rights checkbox, the image itself); the charge and the queue entry
//! are one transaction in the store; a stored upload whose job could not be created is
//! removed again.

use bytes::Bytes;
use darkroom_engine::imageio::{self, UploadFormat};
pub use darkroom_engine::{StyleParams, NUM_STYLES};
use darkroom_contract::{JobStatus, Mode};
use darkroom_store::jobs::{ApiOrigin, Gates, Job, NewJob};
use darkroom_store::moderation::NewDecision;
use darkroom_store::templates::Template as TemplateRow;
use darkroom_store::uploads::Upload;
use darkroom_store::{new_id, now_ms};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::moderation::{self, Category, Decision, Gate, ImageGate, ReviewMode};
use crate::{AppState, ServiceError};

/// What a generation asks for: the template and the member's own fields (the 26-style
/// network's style, blend, strength and colour choice; the prompt; for text→image the size
/// and seed).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StyleRequest {
    /// First style, 0..26.
    pub style: usize,
    /// Optional second style to blend with.
    pub blend_with: Option<usize>,
    /// Share of the second style, 0..=1 (0.5 = even blend). Ignored without `blend_with`.
    pub blend: f32,
    /// 0..=1, how much of the style to apply over the photo.
    pub strength: f32,
    /// Keep the photo's colours.
    pub preserve_color: bool,
    /// Optional prompt (up to [`MAX_PROMPT_CHARS`] characters): the item's title, and the
    /// text prompt-driven templates use. Checked by the prompt gate.
    #[serde(default)]
    pub prompt: String,
    /// The template (`store::templates`); `None`: the style template of `style` (its
    /// colour-keeping variant with `preserve_color`), or with a style image `any-style`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Output size in pixels `(width, height)`, for generators that take one (text→image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<(u32, u32)>,
    /// A seed, for generators that take one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// For video templates: the member's camera move, length and loop, over the template's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motion: Option<MotionChoice>,
}

/// What a member chooses of a clip (image→video); each field absent keeps the template's.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct MotionChoice {
    /// `still`, `zoom_in`, `zoom_out`, `pan_left`, `pan_right`, `pan_up`, `pan_down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<darkroom_engine::motion::Camera>,
    /// Clip length in seconds (2 to the operator's limit, 10 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f32>,
    /// Play forward then back, so it loops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_pong: Option<bool>,
}

impl MotionChoice {
    /// The choice from a form's or an API request's fields: `camera` by its name, `seconds`
    /// and `ping_pong` as given; `None` when none is given (the template's defaults then
    /// apply). The length's range is checked with the template, before the charge.
    /// Errors: [`ServiceError::Invalid`] for an unknown camera move.
    pub fn parse(camera: Option<&str>, seconds: Option<f32>, ping_pong: Option<bool>) -> Result<Option<Self>, ServiceError> {
        let camera = camera
            .filter(|c| !c.is_empty())
            .map(|c| {
                serde_json::from_value(serde_json::Value::String(c.to_string()))
                    .map_err(|_| ServiceError::Invalid(format!("Unknown camera move {c:?}: still, zoom_in, zoom_out, pan_left, pan_right, pan_up or pan_down.")))
            })
            .transpose()?;
        let choice = Self { camera, seconds, ping_pong };
        Ok((choice != Self::default()).then_some(choice))
    }
}

/// Longest prompt accepted, in characters.
pub const MAX_PROMPT_CHARS: usize = 1000;

impl StyleRequest {
    /// The 26-style network's parameters. Errors: [`ServiceError::Invalid`] for out-of-range
    /// values.
    pub fn params(&self) -> Result<StyleParams, ServiceError> {
        if !(0.0..=1.0).contains(&self.blend) {
            return Err(ServiceError::Invalid("The blend must be between 0 and 1.".into()));
        }
        let styles = match self.blend_with {
            Some(b) if b != self.style && self.blend > 0.0 => vec![(self.style, 1.0 - self.blend), (b, self.blend)],
            _ => vec![(self.style, 1.0)],
        };
        let p = StyleParams { styles, strength: self.strength, preserve_color: self.preserve_color };
        p.weights().map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(p)
    }
}

/// The job's parameters (`jobs.params`, see [`crate::generators::Plan`]) from the template
/// and the request: the template's generator chain and fixed fields; for the 26-style network
/// the request's styles; with a style image (its upload id) the any-image-as-style
/// generator's. Returns them with the first style's index (-1 if none).
/// Errors: [`ServiceError::Invalid`] for out-of-range values, or a style image the template
/// does not take (or lacks).
fn job_params(request: &StyleRequest, template: &TemplateRow, style_upload_id: Option<&str>) -> Result<(serde_json::Value, i64), ServiceError> {
    use crate::generators::{any_style, local_motion, local_style, local_video_style};
    let mut base = crate::templates::params(template)?;
    let generator = base["generator"].as_str().unwrap_or_default().to_string();
    if let Some((w, h)) = request.size {
        base["width"] = w.into();
        base["height"] = h.into();
    }
    if let Some(seed) = request.seed {
        base["seed"] = seed.into();
    }
    if let Some(m) = &request.motion {
        // The member's camera move, length and loop, over the template's defaults. Remote
        // providers take the length (and the price follows it); the camera move and the loop
        // are the local engine's.
        if !matches!(template.mode, Mode::ImageToVideo | Mode::VideoToVideo) {
            return Err(ServiceError::Invalid(format!("The template {:?} makes an image: camera, seconds and ping_pong apply to video templates.", template.id)));
        }
        if let Some(c) = m.camera {
            base["camera"] = serde_json::to_value(c).map_err(ServiceError::internal)?;
        }
        if let Some(secs) = m.seconds {
            if !secs.is_finite() {
                return Err(ServiceError::Invalid("The length must be a number of seconds.".into()));
            }
            base["seconds"] = secs.into();
        }
        if let Some(l) = m.ping_pong {
            base["ping_pong"] = l.into();
        }
    }
    match style_upload_id {
        Some(id) if generator == local_style::ID || generator == any_style::ID => {
            if !(0.0..=1.0).contains(&request.strength) {
                return Err(ServiceError::Invalid("The strength must be between 0 and 1.".into()));
            }
            let v = serde_json::json!({
                "generator": any_style::ID, "style_upload_id": id,
                "strength": request.strength, "preserve_color": request.preserve_color,
            });
            Ok((v, -1))
        }
        Some(_) => Err(ServiceError::Invalid(format!("The template {:?} takes no style image.", template.id))),
        None if generator == any_style::ID => Err(ServiceError::Invalid("This template needs a style image.".into())),
        None if generator == local_style::ID => {
            let p = request.params()?;
            let mut v = serde_json::to_value(&p).map_err(ServiceError::internal)?;
            for field in ["generator", "fallbacks", "prompt_template", "negative_prompt"] {
                if let Some(x) = base.get(field) {
                    v[field] = x.clone();
                }
            }
            Ok((v, p.styles.first().map_or(-1, |(s, _)| *s as i64)))
        }
        None if generator == local_motion::ID || generator == local_video_style::ID => {
            // The end look is the member's style choice; the template fixes the rest (where
            // the look starts, frame rate, size, codec) and the defaults of the camera move,
            // length and loop, which the member's choice overrides (above).
            let p = request.params()?;
            base["styles"] = serde_json::to_value(&p.styles).map_err(ServiceError::internal)?;
            base["strength"] = p.strength.into();
            base["preserve_color"] = p.preserve_color.into();
            Ok((base, p.styles.first().map_or(-1, |(s, _)| *s as i64)))
        }
        None => Ok((base, -1)),
    }
}

/// A job's parameters for a run of `template` with its own fixed fields only (the style, strength
/// and colour choice it names; for any-image-as-style a style image given to the generator
/// directly): what a template's preview runs with ([`crate::templates::make_preview`]).
/// Errors: as [`job_params`].
pub(crate) fn template_only_params(template: &TemplateRow) -> Result<serde_json::Value, ServiceError> {
    let fixed: serde_json::Value = serde_json::from_str(&template.params).unwrap_or_default();
    let request = StyleRequest {
        style: fixed["style"].as_u64().unwrap_or(0) as usize,
        blend_with: None,
        blend: 0.0,
        strength: fixed["strength"].as_f64().unwrap_or(1.0) as f32,
        preserve_color: fixed["preserve_color"].as_bool().unwrap_or(false),
        prompt: String::new(),
        template: Some(template.id.clone()),
        size: None,
        seed: Some(1),
        motion: None,
    };
    let any_style = crate::templates::chain(template)?.first().is_some_and(|g| g == crate::generators::any_style::ID);
    Ok(job_params(&request, template, any_style.then_some("sample"))?.0)
}

/// The template a request without one means: `any-style` with a style image, else the style
/// template of its first style (`style-NN`, or `style-NN-color` keeping the photo's colours).
fn default_template(request: &StyleRequest, style_image: bool) -> String {
    if style_image {
        return "any-style".into();
    }
    let id = crate::api::style_id(request.style);
    if request.preserve_color { format!("{id}-color") } else { id }
}

/// Longest idempotency key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 128;

/// Where a generation's source image comes from.
pub enum Source {
    /// Bytes as sent (web form, API base64 or multipart): checked, cleaned and stored now.
    Photo(Bytes),
    /// An image of the member's stored earlier: by [`store_api_upload`] (its upload gate's
    /// record is kept with it) or by an earlier generation (the gate runs on it again).
    Upload(String),
    /// The result of one of the member's succeeded generations ("Use as input"): checked,
    /// cleaned and stored as a new upload, like a photo sent now.
    Result(String),
}

/// A generation to submit.
pub struct Submission<'a> {
    pub user_id: &'a str,
    /// The photo; `None` for text→image templates (and only for them).
    pub source: Option<Source>,
    /// A second image whose look is applied (any image as the style), if the member sent one.
    pub style_source: Option<Source>,
    /// The member confirmed rights and consent for the image (for API keys: when the key
    /// was created).
    pub rights_confirmed: bool,
    pub request: &'a StyleRequest,
    /// Client-chosen, 1..=[`MAX_KEY_LEN`] bytes; the same key returns the same job.
    pub idempotency_key: &'a str,
    /// Set for API requests: the key (scope, cap) and the request's hash.
    pub api: Option<ApiSubmit<'a>>,
}

/// The API side of a [`Submission`].
pub struct ApiSubmit<'a> {
    pub key: &'a darkroom_store::api::ApiKey,
    /// SHA-256 (hex) of the request's content: a reused idempotency key with another
    /// request is refused.
    pub request_hash: &'a str,
    /// The idempotency key was made for this request (none was sent): no earlier job can
    /// hold it, so it is not looked up.
    pub key_is_new: bool,
    /// Write the request's log row in the job's transaction (the caller then does not log a
    /// created generation itself).
    pub log: Option<darkroom_store::jobs::RequestLog<'a>>,
    /// The key's owner as read with the key (`crate::api::authenticate`), so the creation
    /// checks need not read the member again; `None`: read now.
    pub owner: Option<&'a darkroom_store::users::Eligibility>,
}

/// A photo as checked and cleaned for storage.
struct Cleaned {
    bytes: Vec<u8>,
    mime: &'static str,
    width: u32,
    height: u32,
    /// SHA-256 of the bytes as sent, hex.
    hash: String,
    verdict: moderation::Verdict,
    /// A clip's length, milliseconds (`None`: an image).
    duration_ms: Option<i64>,
}

/// Decodes (magic bytes, limits, EXIF orientation), re-encodes without metadata and runs
/// the upload gate, off the async runtime. Errors: [`ServiceError::Upload`].
async fn clean(state: &AppState, photo: Bytes) -> Result<Cleaned, ServiceError> {
    let limits = state.config.upload;
    let engine = state.engine.clone();
    let policy = state.policy.clone();
    tokio::task::spawn_blocking(move || -> Result<_, ServiceError> {
        let hash = hex::encode(Sha256::digest(&photo));
        let decoded = imageio::decode_upload(&photo, limits)?;
        // Re-encoding the pixels is what drops EXIF/GPS/XMP: nothing else is copied over.
        let (bytes, mime) = match decoded.format {
            UploadFormat::Jpeg => (imageio::encode_jpeg(&decoded.image, 92), "image/jpeg"),
            _ => (imageio::encode_png(&decoded.image), "image/png"),
        };
        let verdict = moderation::check_image(engine.as_deref(), &decoded.image, ImageGate::Upload, &policy);
        Ok(Cleaned { bytes, mime, width: decoded.image.width(), height: decoded.image.height(), hash, verdict, duration_ms: None })
    })
    .await
    .map_err(ServiceError::internal)?
}

/// Most frames of an uploaded clip the upload gate looks at: one a second, up to this many.
pub const MAX_UPLOAD_GATE_FRAMES: usize = 30;

/// Longest side, pixels, of the frames the upload gate looks at (the detector letterboxes
/// to 320 px anyway).
const GATE_FRAME_SIDE: u32 = 640;

/// Checks and cleans an uploaded clip (`darkroom_engine::video::VideoTools::clean_upload`:
/// the first video stream only, no sound, tags or chapters, at most the operator's
/// `DARKROOM_VIDEO_MAX_SECS`, re-encoded), then runs the upload gate on one frame a second
/// (at most [`MAX_UPLOAD_GATE_FRAMES`]), off the async runtime, in a private temporary
/// folder removed afterwards. Errors: [`ServiceError::Invalid`] saying what is wrong with
/// the file; [`ServiceError::Unavailable`] without ffmpeg.
async fn clean_video(state: &AppState, sent: Bytes) -> Result<Cleaned, ServiceError> {
    use darkroom_engine::video::{ClipLimits, Fps, VideoError};
    let limits = ClipLimits { max_bytes: state.config.upload.max_bytes as u64, max_secs: state.config.video_max_secs as f64, ..Default::default() };
    let (engine, policy) = (state.engine.clone(), state.policy.clone());
    let video = crate::video_work::VideoWork::from_config(&state.config);
    tokio::task::spawn_blocking(move || -> Result<Cleaned, ServiceError> {
        let video_err = |e: VideoError| match e {
            VideoError::BadInput(m) => ServiceError::Invalid(m),
            VideoError::Missing(m) => ServiceError::Unavailable(format!("Videos cannot be processed on this server ({m}).")),
            other => ServiceError::internal(other),
        };
        let tools = video.tools().map_err(video_err)?;
        let hash = hex::encode(Sha256::digest(&sent));
        let dir = video.dir("upload-").map_err(ServiceError::internal)?;
        let (input, out) = (dir.path().join("sent"), dir.path().join("clean.mp4"));
        std::fs::write(&input, &sent).map_err(ServiceError::internal)?;
        let clean = tools.clean_upload(&input, &out, &limits).map_err(video_err)?;
        let scale = (GATE_FRAME_SIDE as f64 / clean.width.max(clean.height) as f64).min(1.0);
        let (gw, gh) = (((clean.width as f64 * scale) as u32).max(2) & !1, ((clean.height as f64 * scale) as u32).max(2) & !1);
        let mut verdict = moderation::Verdict::allow(moderation::IMAGE_DETECTOR);
        for (i, frame) in tools.frames(&out, gw, gh, Some(Fps::whole(1))).map_err(video_err)?.take(MAX_UPLOAD_GATE_FRAMES).enumerate() {
            let frame = frame.map_err(video_err)?;
            // Boxes in the clip's own pixels, as the review queue shows its frames.
            let seen = moderation::check_image(engine.as_deref(), &frame, ImageGate::Upload, &policy).scale_boxes(clean.width as f64 / gw as f64);
            verdict.add_frame(seen, i as f64);
            if verdict.decision == Decision::Block {
                break;
            }
        }
        let bytes = std::fs::read(&out).map_err(ServiceError::internal)?;
        let duration_ms = Some((clean.duration_secs * 1000.0).round() as i64);
        Ok(Cleaned { bytes, mime: "video/mp4", width: clean.width, height: clean.height, hash, verdict, duration_ms })
    })
    .await
    .map_err(ServiceError::internal)?
}

/// Stores the cleaned photo or clip and its upload row. On a row error the file is removed again.
async fn store_cleaned(state: &AppState, user_id: &str, c: Cleaned, gate: Option<String>) -> Result<Upload, ServiceError> {
    let upload_id = new_id();
    let ext = match c.mime {
        "image/jpeg" => "jpg",
        "video/mp4" => "mp4",
        _ => "png",
    };
    let object_key = format!("uploads/{user_id}/{upload_id}.{ext}");
    let upload = Upload {
        id: upload_id,
        user_id: user_id.to_string(),
        object_key: object_key.clone(),
        content_hash: c.hash,
        mime: c.mime.to_string(),
        bytes: c.bytes.len() as i64,
        width: c.width as i64,
        height: c.height as i64,
        created_at: now_ms(),
        gate,
        duration_ms: c.duration_ms,
    };
    state.media.put(&object_key, Bytes::from(c.bytes)).await?;
    if let Err(e) = state.store.insert_upload(&upload).await {
        let _ = state.media.delete(&object_key).await;
        return Err(e.into());
    }
    Ok(upload)
}

/// `POST /api/v1/uploads`: checks, cleans and stores an image or a clip (MP4 or WebM, told by
/// its first bytes) for later generations, with its upload-gate decision (for a clip, on one
/// frame a second). An upload the gate blocks is not stored.
///
/// Errors: [`ServiceError::Upload`] (an image) or [`ServiceError::Invalid`] (a clip) saying
/// what is wrong with the file; [`ServiceError::ContentRejected`] when blocked;
/// [`ServiceError::Forbidden`] for a restricted or suspended account;
/// [`ServiceError::Unavailable`] for a clip on a server without ffmpeg.
pub async fn store_api_upload(state: &AppState, user_id: &str, sent: Bytes) -> Result<Upload, ServiceError> {
    moderation::ensure_may_create(state, user_id).await?;
    let cleaned = if darkroom_engine::video::Container::sniff(&sent).is_some() { clean_video(state, sent).await? } else { clean(state, sent).await? };
    if cleaned.verdict.decision == Decision::Block {
        let category = cleaned.verdict.category.unwrap_or(Category::Other);
        tracing::info!(user_id, category = category.as_str(), "API upload blocked by the upload gate");
        let what = if cleaned.duration_ms.is_some() { "video" } else { "image" };
        return Err(ServiceError::ContentRejected(format!("The {what} was rejected by moderation ({}).", category.label())));
    }
    let record = cleaned.verdict.record(Gate::Upload, &state.policy.version);
    let gate = serde_json::to_string(&record).map_err(ServiceError::internal)?;
    store_cleaned(state, user_id, cleaned, Some(gate)).await
}

/// Checks, stores (for a [`Source::Photo`]) and queues a generation with its template;
/// charges the template's cost ([`crate::templates::cost`]) and counts one use of it.
///
/// The prompt and upload gates run before the job is created (SPEC §6): a block creates the
/// job already `rejected` (charged, never refunded, the category shown to the member); a
/// review holds it in `review` (policy `hold`) for a moderator.
///
/// A repeated `idempotency_key` returns the first job without storing or charging again; for
/// API requests only if the request is the same (else [`ServiceError::Conflict`]). Returns
/// the job and whether it was created now (`false`: an earlier request's, nothing charged).
///
/// Errors: [`ServiceError::Invalid`] (rights not confirmed, bad parameters, prompt or key; an
/// unknown, archived or unavailable template; a photo missing for image→image or sent for
/// text→image),
/// [`ServiceError::Upload`] (not an image, too large, ...), [`ServiceError::NotFound`] (an
/// unknown upload id), [`ServiceError::InsufficientCredits`], [`ServiceError::CreditCapReached`]
/// (the key's cap), [`ServiceError::Forbidden`] (account restricted or suspended).
pub async fn submit_with(state: &AppState, sub: Submission<'_>) -> Result<(Job, bool), ServiceError> {
    let Submission { user_id, source, style_source, rights_confirmed, request, idempotency_key, api } = sub;
    if idempotency_key.is_empty() || idempotency_key.len() > MAX_KEY_LEN {
        return Err(ServiceError::Invalid(format!("The idempotency key must be 1 to {MAX_KEY_LEN} characters.")));
    }
    let same_request = |job: &Job| match &api {
        Some(a) if job.request_hash.as_deref() != Some(a.request_hash) => {
            Err(ServiceError::Conflict("This Idempotency-Key was already used with a different request.".into()))
        }
        _ => Ok(()),
    };
    let key_is_new = api.as_ref().is_some_and(|a| a.key_is_new);
    if !key_is_new {
        if let Some(job) = state.store.job_by_key(user_id, idempotency_key).await? {
            same_request(&job)?;
            return Ok((job, false));
        }
    }
    let template_id = request.template.clone().unwrap_or_else(|| default_template(request, style_source.is_some()));
    let template = crate::templates::offered(state, &template_id).await?;
    let mode = template.mode;
    match (mode, source.is_some()) {
        (Mode::ImageToImage, false) => return Err(ServiceError::Invalid("This template changes a photo: send one.".into())),
        (Mode::ImageToVideo, false) => return Err(ServiceError::Invalid("This template makes a clip from a photo: send one.".into())),
        (Mode::TextToImage, true) => {
            return Err(ServiceError::Invalid(format!("The template {template_id:?} makes an image from the prompt alone: send no photo.")))
        }
        (Mode::VideoToVideo, false) => return Err(ServiceError::Invalid("This template restyles a video: send one.".into())),
        _ => {}
    }
    // Checked before anything is stored (the style image's id is known only once it is).
    job_params(request, &template, style_source.as_ref().map(|_| ""))?;
    if !rights_confirmed && (source.is_some() || style_source.is_some()) {
        return Err(ServiceError::Invalid("Please confirm that you have the rights and consent for this image.".into()));
    }
    // The limit counts the prompt as sent (as the API document's `maxLength` does); it is
    // stored and shown without invisible characters (no bidi spoofing of titles), which the
    // gate reads out too.
    if request.prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(ServiceError::Invalid(format!("The prompt can be at most {MAX_PROMPT_CHARS} characters.")));
    }
    let prompt_text = moderation::prompt::visible_text(request.prompt.trim()).trim().to_string();
    let member = match api.as_ref().and_then(|a| a.owner) {
        Some(owner) => {
            moderation::check_may_create(state, owner).await?;
            owner.clone()
        }
        None => moderation::ensure_may_create(state, user_id).await?,
    };
    let visibility = crate::settings::get(state).await?.new_result_visibility(member.publish_reviewed_at.is_some());
    let policy = &state.policy;
    // The uploads: stored now (a new photo), or earlier API uploads with their gate's record.
    let photo = match source {
        None => None,
        Some(src) => Some(take(state, user_id, src, mode == Mode::VideoToVideo).await?),
    };
    let style = match style_source {
        None => None,
        Some(src) => match take(state, user_id, src, false).await {
            Ok(s) => Some(s),
            Err(e) => {
                let stored: Vec<(&Upload, bool)> = photo.iter().map(|(u, _, f)| (u, *f)).collect();
                forget(state, user_id, &stored).await;
                return Err(e);
            }
        },
    };
    let stored: Vec<(&Upload, bool)> = photo.iter().chain(style.iter()).map(|(u, _, f)| (u, *f)).collect();
    let (mut params, style_index) = match job_params(request, &template, style.as_ref().map(|(u, _, _)| u.id.as_str())) {
        Ok(p) => p,
        Err(e) => {
            forget(state, user_id, &stored).await;
            return Err(e);
        }
    };
    // A restyled clip is as long as the clip sent: its price per second follows that.
    if let Some(ms) = photo.as_ref().and_then(|(u, _, _)| u.duration_ms).filter(|_| mode == Mode::VideoToVideo) {
        params["seconds"] = (ms as f64 / 1000.0).into();
    }
    let plan = crate::generators::Plan::parse(&params.to_string()).map_err(ServiceError::internal)?;
    if let Err(e) = state.generators.check(&plan, mode, &prompt_text) {
        forget(state, user_id, &stored).await;
        return Err(match e {
            crate::generators::GenerateError::BadInput(m) => ServiceError::Invalid(m),
            other => ServiceError::Invalid(format!("The template {template_id:?} cannot run now: {other}")),
        });
    }
    let prompt_verdict = moderation::prompt::check(&prompt_text, &policy.prompts);
    let prompt_record = prompt_verdict.record(Gate::Prompt, &policy.version);
    let mut decisions = vec![prompt_record];
    decisions.extend(photo.iter().chain(style.iter()).map(|(_, r, _)| r.clone()));
    let worst = decisions.iter().max_by_key(|r| r.decision).expect("the prompt's record at least");
    let strike_rules = policy.strikes.rules();
    let category = worst.category.unwrap_or(Category::Other);
    let message = moderation::rejection_message(category);
    let gates = match worst.decision {
        Decision::Block => Gates {
            status: JobStatus::Rejected,
            category: Some(category),
            message: Some(&message),
            decisions: &decisions,
            strike: policy.strikes.auto_block.then_some(&strike_rules),
        },
        Decision::Review if policy.images.review_mode == ReviewMode::Hold || prompt_verdict.decision == Decision::Review => {
            Gates { status: JobStatus::Review, category: None, message: None, decisions: &decisions, strike: None }
        }
        _ => Gates { status: JobStatus::Queued, category: None, message: None, decisions: &decisions, strike: None },
    };
    let cap = match &api {
        Some(a) => crate::api::cap_window(a.key, now_ms())?,
        None => None,
    };
    let created = async {
        let params_json = params.to_string();
        let request_id = crate::request_id::current();
        let created = state
            .store
            .create_job(NewJob {
                user_id,
                upload_id: photo.as_ref().map(|(u, _, _)| u.id.as_str()),
                template_id: Some(&template.id),
                style_upload_id: style.as_ref().map(|(u, _, _)| u.id.as_str()),
                mode,
                params: &params_json,
                style: style_index,
                cost: crate::templates::cost_for(state, &template, &params),
                visibility,
                idempotency_key,
                prompt: &prompt_text,
                gates,
                api: api.as_ref().map(|a| ApiOrigin {
                    key_id: &a.key.id,
                    request_hash: a.request_hash,
                    cap,
                    log: a.log,
                }),
                request_id: request_id.as_deref(),
            })
            .await?;
        Ok::<_, ServiceError>(created)
    }
    .await;
    match created {
        Ok((job, created)) => {
            // A concurrent retry with the same key won (this copy is not needed), or a gate
            // blocked it: a blocked photo sent with the request is not kept (the decision
            // record keeps the labels). An earlier API upload stays for other generations.
            if !created || job.status == JobStatus::Rejected {
                forget(state, user_id, &stored).await;
            }
            if !created {
                same_request(&job)?;
            }
            Ok((job, created))
        }
        Err(e) => {
            forget(state, user_id, &stored).await;
            Err(e)
        }
    }
}

/// The upload a [`Source`] names: a new photo checked, cleaned and stored now (`true`: made
/// by this request), or an earlier API upload with its upload gate's record.
async fn take(state: &AppState, user_id: &str, source: Source, clip: bool) -> Result<(Upload, NewDecision, bool), ServiceError> {
    let wrong_kind = || {
        ServiceError::Invalid(if clip { "This template takes a video (MP4 or WebM)." } else { "This template takes a photo (JPEG, PNG or WebP), not a video." }.into())
    };
    match source {
        Source::Photo(photo) => {
            let is_clip = darkroom_engine::video::Container::sniff(&photo).is_some();
            if is_clip != clip {
                return Err(wrong_kind());
            }
            let cleaned = if clip { clean_video(state, photo).await? } else { clean(state, photo).await? };
            let record = cleaned.verdict.record(Gate::Upload, &state.policy.version);
            Ok((store_cleaned(state, user_id, cleaned, None).await?, record, true))
        }
        Source::Upload(id) => {
            let upload = state.store.upload(&id, user_id).await?;
            if upload.mime.starts_with("video/") != clip {
                return Err(wrong_kind());
            }
            let record = match upload.gate.as_deref().and_then(|g| serde_json::from_str::<NewDecision>(g).ok()) {
                Some(r) => r,
                // A web upload (its decision is with its first job): the gate runs again.
                None => {
                    let bytes = state.media.get(&upload.object_key).await?;
                    let cleaned = if clip { clean_video(state, bytes).await? } else { clean(state, bytes).await? };
                    cleaned.verdict.record(Gate::Upload, &state.policy.version)
                }
            };
            Ok((upload, record, false))
        }
        Source::Result(job_id) => {
            let job = state.store.job(&job_id, user_id).await?;
            let key = job.result_key.as_deref().filter(|_| job.status == JobStatus::Succeeded && job.hidden_at.is_none());
            let Some(key) = key else { return Err(ServiceError::Invalid("Only a finished, visible result can be used as the photo.".into())) };
            let bytes = state.media.get(key).await?;
            Box::pin(take(state, user_id, Source::Photo(bytes), clip)).await
        }
    }
}

/// Removes the uploads this request stored (`true`) when no job keeps them: a concurrent
/// retry won, a gate blocked the request, or it failed. Earlier API uploads stay. Best
/// effort: a file left behind is purged by retention.
async fn forget(state: &AppState, user_id: &str, uploads: &[(&Upload, bool)]) {
    for (upload, fresh) in uploads {
        if *fresh {
            let _ = state.store.delete_upload(&upload.id, user_id).await;
            if let Err(e) = state.media.delete(&upload.object_key).await {
                tracing::warn!(key = %upload.object_key, error = %e, "removing an unused upload failed");
            }
        }
    }
}

/// "Run again": a new generation with the same template and inputs as `job_id` (the same
/// photo and style image, prompt and parameters), charged and checked like any other (the
/// gates run again, the template must still be offered). `idempotency_key` as for
/// [`submit_with`].
///
/// Errors: [`ServiceError::NotFound`] (not the member's), [`ServiceError::Conflict`] while it
/// is still queued or running, [`ServiceError::Invalid`] when it was made before templates or
/// its photo is no longer kept; and every error of [`submit_with`].
pub async fn run_again(state: &AppState, user_id: &str, job_id: &str, idempotency_key: &str) -> Result<Job, ServiceError> {
    let job = state.store.job(job_id, user_id).await?;
    if !job.status.is_terminal() {
        return Err(ServiceError::Conflict("This generation has not finished yet.".into()));
    }
    let Some(template) = job.template_id.clone() else {
        return Err(ServiceError::Invalid("This generation was made before templates: make it again from the create page.".into()));
    };
    let p: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
    let styles: Vec<(usize, f32)> = serde_json::from_value(p["styles"].clone()).unwrap_or_default();
    let request = StyleRequest {
        style: styles.first().map_or(0, |s| s.0),
        blend_with: styles.get(1).map(|s| s.0),
        blend: styles.get(1).map_or(0.5, |s| s.1),
        strength: p["strength"].as_f64().unwrap_or(1.0) as f32,
        preserve_color: p["preserve_color"].as_bool().unwrap_or(false),
        prompt: job.prompt.clone(),
        template: Some(template),
        size: p["width"].as_u64().zip(p["height"].as_u64()).map(|(w, h)| (w as u32, h as u32)),
        seed: p["seed"].as_u64(),
        // A clip's own choices (none for other modes; the template's fill in for absent ones).
        motion: serde_json::from_value::<MotionChoice>(p.clone()).ok().filter(|m| m != &MotionChoice::default()),
    };
    let gone = |e: ServiceError| match e {
        ServiceError::NotFound => ServiceError::Invalid("The photo of this generation is no longer kept: start again from the create page.".into()),
        e => e,
    };
    let sub = Submission {
        user_id,
        source: job.upload_id.clone().map(Source::Upload),
        style_source: job.style_upload_id.clone().map(Source::Upload),
        rights_confirmed: true, // confirmed for these images when they were first sent
        request: &request,
        idempotency_key,
        api: None,
    };
    submit_with(state, sub).await.map(|(j, _)| j).map_err(gone)
}

/// Removes a finished job from the member's gallery and its files from storage.
///
/// Errors: [`ServiceError::NotFound`] (also for others' jobs), [`ServiceError::Conflict`]
/// while it is still queued or running.
pub async fn delete(state: &AppState, user_id: &str, job_id: &str) -> Result<(), ServiceError> {
    let job = state.store.delete_job(job_id, user_id).await?;
    state.media.delete_result(job.result_key.as_deref(), job.thumb_key.as_deref()).await?;
    Ok(())
}
