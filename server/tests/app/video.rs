//! Image→video end to end on the local engine and Debian's ffmpeg: the price per second shown
//! and charged, the worker's frames encoded to a labelled, signed H.264 MP4 with its poster
//! renditions, byte ranges for players, the item page's player, deletion; bad clip parameters
//! cost nothing; a cancelled render leaves no process and no file behind.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use darkroom_engine::video::{self, Container, Fps, VideoTools};
use serde_json::Value;

use super::*;

fn tools() -> VideoTools {
    VideoTools::find(2, Duration::from_secs(60)).expect("ffmpeg installed (apt-get install ffmpeg)")
}

/// Writes `bytes` to a file in a new temporary folder (ffprobe reads files).
fn to_file(bytes: &[u8], name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// This test process's children that are `ffmpeg` or `ffprobe`.
fn ffmpeg_children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let comm = stat.split(['(', ')']).nth(1).unwrap_or("");
            let ppid = stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).unwrap_or("");
            ppid == me && (comm == "ffmpeg" || comm == "ffprobe")
        })
        .count()
}

const VIDEO: &str = "photo-to-video";

/// Waits until the job ran: it ended, or its result waits in review.
async fn settled(app: &TestApp, c: &reqwest::Client, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, job) = app.call(c, "get_job", &[("id", id)]).await;
        let status = job["status"].as_str().unwrap_or("");
        if ["succeeded", "failed", "rejected", "canceled"].contains(&status) || (status == "review" && job["progress"].as_i64() == Some(100)) {
            return job;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "job {id} did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The stories count this process's ffmpeg children: they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn image_to_video_end_to_end(b: Backend) {
    let _serial = SERIAL.lock().await;
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "vic@example.com").await;
    assert_eq!(app.balance(&c).await, 50);

    // The template's price is per second: 1 credit × 2 s.
    let fields = [("rights", "on"), ("template", VIDEO), ("style", "5"), ("camera", "pan_left"), ("seconds", "2"), ("idempotency_key", "v1")];
    let (status, job) = app.submit(&c, sample("astronaut.png"), &fields).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(app.balance(&c).await, 48, "charged per second at submit");
    let id = job["id"].as_str().unwrap().to_string();
    let params: Value = serde_json::from_str(&app.state.store.job(&id, &user_id(&app, "vic@example.com").await).await.unwrap().params).unwrap();
    assert_eq!((params["generator"].as_str(), params["camera"].as_str(), params["seconds"].as_f64()), (Some("local-motion"), Some("pan_left"), Some(2.0)));

    let done = app.wait_done(&c, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["video"], true);
    assert_eq!((done["width"].as_i64(), done["height"].as_i64()), (Some(512), Some(512)));

    // The original: H.264 MP4, yuv420p, 2 s at 24 fps, faststart, no metadata but the label.
    let r = c.get(format!("{}/media/{id}/result?download=1", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".mp4\""), "{:?}", r.headers()["content-disposition"]);
    let mp4 = r.bytes().await.unwrap().to_vec();
    let (_dir, path) = to_file(&mp4, "result.mp4");
    let probe = tools().probe(&path).unwrap();
    let v = probe.video.as_ref().unwrap();
    assert_eq!((probe.container, v.codec.as_str(), v.pix_fmt.as_str(), v.width, v.height), (Container::Mp4, "h264", "yuv420p", 512, 512));
    assert_eq!((v.frames, v.fps), (Some(48), Some(Fps::whole(24))));
    assert!((probe.duration_secs - 2.0).abs() < 0.01);
    assert_eq!(probe.stream_types, ["video"]);
    for (k, _) in &probe.tags {
        assert!(["major_brand", "minor_version", "compatible_brands"].contains(&k.as_str()), "container tag {k}");
    }
    let boxes = video::top_level_boxes(&mp4);
    let pos = |k: &[u8; 4]| boxes.iter().position(|b| &b.0 == k);
    assert!(pos(b"moov").unwrap() < pos(b"mdat").unwrap(), "faststart");
    let xmp = boxes.iter().find(|b| &b.0 == b"uuid" && mp4[b.1 + 8..b.1 + 24] == video::XMP_UUID).expect("the XMP label box");
    assert!(String::from_utf8_lossy(&mp4[xmp.1..xmp.1 + xmp.2]).contains("trainedAlgorithmicMedia"));
    let manifest = darkroom_engine::provenance::read(&mp4, "video/mp4").expect("a C2PA manifest in the MP4");
    assert!(manifest.valid, "{}", manifest.json);
    assert!(manifest.json.contains("local-motion"), "{}", manifest.json);
    assert_eq!(tools().frames(&path, 64, 64, None).unwrap().count(), 48, "every frame decodes");

    // Byte ranges, as a player seeking asks for them.
    let r = c.get(format!("{}/media/{id}/result", app.base)).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"].to_str().unwrap(), format!("bytes 100-199/{}", mp4.len()));
    assert_eq!(r.bytes().await.unwrap().as_ref(), &mp4[100..200]);
    let r = c.get(format!("{}/media/{id}/result", app.base)).header("range", format!("bytes={}-", mp4.len() + 10)).send().await.unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"].to_str().unwrap(), format!("bytes */{}", mp4.len()));

    // The poster: the image renditions of the first frame, labelled.
    let poster = c.get(format!("{}/media/{id}/w512.jpg", app.base)).send().await.unwrap();
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    let poster = poster.bytes().await.unwrap();
    assert_eq!(image::load_from_memory(&poster).unwrap().width(), 512);
    assert!(String::from_utf8_lossy(&poster).contains("trainedAlgorithmicMedia"));

    // The API sees the clip too: its generation object names the output's type, and the
    // signed output URL serves the MP4.
    let (_, secret) = super::api::new_key(&app, &c, &[]).await;
    let (s, g, _) = super::api::api(&app, "GET", &format!("/api/v1/generations/{id}"), Some(&secret), None, &[]).await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["output_type"], "video/mp4");
    let url = g["output"][0].as_str().unwrap();
    let r = reqwest::get(url).await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "video/mp4"));
    assert_eq!(r.bytes().await.unwrap().len(), mp4.len());
    // And makes one with the member's camera move, length and loop, priced per second.
    let before = app.balance(&c).await;
    let photo = super::api::b64(&sample("coffee.png"));
    let body = serde_json::json!({ "image": photo, "template": VIDEO, "style": 2, "camera": "zoom_in", "seconds": 3, "ping_pong": true });
    let (s, g, _) = super::api::api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body), &[]).await;
    assert_eq!(s, 201, "{g}");
    assert_eq!((g["cost"].as_i64(), g["output_type"].is_null()), (Some(3), true));
    assert_eq!((g["input"]["camera"].as_str(), g["input"]["seconds"].as_f64(), g["input"]["ping_pong"].as_bool()), (Some("zoom_in"), Some(3.0), Some(true)), "{g}");
    assert_eq!(app.balance(&c).await, before - 3);
    let api_job = g["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait_done(&c, &api_job).await["status"], "succeeded");
    let api_clip = reqwest::get(super::api::api(&app, "GET", &format!("/api/v1/generations/{api_job}"), Some(&secret), None, &[]).await.1["output"][0].as_str().unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (_dir2, api_path) = to_file(&api_clip, "api.mp4");
    assert!((tools().probe(&api_path).unwrap().duration_secs - 3.0).abs() < 0.05, "3 s as asked");
    // Bad choices cost nothing: an unknown camera move, a length past the limit, a clip's
    // fields on an image template.
    for (body, says) in [
        (serde_json::json!({ "image": photo, "template": VIDEO, "camera": "spin" }), "camera move"),
        (serde_json::json!({ "image": photo, "template": VIDEO, "seconds": 60 }), "seconds"),
        (serde_json::json!({ "image": photo, "template": "style-03", "seconds": 3 }), "video templates"),
    ] {
        let (s, v, _) = super::api::api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body), &[]).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(says), "{v}");
    }
    assert_eq!(app.balance(&c).await, before - 3, "nothing charged for bad choices");

    // A share link: its page carries `og:video` under the link itself, which serves the MP4
    // (with ranges) as long as the link lives.
    let (s, url) = app.call(&c, "create_share_link", &[("id", &id), ("days", "7")]).await;
    assert_eq!(s, 200, "{url}");
    let link = url.as_str().unwrap().to_string();
    let visitor = client();
    let html = visitor.get(&link).send().await.unwrap().text().await.unwrap();
    let og = meta(&html, "property=\"og:video\"").expect("og:video");
    assert_eq!(og, format!("{link}/preview.mp4"));
    assert_eq!(meta(&html, "property=\"og:video:type\"").as_deref(), Some("video/mp4"));
    let r = visitor.get(&og).header("range", "bytes=0-9").send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (206, "video/mp4"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), &mp4[..10]);
    let links = app.call(&c, "item_sharing", &[("id", &id)]).await.1;
    let (s, _) = app.call(&c, "revoke_share_link", &[("id", links["links"][0]["id"].as_str().unwrap())]).await;
    assert!(s < 400);
    assert_eq!(visitor.get(&og).send().await.unwrap().status(), 404, "gone with the link");

    // The item page plays it.
    let page = c.get(format!("{}/gallery/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<video") && page.contains(&format!("/media/{id}/result")) && page.contains(&format!("/media/{id}/w1200.jpg")), "item page");
    // Its tile in My gallery and, once public, in Explore carries the video mark; an image's
    // does not.
    let (s, _) = app.submit(&c, sample("coffee.png"), &[("rights", "on"), ("style", "1"), ("idempotency_key", "still")]).await;
    assert_eq!(s, 201);
    let gallery = c.get(format!("{}/gallery", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(gallery.matches("data-testid=\"video-mark\"").count(), 2, "the two clips, not the image");
    let (s, v) = app.call(&c, "set_visibility", &[("id", &id), ("visibility", "public"), ("reviewed", "on")]).await;
    assert_eq!(s, 200, "{v}");
    let (_, feed) = app.call(&client(), "explore", &[]).await;
    assert_eq!((feed["items"][0]["id"].as_str(), feed["items"][0]["video"].as_bool()), (Some(id.as_str()), Some(true)), "{feed}");
    let explore = client().get(format!("{}/explore", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(explore.contains("data-testid=\"video-mark\""), "Explore marks it");

    let (status, _) = app.call(&c, "delete_job", &[("id", &id)]).await;
    assert!(status < 400);
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 404);
    assert!(app.media_files().await.iter().all(|p| !p.contains(&id)), "every file of the clip removed");
    assert_eq!(app.state.store.ledger_sum(&user_id(&app, "vic@example.com").await).await.unwrap(), 40, "2 + 3 s of clips and one image");
}

async fn clip_parameters_are_checked_before_the_charge(b: Backend) {
    let _serial = SERIAL.lock().await;
    let app = spawn_app(b, |c| c.video_max_secs = 6).await;
    let c = client();
    app.sign_up(&c, "val@example.com").await;
    for (fields, says) in [
        (vec![("seconds", "8")], "at most 6 seconds"),
        (vec![("seconds", "1")], "seconds must be"),
        (vec![("seconds", "lots")], "must be a number"),
        (vec![("camera", "spin")], "Unknown camera move"),
    ] {
        let mut all = vec![("rights", "on"), ("template", VIDEO), ("style", "3"), ("idempotency_key", "x")];
        all.extend(fields.iter().cloned());
        let (status, body) = app.submit(&c, sample("astronaut.png"), &all).await;
        assert_eq!(status, 400, "{fields:?}: {body}");
        assert!(body.to_string().contains(says), "{fields:?}: {body}");
    }
    // No photo: a clip needs one.
    let form = reqwest::multipart::Form::new().text("template", VIDEO).text("rights", "on").text("idempotency_key", "y");
    let r = c.post(format!("{}/generations", app.base)).header("accept", "application/json").multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.balance(&c).await, 50, "nothing charged");
    assert!(app.media_files().await.iter().all(|k| !k.starts_with("uploads/")), "no upload kept");
}

async fn a_cancelled_render_leaves_no_process_and_no_file(b: Backend) {
    let _serial = SERIAL.lock().await;
    let app = spawn_app(b, |c| c.refund_on_cancel = true).await;
    let c = client();
    app.sign_up(&c, "vin@example.com").await;
    // A long clip from another style: keyframes every half second keep the worker busy.
    let fields = [("rights", "on"), ("template", VIDEO), ("style", "9"), ("seconds", "6"), ("idempotency_key", "c1")];
    let (status, job) = app.submit(&c, sample("coffee.png"), &fields).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let start = Instant::now();
    loop {
        let (_, j) = app.call(&c, "get_job", &[("id", &id)]).await;
        if j["status"] == "running" && j["progress"].as_i64().unwrap_or(0) > 5 {
            break;
        }
        assert!(j["status"] != "succeeded", "finished before it could be cancelled: {j}");
        assert!(start.elapsed() < Duration::from_secs(60), "never ran: {j}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.call(&c, "cancel_job", &[("id", &id)]).await.0, 200);
    let done = app.wait_done(&c, &id).await;
    assert_eq!(done["status"], "canceled");
    // The worker notices at its next progress write, then stops the model and the encoder.
    let start = Instant::now();
    while ffmpeg_children() > 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "the render did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Longer than a keyframe takes: a render that went on would have started its encoder.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(ffmpeg_children(), 0);
    assert!(app.media_files().await.iter().all(|p| !p.starts_with("results/")), "no result file");
    assert_eq!(app.balance(&c).await, 50, "refunded per the operator's cancel setting");
}

/// A clip made here by ffmpeg from a real photo: `secs` seconds at 12 fps, 320×240, with a
/// sound track, a title and a location (all of which must not reach the result), and
/// `noise` levels of temporal noise (a sensor's grain, which restyling turns into flicker).
fn still_clip(secs: u32, noise: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.mp4");
    let photo = models_dir().join("samples/coffee.png");
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "12", "-t", &secs.to_string(), "-i"])
        .arg(&photo)
        .args(["-f", "lavfi", "-t", &secs.to_string(), "-i", "sine=frequency=300"])
        .args(["-vf", &format!("scale=320:240,noise=alls={noise}:allf=t"), "-metadata", "title=Kitchen", "-metadata", "location=+52.52+013.40/"])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

async fn submit_clip(app: &TestApp, c: &reqwest::Client, clip: Vec<u8>, fields: &[(&str, &str)]) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(clip).file_name("clip.mp4").mime_str("video/mp4").unwrap());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = c.post(format!("{}/generations", app.base)).header("accept", "application/json").multipart(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Mean absolute difference per value (0..=255) of two frames.
fn mad(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.as_raw().len() as f64
}

/// PSNR of the luma (BT.709 Y′ from RGB, as the files are tagged), in dB: the figure video
/// codecs are compared by. Full-RGB PSNR is capped near 33 dB for stylised textures by the
/// 4:2:0 chroma every H.264 `yuv420p` file has, whatever its bitrate (measured with ffmpeg's
/// `psnr` filter on a style preview: RGB 33.3 dB at CRF 18 and 33.8 at CRF 8 in 4:2:0, 45.7
/// in 4:4:4; luma 46.8 dB at CRF 18).
pub(crate) fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let y = |p: &image::Rgb<u8>| 0.2126 * p.0[0] as f64 + 0.7152 * p.0[1] as f64 + 0.0722 * p.0[2] as f64;
    let mse = a.pixels().zip(b.pixels()).map(|(p, q)| (y(p) - y(q)).powi(2)).sum::<f64>() / (a.width() * a.height()) as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
}

/// The result's frames, decoded.
async fn result_frames(app: &TestApp, c: &reqwest::Client, id: &str) -> Vec<image::RgbImage> {
    let mp4 = c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().bytes().await.unwrap();
    let (_dir, path) = to_file(&mp4, "out.mp4");
    let probe = tools().probe(&path).unwrap();
    let v = probe.video.unwrap();
    tools().frames(&path, v.width, v.height, None).unwrap().collect::<Result<_, _>>().unwrap()
}

async fn video_to_video_end_to_end(b: Backend) {
    let _serial = SERIAL.lock().await;
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "vera@example.com").await;
    let me = user_id(&app, "vera@example.com").await;
    // The same restyling without smoothing, as an operator could offer it.
    let admin = app.state.store.user_by_email("vera@example.com").await.unwrap().unwrap().id;
    let input = darkroom_store::templates::TemplateInput {
        id: "video-restyle-raw", name: "Restyle, unsmoothed", description: "", mode: darkroom_contract::Mode::VideoToVideo,
        generator: "local-video-style", fallbacks: "[]", params: r#"{"smoothing": 0, "every": 1, "max_side": 512}"#, prompt_template: "", negative_prompt: "",
        cost: Some(1), position: 2000, preview_url: "", translations: "{}", archived: false,
    };
    app.state.store.save_template(&admin, &input, true).await.unwrap();

    let clip = still_clip(2, 10);
    // A photo where a clip belongs (and the reverse) is refused before anything is stored.
    let (s, body) = app.submit(&c, sample("coffee.png"), &[("rights", "on"), ("template", "video-restyle"), ("idempotency_key", "p")]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("takes a video"), "{body}");
    let (s, body) = submit_clip(&app, &c, clip.clone(), &[("rights", "on"), ("style", "3"), ("idempotency_key", "q")]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("not a video"), "{body}");
    assert_eq!(app.balance(&c).await, 50);

    let mut ids = vec![];
    for (template, key) in [("video-restyle", "s1"), ("video-restyle-raw", "s2")] {
        let (s, job) = submit_clip(&app, &c, clip.clone(), &[("rights", "on"), ("template", template), ("style", "3"), ("idempotency_key", key)]).await;
        assert_eq!(s, 201, "{job}");
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    assert_eq!(app.balance(&c).await, 46, "2 s × 1 credit, twice");
    for id in &ids {
        let done = app.wait_done(&c, id).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!((done["video"].as_bool(), done["width"].as_i64(), done["height"].as_i64()), (Some(true), Some(320), Some(240)));
    }
    // The stored source: video only, no title or location.
    let job = app.state.store.job(&ids[0], &me).await.unwrap();
    let upload = app.state.store.upload(job.upload_id.as_deref().unwrap(), &me).await.unwrap();
    assert_eq!((upload.mime.as_str(), upload.duration_ms), ("video/mp4", Some(2000)));
    let source = app.state.media.get(&upload.object_key).await.unwrap();
    assert!(!String::from_utf8_lossy(&source).contains("Kitchen") && !String::from_utf8_lossy(&source).contains("52.52"), "tags dropped");
    let (_dir, source_path) = to_file(&source, "source.mp4");
    assert_eq!(tools().probe(&source_path).unwrap().stream_types, ["video"], "sound dropped");

    let smooth = result_frames(&app, &c, &ids[0]).await;
    let raw = result_frames(&app, &c, &ids[1]).await;
    assert_eq!((smooth.len(), raw.len()), (24, 24), "the clip's timing: 2 s at 12 fps");
    // Unsmoothed, a frame is the still-image stylisation of the same source frame (the
    // encoder's loss aside).
    let frames: Vec<image::RgbImage> = tools().frames(&source_path, 320, 240, None).unwrap().collect::<Result<_, _>>().unwrap();
    let engine = app.state.engine.clone().unwrap();
    let still = engine.stylize(frames[10].clone(), &darkroom_engine::StyleParams::single(3), &|_| {}).unwrap();
    let db = psnr(&still, &raw[10]);
    println!("video→video frame 10 against the still stylisation: luma PSNR {db:.1} dB");
    assert!(db >= 35.0, "PSNR {db:.1} dB");
    // Flicker on a still camera with grain: the mean absolute difference of consecutive
    // frames. Thresholds: the restyled clip may change between frames no more than the
    // source's own grain does (unsmoothed, the network amplifies the grain about 3×), and
    // smoothing takes at least half off the unsmoothed figure.
    let flicker = |f: &[image::RgbImage]| f.windows(2).skip(1).map(|w| mad(&w[0], &w[1])).sum::<f64>() / (f.len() - 2) as f64;
    let grain: Vec<image::RgbImage> = frames.iter().map(|f| image::imageops::resize(f, 320, 240, image::imageops::FilterType::Triangle)).collect();
    let (fs, fr, fg) = (flicker(&smooth), flicker(&raw), flicker(&grain));
    println!("flicker (mean MAD of consecutive frames): smoothed {fs:.2}, unsmoothed {fr:.2}, the source's grain {fg:.2}");
    assert!(fs <= fg && fs < fr * 0.5, "smoothed {fs:.2}, unsmoothed {fr:.2}, source {fg:.2}");
}

/// Image→video on a remote provider: Replicate's video model (its stand-in speaks the
/// predictions API and delivers an MP4 made by ffmpeg). The clip is probed, decoded, gated
/// and re-encoded like a local one, labelled as the provider's; the photo leaves as a clean
/// PNG in the model's image field with the whole-second duration; a safety-checker failure
/// is a rejection (charged).
async fn image_to_video_on_replicate(b: Backend) {
    let _serial = SERIAL.lock().await;
    use super::provider_standin::{self, Reply};
    let rp = provider_standin::spawn_replicate().await;
    let base = rp.base.clone();
    let app = spawn_app(b, move |c| {
        c.replicate_api_token = Some(provider_standin::REPLICATE_TOKEN.into());
        c.replicate_api_base = base;
        c.replicate_webhook_secret = Some(provider_standin::REPLICATE_SECRET.into());
        c.replicate_poll_ms = 200;
    })
    .await;
    let c = client();
    app.sign_up(&c, "rhea@example.com").await;
    let admin = user_id(&app, "rhea@example.com").await;
    let input = darkroom_store::templates::TemplateInput {
        id: "remote-video", name: "Remote video", description: "", mode: darkroom_contract::Mode::ImageToVideo,
        generator: "replicate-video", fallbacks: "[]", params: r#"{"seconds": 3}"#, prompt_template: "the photo comes alive, {prompt}", negative_prompt: "",
        cost: Some(2), position: 2000, preview_url: "", translations: "{}", archived: false,
    };
    app.state.store.save_template(&admin, &input, true).await.unwrap();

    let (s, job) = app.submit(&c, sample("chelsea.png"), &[("rights", "on"), ("template", "remote-video"), ("prompt", "slowly"), ("idempotency_key", "r1")]).await;
    assert_eq!(s, 201, "{job}");
    assert_eq!(app.balance(&c).await, 44, "2 credits × 3 s");
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_done(&c, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["video"], true);
    let sent = rp.received().into_iter().find(|r| r.fields.iter().any(|(k, v)| k == "path" && v == "wan-video/wan-2.2-i2v-fast")).expect("a prediction of the video model");
    let body: Value = serde_json::from_str(&sent.fields.iter().find(|(k, _)| k == "body").unwrap().1).unwrap();
    assert_eq!((body["input"]["prompt"].as_str(), body["input"]["duration"].as_u64()), (Some("the photo comes alive, slowly"), Some(3)));
    assert!(body["input"]["image"].as_str().unwrap().starts_with("data:image/png;base64,"), "the clean photo");
    assert!(!body.to_string().contains("rhea"), "nothing about the member leaves");

    let mp4 = c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().bytes().await.unwrap().to_vec();
    let (_dir, path) = to_file(&mp4, "remote.mp4");
    let probe = tools().probe(&path).unwrap();
    let v = probe.video.unwrap();
    assert_eq!((v.codec.as_str(), v.frames, v.fps), ("h264", Some(24), Some(Fps::whole(8))), "re-encoded at the provider's timing");
    assert!(probe.tags.iter().all(|(k, _)| k != "title"), "the provider's tags dropped");
    let manifest = darkroom_engine::provenance::read(&mp4, "video/mp4").unwrap();
    assert!(manifest.valid && manifest.json.contains("replicate wan-video/wan-2.2-i2v-fast"), "{}", manifest.json);

    rp.push(&[Reply::Withheld("NSFW content detected. Try a different prompt.")]);
    let (s, job) = app.submit(&c, sample("chelsea.png"), &[("rights", "on"), ("template", "remote-video"), ("idempotency_key", "r2")]).await;
    assert_eq!(s, 201, "{job}");
    let done = app.wait_done(&c, job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "rejected", "{done}");
    assert_eq!(app.balance(&c).await, 38, "a refusal is charged");
}

/// Image→video on Veo through the Gemini API's long-running operations (its stand-in speaks
/// `predictLongRunning`, the operation and the file download): the photo as base64 PNG with
/// the duration and the photo's orientation, the operation polled with the key, the file
/// downloaded with it, the clip kept; the safety filter's withheld video is a rejection.
async fn image_to_video_on_veo(b: Backend) {
    let _serial = SERIAL.lock().await;
    use super::provider_standin::{self, Reply};
    let veo = provider_standin::spawn_veo().await;
    let base = veo.base.clone();
    let app = spawn_app(b, move |c| {
        c.gemini_api_key = Some(provider_standin::GEMINI_KEY.into());
        c.gemini_api_base = base;
        c.veo_poll_ms = 100;
    })
    .await;
    let c = client();
    app.sign_up(&c, "vesna@example.com").await;
    let admin = user_id(&app, "vesna@example.com").await;
    let input = darkroom_store::templates::TemplateInput {
        id: "veo-video", name: "Veo", description: "", mode: darkroom_contract::Mode::ImageToVideo,
        generator: "veo", fallbacks: "[]", params: r#"{"seconds": 4}"#, prompt_template: "{prompt}", negative_prompt: "",
        cost: Some(3), position: 2000, preview_url: "", translations: "{}", archived: false,
    };
    app.state.store.save_template(&admin, &input, true).await.unwrap();

    let (s, job) = app.submit(&c, sample("coffee.png"), &[("rights", "on"), ("template", "veo-video"), ("prompt", "steam rises"), ("idempotency_key", "v1")]).await;
    assert_eq!(s, 201, "{job}");
    assert_eq!(app.balance(&c).await, 38, "3 credits × 4 s");
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_done(&c, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let sent = veo.received().pop().unwrap();
    assert_eq!(sent.fields[0].1, "veo-3.0-fast-generate-001:predictLongRunning");
    let body: Value = serde_json::from_str(&sent.fields[1].1).unwrap();
    assert_eq!((body["instances"][0]["prompt"].as_str(), body["parameters"]["durationSeconds"].as_u64()), (Some("steam rises"), Some(4)));
    assert_eq!((body["instances"][0]["image"]["mimeType"].as_str(), body["parameters"]["aspectRatio"].as_str()), (Some("image/png"), Some("16:9")));
    assert!(!sent.image.is_empty() && image::load_from_memory(&sent.image).is_ok(), "the clean photo as PNG");
    let reads = veo.reads.lock().unwrap().clone();
    assert!(reads.iter().any(|(p, _)| p.starts_with("operations/")) && reads.iter().any(|(p, _)| p.starts_with("files/")), "{reads:?}");
    assert!(reads.iter().all(|(_, key)| *key), "the key on every read of the API's own host");
    let mp4 = c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().bytes().await.unwrap().to_vec();
    let (_dir, path) = to_file(&mp4, "veo.mp4");
    let v = tools().probe(&path).unwrap().video.unwrap();
    assert_eq!((v.codec.as_str(), v.frames), ("h264", Some(32)), "4 s at 8 fps");
    let manifest = darkroom_engine::provenance::read(&mp4, "video/mp4").unwrap();
    assert!(manifest.valid && manifest.json.contains("google veo-3.0-fast-generate-001"), "{}", manifest.json);

    veo.push(&[Reply::Withheld("Video generation was blocked by the safety filter.")]);
    let (s, job) = app.submit(&c, sample("coffee.png"), &[("rights", "on"), ("template", "veo-video"), ("idempotency_key", "v2")]).await;
    assert_eq!(s, 201, "{job}");
    let done = app.wait_done(&c, job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "rejected", "{done}");
    assert_eq!(app.balance(&c).await, 26, "a refusal is charged");
}

/// Frame moderation reaches moderators: a policy that holds the astronaut's face (a benign
/// label standing in for prohibited content) at the output gate holds a clip of her for
/// review; the queue plays the clip and lists the flagged frames with their times; an
/// approval shows it to its owner. A clip uploaded for video→video is gated frame by frame
/// at upload too.
async fn flagged_frames_hold_a_clip_for_review(b: Backend) {
    let _serial = SERIAL.lock().await;
    let policy = policy_file(&face_rule("output", "review"), 3, 5);
    let app = spawn_app(b, |c| c.moderation_policy = Some(policy)).await;
    let c = client();
    app.sign_up(&c, "fay@example.com").await;
    let fields = [("rights", "on"), ("template", VIDEO), ("style", "1"), ("seconds", "2"), ("idempotency_key", "f1")];
    let (s, job) = app.submit(&c, sample("astronaut.png"), &fields).await;
    assert_eq!(s, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let done = settled(&app, &c, &id).await;
    assert_eq!(done["status"], "review", "{done}");
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 404, "hidden from its owner meanwhile");
    let moderator = make_moderator(&app, "mod-video@example.com").await;
    let (s, queue) = app.call(&moderator, "moderation_queue", &[]).await;
    assert_eq!(s, 200, "{queue}");
    let entry = queue.as_array().unwrap().iter().find(|e| e["job_id"] == id.as_str()).expect("the clip is queued");
    assert_eq!(entry["video"], true);
    let flagged: Vec<&Value> = entry["boxes"].as_array().unwrap().iter().filter(|b| b["flagged"] == true).collect();
    assert!(!flagged.is_empty() && flagged.iter().all(|b| b["label"] == "FACE_FEMALE" && b["frame_secs"].is_number()), "{entry}");
    let r = moderator.get(format!("{}{}", app.base, entry["image_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "video/mp4"), "moderators play it");
    // The flagged frame as a still at the clip's size, which the boxes are drawn over; the
    // box lies inside it. Only moderators decode frames; a time past the end has none.
    let secs = flagged[0]["frame_secs"].as_f64().unwrap();
    let still_url = format!("{}{}?t={secs}", app.base, entry["image_url"].as_str().unwrap());
    let r = moderator.get(&still_url).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    let still = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((still.width() as i64, still.height() as i64), (entry["image_width"].as_i64().unwrap(), entry["image_height"].as_i64().unwrap()));
    let rect: Vec<i64> = flagged[0]["rect"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert!(rect[0] + rect[2] <= still.width() as i64 + 1 && rect[1] + rect[3] <= still.height() as i64 + 1, "{rect:?}");
    assert_eq!(moderator.get(format!("{}{}?t=99", app.base, entry["image_url"].as_str().unwrap())).send().await.unwrap().status(), 404);
    assert_eq!(c.get(&still_url).send().await.unwrap().status(), 404, "not for the owner");
    let (s, v) = app.call(&moderator, "rule_on_job", &[("id", &id), ("verdict", "approve"), ("category", "other"), ("reason", "a portrait")]).await;
    assert!(s < 400, "{v}");
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 200, "approved: its owner sees it");

    // Upload gate on a clip's frames: with her face blocked at upload, a clip of the
    // astronaut is refused (charged, nothing kept).
    let policy = policy_file(&face_rule("upload", "block"), 3, 5);
    let app = spawn_app(b, |c| c.moderation_policy = Some(policy)).await;
    let c = client();
    app.sign_up(&c, "fred@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("face.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "12", "-t", "2", "-i"])
        .arg(models_dir().join("samples/astronaut.png"))
        .args(["-vf", "scale=512:512", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(ok.success());
    let before = app.balance(&c).await;
    let (s, job) = submit_clip(&app, &c, std::fs::read(&clip).unwrap(), &[("rights", "on"), ("template", "video-restyle"), ("style", "2"), ("idempotency_key", "f2")]).await;
    assert_eq!((s, job["status"].as_str()), (201, Some("rejected")), "{job}");
    assert_eq!(app.balance(&c).await, before - 2, "charged, as for a blocked photo");
    let d = app.state.store.decisions_for_job(job["id"].as_str().unwrap()).await.unwrap();
    let upload = d.iter().find(|d| d.gate.as_str() == "upload").unwrap();
    assert_eq!(upload.decision.as_str(), "block");
    assert!(upload.labels.contains("frame_secs"), "{}", upload.labels);
    assert!(app.media_files().await.iter().all(|k| !k.starts_with("uploads/")), "a blocked clip is not kept");
}

/// Video→video over the API: a clip stored with `POST /api/v1/uploads` (probed, cleaned, its
/// length reported), then restyled from its `upload_id`, priced by its length; a clip that
/// lies about being an MP4 is refused and a clip on an image template costs nothing.
async fn clips_through_the_api(b: Backend) {
    let _serial = SERIAL.lock().await;
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "ada@example.com").await;
    let (_, secret) = super::api::new_key(&app, &c, &[]).await;
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name("clip.mp4"));
        let req = reqwest::Client::new().post(format!("{}/api/v1/uploads", app.base)).bearer_auth(&secret).multipart(form);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, up) = upload(still_clip(2, 0)).await;
    assert_eq!(s, 201, "{up}");
    assert_eq!((up["content_type"].as_str(), up["width"].as_i64(), up["height"].as_i64()), (Some("video/mp4"), Some(320), Some(240)), "{up}");
    assert!((up["duration_seconds"].as_f64().unwrap() - 2.0).abs() < 0.1, "{up}");
    // An MP4 header over nothing a decoder can read: refused, nothing stored.
    let mut liar = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    liar.extend(std::iter::repeat_n(0x42u8, 4000));
    let (s, v) = upload(liar).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(ffmpeg_children(), 0, "no ffmpeg left behind");

    let before = app.balance(&c).await;
    let (s, v, _) = super::api::api(&app, "POST", "/api/v1/generations", Some(&secret), Some(serde_json::json!({ "upload_id": up["id"], "template": "style-03" })), &[]).await;
    assert_eq!((s, v["error"]["message"].as_str().is_some_and(|m| m.contains("not a video"))), (400, true), "{v}");
    let body = serde_json::json!({ "upload_id": up["id"], "template": "video-restyle", "style": 4 });
    let (s, g, _) = super::api::api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body), &[("Idempotency-Key", "v2v-1")]).await;
    assert_eq!(s, 201, "{g}");
    assert_eq!((g["cost"].as_i64(), g["input"]["seconds"].as_f64().map(f64::round)), (Some(2), Some(2.0)), "priced by the clip's length: {g}");
    assert_eq!(app.balance(&c).await, before - 2);
    let id = g["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait_done(&c, &id).await["status"], "succeeded");
    let (_, g, _) = super::api::api(&app, "GET", &format!("/api/v1/generations/{id}"), Some(&secret), None, &[]).await;
    assert_eq!(g["output_type"], "video/mp4");
    let clip = reqwest::get(g["output"][0].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    let (_dir, path) = to_file(&clip, "out.mp4");
    let probe = tools().probe(&path).unwrap();
    assert!((probe.duration_secs - 2.0).abs() < 0.1, "the clip's timing kept: {}", probe.duration_secs);
    assert_eq!(probe.video.unwrap().fps, Some(Fps::whole(12)));
    // The same Idempotency-Key and body: the same generation, nothing charged again.
    let (s, again, _) = super::api::api(&app, "POST", "/api/v1/generations", Some(&secret), Some(serde_json::json!({ "upload_id": up["id"], "template": "video-restyle", "style": 4 })), &[("Idempotency-Key", "v2v-1")]).await;
    assert_eq!((s, again["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(app.balance(&c).await, before - 2);
}

/// A template that says VP9: the member's clip restyled into a WebM, labelled by its Matroska
/// tag, served as `video/webm` with its poster; then retention purges the uploaded clip after
/// the upload retention and the WebM with every poster rendition after the result retention,
/// leaving no file.
async fn webm_clips_and_their_retention(b: Backend) {
    use server::darkroom_service::retention::purge;
    let _serial = SERIAL.lock().await;
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "wes@example.com").await;
    let admin = app.state.store.user_by_email("wes@example.com").await.unwrap().unwrap().id;
    let input = darkroom_store::templates::TemplateInput {
        id: "video-restyle-webm", name: "Restyle to WebM", description: "", mode: darkroom_contract::Mode::VideoToVideo,
        generator: "local-video-style", fallbacks: "[]", params: r#"{"smoothing": 0.85, "max_side": 256, "codec": "vp9"}"#, prompt_template: "", negative_prompt: "",
        cost: Some(1), position: 2000, preview_url: "", translations: "{}", archived: false,
    };
    app.state.store.save_template(&admin, &input, true).await.unwrap();
    let (s, job) = submit_clip(&app, &c, still_clip(2, 0), &[("rights", "on"), ("template", "video-restyle-webm"), ("style", "6"), ("idempotency_key", "w")]).await;
    assert_eq!(s, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait_done(&c, &id).await["status"], "succeeded");

    let r = c.get(format!("{}/media/{id}/result?download=1", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "video/webm");
    assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".webm\""));
    let webm = r.bytes().await.unwrap();
    let (_dir, path) = to_file(&webm, "out.webm");
    let probe = tools().probe(&path).unwrap();
    let v = probe.video.as_ref().unwrap();
    assert_eq!((probe.container, v.codec.as_str(), v.pix_fmt.as_str(), v.width, v.height), (Container::WebM, "vp9", "yuv420p", 256, 192));
    assert_eq!(v.fps, Some(Fps::whole(12)));
    assert_eq!(tools().frames(&path, 64, 48, None).unwrap().count(), 24, "every frame of the 2 s clip");
    assert_eq!(probe.stream_types, ["video"], "no sound");
    let label = probe.tags.iter().find(|(k, _)| k == video::WEBM_LABEL_TAG).map(|(_, v)| v.clone());
    assert_eq!(label.as_deref(), Some(darkroom_engine::imageio::AI_SOURCE_TYPE), "{:?}", probe.tags);
    for (k, _) in &probe.tags {
        assert!([video::WEBM_LABEL_TAG, "encoder"].contains(&k.as_str()), "container tag {k}");
    }
    let poster = c.get(format!("{}/media/{id}/w256.webp", app.base)).send().await.unwrap();
    assert_eq!((poster.status().as_u16(), poster.headers()["content-type"].to_str().unwrap()), (200, "image/webp"));
    let page = c.get(format!("{}/gallery/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<video") && page.contains(&format!("/media/{id}/result")), "the item page plays it");

    // Retention: the clip sent goes after the upload retention (7 days), the WebM and its
    // poster's six renditions after the result retention (30 days); nothing is left.
    let files = app.media_files().await;
    assert_eq!(files.len(), 8, "the clip sent, the WebM, 3 widths × 2 formats: {files:?}");
    assert!(files.iter().any(|f| f.starts_with("uploads/") && f.ends_with(".mp4")) && files.iter().any(|f| f.ends_with(".webm")), "{files:?}");
    let (now, day) = (darkroom_store::now_ms(), 86_400_000i64);
    let r = purge(&app.state, now + 8 * day).await.unwrap();
    assert_eq!((r.uploads, r.results, r.files), (1, 0, 1), "the clip sent after 7 days");
    assert!(app.media_files().await.iter().all(|f| f.starts_with("results/")));
    let r = purge(&app.state, now + 31 * day).await.unwrap();
    assert_eq!((r.uploads, r.results, r.files), (0, 1, 7), "the WebM and every rendition after 30 days");
    assert!(app.media_files().await.is_empty(), "{:?}", app.media_files().await);
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 404);
}

on_both!(
    webm_clips_and_their_retention,
    clips_through_the_api,
    flagged_frames_hold_a_clip_for_review,
    image_to_video_on_veo,
    image_to_video_on_replicate,
    image_to_video_end_to_end,
    clip_parameters_are_checked_before_the_charge,
    a_cancelled_render_leaves_no_process_and_no_file,
    video_to_video_end_to_end,
);
