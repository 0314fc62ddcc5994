//! Image moderation detector: NudeNet's `320n.onnx` (`nudenet==3.4.2`, a YOLOv8n trained on
//! 18 body-part labels).
//!
//! Model contract: input f32\[1,3,320,320\] in 0..=1; output f32\[1,22,2100\]: for each of
//! 2100 anchors, box centre x, centre y, width, height in model pixels, then 18 class scores.
//!
//! Processing follows the package's `nudenet.py` (`_read_image`, `_postprocess`) exactly:
//! - pad the image to a square on the right and bottom with black;
//! - resize to 320×320 bilinearly (OpenCV `INTER_LINEAR`, no antialiasing), scale by 1/255;
//! - channel order: the reference reads files with OpenCV (BGR), converts with
//!   `COLOR_RGBA2BGR` (a swap on 3 channels) and then `swapRB=True`, so the network is fed
//!   **B, G, R** planes. We feed the same;
//! - keep anchors whose best class score is ≥ 0.2; boxes scaled back to the original image
//!   and clipped to it; class-agnostic non-maximum suppression (score > 0.25, IoU > 0.45
//!   suppresses), as `cv2.dnn.NMSBoxes` does.
//!
//! Boxes are reported in pixels of the image given, `[x, y, width, height]` truncated to
//! integers like the reference.

use image::RgbImage;
use ort::value::Tensor;
use serde::{Deserialize, Serialize};

use crate::runtime::{Engine, EngineError};

/// Side of the square network input, pixels.
pub const INPUT_SIDE: usize = 320;
/// Best-class score an anchor needs to be considered (reference: 0.2).
pub const CANDIDATE_SCORE: f32 = 0.2;
/// Score a candidate needs to survive NMS (reference: 0.25).
pub const NMS_SCORE: f32 = 0.25;
/// IoU above which the lower-scored box is suppressed (reference: 0.45).
pub const NMS_IOU: f32 = 0.45;

/// The 18 labels in the network's class order (`nudenet.py`'s `__labels`).
pub const LABELS: [&str; 18] = [
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
];

/// One detected region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// One of [`LABELS`].
    pub label: String,
    /// Class score, 0..=1.
    pub score: f32,
    /// `[x, y, width, height]` in pixels of the image that was checked.
    #[serde(rename = "box")]
    pub bbox: [i32; 4],
}

/// The network input for `img`: f32 planes B, G, R (see the module notes), 320×320, 0..=1.
pub fn preprocess(img: &RgbImage) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let side = w.max(h);
    let scale = side as f64 / INPUT_SIDE as f64;
    // Source coordinate and weights for each output column/row (OpenCV INTER_LINEAR:
    // half-pixel centres, clamped at the edges). Outside the image the padding is black.
    let taps = |n_out: usize| -> Vec<(usize, usize, f32)> {
        (0..n_out)
            .map(|d| {
                let s = ((d as f64 + 0.5) * scale - 0.5).max(0.0);
                let i0 = (s.floor() as usize).min(side - 1);
                let i1 = (i0 + 1).min(side - 1);
                (i0, i1, (s - i0 as f64) as f32)
            })
            .collect()
    };
    let xs = taps(INPUT_SIDE);
    let ys = taps(INPUT_SIDE);
    let px = |x: usize, y: usize, c: usize| -> f32 {
        if x < w && y < h { img.as_raw()[(y * w + x) * 3 + c] as f32 } else { 0.0 }
    };
    let plane = INPUT_SIDE * INPUT_SIDE;
    let mut out = vec![0f32; 3 * plane];
    for (oy, &(y0, y1, fy)) in ys.iter().enumerate() {
        for (ox, &(x0, x1, fx)) in xs.iter().enumerate() {
            for (plane_idx, c) in [2usize, 1, 0].into_iter().enumerate() {
                let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
                let bottom = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
                let v = top * (1.0 - fy) + bottom * fy;
                // OpenCV rounds the resized 8-bit pixel before blobFromImage scales it.
                out[plane_idx * plane + oy * INPUT_SIDE + ox] = v.round().clamp(0.0, 255.0) / 255.0;
            }
        }
    }
    out
}

