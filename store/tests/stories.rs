//! Store stories, each run on a fresh SQLite file AND a fresh PostgreSQL database.

use darkroom_store::jobs::{JobOutput, NewJob};
use darkroom_store::testing::fresh_store;
use darkroom_store::uploads::Upload;
use darkroom_store::users::NewUser;
use darkroom_store::{new_id, Backend, Store, StoreError};

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(darkroom_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(darkroom_store::Backend::Postgres).await } )* }
    };
}

on_both!(
    signup_grants_once_and_emails_are_unique,
    concurrent_submissions_never_overdraw,
    idempotency_key_returns_first_job_charged_once,
    lease_lapse_lets_another_worker_finish_exactly_once,
    failure_refunds_rejection_does_not_cancel_refunds,
    jobs_and_uploads_are_scoped_to_their_owner,
    events_replay_after_an_id,
    pruned_events_leave_a_horizon,
);

async fn member(store: &Store, email: &str, grant: i64) -> String {
    store
        .create_user(NewUser { email, password_hash: "x", display_name: "M", role: "member", terms_version: "1", signup_grant: grant })
        .await
        .unwrap()
        .id
}

async fn upload(store: &Store, user: &str) -> String {
    let id = new_id();
    let u = Upload {
        id: id.clone(), user_id: user.into(), object_key: format!("uploads/{id}.png"), content_hash: "00".into(),
        mime: "image/png".into(), bytes: 1, width: 64, height: 64, created_at: 0,
    };
    store.insert_upload(&u).await.unwrap();
    id
}

fn job<'a>(user: &'a str, upload: &'a str, key: &'a str, cost: i64) -> NewJob<'a> {
    NewJob { user_id: user, upload_id: upload, mode: "image_to_image", params: "{}", cost, visibility: "private", idempotency_key: key }
}

async fn assert_ledger_consistent(store: &Store, user: &str) {
    let u = store.user(user).await.unwrap();
    assert_eq!(store.ledger_sum(user).await.unwrap(), u.balance, "balance = sum of ledger entries");
    assert!(u.balance >= 0);
}

async fn signup_grants_once_and_emails_are_unique(b: Backend) {
    let store = fresh_store(b).await;
    let id = member(&store, "Ann@Example.com ", 25).await;
    let u = store.user_by_email("ann@example.COM").await.unwrap().unwrap();
    assert_eq!((u.id.as_str(), u.balance, u.email.as_str()), (id.as_str(), 25, "ann@example.com"));
    let dup = store
        .create_user(NewUser { email: "ANN@example.com", password_hash: "x", display_name: "B", role: "member", terms_version: "1", signup_grant: 25 })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    assert_eq!(store.grant(&id, 5, "admin", "k1").await.unwrap(), 30);
    assert_eq!(store.grant(&id, 5, "admin", "k1").await.unwrap(), 30, "same key grants once");
    assert_eq!(store.ledger(&id, 10).await.unwrap().len(), 2);
    assert_ledger_consistent(&store, &id).await;
}

async fn concurrent_submissions_never_overdraw(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "c@example.com", 30).await;
    let up = upload(&store, &user).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (store, user, up) = (store.clone(), user.clone(), up.clone());
        tasks.push(tokio::spawn(async move { store.create_job(job(&user, &up, &format!("k{i}"), 3)).await }));
    }
    let (mut ok, mut broke) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok((_, true)) => ok += 1,
            Err(StoreError::InsufficientCredits { .. }) => broke += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, broke), (10, 40), "balance 30 covers exactly 10 jobs of 3");
    assert_eq!(store.jobs_for_user(&user, None, None, 100).await.unwrap().len(), 10);
    assert_eq!(store.user(&user).await.unwrap().balance, 0);
    assert_ledger_consistent(&store, &user).await;
}

async fn idempotency_key_returns_first_job_charged_once(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "i@example.com", 10).await;
    let up = upload(&store, &user).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, user, up) = (store.clone(), user.clone(), up.clone());
        tasks.push(tokio::spawn(async move { store.create_job(job(&user, &up, "same", 2)).await.unwrap() }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for t in tasks {
        let (j, new) = t.await.unwrap();
        ids.insert(j.id);
        created += new as i32;
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(store.user(&user).await.unwrap().balance, 8);
    assert_ledger_consistent(&store, &user).await;
}

async fn lease_lapse_lets_another_worker_finish_exactly_once(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "l@example.com", 10).await;
    let up = upload(&store, &user).await;
    let (j, _) = store.create_job(job(&user, &up, "a", 1)).await.unwrap();
    let first = store.claim_job("w1", 50).await.unwrap().unwrap();
    assert_eq!((first.id.as_str(), first.status.as_str(), first.attempts), (j.id.as_str(), "running", 1));
    assert!(store.claim_job("w2", 50).await.unwrap().is_none(), "leased job is not claimed twice");
    tokio::time::sleep(std::time::Duration::from_millis(80)).await;
    let second = store.claim_job("w2", 60_000).await.unwrap().unwrap();
    assert_eq!((second.id.as_str(), second.attempts), (j.id.as_str(), 2));
    let out = JobOutput { result_key: "r", thumb_key: "t", result_hash: "h", width: 1, height: 1 };
    assert!(!store.job_progress(&j.id, "w1", 50, 1000).await.unwrap(), "stale worker is told to stop");
    assert!(!store.complete_job(&j.id, "w1", &out).await.unwrap(), "stale worker cannot complete");
    assert!(store.complete_job(&j.id, "w2", &out).await.unwrap());
    assert!(!store.complete_job(&j.id, "w2", &out).await.unwrap(), "completes once");
    let done = store.job(&j.id, &user).await.unwrap();
    assert_eq!((done.status.as_str(), done.result_key.as_deref()), ("succeeded", Some("r")));
    assert_eq!(store.user(&user).await.unwrap().balance, 9, "charged once");
    assert_ledger_consistent(&store, &user).await;
}

async fn failure_refunds_rejection_does_not_cancel_refunds(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "f@example.com", 10).await;
    let up = upload(&store, &user).await;
    let (a, _) = store.create_job(job(&user, &up, "a", 2)).await.unwrap();
    let (r, _) = store.create_job(job(&user, &up, "r", 3)).await.unwrap();
    let (c, _) = store.create_job(job(&user, &up, "c", 4)).await.unwrap();
    assert_eq!(store.user(&user).await.unwrap().balance, 1);
    let got = store.claim_job("w", 60_000).await.unwrap().unwrap();
    assert_eq!(got.id, a.id, "oldest first");
    assert!(store.fail_job(&a.id, "w", "failed", "technical failure", true).await.unwrap());
    assert!(!store.fail_job(&a.id, "w", "failed", "again", true).await.unwrap(), "refunded once");
    let got = store.claim_job("w", 60_000).await.unwrap().unwrap();
    assert_eq!(got.id, r.id);
    assert!(store.fail_job(&r.id, "w", "rejected", "sexual content", true).await.unwrap());
    let canceled = store.cancel_job(&c.id, &user).await.unwrap();
    assert_eq!(canceled.status, "canceled");
    assert!(matches!(store.cancel_job(&c.id, &user).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.user(&user).await.unwrap().balance, 1 + 2 + 4, "failure and cancel refunded, rejection not");
    let kinds: Vec<String> = store.ledger(&user, 20).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "refund").count(), 2);
    assert_ledger_consistent(&store, &user).await;
}

