//! The operator's console: the audit log for administrators, filtered by actor, action
//! (or family), target and dates, in keyset pages, and the same rows as CSV; the members'
//! search, record and staff actions, each audited and felt by the member at once. Refused to
//! members (403) and visitors (401), through the server functions and the CSV route alike.

use super::api::{api, new_key};
use super::*;

fn photo(key: &str) -> Vec<(&'static str, String)> {
    vec![("rights", "on".into()), ("style", "3".into()), ("strength", "80".into()), ("idempotency_key", key.into())]
}

async fn create(app: &TestApp, c: &reqwest::Client, key: &str) -> (u16, Value) {
    let fields = photo(key);
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.submit(c, sample("astronaut.png"), &f).await
}

async fn members_search_record_and_staff_actions(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (member, admin, visitor) = (client(), client(), client());
    app.sign_up(&member, "subject@example.com").await;
    app.sign_up(&admin, "operator@example.com").await;
    let (me, boss) = (user_id(&app, "subject@example.com").await, user_id(&app, "operator@example.com").await);
    app.state.store.set_role(&boss, "admin").await.unwrap();
    let (key_id, secret) = new_key(&app, &member, &[]).await;
    assert_eq!(api(&app, "GET", "/api/v1/balance", Some(&secret), None, &[]).await.0, 200);
    let act = |action: &'static str, extra: Vec<(&'static str, String)>| {
        let (app, admin, me) = (&app, &admin, me.clone());
        async move {
            let mut form = vec![("id", me), ("action", action.to_string())];
            form.extend(extra);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(admin, "admin_member_action", &form).await
        }
    };
    let last_audit = || async { app.state.store.audit_entries(&format!("user:{me}"), 1).await.unwrap()[0].clone() };

    // Only administrators, through every server function.
    for (c, status) in [(&member, 403), (&visitor, 401)] {
        assert_eq!(app.call(c, "admin_members", &[]).await.0, status);
        assert_eq!(app.call(c, "admin_member", &[("id", &me)]).await.0, status);
        assert_eq!(app.call(c, "admin_member_action", &[("id", &me), ("action", "suspend"), ("reason", "x")]).await.0, status);
        assert_eq!(app.call(c, "admin_disable_key", &[("key_id", &key_id), ("reason", "x")]).await.0, status);
    }

    // Search by part of the address or name, role and standing.
    let emails = |v: &Value| v["rows"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(emails(&app.call(&admin, "admin_members", &[("q", "SUBJECT@")]).await.1), ["subject@example.com"]);
    assert_eq!(emails(&app.call(&admin, "admin_members", &[("role", "admin")]).await.1), ["operator@example.com"]);
    assert_eq!(emails(&app.call(&admin, "admin_members", &[("q", "%")]).await.1), Vec::<String>::new(), "`%` matches only itself");
    assert_eq!(app.call(&admin, "admin_members", &[("role", "king")]).await.0, 400);
    let (_, record) = app.call(&admin, "admin_member", &[("id", &me)]).await;
    assert_eq!((record["member"]["standing"].as_str(), record["keys"][0]["id"].as_str(), record["keys"][0]["revoked"].as_bool()), (Some("good"), Some(key_id.as_str()), Some(false)), "{record}");
    assert_eq!(app.call(&admin, "admin_member", &[("id", "nobody")]).await.0, 404);

    // Every action needs a reason.
    assert_eq!(act("suspend", vec![]).await.0, 400);
    assert_eq!(act("suspend", vec![("reason", "   ".into())]).await.0, 400);

    // Disable one API key: 401 at once, the member sees it, audited.
    assert_eq!(app.call(&admin, "admin_disable_key", &[("key_id", &key_id), ("reason", "leaked in a repository")]).await.0, 200);
    assert_eq!(api(&app, "GET", "/api/v1/balance", Some(&secret), None, &[]).await.0, 401, "disabled at once");
    let events: Vec<String> = app.state.store.security_events(&me, 10).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(events.contains(&"api_key_disabled".to_string()), "{events:?}");
    let audit = app.state.store.audit_entries(&format!("api_key:{key_id}"), 1).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].reason.as_str(), audit[0].actor_id.as_deref()), ("api_key.disable", "leaked in a repository", Some(boss.as_str())));

    // Restrict until tomorrow: no new generations, the member's standing says until when;
    // listed as restricted; lifted: creating works again.
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).date().to_string();
    assert_eq!(act("restrict", vec![("until", "2020-01-01".into()), ("reason", "spam".into())]).await.0, 400, "a past date");
    assert_eq!(act("restrict", vec![("until", tomorrow.clone()), ("reason", "spam in prompts".into())]).await.0, 200);
    assert_eq!(last_audit().await.action, "user.restrict");
    let (s, v) = create(&app, &member, "console-1").await;
    assert!(s >= 400 && s != 500, "restricted: {s} {v}");
    assert!(app.call(&member, "my_standing", &[]).await.1["restricted_until"].as_i64().is_some());
    assert_eq!(emails(&app.call(&admin, "admin_members", &[("standing", "restricted")]).await.1), ["subject@example.com"]);
    assert_eq!(act("lift", vec![("reason", "appeal upheld".into())]).await.0, 200);
    assert_eq!(last_audit().await.action, "standing.lift");
    assert_eq!(create(&app, &member, "console-2").await.0, 201, "lifting restores");

    // Suspend: signed out at once, sign-in refused; lifted: signing in works.
    assert_eq!(act("suspend", vec![("reason", "fraud".into())]).await.0, 200);
    assert_eq!(app.call(&member, "get_me", &[]).await.1, Value::Null, "signed out at once");
    let (s, v) = app.call(&client(), "sign_in", &[("email", "subject@example.com"), ("password", "correct horse battery")]).await;
    assert!(s == 403 && v.to_string().contains("suspended"), "{s} {v}");
    assert_eq!(emails(&app.call(&admin, "admin_members", &[("standing", "suspended")]).await.1), ["subject@example.com"]);
    assert_eq!(act("lift", vec![("reason", "cleared".into())]).await.0, 200);
    let again = client();
    assert!(app.call(&again, "sign_in", &[("email", "subject@example.com"), ("password", "correct horse battery")]).await.0 < 400);

    // Role; never one's own.
    assert_eq!(act("role", vec![("role", "moderator".into()), ("reason", "helps with the queue".into())]).await.0, 200);
    assert_eq!((last_audit().await.action.as_str(), last_audit().await.reason.as_str()), ("user.role", "moderator: helps with the queue"));
    assert_eq!(app.call(&again, "get_me", &[]).await.1["role"], "moderator");
    assert_eq!(act("role", vec![("role", "king".into()), ("reason", "x".into())]).await.0, 400);
    let (s, _) = app.call(&admin, "admin_member_action", &[("id", &boss), ("action", "role"), ("role", "member"), ("reason", "oops")]).await;
    assert_eq!(s, 400, "not one's own role");

    // Sign out everywhere.
    assert_eq!(act("end_sessions", vec![("reason", "lost phone".into())]).await.0, 200);
    assert_eq!(app.call(&again, "get_me", &[]).await.1, Value::Null, "the session ended");
    assert_eq!(last_audit().await.action, "user.end_sessions");

    // Every member's generations, filtered; a private one opens only with a reason, audited.
    let (_, rows) = app.call(&admin, "admin_generations", &[("member", "subject@example.com"), ("status", "queued")]).await;
    let job = rows["rows"][0]["id"].as_str().expect("the queued generation").to_string();
    assert_eq!((rows["rows"].as_array().unwrap().len(), rows["rows"][0]["visibility"].as_str()), (1, Some("private")));
    assert!(app.call(&admin, "admin_generations", &[("member", "nobody@example.com")]).await.1["rows"].as_array().unwrap().is_empty());
    assert_eq!(app.call(&admin, "admin_generations", &[("status", "sleeping")]).await.0, 400);
    let member = client();
    assert!(app.call(&member, "sign_in", &[("email", "subject@example.com"), ("password", "correct horse battery")]).await.0 < 400);
    assert_eq!(app.call(&member, "admin_generations", &[]).await.0, 403, "a moderator now, not an administrator");
    assert_eq!(app.call(&member, "admin_open_generation", &[("id", &job), ("reason", "curious")]).await.0, 403);
    let upload = format!("{}/media/{job}/upload", app.base);
    assert_eq!(admin.get(&upload).send().await.unwrap().status(), 404, "staff do not browse a member's private files");
    let (s, v) = app.call(&admin, "admin_open_generation", &[("id", &job)]).await;
    assert!(s == 400 && v.to_string().contains("reason"), "a private item needs a reason: {s} {v}");
    assert!(app.state.store.audit_entries(&format!("job:{job}"), 5).await.unwrap().iter().all(|e| e.action != "job.staff_view"), "nothing recorded");
    let (s, v) = app.call(&admin, "admin_open_generation", &[("id", &job), ("reason", "report #12 says it is abusive")]).await;
    assert_eq!((s, v), (200, json!(format!("/media/{job}/result"))));
    let seen = &app.state.store.audit_entries(&format!("job:{job}"), 1).await.unwrap()[0];
    assert_eq!((seen.action.as_str(), seen.reason.as_str(), seen.actor_id.as_deref()), ("job.staff_view", "report #12 says it is abusive", Some(boss.as_str())));
    assert_eq!(admin.get(&upload).send().await.unwrap().status(), 200, "opened with a reason");
    assert_eq!(member.get(&upload).send().await.unwrap().status(), 200, "its owner (a moderator now) sees their own");
    assert_eq!(app.call(&admin, "admin_open_generation", &[("id", "nope"), ("reason", "x")]).await.0, 404);

    // The pages render for the administrator.
    let html = admin.get(format!("{}/admin/members?q=subject", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-member=\"{me}\"")));
    let html = admin.get(format!("{}/admin/members/{me}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"member-actions\"") && html.contains(&format!("data-key=\"{key_id}\"")));
}

