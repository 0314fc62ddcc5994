//! Image→video on the 26-style network: a short clip from one photo, with a style morph across
//! its frames and a camera move.
//!
//! No motion model ships in a registry package, so motion is built from what we have:
//! - **Style morph.** The network's `style_weights` are interpolated from one mix of styles to
//!   another (or the photo's own look fades into the style: the strength ramps from 0). The
//!   network (conditional instance normalisation, Dumoulin et al. 2017) is continuous in its
//!   weights, so the clip stylises a few *keyframes* along the path — one every
//!   [`KEYFRAME_EVERY_SECS`] — and each frame is the linear blend of its two neighbours. Every
//!   frame is then a continuous function of time: a still camera shows no flicker, and the
//!   network runs a few times per clip instead of once per frame.
//! - **Camera.** The keyframes are stylised on a canvas [`CANVAS_MARGIN`] larger than the
//!   output, and each frame is a crop window moving across it (zoom in or out, pan), resampled
//!   with sub-pixel placement (`fast_image_resize`'s crop box), eased in and out.
//! - **Loop.** `ping_pong` plays the clip forward then back, so it loops without a jump.
//!
//! Frames are made on demand ([`MotionClip::frame`]), so a clip never holds more than its
//! keyframes in memory.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::runtime::{Engine, EngineError};
use crate::style::{self, StyleParams, NUM_STYLES};

/// Seconds between two stylised keyframes.
pub const KEYFRAME_EVERY_SECS: f32 = 0.5;
/// How much larger than the output the stylised canvas is (room for the camera's moves).
pub const CANVAS_MARGIN: f32 = 1.25;
/// Shortest and longest clip, seconds.
pub const SECONDS: (f32, f32) = (2.0, 10.0);
/// Lowest and highest frame rate, frames per second.
pub const FPS: (u32, u32) = (12, 30);

/// The camera's move across the clip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Camera {
    /// No move.
    #[default]
    Still,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    PanUp,
    PanDown,
}

/// Where the clip's look starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MorphFrom {
    /// The photo as it is: the style fades in.
    #[default]
    Photo,
    /// Another mix of styles (`[[index 0..26, weight], ...]`): one style turns into the other.
    Styles(Vec<(usize, f32)>),
}

/// What clip to make. The shape of the `local-motion` generator's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotionParams {
    /// The look the clip ends in: `[[index 0..26, weight], ...]`.
    pub styles: Vec<(usize, f32)>,
    /// Where the look starts.
    #[serde(default)]
    pub from: MorphFrom,
    /// 0..=1, as for a still image.
    #[serde(default = "one")]
    pub strength: f32,
    #[serde(default)]
    pub preserve_color: bool,
    #[serde(default)]
    pub camera: Camera,
    /// Clip length in seconds ([`SECONDS`]).
    #[serde(default = "four")]
    pub seconds: f32,
    /// Frames per second ([`FPS`]).
    #[serde(default = "twenty_four")]
    pub fps: u32,
    /// Play forward then back (the clip is `seconds` long in all).
    #[serde(default)]
    pub ping_pong: bool,
    /// Longest side of the output in pixels (even; at most the engine's `max_side` divided by
    /// [`CANVAS_MARGIN`]).
    #[serde(default = "default_side")]
    pub max_side: u32,
}

fn one() -> f32 {
    1.0
}
fn four() -> f32 {
    4.0
}
fn twenty_four() -> u32 {
    24
}
fn default_side() -> u32 {
    512
}

impl MotionParams {
    /// Checks the parameters against the engine's limits. Errors: [`EngineError::BadInput`]
    /// naming the field.
    pub fn check(&self, engine_max_side: u32) -> Result<(), EngineError> {
        self.end_look().weights()?;
        if let MorphFrom::Styles(s) = &self.from {
            StyleParams { styles: s.clone(), strength: 1.0, preserve_color: false }.weights()?;
        }
        if !(SECONDS.0..=SECONDS.1).contains(&self.seconds) {
            return Err(EngineError::BadInput(format!("seconds must be {} to {}, got {}", SECONDS.0, SECONDS.1, self.seconds)));
        }
        if !(FPS.0..=FPS.1).contains(&self.fps) {
            return Err(EngineError::BadInput(format!("fps must be {} to {}, got {}", FPS.0, FPS.1, self.fps)));
        }
        let most = (engine_max_side as f32 / CANVAS_MARGIN) as u32;
        if self.max_side < 64 || self.max_side > most {
            return Err(EngineError::BadInput(format!("max_side must be 64 to {most}, got {}", self.max_side)));
        }
        Ok(())
    }

