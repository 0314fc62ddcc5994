//! The built-in style catalogue (26 styles of `multistyle26.onnx`) and its previews, which
//! the engine renders itself from a sample photo (so they always show the real output).

use std::path::{Path, PathBuf};

use darkroom_engine::{imageio, style, Engine, StyleParams, NUM_STYLES};

/// Side, in pixels, of a preview tile.
pub const PREVIEW_SIDE: u32 = 160;

/// File name of style `i`'s preview, e.g. `style-07.jpg`.
pub fn preview_file(i: usize) -> String {
    format!("style-{i:02}.jpg")
}

/// Display name of style `i` (the model ships none; numbered from 1 for people).
pub fn style_name(i: usize) -> String {
    format!("Style {}", i + 1)
}

/// Renders any missing previews into `out_dir` from `samples/chelsea.png`, centre-cropped to
/// a square of [`PREVIEW_SIDE`] pixels. Returns the folder. Blocking (runs the engine 26×).
pub fn ensure_previews(engine: &Engine, models_dir: &Path, out_dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out_dir)?;
    if (0..NUM_STYLES).all(|i| out_dir.join(preview_file(i)).exists()) {
        return Ok(out_dir.to_path_buf());
    }
    let sample = image::open(models_dir.join("samples/chelsea.png"))?.into_rgb8();
    let side = sample.width().min(sample.height());
    let crop = image::imageops::crop_imm(&sample, (sample.width() - side) / 2, (sample.height() - side) / 2, side, side).to_image();
    let tile = style::resize(&crop, PREVIEW_SIDE, PREVIEW_SIDE)?;
    for i in 0..NUM_STYLES {
        let out = engine.stylize(tile.clone(), &StyleParams::single(i), &|_| {})?;
        let path = out_dir.join(preview_file(i));
        std::fs::write(path.with_extension("part"), imageio::encode_jpeg(&out, 85))?;
        std::fs::rename(path.with_extension("part"), path)?;
    }
    Ok(out_dir.to_path_buf())
}
