//! The built-in style catalogue (26 styles of `multistyle26.onnx`) and its previews, which
//! the engine renders itself from a sample photo (so they always show the real output).
//!
//! The network ships its styles numbered only. Their names and descriptions are the
//! operator's data: style `i` is named by its template `style-NN` (`api::style_id`, seeded by
//! migration 0023 with names such as "Night Gold" and their German), which the console edits.

use std::path::{Path, PathBuf};

use darkroom_engine::{imageio, style, Engine, StyleParams, NUM_STYLES};

/// Side, in pixels, of a preview tile.
pub const PREVIEW_SIDE: u32 = 160;

/// File name of style `i`'s preview, e.g. `style-07.jpg`.
pub fn preview_file(i: usize) -> String {
    format!("style-{i:02}.jpg")
}

/// One style as members pick it: the network's `index` and its template, in a page's
/// language.
#[derive(Clone, Debug, PartialEq)]
pub struct Offered {
    /// The network's style index, `0..NUM_STYLES`.
    pub index: usize,
    /// Its template (`style-07`).
    pub template_id: String,
    pub name: String,
    pub description: String,
    /// The template's preview, else the engine's render (`/previews/style-06.jpg`).
    pub preview_url: String,
}

/// The styles members pick from, in the network's order, named by their templates in `lang`
/// (`templates::localized`). A style whose template is archived (or missing) is not offered.
/// Reads the store's cached catalogue. Errors: the store's.
pub async fn catalogue(state: &crate::AppState, lang: &str) -> Result<Vec<Offered>, crate::ServiceError> {
    let rows = state.store.templates(false).await?;
    Ok((0..NUM_STYLES)
        .filter_map(|index| {
            let id = crate::api::style_id(index);
            let row = rows.iter().find(|r| r.id == id)?;
            let (name, description) = crate::templates::localized(row, lang);
            let preview_url = if row.preview_url.is_empty() { format!("/previews/{}", preview_file(index)) } else { row.preview_url.clone() };
            Some(Offered { index, template_id: id, name, description, preview_url })
        })
        .collect())
}

/// What style `i` is called where no template names it: "Style 8" for index 7.
pub fn unnamed(i: usize) -> String {
    format!("Style {}", i + 1)
}

/// Every style's name in `lang`, by index (`0..NUM_STYLES`): archived ones too, since results
/// made with them keep their label; "Style N" (1-based) where no template names it. Errors: the
/// store's.
pub async fn names(state: &crate::AppState, lang: &str) -> Result<Vec<String>, crate::ServiceError> {
    let rows = state.store.templates(true).await?;
    Ok((0..NUM_STYLES)
        .map(|i| {
            let id = crate::api::style_id(i);
            rows.iter().find(|r| r.id == id).map(|r| crate::templates::localized(r, lang).0).unwrap_or_else(|| unnamed(i))
        })
        .collect())
}

/// The home page's before/after example: the sample photo as it is, and in this style.
pub const EXAMPLE_BEFORE: &str = "example-before.jpg";
/// See [`EXAMPLE_BEFORE`]; made with [`EXAMPLE_STYLE`].
pub const EXAMPLE_AFTER: &str = "example-after.jpg";
/// The style of the home page's example ("Starry Swirl").
pub const EXAMPLE_STYLE: usize = 19;