    /// Frames in the clip: `seconds × fps`, rounded.
    pub fn frame_count(&self) -> usize {
        ((self.seconds * self.fps as f32).round() as usize).max(2)
    }

    fn end_look(&self) -> StyleParams {
        StyleParams { styles: self.styles.clone(), strength: self.strength, preserve_color: self.preserve_color }
    }
}

/// A clip ready to be drawn frame by frame: its stylised keyframes on the canvas.
pub struct MotionClip {
    keyframes: Vec<RgbImage>,
    /// Output size in pixels (even).
    pub width: u32,
    pub height: u32,
    /// Frames in the clip.
    pub frames: usize,
    pub fps: u32,
    camera: Camera,
    ping_pong: bool,
    resizer: Resizer,
}

/// Smoothstep easing: 0→0, 1→1, zero speed at both ends.
fn ease(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn even(x: f32) -> u32 {
    ((x.round() as u32) / 2 * 2).max(2)
}

impl Engine {
    /// Stylises the keyframes of a clip from `photo` (RGB, orientation corrected).
    /// `progress` gets 0..=1 as keyframes finish; `cancelled` is asked between keyframes.
    ///
    /// Errors: [`EngineError::BadInput`] for parameters outside [`MotionParams::check`] or a
    /// photo under 32 px; [`EngineError::Runtime`] if inference fails; `BadInput("cancelled")`
    /// when `cancelled` said so.
    pub fn motion(&self, photo: RgbImage, params: &MotionParams, progress: &dyn Fn(f32), cancelled: &dyn Fn() -> bool) -> Result<MotionClip, EngineError> {
        params.check(self.config.max_side)?;
        let (pw, ph) = photo.dimensions();
        if pw.min(ph) < style::MIN_SIDE {
            return Err(EngineError::BadInput(format!("image is too small ({pw}x{ph}); both sides need at least {}px", style::MIN_SIDE)));
        }
        let scale = params.max_side as f32 / pw.max(ph) as f32;
        let (width, height) = (even(pw as f32 * scale), even(ph as f32 * scale));
        let canvas = style::resize(&photo, (width as f32 * CANVAS_MARGIN).round() as u32, (height as f32 * CANVAS_MARGIN).round() as u32)?;
        let frames = params.frame_count();
        // The look's path: one segment (forward); ping-pong replays it backwards.
        let span_secs = if params.ping_pong { params.seconds / 2.0 } else { params.seconds };
        let keys = ((span_secs / KEYFRAME_EVERY_SECS).ceil() as usize).max(1) + 1;
        let end = params.end_look().weights()?;
        let start = match &params.from {
            MorphFrom::Photo => None,
            MorphFrom::Styles(s) => Some(StyleParams { styles: s.clone(), strength: 1.0, preserve_color: false }.weights()?),
        };
        let mut keyframes = Vec::with_capacity(keys);
        // Fading in from the photo needs the end look once: each keyframe is a mix of it.
        let end_image = if start.is_none() { Some(self.stylize(canvas.clone(), &params.end_look(), &|_| {})?) } else { None };
        for k in 0..keys {
            if cancelled() {
                return Err(EngineError::BadInput("cancelled".into()));
            }
            let t = ease(k as f32 / (keys - 1) as f32);
            let image = match (&start, &end_image) {
                (Some(a), _) => {
                    let styles: Vec<(usize, f32)> = (0..NUM_STYLES).map(|i| (i, (1.0 - t) * a[i] + t * end[i])).filter(|(_, w)| *w > 0.0).collect();
                    let look = StyleParams { styles, strength: params.strength, preserve_color: params.preserve_color };
                    self.stylize(canvas.clone(), &look, &|_| {})?
                }
                (None, Some(styled)) => {
                    let mut img = styled.clone();
                    style::mix(&mut img, &canvas, t);
                    img
                }
                (None, None) => unreachable!("one of the two is set"),
            };
            keyframes.push(image);
            progress((k + 1) as f32 / keys as f32);
        }
        Ok(MotionClip { keyframes, width, height, frames, fps: params.fps, camera: params.camera, ping_pong: params.ping_pong, resizer: Resizer::new() })
    }
}

impl MotionClip {
    /// Where frame `i` is along the look's path and the camera's move, 0..=1 (ping-pong
    /// folds the second half back).
    fn position(&self, i: usize) -> f32 {
        let last = (self.frames - 1).max(1) as f32;
        let t = i.min(self.frames - 1) as f32 / last;
        if self.ping_pong {
            1.0 - (2.0 * t - 1.0).abs()
        } else {
            t
        }
    }

    /// Frame `i` (0-based, below [`MotionClip::frames`]): `width`×`height` RGB.
    pub fn frame(&mut self, i: usize) -> Result<RgbImage, EngineError> {
        let t = self.position(i);
        // The look: blend of the two keyframes around t.
        let along = t * (self.keyframes.len() - 1) as f32;
        let k = (along.floor() as usize).min(self.keyframes.len() - 2);
        let f = along - k as f32;
        let (a, b) = (&self.keyframes[k], &self.keyframes[k + 1]);
        let canvas = if f > 0.0 { lerp(a, b, f) } else { a.clone() };
        // The camera: a crop window on the canvas.
        let (cw, ch) = (canvas.width() as f64, canvas.height() as f64);
        let m = CANVAS_MARGIN as f64;
        let e = ease(t) as f64;
        let (scale, fx, fy) = match self.camera {
            // scale: the window's size as a share of the canvas; fx, fy: its centre, 0..=1
            // of the room left to move in.
            Camera::Still => (1.0 / m, 0.5, 0.5),
            Camera::ZoomIn => (1.0 - e * (1.0 - 1.0 / m), 0.5, 0.5),
            Camera::ZoomOut => (1.0 / m + e * (1.0 - 1.0 / m), 0.5, 0.5),
            Camera::PanLeft => (1.0 / m, 1.0 - e, 0.5),
            Camera::PanRight => (1.0 / m, e, 0.5),
            Camera::PanUp => (1.0 / m, 0.5, 1.0 - e),
            Camera::PanDown => (1.0 / m, 0.5, e),
        };
        let (w, h) = (cw * scale, ch * scale);
        let (left, top) = ((cw - w) * fx, (ch - h) * fy);
        let mut out = RgbImage::new(self.width, self.height);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom)).crop(left, top, w, h);
        self.resizer.resize(&canvas, &mut out, &options).map_err(|e| EngineError::Runtime(format!("resampling a frame: {e}")))?;
        Ok(out)
    }
}

