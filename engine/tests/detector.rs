//! NudeNet (`320n.onnx`) must report what the reference reports (nudenet==3.4.2's own
//! `nudenet.py` on Python onnxruntime 1.31.1 + OpenCV) for the scikit-image sample photos and
//! crops/flips of them: the same labels, boxes within 2 px, scores within 0.01. The fixture
//! is made by `scripts/make_detector_fixture.py`; the photos come from `darkroom fetch-models`.

use std::path::PathBuf;

use darkroom_engine::{Engine, EngineConfig};

fn models_dir() -> PathBuf {
    std::env::var_os("DARKROOM_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/models"))
}

#[derive(serde::Deserialize)]
struct Expected {
    label: String,
    score: f32,
    #[serde(rename = "box")]
    bbox: [i32; 4],
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    source: String,
    crop: Option<[u32; 4]>,
    #[serde(default)]
    hflip: bool,
    detections: Vec<Expected>,
}

#[test]
fn detector_matches_reference() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/detections.json");
    let cases: Vec<Case> = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let engine = Engine::load(EngineConfig::new(models_dir())).expect("models fetched (darkroom fetch-models)");
    let mut compared = 0;
    for case in &cases {
        let mut img = image::open(models_dir().join("samples").join(format!("{}.png", case.source))).unwrap().into_rgb8();
        if let Some([x, y, w, h]) = case.crop {
            img = image::imageops::crop_imm(&img, x, y, w, h).to_image();
        }
        if case.hflip {
            img = image::imageops::flip_horizontal(&img);
        }
        let got = engine.detect(&img).unwrap();
        let labels: Vec<&str> = got.iter().map(|d| d.label.as_str()).collect();
        let want: Vec<&str> = case.detections.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, want, "{}: labels", case.name);
        for (g, e) in got.iter().zip(&case.detections) {
            assert!((g.score - e.score).abs() <= 0.01, "{}: score {} vs reference {}", case.name, g.score, e.score);
            for k in 0..4 {
                assert!((g.bbox[k] - e.bbox[k]).abs() <= 2, "{}: box {:?} vs reference {:?}", case.name, g.bbox, e.bbox);
            }
            println!("{}: {} score {:.4} (ref {:.4}) box {:?} (ref {:?})", case.name, g.label, g.score, e.score, g.bbox, e.bbox);
            compared += 1;
        }
    }
    assert!(compared >= 5, "the fixture should hold several detections");
}

#[test]
fn sample_photos_are_not_flagged_as_nudity() {
    let engine = Engine::load(EngineConfig::new(models_dir())).expect("models fetched");
    for name in ["astronaut", "coffee", "chelsea"] {
        let img = image::open(models_dir().join("samples").join(format!("{name}.png"))).unwrap().into_rgb8();
        let found = engine.detect(&img).unwrap();
        assert!(found.iter().all(|d| !d.label.ends_with("_EXPOSED")), "{name}: {found:?}");
    }
}