/// Renders any missing previews into `out_dir` from `samples/chelsea.png` (451×300):
/// each style centre-cropped to a square of [`PREVIEW_SIDE`] pixels, and the home page's
/// before/after example ([`EXAMPLE_BEFORE`], [`EXAMPLE_AFTER`]) at the photo's own size.
/// Returns the folder. Blocking (runs the engine 27×).
pub fn ensure_previews(engine: &Engine, models_dir: &Path, out_dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out_dir)?;
    let write = |name: &str, jpeg: Vec<u8>| -> std::io::Result<()> {
        let path = out_dir.join(name);
        std::fs::write(path.with_extension("part"), jpeg)?;
        std::fs::rename(path.with_extension("part"), path)
    };
    let sample = || -> anyhow::Result<image::RgbImage> { Ok(image::open(models_dir.join("samples/chelsea.png"))?.into_rgb8()) };
    if !out_dir.join(EXAMPLE_AFTER).exists() {
        let photo = sample()?;
        write(EXAMPLE_BEFORE, imageio::encode_jpeg(&photo, 85))?;
        write(EXAMPLE_AFTER, imageio::encode_jpeg(&engine.stylize(photo, &StyleParams::single(EXAMPLE_STYLE), &|_| {})?, 85))?;
    }
    if (0..NUM_STYLES).all(|i| out_dir.join(preview_file(i)).exists()) {
        return Ok(out_dir.to_path_buf());
    }
    let sample = sample()?;
    let side = sample.width().min(sample.height());
    let crop = image::imageops::crop_imm(&sample, (sample.width() - side) / 2, (sample.height() - side) / 2, side, side).to_image();
    let tile = style::resize(&crop, PREVIEW_SIDE, PREVIEW_SIDE)?;
    for i in 0..NUM_STYLES {
        let out = engine.stylize(tile.clone(), &StyleParams::single(i), &|_| {})?;
        write(&preview_file(i), imageio::encode_jpeg(&out, 85))?;
    }
    Ok(out_dir.to_path_buf())
}

/// Longest side, pixels, of a style preview on the member's own photo.
pub const OWN_PREVIEW_SIDE: u32 = 320;
/// Previews on their own photo one member may ask for per minute (a burst of this many, then
/// an even rate), counted for the whole cluster on PostgreSQL (`crate::limits`).
pub const OWN_PREVIEWS_PER_MIN: u32 = 20;

/// The chosen styles on the member's own photo, small, before they pay: the photo is scaled
/// to fit [`OWN_PREVIEW_SIDE`] pixels, run through the same network as a generation and
/// answered as a JPEG (quality 80). Free and not stored (nothing is written: no upload, job,
/// file or ledger entry).
///
/// The rules of a generation still apply: the member must be allowed to create
/// ([`crate::moderation::ensure_may_create`]), the photo passes the upload checks
/// ([`imageio::decode_upload`] under the operator's limits) and the upload gate (a photo the
/// gate would block or hold gets no preview), and [`OWN_PREVIEWS_PER_MIN`] per member.
///
/// Errors: [`ServiceError::Forbidden`] (may not create), [`ServiceError::RateLimited`],
/// [`ServiceError::Upload`] (the file), [`ServiceError::ContentRejected`] (the gate),
/// [`ServiceError::Invalid`] (the style choice), [`ServiceError::Unavailable`] without models.
pub async fn preview_on_photo(state: &crate::AppState, user_id: &str, photo: bytes::Bytes, params: StyleParams) -> Result<Vec<u8>, crate::ServiceError> {
    use crate::moderation::{self, Decision, ImageGate};
    use crate::ServiceError;
    moderation::ensure_may_create(state, user_id).await?;
    state.preview_limits.check(user_id).await?;
    params.weights().map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let engine = state.engine.clone().ok_or_else(|| ServiceError::Unavailable("Previews need the style models, which this server has not loaded.".into()))?;
    let (limits, policy) = (state.config.upload, state.policy.clone());
    tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ServiceError> {
        let decoded = imageio::decode_upload(&photo, limits)?;
        let (w, h) = decoded.image.dimensions();
        let scale = (OWN_PREVIEW_SIDE as f64 / w.max(h) as f64).min(1.0);
        let (pw, ph) = (((w as f64 * scale).round() as u32).max(style::MIN_SIDE), ((h as f64 * scale).round() as u32).max(style::MIN_SIDE));
        let small = style::resize(&decoded.image, pw, ph).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let verdict = moderation::check_image(Some(&engine), &small, ImageGate::Upload, &policy);
        if verdict.decision != Decision::Allow {
            return Err(ServiceError::ContentRejected("This photo can't be previewed: it did not pass the upload checks.".into()));
        }
        let out = engine.stylize(small, &params, &|_| {}).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(imageio::encode_jpeg(&out, 80))
    })
    .await
    .map_err(ServiceError::internal)?
}
