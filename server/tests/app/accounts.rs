//! Accounts, consent and privacy (issue 7) on SQLite and PostgreSQL, with the outbox read as
//! mail: verification gating creation, password reset ending sessions, sign-in limits that
//! never tell whether an address is registered, the sessions list, terms re-consent, the
//! export ZIP, and deletion leaving nothing personal in any table or in storage.

use std::io::Read;

use super::*;

fn photo_fields(key: &str) -> Vec<(&'static str, String)> {
    vec![("rights", "on".into()), ("style", "3".into()), ("strength", "80".into()), ("idempotency_key", key.into())]
}

async fn submit(app: &TestApp, c: &reqwest::Client, key: &str) -> (u16, Value) {
    let fields = photo_fields(key);
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.submit(c, sample("astronaut.png"), &f).await
}

async fn kinds_of_events(app: &TestApp, email: &str) -> Vec<String> {
    let id = user_id(app, email).await;
    app.state.store.security_events(&id, 100).await.unwrap().into_iter().map(|e| e.kind).collect()
}

pub async fn verification_gates_creating(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.min_age = 21;
    })
    .await;
    // The sign-up form names the operator's minimum age.
    let html = client().get(format!("{}/signup", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("I am 21 or older") && !html.contains("I am 18"), "{html}");
    let c = client();
    app.sign_up_unverified(&c, "new@example.com").await;
    let (s, v) = submit(&app, &c, "k1").await;
    assert_eq!(s, 403, "unverified members browse but do not create: {v}");
    assert!(v.to_string().contains("confirm your email"), "{v}");
    let (_, me) = app.call(&c, "get_me", &[]).await;
    assert_eq!(me["email_verified"], false);
    // The create page says so before a submission is tried (Generate waits, with the reason).
    let (_, page) = app.call(&c, "load_create_page", &[]).await;
    assert!(page["blocked"].as_str().is_some_and(|b| b.contains("confirm your email")), "{}", page["blocked"]);
    assert_eq!(page["balance"], me["balance"]);
    // The mail: plain and HTML, the link in both.
    let mail = app.last_mail_to("new@example.com").await;
    assert!(mail.contains("multipart/alternative") && mail.contains("text/plain") && mail.contains("text/html"), "{mail}");
    assert_eq!(mail.matches("/verify?token=").count(), 3, "text link, HTML button and HTML address: {mail}");
    let token = link_token(&mail, "/verify?token=");
    // A new link replaces the old one.
    let (s, _) = app.call(&c, "resend_verification", &[]).await;
    assert_eq!(s, 200);
    let newer = link_token(&app.last_mail_to("new@example.com").await, "/verify?token=");
    assert_ne!(newer, token);
    let (s, _) = app.call(&client(), "verify_email", &[("token", &token)]).await;
    assert_eq!(s, 400, "the replaced link no longer works");
    let fresh = client();
    let (s, v) = app.call(&fresh, "verify_email", &[("token", &newer)]).await;
    assert_eq!(s, 200, "{v}");
    assert!(app.call(&fresh, "get_me", &[]).await.1.is_object(), "the link signs in");
    let (s, _) = app.call(&client(), "verify_email", &[("token", &newer)]).await;
    assert_eq!(s, 400, "single use");
    assert_eq!(app.call(&c, "load_create_page", &[]).await.1["blocked"], Value::Null, "confirmed: nothing in the way");
    let (s, v) = submit(&app, &c, "k2").await;
    assert_eq!(s, 201, "{v}");
    // Signing up with a taken address answers the same, makes nothing, and mails its owner.
    let (probe, newcomer) = (browser(), browser());
    let a = probe.post(format!("{}/api/sign_up", app.base)).form(&[("email", "new@example.com"), ("password", "another password 1"), ("display_name", "X"), ("age_confirmed", "on"), ("terms_accepted", "on")]).send().await.unwrap();
    let b = newcomer.post(format!("{}/api/sign_up", app.base)).form(&[("email", "brand-new@example.com"), ("password", "another password 1"), ("display_name", "Y"), ("age_confirmed", "on"), ("terms_accepted", "on")]).send().await.unwrap();
    assert_eq!((a.status(), a.headers().get("location").cloned()), (b.status(), b.headers().get("location").cloned()), "the same answer");
    assert_eq!(app.call(&probe, "get_me", &[]).await.1, Value::Null, "nobody is signed in by signing up");
    app.mail_with("new@example.com", "already has an account").await;
    assert!(app.state.store.user_by_email("brand-new@example.com").await.unwrap().is_some());
    // An expired link (24 h passed) is refused.
    let other = client();
    app.sign_up_unverified(&other, "late@example.com").await;
    let late = user_id(&app, "late@example.com").await;
    let (tok, hash) = server::darkroom_service::sharing::new_token();
    app.state.store.issue_token(&late, darkroom_store::accounts::Purpose::Verify, &hash, None, -1).await.unwrap();
    assert_eq!(app.call(&other, "verify_email", &[("token", &tok)]).await.0, 400);
    assert!(kinds_of_events(&app, "new@example.com").await.contains(&"email_verified".to_string()));
    // Browsers open links through GET /verify, which signs in and says how it went.
    let late_browser = browser();
    let (tok, hash) = server::darkroom_service::sharing::new_token();
    app.state.store.issue_token(&late, darkroom_store::accounts::Purpose::Verify, &hash, None, 60_000).await.unwrap();
    let r = late_browser.get(format!("{}/verify?token={tok}", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/verify/done?m=verified");
    assert!(app.call(&late_browser, "get_me", &[]).await.1.is_object());
    let r = late_browser.get(format!("{}/verify?token={tok}", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/verify/done?m=invalid");
    // Consents from sign-up: age and terms, with a hash of the IP.
    let consents = app.state.store.consents(&user_id(&app, "new@example.com").await).await.unwrap();
    assert_eq!(consents.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(), vec!["age", "terms"]);
    assert!(consents.iter().all(|c| c.ip_hash.len() == 64 && !c.ip_hash.contains("127.0.0")), "{consents:?}");
}

pub async fn password_reset_ends_sessions(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (c1, c2, anon) = (client(), client(), client());
    app.sign_up(&c1, "reset@example.com").await;
    let (s, _) = app.call(&c2, "sign_in", &[("email", "reset@example.com"), ("password", "correct horse battery")]).await;
    assert!(s < 400);
    let (s, _) = app.call(&c2, "sign_in", &[("email", "reset@example.com"), ("password", "wrong password!!")]).await;
    assert_eq!(s, 401);
    // The same answer for a registered and an unknown address; only the registered one gets mail.
    let (s1, known) = app.call(&anon, "request_reset", &[("email", "reset@example.com")]).await;
    let (s2, unknown) = app.call(&anon, "request_reset", &[("email", "nobody@example.com")]).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(known, unknown);
    let mail = app.mail_with("reset@example.com", "Choose a new password").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mails_to("nobody@example.com").is_empty());
    let token = link_token(&mail, "/reset?token=");
    let (s, _) = app.call(&anon, "reset_password", &[("token", &token), ("password", "short")]).await;
    assert_eq!(s, 400, "password rules apply");
    let (s, _) = app.call(&anon, "reset_password", &[("token", &token), ("password", "a brand new password")]).await;
    assert!(s < 400, "{s}");
    // Every session of the account ended.
    for c in [&c1, &c2] {
        assert_eq!(app.call(c, "get_me", &[]).await.1, Value::Null, "signed out everywhere");
    }
    assert_eq!(app.call(&anon, "reset_password", &[("token", &token), ("password", "another new password")]).await.0, 400, "single use");
    let (s, _) = app.call(&c1, "sign_in", &[("email", "reset@example.com"), ("password", "correct horse battery")]).await;
    assert_eq!(s, 401, "the old password is gone");
    let (s, _) = app.call(&c1, "sign_in", &[("email", "reset@example.com"), ("password", "a brand new password")]).await;
    assert!(s < 400);
    let kinds = kinds_of_events(&app, "reset@example.com").await;
    for k in ["sign_in", "sign_in_failed", "password_reset_requested", "password_reset", "email_verified"] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }
    // Changing the password needs the current one; this session stays, the others end.
    let (s, _) = app.call(&c2, "sign_in", &[("email", "reset@example.com"), ("password", "a brand new password")]).await;
    assert!(s < 400);
    assert_eq!(app.call(&c1, "change_password", &[("current", "wrong one here"), ("new", "yet another password")]).await.0, 401);
    assert_eq!(app.call(&c1, "change_password", &[("current", "a brand new password"), ("new", "yet another password")]).await.0, 200);
    assert!(app.call(&c1, "get_me", &[]).await.1.is_object(), "this session stays");
    assert_eq!(app.call(&c2, "get_me", &[]).await.1, Value::Null, "the other ended");
}

pub async fn email_change_needs_the_password_and_the_new_inbox(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (c, other) = (client(), client());
    app.sign_up(&c, "old@example.com").await;
    app.sign_up(&other, "taken@example.com").await;
    assert_eq!(app.call(&c, "change_email", &[("password", "wrong password!"), ("email", "new@example.com")]).await.0, 401);
    assert_eq!(app.call(&c, "change_email", &[("password", "correct horse battery"), ("email", "not an email")]).await.0, 400);
    assert_eq!(app.call(&c, "change_email", &[("password", "correct horse battery"), ("email", "New@Example.com")]).await.0, 200);
    let token = link_token(&app.mail_with("new@example.com", "/verify?change=").await, "/verify?change=");
    assert_eq!(app.call(&c, "account_page", &[]).await.1["email"], "old@example.com", "nothing changes before the link is used");
    let (s, v) = app.call(&client(), "verify_email", &[("change", &token)]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.call(&c, "account_page", &[]).await.1["email"], "new@example.com");
    assert_eq!(app.call(&client(), "verify_email", &[("change", &token)]).await.0, 400, "single use");
    // An address another account holds by the time the link is used: refused.
    assert_eq!(app.call(&c, "change_email", &[("password", "correct horse battery"), ("email", "taken@example.com")]).await.0, 200, "the answer does not tell");
    let token = link_token(&app.mail_with("taken@example.com", "/verify?change=").await, "/verify?change=");
    assert_eq!(app.call(&client(), "verify_email", &[("change", &token)]).await.0, 409);
    let kinds = kinds_of_events(&app, "new@example.com").await;
    assert!(kinds.contains(&"email_change_requested".to_string()) && kinds.contains(&"email_changed".to_string()), "{kinds:?}");
}

pub async fn sign_in_limits_never_tell_who_is_registered(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.auth_rate_per_account = 3;
    })
    .await;
    let c = client();
    app.sign_up(&c, "limit@example.com").await;
    for email in ["limit@example.com", "ghost@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(app.call(&client(), "sign_in", &[("email", email), ("password", "not the password")]).await.0);
        }
        assert_eq!(statuses, vec![401, 401, 401, 429], "{email}");
    }
    // Locked out means locked out, even with the right password, until the back-off passes.
    assert_eq!(app.call(&client(), "sign_in", &[("email", "limit@example.com"), ("password", "correct horse battery")]).await.0, 429);
    // Resets count against the same address.
    assert_eq!(app.call(&client(), "request_reset", &[("email", "ghost@example.com")]).await.0, 429);
}

