//! Video on real parts: Debian's ffmpeg/ffprobe and the 26-style network, with clips made here
//! from the scikit-image sample photos that `darkroom fetch-models` fetched (no binary test
//! media is committed).

use std::path::{Path, PathBuf};
use std::time::Duration;

use darkroom_engine::motion::MotionParams;
use darkroom_engine::video::{self, Container, Fps, OutputCodec, VideoError, VideoTools};
use darkroom_engine::{Engine, EngineConfig};
use image::RgbImage;

fn models_dir() -> PathBuf {
    std::env::var_os("DARKROOM_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/models"))
}

fn photo(name: &str) -> RgbImage {
    let path = models_dir().join("samples").join(name);
    image::open(&path).unwrap_or_else(|e| panic!("{} (darkroom fetch-models): {e}", path.display())).into_rgb8()
}

/// The tests count this process's ffmpeg children: they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn tools() -> VideoTools {
    VideoTools::find(2, Duration::from_secs(120)).expect("ffmpeg installed (apt-get install ffmpeg)")
}

fn engine() -> Engine {
    Engine::load(EngineConfig::new(models_dir())).expect("models fetched (darkroom fetch-models)")
}

/// Mean absolute difference per channel value (0..=255) between two frames of one size.
fn mad(a: &RgbImage, b: &RgbImage) -> f64 {
    a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.as_raw().len() as f64
}

/// Renders a clip and encodes it; returns the file.
fn render(engine: &Engine, tools: &VideoTools, dir: &Path, params: &MotionParams, codec: OutputCodec) -> PathBuf {
    let mut clip = engine.motion(photo("astronaut.png"), params, &|_| {}, &|| false).unwrap();
    let out = dir.join(format!("clip.{}", codec.container().ext()));
    let mut enc = tools.encoder(&out, clip.width, clip.height, Fps::whole(clip.fps), codec).unwrap();
    for i in 0..clip.frames {
        enc.push(&clip.frame(i).unwrap()).unwrap();
    }
    enc.finish().unwrap();
    out
}

fn params(json: serde_json::Value) -> MotionParams {
    serde_json::from_value(json).unwrap()
}

#[test]
fn image_to_video_is_an_h264_mp4_with_its_timing_faststart_and_no_metadata() {
    let _serial = serial();
    let (engine, tools, dir) = (engine(), tools(), tempfile::tempdir().unwrap());
    let p = params(serde_json::json!({ "styles": [[5, 1.0]], "camera": "zoom_in", "seconds": 2, "fps": 12, "max_side": 256 }));
    let file = render(&engine, &tools, dir.path(), &p, OutputCodec::H264);
    let probe = tools.probe(&file).unwrap();
    let v = probe.video.as_ref().expect("a video stream");
    assert_eq!((probe.container, v.codec.as_str(), v.pix_fmt.as_str()), (Container::Mp4, "h264", "yuv420p"));
    assert_eq!((v.width, v.height), (256, 256), "the astronaut is square; the longest side is max_side");
    assert_eq!(v.frames, Some(24));
    assert_eq!(v.fps, Some(Fps::whole(12)));
    assert!((probe.duration_secs - 2.0).abs() < 0.01, "{}", probe.duration_secs);
    assert_eq!(probe.stream_types, ["video"], "no audio, data or subtitle streams");
    // Only the brand fields ISO BMFF requires: no encoder, title, date or location.
    for (k, _) in &probe.tags {
        assert!(["major_brand", "minor_version", "compatible_brands"].contains(&k.as_str()), "container tag {k}");
    }
    for (k, val) in &v.tags {
        assert!(["language", "handler_name", "vendor_id"].contains(&k.as_str()) || (k == "encoder" && val == "Darkroom"), "stream tag {k}={val}");
    }
    // +faststart: the index (moov) comes before the media data (mdat).
    let bytes = std::fs::read(&file).unwrap();
    let kinds: Vec<[u8; 4]> = video::top_level_boxes(&bytes).iter().map(|b| b.0).collect();
    let pos = |k: &[u8; 4]| kinds.iter().position(|x| x == k).unwrap();
    assert!(pos(b"moov") < pos(b"mdat"), "{kinds:?}");
    // Every frame decodes, at the stream's size.
    let frames: Vec<_> = tools.frames(&file, 256, 256, None).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 24);
}

