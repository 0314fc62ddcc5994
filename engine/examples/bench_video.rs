//! Benchmark of the two local video paths as a job runs them, frames drawn and encoded by the
//! same code the worker uses (the watermark and the output gate aside):
//! - `i2v SECONDS`: image→video from a photo (`Engine::motion`: keyframes, blends, camera
//!   crop) at 512 px, 24 fps, zooming in, encoded to H.264 by ffmpeg;
//! - `v2v CLIP`: video→video of a clip (decoded by ffmpeg at its own size and rate, every
//!   frame stylised, smoothed), encoded the same way.
//!
//! Prints `darkroom <mode> <seconds of output> <cpu seconds> <wall seconds> <peak rss MB>`,
//! where CPU seconds are this process's and its ffmpeg children's (user + system,
//! `getrusage`) and peak RSS is this process's (`ru_maxrss`).
//!
//! Usage: bench_video MODELS_DIR OUT_DIR PHOTO.png i2v SECONDS | bench_video MODELS_DIR OUT_DIR CLIP.mp4 v2v

use std::time::{Duration, Instant};

use darkroom_engine::motion::{MotionParams, Restyler};
use darkroom_engine::video::{Fps, OutputCodec, VideoTools};
use darkroom_engine::{Engine, EngineConfig, StyleParams};

fn cpu_secs() -> f64 {
    let usage = |who| {
        // SAFETY: getrusage fills the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut u) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        (tv(u.ru_utime) + tv(u.ru_stime), u.ru_maxrss as f64 / 1024.0)
    };
    usage(libc::RUSAGE_SELF).0 + usage(libc::RUSAGE_CHILDREN).0
}

fn peak_rss_mb() -> f64 {
    // SAFETY: as above.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = std::sync::Arc::new(Engine::load(EngineConfig::new(&args[1])).expect("models fetched"));
    let out = std::path::PathBuf::from(&args[2]).join(format!("darkroom-{}.mp4", args[4]));
    let tools = VideoTools::find(std::thread::available_parallelism().map_or(2, |n| n.get() as u32), Duration::from_secs(3600)).expect("ffmpeg");
    let (cpu0, t0) = (cpu_secs(), Instant::now());
    let seconds = match args[4].as_str() {
        "i2v" => {
            let secs: f32 = args[5].parse().unwrap();
            let photo = image::open(&args[3]).unwrap().into_rgb8();
            let params: MotionParams = serde_json::from_value(serde_json::json!({
                "styles": [[7, 1.0]], "camera": "zoom_in", "seconds": secs, "fps": 24, "max_side": 512
            }))
            .unwrap();
            let mut clip = engine.motion(photo, &params, &|_| {}, &|| false).unwrap();
            let mut enc = tools.encoder(&out, clip.width, clip.height, Fps::whole(clip.fps), OutputCodec::H264).unwrap();
            for i in 0..clip.frames {
                enc.push(&clip.frame(i).unwrap()).unwrap();
            }
            enc.finish().unwrap();
            secs as f64
        }
        "v2v" => {
            let probe = tools.probe(std::path::Path::new(&args[3])).unwrap();
            let v = probe.video.unwrap();
            let fps = v.fps.unwrap();
            let mut enc = tools.encoder(&out, v.width, v.height, fps, OutputCodec::H264).unwrap();
            // As the local-video-style generator's defaults: smoothing 0.85, every 2nd frame.
            let frames = v.frames.unwrap() as usize;
            let reader = tools.frames(std::path::Path::new(&args[3]), v.width, v.height, None).unwrap();
            let mut restyler = Restyler::new(engine.clone(), Box::new(reader), StyleParams::single(7), 0.85, 2);
            for _ in 0..frames {
                enc.push(&restyler.next().unwrap()).unwrap();
            }
            enc.finish().unwrap();
            eprintln!("network runs: {} for {frames} frames", restyler.network_runs());
            probe.duration_secs
        }
        other => panic!("unknown mode {other}"),
    };
    println!("darkroom {} {seconds:.2} {:.2} {:.2} {:.0}", args[4], cpu_secs() - cpu0, t0.elapsed().as_secs_f64(), peak_rss_mb());
}
