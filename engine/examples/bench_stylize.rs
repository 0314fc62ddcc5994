//! Benchmark of the whole stylise path, as a member's job runs it: read a PNG file, decode,
//! fit to the max side, pad, infer, post-process, encode PNG, write. Prints the median of
//! `RUNS` runs (after one warm-up) in milliseconds as `rust <file> <median_ms>`. With
//! `STYLE_IMAGE=<png>` it times any image as the style instead (the arbitrary-style networks,
//! the style image read and decoded in every run too).
//!
//! Usage: bench_stylize MODELS_DIR OUT_DIR PHOTO.png [PHOTO.png ...]  (bench/stylize.sh runs it)

use std::time::Instant;

use darkroom_engine::{imageio, AnyStyleParams, Engine, EngineConfig, StyleParams};

const RUNS: usize = 9;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = Engine::load(EngineConfig::new(&args[1])).expect("models fetched");
    let out_dir = std::path::PathBuf::from(&args[2]);
    let style_image = std::env::var_os("STYLE_IMAGE");
    for photo in &args[3..] {
        let mut times = Vec::new();
        for run in 0..=RUNS {
            let t = Instant::now();
            let bytes = std::fs::read(photo).unwrap();
            let img = image::load_from_memory(&bytes).unwrap().into_rgb8();
            let out = match &style_image {
                None => engine.stylize(img, &StyleParams::single(7), &|_| {}).unwrap(),
                Some(path) => {
                    let style = image::load_from_memory(&std::fs::read(path).unwrap()).unwrap().into_rgb8();
                    let params = AnyStyleParams { strength: 1.0, preserve_color: false };
                    engine.stylize_with(img, &style, &params, &|_| {}).unwrap()
                }
            };
            let png = imageio::encode_png(&out);
            std::fs::write(out_dir.join("rust.png"), png).unwrap();
            if run > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!("rust {photo} {:.1}", times[times.len() / 2]);
    }
}