/// Temporal smoothing for a restyled clip (video→video). The network stylises each frame on
/// its own and amplifies small differences between input frames (sensor grain, compression
/// noise) into flicker in the style's texture. Where the picture does not move, the smoother
/// holds both ends steady:
/// - **input**: each frame is averaged with the last averaged frame before it is stylised, so
///   the network sees grain-free, unchanging pixels where nothing moves;
/// - **output**: the stylisation is blended with the last output the same way.
///
/// What counts as moving is decided per [`SMOOTH_BLOCK`]-pixel block: how much the block's
/// mean colour changed since the last raw frame (zero-mean grain averages out over a block,
/// motion does not). The weight of the past is `strength · exp(−d / SMOOTH_NOISE_LEVELS)`: near
/// `strength` for a still block, near 0 for a moving one (which then shows the new frame at
/// once instead of smearing).
pub struct Smoother {
    /// 0..=1: 0 turns smoothing off; the generator's default is 0.85.
    pub strength: f32,
    last_raw: Option<RgbImage>,
    last_in: Option<RgbImage>,
    last_out: Option<RgbImage>,
}

/// Block size, pixels, over which movement is judged.
pub const SMOOTH_BLOCK: u32 = 8;

/// Mean block differences (levels of 255) at which a block counts as moving: `exp(−1)` of
/// the weight is left at this difference. Grain averaged over a block is about one level;
/// motion is tens.
pub const SMOOTH_NOISE_LEVELS: f32 = 4.0;