#[test]
fn a_still_camera_does_not_flicker_and_the_clip_still_changes() {
    let _serial = serial();
    let (engine, tools, dir) = (engine(), tools(), tempfile::tempdir().unwrap());
    let p = params(serde_json::json!({ "styles": [[5, 1.0]], "from": { "styles": [[12, 1.0]] }, "seconds": 3, "fps": 24, "max_side": 256 }));
    let file = render(&engine, &tools, dir.path(), &p, OutputCodec::H264);
    let frames: Vec<_> = tools.frames(&file, 256, 256, None).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 72);
    let steps: Vec<f64> = frames.windows(2).map(|w| mad(&w[0], &w[1])).collect();
    let worst = steps.iter().cloned().fold(0.0, f64::max);
    let whole = mad(&frames[0], &frames[71]);
    println!("consecutive frames: worst MAD {worst:.2}, mean {:.2}; first→last {whole:.2}", steps.iter().sum::<f64>() / steps.len() as f64);
    // Threshold: a morph that takes the whole clip moves each value by |end − start| / 71
    // per frame, at most a few levels even where the two styles differ most, plus the
    // encoder's noise (CRF 18, about a level). A flickering frame (a keyframe made apart
    // from its neighbours, a jump of the crop) differs from its neighbour by as much as the
    // two looks differ, tens of levels. 4 levels lies between, with room for both.
    assert!(worst < 4.0, "flicker: consecutive frames differ by {worst:.2} levels on average");
    assert!(whole > 10.0, "the look should change across the clip (first→last {whole:.2})");
}

#[test]
fn ping_pong_ends_where_it_began_and_webm_is_vp9() {
    let _serial = serial();
    let (engine, tools, dir) = (engine(), tools(), tempfile::tempdir().unwrap());
    let p = params(serde_json::json!({ "styles": [[2, 1.0]], "camera": "pan_right", "ping_pong": true, "seconds": 2, "fps": 12, "max_side": 128 }));
    let file = render(&engine, &tools, dir.path(), &p, OutputCodec::Vp9);
    let probe = tools.probe(&file).unwrap();
    let v = probe.video.unwrap();
    assert_eq!((probe.container, v.codec.as_str(), v.pix_fmt.as_str()), (Container::WebM, "vp9", "yuv420p"));
    let label = probe.tags.iter().find(|(k, _)| k == video::WEBM_LABEL_TAG).map(|(_, v)| v.as_str());
    assert_eq!(label, Some(darkroom_engine::imageio::AI_SOURCE_TYPE), "the AI label as a Matroska tag: {:?}", probe.tags);
    let frames: Vec<_> = tools.frames(&file, v.width, v.height, None).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 24);
    let back = mad(&frames[0], &frames[23]);
    let middle = mad(&frames[0], &frames[12]);
    assert!(back < middle / 3.0, "the loop returns: first→last {back:.2}, first→middle {middle:.2}");
}

#[test]
fn files_that_are_not_videos_are_refused_before_any_decoder_runs() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    let cases: [(&str, &[u8]); 4] = [
        ("zip.mp4", b"PK\x03\x04\x14\x00\x00\x00\x08\x00 not a video at all"),
        ("page.mp4", b"<!doctype html><html><body>hello</body></html>"),
        ("list.mp4", b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n"),
        ("concat.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n"),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        match tools.probe(&path) {
            Err(VideoError::BadInput(m)) => assert!(m.contains("not an MP4 or WebM"), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
        assert!(matches!(tools.frames(&path, 64, 64, None), Err(VideoError::BadInput(_))), "{name}");
    }
}

#[test]
fn a_truncated_mp4_is_a_clear_error() {
    let _serial = serial();
    let (engine, tools, dir) = (engine(), tools(), tempfile::tempdir().unwrap());
    let p = params(serde_json::json!({ "styles": [[1, 1.0]], "seconds": 2, "fps": 12, "max_side": 128 }));
    let file = render(&engine, &tools, dir.path(), &p, OutputCodec::H264);
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.mp4");
    // faststart: the index is whole, most of the media data is gone.
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let decoded: Result<Vec<_>, _> = tools.frames(&cut, 128, 128, None).and_then(|r| r.collect());
    let probed = tools.probe(&cut);
    assert!(probed.is_err() || decoded.as_ref().map(|f| f.len() < 24).unwrap_or(true), "a truncated file must not pass as whole: {probed:?}");
}

/// Children of this process still running `ffmpeg` or `ffprobe`.
fn tool_processes() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let comm = stat.split(['(', ')']).nth(1).unwrap_or("");
            let ppid = stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).unwrap_or("");
            ppid == me && (comm == "ffmpeg" || comm == "ffprobe")
        })
        .count()
}

