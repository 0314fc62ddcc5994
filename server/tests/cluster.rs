//! The cluster test: `scripts/cluster.sh` starts two web nodes, two worker processes and
//! nginx on loopback over PostgreSQL and SeaweedFS (S3). 8 members create generations through
//! nginx while each watches its live stream; one web node and one worker are killed with
//! SIGKILL in the middle. Then: every accepted generation succeeded exactly once with one
//! charge, every stream resumed through the other node with no event lost or doubled,
//! sessions are still signed in, every result's signed URL answers from both web nodes
//! (the killed one restarted), and no job is left leased. Bounded: loopback only, a few
//! minutes at most, and the cluster is stopped whatever happens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use darkroom_store::{Backend, Store};
use serde_json::{json, Value};

const MEMBERS: usize = 8;
const JOBS_EACH: usize = 3;
const COST: i64 = 5;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `scripts/cluster.sh` with the cluster's settings.
fn cluster(dir: &Path, port: u16, db: &str, action: &str) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/cluster.sh"))
        .arg(action)
        .env("CLUSTER_DIR", dir)
        .env("CLUSTER_PORT", port.to_string())
        .env("DARKROOM_BIN", env!("CARGO_BIN_EXE_darkroom"))
        .env("DATABASE_URL", db)
        .env("DARKROOM_S3_PREFIX", format!("cluster-{}", port))
        .env("DARKROOM_RENDER_PREVIEWS", "false")
        .env("DARKROOM_REQUIRE_VERIFIED_EMAIL", "false")
        .env("DARKROOM_JOB_LEASE_SECS", "3")
        .env("DARKROOM_API_IP_RATE_PER_MIN", "100000")
        .env("DARKROOM_API_KEY_RATE_PER_MIN", "100000")
        .env("DARKROOM_AUTH_RATE_PER_IP_PER_HOUR", "100000")
        .env("DARKROOM_PAGE_RATE_PER_MIN", "100000");
    if let Ok(endpoint) = std::env::var("DARKROOM_TEST_S3_ENDPOINT") {
        cmd.env("DARKROOM_S3_ENDPOINT", endpoint);
    }
    let out = cmd.output().expect("run scripts/cluster.sh");
    assert!(out.status.success(), "cluster.sh {action} failed: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Stops the cluster however the test ends.
struct Running {
    dir: PathBuf,
    port: u16,
    db: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        cluster(&self.dir, self.port, &self.db, "stop");
    }
}

fn pid(dir: &Path, part: &str) -> i32 {
    std::fs::read_to_string(dir.join("pids").join(format!("{part}.pid"))).unwrap().trim().parse().unwrap()
}

fn kill9(dir: &Path, part: &str) {
    let status = Command::new("kill").arg("-9").arg(pid(dir, part).to_string()).status().unwrap();
    assert!(status.success(), "kill -9 {part}");
}