/// A frame ready to stylise ([`Smoother::input`]): the averaged pixels, and the weight of the
/// past per block that [`Smoother::output`] applies to its stylisation.
pub struct Smoothed {
    pub frame: RgbImage,
    weights: Vec<f32>,
    blocks_x: u32,
}

impl Smoother {
    pub fn new(strength: f32) -> Self {
        Self { strength: strength.clamp(0.0, 1.0), last_raw: None, last_in: None, last_out: None }
    }

    /// The frame to stylise: `raw` averaged with the frames before it where nothing moved.
    /// Call once per frame, in order; then [`Smoother::output`] once per frame, in the same
    /// order, with its stylisation (several inputs may be taken before their outputs).
    pub fn input(&mut self, raw: &RgbImage) -> Smoothed {
        let (w, h) = raw.dimensions();
        let blocks_x = w.div_ceil(SMOOTH_BLOCK);
        let blocks_y = h.div_ceil(SMOOTH_BLOCK);
        let same = self.strength > 0.0 && self.last_raw.as_ref().is_some_and(|l| l.dimensions() == (w, h));
        if !same {
            self.last_raw = Some(raw.clone());
            self.last_in = Some(raw.clone());
            return Smoothed { frame: raw.clone(), weights: vec![], blocks_x };
        }
        let last = self.last_raw.as_ref().expect("checked");
        let mut weights = Vec::with_capacity((blocks_x * blocks_y) as usize);
        for by in 0..blocks_y {
            for bx in 0..blocks_x {
                // The change of the block's mean colour: zero-mean grain cancels out in it.
                let (mut diff, mut n) = ([0i32; 3], 0i32);
                for y in by * SMOOTH_BLOCK..((by + 1) * SMOOTH_BLOCK).min(h) {
                    for x in bx * SMOOTH_BLOCK..((bx + 1) * SMOOTH_BLOCK).min(w) {
                        let (a, b) = (raw.get_pixel(x, y).0, last.get_pixel(x, y).0);
                        for c in 0..3 {
                            diff[c] += a[c] as i32 - b[c] as i32;
                        }
                        n += 1;
                    }
                }
                let d = diff.iter().map(|v| v.unsigned_abs()).sum::<u32>() as f32 / (3 * n.max(1)) as f32;
                weights.push(self.strength * (-d / SMOOTH_NOISE_LEVELS).exp());
            }
        }
        let averaged = blend(raw.clone(), self.last_in.as_ref().expect("set with last_raw"), &weights, blocks_x);
        self.last_raw = Some(raw.clone());
        self.last_in = Some(averaged.clone());
        Smoothed { frame: averaged, weights, blocks_x }
    }

    /// The stylisation of `of` (what [`Smoother::input`] returned), blended with the last
    /// output where nothing moved.
    pub fn output(&mut self, styled: RgbImage, of: &Smoothed) -> RgbImage {
        let out = match &self.last_out {
            Some(last) if last.dimensions() == styled.dimensions() && !of.weights.is_empty() => blend(styled, last, &of.weights, of.blocks_x),
            _ => styled,
        };
        self.last_out = Some(out.clone());
        out
    }
}

/// `now + w · (past − now)` per pixel, `w` from the pixel's block.
fn blend(mut now: RgbImage, past: &RgbImage, weights: &[f32], blocks_x: u32) -> RgbImage {
    let w = now.width();
    for (i, (o, p)) in now.pixels_mut().zip(past.pixels()).enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        let k = weights[((y / SMOOTH_BLOCK) * blocks_x + x / SMOOTH_BLOCK) as usize];
        if k > 0.0 {
            for c in 0..3 {
                o.0[c] = (o.0[c] as f32 + k * (p.0[c] as f32 - o.0[c] as f32) + 0.5) as u8;
            }
        }
    }
    now
}