#[test]
fn the_wall_clock_limit_kills_the_encoder_and_a_dropped_encoder_leaves_nothing() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut tools = tools();
    tools.timeout = Duration::from_millis(300);
    let frame = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]));
    let mut enc = tools.encoder(&dir.path().join("slow.mp4"), 64, 64, Fps::whole(12), OutputCodec::H264).unwrap();
    enc.push(&frame).unwrap();
    // Nothing more is sent: the encoder waits for frames until the watchdog kills it.
    std::thread::sleep(Duration::from_millis(600));
    let err = enc.push(&frame).and_then(|_| enc.push(&frame)).err().or_else(|| enc.finish().err());
    assert!(matches!(err, Some(VideoError::Timeout(_))), "{err:?}");
    assert_eq!(tool_processes(), 0);

    tools.timeout = Duration::from_secs(60);
    let mut enc = tools.encoder(&dir.path().join("dropped.mp4"), 64, 64, Fps::whole(12), OutputCodec::H264).unwrap();
    enc.push(&frame).unwrap();
    assert_eq!(tool_processes(), 1);
    drop(enc);
    assert_eq!(tool_processes(), 0, "a dropped encoder (a cancelled job) kills its process");
}

#[test]
fn relative_paths_name_the_same_files() {
    let _serial = serial();
    let tools = tools();
    let dir = tempfile::tempdir_in(".").unwrap();
    let rel = std::path::PathBuf::from(dir.path().file_name().unwrap()).join("rel.mp4");
    let mut enc = tools.encoder(&rel, 64, 64, Fps::whole(12), OutputCodec::H264).unwrap();
    for _ in 0..12 {
        enc.push(&RgbImage::new(64, 64)).unwrap();
    }
    enc.finish().unwrap();
    assert_eq!(tools.probe(&rel).unwrap().video.unwrap().frames, Some(12));
    assert_eq!(tools.frames(&rel, 32, 32, None).unwrap().count(), 12);
}

#[test]
fn frames_of_another_size_and_odd_sizes_are_refused() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    assert!(matches!(tools.encoder(&dir.path().join("odd.mp4"), 63, 64, Fps::whole(12), OutputCodec::H264), Err(VideoError::BadInput(_))));
    let mut enc = tools.encoder(&dir.path().join("ok.mp4"), 64, 64, Fps::whole(12), OutputCodec::H264).unwrap();
    assert!(matches!(enc.push(&RgbImage::new(32, 32)), Err(VideoError::BadInput(_))));
    // Cancelling motion between keyframes stops it.
    let p = params(serde_json::json!({ "styles": [[1, 1.0]], "from": { "styles": [[2, 1.0]] }, "seconds": 2, "fps": 12, "max_side": 128 }));
    let r = engine().motion(photo("astronaut.png"), &p, &|_| {}, &|| true);
    assert!(r.is_err());
}

/// Makes a test clip with Debian's ffmpeg from its own generated sources (`lavfi`), in the
/// test's folder: `args` go between the inputs and the output file.
fn make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "making {name}");
    out
}

fn limits() -> video::ClipLimits {
    video::ClipLimits { max_secs: 10.0, ..Default::default() }
}

#[test]
fn an_upload_is_cleaned_to_video_only_without_tags_at_a_constant_rate() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    // A phone-like clip: 3 s at 30 fps with sound, a title, a location and a creation time.
    let sent = make(dir.path(), "phone.mp4", &[
        "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30:duration=3", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        "-metadata", "title=My holiday", "-metadata", "location=+48.8584+002.2945/", "-metadata", "creation_time=2026-07-01T10:00:00Z",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
    ]);
    let before = tools.probe(&sent).unwrap();
    assert!(before.audio && before.tags.iter().any(|(k, _)| k == "location"), "the fixture has what must go: {before:?}");
    let out = dir.path().join("clean.mp4");
    let clean = tools.clean_upload(&sent, &out, &limits()).unwrap();
    assert_eq!((clean.width, clean.height, clean.fps, clean.frames), (640, 480, Fps::whole(30), 90));
    let after = tools.probe(&out).unwrap();
    assert_eq!(after.stream_types, ["video"], "sound dropped");
    for (k, v) in after.tags.iter().chain(after.video.as_ref().unwrap().tags.iter()) {
        assert!(["major_brand", "minor_version", "compatible_brands", "language", "handler_name", "vendor_id"].contains(&k.as_str()) || (k == "encoder" && v == "Darkroom"), "tag {k}={v} kept");
    }
    let bytes = std::fs::read(&out).unwrap();
    for secret in ["My holiday", "48.8584", "2026-07-01"] {
        assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{secret} left in the file");
    }
}

