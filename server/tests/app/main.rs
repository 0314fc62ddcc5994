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
    // `DARKROOM_TEST_LOG=warn` (an env filter) shows the servers' logs, e.g. with --nocapture.
    if let Ok(filter) = std::env::var("DARKROOM_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).with_test_writer().try_init();
    }
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
    config.outbox_dir = data_dir.join("outbox");
    // Tests sign up many accounts from one address; the limit tests set their own.
    config.auth_rate_per_ip_per_hour = 100_000;
    config.auth_rate_per_account = 1000;
    // Counted (so every story goes through the limit) but never reached; the page-limit story
    // sets its own.
    config.page_rate_per_min = 1_000_000;
    if MEDIA_ON_S3.try_with(|on| *on).unwrap_or(false) {
        config.s3 = Some(s3_settings(&darkroom_store::new_id()));
    }
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
    /// Signs up and confirms the address from the outbox (as a member would).
    pub async fn sign_up(&self, c: &reqwest::Client, email: &str) {
        self.sign_up_only(c, email).await;
        let mail = self.last_mail_to(email).await;
        let token = link_token(&mail, "/verify?token=");
        let (s, v) = self.call(c, "verify_email", &[("token", &token)]).await;
        assert_eq!(s, 200, "verify: {v}");
    }

    /// The mails in the outbox to `email`, oldest first (raw `.eml` text).
    pub fn mails_to(&self, email: &str) -> Vec<String> {
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(self.data_dir.join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, decode_qp(&std::fs::read_to_string(e.path()).ok()?))))
            .filter(|(_, m)| m.lines().any(|l| l.to_ascii_lowercase().starts_with("to:") && l.to_ascii_lowercase().contains(&email.to_ascii_lowercase())))
            .collect();
        mails.sort();
        mails.into_iter().map(|(_, m)| m).collect()
    }

    /// The newest mail to `email`, waiting up to 10 s for it (some are sent in the background).
    pub async fn last_mail_to(&self, email: &str) -> String {
        self.mail_with(email, "").await
    }

    /// The newest mail to `email` that contains `text`, waiting up to 10 s for it.
    pub async fn mail_with(&self, email: &str, text: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(m) = self.mails_to(email).into_iter().rev().find(|m| m.contains(text)) {
                return m;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no mail to {email}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs up (not signed in afterwards: the mailed link does that), then signs in with the
    /// password, as a member who has not opened the link yet would.
    pub async fn sign_up_unverified(&self, c: &reqwest::Client, email: &str) {
        self.sign_up_only(c, email).await;
        let (s, v) = self.call(c, "sign_in", &[("email", email), ("password", "correct horse battery")]).await;
        assert!(s < 400, "sign in: {s} {v}");
    }

    /// Posts the sign-up form.
    pub async fn sign_up_only(&self, c: &reqwest::Client, email: &str) {
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

    /// Every key in the app's media store (the local folder or its S3 prefix).
    pub async fn media_files(&self) -> Vec<String> {
        self.state.media.list("").await.unwrap()
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

/// Undoes quoted-printable (RFC 2045 §6.7): soft line breaks and `=XX` octets. Applied to
/// the whole message, which is enough to read its links and words.
pub fn decode_qp(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let b = joined.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token in a mail's link after `marker` (e.g. `/verify?token=`).
pub fn link_token(mail: &str, marker: &str) -> String {
    let at = mail.find(marker).unwrap_or_else(|| panic!("no {marker} link in {mail}")) + marker.len();
    mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

tokio::task_local! {
    /// Set by [`on_s3!`]: the stories in its scope keep their media in SeaweedFS's S3.
    pub static MEDIA_ON_S3: bool;
}

/// The test S3 server (`scripts/seaweedfs.sh`: SeaweedFS on loopback), started once per test
/// process unless `DARKROOM_TEST_S3_ENDPOINT` names a running one. Each app gets its own key
/// prefix in the shared bucket.
pub fn s3_settings(prefix: &str) -> darkroom_service::config::S3Settings {
    static ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let endpoint = ENDPOINT.get_or_init(|| {
        if let Ok(e) = std::env::var("DARKROOM_TEST_S3_ENDPOINT") {
            return e;
        }
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/seaweedfs.sh");
        let out = std::process::Command::new("bash").arg(&script).arg("start").output().expect("run scripts/seaweedfs.sh");
        assert!(out.status.success(), "SeaweedFS did not start: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    });
    darkroom_service::config::S3Settings {
        bucket: "darkroom-test".into(),
        endpoint: Some(endpoint.clone()),
        region: "us-east-1".into(),
        access_key_id: Some("darkroom-test".into()),
        secret_access_key: Some("darkroom-test-secret".into()),
        path_style: true,
        prefix: Some(format!("tests/{prefix}")),
    }
}

/// Runs stories with their media on S3 (SeaweedFS) and PostgreSQL: the scale-out layout.
macro_rules! on_s3 {
    ($($name:ident),* $(,)?) => {
        mod s3 { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { crate::MEDIA_ON_S3.scope(true, super::$name(darkroom_store::Backend::Postgres)).await } )* }
    };
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(darkroom_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(darkroom_store::Backend::Postgres).await } )* }
    };
}

mod accounts;
mod api;
mod console;
mod credits;
mod dashboard;
mod delivery;
mod generators;
mod live;
mod nodes;
mod provider_standin;
mod payments;
mod site_settings;
mod standin;
mod support;
mod templates;
mod video;

on_both!(
    main_job_end_to_end,
    style_preview_on_the_members_photo_is_free_and_not_stored,
    bad_input_costs_nothing,
    private_by_default_and_scoped,
    live_stream_replays_from_last_event_id,
    cross_site_posts_are_refused,
    gates_pass_the_sample_photos_and_block_a_face_at_upload_and_output,
    review_queue_rulings_reach_the_member,
    strikes_restrict_then_suspend_and_reports_hide,
    sharing_access_matrix_signed_urls_and_previews,
    retention_purge_leaves_no_file_behind,
    gallery_pages_filters_and_multi_delete,
);
on_s3!(
    main_job_end_to_end,
    sharing_access_matrix_signed_urls_and_previews,
    retention_purge_leaves_no_file_behind,
    gallery_pages_filters_and_multi_delete,
    readyz_checks_the_media_store,
);

/// `/readyz` answers 200 only while the media store answers too: S3 reachable here; an S3
/// endpoint nothing listens on makes it 503 with `media: false` (a load balancer then sends
/// that node no traffic).
async fn readyz_checks_the_media_store(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let r = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["media"], true);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let down = spawn_app(b, move |c| {
        let mut s3 = s3_settings("unreachable");
        s3.endpoint = Some(endpoint);
        c.s3 = Some(s3);
    })
    .await;
    let r = reqwest::get(format!("{}/readyz", down.base)).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["database"].as_bool(), body["media"].as_bool()), (Some(true), Some(false)), "{body}");
}

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
    assert_eq!(done["style_label"], "Night Gold + Soft Pastel (30%)");

    let r = c.get(format!("{}/media/{id}/result?download=1", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let bytes = r.bytes().await.unwrap();
    let png = image::load_from_memory(&bytes).unwrap();
    assert_eq!((png.width(), png.height()), (512, 512));
    let ai = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
    assert!(String::from_utf8_lossy(&bytes).contains(ai), "the result is labelled AI-generated (XMP)");
    // Content credentials: a C2PA manifest that the SDK's reader validates.
    let manifest = darkroom_engine::provenance::read(&bytes, "image/png").expect("a C2PA manifest");
    assert!(manifest.valid, "{}", manifest.json);
    assert!(manifest.json.contains("c2pa.edited") && manifest.json.contains("trainedAlgorithmicMedia"), "{}", manifest.json);
    let thumb = c.get(format!("{}/media/{id}/thumb", app.base)).send().await.unwrap();
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert!(String::from_utf8_lossy(&thumb.bytes().await.unwrap()).contains(ai), "the thumbnail too");
    // Every rendition, in both formats, labelled, cacheable for good by the owner.
    for (variant, mime, w) in [("w256.webp", "image/webp", 256), ("w256.jpg", "image/jpeg", 256), ("w512.webp", "image/webp", 512), ("w1200.jpg", "image/jpeg", 512)] {
        let r = c.get(format!("{}/media/{id}/{variant}", app.base)).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, mime), "{variant}");
        assert_eq!(r.headers()["cache-control"], "private, max-age=31536000, immutable");
        let body = r.bytes().await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains(ai), "{variant} labelled");
        assert_eq!(image::load_from_memory(&body).unwrap().width(), w, "{variant} never upscaled");
    }
    assert_eq!(c.get(format!("{}/media/{id}/w300.jpg", app.base)).send().await.unwrap().status(), 404);

    // Item and gallery pages render for the owner, with the AI label.
    let page = c.get(format!("{}/gallery/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("AI-generated") && page.contains(&format!("/media/{id}/result")), "item page");

    let (status, _) = app.call(&c, "delete_job", &[("id", id)]).await;
    assert!(status < 400, "delete: {status}");
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 404, "deleted media is gone at once");
    let left: Vec<_> = app.media_files().await.into_iter().filter(|p| p.contains(id)).collect();
    assert!(left.is_empty(), "result files removed: {left:?}");
    assert_eq!(app.state.store.ledger_sum(&app.state.store.user_by_email("ann@example.com").await.unwrap().unwrap().id).await.unwrap(), 45);
}

/// "Preview on your photo": the create form's choices on the member's own photo, small,
/// made by the real network, charged nothing and stored nowhere, refused with the upload's
/// errors, signed out, and past the per-member limit.
async fn style_preview_on_the_members_photo_is_free_and_not_stored(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "pia@example.com").await;
    let preview = |c: reqwest::Client, photo: Vec<u8>, fields: Vec<(&'static str, &'static str)>| {
        let url = format!("{}/generations/preview", app.base);
        async move {
            let mut form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(photo).file_name("photo.png"));
            for (k, v) in fields {
                form = form.text(k, v);
            }
            let r = c.post(url).header("accept", "application/json").multipart(form).send().await.unwrap();
            let (status, headers) = (r.status().as_u16(), r.headers().clone());
            (status, headers, r.bytes().await.unwrap())
        }
    };
    let start = Instant::now();
    let (s, h, jpeg) = preview(c.clone(), sample("chelsea.png"), vec![("style", "7"), ("strength", "100")]).await;
    assert_eq!((s, h["content-type"].to_str().unwrap(), h["cache-control"].to_str().unwrap()), (200, "image/jpeg", "no-store"));
    let shown = image::load_from_memory(&jpeg).unwrap().into_rgb8();
    // chelsea.png is 451×300: fitted into 320 pixels.
    assert_eq!(shown.dimensions(), (320, 213));
    // What the network makes of the photo at that size with style 8 (index 7), and not the
    // photo itself or another style.
    let photo = image::load_from_memory(&sample("chelsea.png")).unwrap().into_rgb8();
    let small = darkroom_engine::style::resize(&photo, 320, 213).unwrap();
    let engine = app.state.engine.clone().expect("models");
    let expected = engine.stylize(small.clone(), &darkroom_engine::StyleParams::single(7), &|_| {}).unwrap();
    let other = engine.stylize(small.clone(), &darkroom_engine::StyleParams::single(2), &|_| {}).unwrap();
    let (same, differs) = (video::psnr(&shown, &expected), video::psnr(&shown, &other));
    assert!(same > 30.0 && same > differs + 5.0, "preview vs style 8: {same:.1} dB, vs style 3: {differs:.1} dB");
    assert!(video::psnr(&shown, &small) < same - 5.0, "styled, not the photo");

    // Free, nothing stored: no upload, job or file; the balance as it was.
    assert_eq!(app.balance(&c).await, 50);
    assert!(app.media_files().await.is_empty(), "nothing stored");
    assert_eq!(app.call(&c, "list_jobs", &[]).await.1, json!([]));

    // Refusals, with the upload's and the form's errors.
    let (s, _, body) = preview(c.clone(), b"hello, not an image".to_vec(), vec![("style", "1")]).await;
    assert_eq!((s, serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"].clone()), (400, json!("invalid_image")));
    let (s, _, _) = preview(c.clone(), sample("chelsea.png"), vec![("style", "26")]).await;
    assert_eq!(s, 400);
    let (s, _, _) = preview(client(), sample("chelsea.png"), vec![("style", "1")]).await;
    assert_eq!(s, 401, "signed out");

    // The per-member limit: a burst of OWN_PREVIEWS_PER_MIN (two used above: the refusals
    // after the limit's check count), then one every 60/OWN_PREVIEWS_PER_MIN seconds, then 429.
    let burst = darkroom_service::styles::OWN_PREVIEWS_PER_MIN;
    let allowed = |start: Instant| burst + (start.elapsed().as_secs_f64() / (60.0 / burst as f64)).ceil() as u32;
    let mut answered = 2;
    let limited = loop {
        let (s, h, _) = preview(c.clone(), sample("chelsea.png"), vec![("style", "3")]).await;
        if s == 429 {
            break h;
        }
        assert_eq!(s, 200);
        answered += 1;
        assert!(answered <= allowed(start), "no limit after {answered}");
    };
    assert!(answered >= burst, "limited after {answered}");
    assert!(limited["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Another member has their own allowance.
    let d = client();
    app.sign_up(&d, "quin@example.com").await;
    assert_eq!(preview(d.clone(), sample("chelsea.png"), vec![("style", "3")]).await.0, 200);
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
    type Case<'a> = (Vec<u8>, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
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
    assert!(app.media_files().await.is_empty(), "nothing stored");

    // EXIF orientation is applied and the metadata is not kept.
    let exif = jpeg_with_exif(&sample("chelsea.png"));
    assert!(exif.windows(4).any(|w| w == b"Exif"));
    let (s, job) = app.submit(&c, exif, &[("rights", "on"), ("style", "1"), ("idempotency_key", "e")]).await;
    assert_eq!(s, 201, "{job}");
    let upload = app.state.store.upload(job["upload_id"].as_str().unwrap(), job["user_id"].as_str().unwrap()).await.unwrap();
    assert_eq!((upload.width, upload.height), (150, 451), "rotated 90°: was 451x150");
    let stored = app.state.media.get(&upload.object_key).await.unwrap();
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "EXIF stripped from the stored copy");
    assert_eq!(app.balance(&c).await, 0);
    let (s, body) = app.submit(&c, sample("chelsea.png"), &[("rights", "on"), ("style", "1"), ("idempotency_key", "f")]).await;
    assert_eq!((s, body["error"]["code"].as_str()), (402, Some("insufficient_credits")));
    // Job "e" may have finished meanwhile (its results are there too): count uploads only.
    let uploads = app.media_files().await.into_iter().filter(|p| p.starts_with("uploads/")).count();
    assert_eq!(uploads, 1, "the refused job's upload was removed again");
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
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|h| h.to_str().unwrap().to_lowercase())
        .find(|c| c.starts_with(&format!("{}=", server::SESSION_COOKIE)))
        .expect("a session cookie");
    assert!(cookie.contains("httponly") && cookie.contains("samesite=lax"), "{cookie}");
    let bad = r.post(format!("{}/api/sign_in", app.base)).form(&[("email", "csrf@example.com"), ("password", "wrong password!")]).send().await.unwrap();
    assert_eq!(bad.status(), 401);
}

/// The default policy with `extra` TOML appended (e.g. more `[[images.rules]]`), and overrides
/// of the strike thresholds; written into the app's data folder.
fn policy_file(extra: &str, restrict_at: u32, suspend_at: u32) -> PathBuf {
    let text = server::darkroom_service::moderation::policy::DEFAULT_POLICY
        .replace("version = \"darkroom-default-2026-12\"", "version = \"test-policy\"")
        .replace("restrict_at = 3", &format!("restrict_at = {restrict_at}"))
        .replace("suspend_at = 5", &format!("suspend_at = {suspend_at}"));
    let path = std::env::temp_dir().join(format!("darkroom-policy-{}.toml", darkroom_store::new_id()));
    std::fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    path
}

/// A test policy rule that treats the benign label FACE_FEMALE (the astronaut photo's face)
/// as prohibited at one gate: the whole reject path without any explicit image.
fn face_rule(gate: &str, decision: &str) -> String {
    format!("[[images.rules]]\nlabels = [\"FACE_FEMALE\"]\ncategory = \"sexual\"\n{decision}_at = 0.5\ngates = [\"{gate}\"]\n")
}

pub async fn user_id(app: &TestApp, email: &str) -> String {
    app.state.store.user_by_email(email).await.unwrap().unwrap().id
}

async fn make_moderator(app: &TestApp, email: &str) -> reqwest::Client {
    let c = client();
    app.sign_up(&c, email).await;
    app.state.store.set_role(&user_id(app, email).await, "moderator").await.unwrap();
    c
}

async fn gates_pass_the_sample_photos_and_block_a_face_at_upload_and_output(b: Backend) {
    // Default policy: the three sample photos pass every gate, and each gate is recorded.
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "pass@example.com").await;
    for (i, photo) in ["astronaut.png", "coffee.png", "chelsea.png"].into_iter().enumerate() {
        let key = format!("p{i}");
        let (s, job) = app.submit(&c, sample(photo), &[("rights", "on"), ("style", "2"), ("prompt", "harbour at dusk"), ("idempotency_key", &key)]).await;
        assert_eq!((s, job["status"].as_str()), (201, Some("queued")), "{photo}: {job}");
        let done = app.wait_done(&c, job["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "succeeded", "{photo}: {done}");
        let d = app.state.store.decisions_for_job(job["id"].as_str().unwrap()).await.unwrap();
        let gates: Vec<(&str, &str)> = d.iter().map(|d| (d.gate.as_str(), d.decision.as_str())).collect();
        assert_eq!(gates, [("prompt", "allow"), ("upload", "allow"), ("output", "allow")], "{photo}");
        assert!(d.iter().all(|d| d.policy_version == "darkroom-default-2026-12"));
        assert_eq!(d[1].detector, "nudenet-320n");
    }

    // A policy that blocks the astronaut's face at upload: rejected at once, charged, not
    // refunded, the category shown, nothing kept in storage.
    let upload_policy = policy_file(&face_rule("upload", "block"), 3, 5);
    let app = spawn_app(b, |c| c.moderation_policy = Some(upload_policy)).await;
    let c = client();
    app.sign_up(&c, "up@example.com").await;
    let (s, job) = app.submit(&c, sample("astronaut.png"), &[("rights", "on"), ("style", "2"), ("idempotency_key", "u")]).await;
    assert_eq!((s, job["status"].as_str(), job["moderation_category"].as_str()), (201, Some("rejected"), Some("sexual")), "{job}");
    let id = job["id"].as_str().unwrap();
    let (_, view) = app.call(&c, "get_job", &[("id", id)]).await;
    let message = view["error"].as_str().unwrap();
    assert!(message.contains("sexual content") && message.contains("not refunded") && !message.contains("FACE_FEMALE"), "{message}");
    assert_eq!(app.balance(&c).await, 45, "charged, not refunded");
    assert!(app.media_files().await.is_empty(), "a blocked upload is not kept: {:?}", app.media_files().await);
    let d = app.state.store.decisions_for_job(id).await.unwrap();
    assert_eq!((d[1].gate.as_str(), d[1].decision.as_str()), ("upload", "block"));
    assert!(d[1].labels.contains("FACE_FEMALE") && d[1].labels.contains("\"box\""), "labels with scores and boxes: {}", d[1].labels);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.call(&c, "get_job", &[("id", id)]).await.1["status"], "rejected", "a rejected job never runs");

    // The same face as an output (strength 0 keeps the photo): the output gate blocks it
    // before anything is stored; the upload passed its gate.
    let output_policy = policy_file(&face_rule("output", "block"), 3, 5);
    let app = spawn_app(b, |c| c.moderation_policy = Some(output_policy)).await;
    let c = client();
    app.sign_up(&c, "out@example.com").await;
    let (s, job) = app.submit(&c, sample("astronaut.png"), &[("rights", "on"), ("style", "2"), ("strength", "0"), ("idempotency_key", "o")]).await;
    assert_eq!((s, job["status"].as_str()), (201, Some("queued")), "{job}");
    let id = job["id"].as_str().unwrap();
    let done = app.wait_done(&c, id).await;
    assert_eq!(done["status"], "rejected", "{done}");
    assert!(done["error"].as_str().unwrap().contains("not refunded"));
    assert_eq!(app.balance(&c).await, 45);
    let files = app.media_files().await;
    assert!(files.iter().all(|p| !p.contains("results/")), "no result stored: {files:?}");
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 404);
    let gates: Vec<(String, String)> =
        app.state.store.decisions_for_job(id).await.unwrap().into_iter().map(|d| (d.gate.to_string(), d.decision.to_string())).collect();
    assert_eq!(gates, [("prompt".into(), "allow".into()), ("upload".into(), "allow".into()), ("output".into(), "block".into())]);
    let ledger = app.state.store.ledger(&user_id(&app, "out@example.com").await, 10).await.unwrap();
    assert_eq!(ledger.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["charge", "grant"], "no refund entry");
}