/// Mean absolute difference per value (levels of 255) of two frames of one size.
pub fn mad(a: &RgbImage, b: &RgbImage) -> f64 {
    a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y) as u64).sum::<u64>() as f64 / a.as_raw().len().max(1) as f64
}

/// The frame `t` (0..=1) of the way from `a` to `b` (same size): a linear blend.
pub fn lerp(a: &RgbImage, b: &RgbImage, t: f32) -> RgbImage {
    let mut out = a.clone();
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b.iter())) {
        *o = (*x as f32 + t * (*y as f32 - *x as f32) + 0.5) as u8;
    }
    out
}

/// How far (mean absolute difference, levels of 255) a frame may be from the blend of the
/// stylised frames around it, as inputs, for its stylisation to be that blend rather than a
/// run of the network: the network is continuous, so inputs that blend alike stylise alike.
/// Grain and sub-pixel motion stay under it; a cut or a fast move does not.
pub const MAX_BLEND_ERROR: f64 = 3.0;

/// Video→video on the style network, frame by frame in order: reads `every` frames, stylises
/// the last of them, and for each one before it uses the blend of the two stylised frames
/// around it when the same blend of their inputs is within [`MAX_BLEND_ERROR`] of its own
/// input (else stylises it too). Every frame goes through the [`Smoother`] (input averaged,
/// output blended where still). With `every` = 1 every frame is stylised.
pub struct Restyler {
    frames: Box<dyn Iterator<Item = Result<RgbImage, crate::video::VideoError>> + Send>,
    engine: std::sync::Arc<Engine>,
    style: StyleParams,
    smoother: Smoother,
    every: usize,
    ready: std::collections::VecDeque<RgbImage>,
    /// The last stylised frame of the group before: its input and its stylisation (before
    /// output smoothing).
    last_key: Option<(RgbImage, RgbImage)>,
    runs: usize,
}

impl Restyler {
    /// `frames`: the clip's frames in order (e.g. [`crate::video::VideoTools::frames`]).
    pub fn new(
        engine: std::sync::Arc<Engine>,
        frames: Box<dyn Iterator<Item = Result<RgbImage, crate::video::VideoError>> + Send>,
        style: StyleParams,
        smoothing: f32,
        every: usize,
    ) -> Self {
        Self { frames, engine, style, smoother: Smoother::new(smoothing), every: every.max(1), ready: Default::default(), last_key: None, runs: 0 }
    }

    /// How many times the network ran so far.
    pub fn network_runs(&self) -> usize {
        self.runs
    }

    fn stylise(&mut self, frame: RgbImage) -> Result<RgbImage, EngineError> {
        self.runs += 1;
        self.engine.stylize(frame, &self.style, &|_| {})
    }

