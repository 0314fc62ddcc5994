//! Crash test: `kill -9` the server while a job runs, start it again, and the job finishes
//! exactly once — one result, one charge, no refund — on SQLite and PostgreSQL. The same
//! for a clip killed mid-render (frames being drawn and encoded by ffmpeg): no ffmpeg process
//! outlives the server, and its partial files are removed at the restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use darkroom_store::{Backend, Store};

fn models_dir() -> PathBuf {
    std::env::var_os("DARKROOM_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/models"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start(db: &str, data: &Path) -> (Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_darkroom"))
        .arg("serve")
        .env("DATABASE_URL", db)
        .env("DARKROOM_DATA_DIR", data)
        .env("DARKROOM_MODELS_DIR", models_dir())
        .env("DARKROOM_ADDR", format!("127.0.0.1:{port}"))
        .env("DARKROOM_MAX_SIDE", "2048")
        .env("DARKROOM_JOB_LEASE_SECS", "2")
        // This test is about crash recovery; confirming the address is tested elsewhere.
        .env("DARKROOM_REQUIRE_VERIFIED_EMAIL", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while reqwest::get(format!("{base}/readyz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(start.elapsed() < Duration::from_secs(60), "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, base)
}

/// A 2048×2048 PNG (the astronaut tiled 4×4): slow enough to kill mid-inference.
fn big_photo() -> Vec<u8> {
    let tile = image::open(models_dir().join("samples/astronaut.png")).unwrap().into_rgb8();
    let mut big = image::RgbImage::new(2048, 2048);
    for y in 0..4 {
        for x in 0..4 {
            image::imageops::replace(&mut big, &tile, x * 512, y * 512);
        }
    }
    darkroom_engine::imageio::encode_png(&big)
}

async fn status(store: &Store, id: &str) -> (String, i64) {
    let j = store.job_any_owner(id).await.unwrap();
    (j.status.to_string(), j.attempts)
}

/// Waits until the restarted server finished the job: succeeded on its second attempt (the
/// first one's lease lapsed), never failed in between.
async fn succeeds_on_second_attempt(store: &Store, id: &str, within: Duration) {
    let t = Instant::now();
    loop {
        let (s, attempts) = status(store, id).await;
        if s == "succeeded" {
            assert_eq!(attempts, 2, "run again once after the lease lapsed");
            return;
        }
        assert!(["queued", "running"].contains(&s.as_str()), "unexpected {s}");
        assert!(t.elapsed() < within, "the job did not finish after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs a new member up and in on `base`.
async fn member(base: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r = c
        .post(format!("{base}/api/sign_up"))
        .form(&[("email", "crash@example.com"), ("password", "correct horse battery"), ("display_name", "C"), ("age_confirmed", "on"), ("terms_accepted", "on")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = c
        .post(format!("{base}/api/sign_in"))
        .form(&[("email", "crash@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    c
}

/// The files under the job's result folder, sorted.
fn result_files(data: &Path, user: &str, id: &str) -> Vec<String> {
    let dir = data.join("media/results").join(user).join(id);
    let mut files: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    files
}

async fn kill9_mid_job_then_restart_finishes_exactly_once(b: Backend) {
    let db = darkroom_store::testing::fresh_database_url(b).await;
    let data = std::env::temp_dir().join(format!("darkroom-crash-{}", darkroom_store::new_id()));
    let (mut child, base) = start(&db, &data).await;
    let c = member(&base).await;
    let form = reqwest::multipart::Form::new()
        .part("photo", reqwest::multipart::Part::bytes(big_photo()).file_name("big.png"))
        .text("rights", "on")
        .text("style", "4")
        .text("idempotency_key", "crash-1");
    let job: serde_json::Value =
        c.post(format!("{base}/generations")).header("accept", "application/json").multipart(form).send().await.unwrap().json().await.unwrap();
    let id = job["id"].as_str().expect("job created").to_string();
    let user = job["user_id"].as_str().unwrap().to_string();

    let store = Store::connect(&db).await.unwrap();
    let t = Instant::now();
    while status(&store, &id).await.0 != "running" {
        assert!(t.elapsed() < Duration::from_secs(60), "job never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(status(&store, &id).await, ("running".to_string(), 1), "killed mid-job");
    let first_start = store.job_any_owner(&id).await.unwrap().started_at.expect("first attempt started");

    let (mut child, _) = start(&db, &data).await;
    succeeds_on_second_attempt(&store, &id, Duration::from_secs(120)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let ledger = store.ledger(&user, 100).await.unwrap();
    let for_job: Vec<_> = ledger.iter().filter(|e| e.job_id.as_deref() == Some(id.as_str())).collect();
    assert_eq!(for_job.len(), 1, "one charge, no refund: {for_job:?}");
    assert_eq!((for_job[0].kind.as_str(), for_job[0].amount), ("charge", -5));
    assert_eq!(store.user(&user).await.unwrap().balance, 45);
    let job = store.job_any_owner(&id).await.unwrap();
    let files = result_files(&data, &user, &id);
    // One result (attempt 2) and its renditions; attempt 1's partial files were cleared.
    let mut expected = server::darkroom_service::media::result_keys(Some("2.png"), Some("2-w512.jpg"));
    expected.sort();
    assert_eq!(expected.len(), 7);
    assert_eq!(files, expected, "exactly one result");
    assert!(job.result_key.as_deref().unwrap().ends_with("/2.png"));
    // The attempt times: the first start is kept, the successful attempt has its own, after
    // the lease lapsed; the API's predict_time counts only that attempt.
    let attempt_start = job.attempt_started_at.expect("second attempt started");
    assert_eq!(job.started_at, Some(first_start), "the first start is kept");
    assert!(attempt_start > first_start, "the second attempt started later: {attempt_start} vs {first_start}");
    let finished = job.finished_at.unwrap();
    let api = server::darkroom_service::api::generation_metrics(&job);
    assert_eq!(api.predict_time, Some((finished - attempt_start) as f64 / 1000.0), "predict_time is the successful attempt's run");
    assert_eq!(api.total_time, Some((finished - first_start) as f64 / 1000.0));
    assert!(api.total_time.unwrap() > api.predict_time.unwrap(), "the lease wait is not in predict_time");
    let events = store.events_after(&user, 0, 1000).await.unwrap();
    let succeeded = events.iter().filter(|e| e.kind == darkroom_contract::EventKind::Job && e.payload.contains("\"succeeded\"")).count();
    assert_eq!(succeeded, 1, "finished exactly once");
}

/// Processes whose working directory is inside `dir` (ffmpeg runs in its scratch folder).
fn processes_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .map(|e| std::fs::read_to_string(e.path().join("comm")).unwrap_or_default().trim().to_string())
        .collect()
}

async fn kill9_mid_clip_then_restart_finishes_exactly_once(b: Backend) {
    let db = darkroom_store::testing::fresh_database_url(b).await;
    let data = std::env::temp_dir().join(format!("darkroom-crash-{}", darkroom_store::new_id()));
    let (mut child, base) = start(&db, &data).await;
    let c = member(&base).await;
    let photo = std::fs::read(models_dir().join("samples/astronaut.png")).unwrap();
    let form = reqwest::multipart::Form::new()
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("astronaut.png"))
        .text("rights", "on")
        .text("template", "photo-to-video")
        .text("style", "3")
        .text("seconds", "6")
        .text("idempotency_key", "crash-clip");
    let job: serde_json::Value =
        c.post(format!("{base}/generations")).header("accept", "application/json").multipart(form).send().await.unwrap().json().await.unwrap();
    let id = job["id"].as_str().unwrap_or_else(|| panic!("job created: {job}")).to_string();
    let user = job["user_id"].as_str().unwrap().to_string();

    // Killed while frames are drawn and encoded: past the keyframes, before the end.
    let store = Store::connect(&db).await.unwrap();
    let scratch = data.join("scratch");
    let t = Instant::now();
    loop {
        let j = store.job_any_owner(&id).await.unwrap();
        if j.status.as_str() == "running" && j.progress >= 20 && processes_in(&scratch).iter().any(|p| p == "ffmpeg") {
            assert!(j.progress < 90, "the render was not caught midway ({}%): make the clip longer", j.progress);
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "the clip never reached its encoding: {:?}", j.status);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(status(&store, &id).await, ("running".to_string(), 1), "killed mid-render");
    let left = scratch.join(pid.to_string());
    assert!(left.is_dir(), "the killed process's partial files are there");
    // Its encoder reads the end of its input and exits: nothing outlives the server.
    let t = Instant::now();
    while !processes_in(&data).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(20), "left running: {:?}", processes_in(&data));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (mut child, _) = start(&db, &data).await;
    assert!(!left.exists(), "the restart removed the dead process's scratch files");
    succeeds_on_second_attempt(&store, &id, Duration::from_secs(180)).await;
    let own = scratch.join(child.id().to_string());
    let leftovers: Vec<_> = std::fs::read_dir(&own).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "the finished render removed its temporary files: {leftovers:?}");
    child.kill().unwrap();
    child.wait().unwrap();

    let ledger = store.ledger(&user, 100).await.unwrap();
    let for_job: Vec<_> = ledger.iter().filter(|e| e.job_id.as_deref() == Some(id.as_str())).collect();
    assert_eq!(for_job.len(), 1, "one charge, no refund: {for_job:?}");
    assert_eq!((for_job[0].kind.as_str(), for_job[0].amount), ("charge", -6), "1 credit a second");
    let mut expected = server::darkroom_service::media::result_keys(Some("2.mp4"), Some("2-w512.jpg"));
    expected.sort();
    assert_eq!(result_files(&data, &user, &id), expected, "exactly one clip and its poster's renditions");
    let job = store.job_any_owner(&id).await.unwrap();
    assert!(job.result_key.as_deref().unwrap().ends_with("/2.mp4"));
    let events = store.events_after(&user, 0, 1000).await.unwrap();
    let succeeded = events.iter().filter(|e| e.kind == darkroom_contract::EventKind::Job && e.payload.contains("\"succeeded\"")).count();
    assert_eq!(succeeded, 1, "finished exactly once");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kill9_mid_job_then_restart_finishes_exactly_once() {
        super::kill9_mid_job_then_restart_finishes_exactly_once(darkroom_store::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kill9_mid_clip_then_restart_finishes_exactly_once() {
        super::kill9_mid_clip_then_restart_finishes_exactly_once(darkroom_store::Backend::Sqlite).await
    }
}
mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kill9_mid_job_then_restart_finishes_exactly_once() {
        super::kill9_mid_job_then_restart_finishes_exactly_once(darkroom_store::Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kill9_mid_clip_then_restart_finishes_exactly_once() {
        super::kill9_mid_clip_then_restart_finishes_exactly_once(darkroom_store::Backend::Postgres).await
    }
}
