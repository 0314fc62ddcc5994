//! Support (seed rule: a support page every service points to): a visitor and a member write
//! in, receipts are mailed, an administrator sees the queue, answers (mailed to the address
//! the request came from) and closes, every move audited; anyone else is refused (403),
//! through the server functions directly. Limits per address; bad input is refused and
//! stores nothing.

use super::*;

async fn support_from_visitor_to_answer(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.support_rate_per_ip_per_hour = 4;
    })
    .await;
    let visitor = client();
    // Bad input: a clear error, nothing stored.
    for (email, topic, message, says) in [
        ("not-an-address", "billing", "Where are my credits, please?", "valid email"),
        ("visitor@example.com", "gossip", "Where are my credits, please?", "Choose what"),
        ("visitor@example.com", "billing", "short", "between 10 and 5000"),
    ] {
        let (s, v) = app.call(&visitor, "submit_support", &[("email", email), ("topic", topic), ("message", message)]).await;
        assert!(s == 400 && v.to_string().contains(says), "{s} {v}");
    }
    let (s, v) = app.call(&visitor, "submit_support", &[("email", "visitor@example.com")]).await;
    assert!(s == 400, "missing fields: a clear error: {s} {v}");
    assert!(app.state.store.support_requests(None, 10).await.unwrap().is_empty(), "nothing stored");

    // A visitor writes: stored open, a receipt in their mailbox.
    let (s, reference) = app.call(&visitor, "submit_support", &[("email", "Visitor@Example.com"), ("topic", "billing"), ("message", "I paid twice for the starter pack.")]).await;
    assert_eq!(s, 200, "{reference}");
    let reference = reference.as_str().unwrap().to_string();
    assert!(app.last_mail_to("visitor@example.com").await.contains(&reference), "the receipt names the reference");

    // A member writes: their account's address, whatever the form says; listed on their page.
    let member = client();
    app.sign_up(&member, "member@example.com").await;
    let (s, _) = app.call(&member, "submit_support", &[("email", "someone-else@example.com"), ("topic", "moderation"), ("message", "Please look at my strike again.")]).await;
    assert_eq!(s, 200);
    let (_, page) = app.call(&member, "support_page", &[]).await;
    assert_eq!((page["email"].as_str(), page["mine"].as_array().unwrap().len()), (Some("member@example.com"), 1), "{page}");
    assert_eq!(page["mine"][0]["topic"], "moderation");
    assert!(app.mails_to("someone-else@example.com").is_empty(), "no mail to the typed address");

    // Only administrators see and answer the queue.
    let (s, _) = app.call(&member, "admin_support", &[]).await;
    assert_eq!(s, 403);
    let (s, _) = app.call(&member, "answer_support", &[("id", &reference), ("answer", "Sure.")]).await;
    assert_eq!(s, 403);
    assert_eq!(app.call(&visitor, "close_support", &[("id", &reference)]).await.0, 401);
    let admin = client();
    app.sign_up(&admin, "staff@example.com").await;
    let staff = user_id(&app, "staff@example.com").await;
    app.state.store.set_role(&staff, "admin").await.unwrap();
    let (s, queue) = app.call(&admin, "admin_support", &[]).await;
    assert_eq!(s, 200, "{queue}");
    let open: Vec<&str> = queue.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(open.len(), 2, "both open, oldest first: {queue}");
    assert_eq!(open[0], reference);
    assert_eq!((queue[0]["from_member"].as_bool(), queue[1]["from_member"].as_bool()), (Some(false), Some(true)));

    // Answered: mailed to the visitor, with their message; audited; listed as answered.
    let (s, v) = app.call(&admin, "answer_support", &[("id", &reference), ("answer", "We refunded the second payment today.")]).await;
    assert_eq!(s, 200, "{v}");
    let mail = app.mail_with("visitor@example.com", "We refunded the second payment today.").await;
    assert!(mail.contains("I paid twice for the starter pack."), "the answer quotes the request");
    let (_, answered) = app.call(&admin, "admin_support", &[("status", "answered")]).await;
    assert_eq!(answered[0]["id"], reference.as_str());
    let audit = app.state.store.audit_entries(&format!("support:{reference}"), 10).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].actor_id.as_deref()), ("support.answer", Some(staff.as_str())));
    // Closed: audited, and a closed request takes no more answers or closes.
    assert_eq!(app.call(&admin, "close_support", &[("id", &reference)]).await.0, 200);
    let (s, v) = app.call(&admin, "answer_support", &[("id", &reference), ("answer", "One more thing.")]).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(app.call(&admin, "close_support", &[("id", &reference)]).await.0, 409);
    assert_eq!(app.state.store.audit_entries(&format!("support:{reference}"), 10).await.unwrap()[0].action, "support.close");
    assert_eq!(app.call(&admin, "answer_support", &[("id", "no-such-request"), ("answer", "Hello")]).await.0, 404);
    let (_, all) = app.call(&admin, "admin_support", &[("status", "all")]).await;
    assert_eq!(all.as_array().unwrap().len(), 2);

    // The page renders for a visitor (the form) and for the administrator (the queue).
    let html = visitor.get(format!("{}/support", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"support-form\"") && html.contains("data-testid=\"support-email\""));
    let html = admin.get(format!("{}/admin/support?status=all", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-request=\"{reference}\"")), "the queue lists it");

    // Limits: 4 per address per hour here (2 used), 3 per email address per hour.
    let (s, _) = app.call(&visitor, "submit_support", &[("email", "third@example.com"), ("topic", "other"), ("message", "A third request from here.")]).await;
    assert_eq!(s, 200);
    let (s, _) = app.call(&visitor, "submit_support", &[("email", "fourth@example.com"), ("topic", "other"), ("message", "A fourth request from here.")]).await;
    assert_eq!(s, 200);
    let (s, v) = app.call(&visitor, "submit_support", &[("email", "fifth@example.com"), ("topic", "other"), ("message", "A fifth request from here.")]).await;
    assert_eq!(s, 429, "{v}");
    assert_eq!(app.state.store.support_requests(None, 10).await.unwrap().len(), 4, "the refused one is not stored");

    // Deleting the member's account removes what they wrote.
    let (s, v) = app.call(&member, "delete_account", &[("password", "correct horse battery"), ("confirm", "DELETE")]).await;
    assert!(s < 400, "{s} {v}");
    let left: Vec<String> = app.state.store.support_requests(None, 10).await.unwrap().into_iter().map(|r| r.email).collect();
    assert!(!left.iter().any(|e| e == "member@example.com"), "{left:?}");
}

on_both!(support_from_visitor_to_answer);