/// A member's live stream through nginx, resuming by `Last-Event-ID` after every break.
/// Collects the ids it gets; `resumes` counts reconnections.
async fn watch(base: String, client: reqwest::Client, after: i64, seen: Arc<Mutex<Vec<i64>>>, resumes: Arc<Mutex<usize>>, stop: tokio::sync::watch::Receiver<bool>) {
    let mut last = after;
    while !*stop.borrow() {
        let resp = client.get(format!("{base}/events")).header("last-event-id", last.to_string()).send().await;
        if let Ok(mut resp) = resp.and_then(|r| r.error_for_status()) {
            let mut buf = String::new();
            loop {
                let chunk = tokio::select! {
                    c = resp.chunk() => c,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => { if *stop.borrow() { return; } continue; }
                };
                match chunk {
                    Ok(Some(bytes)) => {
                        buf.push_str(&String::from_utf8_lossy(&bytes));
                        while let Some(end) = buf.find("\n\n") {
                            let block: String = buf.drain(..end + 2).collect();
                            if let Some(id) = block.lines().find_map(|l| l.strip_prefix("id:")).and_then(|v| v.trim().parse::<i64>().ok()) {
                                seen.lock().unwrap().push(id);
                                last = id;
                            }
                        }
                    }
                    _ => break,
                }
            }
        }
        *resumes.lock().unwrap() += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// POST with the same idempotency key until the cluster answers (a killed node's requests
/// fail; the key makes a repeat return the same generation).
async fn create(base: &str, secret: &str, key: &str, photo: &str) -> (String, usize) {
    let c = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let body = json!({ "image": photo, "style": 4 });
    let mut tries = 0;
    loop {
        tries += 1;
        let r = c.post(format!("{base}/api/v1/generations")).bearer_auth(secret).header("idempotency-key", key).json(&body).send().await;
        if let Ok(r) = r {
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if status == 201 || status == 200 {
                return (v["id"].as_str().expect("an id").to_string(), tries);
            }
            assert!(status >= 500, "refused: {status} {v}");
        }
        assert!(tries < 50, "the cluster never accepted {key}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_a_web_node_and_a_worker_under_load_and_lose_nothing() {
    let db = darkroom_store::testing::fresh_database_url(Backend::Postgres).await;
    let dir = std::env::temp_dir().join(format!("darkroom-cluster-{}", darkroom_store::new_id()));
    // A free block below the ephemeral range: nginx on `port`, web nodes on the next two,
    // worker metrics at +101 and +102, SeaweedFS (when the harness has none) from +10.
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let port = (0..200u32)
        .map(|i| 20_000 + ((seed + i * 37) % 10_000) as u16)
        .find(|&p| [0, 1, 2, 101, 102].iter().all(|d| free(p + d)))
        .expect("a free block of ports");
    let base = cluster(&dir, port, &db, "start");
    let _running = Running { dir: dir.clone(), port, db: db.clone() };
    let store = Store::connect(&db).await.unwrap();
    let photo = base64::engine::general_purpose::STANDARD.encode(std::fs::read(repo().join("data/models/samples/astronaut.png")).unwrap());

    // Members sign up and make an API key through nginx; each watches its stream.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut members = Vec::new();
    for m in 0..MEMBERS {
        let c = reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(60)).build().unwrap();
        let email = format!("m{m}@example.com");
        let form = [("email", email.as_str()), ("password", "correct horse battery"), ("display_name", "M"), ("age_confirmed", "on"), ("terms_accepted", "on")];
        assert!(c.post(format!("{base}/api/sign_up")).form(&form).send().await.unwrap().status().is_success());
        let r = c.post(format!("{base}/api/sign_in")).form(&[("email", email.as_str()), ("password", "correct horse battery")]).send().await.unwrap();
        assert!(r.status().is_success());
        let form = [("name", "k"), ("scope_generate", "on"), ("scope_read", "on"), ("rights", "on")];
        let key: Value = c.post(format!("{base}/api/create_api_key")).header("accept", "application/json").form(&form).send().await.unwrap().json().await.unwrap();
        let secret = key["secret"].as_str().expect("a key").to_string();
        let user_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(&email).fetch_one(&store.pool).await.unwrap();
        let start = store.last_event_id(&user_id).await.unwrap();
        let (seen, resumes) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(0usize)));
        tokio::spawn(watch(base.clone(), c.clone(), start, seen.clone(), resumes.clone(), stop_rx.clone()));
        members.push((c, secret, user_id, start, seen, resumes));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Generations from every member at once; web1 and worker1 die in the middle.
    let started = Instant::now();
    let mut creators = Vec::new();
    for (m, (_, secret, ..)) in members.iter().enumerate() {
        let (base, secret, photo) = (base.clone(), secret.clone(), photo.clone());
        creators.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for j in 0..JOBS_EACH {
                ids.push(create(&base, &secret, &format!("m{m}-j{j}"), &photo).await);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            ids
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (running, done): (i64, i64) = sqlx::query_as("SELECT COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), 0) FROM jobs")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        if running > 0 && done >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no job ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill9(&dir, "web1");
    kill9(&dir, "worker1");
    let killed_at = started.elapsed();
    let mut jobs = Vec::new();
    let mut retried = 0;
    for c in creators {
        for (id, tries) in c.await.unwrap() {
            retried += usize::from(tries > 1);
            jobs.push(id);
        }
    }
    assert_eq!(jobs.len(), MEMBERS * JOBS_EACH);

    // Every generation ends, succeeded, exactly once.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')").fetch_one(&store.pool).await.unwrap();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} jobs never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let by_status: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetch_all(&store.pool).await.unwrap();
    assert_eq!(by_status, vec![("succeeded".to_string(), (MEMBERS * JOBS_EACH) as i64)], "every accepted generation succeeded");
    let rerun: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE attempts > 1").fetch_one(&store.pool).await.unwrap();

    // One charge each: balance = grant − 3 × cost, and the ledger agrees.
    for (_, _, user, ..) in &members {
        let u = store.user(user).await.unwrap();
        assert_eq!(u.balance, 50 - JOBS_EACH as i64 * COST, "charged once per generation");
        let charges: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE user_id = $1 AND kind = 'charge'").bind(user).fetch_one(&store.pool).await.unwrap();
        assert_eq!(charges, JOBS_EACH as i64);
    }

    // Every stream resumed with no event lost or doubled: exactly the log, in order.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut total_events = 0;
    for (_, _, user, start, seen, _) in &members {
        let want: Vec<i64> = store.events_after(user, *start, 10_000).await.unwrap().iter().map(|e| e.seq).collect();
        loop {
            let got = seen.lock().unwrap().clone();
            if got.len() >= want.len() || Instant::now() > deadline {
                assert_eq!(got, want, "member {user}: the stream got exactly the log");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        total_events += want.len();
    }
    let resumes: usize = members.iter().map(|m| *m.5.lock().unwrap()).sum();
    let _ = stop_tx.send(true);

    // Sessions stay signed in (through nginx: the surviving node).
    for (c, ..) in &members {
        let me: Value = c.post(format!("{base}/api/get_me")).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!(me["display_name"], "M", "still signed in: {me}");
    }

    // The killed parts come back (start starts what is not running); every result's signed
    // URL answers from both web nodes.
    cluster(&dir, port, &db, "start");
    let node = |i: u16| format!("http://127.0.0.1:{}", port + i);
    let plain = reqwest::Client::new();
    let mut urls = 0;
    for (m, id) in jobs.iter().enumerate() {
        let secret = &members[m / JOBS_EACH].1;
        let g: Value = plain.get(format!("{}/api/v1/generations/{id}", node(1))).bearer_auth(secret).send().await.unwrap().json().await.unwrap();
        let url = g["output"][0].as_str().unwrap_or_else(|| panic!("an output URL: {g}")).to_string();
        let path = url.find("/m/").map(|i| &url[i..]).unwrap_or_else(|| panic!("a signed URL: {url}")).to_string();
        for i in 1..=2 {
            let r = plain.get(format!("{}{path}", node(i))).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path} from web{i}");
            assert!(r.bytes().await.unwrap().len() > 1000);
            urls += 1;
        }
    }
    let leased: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE lease_owner IS NOT NULL AND status = 'running'").fetch_one(&store.pool).await.unwrap();
    assert_eq!(leased, 0, "nothing left in a lease");

    let mut counts = BTreeMap::new();
    counts.insert("members", MEMBERS);
    counts.insert("generations accepted", jobs.len());
    counts.insert("generations succeeded", jobs.len());
    counts.insert("creations repeated after a failed request", retried);
    counts.insert("jobs run again after the worker died", rerun as usize);
    counts.insert("events delivered (each once, in order)", total_events);
    counts.insert("stream reconnections", resumes);
    counts.insert("signed URLs checked on both nodes", urls);
    println!("cluster: web1 and worker1 killed at {:.1} s", killed_at.as_secs_f64());
    for (k, v) in counts {
        println!("cluster: {k}: {v}");
    }
}
