//! The API for integrators (SPEC §9): keys, who is calling, the generation object, templates.
//!
//! - Keys: `dk_` + 40 random base62 characters (≈238 bits), shown once; stored as SHA-256
//!   (a fast hash is enough for a secret this long: there is nothing to brute-force). A key
//!   works while not revoked, not expired and its owner not suspended: checked on every
//!   request ([`authenticate`]).
//! - Scopes: `generate` (create, cancel, delete, upload) and `read` (everything else).
//! - Caps: credits per UTC day or calendar month, checked in the job's own transaction.
//! - The generation object follows Replicate's prediction (`id`, `status`, `input`, `output`,
//!   `error`, `created_at`, `started_at`, `completed_at`, `urls`), with Darkroom's statuses
//!   and credits; output URLs are signed and expire (never permanent).

use darkroom_store::api::{ApiKey, KeyAuth, NewApiKey};
use darkroom_store::jobs::Job;
use darkroom_store::now_ms;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::generation::StyleRequest;
use crate::sharing::now_secs;
use crate::generation::NUM_STYLES;
use crate::{styles, AppState, ServiceError};

/// What every API key secret starts with.
pub const KEY_PREFIX: &str = "dk_";
/// Random characters after [`KEY_PREFIX`].
pub const KEY_RANDOM_CHARS: usize = 40;
/// Characters of the secret kept for display (`dk_` + 8).
pub const DISPLAY_PREFIX_CHARS: usize = 11;
/// The scopes a key may carry.
pub const SCOPES: [&str; 2] = ["generate", "read"];
/// Live (not revoked) keys a member may hold.
pub const MAX_KEYS: usize = 25;
/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// SHA-256 of a key secret, lowercase hex (what the store keeps).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new secret: `dk_` + [`KEY_RANDOM_CHARS`] base62 characters from the OS CSPRNG.
pub fn new_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let tail: String = (0..KEY_RANDOM_CHARS).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("{KEY_PREFIX}{tail}")
}

/// What the keys page sends to create a key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewKeyForm {
    pub name: String,
    /// Subset of [`SCOPES`], at least one.
    pub scopes: Vec<String>,
    /// Optional cap in credits per `cap_period`.
    pub cap_credits: Option<i64>,
    /// `day` or `month`; required with a cap.
    pub cap_period: Option<String>,
    /// Optional lifetime in days, 1..=365.
    pub expires_in_days: Option<i64>,
    /// The member confirms the rights and consent for every image sent with this key.
    pub rights_confirmed: bool,
}

/// Creates a key for the member; returns it and its secret (shown once, never stored).
///
/// Errors: [`ServiceError::Invalid`] (name, scopes, cap, expiry, rights not confirmed, too
/// many keys), [`ServiceError::Forbidden`] (suspended account).
pub async fn create_key(state: &AppState, user_id: &str, form: &NewKeyForm) -> Result<(ApiKey, String), ServiceError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::Invalid(format!("Give the key a name of 1 to {MAX_NAME_CHARS} characters.")));
    }
    let mut scopes: Vec<&str> = SCOPES.iter().copied().filter(|s| form.scopes.iter().any(|f| f == s)).collect();
    scopes.dedup();
    if scopes.is_empty() || form.scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ServiceError::Invalid("Choose the key's scopes: generate, read or both.".into()));
    }
    let cap_period = match (form.cap_credits, form.cap_period.as_deref().filter(|p| !p.is_empty())) {
        (None, _) => None,
        (Some(c), _) if !(0..=1_000_000_000).contains(&c) => return Err(ServiceError::Invalid("The credit cap must be between 0 and 1,000,000,000.".into())),
        (Some(_), Some(p @ ("day" | "month"))) => Some(p),
        (Some(_), _) => return Err(ServiceError::Invalid("A credit cap needs a period: day or month.".into())),
    };
    let expires_at = match form.expires_in_days {
        None => None,
        Some(d) if (1..=365).contains(&d) => Some(now_ms() + d * 86_400_000),
        Some(_) => return Err(ServiceError::Invalid("A key can expire in 1 to 365 days, or never.".into())),
    };
    if !form.rights_confirmed {
        return Err(ServiceError::Invalid("Please confirm that you will only send images you have the rights and consent for.".into()));
    }
    if state.store.standing(user_id).await?.suspended_at.is_some() {
        return Err(ServiceError::Forbidden("This account is suspended.".into()));
    }
    let live = state.store.api_keys(user_id).await?.into_iter().filter(|k| k.revoked_at.is_none()).count();
    if live >= MAX_KEYS {
        return Err(ServiceError::Invalid(format!("You can hold at most {MAX_KEYS} keys; revoke one first.")));
    }
    let secret = new_secret();
    let key = state
        .store
        .create_api_key(NewApiKey {
            user_id,
            name,
            prefix: &secret[..DISPLAY_PREFIX_CHARS],
            secret_hash: &secret_hash(&secret),
            scopes: &scopes.join(","),
            cap_credits: form.cap_credits,
            cap_period,
            expires_at,
        })
        .await?;
    Ok((key, secret))
}