async fn audit_log_filters_pages_and_csv(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (member, admin, visitor) = (client(), client(), client());
    app.sign_up(&member, "audited@example.com").await;
    app.sign_up(&admin, "auditor@example.com").await;
    let (me, boss) = (user_id(&app, "audited@example.com").await, user_id(&app, "auditor@example.com").await);
    app.state.store.set_role(&boss, "admin").await.unwrap();
    // 55 renames, a restriction and its lifting, and a support answer that looks like a formula.
    for i in 0..55 {
        assert_eq!(app.call(&member, "set_display_name", &[("display_name", &format!("Name {i}"))]).await.0, 200);
    }
    assert_eq!(app.call(&member, "set_processing_restricted", &[("restrict", "on")]).await.0, 200);
    assert_eq!(app.call(&member, "set_processing_restricted", &[]).await.0, 200);
    let (_, reference) = app.call(&member, "submit_support", &[("topic", "other"), ("message", "Please audit this request.")]).await;
    let reference = reference.as_str().unwrap().to_string();
    assert_eq!(app.call(&admin, "answer_support", &[("id", &reference), ("answer", "=HYPERLINK(\"http://evil.test\")")]).await.0, 200);

    assert_eq!(app.call(&member, "admin_audit", &[]).await.0, 403);
    assert_eq!(app.call(&visitor, "admin_audit", &[]).await.0, 401);
    let page = |form: Vec<(&'static str, String)>| {
        let (app, admin) = (&app, &admin);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (s, v) = app.call(admin, "admin_audit", &form).await;
            assert_eq!(s, 200, "{v}");
            v
        }
    };
    let actions = |v: &Value| v["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    // A family, an exact action, an actor by address, a target.
    assert_eq!(actions(&page(vec![("action", "privacy".into())]).await), ["privacy.unrestrict", "privacy.restrict"], "newest first");
    let first = page(vec![("action", "account.rename".into())]).await;
    assert_eq!(first["rows"].as_array().unwrap().len(), 50, "a page");
    assert_eq!(first["rows"][0]["actor"], "audited@example.com");
    let older = page(vec![("action", "account.rename".into()), ("before", first["next"].as_str().unwrap().into())]).await;
    assert_eq!((older["rows"].as_array().unwrap().len(), &older["next"]), (5, &Value::Null), "the rest, then no more");
    let mine = page(vec![("actor", "Audited@Example.com".into()), ("target", format!("user:{me}"))]).await;
    assert_eq!(mine["rows"].as_array().unwrap().len(), 50);
    assert_eq!(actions(&page(vec![("actor", "auditor@example.com".into())]).await), ["support.answer"]);
    assert!(actions(&page(vec![("actor", "nobody@example.com".into())]).await).is_empty(), "an unknown address matches nothing");
    assert!(actions(&page(vec![("action", "privacy_".into())]).await).is_empty(), "`_` is not a wildcard");
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).date().to_string();
    assert!(actions(&page(vec![("from", tomorrow)]).await).is_empty());
    for (k, bad) in [("action", "DROP TABLE"), ("from", "yesterday")] {
        assert_eq!(app.call(&admin, "admin_audit", &[(k, bad)]).await.0, 400, "{k}={bad}");
    }

    // CSV: the same filters, every row (not a page), formulas defused; administrators only.
    let csv = |c: &reqwest::Client, q: &str| c.get(format!("{}/admin/audit.csv?{q}", app.base)).send();
    assert_eq!(csv(&member, "").await.unwrap().status(), 403);
    assert_eq!(csv(&visitor, "").await.unwrap().status(), 401);
    let r = csv(&admin, "action=account.rename").await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "time,actor_id,actor_email,action,target,reason");
    assert_eq!(lines.len(), 56, "all 55 rows");
    let answer = csv(&admin, "action=support.answer").await.unwrap().text().await.unwrap();
    assert!(answer.contains("\"'=HYPERLINK(\"\"http://evil.test\"\")\""), "{answer}");
    assert_eq!(csv(&admin, "from=nope").await.unwrap().status(), 400);

    // The page renders with its table for the administrator.
    let html = admin.get(format!("{}/admin/audit?action=privacy", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-action=\"privacy.restrict\""), "rendered without JavaScript");
}

