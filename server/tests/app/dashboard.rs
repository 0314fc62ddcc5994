//! The member's dashboard: `/` takes a member there (a visitor gets the landing page); its
//! balance, soonest expiry, jobs in progress, the chart's daily sums (equal to the ledger's
//! charges and refunds of the same day), subscriptions and API keys' spending against
//! their caps; rendered on the server with the chart inline.

use super::api::{api, b64, new_key, small_photo};
use super::*;

async fn dashboard_matches_the_ledger(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let (member, visitor) = (client(), client());
    app.sign_up(&member, "dash@example.com").await;
    let me = user_id(&app, "dash@example.com").await;
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    assert_eq!(no_redirect.get(format!("{}/", app.base)).send().await.unwrap().status(), 200, "a visitor lands on the home page");
    assert_eq!(app.call(&visitor, "dashboard", &[]).await.0, 401);

    // Empty: says what to do first.
    let (_, d) = app.call(&member, "dashboard", &[]).await;
    assert_eq!((d["balance"].as_i64(), d["spent"].as_i64(), d["next_expiry"].clone()), (Some(50), Some(0), Value::Null), "{d}");
    assert!(d["active"].as_array().unwrap().is_empty() && d["recent"].as_array().unwrap().is_empty());

    // Two generations on the page (queued: no worker), one through the API with a capped key,
    // one canceled (refunded), credits that expire.
    for key in ["d-1", "d-2"] {
        let (s, v) = app.submit(&member, sample("chelsea.png"), &[("rights", "on"), ("style", "3"), ("idempotency_key", key)]).await;
        assert!(s < 300, "{v}");
    }
    let (key_id, secret) = new_key(&app, &member, &[("cap_credits", "40"), ("cap_period", "day")]).await;
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "image": b64(&small_photo(64)), "style": 4 })), &[]).await;
    assert!(s < 300, "{v}");
    let (_, jobs) = app.call(&member, "list_jobs", &[]).await;
    let first = jobs.as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(app.call(&member, "cancel_job", &[("id", &first)]).await.0, 200);
    let soon = darkroom_store::now_ms() + 5 * 86_400_000;
    app.state.store.add_credits(&me, darkroom_store::ledger::Kind::Purchase, 7, "test lot", "lot-1", Some(soon)).await.unwrap();

    let (_, d) = app.call(&member, "dashboard", &[]).await;
    let entries = app.state.store.ledger(&me, 100).await.unwrap();
    let today = utc_day(darkroom_store::now_ms());
    let spent_today: i64 = entries.iter().filter(|e| (e.kind == "charge" || e.kind == "refund") && utc_day(e.created_at) == today).map(|e| -e.amount).sum();
    assert!(spent_today > 0);
    assert_eq!(d["spent"].as_i64(), Some(spent_today), "{d}");
    assert_eq!(d["balance"].as_i64(), Some(app.state.store.ledger_sum(&me).await.unwrap()));
    let date = server::darkroom_service::dashboard::date(today);
    let chart = d["chart"].as_str().unwrap();
    assert!(chart.contains(&format!("data-day=\"{date}\" data-credits=\"{spent_today}\"")), "{chart}");
    assert_eq!(chart.matches("<g data-day=").count(), 30, "30 days, empty ones too");
    assert_eq!(d["next_expiry"], json!([soon, 7]));
    assert_eq!(d["active"].as_array().unwrap().len(), 2, "the canceled one is not in progress");
    let key = &d["keys"][0];
    assert_eq!((key["cap"].as_i64(), key["period"].as_str()), (Some(40), Some("day")));
    let api_spent = app.state.store.api_key_spend(&key_id, today).await.unwrap();
    assert!(api_spent > 0);
    assert_eq!(key["spent"].as_i64(), Some(api_spent));
    assert!(d["plans"].as_array().unwrap().is_empty());

    // `/` takes the member to the dashboard, rendered on the server with its chart.
    let r = member.execute(member.get(format!("{}/", app.base)).build().unwrap()).await.unwrap();
    assert_eq!(r.url().path(), "/dashboard", "followed the redirect");
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"usage-chart\"") && html.contains(&format!("data-credits=\"{spent_today}\"")), "chart in the first response");
    assert!(html.contains("data-testid=\"dash-active\""));
}

/// The UTC day start of a time in milliseconds.
fn utc_day(ms: i64) -> i64 {
    server::darkroom_service::dashboard::day_of(ms)
}

on_both!(dashboard_matches_the_ledger);
