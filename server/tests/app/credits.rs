//! Credits pages (issue 4, first part): the ledger page's filters and pages, the CSV export,
//! and an administrator's audited adjustment — on SQLite and PostgreSQL.

use super::*;

pub async fn ledger_page_csv_and_admin_adjustments(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (c, admin) = (client(), client());
    app.sign_up(&c, "ledger@example.com").await;
    app.sign_up(&admin, "boss@example.com").await;
    let me = user_id(&app, "ledger@example.com").await;
    // A member cannot adjust credits.
    let (s, _) = app.call(&c, "admin_adjust_credits", &[("email", "ledger@example.com"), ("amount", "100"), ("reason", "me"), ("key", "k0")]).await;
    assert_eq!(s, 403);
    app.state.store.set_role(&user_id(&app, "boss@example.com").await, "admin").await.unwrap();
    // The admin adds 10 with a reason (audited), once per form key; a deduction beyond the balance is refused.
    let form = [("email", "Ledger@Example.com"), ("amount", "10"), ("reason", "=goodwill, after outage"), ("key", "k1")];
    let (s, v) = app.call(&admin, "admin_adjust_credits", &form).await;
    assert_eq!((s, v.as_i64()), (200, Some(60)), "{v}");
    let (s, v) = app.call(&admin, "admin_adjust_credits", &form).await;
    assert_eq!((s, v.as_i64()), (200, Some(60)), "the same form again changes nothing");
    let (s, _) = app.call(&admin, "admin_adjust_credits", &[("email", "ledger@example.com"), ("amount", "-61"), ("reason", "too much"), ("key", "k2")]).await;
    assert_eq!(s, 402);
    let (s, _) = app.call(&admin, "admin_adjust_credits", &[("email", "ledger@example.com"), ("amount", "-5"), ("reason", ""), ("key", "k3")]).await;
    assert_eq!(s, 400, "a reason is required");
    let (s, v) = app.call(&admin, "admin_adjust_credits", &[("email", "ledger@example.com"), ("amount", "-5"), ("reason", "correction"), ("key", "k4")]).await;
    assert_eq!((s, v.as_i64()), (200, Some(55)));
    let audit = app.state.store.audit_entries(&me, 10).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "credits.adjust").count(), 2, "{audit:?}");
    let events = app.state.store.security_events(&me, 10).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "admin_action").count(), 2, "the member sees admin actions: {events:?}");
    assert_eq!(app.state.store.ledger_sum(&me).await.unwrap(), 55);
    assert_eq!(app.state.store.lots_sum(&me).await.unwrap(), 55);

    // The member's page: all entries, then only adjustments; a bad kind is refused.
    let (_, page) = app.call(&c, "ledger_page", &[]).await;
    assert_eq!((page["balance"].as_i64(), page["entries"].as_array().unwrap().len()), (Some(55), 3), "{page}");
    assert_eq!(page["admin"], false);
    let (_, adj) = app.call(&c, "ledger_page", &[("kind", "adjustment")]).await;
    let amounts: Vec<i64> = adj["entries"].as_array().unwrap().iter().map(|e| e["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, vec![-5, 10]);
    assert_eq!(app.call(&c, "ledger_page", &[("kind", "bonus")]).await.0, 400);
    let (_, none) = app.call(&c, "ledger_page", &[("from", "2000-01-01"), ("to", "2000-01-02")]).await;
    assert_eq!(none["entries"].as_array().unwrap().len(), 0);

    // CSV: a header and one row per entry, newest first; formula-looking text defused.
    let r = c.get(format!("{}/credits/ledger.csv", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "time,kind,amount,balance_after,reason,generation");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains(",adjustment,-5,55,correction,"), "{csv}");
    assert!(lines[2].contains(",adjustment,10,60,\"'=goodwill, after outage\","), "{csv}");
    assert!(lines[3].contains(",grant,50,50,sign-up grant,"), "{csv}");
    let only = c.get(format!("{}/credits/ledger.csv?kind=grant", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(only.lines().count(), 2);
    assert_eq!(client().get(format!("{}/credits/ledger.csv", app.base)).send().await.unwrap().status().as_u16(), 401);
}

on_both!(ledger_page_csv_and_admin_adjustments);