/// Notices: administrators only; a published notice is a banner for every member (rendered in
/// the page's header) until they close it or it is withdrawn; marked for mail, every member
/// has it in their mail, once, even with two nodes mailing; audited.
async fn notices_banner_dismiss_mail_and_withdraw(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.media_url_secret = Some("notice-nodes".into());
    })
    .await;
    let (admin, member, other, visitor) = (client(), client(), client(), client());
    app.sign_up(&admin, "operator@example.com").await;
    app.state.store.set_role(&user_id(&app, "operator@example.com").await, "admin").await.unwrap();
    app.sign_up(&member, "reader@example.com").await;
    app.sign_up(&other, "other@example.com").await;
    for (c, status) in [(&member, 403), (&visitor, 401)] {
        assert_eq!(app.call(c, "admin_notices", &[]).await.0, status);
        assert_eq!(app.call(c, "publish_notice", &[("kind", "maintenance"), ("title", "x"), ("body", "y")]).await.0, status);
        assert_eq!(app.call(c, "withdraw_notice", &[("id", "x")]).await.0, status);
    }
    for form in [[("kind", "news"), ("title", "t"), ("body", "b")], [("kind", "maintenance"), ("title", " "), ("body", "b")], [("kind", "maintenance"), ("title", "t"), ("body", "")]] {
        assert_eq!(app.call(&admin, "publish_notice", &form).await.0, 400, "{form:?}");
    }

    // A banner-only notice, then one mailed too.
    assert_eq!(app.call(&admin, "publish_notice", &[("kind", "maintenance"), ("title", "Down on Sunday"), ("body", "From 02:00 to 03:00 UTC.")]).await.0, 200);
    let (s, v) = app.call(&admin, "publish_notice", &[("kind", "plan_change"), ("title", "Monthly plan changes"), ("body", "From March the monthly plan gives 500 credits."), ("mail", "on")]).await;
    assert_eq!(s, 200, "{v}");
    let titles = |v: &Value| v["notices"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(titles(&app.call(&member, "get_me", &[]).await.1), ["Monthly plan changes", "Down on Sunday"]);
    let page = member.get(format!("{}/gallery", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"notice-banner\"") && page.contains("From March the monthly plan gives 500 credits."), "in the rendered header");

    // Mailed to every member once (a second node racing for the same mailing sends nothing twice).
    let outbox = app.data_dir.join("outbox");
    let second = super::nodes::second_node(&app, move |c| {
        c.workers = 0;
        c.outbox_dir = outbox;
    })
    .await;
    let _ = server::darkroom_service::notices::mail_pending(&second.state).await.unwrap();
    for email in ["reader@example.com", "other@example.com", "operator@example.com"] {
        let mail = app.mail_with(email, "Monthly plan changes").await;
        assert!(mail.contains("From March the monthly plan gives 500 credits."), "{email}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server::darkroom_service::notices::mail_pending(&app.state).await.unwrap(), 0, "finished: nothing more to send");
    for email in ["reader@example.com", "other@example.com"] {
        assert_eq!(app.mails_to(email).iter().filter(|m| m.contains("Monthly plan changes")).count(), 1, "{email} mailed once");
        assert!(!app.mails_to(email).iter().any(|m| m.contains("Down on Sunday")), "the banner-only notice is not mailed");
    }

    // Closing is per member; withdrawing is for everyone.
    let (_, list) = app.call(&admin, "admin_notices", &[]).await;
    let id_of = |t: &str| list.as_array().unwrap().iter().find(|n| n["title"] == t).unwrap()["id"].as_str().unwrap().to_string();
    let (plan_id, down_id) = (id_of("Monthly plan changes"), id_of("Down on Sunday"));
    assert!(list.as_array().unwrap().iter().find(|n| n["title"] == "Monthly plan changes").unwrap()["mail_done_at"].is_i64());
    assert_eq!(app.call(&member, "dismiss_notice", &[("id", &plan_id)]).await.0, 200);
    assert_eq!(app.call(&member, "dismiss_notice", &[("id", &plan_id)]).await.0, 200, "again: no change");
    assert_eq!(app.call(&member, "dismiss_notice", &[("id", "nope")]).await.0, 404);
    assert_eq!(titles(&app.call(&member, "get_me", &[]).await.1), ["Down on Sunday"]);
    assert_eq!(titles(&app.call(&other, "get_me", &[]).await.1), ["Monthly plan changes", "Down on Sunday"], "others still see it");
    assert_eq!(app.call(&admin, "withdraw_notice", &[("id", &down_id)]).await.0, 200);
    assert_eq!(app.call(&admin, "withdraw_notice", &[("id", &down_id)]).await.0, 404, "once");
    assert_eq!(titles(&app.call(&other, "get_me", &[]).await.1), ["Monthly plan changes"]);
    let audit = app.state.store.audit_entries(&format!("notice:{down_id}"), 5).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["notice.withdraw", "notice.publish"]);
    let html = admin.get(format!("{}/admin/notices", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-notice=\"{plan_id}\"")), "rendered without JavaScript");
}

on_both!(audit_log_filters_pages_and_csv, members_search_record_and_staff_actions, notices_banner_dismiss_mail_and_withdraw);