async fn jobs_and_uploads_are_scoped_to_their_owner(b: Backend) {
    let store = fresh_store(b).await;
    let ann = member(&store, "ann@example.com", 10).await;
    let bob = member(&store, "bob@example.com", 10).await;
    let up = upload(&store, &ann).await;
    assert!(matches!(store.upload(&up, &bob).await, Err(StoreError::NotFound)));
    assert!(matches!(store.create_job(job(&bob, &up, "x", 1)).await, Err(StoreError::NotFound)), "cannot use another's upload");
    assert_eq!(store.user(&bob).await.unwrap().balance, 10, "nothing charged");
    let (j, _) = store.create_job(job(&ann, &up, "x", 1)).await.unwrap();
    assert!(matches!(store.job(&j.id, &bob).await, Err(StoreError::NotFound)));
    assert!(matches!(store.cancel_job(&j.id, &bob).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_job(&j.id, &bob).await, Err(StoreError::NotFound)));
    assert!(store.jobs_for_user(&bob, None, None, 10).await.unwrap().is_empty());
}

async fn events_replay_after_an_id(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "e@example.com", 10).await;
    let up = upload(&store, &user).await;
    let mut rx = store.subscribe_changes();
    let (j, _) = store.create_job(job(&user, &up, "a", 1)).await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), user);
    store.claim_job("w", 60_000).await.unwrap();
    store.job_progress(&j.id, "w", 40, 60_000).await.unwrap();
    let all = store.events_after(&user, 0, 100).await.unwrap();
    assert_eq!(all.len(), 4, "job queued, balance, running, progress");
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    let after = store.events_after(&user, all[1].id, 100).await.unwrap();
    assert_eq!(after, all[2..].to_vec());
    assert_eq!(store.last_event_id(&user).await.unwrap(), all[3].id);
    let p: serde_json::Value = serde_json::from_str(&all[3].payload).unwrap();
    assert_eq!((p["status"].as_str(), p["progress"].as_i64()), (Some("running"), Some(40)));
}

async fn pruned_events_leave_a_horizon(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "p@example.com", 10).await;
    let other = member(&store, "q@example.com", 10).await;
    let up = upload(&store, &user).await;
    store.create_job(job(&user, &up, "a", 1)).await.unwrap();
    let before = store.events_after(&user, 0, 100).await.unwrap();
    assert_eq!(store.event_horizon(&user).await.unwrap(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let cut = darkroom_store::now_ms();
    store.claim_job("w", 60_000).await.unwrap();
    assert_eq!(store.prune_events(cut, 1000).await.unwrap(), before.len() as u64);
    assert_eq!(store.event_horizon(&user).await.unwrap(), before.last().unwrap().id);
    assert_eq!(store.event_horizon(&other).await.unwrap(), 0);
    let left = store.events_after(&user, 0, 100).await.unwrap();
    assert_eq!(left.len(), 1, "the newer event stays");
    assert_eq!(store.prune_events(cut, 1000).await.unwrap(), 0, "idempotent");
    assert_eq!(store.event_horizon(&user).await.unwrap(), before.last().unwrap().id);
    // The count bound: keep only the newest event per member.
    let other_up = upload(&store, &other).await;
    store.create_job(job(&other, &other_up, "b", 1)).await.unwrap();
    let theirs = store.events_after(&other, 0, 100).await.unwrap();
    assert_eq!(theirs.len(), 2, "job queued + balance");
    assert_eq!(store.prune_events(0, 1).await.unwrap(), 1);
    assert_eq!(store.events_after(&other, 0, 100).await.unwrap(), theirs[1..].to_vec());
    assert_eq!(store.event_horizon(&other).await.unwrap(), theirs[0].id);
    assert_eq!(store.events_after(&user, 0, 100).await.unwrap().len(), 1, "the other member keeps theirs");
}
