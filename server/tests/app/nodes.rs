//! Several nodes on one database, and what an operator sees of a node: rate limits and
//! sessions that hold across nodes, the shared-key check at start, `/metrics` read back with
//! a Prometheus text-format parser, request ids from the request to the job, a node that
//! stops (SIGTERM) ending its streams and giving back its job, the security headers, and a
//! node starting in the same process while another streams pages.

use super::api::{api, new_key};
use super::*;

/// A second node: the first one's database, media folder and media-URL key.
pub(crate) async fn second_node(first: &TestApp, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let (url, media, secret) = (first.state.store.url().to_string(), first.state.config.media_dir.clone(), first.state.config.media_url_secret.clone());
    spawn_app(first.state.store.backend, move |c| {
        c.database_url = url;
        c.media_dir = media;
        c.media_url_secret = secret;
        tweak(c);
    })
    .await
}

/// Two nodes on PostgreSQL: the API key's quota and the sign-in lockout are counted once for
/// both (not once per node), a session made on one node is signed in on the other, and a
/// third node started with another media-URL key refuses to start, naming the setting.
async fn two_nodes_share_limits_sessions_and_keys(b: Backend) {
    assert_eq!(b, Backend::Postgres);
    let limits = |c: &mut Config| {
        c.workers = 0;
        c.media_url_secret = Some("cluster-secret-one".into());
        c.api_key_rate_per_min = 6;
        c.auth_rate_per_account = 3;
    };
    let one = spawn_app(b, limits).await;
    let two = second_node(&one, limits).await;
    let c = client();
    one.sign_up(&c, "nodes@example.com").await;
    let (_, secret) = new_key(&one, &c, &[]).await;
    let mut answers = Vec::new();
    for i in 0..12 {
        let node = if i % 2 == 0 { &one } else { &two };
        answers.push(api(node, "GET", "/api/v1/balance", Some(&secret), None, &[]).await.0);
    }
    let ok = answers.iter().filter(|s| **s == 200).count();
    // 6 at once, then one every 10 s: a slow machine may see one more refill.
    assert!((6..=7).contains(&ok), "the key's quota holds for the cluster: {answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 429).count(), 12 - ok, "{answers:?}");
    assert!(answers[..6].iter().all(|s| *s == 200), "the burst is served by both nodes: {answers:?}");

    // The session from node one is signed in on node two (the store is shared).
    let r = c.post(format!("{}/api/get_me", two.base)).header("accept", "application/json").send().await.unwrap();
    let me: Value = r.json().await.unwrap();
    assert_eq!((me["display_name"].as_str(), me["balance"].as_i64()), (Some("Tester"), Some(50)), "signed in on node two: {me}");
    let r = client().post(format!("{}/api/get_me", two.base)).header("accept", "application/json").send().await.unwrap();
    assert!(r.json::<Value>().await.unwrap()["display_name"].as_str().is_none(), "and not without the cookie");

    // Sign-in lockout per address: 3 attempts in all, whichever node takes them.
    let other = client();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let node = if i % 2 == 0 { &one } else { &two };
        statuses.push(node.call(&other, "sign_in", &[("email", "nodes@example.com"), ("password", "wrong password here")]).await.0);
    }
    assert!(statuses[..3].iter().all(|s| *s != 429) && statuses[3..].iter().all(|s| *s == 429), "locked after 3 across nodes: {statuses:?}");

    // A node with another key stops at start and says which setting differs.
    let mut config = two.state.config.as_ref().clone();
    config.addr = "127.0.0.1:0".into();
    config.media_url_secret = Some("another-secret".into());
    let err = server::Application::build(config).await.err().expect("a node with another key must not start").to_string();
    assert!(err.contains("DARKROOM_MEDIA_URL_SECRET") && err.contains("forget-keys"), "{err}");
}

