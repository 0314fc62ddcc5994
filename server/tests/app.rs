//! End-to-end HTTP stories against an in-process server with the real engine, on a fresh
//! SQLite file AND a fresh PostgreSQL database each (zero-to-production's `spawn_app`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use darkroom_store::Backend;
use server::darkroom_service::Config;
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub state: server::darkroom_service::AppState,
    pub data_dir: PathBuf,
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("DARKROOM_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/models"))
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(models_dir().join("samples").join(name)).expect("samples fetched by `darkroom fetch-models`")
}

/// A server on a free port over a fresh database; `tweak` adjusts the config.
pub async fn spawn_app(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = std::env::temp_dir().join(format!("darkroom-app-{}", darkroom_store::new_id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let mut config = Config::from_env();
    config.database_url = darkroom_store::testing::fresh_database_url(backend).await;
    config.media_dir = data_dir.join("media");
    config.models_dir = models_dir();
    config.data_dir = data_dir.clone();
    config.addr = "127.0.0.1:0".into();
    config.workers = 1;
    config.lease_secs = 30;
    // Ten apps share two cores here; previews are not what these tests check.
    config.render_previews = false;
    tweak(&mut config);
    let app = server::Application::build(config).await.expect("app builds");
    let base = format!("http://{}", app.addr());
    let state = app.state.clone();
    tokio::spawn(app.run());
    TestApp { base, state, data_dir }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(180)).build().unwrap()
}

impl TestApp {
    pub async fn sign_up(&self, c: &reqwest::Client, email: &str) {
        let r = c
            .post(format!("{}/api/sign_up", self.base))
            .form(&[("email", email), ("password", "correct horse battery"), ("display_name", "Tester"), ("age_confirmed", "on"), ("terms_accepted", "on")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "sign up: {}", r.status());
    }

    pub async fn call(&self, c: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = c.post(format!("{}/api/{endpoint}", self.base)).header("accept", "application/json").form(form).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn balance(&self, c: &reqwest::Client) -> i64 {
        self.call(c, "get_me", &[]).await.1["balance"].as_i64().expect("signed in")
    }

    pub async fn submit(&self, c: &reqwest::Client, photo: Vec<u8>, fields: &[(&str, &str)]) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(photo).file_name("photo.png"));
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let r = c.post(format!("{}/generations", self.base)).header("accept", "application/json").multipart(form).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn wait_done(&self, c: &reqwest::Client, id: &str) -> Value {
        let start = Instant::now();
        loop {
            let (_, job) = self.call(c, "get_job", &[("id", id)]).await;
            if ["succeeded", "failed", "rejected", "canceled"].contains(&job["status"].as_str().unwrap_or("")) {
                return job;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "job {id} did not finish: {job}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn media_files(&self) -> Vec<PathBuf> {
        fn walk(d: &std::path::Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                if e.path().is_dir() { walk(&e.path(), out) } else { out.push(e.path()) }
            }
        }
        let mut v = Vec::new();
        walk(&self.data_dir.join("media"), &mut v);
        v
    }
}

/// A JPEG of `photo` with an EXIF block: orientation 6 (rotate 90° clockwise) and a GPS IFD
/// pointer, so tests can check orientation is applied and metadata is dropped.
pub fn jpeg_with_exif(photo: &[u8]) -> Vec<u8> {
    let img = image::load_from_memory(photo).unwrap().into_rgb8();
    let img = image::imageops::crop_imm(&img, 0, 0, img.width(), img.height() / 2).to_image();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&img).unwrap();
    // TIFF, big-endian: IFD0 with Orientation=6 and GPSInfo pointer -> empty GPS IFD.
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&[0x00, 0x02]); // 2 entries
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00]);
    tiff.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x26]);
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    tiff.extend_from_slice(&[0x00, 0x00, 0, 0, 0, 0]); // GPS IFD: 0 entries, no next
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(darkroom_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(darkroom_store::Backend::Postgres).await } )* }
    };
}

on_both!(main_job_end_to_end, bad_input_costs_nothing, private_by_default_and_scoped, live_stream_replays_from_last_event_id, cross_site_posts_are_refused);