#[test]
fn a_variable_frame_rate_clip_keeps_its_timing() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    // 2 s: the first second at 30 fps, the second at 10 fps (as phones do in low light).
    let sent = make(dir.path(), "vfr.mp4", &[
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=2",
        "-vf", "select='lt(t,1)+not(mod(n,3))',setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'",
        "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    ]);
    let out = dir.path().join("clean.mp4");
    let clean = tools.clean_upload(&sent, &out, &limits()).unwrap();
    let fps = clean.sent.video.as_ref().unwrap().fps.unwrap();
    assert!(fps.value() < 29.0, "the fixture is variable: average {fps:?}");
    assert!((clean.duration_secs - clean.sent.duration_secs).abs() < 0.15, "timing kept: {clean:?}");
    assert_eq!(clean.frames as f64, (clean.fps.value() * clean.duration_secs).round(), "a constant rate: {clean:?}");
}

#[test]
fn hostile_and_oversized_uploads_are_refused_with_a_reason() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    let refuse = |path: &Path, says: &str| {
        let out = path.with_extension("clean.mp4");
        match tools.clean_upload(path, &out, &limits()) {
            Err(VideoError::BadInput(m)) => assert!(m.contains(says), "{}: {m}", path.display()),
            other => panic!("{}: {other:?}", path.display()),
        }
        assert_eq!(tool_processes(), 0, "no ffmpeg left behind");
    };
    // An hour, as the container says (and as it is: tiny and cheap to make).
    let hour = make(dir.path(), "hour.mp4", &["-f", "lavfi", "-i", "color=c=gray:size=16x16:rate=1:duration=3600", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    refuse(&hour, "seconds long");
    let minute = make(dir.path(), "minute.webm", &["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=5:duration=60", "-c:v", "libvpx-vp9", "-b:v", "50k"]);
    refuse(&minute, "seconds long");
    let sound = make(dir.path(), "sound.mp4", &["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"]);
    refuse(&sound, "no video stream");
    let fast = make(dir.path(), "fast.mp4", &["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=120:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    refuse(&fast, "frames per second");
    let mpeg4 = make(dir.path(), "old.mp4", &["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1", "-c:v", "mpeg4"]);
    refuse(&mpeg4, "not accepted");
    // Truncated: the index says 4 s, two thirds of the media data is gone.
    let whole = make(dir.path(), "whole.mp4", &["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    refuse(&cut, "incomplete");
    // Renamed files and playlists never reach a decoder.
    for (name, body) in [("zip.mp4", &b"PK\x03\x04\x14\x00\x00\x00\x08\x00 not a video"[..]), ("list.mp4", b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n")] {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        refuse(&p, "not an MP4 or WebM");
    }
    let big = video::ClipLimits { max_bytes: 1000, ..limits() };
    assert!(matches!(tools.clean_upload(&whole, &dir.path().join("x.mp4"), &big), Err(VideoError::BadInput(m)) if m.contains("larger than")));
}

#[test]
fn a_4k_clip_is_taken_and_scaled_down() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    let uhd = make(dir.path(), "uhd.mp4", &["-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=24:duration=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);
    let clean = tools.clean_upload(&uhd, &dir.path().join("clean.mp4"), &limits()).unwrap();
    assert_eq!((clean.width, clean.height, clean.frames), (1280, 720, 24));
}

#[test]
fn frame_at_is_the_frame_shown_at_that_time() {
    let _serial = serial();
    let (tools, dir) = (tools(), tempfile::tempdir().unwrap());
    // 2 s at 10 fps, frame i a flat grey of level 10·i: a frame tells its own index.
    let path = dir.path().join("steps.mp4");
    let mut enc = tools.encoder(&path, 64, 64, Fps::whole(10), OutputCodec::H264).unwrap();
    for i in 0..20u8 {
        enc.push(&RgbImage::from_pixel(64, 64, image::Rgb([i * 10; 3]))).unwrap();
    }
    enc.finish().unwrap();
    // The first frame at or after the time: frame i is at i / 10 s.
    for (secs, index) in [(0.0, 0u8), (0.4, 4), (0.45, 5), (1.2, 12), (1.9, 19)] {
        let frame = tools.frame_at(&path, secs, 64, 64).unwrap();
        let level = frame.get_pixel(32, 32).0[1] as i32;
        assert!((level - index as i32 * 10).abs() <= 3, "{secs} s: frame {index} expected, got level {level}");
    }
    let half = tools.frame_at(&path, 1.25, 32, 32).unwrap();
    assert_eq!(half.dimensions(), (32, 32));
    for bad in [1.95, 5.0, -1.0, f64::NAN] {
        assert!(matches!(tools.frame_at(&path, bad, 64, 64), Err(VideoError::BadInput(_))), "{bad} s");
    }
    assert_eq!(tool_processes(), 0);
}