/// `/metrics` needs its token, and then parses as Prometheus text with the request and job
/// figures; a request id sent is echoed, a bad one replaced, and the id of the request that
/// created a job is kept on the job (the web form and the API both).
async fn metrics_and_request_ids(b: Backend) {
    let app = spawn_app(b, |c| c.metrics_token = Some("metrics-token-1".into())).await;
    let c = client();
    app.sign_up(&c, "ops@example.com").await;
    let get_metrics = |token: Option<&'static str>| {
        let url = format!("{}/metrics", app.base);
        async move {
            let mut r = reqwest::Client::new().get(url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get_metrics(None).await.0, 401);
    assert_eq!(get_metrics(Some("metrics-token-")).await.0, 401);

    // Request ids: echoed when acceptable, replaced when not.
    let r = c.get(format!("{}/healthz", app.base)).header("x-request-id", "lb-0123abcd").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-0123abcd");
    let r = c.get(format!("{}/healthz", app.base)).header("x-request-id", "bad id; drop table").send().await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(made != "bad id; drop table" && made.len() == 36, "a new UUID: {made}");

    // A job created by the web form keeps its request's id, and so does one made by the API.
    let form = reqwest::multipart::Form::new()
        .part("photo", reqwest::multipart::Part::bytes(sample("astronaut.png")).file_name("p.png"))
        .text("rights", "on")
        .text("style", "3")
        .text("idempotency_key", "m1");
    let r = c.post(format!("{}/generations", app.base)).header("accept", "application/json").header("x-request-id", "form-req-42").multipart(form).send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "form-req-42");
    let job: Value = r.json().await.unwrap();
    let id = job["id"].as_str().expect("created").to_string();
    assert_eq!(app.state.store.job_any_owner(&id).await.unwrap().request_id.as_deref(), Some("form-req-42"));
    let (_, secret) = new_key(&app, &c, &[]).await;
    let body = json!({ "image": super::api::b64(&sample("astronaut.png")), "style": 5 });
    let (s, v, h) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(body), &[("x-request-id", "api-req-7")]).await;
    assert_eq!((s, h["x-request-id"].to_str().unwrap()), (201, "api-req-7"), "{v}");
    let api_job = v["id"].as_str().unwrap().to_string();
    assert_eq!(app.state.store.job_any_owner(&api_job).await.unwrap().request_id.as_deref(), Some("api-req-7"));
    assert_eq!(app.wait_done(&c, &id).await["status"], "succeeded");
    assert_eq!(app.wait_done(&c, &api_job).await["status"], "succeeded");

    // The worker counts a job right after its last write: read until both are in.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (text, scrape) = loop {
        let (status, text) = get_metrics(Some("metrics-token-1")).await;
        assert_eq!(status, 200);
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format");
        if value_of(&scrape, "darkroom_jobs_finished_total", &[("status", "succeeded")]) >= 2.0 || Instant::now() > deadline {
            break (text, scrape);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let value = |name: &str, labels: &[(&str, &str)]| value_of(&scrape, name, labels);
    assert_eq!(value("darkroom_http_requests_total", &[("route", "/generations"), ("method", "POST"), ("status", "201")]), 1.0, "{text}");
    assert!(value("darkroom_http_requests_total", &[("route", "/healthz"), ("status", "200")]) >= 2.0);
    assert_eq!(value("darkroom_http_requests_total", &[("route", "/api/v1/generations"), ("status", "201")]), 1.0);
    assert_eq!(value("darkroom_jobs_finished_total", &[("status", "succeeded")]), 2.0, "{text}");
    assert_eq!(value("darkroom_jobs", &[("status", "queued")]), 0.0);
    assert!(scrape.samples.iter().any(|s| s.metric == "darkroom_jobs" && s.labels.get("status") == Some("running")), "every active state is reported");
    assert!(value("darkroom_db_connections", &[("state", "idle")]) + value("darkroom_db_connections", &[("state", "in_use")]) >= 1.0);
    assert!(scrape.samples.iter().any(|s| s.metric == "darkroom_job_duration_seconds_count" || s.metric == "darkroom_job_duration_seconds"), "job durations");
    // The live stream counts while it is open.
    let stream = c.get(format!("{}/events", app.base)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, text) = get_metrics(Some("metrics-token-1")).await;
    assert!(text.lines().any(|l| l == "darkroom_sse_connections 1"), "{text}");
}

