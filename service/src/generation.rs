//! Submitting a generation: the checks, the cleaned upload, the charge and the queue entry.
//!
//! Order matters for "lose nothing": everything that can be refused is checked before the
//! charge (parameters, rights checkbox, the image itself); the charge and the queue entry
//! are one transaction in the store; a stored upload whose job could not be created is
//! removed again.

use bytes::Bytes;
use darkroom_engine::imageio::{self, UploadFormat};
pub use darkroom_engine::{StyleParams, NUM_STYLES};
use darkroom_store::jobs::{Gates, Job, NewJob};
use darkroom_store::uploads::Upload;
use darkroom_store::{new_id, now_ms};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::moderation::{self, Category, Decision, ImageGate, ReviewMode};
use crate::{AppState, ServiceError};

/// What the create form asks for (image→image with built-in styles).
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
}

/// Longest prompt accepted, in characters.
pub const MAX_PROMPT_CHARS: usize = 1000;

impl StyleRequest {
    /// Engine parameters. Errors: [`ServiceError::Invalid`] for out-of-range values.
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

/// Longest idempotency key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 128;

/// Stores a photo and queues its generation; charges `config.generation_cost` credits.
///
/// The prompt and upload gates run before the job is created (SPEC §6): a block creates the
/// job already `rejected` (charged, never refunded, the category shown to the member); a
/// review holds it in `review` (policy `hold`) for a moderator.
///
/// A repeated `idempotency_key` returns the first job without storing or charging again.
///
/// Errors: [`ServiceError::Invalid`] (rights not confirmed, bad parameters, prompt or key),
/// [`ServiceError::Upload`] (not an image, too large, ...), [`ServiceError::InsufficientCredits`],
/// [`ServiceError::Forbidden`] (account restricted or suspended).
pub async fn submit(
    state: &AppState,
    user_id: &str,
    photo: Bytes,
    rights_confirmed: bool,
    request: &StyleRequest,
    idempotency_key: &str,
) -> Result<Job, ServiceError> {
    if idempotency_key.is_empty() || idempotency_key.len() > MAX_KEY_LEN {
        return Err(ServiceError::Invalid(format!("The idempotency key must be 1 to {MAX_KEY_LEN} characters.")));
    }
    if let Some(job) = state.store.job_by_key(user_id, idempotency_key).await? {
        return Ok(job);
    }
    let params = request.params()?;
    if !rights_confirmed {
        return Err(ServiceError::Invalid("Please confirm that you have the rights and consent for this image.".into()));
    }
    let prompt_text = request.prompt.trim().to_string();
    if prompt_text.chars().count() > MAX_PROMPT_CHARS {
        return Err(ServiceError::Invalid(format!("The prompt can be at most {MAX_PROMPT_CHARS} characters.")));
    }
    moderation::ensure_may_create(state, user_id).await?;
    let limits = state.config.upload;
    let engine = state.engine.clone();
    let policy = state.policy.clone();
    let (upload_bytes, mime, width, height, hash, upload_verdict) = tokio::task::spawn_blocking(move || -> Result<_, ServiceError> {
        let hash = hex::encode(Sha256::digest(&photo));
        let decoded = imageio::decode_upload(&photo, limits)?;
        // Re-encoding the pixels is what drops EXIF/GPS/XMP: nothing else is copied over.
        let (bytes, mime) = match decoded.format {
            UploadFormat::Jpeg => (imageio::encode_jpeg(&decoded.image, 92), "image/jpeg"),
            _ => (imageio::encode_png(&decoded.image), "image/png"),
        };
        let verdict = moderation::check_image(engine.as_deref(), &decoded.image, ImageGate::Upload, &policy);
        Ok((bytes, mime, decoded.image.width(), decoded.image.height(), hash, verdict))
    })
    .await
    .map_err(ServiceError::internal)??;
    let prompt_verdict = moderation::prompt::check(&prompt_text, &state.policy.prompts);
    let policy = &state.policy;
    let decisions = [prompt_verdict.record("prompt", &policy.version), upload_verdict.record("upload", &policy.version)];
    let worst = [&prompt_verdict, &upload_verdict].into_iter().max_by_key(|v| v.decision).expect("two verdicts");
    let strike_rules = policy.strikes.rules();
    let category = worst.category.unwrap_or(Category::Other);
    let message = moderation::rejection_message(category);
    let gates = match worst.decision {
        Decision::Block => Gates {
            status: "rejected",
            category: Some(category.as_str()),
            message: Some(&message),
            decisions: &decisions,
            strike: policy.strikes.auto_block.then_some(&strike_rules),
        },
        Decision::Review if policy.images.review_mode == ReviewMode::Hold || prompt_verdict.decision == Decision::Review => {
            Gates { status: "review", category: None, message: None, decisions: &decisions, strike: None }
        }
        _ => Gates { status: "queued", category: None, message: None, decisions: &decisions, strike: None },
    };

    let upload_id = new_id();
    let ext = if mime == "image/jpeg" { "jpg" } else { "png" };
    let object_key = format!("uploads/{user_id}/{upload_id}.{ext}");
    let upload = Upload {
        id: upload_id.clone(),
        user_id: user_id.to_string(),
        object_key: object_key.clone(),
        content_hash: hash,
        mime: mime.to_string(),
        bytes: upload_bytes.len() as i64,
        width: width as i64,
        height: height as i64,
        created_at: now_ms(),
    };
    state.media.put(&object_key, Bytes::from(upload_bytes)).await?;
    let created = async {
        state.store.insert_upload(&upload).await?;
        let params_json = serde_json::to_string(&params).map_err(ServiceError::internal)?;
        let (job, _) = state
            .store
            .create_job(NewJob {
                user_id,
                upload_id: &upload_id,
                mode: "image_to_image",
                params: &params_json,
                style: params.styles.first().map_or(-1, |(s, _)| *s as i64),
                cost: state.config.generation_cost,
                visibility: "private",
                idempotency_key,
                prompt: &prompt_text,
                gates,
            })
            .await?;
        Ok::<_, ServiceError>(job)
    }
    .await;
    match created {
        Ok(job) => {
            // A concurrent retry with the same key won (this copy is not needed), or a gate
            // blocked it: blocked content is not kept (the decision record keeps the labels).
            if job.upload_id != upload_id || job.status == "rejected" {
                let _ = state.store.delete_upload(&upload_id, user_id).await;
                state.media.delete(&object_key).await?;
            }
            Ok(job)
        }
        Err(e) => {
            let _ = state.store.delete_upload(&upload_id, user_id).await;
            let _ = state.media.delete(&object_key).await;
            Err(e)
        }
    }
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