/// Finds the key for a bearer secret and checks it may be used now. Returns it with its
/// owner's eligibility, read in the same query (what a creation checks next).
///
/// Errors: [`ServiceError::Unauthorized`] (missing, unknown, revoked or expired key: one
/// message, no oracle), [`ServiceError::Forbidden`] (the owner is suspended).
pub async fn authenticate(state: &AppState, secret: &str) -> Result<KeyAuth, ServiceError> {
    let bad = || ServiceError::Unauthorized("Invalid API key. Create one on the API keys page and send it as `Authorization: Bearer dk_…`.".into());
    if !secret.starts_with(KEY_PREFIX) || secret.len() > 200 {
        return Err(bad());
    }
    let Some(KeyAuth { key, owner }) = state.store.api_key_by_hash(&secret_hash(secret)).await? else { return Err(bad()) };
    let now = now_ms();
    if key.revoked_at.is_some() || key.expires_at.is_some_and(|t| t <= now) {
        return Err(bad());
    }
    if owner.suspended_at.is_some() {
        return Err(ServiceError::Forbidden("This account is suspended; its API keys do not work.".into()));
    }
    // Last used, to the minute (job creation marks it exactly): most requests write nothing.
    if key.last_used_at.is_none_or(|t| t < now - 60_000) {
        state.store.touch_api_key(&key.id, now, now - 60_000).await?;
    }
    Ok(KeyAuth { key, owner })
}

/// Errors with [`ServiceError::Forbidden`] unless the key carries `scope`.
pub fn require_scope(key: &ApiKey, scope: &str) -> Result<(), ServiceError> {
    if key.has_scope(scope) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!("This API key lacks the `{scope}` scope.")))
    }
}

/// Start of the cap period containing `now_ms` (UTC midnight, or the first of the month),
/// in Unix milliseconds.
pub fn period_start(period: &str, now_ms: i64) -> i64 {
    let day = now_ms.div_euclid(86_400_000) * 86_400_000;
    if period != "month" {
        return day;
    }
    match time::OffsetDateTime::from_unix_timestamp(day / 1000) {
        Ok(t) => day - (t.day() as i64 - 1) * 86_400_000,
        Err(_) => day,
    }
}

/// The key's cap as `(credits, since_ms)` for a job created at `now_ms`, if it has one.
/// Errors: [`ServiceError::Forbidden`] without the `generate` scope.
pub fn cap_window(key: &ApiKey, now_ms: i64) -> Result<Option<(i64, i64)>, ServiceError> {
    require_scope(key, "generate")?;
    Ok(key.cap_credits.map(|c| (c, period_start(key.cap_period.as_deref().unwrap_or("month"), now_ms))))
}

/// Credits the key spent in its current cap period (month if it has no cap).
pub async fn spend_this_period(state: &AppState, key: &ApiKey) -> Result<i64, ServiceError> {
    let since = period_start(key.cap_period.as_deref().unwrap_or("month"), now_ms());
    Ok(state.store.api_key_spend(&key.id, since).await?)
}

/// A built-in style, as `GET /api/v1/styles` lists it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Style {
    /// The engine's index, 0..=25 (what `style` and `blend_with` take).
    pub index: usize,
    /// Stable id, e.g. `style-07`; also accepted as an OpenAI `model`.
    pub id: String,
    /// Its name, e.g. `Night Gold` (its template's, `style-08`: the operator's).
    pub name: String,
    /// One line on its look.
    pub description: String,
    /// Path of a 160×160 JPEG preview, relative to the site.
    pub preview_url: String,
}

/// The built-in styles offered now (`styles::catalogue`), named in English. Errors: the store's.
pub async fn styles(state: &AppState) -> Result<Vec<Style>, ServiceError> {
    Ok(styles::catalogue(state, "en")
        .await?
        .into_iter()
        .map(|s| Style { index: s.index, id: s.template_id, name: s.name, description: s.description, preview_url: s.preview_url })
        .collect())
}

/// `style-01` … `style-26`.
pub fn style_id(i: usize) -> String {
    format!("style-{:02}", i + 1)
}

