//! The operator's settings (`/admin/settings`): administrators only; a save applies at the
//! next request on a second node without a restart (the pricing page's grant, the sign-up
//! age and grant, the visibility of new results); two saves from the same version: the second
//! is refused; every save audited. Per plan: the watermark is drawn on results of members
//! whose plan has it and not on others (pixels compared), and results are kept as long as
//! their owner's plan says (the purge and the item's "kept until" agree).

use super::nodes::second_node;
use super::*;

/// The general form as the page posts it, with `changes` over the current values.
async fn save(app: &TestApp, admin: &reqwest::Client, changes: &[(&str, &str)]) -> (u16, Value) {
    let (_, now) = app.call(admin, "admin_settings", &[]).await;
    let version = now["version"].to_string();
    let mut form: Vec<(&str, String)> = vec![
        ("version", version),
        ("default_visibility", now["default_visibility"].as_str().unwrap().into()),
        ("signup_grant", now["signup_grant"].to_string()),
        ("min_age", now["min_age"].to_string()),
        ("free_retention_days", now["free"]["retention_days"].to_string()),
        ("watermark_text", now["watermark_text"].as_str().unwrap().into()),
        ("watermark_position", now["watermark_position"].as_str().unwrap().into()),
        ("watermark_opacity", now["watermark_opacity"].to_string()),
    ];
    if now["free"]["watermark"] == true {
        form.push(("free_watermark", "on".into()));
    }
    for (k, v) in changes {
        form.retain(|(f, _)| f != k);
        if !v.is_empty() {
            form.push((k, v.to_string()));
        }
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.call(admin, "save_settings", &form).await
}

async fn admin_of(app: &TestApp, email: &str) -> reqwest::Client {
    let c = client();
    app.sign_up(&c, email).await;
    app.state.store.set_role(&user_id(app, email).await, "admin").await.unwrap();
    c
}

async fn settings_apply_here_at_once_and_on_every_node_within_a_second(b: Backend) {
    // Nodes of one cluster share the media-URL key (a node with another refuses to start).
    let a = spawn_app(b, |c| {
        c.workers = 0;
        c.media_url_secret = Some("settings-nodes".into());
    })
    .await;
    let bn = second_node(&a, |c| c.workers = 0).await;
    let admin = admin_of(&a, "operator@example.com").await;
    let (member, visitor) = (client(), client());
    a.sign_up(&member, "member@example.com").await;

    // Administrators only, through every server function.
    for (c, status) in [(&member, 403), (&visitor, 401)] {
        assert_eq!(a.call(c, "admin_settings", &[]).await.0, status);
        assert_eq!(a.call(c, "save_settings", &[("version", "0"), ("signup_grant", "1")]).await.0, status);
        assert_eq!(a.call(c, "save_plan_settings", &[("version", "0"), ("plan", "monthly"), ("retention_days", "1")]).await.0, status);
    }
    let pricing = |app: &TestApp| {
        let base = app.base.clone();
        async move { visitor_get(&format!("{base}/pricing")).await }
    };
    assert!(pricing(&bn).await.contains("starts with 50 free credits"), "the environment's grant before any save");
    assert_eq!(bn.call(&client(), "auth_options", &[]).await.1["min_age"], 18);

    // Bad values: named, nothing saved.
    for (field, value) in [("min_age", "12"), ("watermark_opacity", "abc"), ("signup_grant", "-1"), ("default_visibility", "everyone"), ("watermark_position", "middle"), ("watermark_text", " ")] {
        let (s, v) = save(&a, &admin, &[(field, value)]).await;
        assert_eq!(s, 400, "{field}={value}: {v}");
    }
    assert_eq!(a.call(&admin, "admin_settings", &[]).await.1["version"], 0);

    // Saved on node A: node A applies it at its next request, node B within a second (each
    // node's copy of operator data, `darkroom_store::cached`; on PostgreSQL sooner, at the
    // save's notice).
    let (s, v) = save(&a, &admin, &[("signup_grant", "80"), ("min_age", "21"), ("default_visibility", "public")]).await;
    assert_eq!(s, 200, "{v}");
    assert!(pricing(&a).await.contains("starts with 80 free credits"), "node A's pricing page shows the new grant at once");
    let settled = darkroom_store::cached::MAX_AGE + Duration::from_millis(100);
    tokio::time::sleep(settled).await;
    assert!(pricing(&bn).await.contains("starts with 80 free credits"), "node B's pricing page shows the new grant");
    assert_eq!(bn.call(&client(), "auth_options", &[]).await.1["min_age"], 21, "node B asks for the new age");
    let newcomer = client();
    bn.sign_up(&newcomer, "newcomer@example.com").await;
    assert_eq!(bn.balance(&newcomer).await, 80, "signed up on node B with the new grant");
    let audit = a.state.store.audit_entries("settings", 1).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].actor_id.clone()), ("settings.save", Some(user_id(&a, "operator@example.com").await)));
    assert!(audit[0].reason.contains("signup_grant 50 → 80") && audit[0].reason.contains("min_age 18 → 21"), "{}", audit[0].reason);

    // Two administrators editing version 1: the second save is refused, the first kept.
    let stale = [("version", "1"), ("default_visibility", "public"), ("signup_grant", "90"), ("min_age", "21"), ("free_retention_days", "30"), ("watermark_text", "x"), ("watermark_position", "top_left"), ("watermark_opacity", "50")];
    assert_eq!(a.call(&admin, "save_settings", &stale).await.0, 200);
    assert_eq!(bn.call(&admin, "save_settings", &stale).await.0, 409, "saved over an older version");
    assert_eq!(a.call(&admin, "admin_settings", &[]).await.1["signup_grant"], 90);

    // Default visibility public: a member who has not confirmed the publishing prompt starts
    // private; after confirming it once, new results start public (created on node B).
    let submit = |key: &'static str| {
        let (bn, member) = (&bn, &member);
        async move {
            let (s, job) = bn.submit(member, sample("chelsea.png"), &[("rights", "on"), ("style", "3"), ("idempotency_key", key)]).await;
            assert!(s < 300, "{s} {job}");
            bn.call(member, "get_job", &[("id", job["id"].as_str().unwrap())]).await.1["visibility"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(submit("vis-1").await, "private", "not confirmed yet");
    a.state.store.mark_publish_reviewed(&user_id(&a, "member@example.com").await).await.unwrap();
    assert_eq!(submit("vis-2").await, "public");
    assert_eq!(save(&a, &admin, &[("default_visibility", "private")]).await.0, 200);
    tokio::time::sleep(settled).await;
    assert_eq!(submit("vis-3").await, "private", "back to private");

    // Plans: only subscription plans of the catalogue.
    let v = a.call(&admin, "admin_settings", &[]).await.1["version"].to_string();
    for plan in ["starter", "nope"] {
        assert_eq!(a.call(&admin, "save_plan_settings", &[("version", &v), ("plan", plan), ("retention_days", "5")]).await.0, 400, "{plan}");
    }
    assert_eq!(a.call(&admin, "save_plan_settings", &[("version", &v), ("plan", "monthly"), ("retention_days", "365"), ("watermark", "on")]).await.0, 200);
    let (_, now) = a.call(&admin, "admin_settings", &[]).await;
    let monthly = now["plans"].as_array().unwrap().iter().find(|p| p["id"] == "monthly").unwrap().clone();
    assert_eq!(monthly["perks"], json!({ "retention_days": 365, "watermark": true }));
    assert!(now["plans"].as_array().unwrap().iter().all(|p| p["id"] != "starter"), "packages have no entry");
    let html = admin.get(format!("{}/admin/settings", a.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"settings-form\"") && html.contains("data-plan=\"monthly\""), "rendered without JavaScript");
}

async fn visitor_get(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// Gives `user` an active subscription to `plan` (as a paid Stripe subscription would).
async fn subscribe(app: &TestApp, user: &str, plan: &str) {
    sqlx::query(
        "INSERT INTO subscriptions (id, user_id, plan_id, provider, provider_subscription_id, customer_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'stripe', $4, NULL, 'active', $5, $5)",
    )
    .bind(darkroom_store::new_id())
    .bind(user)
    .bind(plan)
    .bind(format!("sub_{user}"))
    .bind(darkroom_store::now_ms())
    .execute(&app.state.store.pool)
    .await
    .unwrap();
}

/// Mean absolute difference of two images' channels inside `(x, y, w, h)`.
fn mad(a: &image::RgbImage, b: &image::RgbImage, (x, y, w, h): (u32, u32, u32, u32)) -> f64 {
    let mut sum = 0u64;
    for py in y..y + h {
        for px in x..x + w {
            for c in 0..3 {
                sum += (a.get_pixel(px, py).0[c] as i64 - b.get_pixel(px, py).0[c] as i64).unsigned_abs();
            }
        }
    }
    sum as f64 / (w * h * 3) as f64
}

async fn plans_decide_watermark_and_retention(b: Backend) {
    use server::darkroom_service::retention::purge;
    let app = spawn_app(b, |_| {}).await;
    let admin = admin_of(&app, "operator@example.com").await;
    let (free, paid) = (client(), client());
    app.sign_up(&free, "free@example.com").await;
    app.sign_up(&paid, "paid@example.com").await;
    subscribe(&app, &user_id(&app, "paid@example.com").await, "monthly").await;
    // Free: watermark top left, results kept 10 days; monthly: no watermark, kept a year.
    assert_eq!(save(&app, &admin, &[("free_watermark", "on"), ("free_retention_days", "10"), ("watermark_position", "top_left"), ("watermark_opacity", "90")]).await.0, 200);
    let v = app.call(&admin, "admin_settings", &[]).await.1["version"].to_string();
    assert_eq!(app.call(&admin, "save_plan_settings", &[("version", &v), ("plan", "monthly"), ("retention_days", "365")]).await.0, 200);

    let mut results = Vec::new();
    let mut ids = Vec::new();
    for (c, key) in [(&free, "wm-free"), (&paid, "wm-paid")] {
        let (_, job) = app.submit(c, sample("chelsea.png"), &[("rights", "on"), ("style", "3"), ("strength", "100"), ("idempotency_key", key)]).await;
        let id = job["id"].as_str().unwrap().to_string();
        assert_eq!(app.wait_done(c, &id).await["status"], "succeeded");
        let png = c.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().bytes().await.unwrap();
        results.push(image::load_from_memory(&png).unwrap().to_rgb8());
        ids.push(id);
    }
    let (marked, clean) = (&results[0], &results[1]);
    assert_eq!(marked.dimensions(), clean.dimensions());
    let (w, h) = clean.dimensions();
    // Where the engine's watermark goes for this size (top left, margin half the text height).
    let px = darkroom_engine::watermark::text_px(w.min(h)) as u32;
    let corner = (px / 2, px / 2, (w / 4).min(4 * px), px);
    let far = (w / 2, h / 2, w / 2, h / 2);
    assert!(mad(marked, clean, corner) > 8.0, "the free member's result carries the mark: {}", mad(marked, clean, corner));
    assert!(mad(marked, clean, far) < 0.5, "and nothing else differs: {}", mad(marked, clean, far));
    // The renditions carry it too (the thumbnail differs in its corner).
    let thumb = |c: &reqwest::Client, id: &str| {
        let url = format!("{}/media/{id}/thumb", app.base);
        let c = c.clone();
        async move { image::load_from_memory(&c.get(url).send().await.unwrap().bytes().await.unwrap()).unwrap().to_rgb8() }
    };
    let (t_marked, t_clean) = (thumb(&free, &ids[0]).await, thumb(&paid, &ids[1]).await);
    let tw = t_clean.width();
    assert!(mad(&t_marked, &t_clean, (0, 0, tw / 4, tw / 12)) > 4.0);

    // Retention by plan: the item page and the purge agree.
    let day = 86_400_000i64;
    let mut finished = Vec::new();
    for (c, id, days) in [(&free, &ids[0], 10), (&paid, &ids[1], 365)] {
        let (_, view) = app.call(c, "get_job", &[("id", id)]).await;
        let f = view["finished_at"].as_i64().unwrap();
        assert_eq!(view["expires_at"].as_i64(), Some(f + days * day), "{id}");
        finished.push(f);
    }
    let r = purge(&app.state, finished[1] + 11 * day).await.unwrap();
    assert_eq!(r.results, 1, "only the free member's result after 11 days");
    assert_eq!(app.call(&free, "get_job", &[("id", &ids[0])]).await.0, 404);
    assert_eq!(app.call(&paid, "get_job", &[("id", &ids[1])]).await.0, 200);
    assert_eq!(purge(&app.state, finished[1] + 366 * day).await.unwrap().results, 1, "the subscriber's after a year");
}

/// A red disc on transparency, `side` pixels, as PNG.
fn disc_png(side: u32) -> Vec<u8> {
    let r = side as f32 / 2.0;
    let img = image::RgbaImage::from_fn(side, side, |x, y| {
        let d = ((x as f32 + 0.5 - r).powi(2) + (y as f32 + 0.5 - r).powi(2)).sqrt();
        if d < r - 1.0 { image::Rgba([230, 10, 10, 255]) } else { image::Rgba([0, 0, 0, 0]) }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

async fn upload_logo(app: &TestApp, c: &reqwest::Client, version: &str, file: Vec<u8>, name: &str) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().text("version", version.to_string()).part("logo", reqwest::multipart::Part::bytes(file).file_name(name.to_string()));
    let r = c.post(format!("{}/admin/settings/logo", app.base)).header("accept", "application/json").multipart(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The operator's logo instead of the text: only administrators upload it, only PNG/WebP
/// within limits, and the results of a plan with the watermark carry it in their corner
/// (the same photo and style before and after, pixels compared); removing it goes back to
/// the text.
async fn a_logo_as_the_watermark(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let admin = admin_of(&app, "operator@example.com").await;
    let member = client();
    app.sign_up(&member, "logo@example.com").await;
    let version = || async { app.call(&admin, "admin_settings", &[]).await.1["version"].to_string() };
    assert_eq!(upload_logo(&app, &member, "0", disc_png(64), "logo.png").await.0, 403);
    let mut jpeg = Vec::new();
    image::RgbImage::new(64, 64).write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    let (s, v) = upload_logo(&app, &admin, &version().await, jpeg, "logo.jpg").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(upload_logo(&app, &admin, &version().await, disc_png(4), "tiny.png").await.0, 400);
    assert_eq!(upload_logo(&app, &admin, "7", disc_png(64), "logo.png").await.0, 409, "over a version that is not the current one");
    assert_eq!(app.call(&admin, "admin_settings", &[]).await.1["watermark_logo"], false, "nothing refused was kept");

    let run = |key: &'static str| {
        let (app, member) = (&app, &member);
        async move {
            let (_, job) = app.submit(member, sample("chelsea.png"), &[("rights", "on"), ("style", "3"), ("strength", "100"), ("idempotency_key", key)]).await;
            let id = job["id"].as_str().unwrap().to_string();
            assert_eq!(app.wait_done(member, &id).await["status"], "succeeded");
            let png = member.get(format!("{}/media/{id}/result", app.base)).send().await.unwrap().bytes().await.unwrap();
            image::load_from_memory(&png).unwrap().to_rgb8()
        }
    };
    let plain = run("logo-before").await;
    let (s, v) = upload_logo(&app, &admin, &version().await, disc_png(400), "logo.png").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(save(&app, &admin, &[("free_watermark", "on"), ("watermark_opacity", "100")]).await.0, 200);
    let (_, now) = app.call(&admin, "admin_settings", &[]).await;
    assert_eq!((now["watermark_logo"].as_bool(), now["watermark_position"].as_str()), (Some(true), Some("bottom_right")));
    let marked = run("logo-after").await;
    let (w, h) = plain.dimensions();
    // The disc's centre: a fifth of the width (or a third of the height) wide, in from the
    // bottom right by the margin (half the text height).
    let side = ((w as f32 / 5.0).min(h as f32 / 3.0)).round() as u32;
    let margin = (darkroom_engine::watermark::text_px(w.min(h)) / 2.0).round() as u32;
    let (cx, cy) = (w - margin - side / 2, h - margin - side / 2);
    let [r, g, b2] = marked.get_pixel(cx, cy).0;
    assert!(r >= 225 && g <= 15 && b2 <= 15, "the logo, opaque: {:?} (before: {:?})", [r, g, b2], plain.get_pixel(cx, cy).0);
    assert!(mad(&plain, &marked, (0, 0, w / 2, h / 2)) < 0.5, "nothing else differs");
    let audit = app.state.store.audit_entries("settings", 5).await.unwrap();
    assert!(audit.iter().any(|a| a.reason.contains("logo none →") && a.reason.contains("logo site/watermark/")), "{:?}", audit.iter().map(|a| &a.reason).collect::<Vec<_>>());

    // Removed: the text again.
    assert_eq!(save(&app, &admin, &[("remove_logo", "on")]).await.0, 200);
    assert_eq!(app.call(&admin, "admin_settings", &[]).await.1["watermark_logo"], false);
}

on_both!(settings_apply_here_at_once_and_on_every_node_within_a_second, plans_decide_watermark_and_retention, a_logo_as_the_watermark);
