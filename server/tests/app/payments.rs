//! Payments (issue 4): checkouts against the local provider stand-in, signed webhooks
//! applied exactly once (10 concurrent deliveries), bad and stale signatures refused,
//! refunds taking back unspent credits, subscriptions, PayPal capture — on SQLite and
//! PostgreSQL. The invariant balance = sum of entries = sum of lots is checked throughout.

use super::standin::{self, StandIn, PAYPAL_CLIENT, PAYPAL_WEBHOOK_ID, STRIPE_KEY, STRIPE_WEBHOOK_SECRET};
use super::*;
use server::darkroom_service::payments::stripe;

async fn spawn_paying(b: Backend) -> (TestApp, StandIn) {
    let standin = standin::spawn().await;
    let base = standin.base.clone();
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.stripe_secret_key = Some(STRIPE_KEY.into());
        c.stripe_webhook_secret = Some(STRIPE_WEBHOOK_SECRET.into());
        c.stripe_api_base = base.clone();
        c.paypal_client_id = Some(PAYPAL_CLIENT.0.into());
        c.paypal_client_secret = Some(PAYPAL_CLIENT.1.into());
        c.paypal_webhook_id = Some(PAYPAL_WEBHOOK_ID.into());
        c.paypal_api_base = base;
    })
    .await;
    (app, standin)
}

/// A client that does not follow redirects (they lead to the providers' real sites).
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Posts the top-up form; returns the redirect target.
async fn checkout(app: &TestApp, c: &reqwest::Client, plan: &str, provider: &str) -> String {
    let r = c.post(format!("{}/payments/checkout", app.base)).form(&[("plan", plan), ("provider", provider)]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "checkout answers with a redirect");
    r.headers()["location"].to_str().unwrap().to_string()
}

fn now() -> i64 {
    darkroom_store::now_ms() / 1000
}