async fn review_queue_rulings_reach_the_member(b: Backend) {
    let policy = policy_file(&face_rule("upload", "review"), 3, 5);
    let app = spawn_app(b, |c| c.moderation_policy = Some(policy)).await;
    let (member, other) = (client(), client());
    app.sign_up(&member, "held@example.com").await;
    app.sign_up(&other, "other@example.com").await;
    let moderator = make_moderator(&app, "mod@example.com").await;
    let (s, _) = app.call(&member, "moderation_queue", &[]).await;
    assert_eq!(s, 403, "members cannot see the queue");

    // The astronaut's face sends the upload to review; a prompt review term does the same.
    let (_, a) = app.submit(&member, sample("astronaut.png"), &[("rights", "on"), ("style", "4"), ("idempotency_key", "a")]).await;
    let (_, b2) = app.submit(&member, sample("coffee.png"), &[("rights", "on"), ("style", "4"), ("prompt", "a corpse in the fog"), ("idempotency_key", "b")]).await;
    let (ida, idb) = (a["id"].as_str().unwrap(), b2["id"].as_str().unwrap());
    assert_eq!((a["status"].as_str(), b2["status"].as_str()), (Some("review"), Some("review")));
    assert_eq!(app.balance(&member).await, 40, "charged when created");

    let (s, queue) = app.call(&moderator, "moderation_queue", &[]).await;
    assert_eq!(s, 200, "{queue}");
    let items = queue.as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["job_id"].as_str().unwrap()).collect::<Vec<_>>(), [ida, idb], "oldest first");
    assert_eq!(items[0]["boxes"][0]["label"], "FACE_FEMALE");
    assert_eq!(items[0]["boxes"][0]["flagged"], true);
    assert_eq!((items[0]["image_width"].as_i64(), items[0]["image_url"].as_str()), (Some(512), Some(format!("/media/{ida}/upload").as_str())));
    assert_eq!(items[1]["prompt"], "a corpse in the fog");
    assert_eq!(items[1]["owner_email"], "held@example.com");
    let (_, filtered) = app.call(&moderator, "moderation_queue", &[("category", "violence")]).await;
    assert_eq!(filtered.as_array().unwrap().len(), 1, "filter by category: {filtered}");
    assert_eq!(moderator.get(format!("{}/media/{ida}/upload", app.base)).send().await.unwrap().status(), 200, "moderators see the image");
    assert_eq!(other.get(format!("{}/media/{ida}/upload", app.base)).send().await.unwrap().status(), 404);
    let (s, _) = app.call(&member, "rule_on_job", &[("id", ida), ("verdict", "approve"), ("category", "other"), ("reason", "")]).await;
    assert_eq!(s, 403, "members cannot rule");

    // Reject the first: the member is told live (an event), no refund, a strike, upload gone.
    let me = user_id(&app, "held@example.com").await;
    let before = app.state.store.last_event_id(&me).await.unwrap();
    let (s, body) = app.call(&moderator, "rule_on_job", &[("id", ida), ("verdict", "reject"), ("category", "sexual"), ("reason", "explicit")]).await;
    assert_eq!(s, 200, "{body}");
    let events = app.state.store.events_after(&me, before, 10).await.unwrap();
    assert!(events.iter().any(|e| e.kind == darkroom_contract::EventKind::Job && e.payload.contains(ida) && e.payload.contains("\"rejected\"")), "{events:?}");
    let (_, view) = app.call(&member, "get_job", &[("id", ida)]).await;
    assert_eq!(view["status"], "rejected");
    assert!(view["error"].as_str().unwrap().contains("sexual content"));
    let (s, _) = app.call(&moderator, "rule_on_job", &[("id", ida), ("verdict", "approve"), ("category", "other"), ("reason", "")]).await;
    assert_eq!(s, 409, "ruled once");
    assert_eq!(moderator.get(format!("{}/media/{ida}/upload", app.base)).send().await.unwrap().status(), 404, "rejected upload removed");
    let audit = app.state.store.audit_entries(&format!("job:{ida}"), 5).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].reason.as_str()), ("job.reject", "explicit"));

    // Approve the second: it runs; the member's standing shows the one strike.
    let (s, _) = app.call(&moderator, "rule_on_job", &[("id", idb), ("verdict", "approve"), ("category", "other"), ("reason", "")]).await;
    assert_eq!(s, 200);
    assert_eq!(app.wait_done(&member, idb).await["status"], "succeeded");
    assert_eq!(app.balance(&member).await, 40, "no refund for the rejection");
    let (_, standing) = app.call(&member, "my_standing", &[]).await;
    assert_eq!((standing["active"].as_i64(), standing["suspended"].as_bool()), (Some(1), Some(false)), "{standing}");
    assert_eq!(app.call(&moderator, "moderation_queue", &[]).await.1, json!([]));
}