/// Turns the raw output (`[22, anchors]`, row-major) into detections for an image of
/// `width`×`height` pixels, as the reference `_postprocess` does.
pub fn postprocess(output: &[f32], anchors: usize, width: u32, height: u32) -> Vec<Detection> {
    let (w, h) = (width as f32, height as f32);
    let side = w.max(h);
    let (x_pad, y_pad) = (side - w, side - h);
    let mut cands: Vec<(usize, f32, [f32; 4])> = Vec::new();
    for a in 0..anchors {
        let at = |row: usize| output[row * anchors + a];
        let (mut best, mut class) = (f32::MIN, 0);
        for c in 0..LABELS.len() {
            let s = at(4 + c);
            if s > best {
                best = s;
                class = c;
            }
        }
        if best < CANDIDATE_SCORE {
            continue;
        }
        let (cx, cy, bw, bh) = (at(0), at(1), at(2), at(3));
        let sx = (w + x_pad) / INPUT_SIDE as f32;
        let sy = (h + y_pad) / INPUT_SIDE as f32;
        let x = ((cx - bw / 2.0) * sx).clamp(0.0, w);
        let y = ((cy - bh / 2.0) * sy).clamp(0.0, h);
        let bw = (bw * sx).min(w - x);
        let bh = (bh * sy).min(h - y);
        cands.push((class, best, [x, y, bw, bh]));
    }
    // cv2.dnn.NMSBoxes: scores > threshold, stable sort by score descending, greedy.
    let mut order: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].1 > NMS_SCORE).collect();
    order.sort_by(|&a, &b| cands[b].1.partial_cmp(&cands[a].1).unwrap_or(std::cmp::Ordering::Equal));
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if kept.iter().all(|&k| iou(&cands[i].2, &cands[k].2) <= NMS_IOU) {
            kept.push(i);
        }
    }
    kept.into_iter()
        .map(|i| {
            let (class, score, b) = cands[i];
            Detection { label: LABELS[class].to_string(), score, bbox: [b[0] as i32, b[1] as i32, b[2] as i32, b[3] as i32] }
        })
        .collect()
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    let inter = if ix > 0.0 && iy > 0.0 { ix * iy } else { 0.0 };
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

impl Engine {
    /// Runs NudeNet on `img` and returns its detections (labels, scores, boxes in `img`'s
    /// pixels), best first.
    ///
    /// Errors: [`EngineError::BadInput`] for an empty image, [`EngineError::Runtime`] from ONNX Runtime.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Detection>, EngineError> {
        if img.width() == 0 || img.height() == 0 {
            return Err(EngineError::BadInput("the image is empty".into()));
        }
        let input = Tensor::from_array(([1usize, 3, INPUT_SIDE, INPUT_SIDE], preprocess(img)))?;
        self.detector.with(|s| {
            let outputs = s.run(ort::inputs![input])?;
            let (shape, out) = outputs[0].try_extract_tensor::<f32>()?;
            if shape.len() != 3 || shape[1] as usize != 4 + LABELS.len() {
                return Err(EngineError::Runtime(format!("unexpected detector output shape {shape:?}")));
            }
            Ok(postprocess(out, shape[2] as usize, img.width(), img.height()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        // Two anchors on almost the same box, one far away; 22 rows × 3 anchors.
        let anchors = 3;
        let mut out = vec![0f32; 22 * anchors];
        let set = |out: &mut Vec<f32>, a: usize, b: [f32; 4], class: usize, s: f32| {
            for (r, v) in b.iter().enumerate() {
                out[r * anchors + a] = *v;
            }
            out[(4 + class) * anchors + a] = s;
        };
        set(&mut out, 0, [100.0, 100.0, 50.0, 50.0], 1, 0.9);
        set(&mut out, 1, [102.0, 101.0, 50.0, 50.0], 12, 0.6);
        set(&mut out, 2, [250.0, 250.0, 20.0, 20.0], 7, 0.22); // candidate, but below NMS score
        let d = postprocess(&out, anchors, 320, 320);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].label, "FACE_FEMALE");
        assert_eq!(d[0].bbox, [75, 75, 50, 50]);
    }

    #[test]
    fn boxes_scale_back_through_the_padding() {
        // A 640×320 image pads to 640×640: model pixels are 2 image pixels; boxes clip.
        let anchors = 1;
        let mut out = vec![0f32; 22];
        out[..4].copy_from_slice(&[310.0, 10.0, 40.0, 40.0]);
        out[4 + 3] = 0.8;
        let d = postprocess(&out, anchors, 640, 320);
        assert_eq!(d[0].bbox, [580, 0, 60, 80]);
    }
}