    /// The next restyled frame. Errors: the clip ended ([`EngineError::BadInput`]), did not
    /// decode, or inference failed.
    pub fn next(&mut self) -> Result<RgbImage, EngineError> {
        if let Some(f) = self.ready.pop_front() {
            return Ok(f);
        }
        let mut group = Vec::with_capacity(self.every);
        while group.len() < self.every {
            match self.frames.next() {
                Some(frame) => group.push(self.smoother.input(&frame.map_err(|e| EngineError::BadInput(e.to_string()))?)),
                None => break,
            }
        }
        let Some(key) = group.last() else { return Err(EngineError::BadInput("the clip ended before its last frame".into())) };
        let key_in = key.frame.clone();
        let key_styled = self.stylise(key_in.clone())?;
        let n = group.len();
        let last_key = self.last_key.take();
        for (j, g) in group.iter().enumerate() {
            let t = (j + 1) as f32 / n as f32;
            let blended = match &last_key {
                Some((last_in, last_styled)) if j + 1 < n && mad(&lerp(last_in, &key_in, t), &g.frame) <= MAX_BLEND_ERROR => Some(lerp(last_styled, &key_styled, t)),
                _ => None,
            };
            let styled = match blended {
                _ if j + 1 == n => key_styled.clone(),
                Some(b) => b,
                None => self.stylise(g.frame.clone())?,
            };
            let out = self.smoother.output(styled, g);
            self.ready.push_back(out);
        }
        self.last_key = Some((key_in, key_styled));
        Ok(self.ready.pop_front().expect("one per frame of the group"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_have_limits_and_defaults() {
        let p: MotionParams = serde_json::from_value(serde_json::json!({ "styles": [[3, 1.0]] })).unwrap();
        assert_eq!((p.seconds, p.fps, p.camera, p.max_side, p.ping_pong), (4.0, 24, Camera::Still, 512, false));
        assert_eq!(p.frame_count(), 96);
        assert!(p.check(1024).is_ok());
        for bad in [
            serde_json::json!({ "styles": [[3, 1.0]], "seconds": 11 }),
            serde_json::json!({ "styles": [[3, 1.0]], "seconds": 1 }),
            serde_json::json!({ "styles": [[3, 1.0]], "fps": 60 }),
            serde_json::json!({ "styles": [[3, 1.0]], "max_side": 1000 }),
            serde_json::json!({ "styles": [[30, 1.0]] }),
            serde_json::json!({ "styles": [[3, 1.0]], "from": { "styles": [[99, 1.0]] } }),
        ] {
            let p: MotionParams = serde_json::from_value(bad.clone()).unwrap();
            assert!(p.check(1024).is_err(), "{bad}");
        }
        let p: MotionParams = serde_json::from_value(serde_json::json!({ "styles": [[3, 1.0]], "camera": "zoom_in", "from": { "styles": [[1, 1.0]] } })).unwrap();
        assert_eq!((p.camera, p.from), (Camera::ZoomIn, MorphFrom::Styles(vec![(1, 1.0)])));
    }

    #[test]
    fn smoothing_holds_still_blocks_and_lets_moving_ones_through() {
        let grey = |v: u8| RgbImage::from_pixel(16, 8, image::Rgb([v, v, v]));
        let mut s = Smoother::new(0.8);
        let first = s.input(&grey(100));
        assert_eq!(s.output(grey(50), &first).get_pixel(0, 0).0, [50, 50, 50], "nothing to smooth against");
        assert_eq!(first.frame, grey(100));
        // The left block is still (grain of 1 level), the right one moved (60 levels).
        let mut next = grey(101);
        for y in 0..8 {
            for x in 8..16 {
                next.put_pixel(x, y, image::Rgb([160, 160, 160]));
            }
        }
        let seen = s.input(&next);
        assert!(seen.frame.get_pixel(0, 0).0[0] == 100, "still: the averaged input stays: {:?}", seen.frame.get_pixel(0, 0));
        assert_eq!(seen.frame.get_pixel(12, 0).0[0], 160, "moving: the new input");
        let out = s.output(grey(90), &seen);
        assert!(out.get_pixel(0, 0).0[0] < 70, "still: near the last output: {:?}", out.get_pixel(0, 0));
        assert!(out.get_pixel(12, 0).0[0] >= 89, "moving: the new stylisation: {:?}", out.get_pixel(12, 0));
        let mut off = Smoother::new(0.0);
        let a = off.input(&grey(100));
        off.output(grey(50), &a);
        let b = off.input(&next);
        assert_eq!(b.frame, next);
        assert_eq!(off.output(grey(90), &b), grey(90));
    }

    #[test]
    fn ping_pong_returns_to_where_it_started() {
        let clip = MotionClip { keyframes: vec![], width: 2, height: 2, frames: 11, fps: 12, camera: Camera::Still, ping_pong: true, resizer: Resizer::new() };
        assert_eq!(clip.position(0), 0.0);
        assert_eq!(clip.position(5), 1.0);
        assert_eq!(clip.position(10), 0.0);
    }
}