/// A node asked to stop ends its live streams with a retry hint (so the stop is not held up
/// by them and clients come back), stops accepting, and its worker gives back the job it
/// could not finish within the grace time: a worker on another node claims it at once and
/// the member is charged once.
async fn a_stopping_node_ends_streams_and_gives_back_its_job(b: Backend) {
    let one = spawn_app(b, |c| {
        c.media_url_secret = Some("stop-secret".into());
        c.shutdown_grace_secs = 0;
        c.max_side = 2048;
        c.lease_secs = 600; // a released job must not wait for this
    })
    .await;
    let c = client();
    one.sign_up(&c, "stop@example.com").await;
    let mut stream = c.get(format!("{}/events", one.base)).send().await.unwrap();
    // A 2048² photo takes seconds to stylise here: long enough to stop the node mid-run.
    let tile = image::load_from_memory(&sample("astronaut.png")).unwrap().into_rgb8();
    let mut big = image::RgbImage::new(2048, 2048);
    for y in 0..4 {
        for x in 0..4 {
            image::imageops::replace(&mut big, &tile, x * 512, y * 512);
        }
    }
    let (s, job) = one.submit(&c, darkroom_engine::imageio::encode_png(&big), &[("rights", "on"), ("style", "2"), ("idempotency_key", "s1")]).await;
    assert_eq!(s, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while one.state.store.job_any_owner(&id).await.unwrap().status.as_str() != "running" {
        assert!(Instant::now() < deadline, "the job starts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    one.state.shutdown.send(true).unwrap();

    // The stream ends, its last message asking the client to come back in 500 ms.
    let mut seen = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.chunk().await.ok().flatten() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when its node stops: {seen}");
    assert!(seen.contains("retry: 500") || seen.contains("retry:500"), "a retry hint: {seen}");

    // The job is given back (not left leased for 10 minutes) and nothing accepts here now.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let j = one.state.store.job_any_owner(&id).await.unwrap();
        let leased_until: Option<i64> = sqlx::query_scalar("SELECT lease_until FROM jobs WHERE id = $1").bind(&id).fetch_one(&one.state.store.pool).await.unwrap();
        if j.status.as_str() == "running" && leased_until == Some(0) {
            break;
        }
        assert_ne!(j.status.as_str(), "succeeded", "the grace time was 0: the job must not finish here");
        assert!(Instant::now() < deadline, "the job is released: {} {leased_until:?}", j.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{}/healthz", one.base)).await.is_ok() {
        assert!(Instant::now() < deadline, "the stopped node still accepts connections");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Another node's worker takes it over at once and finishes it; one charge.
    let two = second_node(&one, |c| {
        c.max_side = 2048;
        c.lease_secs = 600;
    })
    .await;
    let done = two.wait_done(&c, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(two.state.store.job_any_owner(&id).await.unwrap().attempts, 2, "claimed again once");
    assert_eq!(two.balance(&c).await, 45, "charged once");
}

on_both!(metrics_and_request_ids, a_stopping_node_ends_streams_and_gives_back_its_job, security_headers_on_every_response, pages_are_limited_per_client_address, readers_that_leave_mid_page);

/// Scraping: page views and the pages' server-function calls are counted per client address
/// (behind a trusted proxy, the address it forwards), 429 with `Retry-After` beyond the
/// limit, a page for a browser and the JSON error for a server function; what a page loads by
/// itself, health and the API are not counted. On PostgreSQL two nodes count once between
/// them.
async fn pages_are_limited_per_client_address(b: Backend) {
    let limited = |c: &mut Config| {
        c.workers = 0;
        c.page_rate_per_min = 6;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.media_url_secret = Some("page-limit-secret".into());
    };
    let mut nodes = vec![spawn_app(b, limited).await];
    if b == Backend::Postgres {
        nodes.push(second_node(&nodes[0], limited).await);
    }
    let from = |ip: &'static str| reqwest::Client::builder().default_headers([(reqwest::header::HeaderName::from_static("x-forwarded-for"), ip.parse().unwrap())].into_iter().collect()).build().unwrap();
    let scraper = from("203.0.113.7");
    for (i, path) in ["/", "/explore", "/terms", "/privacy", "/explore?sort=top", "/signin"].iter().enumerate() {
        let r = scraper.get(format!("{}{path}", nodes[i % nodes.len()].base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}: within the burst of 6");
    }
    for node in &nodes {
        let r = scraper.get(format!("{}/explore", node.base)).send().await.unwrap();
        assert_eq!(r.status(), 429, "the 7th page, on either node");
        let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=10).contains(&wait), "one request per 10 s after the burst: {wait}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("Too many requests"));
        let r = scraper.post(format!("{}/api/get_me", node.base)).header("accept", "application/json").send().await.unwrap();
        assert_eq!(r.status(), 429, "server functions count too");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
        // Not counted: health, the bundle's and media routes, the API (its own limits).
        for path in ["/healthz", "/pkg/no-such-build/darkroom.js", "/m/nothing/thumb?exp=1&sig=00", "/api/v1/balance"] {
            let status = scraper.get(format!("{}{path}", node.base)).send().await.unwrap().status();
            assert_ne!(status, 429, "{path} is not a page view");
        }
    }
    // Another address has its own count.
    assert_eq!(from("198.51.100.4").get(format!("{}/explore", nodes[0].base)).send().await.unwrap().status(), 200);
    // Off (0) on a node: nothing is counted there.
    let off = spawn_app(b, |c| {
        c.workers = 0;
        c.page_rate_per_min = 0;
    })
    .await;
    for _ in 0..10 {
        assert_eq!(reqwest::get(format!("{}/terms", off.base)).await.unwrap().status(), 200, "no limit when off");
    }
}

mod pg {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_nodes_share_limits_sessions_and_keys() {
        super::two_nodes_share_limits_sessions_and_keys(darkroom_store::Backend::Postgres).await
    }
}

/// Another node starting in the same process (the stories here, several nodes in one
/// process) does not stall the pages a running node is streaming: Leptos lists a router's
/// routes by running the app with resource loading held back by a process-wide flag, and a
/// page whose resource was first polled meanwhile never finished (leptos-rs/leptos#4773).
/// Routers are built over and over while a member's signed-in pages (each with several
/// resources) are requested in parallel; every page must end within the time limit.
async fn pages_finish_while_another_node_starts(b: Backend) {
    let one = spawn_app(b, |c| c.workers = 0).await;
    let c = client();
    one.sign_up(&c, "starting@example.com").await;
    let addr: std::net::SocketAddr = one.base.trim_start_matches("http://").parse().unwrap();
    for round in 0..8 {
        let pages: Vec<_> = (0..4)
            .map(|i| {
                let (c, url) = (c.clone(), format!("{}{}", one.base, ["/explore", "/", "/gallery", "/credits"][i]));
                tokio::spawn(async move {
                    for _ in 0..3 {
                        let page = tokio::time::timeout(Duration::from_secs(30), async {
                            let r = c.get(&url).send().await?;
                            Ok::<_, reqwest::Error>((r.status(), r.text().await?))
                        });
                        let (status, body) = page.await.unwrap_or_else(|_| panic!("round {round}: {url} still streaming after 30 s")).unwrap();
                        assert!(status == 200 && body.contains("</body>"), "round {round}: {url} answered whole: {status}");
                    }
                })
            })
            .collect();
        for _ in 0..3 {
            let _built = server::router(one.state.clone(), addr).await.expect("another router builds");
        }
        for p in pages {
            p.await.unwrap();
        }
    }
}

mod one_process {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn pages_finish_while_another_node_starts() {
        super::pages_finish_while_another_node_starts(darkroom_store::Backend::Sqlite).await
    }
}

/// The sum of the samples named `name` whose labels include `labels`.
fn value_of(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// `/readyz` follows the bucket: 200 while a SeaweedFS of this test's own answers, 503 with
/// `media: false` once it is stopped, 200 again when it is back (same data folder, same
/// port), with no restart of the node.
async fn readyz_follows_the_bucket_down_and_back(b: Backend) {
    let dir = std::env::temp_dir().join(format!("darkroom-weed-{}", darkroom_store::new_id()));
    let port = (20_000..30_000u16)
        .map(|p| p + (std::process::id() % 5_000) as u16)
        .find(|&p| [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000].iter().all(|d| std::net::TcpListener::bind(("127.0.0.1", p + d)).is_ok()))
        .expect("free ports");
    let weed = |action: &str| {
        let out = std::process::Command::new("bash")
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/seaweedfs.sh"))
            .arg(action)
            .env("SEAWEEDFS_DIR", &dir)
            .env("SEAWEEDFS_S3_PORT", port.to_string())
            .output()
            .expect("run scripts/seaweedfs.sh");
        assert!(out.status.success(), "seaweedfs.sh {action}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    /// Stops this test's SeaweedFS however the test ends.
    struct Stop<F: Fn(&str) -> String>(F);
    impl<F: Fn(&str) -> String> Drop for Stop<F> {
        fn drop(&mut self) {
            (self.0)("stop");
        }
    }
    let endpoint = weed("start");
    let weed = Stop(weed);
    let app = spawn_app(b, move |c| {
        let mut s3 = s3_settings("readyz");
        s3.endpoint = Some(endpoint);
        c.s3 = Some(s3);
        c.workers = 0;
    })
    .await;
    let ready = || async { reqwest::get(format!("{}/readyz", app.base)).await.unwrap().status().as_u16() };
    assert_eq!(ready().await, 200);
    (weed.0)("stop");
    let r = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["media"], false);
    (weed.0)("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready().await != 200 {
        assert!(Instant::now() < deadline, "/readyz does not recover when the bucket is back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

mod pg_s3 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readyz_follows_the_bucket_down_and_back() {
        super::readyz_follows_the_bucket_down_and_back(darkroom_store::Backend::Postgres).await
    }
}

/// Every response carries the security headers (pages, the API, media, errors), a route's
/// own value is kept, and HSTS is sent only when the site is served over HTTPS (secure
/// cookies on). A rendered page's policy names a nonce of its own, which every inline script
/// of the page carries (and the cached Explore page gets a fresh one each time); every other
/// response allows no script.
async fn security_headers_on_every_response(b: Backend) {
    let http = spawn_app(b, |c| c.workers = 0).await;
    let https = spawn_app(b, |c| {
        c.workers = 0;
        c.secure_cookies = true;
    })
    .await;
    let mut nonces = std::collections::HashSet::new();
    for path in ["/", "/explore", "/explore", "/api/v1/styles", "/healthz", "/no-such-page", "/api/v1/openapi.json", "/api/v1/docs", "/favicon.svg"] {
        for (app, hsts) in [(&http, false), (&https, true)] {
            let r = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
            let h = r.headers().clone();
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            let policy = h["content-security-policy"].to_str().unwrap().to_string();
            let page = ["/", "/explore", "/no-such-page"].contains(&path);
            if page {
                let nonce = policy.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_string();
                assert_eq!(policy, ::app::page_policy(&nonce), "{path}");
                let body = r.text().await.unwrap();
                let scripts = body.matches("<script").count();
                assert!(scripts > 0, "{path}");
                assert_eq!(body.matches(&format!("<script nonce=\"{nonce}\"")).count() + body.matches(&format!("<script type=\"module\" nonce=\"{nonce}\"")).count(), scripts, "{path}: every inline script carries the nonce");
                assert!(nonces.insert(nonce), "{path}: a nonce is never reused");
                assert!(body.contains(r#"<link rel="icon" type="image/svg+xml" href="/favicon.svg">"#), "{path}: the icon");
            } else {
                assert_eq!(policy, server::headers::CSP, "{path}");
                if path == "/favicon.svg" {
                    assert_eq!((h["content-type"].to_str().unwrap(), r.text().await.unwrap().as_str()), ("image/svg+xml", server::routes::favicon::SVG));
                }
            }
            assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{path}");
            assert_eq!(h.get("strict-transport-security").map(|v| v.to_str().unwrap().to_string()), hsts.then(|| server::headers::HSTS.to_string()), "{path}");
        }
    }
}

/// A reader that goes away mid-page never wedges the server: 120 pages with resources
/// (`/terms`, `/privacy`, `/explore`) are dropped right after their headers, in parallel, and
/// then the server still answers, and the test's runtime (whose workers render the pages)
/// shuts down (a worker blocked in a half-dropped render would keep it from ending). A stress
/// check: the race it guards against (`ssr_guard::finish_renders`) was seen once in a full CI
/// run and is too narrow to hit on demand.
async fn readers_that_leave_mid_page(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let mut tasks = Vec::new();
    for i in 0..120 {
        let url = format!("{}{}", app.base, ["/terms", "/privacy", "/explore"][i % 3]);
        tasks.push(tokio::spawn(async move {
            let r = reqwest::get(&url).await.unwrap();
            assert_eq!(r.status(), 200);
            drop(r);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = reqwest::get(format!("{}/terms", app.base)).await.unwrap();
    assert!(r.text().await.unwrap().contains("</html>"), "pages still render to their end");
}