/// Delivers a Stripe event as Stripe would (signed now, unless `sig` is given).
async fn stripe_deliver(app: &TestApp, event: &Value, sig: Option<String>) -> (u16, String) {
    let body = serde_json::to_vec(event).unwrap();
    let sig = sig.unwrap_or_else(|| stripe::sign(&body, STRIPE_WEBHOOK_SECRET, now()));
    let r = client().post(format!("{}/payments/stripe/webhook", app.base)).header("stripe-signature", sig).header("content-type", "application/json").body(body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn stripe_deliver_10(app: &TestApp, event: &Value) {
    let all = futures::future::join_all((0..10).map(|_| stripe_deliver(app, event, None))).await;
    for (s, body) in all {
        assert_eq!(s, 200, "{body}");
    }
}

fn event(id: &str, kind: &str, object: Value) -> Value {
    json!({ "id": id, "object": "event", "api_version": "2025-03-31.basil", "created": now(), "livemode": false, "type": kind, "data": { "object": object } })
}

async fn assert_invariant(app: &TestApp, user: &str) -> i64 {
    let balance = app.state.store.user(user).await.unwrap().balance;
    assert_eq!(app.state.store.ledger_sum(user).await.unwrap(), balance, "balance = sum of entries");
    assert_eq!(app.state.store.lots_sum(user).await.unwrap(), balance, "balance = sum of lots");
    balance
}

async fn kinds(app: &TestApp, user: &str) -> Vec<(String, i64)> {
    app.state.store.ledger(user, 100).await.unwrap().into_iter().rev().map(|e| (e.kind, e.amount)).collect()
}

pub async fn payments_off_says_so(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let c = browser();
    app.sign_up(&c, "nopay@example.com").await;
    let (s, page) = app.call(&c, "billing_page", &[]).await;
    assert_eq!((s, &page["stripe"], &page["paypal"]), (200, &json!(false), &json!(false)), "{page}");
    assert_eq!(checkout(&app, &c, "starter", "stripe").await, "/credits/buy?error=invalid_request");
    let r = client().post(format!("{}/payments/stripe/webhook", app.base)).body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404, "no webhook endpoint without keys");
    let html = c.get(format!("{}/credits/buy", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Payments are off on this server"), "the page says so");
}

pub async fn stripe_package_paid_once_and_refunded(b: Backend) {
    let (app, standin) = spawn_paying(b).await;
    let c = browser();
    app.sign_up(&c, "buyer@example.com").await;
    let me = user_id(&app, "buyer@example.com").await;
    // Not signed in: sent to sign in; an unknown plan or a subscription via PayPal: an error.
    assert_eq!(checkout(&app, &browser(), "starter", "stripe").await, "/signin?next=/credits/buy", "back to the top-up page afterwards");
    assert_eq!(checkout(&app, &c, "nope", "stripe").await, "/credits/buy?error=invalid_request");
    assert_eq!(checkout(&app, &c, "monthly", "paypal").await, "/credits/buy?error=invalid_request");

    let to = checkout(&app, &c, "starter", "stripe").await;
    let session_id = standin.rec.lock().unwrap().session_order.last().unwrap().clone();
    assert_eq!(to, format!("https://checkout.stripe.com/c/pay/{session_id}"));
    let form = standin.rec.lock().unwrap().sessions[&session_id].clone();
    assert_eq!(form["mode"], "payment");
    assert_eq!((form["line_items[0][price_data][unit_amount]"].as_str(), form["line_items[0][price_data][currency]"].as_str()), ("500", "usd"));
    assert_eq!(form["customer_email"], "buyer@example.com");
    let payment_id = form["client_reference_id"].clone();
    assert!(form["success_url"].starts_with(&format!("{}/credits/buy?paid=", app.base)), "{form:?}");

    let session = json!({
        "id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete", "payment_status": "paid",
        "amount_total": 500, "currency": "usd", "client_reference_id": payment_id, "customer": "cus_standin1",
        "customer_details": { "email": "billing@example.com", "name": "Jenny Rosen" }, "payment_intent": "pi_standin1",
        "metadata": { "payment_id": payment_id },
    });
    let completed = event("evt_completed_1", "checkout.session.completed", session.clone());
    // Bad and stale signatures: 400, nothing applied.
    let body = serde_json::to_vec(&completed).unwrap();
    let (s, _) = stripe_deliver(&app, &completed, Some(stripe::sign(&body, "whsec_wrong", now()))).await;
    assert_eq!(s, 400);
    let (s, _) = stripe_deliver(&app, &completed, Some(stripe::sign(&body, STRIPE_WEBHOOK_SECRET, now() - 301))).await;
    assert_eq!(s, 400, "older than 5 minutes");
    let (s, _) = stripe_deliver(&app, &completed, Some("t=1,v1=zz".into())).await;
    assert_eq!(s, 400);
    assert_eq!(assert_invariant(&app, &me).await, 50, "nothing applied");
    assert_eq!(app.state.store.payment_event_outcome("stripe", "evt_completed_1").await.unwrap(), None);

    // The same event 10 times at once: credited once.
    stripe_deliver_10(&app, &completed).await;
    assert_eq!(assert_invariant(&app, &me).await, 150);
    // The same session completed again under another event id: still once.
    let (s, body) = stripe_deliver(&app, &event("evt_completed_1b", "checkout.session.completed", session), None).await;
    assert_eq!((s, body.contains("duplicate")), (200, true), "{body}");
    assert_eq!(kinds(&app, &me).await, vec![("grant".into(), 50), ("purchase".into(), 100)]);
    // Only what the SPEC allows is kept.
    let p = app.state.store.payment(darkroom_store::payments::PaymentRef::Id(&payment_id)).await.unwrap().unwrap();
    assert_eq!((p.status.as_str(), p.transaction_id.as_deref(), p.customer_id.as_deref(), p.billing_email.as_deref()), ("paid", Some("pi_standin1"), Some("cus_standin1"), Some("billing@example.com")));
    // The purchase's lot expires per the plan (365 days).
    let (_, page) = app.call(&c, "billing_page", &[("paid", &payment_id)]).await;
    assert_eq!(page["returned"], "paid", "{page}");
    assert_eq!(page["payments"][0]["amount"], "USD 5.00");

    // 30 credits spent (from the purchase: it expires, the grant does not); then a full refund
    // takes back the 70 still unspent.
    app.state.store.deduct(&me, 30, "spent", "spend-1").await.unwrap();
    let refunded = json!({ "id": "ch_standin1", "object": "charge", "amount": 500, "amount_refunded": 500, "currency": "usd", "payment_intent": "pi_standin1", "refunded": true, "status": "succeeded" });
    let bad = event("evt_refund_1", "charge.refunded", refunded.clone());
    let (s, _) = stripe_deliver(&app, &bad, Some(stripe::sign(&serde_json::to_vec(&bad).unwrap(), "whsec_wrong", now()))).await;
    assert_eq!(s, 400);
    stripe_deliver_10(&app, &event("evt_refund_1", "charge.refunded", refunded)).await;
    assert_eq!(assert_invariant(&app, &me).await, 50, "150 - 30 spent - 70 unspent taken back");
    assert_eq!(kinds(&app, &me).await.last().unwrap(), &("refund".to_string(), -70));
    let p = app.state.store.payment(darkroom_store::payments::PaymentRef::Id(&payment_id)).await.unwrap().unwrap();
    assert_eq!((p.status.as_str(), p.refunded_minor), ("refunded", 500));

    // A partial refund takes back its share; the rest later takes the remainder.
    checkout(&app, &c, "studio", "stripe").await;
    let sid = standin.rec.lock().unwrap().session_order.last().unwrap().clone();
    let pid = standin.rec.lock().unwrap().sessions[&sid]["client_reference_id"].clone();
    let session = json!({ "id": sid, "object": "checkout.session", "mode": "payment", "payment_status": "paid", "amount_total": 2000, "currency": "usd", "client_reference_id": pid, "payment_intent": "pi_standin2", "customer": "cus_standin1", "customer_details": { "email": "billing@example.com" } });
    stripe_deliver_10(&app, &event("evt_completed_2", "checkout.session.completed", session)).await;
    assert_eq!(assert_invariant(&app, &me).await, 550);
    let charge = |refunded: i64| json!({ "id": "ch_standin2", "object": "charge", "amount": 2000, "amount_refunded": refunded, "currency": "usd", "payment_intent": "pi_standin2" });
    stripe_deliver(&app, &event("evt_refund_2a", "charge.refunded", charge(1000)), None).await;
    assert_eq!(assert_invariant(&app, &me).await, 300, "half refunded: 250 of 500 taken back");
    stripe_deliver(&app, &event("evt_refund_2b", "charge.refunded", charge(2000)), None).await;
    assert_eq!(assert_invariant(&app, &me).await, 50);
    // An amount that does not match the payment is not credited.
    checkout(&app, &c, "starter", "stripe").await;
    let sid = standin.rec.lock().unwrap().session_order.last().unwrap().clone();
    let wrong = json!({ "id": sid, "object": "checkout.session", "mode": "payment", "payment_status": "paid", "amount_total": 1, "currency": "usd", "payment_intent": "pi_standin3" });
    let (_, body) = stripe_deliver(&app, &event("evt_wrong_amount", "checkout.session.completed", wrong), None).await;
    assert!(body.contains("ignored"), "{body}");
    assert_eq!(assert_invariant(&app, &me).await, 50);

    // The payments console: administrators only; filters by status, provider and member; the
    // providers' ids and the refunds seen.
    assert_eq!(app.call(&c, "admin_payments", &[]).await.0, 403);
    let boss = browser();
    app.sign_up(&boss, "cashier@example.com").await;
    app.state.store.set_role(&user_id(&app, "cashier@example.com").await, "admin").await.unwrap();
    let (s, all) = app.call(&boss, "admin_payments", &[]).await;
    assert_eq!(s, 200, "{all}");
    let statuses: Vec<&str> = all["rows"].as_array().unwrap().iter().map(|r| r["payment"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["created", "refunded", "refunded"], "newest first, the unpaid checkout too");
    let (_, refunded) = app.call(&boss, "admin_payments", &[("status", "refunded"), ("provider", "stripe"), ("member", "buyer@example.com")]).await;
    let first = &refunded["rows"][1];
    assert_eq!((first["payment"]["id"].as_str(), first["refunded"].as_str(), first["credits_revoked"].as_i64()), (Some(payment_id.as_str()), Some("USD 5.00"), Some(100)), "{refunded}");
    assert_eq!(first["payment"]["transaction_id"], "pi_standin1");
    assert!(app.call(&boss, "admin_payments", &[("provider", "paypal")]).await.1["rows"].as_array().unwrap().is_empty());
    assert!(app.call(&boss, "admin_payments", &[("member", "nobody@example.com")]).await.1["rows"].as_array().unwrap().is_empty());
    assert_eq!(app.call(&boss, "admin_payments", &[("status", "stolen")]).await.0, 400);
    let html = boss.get(format!("{}/admin/payments?status=refunded", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-payment=\"{payment_id}\"")), "rendered without JavaScript");
}

pub async fn stripe_subscription_grants_monthly(b: Backend) {
    let (app, standin) = spawn_paying(b).await;
    let c = browser();
    app.sign_up(&c, "sub@example.com").await;
    let me = user_id(&app, "sub@example.com").await;
    checkout(&app, &c, "monthly", "stripe").await;
    let sid = standin.rec.lock().unwrap().session_order.last().unwrap().clone();
    let form = standin.rec.lock().unwrap().sessions[&sid].clone();
    assert_eq!((form["mode"].as_str(), form["line_items[0][price_data][recurring][interval]"].as_str()), ("subscription", "month"));
    let pid = form["subscription_data[metadata][payment_id]"].clone();
    // The first invoice may arrive before the checkout's event (current API shape: under `parent`).
    let invoice = |id: &str, new_shape: bool| {
        let mut inv = json!({ "id": id, "object": "invoice", "customer": "cus_sub", "customer_email": "sub@example.com", "amount_paid": 1000, "currency": "usd", "status": "paid" });
        if new_shape {
            inv["parent"] = json!({ "type": "subscription_details", "subscription_details": { "subscription": "sub_standin1", "metadata": { "payment_id": pid } } });
        } else {
            inv["subscription"] = json!("sub_standin1");
        }
        inv
    };
    stripe_deliver_10(&app, &event("evt_inv_1", "invoice.paid", invoice("in_1", true))).await;
    assert_eq!(assert_invariant(&app, &me).await, 450);
    let session = json!({ "id": sid, "object": "checkout.session", "mode": "subscription", "payment_status": "paid", "amount_total": 1000, "currency": "usd", "subscription": "sub_standin1", "customer": "cus_sub", "customer_details": { "email": "sub@example.com" } });
    stripe_deliver_10(&app, &event("evt_sub_completed", "checkout.session.completed", session)).await;
    assert_eq!(assert_invariant(&app, &me).await, 450, "starting the subscription adds nothing by itself");
    // The next month (older API shape): another 400; a replay of it nothing.
    stripe_deliver_10(&app, &event("evt_inv_2", "invoice.paid", invoice("in_2", false))).await;
    stripe_deliver(&app, &event("evt_inv_2_again", "invoice.paid", invoice("in_2", false)), None).await;
    assert_eq!(assert_invariant(&app, &me).await, 850);
    assert_eq!(kinds(&app, &me).await.iter().filter(|(k, _)| k == "subscription_grant").count(), 2);
    let (_, page) = app.call(&c, "billing_page", &[]).await;
    assert_eq!(page["subscriptions"][0]["status"], "active", "{page}");
    stripe_deliver(&app, &event("evt_sub_deleted", "customer.subscription.deleted", json!({ "id": "sub_standin1", "object": "subscription", "status": "canceled" })), None).await;
    let (_, page) = app.call(&c, "billing_page", &[]).await;
    assert_eq!(page["subscriptions"][0]["status"], "canceled");
    assert_eq!(assert_invariant(&app, &me).await, 850, "credits already granted stay");
}

fn paypal_headers(event: &Value, time: &str, sig: Option<&str>) -> reqwest::header::HeaderMap {
    let id = format!("tx-{}", darkroom_store::new_id());
    let sig = sig.map(str::to_string).unwrap_or_else(|| standin::paypal_sig(&id, time, PAYPAL_WEBHOOK_ID, event));
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in [
        ("paypal-transmission-id", id.as_str()),
        ("paypal-transmission-time", time),
        ("paypal-transmission-sig", sig.as_str()),
        ("paypal-cert-url", "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-standin"),
        ("paypal-auth-algo", "SHA256withRSA"),
    ] {
        h.insert(k, v.parse().unwrap());
    }
    h
}

fn rfc3339(secs: i64) -> String {
    server::darkroom_service::api::rfc3339(secs * 1000)
}

async fn paypal_deliver(app: &TestApp, event: &Value, headers: reqwest::header::HeaderMap) -> (u16, String) {
    let r = client().post(format!("{}/payments/paypal/webhook", app.base)).headers(headers).json(event).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn capture_event(id: &str, capture: &str, payment_id: &str, order: &str) -> Value {
    json!({
        "id": id, "event_version": "1.0", "create_time": rfc3339(now()), "resource_type": "capture", "resource_version": "2.0",
        "event_type": "PAYMENT.CAPTURE.COMPLETED", "summary": "Payment completed for $ 5.0 USD",
        "resource": { "id": capture, "status": "COMPLETED", "amount": { "currency_code": "USD", "value": "5.00" }, "final_capture": true,
            "custom_id": payment_id, "supplementary_data": { "related_ids": { "order_id": order } } },
    })
}

pub async fn paypal_order_captured_once_and_refunded(b: Backend) {
    let (app, standin) = spawn_paying(b).await;
    let c = browser();
    app.sign_up(&c, "pp@example.com").await;
    let me = user_id(&app, "pp@example.com").await;
    // Order → approval page → back to us: captured and credited; coming back again changes nothing.
    let to = checkout(&app, &c, "starter", "paypal").await;
    let order = standin.rec.lock().unwrap().order_ids.last().unwrap().clone();
    assert_eq!(to, format!("https://www.paypal.com/checkoutnow?token={order}"));
    let body = standin.rec.lock().unwrap().orders[&order].clone();
    assert_eq!(body["purchase_units"][0]["amount"], json!({ "currency_code": "USD", "value": "5.00" }));
    let payment_id = body["purchase_units"][0]["custom_id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let r = c.get(format!("{}/payments/paypal/return?token={order}&PayerID=QYR5Z8XDVJNXQ", app.base)).send().await.unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/credits/buy?paid={payment_id}"));
    }
    assert_eq!(assert_invariant(&app, &me).await, 150);
    // Its webhook, 10 times at once, after the capture answer credited it: nothing more.
    let capture = standin::capture_id(&order);
    let ev = capture_event("WH-CAPTURE-1", &capture, &payment_id, &order);
    let all = futures::future::join_all((0..10).map(|_| paypal_deliver(&app, &ev, paypal_headers(&ev, &rfc3339(now()), None)))).await;
    assert!(all.iter().all(|(s, _)| *s == 200), "{all:?}");
    assert_eq!(assert_invariant(&app, &me).await, 150);
    let p = app.state.store.payment(darkroom_store::payments::PaymentRef::Id(&payment_id)).await.unwrap().unwrap();
    assert_eq!((p.transaction_id.as_deref(), p.customer_id.as_deref(), p.billing_email.as_deref()), (Some(capture.as_str()), Some("QYR5Z8XDVJNXQ"), Some("buyer@example.com")));

    // A second order paid only through the webhook (the buyer never came back): once, of 10.
    checkout(&app, &c, "starter", "paypal").await;
    let order2 = standin.rec.lock().unwrap().order_ids.last().unwrap().clone();
    let pid2 = standin.rec.lock().unwrap().orders[&order2]["purchase_units"][0]["custom_id"].as_str().unwrap().to_string();
    let ev2 = capture_event("WH-CAPTURE-2", "CAPTURE2", &pid2, &order2);
    // Bad signature, stale time: 400, nothing applied (a stale one is refused before asking PayPal).
    let (s, _) = paypal_deliver(&app, &ev2, paypal_headers(&ev2, &rfc3339(now()), Some("bm90IGEgc2lnbmF0dXJl"))).await;
    assert_eq!(s, 400);
    let calls = standin.rec.lock().unwrap().verify_calls;
    let (s, _) = paypal_deliver(&app, &ev2, paypal_headers(&ev2, &rfc3339(now() - 301), None)).await;
    assert_eq!(s, 400);
    assert_eq!(standin.rec.lock().unwrap().verify_calls, calls, "stale: PayPal not asked");
    let mut tampered = ev2.clone();
    tampered["resource"]["amount"]["value"] = json!("500.00");
    let (s, _) = paypal_deliver(&app, &tampered, paypal_headers(&ev2, &rfc3339(now()), None)).await;
    assert_eq!(s, 400, "signed for another body");
    assert_eq!(assert_invariant(&app, &me).await, 150);
    let all = futures::future::join_all((0..10).map(|_| paypal_deliver(&app, &ev2, paypal_headers(&ev2, &rfc3339(now()), None)))).await;
    assert!(all.iter().all(|(s, _)| *s == 200), "{all:?}");
    assert_eq!(assert_invariant(&app, &me).await, 250);

    // A refund of the first capture takes back what is unspent of it.
    app.state.store.deduct(&me, 120, "spent", "spend-pp").await.unwrap();
    let refund = json!({
        "id": "WH-REFUND-1", "event_version": "1.0", "resource_type": "refund", "event_type": "PAYMENT.CAPTURE.REFUNDED",
        "resource": { "id": "1JU08902781691411", "status": "COMPLETED", "amount": { "currency_code": "USD", "value": "5.00" },
            "links": [ { "href": format!("https://api.paypal.com/v2/payments/refunds/1JU08902781691411"), "rel": "self", "method": "GET" },
                       { "href": format!("https://api.paypal.com/v2/payments/captures/{capture}"), "rel": "up", "method": "GET" } ] },
    });
    let all = futures::future::join_all((0..10).map(|_| paypal_deliver(&app, &refund, paypal_headers(&refund, &rfc3339(now()), None)))).await;
    assert!(all.iter().all(|(s, _)| *s == 200), "{all:?}");
    // Both purchases expire in 365 days; the 120 spent came from the older first (100) and 20 of the second.
    assert_eq!(assert_invariant(&app, &me).await, 130, "the first purchase's lot was empty: nothing to take back");
    let p = app.state.store.payment(darkroom_store::payments::PaymentRef::Id(&payment_id)).await.unwrap().unwrap();
    assert_eq!(p.status, "refunded");
}

pub async fn admins_edit_the_catalogue(b: Backend) {
    let (app, _standin) = spawn_paying(b).await;
    let (c, admin) = (browser(), browser());
    app.sign_up(&c, "member@example.com").await;
    app.sign_up(&admin, "root@example.com").await;
    let plan = [("id", ""), ("kind", "package"), ("name", "Mega"), ("credits", "2000"), ("price", "49.90"), ("currency", "eur"), ("lot_days", ""), ("position", "9")];
    assert_eq!(app.call(&c, "save_plan", &plan).await.0, 403, "members cannot");
    app.state.store.set_role(&user_id(&app, "root@example.com").await, "admin").await.unwrap();
    let (s, v) = app.call(&admin, "save_plan", &plan).await;
    assert_eq!((s, &v["price"], &v["currency"], &v["lot_days"]), (200, &json!("49.90"), &json!("EUR"), &Value::Null), "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (s, v) = app.call(&admin, "save_plan", &[("id", "starter"), ("kind", "package"), ("name", "Starter"), ("credits", "100"), ("price", "5,00"), ("currency", "usd"), ("lot_days", "365"), ("position", "1")]).await;
    assert_eq!(s, 400, "a malformed price is refused: {v}");
    let (_, page) = app.call(&c, "billing_page", &[]).await;
    let names: Vec<&str> = page["plans"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Starter", "Studio", "Monthly", "Mega"]);
    // Archived: no longer offered or buyable.
    let (s, _) = app.call(&admin, "save_plan", &[("id", id.as_str()), ("kind", "package"), ("name", "Mega"), ("credits", "2000"), ("price", "49.90"), ("currency", "eur"), ("lot_days", ""), ("position", "9"), ("archived", "on")]).await;
    assert_eq!(s, 200);
    let (_, page) = app.call(&c, "billing_page", &[]).await;
    assert_eq!(page["plans"].as_array().unwrap().len(), 3);
    assert_eq!(checkout(&app, &c, &id, "stripe").await, "/credits/buy?error=invalid_request");
    let audit = app.state.store.audit_entries(&id, 10).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "plans.save").count(), 2, "{audit:?}");
}

/// The public pricing page: anyone sees each template's price, the sign-up grant and the
/// plans on sale (none while payments are off); a visitor's buttons sign in first and come
/// back to the top-up page, a member's go there at once. Sign-in follows only paths of this
/// site.
pub async fn pricing_for_visitors_and_members(b: Backend) {
    let off = spawn_app(b, |c| c.workers = 0).await;
    let visitor = browser();
    let (s, p) = off.call(&visitor, "pricing", &[]).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!((&p["plans"], &p["signed_in"], p["signup_grant"].as_i64()), (&json!([]), &json!(false), Some(off.state.config.signup_grant)));
    let catalogue = server::darkroom_service::templates::catalogue(&off.state).await.unwrap();
    assert!(!catalogue.is_empty());
    let listed: Vec<(String, i64)> = p["templates"].as_array().unwrap().iter().map(|t| (t["name"].as_str().unwrap().to_string(), t["cost"].as_i64().unwrap())).collect();
    assert_eq!(listed, catalogue.iter().map(|t| (t.name.clone(), t.cost)).collect::<Vec<_>>(), "every offered template, its price, in order");
    let html = visitor.get(format!("{}/pricing", off.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"pricing-none\"") && html.contains(&catalogue[0].name), "rendered without JavaScript");

    let (app, _standin) = spawn_paying(b).await;
    let (_, p) = app.call(&visitor, "pricing", &[]).await;
    let plans: Vec<&str> = p["plans"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert!(plans.contains(&"starter") && plans.contains(&"monthly"), "{plans:?}");
    let html = visitor.get(format!("{}/pricing", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("href=\"/signin?next=/credits/buy\"") && !html.contains("pricing-buy"), "a visitor signs in first");
    let member = browser();
    app.sign_up(&member, "pricing@example.com").await;
    let html = member.get(format!("{}/pricing", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"pricing-buy\"") && !html.contains("pricing-sign-in"), "a member goes to the top-up page");

    // Signing in comes back to `next` when it is a path of this site, else to the create page.
    for (next, to) in [("/credits/buy", "/credits/buy"), ("//evil.test/x", "/create"), ("https://evil.test/", "/create"), ("/\\evil.test", "/create")] {
        let r = browser()
            .post(format!("{}/api/sign_in", app.base))
            .form(&[("email", "pricing@example.com"), ("password", "correct horse battery"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers().get("location").and_then(|l| l.to_str().ok()), Some(to), "next={next}");
    }
}

on_both!(payments_off_says_so, stripe_package_paid_once_and_refunded, stripe_subscription_grants_monthly, paypal_order_captured_once_and_refunded, admins_edit_the_catalogue, pricing_for_visitors_and_members);