pub async fn sessions_are_listed_and_ended(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (c1, c2) = (client(), client());
    app.sign_up(&c1, "multi@example.com").await;
    // Preferences are the member's: a new sign-in elsewhere renders in them.
    assert_eq!(app.call(&c1, "set_preferences", &[("theme", "dark"), ("language", "de")]).await.0, 200);
    assert_eq!(app.call(&c1, "set_preferences", &[("theme", "purple"), ("language", "de")]).await.0, 400);
    app.call(&c2, "sign_in", &[("email", "multi@example.com"), ("password", "correct horse battery")]).await;
    let html = c2.get(format!("{}/settings", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"lang="de""#) && html.contains(r#"data-theme="dark""#), "{}", &html[..html.len().min(400)]);
    // A request after signing in records the session.
    app.call(&c1, "get_me", &[]).await;
    app.call(&c2, "get_me", &[]).await;
    let (_, page) = app.call(&c1, "account_page", &[]).await;
    let sessions = page["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{page}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(sessions.iter().all(|s| s["ip"] == "127.0.0.0/24"), "IPs are shown truncated: {sessions:?}");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_string();
    // Pages see handles, not the session ids that the HttpOnly cookies carry.
    let mut ids = Vec::new();
    for (session_id,) in sqlx::query_as::<_, (String,)>("SELECT session_id FROM user_sessions").fetch_all(&app.state.store.pool).await.unwrap() {
        ids.push(session_id);
    }
    assert_eq!(ids.len(), 2);
    for s in &sessions {
        let handle = s["id"].as_str().unwrap();
        assert!(handle.len() == 32 && !ids.iter().any(|i| i == handle), "{handle}");
    }
    assert_eq!(app.call(&c1, "end_session", &[("id", &"0".repeat(32))]).await.0, 404, "no such session");
    let (s, n) = app.call(&c1, "end_session", &[("id", &other)]).await;
    assert_eq!((s, n.as_i64()), (200, Some(1)));
    assert_eq!(app.call(&c2, "get_me", &[]).await.1, Value::Null, "that session ended");
    assert!(app.call(&c1, "get_me", &[]).await.1.is_object(), "this one did not");
    // Everywhere else.
    let c3 = client();
    app.call(&c3, "sign_in", &[("email", "multi@example.com"), ("password", "correct horse battery")]).await;
    app.call(&c3, "get_me", &[]).await;
    assert_eq!(app.call(&c1, "end_session", &[("id", "")]).await.1.as_i64(), Some(1));
    assert_eq!(app.call(&c3, "get_me", &[]).await.1, Value::Null);
    assert!(kinds_of_events(&app, "multi@example.com").await.contains(&"sessions_ended".to_string()));
}

pub async fn material_terms_need_acceptance(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (member, admin) = (client(), client());
    app.sign_up(&member, "terms@example.com").await;
    app.sign_up(&admin, "legal@example.com").await;
    let publish = [("doc", "terms"), ("version", "2027-01"), ("body", "# New terms\n\nBe **kind**."), ("effective", ""), ("material", "on")];
    assert_eq!(app.call(&member, "publish_legal", &publish).await.0, 403);
    app.state.store.set_role(&user_id(&app, "legal@example.com").await, "admin").await.unwrap();
    assert_eq!(app.call(&admin, "publish_legal", &publish).await.0, 200);
    let (_, me) = app.call(&member, "get_me", &[]).await;
    assert_eq!(me["pending_terms"], "2027-01");
    let (s, v) = submit(&app, &member, "t1").await;
    assert_eq!(s, 403, "{v}");
    assert!(v.to_string().contains("terms changed"), "{v}");
    let (_, page) = app.call(&member, "legal_page", &[("doc", "terms")]).await;
    assert_eq!((page["must_accept"].as_bool(), page["version"].as_str()), (Some(true), Some("2027-01")));
    assert!(page["html"].as_str().unwrap().contains("<strong>kind</strong>"));
    assert_eq!(app.call(&member, "accept_terms", &[("version", "2026-01")]).await.0, 409, "only the current version");
    assert_eq!(app.call(&member, "accept_terms", &[("version", "2027-01")]).await.0, 200);
    assert_eq!(app.call(&member, "get_me", &[]).await.1["pending_terms"], Value::Null);
    let (s, v) = submit(&app, &member, "t2").await;
    assert_eq!(s, 201, "{v}");
    let consents = app.state.store.consents(&user_id(&app, "terms@example.com").await).await.unwrap();
    assert_eq!(consents.last().map(|c| (c.kind.as_str(), c.version.as_str())), Some(("terms", "2027-01")));
    // A later non-material version asks nothing more; new members accept the current one.
    let minor = [("doc", "terms"), ("version", "2027-02"), ("body", "Typo fixed."), ("effective", ""), ("material", "")];
    assert_eq!(app.call(&admin, "publish_legal", &minor).await.0, 200);
    assert_eq!(app.call(&member, "get_me", &[]).await.1["pending_terms"], Value::Null);
    let late = client();
    app.sign_up(&late, "later@example.com").await;
    assert_eq!(app.call(&late, "get_me", &[]).await.1["pending_terms"], Value::Null);
    // Training consent: off by default, recorded when given and withdrawn.
    let (_, page) = app.call(&member, "account_page", &[]).await;
    assert_eq!(page["training_consent"], false);
    assert_eq!(app.call(&member, "set_training_consent", &[("consent", "on")]).await.1, true);
    assert_eq!(app.call(&member, "set_training_consent", &[]).await.1, false);
    let training: Vec<i64> = app.state.store.consents(&user_id(&app, "terms@example.com").await).await.unwrap().into_iter().filter(|c| c.kind == "training").map(|c| c.granted).collect();
    assert_eq!(training, vec![1, 0]);
}

/// A member with one finished generation, an API key, a share link and a like.
async fn busy_member(app: &TestApp, c: &reqwest::Client, email: &str) -> String {
    app.sign_up(c, email).await;
    let (s, job) = submit(app, c, "busy").await;
    assert_eq!(s, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait_done(c, &id).await["status"], "succeeded");
    let (s, v) = app.call(c, "create_api_key", &[("name", "leaver-key-name"), ("scope_generate", "on"), ("scope_read", "on"), ("rights", "on")]).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.call(c, "create_share_link", &[("id", &id), ("days", "7")]).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.call(c, "set_visibility", &[("id", &id), ("visibility", "public"), ("reviewed", "on")]).await;
    assert_eq!(s, 200, "{v}");
    app.call(c, "like_item", &[("id", &id), ("on", "true")]).await;
    id
}

pub async fn export_zip_holds_every_part(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    let job = busy_member(&app, &c, "export@example.com").await;
    let (s, v) = app.call(&c, "request_export", &[]).await;
    assert_eq!(s, 200, "{v}");
    // Ready: a mail with a signed link (24 h).
    let mail = app.mail_with("export@example.com", "export is ready").await;
    let at = mail.find("/account/exports/").unwrap();
    let path: String = mail[at..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<').collect();
    let r = client().get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    for part in ["profile.json", "consents.json", "ledger.csv", "generations.json", "security-events.json", &format!("results/{job}.png")] {
        assert!(names.iter().any(|n| n == part), "{part} in {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("uploads/")), "{names:?}");
    let mut profile = String::new();
    zip.by_name("profile.json").unwrap().read_to_string(&mut profile).unwrap();
    assert!(profile.contains("export@example.com"));
    let mut ledger = String::new();
    zip.by_name("ledger.csv").unwrap().read_to_string(&mut ledger).unwrap();
    assert!(ledger.contains(",grant,50,50,") && ledger.contains(",charge,-5,45,"), "{ledger}");
    let mut result = Vec::new();
    zip.by_name(&format!("results/{job}.png")).unwrap().read_to_end(&mut result).unwrap();
    assert!(image::load_from_memory(&result).is_ok(), "the result opens");
    // A tampered or expired link does not open it.
    let bad = path.replace("sig=", "sig=00");
    assert_eq!(client().get(format!("{}{bad}", app.base)).send().await.unwrap().status(), 404);
    let (_, page) = app.call(&c, "account_page", &[]).await;
    assert!(page["exports"][0]["link"].as_str().unwrap().starts_with("/account/exports/"), "{page}");
}

/// Every text column of every table, on either database.
async fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    let pool = &app.state.store.pool;
    match app.state.store.backend {
        Backend::Sqlite => {
            let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'")
                .fetch_all(pool)
                .await
                .unwrap();
            let mut out = Vec::new();
            for t in tables {
                let cols: Vec<(String, String)> = sqlx::query_as(&format!("SELECT name, type FROM pragma_table_info('{t}')")).fetch_all(pool).await.unwrap();
                out.extend(cols.into_iter().filter(|(_, ty)| ty.to_uppercase().contains("TEXT") || ty.is_empty()).map(|(c, _)| (t.clone(), c)));
            }
            out
        }
        Backend::Postgres => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public' \
             AND data_type IN ('text', 'character varying') AND table_name NOT LIKE '_sqlx%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    }
}

pub async fn deletion_leaves_nothing_personal(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let (c, other) = (client(), client());
    let job = busy_member(&app, &c, "leaving@example.com").await;
    app.sign_up(&other, "staying@example.com").await;
    let me = user_id(&app, "leaving@example.com").await;
    let (s, _) = app.call(&c, "request_export", &[]).await;
    assert_eq!(s, 200);
    app.mail_with("leaving@example.com", "export is ready").await;
    let html = c.get(format!("{}/settings", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("This action is permanent and cannot be undone."));
    assert_eq!(app.call(&c, "delete_account", &[("password", "wrong password"), ("confirm", "DELETE")]).await.0, 401, "re-authentication first");
    assert_eq!(app.call(&c, "delete_account", &[("password", "correct horse battery"), ("confirm", "no")]).await.0, 400);
    let files_before = app.media_files().await.len();
    assert!(files_before >= 8, "upload, result, renditions, export");
    let (s, _) = app.call(&c, "delete_account", &[("password", "correct horse battery"), ("confirm", "DELETE")]).await;
    assert!(s < 400, "{s}");
    assert_eq!(app.call(&c, "get_me", &[]).await.1, Value::Null, "signed out");
    assert_eq!(app.call(&client(), "sign_in", &[("email", "leaving@example.com"), ("password", "correct horse battery")]).await.0, 401);
    // Storage: none of their files left.
    let left: Vec<_> = app.media_files().await.into_iter().filter(|p| p.contains(&me)).collect();
    assert!(left.is_empty(), "{left:?}");
    assert_ne!(client().get(format!("{}/media/{job}/result", app.base)).send().await.unwrap().status(), 200);
    // Every text column of every table: no email, no key name of theirs.
    let mut hits = Vec::new();
    for (table, column) in text_columns(&app).await {
        for needle in ["leaving@example.com", "leaver-key-name"] {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) = $1 OR CAST({column} AS TEXT) LIKE $2");
            let n: i64 = sqlx::query_scalar(&sql).bind(needle).bind(format!("%{needle}%")).fetch_one(&app.state.store.pool).await.unwrap();
            if n > 0 {
                hits.push(format!("{table}.{column} has {needle}"));
            }
        }
    }
    assert!(hits.is_empty(), "{hits:?}");
    let store = &app.state.store;
    for (table, col) in [("user_sessions", "user_id"), ("security_events", "user_id"), ("consents", "user_id"), ("email_tokens", "user_id"), ("exports", "user_id"), ("likes", "user_id"), ("share_links", "user_id"), ("api_requests", "user_id"), ("events", "user_id")] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {col} = $1")).bind(&me).fetch_one(&store.pool).await.unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // What stays, anonymised: the ledger and the audit log.
    assert!(!store.ledger(&me, 10).await.unwrap().is_empty());
    assert!(store.audit_entries(&me, 10).await.unwrap().iter().any(|a| a.action == "account.delete"));
    let u = store.user(&me).await.unwrap();
    assert_eq!((u.email.as_str(), u.display_name.as_str()), (format!("deleted-{me}@invalid").as_str(), "Deleted account"));
    // The other member is untouched.
    assert!(app.call(&other, "get_me", &[]).await.1.is_object());
}

async fn spawn_with_google(b: Backend) -> (TestApp, super::standin::Oidc) {
    let oidc = super::standin::Oidc::spawn().await;
    let issuer = oidc.issuer.clone();
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.google_client_id = Some(super::standin::OIDC_CLIENT.0.into());
        c.google_client_secret = Some(super::standin::OIDC_CLIENT.1.into());
        c.google_issuer = issuer;
    })
    .await;
    (app, oidc)
}

/// A browser without automatic redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Starts Google sign-in, lets the stand-in approve `grant`, follows the callback; returns
/// where Darkroom sent the browser.
async fn google_sign_in(app: &TestApp, oidc: &super::standin::Oidc, c: &reqwest::Client, grant: super::standin::OidcGrant) -> String {
    let r = c.get(format!("{}/auth/google", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let authorize = r.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&format!("{}/authorize?", oidc.issuer)), "{authorize}");
    let back = oidc.approve(&authorize, grant);
    assert!(back.starts_with(&format!("{}/auth/google/callback?", app.base)), "{back}");
    let r = c.get(back).send().await.unwrap();
    r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

pub async fn google_sign_in_links_creates_and_refuses_bad_tokens(b: Backend) {
    use super::standin::OidcGrant;
    let (app, oidc) = spawn_with_google(b).await;
    let grant = |email: &str| OidcGrant { email: email.into(), name: "Gia Google".into(), email_verified: true, ..Default::default() };
    // A verified account with that address: linked and signed in.
    let c = browser();
    app.sign_up(&client(), "linked@example.com").await;
    assert_eq!(google_sign_in(&app, &oidc, &c, grant("Linked@Example.com")).await, "/create");
    let (_, me) = app.call(&c, "get_me", &[]).await;
    assert_eq!(me["display_name"], "Tester", "{me}");
    assert!(kinds_of_events(&app, "linked@example.com").await.contains(&"sign_in".to_string()));
    // An unconfirmed account with that address is not taken over.
    app.sign_up_unverified(&client(), "pending@example.com").await;
    let c = browser();
    assert_eq!(google_sign_in(&app, &oidc, &c, grant("pending@example.com")).await, "/signin?error=google_unverified");
    assert_eq!(app.call(&c, "get_me", &[]).await.1, Value::Null);
    // A new address: age and terms first, then the account (confirmed, no password).
    let c = browser();
    assert_eq!(google_sign_in(&app, &oidc, &c, grant("fresh@example.com")).await, "/signup?google=1");
    let (_, opts) = app.call(&c, "auth_options", &[]).await;
    assert_eq!(opts["google_signup"][0], "fresh@example.com", "{opts}");
    assert_eq!(opts["min_age"], 18, "{opts}");
    assert_eq!(app.call(&c, "sign_up_google", &[("terms_accepted", "on")]).await.0, 400, "age is required");
    let (s, _) = app.call(&c, "sign_up_google", &[("age_confirmed", "on"), ("terms_accepted", "on")]).await;
    assert!(s < 400, "{s}");
    let (_, me) = app.call(&c, "get_me", &[]).await;
    assert_eq!((me["display_name"].as_str(), me["email_verified"].as_bool()), (Some("Gia Google"), Some(true)), "{me}");
    let (s, v) = submit(&app, &c, "g1").await;
    assert_eq!(s, 201, "{v}");
    // Not genuine: a bad nonce, a signature by another key, an unverified address, a wrong state.
    for spoiled in [
        OidcGrant { nonce_override: Some("not-the-nonce".into()), ..grant("fresh@example.com") },
        OidcGrant { wrong_key: true, ..grant("fresh@example.com") },
        OidcGrant { email_verified: false, ..grant("fresh@example.com") },
    ] {
        let c = browser();
        assert_eq!(google_sign_in(&app, &oidc, &c, spoiled).await, "/signin?error=google");
        assert_eq!(app.call(&c, "get_me", &[]).await.1, Value::Null);
    }
    let c = browser();
    let r = c.get(format!("{}/auth/google", app.base)).send().await.unwrap();
    let back = oidc.approve(r.headers()["location"].to_str().unwrap(), grant("fresh@example.com"));
    let forged = back.split("&state=").next().unwrap().to_string() + "&state=forged";
    let r = c.get(forged).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/signin?error=google");
    // The Google-made account has no password: deletion asks for a fresh Google sign-in.
    let g = browser();
    assert_eq!(google_sign_in(&app, &oidc, &g, grant("fresh@example.com")).await, "/create");
    assert_eq!(app.call(&c, "delete_account", &[("password", ""), ("confirm", "DELETE")]).await.0, 401, "no recent Google sign-in in this session");
    let (s, _) = app.call(&g, "delete_account", &[("password", ""), ("confirm", "DELETE")]).await;
    assert!(s < 400, "{s}");
    assert!(app.state.store.user_by_email("fresh@example.com").await.unwrap().is_none());
    // Without Google configured the routes do not exist.
    let plain = spawn_app(b, |c| c.workers = 0).await;
    assert_eq!(client().get(format!("{}/auth/google", plain.base)).send().await.unwrap().status(), 404);
}

on_both!(
    google_sign_in_links_creates_and_refuses_bad_tokens,
    email_change_needs_the_password_and_the_new_inbox,
    verification_gates_creating,
    password_reset_ends_sessions,
    sign_in_limits_never_tell_who_is_registered,
    sessions_are_listed_and_ended,
    material_terms_need_acceptance,
    export_zip_holds_every_part,
    deletion_leaves_nothing_personal,
    privacy_requests_rename_and_restrict,
);
on_s3!(export_zip_holds_every_part, deletion_leaves_nothing_personal);

/// Privacy requests a member makes themselves: correcting their display name (audited), and
/// restricting processing: training consent withdrawn and recorded, every showcase consent
/// cleared, neither given again while it holds (409, nothing changes), audited; lifting it
/// lets them opt in again.
pub async fn privacy_requests_rename_and_restrict(b: Backend) {
    let app = spawn_app(b, |_| {}).await;
    let c = client();
    let job = busy_member(&app, &c, "rights@example.com").await;
    let me = user_id(&app, "rights@example.com").await;
    for bad in ["", "   ", &"n".repeat(51), "tab\there"] {
        let (s, v) = app.call(&c, "set_display_name", &[("display_name", bad)]).await;
        assert!(s == 400 && v.to_string().contains("1 to 50 characters"), "{bad:?}: {s} {v}");
    }
    assert_eq!(app.call(&c, "set_display_name", &[("display_name", "  Ada L.  ")]).await.0, 200);
    assert_eq!(app.call(&c, "account_page", &[]).await.1["display_name"], "Ada L.");
    assert_eq!(app.call(&c, "get_me", &[]).await.1["display_name"], "Ada L.");
    let audit = app.state.store.audit_entries(&format!("user:{me}"), 5).await.unwrap();
    assert_eq!(audit[0].action, "account.rename");

    // Opted in to training and showcasing one item; then restricts processing.
    assert_eq!(app.call(&c, "set_training_consent", &[("consent", "on")]).await.1, true);
    // The ids of the showcase's tiles (HTML made by the server), in order.
    let showcased = || async {
        let (_, html) = app.call(&client(), "showcase", &[]).await;
        let html = html.as_str().expect("HTML").to_string();
        html.split("data-job-id=\"").skip(1).map(|rest| rest.split('"').next().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(showcased().await, Vec::<String>::new(), "public, but no consent: not on the home page");
    assert_eq!(app.call(&c, "set_showcase", &[("id", &job), ("on", "true")]).await.0, 200);
    assert!(app.state.store.job(&job, &me).await.unwrap().showcase_at.is_some());
    // Public with consent: on the visitors' home page, linked to its public page.
    assert_eq!(showcased().await, vec![job.clone()]);
    // (The home page fetches this once it is interactive: the browser tests show it there.)
    let home = client().get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("data-testid=\"showcase\""), "the home page has the showcase's place");
    // A member's words in it are text, never markup.
    let fields = [("rights", "on"), ("style", "2"), ("idempotency_key", "hostile"), ("prompt", "\"><script>alert(1)</script>")];
    let (s, hostile) = app.submit(&c, sample("astronaut.png"), &fields).await;
    assert_eq!(s, 201, "{hostile}");
    let hostile = hostile["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait_done(&c, &hostile).await["status"], "succeeded");
    assert_eq!(app.call(&c, "set_visibility", &[("id", &hostile), ("visibility", "public")]).await.0, 200);
    assert_eq!(app.call(&c, "set_showcase", &[("id", &hostile), ("on", "true")]).await.0, 200);
    assert_eq!(showcased().await, vec![hostile.clone(), job.clone()], "the latest consent first");
    let (_, html) = app.call(&client(), "showcase", &[]).await;
    let html = html.as_str().unwrap();
    assert!(!html.contains("<script") && html.contains("alt=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""), "{html}");
    app.call(&c, "delete_job", &[("id", &hostile)]).await;
    assert_eq!(showcased().await, vec![job.clone()], "a deleted item leaves the showcase");
    let (s, v) = app.call(&c, "set_processing_restricted", &[("restrict", "on")]).await;
    assert_eq!((s, v), (200, json!(true)));
    let (_, page) = app.call(&c, "account_page", &[]).await;
    assert_eq!((&page["processing_restricted"], &page["training_consent"]), (&json!(true), &json!(false)));
    assert!(app.state.store.job(&job, &me).await.unwrap().showcase_at.is_none(), "showcase cleared");
    assert_eq!(showcased().await, Vec::<String>::new(), "gone from the home page");
    let training: Vec<i64> = app.state.store.consents(&me).await.unwrap().into_iter().filter(|c| c.kind == "training").map(|c| c.granted).collect();
    assert_eq!(training, vec![1, 0], "the withdrawal is recorded");
    assert_eq!(app.state.store.audit_entries(&format!("user:{me}"), 5).await.unwrap()[0].action, "privacy.restrict");
    // While it holds: no training consent, no showcase; nothing changes.
    let (s, v) = app.call(&c, "set_training_consent", &[("consent", "on")]).await;
    assert!(s == 409 && v.to_string().contains("restricted"), "{s} {v}");
    let (s, _) = app.call(&c, "set_showcase", &[("id", &job), ("on", "true")]).await;
    assert_eq!(s, 409);
    assert_eq!(app.call(&c, "account_page", &[]).await.1["training_consent"], false);
    assert!(app.state.store.job(&job, &me).await.unwrap().showcase_at.is_none());
    assert_eq!(app.call(&c, "set_showcase", &[("id", "not-mine"), ("on", "true")]).await.0, 404, "still 404 for what is not theirs");
    // Lifted: they may opt in again.
    assert_eq!(app.call(&c, "set_processing_restricted", &[]).await.1, json!(false));
    assert_eq!(app.state.store.audit_entries(&format!("user:{me}"), 5).await.unwrap()[0].action, "privacy.unrestrict");
    assert_eq!(app.call(&c, "set_showcase", &[("id", &job), ("on", "true")]).await.0, 200);
    assert_eq!(app.call(&c, "set_training_consent", &[("consent", "on")]).await.1, true);
}