async fn strikes_restrict_then_suspend_and_reports_hide(b: Backend) {
    let policy = policy_file("", 2, 3);
    let app = spawn_app(b, |c| c.moderation_policy = Some(policy)).await;
    let (member, visitor) = (client(), client());
    app.sign_up(&member, "strikes@example.com").await;
    let moderator = make_moderator(&app, "mod2@example.com").await;
    let me = user_id(&app, "strikes@example.com").await;

    // A public item to report later.
    let (_, job) = app.submit(&member, sample("chelsea.png"), &[("rights", "on"), ("style", "1"), ("idempotency_key", "pub")]).await;
    let item = job["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait_done(&member, &item).await["status"], "succeeded");
    let (s, _) = app.call(&visitor, "report_item", &[("id", &item), ("reason", "spam"), ("note", "")]).await;
    assert_eq!(s, 404, "a private item cannot be reported (no oracle)");
    app.state.store.set_visibility(&item, &me, darkroom_contract::Visibility::Public).await.unwrap();

    // Two blocked prompts: two strikes, the account is restricted.
    for (k, p) in [("x1", "nude woman on a bed"), ("x2", "n.u.d.e model")] {
        let (s, j) = app.submit(&member, sample("coffee.png"), &[("rights", "on"), ("style", "1"), ("prompt", p), ("idempotency_key", k)]).await;
        assert_eq!((s, j["status"].as_str()), (201, Some("rejected")), "{p}: {j}");
    }
    let (s, body) = app.submit(&member, sample("coffee.png"), &[("rights", "on"), ("style", "1"), ("idempotency_key", "x3")]).await;
    assert_eq!((s, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("until"), "{body}");
    assert_eq!(app.balance(&member).await, 50 - 15, "the refused submission cost nothing");
    let (_, standing) = app.call(&member, "my_standing", &[]).await;
    assert!(standing["restricted_until"].as_i64().is_some() && standing["active"] == 2, "{standing}");
    let settings = member.get(format!("{}/settings", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(settings.contains("Restricted"), "settings page shows the standing");

    // A visitor reports the public item; the moderator upholds and hides it: third strike,
    // suspended, the member's session ends and sign-in is refused; the item is hidden.
    let bad = [("id", item.as_str()), ("reason", "nonsense"), ("note", "")];
    assert_eq!(app.call(&visitor, "report_item", &bad).await.0, 400);
    let (s, body) = app.call(&visitor, "report_item", &[("id", &item), ("reason", "sexual"), ("note", "not ok")]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(app.call(&visitor, "report_item", &[("id", &item), ("reason", "sexual"), ("note", "")]).await.0, 409, "once per reporter");
    let (_, queue) = app.call(&moderator, "moderation_queue", &[("kind", "report")]).await;
    let report = queue[0]["report"]["id"].as_str().expect("the report is in the queue").to_string();
    assert_eq!(queue[0]["report"]["note"], "not ok");
    assert_eq!(moderator.get(format!("{}/media/{item}/result", app.base)).send().await.unwrap().status(), 200);
    let (s, body) = app.call(&moderator, "rule_on_report", &[("id", &report), ("verdict", "hide"), ("category", "sexual"), ("reason", "nudity")]).await;
    assert_eq!(s, 200, "{body}");
    assert!(app.state.store.job_any_owner(&item).await.unwrap().hidden_at.is_some());
    assert_eq!(app.call(&member, "get_me", &[]).await.1, Value::Null, "the suspended member's session ended");
    let r = client()
        .post(format!("{}/api/sign_in", app.base))
        .form(&[("email", "strikes@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "sign-in refused while suspended");
    assert!(r.text().await.unwrap().contains("suspended"));

    // The moderator lifts it: the member signs in again; the hidden item stays hidden.
    let (s, _) = app.call(&moderator, "lift_standing", &[("user_id", &me), ("reason", "appeal accepted")]).await;
    assert_eq!(s, 200);
    let again = client();
    let r = again
        .post(format!("{}/api/sign_in", app.base))
        .form(&[("email", "strikes@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    assert_eq!(app.balance(&again).await, 35);
    assert_eq!(again.get(format!("{}/media/{item}/result", app.base)).send().await.unwrap().status(), 404, "hidden everywhere");
    let (_, page) = app.call(&again, "get_job", &[("id", &item)]).await;
    assert_eq!((page["hidden"].as_bool(), page["moderation_category"].as_str()), (Some(true), Some("sexual")), "the owner sees why");
    assert_eq!(app.call(&again, "set_hidden", &[("id", &item), ("hidden", "false"), ("category", "other"), ("reason", "")]).await.0, 403);
    let (s, _) = app.call(&moderator, "set_hidden", &[("id", &item), ("hidden", "false"), ("category", "other"), ("reason", "restored")]).await;
    assert_eq!(s, 200);
    assert_eq!(again.get(format!("{}/media/{item}/result", app.base)).send().await.unwrap().status(), 200, "shown again");
    let audit: Vec<String> = app.state.store.audit_entries("", 10).await.unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(audit, ["job.unhide", "standing.lift", "report.uphold_hide"]);
}

/// The `content` of the `<meta>` tag in `html` whose attributes include `attr` (e.g.
/// `property="og:image"`), with `&amp;` decoded; `None` if there is no such tag.
fn meta(html: &str, attr: &str) -> Option<String> {
    let at = html.find(attr)?;
    let start = html[..at].rfind("<meta")?;
    let end = start + html[start..].find('>')?;
    let tag = &html[start..end];
    let c = tag.find("content=\"")? + 9;
    Some(tag[c..c + tag[c..].find('"')?].replace("&amp;", "&"))
}

/// The `<head>` of a page: what a messenger's link preview reads (no JavaScript).
async fn head_of(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let html = r.text().await.unwrap();
    let head = html.split("</head>").next().unwrap_or("").to_string();
    (status, head)
}

async fn sharing_access_matrix_signed_urls_and_previews(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let (owner, other, visitor) = (client(), client(), client());
    app.sign_up(&owner, "own@example.com").await;
    app.sign_up(&other, "oth@example.com").await;
    let moderator = make_moderator(&app, "mod3@example.com").await;
    let (_, job) = app.submit(&owner, sample("coffee.png"), &[("rights", "on"), ("style", "6"), ("prompt", "Espresso at dawn"), ("idempotency_key", "s")]).await;
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_done(&owner, &id).await;
    assert_eq!(done["status"], "succeeded");
    let width = done["width"].as_i64().unwrap().to_string();
    let base = app.base.clone();
    let get = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = format!("{base}{path}");
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    let who = [("owner", &owner), ("other", &other), ("visitor", &visitor), ("moderator", &moderator)];
    // Session media, public page: [owner, other, visitor, moderator] per state.
    let check = |label: &'static str, media: [u16; 4], page: [u16; 4]| {
        let (id, get, who) = (id.clone(), &get, &who);
        async move {
            for (i, (name, c)) in who.iter().enumerate() {
                assert_eq!(get(c, format!("/media/{id}/result")).await, media[i], "{label}: media for {name}");
                assert_eq!(get(c, format!("/p/{id}")).await, page[i], "{label}: public page for {name}");
            }
        }
    };
    // Staff do not browse a private item (no moderation, no reason given in the console).
    check("private", [200, 404, 404, 404], [404, 404, 404, 404]).await;
    assert_eq!(app.call(&other, "item_sharing", &[("id", &id)]).await.0, 404, "others cannot see the settings");
    assert_eq!(app.call(&other, "create_share_link", &[("id", &id), ("days", "7")]).await.0, 404);

    // A share link: the item becomes `link`; the link page works signed out, with noindex and
    // link-preview tags in the first HTML, and its image through a signed URL.
    let (s, url) = app.call(&owner, "create_share_link", &[("id", &id), ("days", "7")]).await;
    assert_eq!(s, 200, "{url}");
    let url = url.as_str().unwrap().to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    assert_eq!(token.len(), 32);
    assert_eq!(app.call(&owner, "item_sharing", &[("id", &id)]).await.1["visibility"], "link");
    let (s, head) = head_of(&visitor, &url).await;
    assert_eq!(s, 200);
    assert_eq!(meta(&head, "name=\"robots\"").as_deref(), Some("noindex, nofollow"), "{head}");
    assert_eq!(meta(&head, "property=\"og:url\"").as_deref(), Some(url.as_str()), "og:url is the share link (a link-only item has no public page)");
    assert_eq!(meta(&head, "property=\"og:title\"").as_deref(), Some("Espresso at dawn"));
    assert_eq!(meta(&head, "name=\"twitter:card\"").as_deref(), Some("summary_large_image"));
    assert_eq!(meta(&head, "property=\"og:image:width\"").as_deref(), Some(width.as_str()));
    // The link preview image lives as long as the link (a signed URL would expire within the
    // hour, and messengers fetch previews again days later).
    let og_image = meta(&head, "property=\"og:image\"").expect("og:image");
    assert_eq!(og_image, format!("{url}/preview.jpg"));
    let views = || async { app.call(&owner, "item_sharing", &[("id", &id)]).await.1["links"][0]["views"].clone() };
    let seen = views().await;
    let r = visitor.get(&og_image).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    let preview = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(preview.width().to_string(), width, "og:image:width is the file's width");
    assert_eq!(views().await, seen, "fetching the preview is not a view");
    // The page's images come through signed URLs; an item's grant opens each of its files.
    let signed = format!("{}{}", app.base, app.state.signer.sign(&id, "w1200.jpg", server::darkroom_service::sharing::now_secs()));
    let r = visitor.get(&signed).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    assert!(r.headers()["cache-control"].to_str().unwrap().ends_with(", immutable"));
    let r = visitor.get(signed.replace("/w1200.jpg?", "/thumb?")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    // Tampered or expired signed URLs: 403 and no body (a share grant is not an owner URL).
    let tampered = signed.replace("?exp=", "?scope=owner&exp=");
    let bumped = signed.replace("exp=", "exp=9");
    let expired = format!("{}{}", app.base, app.state.signer.sign(&id, "result", 1_000));
    for bad in [tampered, bumped, expired, signed.replace("sig=", "sig=00")] {
        let r = visitor.get(&bad).send().await.unwrap();
        assert_eq!(r.status(), 403, "{bad}");
        assert!(r.bytes().await.unwrap().is_empty(), "no body");
    }
    check("link", [200, 404, 404, 200], [404, 404, 404, 404]).await;
    let (_, feed) = app.call(&visitor, "explore", &[]).await;
    assert_eq!(feed["items"], json!([]), "a link item is not listed");

    // Public: the public page (indexable), Explore, likes.
    // The first public item: the member confirms once that AI output may be inaccurate and
    // that they reviewed it; without the box nothing changes.
    let (s, v) = app.call(&owner, "set_visibility", &[("id", &id), ("visibility", "public")]).await;
    assert!(s >= 400 && v.to_string().contains("AI output may be inaccurate"), "{s} {v}");
    assert_eq!(app.call(&owner, "item_sharing", &[("id", &id)]).await.1["visibility"], "link", "unchanged");
    assert_eq!(app.call(&owner, "item_sharing", &[("id", &id)]).await.1["publish_reviewed"], false);
    let (s, _) = app.call(&owner, "set_visibility", &[("id", &id), ("visibility", "public"), ("reviewed", "on")]).await;
    assert_eq!(s, 200);
    assert_eq!(app.call(&owner, "item_sharing", &[("id", &id)]).await.1["publish_reviewed"], true, "recorded");
    check("public", [200, 404, 404, 200], [200, 200, 200, 200]).await;
    let (_, head) = head_of(&visitor, &format!("{}/p/{id}", app.base)).await;
    assert!(meta(&head, "name=\"robots\"").is_none() && meta(&head, "property=\"og:image\"").is_some(), "{head}");
    assert_eq!(meta(&head, "property=\"og:url\"").unwrap(), format!("{}/p/{id}", app.base));
    let public_preview = format!("{}/p/{id}/preview.jpg", app.base);
    assert_eq!(meta(&head, "property=\"og:image\"").unwrap(), public_preview, "lives as long as the public page");
    assert_eq!(visitor.get(&public_preview).send().await.unwrap().status(), 200);
    let (_, feed) = app.call(&visitor, "explore", &[]).await;
    assert_eq!(feed["items"][0]["id"], id.as_str());
    // The feed's stamp settles first: the database's version is re-read at most every
    // DB_CHECK, and on PostgreSQL this process's own notice comes back through the listener
    // and counts once more. A page cached before either would be rendered again (correct,
    // only slower), and "served again" below checks the cache serves.
    tokio::time::sleep(server::darkroom_service::feed::DB_CHECK + Duration::from_millis(100)).await;
    let explore_html = visitor.get(format!("{}/explore", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(explore_html.contains(&format!("/p/{id}")), "Explore renders without JavaScript");
    // A tile carries its item's grant once; the page builds each file's URL from it.
    let thumb = format!("/m/{id}/thumb?{}", feed["items"][0]["grant"].as_str().expect("a grant"));
    assert!(explore_html.contains(&thumb.replace('&', "&amp;")), "the tile's image");
    let r = visitor.get(format!("{}{thumb}", app.base)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    // Signed-out Explore pages come from a cache keyed on the feed version: every change below
    // shows on the very next request.
    // Listed in Explore: the visitor's page (the HTML cache) and a member's (rendered, the
    // feed cache beneath it) must agree at every step.
    let listed = || {
        let (visitor, member, url, needle) = (visitor.clone(), other.clone(), format!("{}/explore", app.base), format!("/p/{id}"));
        async move {
            let seen = visitor.get(&url).send().await.unwrap().text().await.unwrap().contains(&needle);
            let member_sees = member.get(&url).send().await.unwrap().text().await.unwrap().contains(&needle);
            assert_eq!(seen, member_sees, "a visitor's and a member's Explore agree");
            seen
        }
    };
    // Served again from the cache: the same page but for its CSP nonce, which is new each time.
    let again = visitor.get(format!("{}/explore", app.base)).send().await.unwrap().text().await.unwrap();
    let nonce_of = |html: &str| html.split("nonce=\"").nth(1).and_then(|r| r.split('"').next()).expect("a nonce").to_string();
    let (n1, n2) = (nonce_of(&explore_html), nonce_of(&again));
    assert_ne!(n1, n2, "a fresh nonce");
    assert_eq!(again.replace(&n2, &n1), explore_html, "served again");
    // One page per theme and language (the preference cookie): a German visitor in the dark
    // theme gets theirs, and the English page stays English.
    let german = visitor.get(format!("{}/explore", app.base)).header("cookie", "darkroom_prefs=dark.de").send().await.unwrap().text().await.unwrap();
    assert!(german.contains("lang=\"de\"") && german.contains("data-theme=\"dark\"") && german.contains("Entdecken"), "German and dark");
    assert!(german.contains(&format!("/p/{id}")));
    let english = visitor.get(format!("{}/explore", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(english.contains("lang=\"en\"") && !english.contains("Entdecken"), "English again");
    // The creator's name: none until the owner turns it on; then on the tile and the public
    // page, for visitors too (the HTML cache follows at once); gone again when turned off.
    assert_eq!(feed["items"][0]["creator"], json!(null));
    assert!(!explore_html.contains("data-testid=\"creator\""), "no name by default");
    let owner_id = user_id(&app, "own@example.com").await;
    let name = app.state.store.user(&owner_id).await.unwrap().display_name;
    assert_eq!(app.call(&owner, "set_show_name", &[("show", "on")]).await, (200, json!(true)));
    assert_eq!(app.call(&visitor, "explore", &[]).await.1["items"][0]["creator"], name.as_str());
    let by = format!("by {name}");
    assert!(visitor.get(format!("{}/explore", app.base)).send().await.unwrap().text().await.unwrap().contains(&by), "on the tile");
    assert!(visitor.get(format!("{}/p/{id}", app.base)).send().await.unwrap().text().await.unwrap().contains(&by), "on the public page");
    assert_eq!(app.call(&owner, "set_show_name", &[]).await, (200, json!(false)));
    assert!(!visitor.get(format!("{}/explore", app.base)).send().await.unwrap().text().await.unwrap().contains(&by), "off again");
    assert_eq!(app.call(&visitor, "like_item", &[("id", &id), ("on", "true")]).await.0, 401, "visitors cannot like");
    assert_eq!(app.call(&other, "like_item", &[("id", &id), ("on", "true")]).await.1, json!(1));
    assert_eq!(app.call(&other, "like_item", &[("id", &id), ("on", "true")]).await.1, json!(1), "one like per member");

    // Revoked and expired links answer 404, like a token that never existed.
    let (s, _) = app.call(&owner, "revoke_share_link", &[("id", app.call(&owner, "item_sharing", &[("id", &id)]).await.1["links"][0]["id"].as_str().unwrap())]).await;
    assert_eq!(s, 200);
    let (token2, hash2) = server::darkroom_service::sharing::new_token();
    app.state.store.create_share_link(&id, &user_id(&app, "own@example.com").await, &hash2, Some(darkroom_store::now_ms() - 1)).await.unwrap();
    for t in [token.clone(), token2, "0".repeat(32), "nothex".into()] {
        assert_eq!(get(&visitor, format!("/s/{t}")).await, 404, "{t}");
        assert_eq!(get(&visitor, format!("/s/{t}/preview.jpg")).await, 404, "{t}: no preview either");
    }

    // Hidden by a moderator: gone for everyone but moderators, at once.
    let (s, _) = app.call(&moderator, "set_hidden", &[("id", &id), ("hidden", "true"), ("category", "other"), ("reason", "test")]).await;
    assert_eq!(s, 200);
    check("hidden", [404, 404, 404, 200], [404, 404, 404, 404]).await;
    assert!(!listed().await, "hidden: out of the cached Explore at once");
    assert_eq!(visitor.get(&signed).send().await.unwrap().status(), 404, "signed URL stops");
    app.call(&moderator, "set_hidden", &[("id", &id), ("hidden", "false"), ("category", "other"), ("reason", "ok")]).await;
    assert_eq!(visitor.get(&signed).send().await.unwrap().status(), 200);
    assert!(listed().await, "shown again");
    // A change made by another process (another store on the same database) shows once the
    // cache re-reads the database's feed version.
    let elsewhere = darkroom_store::Store::connect(app.state.store.url()).await.unwrap();
    elsewhere.set_visibility(&id, &user_id(&app, "own@example.com").await, darkroom_contract::Visibility::Private).await.unwrap();
    tokio::time::sleep(server::darkroom_service::feed::DB_CHECK + Duration::from_millis(50)).await;
    assert!(!listed().await, "another node's change");
    elsewhere.set_visibility(&id, &user_id(&app, "own@example.com").await, darkroom_contract::Visibility::Public).await.unwrap();
    tokio::time::sleep(server::darkroom_service::feed::DB_CHECK + Duration::from_millis(50)).await;
    assert!(listed().await);

    // Private again, then deleted: the signed URL stops each time.
    app.call(&owner, "set_visibility", &[("id", &id), ("visibility", "private")]).await;
    assert_eq!(visitor.get(&signed).send().await.unwrap().status(), 404, "private again");
    assert_eq!(visitor.get(&public_preview).send().await.unwrap().status(), 404, "no public page, no preview");
    assert!(!listed().await, "private: out of Explore at once");
    let (s, v) = app.call(&owner, "set_visibility", &[("id", &id), ("visibility", "public")]).await;
    assert_eq!(s, 200, "asked once: {v}");
    assert!(listed().await);
    assert!(app.call(&owner, "delete_job", &[("id", &id)]).await.0 < 400);
    check("deleted", [404, 404, 404, 404], [404, 404, 404, 404]).await;
    assert!(!listed().await, "deleted: out of Explore at once");
    assert_eq!(visitor.get(&signed).send().await.unwrap().status(), 404, "deleted");
}

async fn retention_purge_leaves_no_file_behind(b: Backend) {
    use server::darkroom_service::retention::purge;
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    app.sign_up(&c, "keep@example.com").await;
    let (_, job) = app.submit(&c, sample("chelsea.png"), &[("rights", "on"), ("style", "3"), ("idempotency_key", "r")]).await;
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_done(&c, &id).await;
    assert_eq!(done["status"], "succeeded");
    let (_, view) = app.call(&c, "get_job", &[("id", &id)]).await;
    let day = 86_400_000i64;
    let finished = view["finished_at"].as_i64().unwrap();
    assert_eq!(view["expires_at"].as_i64(), Some(finished + 30 * day), "the member sees when it goes");
    let page = c.get(format!("{}/gallery/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Kept until"));
    let r = c.get(format!("{}/gallery/00000000-0000-7000-8000-000000000000", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 404, "an unknown item is a 404 page");
    // The item page: downloads in three formats, the comparison with the photo while it is
    // kept, no neighbours for a member's only item.
    for (testid, href) in [("download", "result?download=1"), ("download-webp", "w1200.webp?download=1"), ("download-jpeg", "w1200.jpg?download=1")] {
        assert!(page.contains(&format!("href=\"/media/{id}/{href}\"")) && page.contains(&format!("data-testid=\"{testid}\"")), "{testid}");
    }
    assert!(page.contains("data-testid=\"compare-open\"") && page.contains(&format!("/media/{id}/upload")), "before/after offered");
    let (s, nav) = app.call(&c, "item_nav", &[("id", &id)]).await;
    assert_eq!((s, nav), (200, json!({ "newer": null, "older": null, "before": true })));
    let stranger = client();
    app.sign_up(&stranger, "nosy@example.com").await;
    assert_eq!(app.call(&stranger, "item_nav", &[("id", &id)]).await.0, 404, "only its owner");
    let r = c.get(format!("{}/media/{id}/w1200.webp?download=1", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["content-disposition"].to_str().unwrap(), format!("attachment; filename=\"darkroom-{id}.webp\""));
    let (_, url) = app.call(&c, "create_share_link", &[("id", &id), ("days", "never")]).await;
    let url = url.as_str().unwrap().to_string();
    assert_eq!(app.media_files().await.len(), 8, "upload, result, 3 widths x 2 formats");

    let now = darkroom_store::now_ms();
    assert_eq!(purge(&app.state, now).await.unwrap().files, 0, "nothing is due yet");
    let r = purge(&app.state, now + 8 * day).await.unwrap();
    assert_eq!((r.uploads, r.results, r.files), (1, 0, 1), "the upload after 7 days");
    let left: Vec<String> = app.media_files().await;
    assert!(left.len() == 7 && left.iter().all(|p| p.contains("results/")), "{left:?}");
    assert_eq!(c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().status(), 200, "results stay longer");
    assert_eq!(app.call(&c, "item_nav", &[("id", &id)]).await.1["before"], false, "no comparison once the photo is gone");

    let r = purge(&app.state, now + 31 * day).await.unwrap();
    assert_eq!((r.uploads, r.results, r.files), (0, 1, 7), "every rendition of the result after 30 days");
    assert!(app.media_files().await.is_empty(), "no file left: {:?}", app.media_files().await);
    let listed: Vec<String> = app.state.media.list("").await.unwrap();
    assert!(listed.is_empty(), "storage lists nothing: {listed:?}");
    assert_eq!(app.call(&c, "get_job", &[("id", &id)]).await.0, 404);
    assert_eq!(app.call(&c, "list_jobs", &[]).await.1, json!([]));
    assert_eq!(client().get(&url).send().await.unwrap().status(), 404, "its share link ends too");
    assert_eq!(purge(&app.state, now + 60 * day).await.unwrap(), Default::default(), "idempotent");
}

fn failed_ref() -> (&'static str, &'static str) {
    ("status", "failed")
}

async fn gallery_pages_filters_and_multi_delete(b: Backend) {
    let app = spawn_app(b, |c| c.signup_grant = 200).await;
    let (c, other) = (client(), client());
    app.sign_up(&c, "many@example.com").await;
    app.sign_up(&other, "else@example.com").await;
    let me = user_id(&app, "many@example.com").await;
    // 26 finished items without running the engine (the store's own path), one rejected.
    let up = darkroom_store::uploads::Upload {
        id: darkroom_store::new_id(), user_id: me.clone(), object_key: "uploads/x.png".into(), content_hash: "h".into(),
        mime: "image/png".into(), bytes: 1, width: 1, height: 1, created_at: darkroom_store::now_ms(), gate: None, duration_ms: None,
    };
    app.state.store.insert_upload(&up).await.unwrap();
    let store = &app.state.store;
    let mut ids = Vec::new();
    for i in 0..26 {
        let key = format!("g{i}");
        let new = darkroom_store::jobs::NewJob {
            user_id: &me, upload_id: Some(&up.id), template_id: None, style_upload_id: None, mode: darkroom_contract::Mode::ImageToImage, params: "{}", style: i % 3, cost: 1, visibility: darkroom_contract::Visibility::Private,
            idempotency_key: &key, prompt: "", gates: darkroom_store::jobs::Gates::ALLOW, api: None, request_id: None,
        };
        let (j, _) = store.create_job(new).await.unwrap();
        ids.push(j.id);
    }
    // Let the in-process worker finish them (it fails each: the upload file does not exist).
    let start = Instant::now();
    while store.jobs_for_user(&me, Some(darkroom_contract::JobStatus::Failed), None, 100).await.unwrap().len() < 26 {
        assert!(start.elapsed() < Duration::from_secs(60), "worker did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, page) = app.call(&c, "gallery_page", &[("status", "failed")]).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 24, "{page}");
    let next = page["next"].as_str().expect("a second page").to_string();
    let (_, page2) = app.call(&c, "gallery_page", &[("status", "failed"), ("before", &next)]).await;
    assert_eq!((page2["items"].as_array().unwrap().len(), &page2["next"]), (2, &Value::Null));
    assert_eq!(app.call(&c, "gallery_page", &[]).await.1["items"], json!([]), "default: done items only");
    // Failed items are shown with their state, in the justified grid (a result-less tile is
    // square).
    let html = c.get(format!("{}/gallery?status=failed", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("class=\"grid justified\"") && html.matches("class=\"tile r20\"").count() == 24, "24 square placeholders");
    // The page's Content-Security-Policy (`style-src 'self'`) would block a style attribute.
    assert!(!html.contains(" style=\""), "no inline style attribute");
    assert!(html.contains("class=\"placeholder hidden-item\">Failed<"), "the state on the tile");
    assert_eq!(app.call(&c, "gallery_page", &[("status", "nonsense")]).await.0, 400);
    // Style and date filters (dates are UTC days, both ends included).
    let count = |fields: Vec<(&'static str, String)>| {
        let (app, c) = (&app, &c);
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (s, page) = app.call(c, "gallery_page", &f).await;
            assert_eq!(s, 200, "{fields:?}: {page}");
            page["items"].as_array().unwrap().len()
        }
    };
    let made = store.job(&ids[0], &me).await.unwrap().created_at;
    let day = |ms: i64| app::pages::format_iso(ms)[..10].to_string();
    let failed = || ("status", "failed".to_string());
    assert_eq!(count(vec![failed(), ("style", "1".into())]).await, 9, "i % 3 == 1 for i in 0..26");
    assert_eq!(count(vec![failed(), ("from", day(made)), ("to", day(made + 60_000))]).await, 24, "a full page on the day");
    assert_eq!(count(vec![failed(), ("to", day(made - 86_400_000))]).await, 0, "nothing the day before");
    assert_eq!(count(vec![failed(), ("from", day(made + 86_400_000))]).await, 0, "nothing the day after");
    for bad in [("style", "26"), ("style", "x"), ("from", "23/11/2026"), ("to", "2026-13-01")] {
        assert_eq!(app.call(&c, "gallery_page", &[failed_ref(), bad]).await.0, 400, "{bad:?}");
    }
    let (s, feed) = app.call(&c, "explore", &[("style", "3")]).await;
    assert_eq!((s, &feed["items"]), (200, &json!([])), "Explore takes the style filter");
    assert_eq!(app.call(&c, "explore", &[("style", "-1")]).await.0, 400);

    // Multi-select delete: only the member's own, finished items; others are skipped.
    let r = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    r.post(format!("{}/api/sign_in", app.base)).form(&[("email", "many@example.com"), ("password", "correct horse battery")]).send().await.unwrap();
    let mut form: Vec<(&str, &str)> = ids[..3].iter().map(|i| ("id", i.as_str())).collect();
    form.push(("id", "not-an-id"));
    let resp = r.post(format!("{}/gallery/delete", app.base)).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/gallery?deleted=3");
    let stolen = other.post(format!("{}/gallery/delete", app.base)).form(&[("id", ids[5].as_str())]).send().await.unwrap();
    assert_eq!(stolen.url().query(), Some("deleted=0"), "someone else's item is not deleted");
    assert_eq!(store.jobs_for_user(&me, Some(darkroom_contract::JobStatus::Failed), None, 100).await.unwrap().len(), 23);
    let too_many: Vec<(&str, &str)> = (0..101).map(|_| ("id", "x")).collect();
    assert_eq!(r.post(format!("{}/gallery/delete", app.base)).form(&too_many).send().await.unwrap().status(), 400);
}