/// What a generation was asked for (the generation object's `input`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct GenerationInput {
    /// The template it was made with (`GET /api/v1/templates`); null for generations made
    /// before templates were the operator's.
    pub template: Option<String>,
    /// The stored source image (from `POST /api/v1/uploads`, or made from the request's
    /// image); null for text→image.
    pub upload_id: Option<String>,
    pub style: usize,
    pub blend_with: Option<usize>,
    /// 0..=1: share of `blend_with`.
    pub blend: f32,
    /// 0..=1.
    pub strength: f32,
    pub preserve_color: bool,
    pub prompt: String,
    /// A clip's camera move (`zoom_in`, ...), as chosen or the template's; null when neither
    /// names one, and for images.
    #[serde(default)]
    pub camera: Option<String>,
    /// A clip's length in seconds, as chosen, the template's, or (video→video) the clip's
    /// sent; null for images.
    #[serde(default)]
    pub seconds: Option<f64>,
    /// A clip plays forward, then back; null when not set, and for images.
    #[serde(default)]
    pub ping_pong: Option<bool>,
}

/// Links of a generation.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct GenerationUrls {
    /// `GET` this for the current state.
    pub get: String,
    /// `POST` this to cancel (before it starts).
    pub cancel: String,
    /// The result's page on the site (for the owner).
    pub web: String,
}

/// Timings.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct GenerationMetrics {
    /// Seconds from the start of the attempt that finished to its completion (a job run
    /// again after a worker crash counts only its last run, not the wait for the lease).
    pub predict_time: Option<f64>,
    /// Seconds from the first attempt's start to completion, waits for leases included.
    pub total_time: Option<f64>,
}

/// A generation, in the shape of Replicate's prediction object.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Generation {
    pub id: String,
    /// `queued`, `review` (held by moderation), `running`, `succeeded`, `failed` (refunded),
    /// `rejected` (moderation; not refunded) or `canceled` (refunded).
    pub status: String,
    pub input: GenerationInput,
    /// Signed URLs of the results once `succeeded` (the PNG, or for a video template the
    /// H.264 MP4, with its C2PA manifest), valid until `output_expires_at`; `null` before.
    /// Fetch the generation again for fresh URLs.
    pub output: Option<Vec<String>>,
    /// The MIME type of `output`'s files (`image/png`, `video/mp4`, `video/webm`); `null`
    /// before there is output.
    #[serde(default)]
    pub output_type: Option<String>,
    /// Why it failed or was rejected (a category for rejections, never internals).
    pub error: Option<String>,
    /// 0..=100.
    pub progress: i64,
    /// Credits charged.
    pub cost: i64,
    /// For `rejected`: `sexual`, `minors`, `violence` or `other`.
    pub moderation_category: Option<String>,
    /// RFC 3339 times.
    pub created_at: String,
    /// When the attempt that is running or finished started.
    pub started_at: Option<String>,
    /// When the first attempt started (earlier than `started_at` after a worker crash).
    pub first_started_at: Option<String>,
    pub completed_at: Option<String>,
    pub output_expires_at: Option<String>,
    pub urls: GenerationUrls,
    pub metrics: GenerationMetrics,
}

/// A job's timings: its successful (or running) attempt's run time, and the whole time since
/// the first attempt started.
pub fn generation_metrics(job: &Job) -> GenerationMetrics {
    GenerationMetrics {
        predict_time: seconds_between(job.attempt_started_at.or(job.started_at), job.finished_at),
        total_time: seconds_between(job.started_at, job.finished_at),
    }
}

/// Seconds from `start` to `end` (Unix ms), when both are known and in order.
fn seconds_between(start: Option<i64>, end: Option<i64>) -> Option<f64> {
    match (start, end) {
        (Some(s), Some(f)) if f >= s => Some((f - s) as f64 / 1000.0),
        _ => None,
    }
}

/// RFC 3339 (UTC, milliseconds) for a time in Unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The site's absolute base URL without a request (webhooks): `DARKROOM_PUBLIC_URL`, else
/// `http://<the bound address>`; no trailing `/`.
pub fn base_url(state: &AppState) -> String {
    base_for(state, None)
}

/// The site's absolute base URL for a request with this `Host`: `DARKROOM_PUBLIC_URL` when
/// set, else `http://<host>`, else `http://<the bound address>`; no trailing `/`.
pub fn base_for(state: &AppState, host: Option<&str>) -> String {
    let u = match (state.config.public_url.as_str(), host) {
        ("", Some(h)) => format!("http://{h}"),
        ("", None) => format!("http://{}", state.config.addr),
        (p, _) => p.to_string(),
    };
    u.trim_end_matches('/').to_string()
}