async fn main_job_end_to_end(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "ann@example.com").await;
    assert_eq!(app.balance(&c).await, 50, "sign-up grant");

    let fields = [("rights", "on"), ("style", "7"), ("blend_with", "12"), ("blend", "30"), ("strength", "90"), ("idempotency_key", "k1")];
    let (status, job) = app.submit(&c, sample("astronaut.png"), &fields).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["status"], "queued");
    assert_eq!(app.balance(&c).await, 45, "charged at submit");
    let (_, again) = app.submit(&c, sample("astronaut.png"), &fields).await;
    assert_eq!(again["id"], job["id"], "same idempotency key, same job");
    assert_eq!(app.balance(&c).await, 45, "charged once");

    let id = job["id"].as_str().unwrap();
    let done = app.wait_done(&c, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!((done["width"].as_i64(), done["height"].as_i64()), (Some(512), Some(512)));
    assert_eq!(done["style_label"], "Style 8 + Style 13 (30%)");

    let r = c.get(format!("{}/media/{id}/result?download=1", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let png = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((png.width(), png.height()), (512, 512));
    let thumb = c.get(format!("{}/media/{id}/thumb", app.base)).send().await.unwrap();
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");

    // Item and gallery pages render for the owner, with the AI label.
    let page = c.get(format!("{}/gallery/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("AI-generated") && page.contains(&format!("/media/{id}/result")), "item page");

    let (status, _) = app.call(&c, "delete_job", &[("id", id)]).await;
    assert!(status < 400, "delete: {status}");
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 404, "deleted media is gone at once");
    let left: Vec<_> = app.media_files().into_iter().filter(|p| p.to_string_lossy().contains(id)).collect();
    assert!(left.is_empty(), "result files removed: {left:?}");
    assert_eq!(app.state.store.ledger_sum(&app.state.store.user_by_email("ann@example.com").await.unwrap().unwrap().id).await.unwrap(), 45);
}

async fn bad_input_costs_nothing(b: Backend) {
    let app = spawn_app(b, |c| {
        c.upload.max_bytes = 400_000;
        c.signup_grant = 5;
    })
    .await;
    let c = client();
    app.sign_up(&c, "bob@example.com").await;
    let ok = [("rights", "on"), ("style", "1"), ("idempotency_key", "a")];
    let cases: Vec<(Vec<u8>, Vec<(&str, &str)>, u16, &str)> = vec![
        (b"hello, not an image".to_vec(), ok.to_vec(), 400, "invalid_image"),
        (sample("astronaut.png"), ok.to_vec(), 413, "file_too_large"),
        (sample("chelsea.png"), vec![("style", "1"), ("idempotency_key", "b")], 400, "invalid_request"),
        (sample("chelsea.png"), vec![("rights", "on"), ("style", "26"), ("idempotency_key", "c")], 400, "invalid_request"),
        (sample("chelsea.png"), vec![("rights", "on"), ("style", "1"), ("strength", "150"), ("idempotency_key", "d")], 400, "invalid_request"),
        (sample("chelsea.png"), vec![("rights", "on"), ("style", "1")], 400, "invalid_request"),
    ];
    for (photo, fields, status, code) in cases {
        let (s, body) = app.submit(&c, photo, &fields).await;
        assert_eq!((s, body["error"]["code"].as_str().unwrap_or("")), (status, code), "{fields:?}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.balance(&c).await, 5, "nothing charged");
    assert!(app.media_files().is_empty(), "nothing stored");

    // EXIF orientation is applied and the metadata is not kept.
    let exif = jpeg_with_exif(&sample("chelsea.png"));
    assert!(exif.windows(4).any(|w| w == b"Exif"));
    let (s, job) = app.submit(&c, exif, &[("rights", "on"), ("style", "1"), ("idempotency_key", "e")]).await;
    assert_eq!(s, 201, "{job}");
    let upload = app.state.store.upload(job["upload_id"].as_str().unwrap(), job["user_id"].as_str().unwrap()).await.unwrap();
    assert_eq!((upload.width, upload.height), (150, 451), "rotated 90°: was 451x150");
    let stored = std::fs::read(app.data_dir.join("media").join(&upload.object_key)).unwrap();
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "EXIF stripped from the stored copy");
    assert_eq!(app.balance(&c).await, 0);
    let (s, body) = app.submit(&c, sample("chelsea.png"), &[("rights", "on"), ("style", "1"), ("idempotency_key", "f")]).await;
    assert_eq!((s, body["error"]["code"].as_str()), (402, Some("insufficient_credits")));
    assert_eq!(app.media_files().len(), 1, "the refused job's upload was removed again");
}

async fn private_by_default_and_scoped(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let (ann, bob, visitor) = (client(), client(), client());
    app.sign_up(&ann, "ann@example.com").await;
    app.sign_up(&bob, "bob@example.com").await;
    let (_, job) = app.submit(&ann, sample("coffee.png"), &[("rights", "on"), ("style", "3"), ("idempotency_key", "x")]).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["visibility"], "private");
    assert_eq!(app.wait_done(&ann, id).await["status"], "succeeded");
    for (who, c) in [("other member", &bob), ("visitor", &visitor)] {
        for v in ["result", "thumb"] {
            assert_eq!(c.get(format!("{}/media/{id}/{v}", app.base)).send().await.unwrap().status(), 404, "{who} {v}");
        }
        let (s, _) = app.call(c, "get_job", &[("id", id)]).await;
        assert!(s >= 400, "{who} get_job answered {s}");
        let (s, _) = app.call(c, "delete_job", &[("id", id)]).await;
        assert!(s >= 400, "{who} delete_job answered {s}");
    }
    assert_eq!(app.call(&bob, "list_jobs", &[]).await.1, json!([]));
    assert_eq!(ann.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 200, "still there for the owner");
}

/// Reads SSE frames until `n` events arrived; returns (id, event, data).
async fn read_events(resp: reqwest::Response, n: usize) -> Vec<(i64, String, Value)> {
    let mut resp = resp;
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while out.len() < n {
        let chunk = tokio::time::timeout(deadline - Instant::now(), resp.chunk()).await.expect("events in time").unwrap().expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let (mut id, mut ev, mut data) = (None, String::new(), String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") { id = v.trim().parse().ok() }
                if let Some(v) = line.strip_prefix("event:") { ev = v.trim().into() }
                if let Some(v) = line.strip_prefix("data:") { data.push_str(v.trim()) }
            }
            if let Some(id) = id {
                out.push((id, ev, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    out
}

async fn live_stream_replays_from_last_event_id(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    assert_eq!(client().get(format!("{}/events", app.base)).send().await.unwrap().status(), 401);
    app.sign_up(&c, "eve@example.com").await;
    let stream = c.get(format!("{}/events?after=0", app.base)).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let (_, job) = app.submit(&c, sample("chelsea.png"), &[("rights", "on"), ("style", "5"), ("idempotency_key", "s")]).await;
    let id = job["id"].as_str().unwrap().to_string();
    app.wait_done(&c, &id).await;
    let me = app.state.store.user_by_email("eve@example.com").await.unwrap().unwrap();
    let total = app.state.store.events_after(&me.id, 0, 1000).await.unwrap().len();
    let events = read_events(stream, total).await;
    assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "ids increase");
    let states: Vec<&str> = events.iter().filter(|e| e.1 == "job").map(|e| e.2["status"].as_str().unwrap()).collect();
    assert_eq!(states.first(), Some(&"queued"));
    assert!(states.contains(&"running"));
    assert_eq!(states.last(), Some(&"succeeded"));
    assert!(events.iter().any(|e| e.1 == "balance" && e.2["balance"] == 45));
    // Reconnect after event k: exactly k+1..n again.
    let k = events[1].0;
    let again = c.get(format!("{}/events", app.base)).header("last-event-id", k.to_string()).send().await.unwrap();
    let replay = read_events(again, events.len() - 2).await;
    assert_eq!(replay.iter().map(|e| e.0).collect::<Vec<_>>(), events[2..].iter().map(|e| e.0).collect::<Vec<_>>());
    // Once retention removed what a client missed, it gets a snapshot of the current state.
    app.state.store.prune_events(darkroom_store::now_ms() + 1, 1000).await.unwrap();
    let late = c.get(format!("{}/events", app.base)).header("last-event-id", k.to_string()).send().await.unwrap();
    let snap = read_events(late, 1).await;
    assert_eq!(snap[0].1, "snapshot");
    assert_eq!(snap[0].0, events.last().unwrap().0, "current as of the newest event");
    assert_eq!(snap[0].2["balance"], 45);
    assert_eq!(snap[0].2["jobs"][0]["id"], id.as_str());
    assert_eq!(snap[0].2["jobs"][0]["status"], "succeeded");
}

async fn cross_site_posts_are_refused(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "csrf@example.com").await;
    let r = c
        .post(format!("{}/api/sign_out", app.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.balance(&c).await, 50, "still signed in");
    let r = c.post(format!("{}/generations", app.base)).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(r.status(), 403);
    // The session cookie is HttpOnly and SameSite=Lax.
    let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = r
        .post(format!("{}/api/sign_in", app.base))
        .form(&[("email", "csrf@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_lowercase();
    assert!(cookie.contains("httponly") && cookie.contains("samesite=lax"), "{cookie}");
    let bad = r.post(format!("{}/api/sign_in", app.base)).form(&[("email", "csrf@example.com"), ("password", "wrong password!")]).send().await.unwrap();
    assert_eq!(bad.status(), 401);
}
