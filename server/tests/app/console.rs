//! The operator's console: the audit log for administrators, filtered by actor, action
//! (or family), target and dates, in keyset pages, and the same rows as CSV; refused to
//! members (403) and visitors (401), through the server function and the CSV route alike.

use super::*;

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

on_both!(audit_log_filters_pages_and_csv);