/// The owner's signed, expiring URL of a result file `variant` (`result`, `thumb`, ...),
/// served by `/m/{id}/{variant}?scope=owner`, and its expiry (Unix seconds).
pub fn owner_file_url(state: &AppState, base: &str, job_id: &str, variant: &str) -> (String, u64) {
    let now = now_secs();
    (format!("{base}{}", state.signer.sign_owner(job_id, variant, now)), state.signer.expiry(now))
}

/// The generation object of a job, with fresh signed output URLs under `base` (see
/// [`base_for`]).
pub fn generation(state: &AppState, base: &str, job: &Job) -> Generation {
    let input = input_of(job);
    let visible = job.status == darkroom_contract::JobStatus::Succeeded && job.result_key.is_some() && job.hidden_at.is_none();
    let (output, expires) = if visible {
        let (url, exp) = owner_file_url(state, base, &job.id, "result");
        (Some(vec![url]), Some(rfc3339(exp as i64 * 1000)))
    } else {
        (None, None)
    };
    Generation {
        id: job.id.clone(),
        status: job.status.to_string(),
        input,
        output_type: output.as_ref().and(job.result_key.as_deref()).map(|k| crate::media::original_mime(k).to_string()),
        output,
        error: job.error.clone(),
        progress: job.progress,
        cost: job.cost,
        moderation_category: job.moderation_category.map(|c| c.to_string()),
        created_at: rfc3339(job.created_at),
        started_at: job.attempt_started_at.or(job.started_at).map(rfc3339),
        first_started_at: job.started_at.map(rfc3339),
        completed_at: job.finished_at.map(rfc3339),
        output_expires_at: expires,
        urls: GenerationUrls {
            get: format!("{base}/api/v1/generations/{}", job.id),
            cancel: format!("{base}/api/v1/generations/{}/cancel", job.id),
            web: format!("{base}/gallery/{}", job.id),
        },
        metrics: generation_metrics(job),
    }
}

/// The request a job was made from, read back from its stored engine parameters.
fn input_of(job: &Job) -> GenerationInput {
    let params: Option<darkroom_engine::StyleParams> = serde_json::from_str(&job.params).ok();
    let (style, blend_with, blend, strength, preserve_color) = match params {
        Some(p) => {
            let first = p.styles.first().map_or(0, |(s, _)| *s);
            let second = p.styles.get(1).map(|(s, w)| (*s, *w));
            (first, second.map(|(s, _)| s), second.map_or(0.0, |(_, w)| w), p.strength, p.preserve_color)
        }
        None => (0, None, 0.0, 1.0, false),
    };
    let raw: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
    GenerationInput {
        template: job.template_id.clone(),
        upload_id: job.upload_id.clone(),
        style,
        blend_with,
        blend,
        strength,
        preserve_color,
        prompt: job.prompt.clone(),
        camera: raw["camera"].as_str().map(str::to_string),
        seconds: raw["seconds"].as_f64(),
        ping_pong: raw["ping_pong"].as_bool(),
    }
}

/// The 26-style fields a template fixes (absent ones take the defaults).
#[derive(Deserialize, Default)]
struct StyleFields {
    style: Option<usize>,
    blend_with: Option<usize>,
    blend: Option<f32>,
    strength: Option<f32>,
    preserve_color: Option<bool>,
}

/// The request for the API's parameters: the template's fixed style fields (if it has any),
/// overridden by what is given. Without a template, the style template of `style`.
///
/// Errors: [`ServiceError::Invalid`] for a style out of range.
#[allow(clippy::too_many_arguments)]
pub fn style_request(template: Option<&darkroom_store::templates::Template>, style: Option<usize>, blend_with: Option<usize>, blend: Option<f32>, strength: Option<f32>, preserve_color: Option<bool>, prompt: &str) -> Result<StyleRequest, ServiceError> {
    let base: StyleFields = template.and_then(|t| serde_json::from_str(&t.params).ok()).unwrap_or_default();
    let style = style.or(base.style).unwrap_or(0);
    if style >= NUM_STYLES || blend_with.is_some_and(|b| b >= NUM_STYLES) {
        return Err(ServiceError::Invalid(format!("Styles are numbered 0 to {}: see GET /api/v1/styles.", NUM_STYLES - 1)));
    }
    Ok(StyleRequest {
        style,
        blend_with: blend_with.or(base.blend_with),
        blend: blend.unwrap_or(if blend_with.is_some() { 0.5 } else { base.blend.unwrap_or(0.5) }),
        strength: strength.or(base.strength).unwrap_or(1.0),
        preserve_color: preserve_color.or(base.preserve_color).unwrap_or(false),
        prompt: prompt.to_string(),
        template: template.map(|t| t.id.clone()),
        size: None,
        seed: None,
        motion: None,
    })
}
