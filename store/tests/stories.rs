//! Store stories, each run on a fresh SQLite file AND a fresh PostgreSQL database.

use darkroom_contract::{Category, EventKind, JobStatus, Mode, Visibility};
use darkroom_store::jobs::{GalleryFilter, Gates, JobOutput, NewJob, OutputGate};
use darkroom_store::moderation::{NewDecision, Ruling, StrikeRules};
use darkroom_store::sharing::{Cursor, Sort};
use darkroom_store::testing::fresh_store;
use darkroom_store::uploads::Upload;
use darkroom_store::users::NewUser;
use darkroom_store::{new_id, Backend, Store, StoreError};
use std::time::Duration;

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(darkroom_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(darkroom_store::Backend::Postgres).await } )* }
    };
}

on_both!(
    ledger_invariants_hold_over_random_operations,
    charges_take_the_soonest_expiring_lot_and_lots_expire_on_time,
    api_key_caps_and_webhook_deliveries_exactly_once,
    signup_grants_once_and_emails_are_unique,
    concurrent_submissions_never_overdraw,
    idempotency_key_returns_first_job_charged_once,
    lease_lapse_lets_another_worker_finish_exactly_once,
    failure_refunds_rejection_does_not_cancel_refunds,
    jobs_and_uploads_are_scoped_to_their_owner,
    events_replay_after_an_id,
    one_members_events_commit_in_sequence_order,
    concurrent_writers_leave_no_gap_for_a_tailing_reader,
    pruned_events_leave_a_horizon,
    gate_rejection_charges_without_refund_and_strikes,
    review_queue_approve_and_reject,
    output_review_hides_until_approved_and_output_block_keeps_charge,
    strikes_restrict_then_suspend_and_lift,
    reports_need_a_visible_item_and_uphold_hides,
    share_links_explore_likes_and_showcase,
    abandoned_writes_leave_the_database_usable,
    templates_are_seeded_saved_audited_and_counted,
    rate_limits_hold_across_nodes,
    nodes_must_agree_on_shared_keys,
    a_released_job_is_claimed_at_once_and_keeps_its_request_id,
    pending_material_terms_follow_what_was_accepted,
    support_requests_move_open_answered_closed_audited,
    members_search_and_staff_actions_are_audited,
    common_creations_take_one_round_trip_and_write_what_the_general_path_writes,
    creations_arriving_together_commit_together_each_whole_or_absent,
    one_members_creations_in_one_batch_write_what_one_by_one_writes,
);

fn ruling<'a>(actor: &'a str, reason: &'a str) -> Ruling<'a> {
    Ruling { actor_id: actor, reason, category: Category::Sexual, message: "Rejected by moderation: sexual content.", policy_version: "test-1", strike: &RULES }
}

async fn admin(store: &Store) -> String {
    let id = member(store, &format!("mod-{}@example.com", new_id()), 0).await;
    store.set_role(&id, "moderator").await.unwrap();
    id
}

async fn gate_rejection_charges_without_refund_and_strikes(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "g@example.com", 10).await;
    let up = upload(&store, &user).await;
    let decisions = [decision("prompt", "block", Some("sexual")), decision("upload", "allow", None)];
    let gates = Gates { status: JobStatus::Rejected, category: Some(Category::Sexual), message: Some("Rejected: sexual content."), decisions: &decisions, strike: Some(&RULES) };
    let mut new = job(&user, &up, "blocked", 4);
    new.gates = gates;
    new.prompt = "a prompt";
    let (j, created) = store.create_job(new).await.unwrap();
    assert!(created);
    assert_eq!((j.status.as_str(), j.moderation_category.map(Category::as_str), j.prompt.as_str()), ("rejected", Some("sexual"), "a prompt"));
    assert!(j.finished_at.is_some());
    assert_eq!(store.user(&user).await.unwrap().balance, 6, "charged, not refunded");
    let kinds: Vec<String> = store.ledger(&user, 10).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["charge", "grant"]);
    let recorded = store.decisions_for_job(&j.id).await.unwrap();
    assert_eq!(recorded.iter().map(|d| (d.gate.as_str(), d.decision.as_str())).collect::<Vec<_>>(), [("prompt", "block"), ("upload", "allow")]);
    assert_eq!(recorded[0].policy_version, "test-1");
    assert!(recorded[0].labels.contains("FACE_FEMALE"));
    assert_eq!(store.standing(&user).await.unwrap().strikes.len(), 1);
    assert!(store.claim_job("w", 60_000).await.unwrap().is_none(), "a rejected job never runs");
    assert_ledger_consistent(&store, &user).await;
}

async fn review_queue_approve_and_reject(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "r@example.com", 10).await;
    let moderator = admin(&store).await;
    let up = upload(&store, &user).await;
    let held = [decision("upload", "review", Some("sexual"))];
    let mut a = job(&user, &up, "a", 2);
    a.gates = Gates { status: JobStatus::Review, category: None, message: None, decisions: &held, strike: None };
    let (a, _) = store.create_job(a).await.unwrap();
    let mut r = job(&user, &up, "r", 3);
    r.gates = Gates { status: JobStatus::Review, category: None, message: None, decisions: &held, strike: None };
    let (r, _) = store.create_job(r).await.unwrap();
    assert!(store.claim_job("w", 60_000).await.unwrap().is_none(), "held jobs do not run");
    let queue: Vec<String> = store.jobs_in_review(10).await.unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(queue, [a.id.clone(), r.id.clone()]);
    let before = store.last_event_id(&user).await.unwrap();

    let approved = store.moderate_job(&a.id, true, &ruling(&moderator, "fine")).await.unwrap();
    assert_eq!(approved.status, JobStatus::Queued);
    assert!(matches!(store.moderate_job(&a.id, false, &ruling(&moderator, "late")).await, Err(StoreError::Conflict(_))), "ruled once");
    let rejected = store.moderate_job(&r.id, false, &ruling(&moderator, "nudity")).await.unwrap();
    assert_eq!((rejected.status.as_str(), rejected.moderation_category.map(Category::as_str)), ("rejected", Some("sexual")));
    assert_eq!(store.claim_job("w", 60_000).await.unwrap().unwrap().id, a.id, "the approved job runs");
    assert_eq!(store.user(&user).await.unwrap().balance, 5, "the rejection is not refunded");
    let events = store.events_after(&user, before, 50).await.unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::Job && e.payload.contains(&r.id) && e.payload.contains("rejected")), "member told live");
    let audit = store.audit_entries(&format!("job:{}", r.id), 10).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].reason.as_str(), audit[0].actor_id.as_deref()), ("job.reject", "nudity", Some(moderator.as_str())));
    let d = store.decisions_for_job(&r.id).await.unwrap();
    assert_eq!((d[1].gate.as_str(), d[1].decision.as_str(), d[1].reason.as_deref()), ("moderator", "block", Some("nudity")));
    assert_eq!(store.standing(&user).await.unwrap().strikes.len(), 1, "an upheld rejection is a strike");
    assert_ledger_consistent(&store, &user).await;
}

async fn output_review_hides_until_approved_and_output_block_keeps_charge(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "o@example.com", 10).await;
    let moderator = admin(&store).await;
    let up = upload(&store, &user).await;
    let (a, _) = store.create_job(job(&user, &up, "a", 2)).await.unwrap();
    let (c, _) = store.create_job(job(&user, &up, "c", 2)).await.unwrap();
    store.claim_job("w", 60_000).await.unwrap().unwrap();
    let out = JobOutput { result_key: "r", thumb_key: "t", result_hash: "h", width: 1, height: 1 };
    let review = decision("output", "review", Some("sexual"));
    assert!(store.complete_job(&a.id, "w", &out, OutputGate::Review(&review)).await.unwrap());
    assert_eq!(store.job(&a.id, &user).await.unwrap().status, JobStatus::Review);
    assert!(matches!(store.cancel_job(&a.id, &user, true).await, Err(StoreError::Conflict(_))), "a finished run cannot be canceled");
    let approved = store.moderate_job(&a.id, true, &ruling(&moderator, "ok")).await.unwrap();
    assert_eq!((approved.status.as_str(), approved.result_key.as_deref()), ("succeeded", Some("r")));

    store.claim_job("w", 60_000).await.unwrap().unwrap();
    let block = decision("output", "block", Some("sexual"));
    assert!(store.reject_job(&c.id, "w", Category::Sexual, "Rejected: sexual content.", &block, Some(&RULES)).await.unwrap());
    assert!(!store.reject_job(&c.id, "w", Category::Sexual, "again", &block, Some(&RULES)).await.unwrap(), "once");
    let c = store.job(&c.id, &user).await.unwrap();
    assert_eq!((c.status.as_str(), c.result_key.as_deref()), ("rejected", None));
    assert_eq!(store.user(&user).await.unwrap().balance, 6, "both charged, none refunded");
    assert_ledger_consistent(&store, &user).await;
}

async fn strikes_restrict_then_suspend_and_lift(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "s@example.com", 20).await;
    let moderator = admin(&store).await;
    let up = upload(&store, &user).await;
    let block = [decision("prompt", "block", Some("sexual"))];
    let reject = |key: &'static str| {
        let mut n = job(&user, &up, key, 1);
        n.gates = Gates { status: JobStatus::Rejected, category: Some(Category::Sexual), message: Some("Rejected."), decisions: &block, strike: Some(&RULES) };
        n
    };
    store.create_job(reject("1")).await.unwrap();
    let s = store.standing(&user).await.unwrap();
    assert!(!s.blocks_jobs(darkroom_store::now_ms()), "one strike: good standing");
    store.create_job(reject("2")).await.unwrap();
    let s = store.standing(&user).await.unwrap();
    let until = s.restricted_until.expect("two strikes restrict");
    assert!(until > darkroom_store::now_ms() + 6 * 86_400_000 && s.suspended_at.is_none());
    assert!(s.blocks_jobs(darkroom_store::now_ms()));
    store.create_job(reject("3")).await.unwrap();
    let s = store.standing(&user).await.unwrap();
    assert!(s.suspended_at.is_some(), "three strikes suspend");
    assert_eq!(s.strikes.len(), 3);
    store.lift_standing(&user, &moderator, "appeal accepted").await.unwrap();
    let s = store.standing(&user).await.unwrap();
    assert!(s.suspended_at.is_none() && s.restricted_until.is_none() && s.strikes.iter().all(|k| k.lifted_at.is_some()));
    let audit = store.audit_entries(&format!("user:{user}"), 5).await.unwrap();
    assert_eq!(audit[0].action, "standing.lift");
    store.create_job(reject("4")).await.unwrap();
    assert!(!store.standing(&user).await.unwrap().blocks_jobs(darkroom_store::now_ms()), "lifted strikes no longer count");
}

async fn reports_need_a_visible_item_and_uphold_hides(b: Backend) {
    let store = fresh_store(b).await;
    let owner = member(&store, "p@example.com", 10).await;
    let moderator = admin(&store).await;
    let up = upload(&store, &owner).await;
    let mut pubjob = job(&owner, &up, "pub", 1);
    pubjob.visibility = Visibility::Public;
    let (p, _) = store.create_job(pubjob).await.unwrap();
    let (private, _) = store.create_job(job(&owner, &up, "priv", 1)).await.unwrap();
    let out = JobOutput { result_key: "r", thumb_key: "t", result_hash: "h", width: 1, height: 1 };
    let allow = decision("output", "allow", None);
    for _ in 0..2 {
        let j = store.claim_job("w", 60_000).await.unwrap().unwrap();
        store.complete_job(&j.id, "w", &out, OutputGate::Allow(&allow)).await.unwrap();
    }
    assert!(matches!(store.create_report(&private.id, None, "ip:1", "sexual", "").await, Err(StoreError::NotFound)), "private: no oracle");
    let rep = store.create_report(&p.id, None, "ip:1", "sexual", "looks explicit").await.unwrap();
    assert!(matches!(store.create_report(&p.id, None, "ip:1", "sexual", "").await, Err(StoreError::Conflict(_))), "one open report per reporter");
    assert_eq!(store.reports_since("ip:1", 0).await.unwrap(), 1);
    assert_eq!(store.open_reports(10).await.unwrap().len(), 1);
    let done = store.resolve_report(&rep.id, true, true, &ruling(&moderator, "explicit")).await.unwrap();
    assert_eq!(done.status, "upheld");
    assert!(matches!(store.resolve_report(&rep.id, false, false, &ruling(&moderator, "x")).await, Err(StoreError::Conflict(_))));
    let hidden = store.job(&p.id, &owner).await.unwrap();
    assert!(hidden.hidden_at.is_some());
    assert_eq!(hidden.moderation_category.map(Category::as_str), Some("sexual"));
    assert!(matches!(store.create_report(&p.id, None, "ip:2", "spam", "").await, Err(StoreError::NotFound)), "hidden items cannot be reported");
    assert_eq!(store.standing(&owner).await.unwrap().strikes.len(), 1);
    let shown = store.set_hidden(&p.id, false, &ruling(&moderator, "restored on appeal")).await.unwrap();
    assert!(shown.hidden_at.is_none());
    assert_eq!(store.audit_entries("", 10).await.unwrap().len(), 2);
}

async fn member(store: &Store, email: &str, grant: i64) -> String {
    store
        .create_user(NewUser { email, password_hash: "x", display_name: "M", role: "member", terms_version: "1", signup_grant: grant, email_verified: true })
        .await
        .unwrap()
        .id
}

async fn upload(store: &Store, user: &str) -> String {
    let id = new_id();
    let u = Upload {
        id: id.clone(), user_id: user.into(), object_key: format!("uploads/{id}.png"), content_hash: "00".into(),
        mime: "image/png".into(), bytes: 1, width: 64, height: 64, created_at: 0, gate: None, duration_ms: None,
    };
    store.insert_upload(&u).await.unwrap();
    id
}

fn job<'a>(user: &'a str, upload: &'a str, key: &'a str, cost: i64) -> NewJob<'a> {
    NewJob {
        user_id: user, upload_id: Some(upload), template_id: None, style_upload_id: None, mode: Mode::ImageToImage, params: "{}", style: 0, cost, visibility: Visibility::Private,
        idempotency_key: key, prompt: "", gates: Gates::ALLOW, api: None, request_id: None,
    }
}

fn decision(gate: &str, decision: &str, category: Option<&str>) -> NewDecision {
    NewDecision {
        gate: gate.parse().unwrap(), decision: decision.parse().unwrap(), category: category.map(|c| c.parse().unwrap()), detector: "test".into(),
        labels: serde_json::json!([{"label": "FACE_FEMALE", "score": 0.7}]), policy_version: "test-1".into(),
        actor_id: None, reason: None,
    }
}

const RULES: StrikeRules = StrikeRules { window_ms: 90 * 86_400_000, restrict_at: 2, restrict_ms: 7 * 86_400_000, suspend_at: 3 };

async fn assert_ledger_consistent(store: &Store, user: &str) {
    let u = store.user(user).await.unwrap();
    assert_eq!(store.ledger_sum(user).await.unwrap(), u.balance, "balance = sum of ledger entries");
    assert!(u.balance >= 0);
}

/// A request whose client goes away drops its future wherever it is, also between `BEGIN`
/// and the transaction object (sqlx 0.8 is not cancel-safe there). Writes abandoned at every
/// point still leave the database writable, each one done entirely or not at all.
async fn abandoned_writes_leave_the_database_usable(b: Backend) {
    let store = fresh_store(b).await;
    let id = member(&store, "quitter@example.com", 0).await;
    // Eight clients at once, each giving up after 0 to 0.7 ms, 300 times.
    let mut clients = Vec::new();
    for c in 0..8u64 {
        let (store, id) = (store.clone(), id.clone());
        clients.push(tokio::spawn(async move {
            for i in 0..300u64 {
                let wait = std::time::Duration::from_micros((i * 7 + c * 13) % 701);
                let _ = tokio::time::timeout(wait, store.grant(&id, 1, "admin", &format!("abandoned-{c}-{i}"))).await;
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    // Still writable, at once (a stuck connection would fail or time out here). An abandoned
    // grant whose COMMIT had already reached PostgreSQL may still land after `before` is read,
    // so the balance only has to have grown by at least this grant, and this grant counts once.
    let before = store.user(&id).await.unwrap().balance;
    let after = tokio::time::timeout(std::time::Duration::from_secs(10), store.grant(&id, 1, "admin", "after")).await.expect("write within 10 s").unwrap();
    assert!(after > before, "the grant after the storm went through: {before} -> {after}");
    let again = store.grant(&id, 1, "admin", "after").await.unwrap();
    assert!(again >= after, "the same key grants once");
    let ledger = store.ledger(&id, 10_000).await.unwrap();
    assert!(ledger.len() <= 8 * 300 + 1);
    assert_eq!(store.ledger_sum(&id).await.unwrap(), ledger.len() as i64, "every entry is one whole grant of 1");
    assert_ledger_consistent(&store, &id).await;
}

async fn signup_grants_once_and_emails_are_unique(b: Backend) {
    let store = fresh_store(b).await;
    let id = member(&store, "Ann@Example.com ", 25).await;
    let u = store.user_by_email("ann@example.COM").await.unwrap().unwrap();
    assert_eq!((u.id.as_str(), u.balance, u.email.as_str()), (id.as_str(), 25, "ann@example.com"));
    let dup = store
        .create_user(NewUser { email: "ANN@example.com", password_hash: "x", display_name: "B", role: "member", terms_version: "1", signup_grant: 25, email_verified: true })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    assert_eq!(store.grant(&id, 5, "admin", "k1").await.unwrap(), 30);
    assert_eq!(store.grant(&id, 5, "admin", "k1").await.unwrap(), 30, "same key grants once");
    assert_eq!(store.ledger(&id, 10).await.unwrap().len(), 2);
    assert_ledger_consistent(&store, &id).await;
}

async fn concurrent_submissions_never_overdraw(b: Backend) {
    use darkroom_store::ledger::Kind;
    // 200 concurrent charges of 1 against 37 credits spread over three lots: exactly 37 win.
    let store = fresh_store(b).await;
    let user = member(&store, "c@example.com", 20).await;
    let now = darkroom_store::now_ms();
    store.add_credits(&user, Kind::Purchase, 10, "pack", "p1", Some(now + 86_400_000)).await.unwrap();
    store.add_credits(&user, Kind::Grant, 7, "promo", "p2", Some(now + 3_600_000)).await.unwrap();
    let up = upload(&store, &user).await;
    // Every other charge through group commit (the default), the rest each alone: grouped and
    // single creations race for the same rows.
    let alone = store.clone().with_group_commit(1);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (store, user, up) = (if i % 2 == 0 { store.clone() } else { alone.clone() }, user.clone(), up.clone());
        tasks.push(tokio::spawn(async move { store.create_job(job(&user, &up, &format!("k{i}"), 1)).await }));
    }
    let (mut ok, mut broke) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok((_, true)) => ok += 1,
            Err(StoreError::InsufficientCredits { .. }) => broke += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, broke), (37, 163), "a balance of 37 covers exactly 37 charges of 1");
    assert_eq!(store.jobs_for_user(&user, None, None, 300).await.unwrap().len(), 37);
    assert_eq!(store.user(&user).await.unwrap().balance, 0);
    assert_eq!(store.lots_sum(&user).await.unwrap(), 0);
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
    // The photo deleted since: a retry with the same key still answers the first job, and a
    // new key with that photo finds nothing to make a job from (nothing charged).
    store.delete_upload(&up, &user).await.unwrap();
    let (j, new) = store.create_job(job(&user, &up, "same", 2)).await.unwrap();
    assert_eq!((ids.contains(&j.id), new), (true, false));
    assert!(matches!(store.create_job(job(&user, &up, "other", 2)).await, Err(StoreError::NotFound)));
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
    let allow = decision("output", "allow", None);
    assert!(!store.job_progress(&j.id, "w1", 50, 1000).await.unwrap(), "stale worker is told to stop");
    assert!(!store.complete_job(&j.id, "w1", &out, OutputGate::Allow(&allow)).await.unwrap(), "stale worker cannot complete");
    assert!(store.complete_job(&j.id, "w2", &out, OutputGate::Allow(&allow)).await.unwrap());
    assert!(!store.complete_job(&j.id, "w2", &out, OutputGate::Allow(&allow)).await.unwrap(), "completes once");
    assert_eq!(store.decisions_for_job(&j.id).await.unwrap().len(), 1, "the output decision is recorded once");
    let done = store.job(&j.id, &user).await.unwrap();
    assert_eq!((done.status.as_str(), done.result_key.as_deref()), ("succeeded", Some("r")));
    assert_eq!(store.user(&user).await.unwrap().balance, 9, "charged once");
    assert_ledger_consistent(&store, &user).await;
}

/// Two stores on one database (two nodes) share a bucket: the burst is allowed once between
/// them, the refusal says when the next request passes, and that one passes then.
async fn rate_limits_hold_across_nodes(b: Backend) {
    use darkroom_store::cluster::{Admission, Rate};
    let one = fresh_store(b).await;
    let two = Store::connect(one.url()).await.unwrap();
    let rate = Rate::per(10, 60_000); // 10 at once, then one every 6 s
    assert_eq!(rate, Rate { interval_ms: 6_000, burst: 10 });
    let now = 1_000_000;
    let (mut allowed, mut refused) = (0, Vec::new());
    // 30 requests at the same instant, alternating between the nodes and run concurrently.
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { s.take_rate("api-key:k1", rate, now).await.unwrap() })
        })
        .collect();
    for call in calls {
        match call.await.unwrap() {
            Admission::Allowed => allowed += 1,
            Admission::Limited { retry_after_ms } => refused.push(retry_after_ms),
        }
    }
    assert_eq!((allowed, refused.len()), (10, 20), "the burst is allowed once for the cluster, not once per node");
    assert!(refused.iter().all(|&w| w == 6_000), "each refusal waits one interval: {refused:?}");
    // Another bucket is untouched; the same bucket passes again one interval later, once.
    assert_eq!(two.take_rate("api-key:k2", rate, now).await.unwrap(), Admission::Allowed);
    assert_eq!(one.take_rate("api-key:k1", rate, now + 5_999).await.unwrap(), Admission::Limited { retry_after_ms: 1 });
    assert_eq!(two.take_rate("api-key:k1", rate, now + 6_000).await.unwrap(), Admission::Allowed);
    assert!(matches!(one.take_rate("api-key:k1", rate, now + 6_000).await.unwrap(), Admission::Limited { .. }));
    // After a quiet minute the bucket is full again; pruning drops only buckets that are.
    assert_eq!(one.prune_rate_limits(now + 6_000).await.unwrap(), 1, "k2 is full again, k1 is not");
    for _ in 0..10 {
        assert_eq!(one.take_rate("api-key:k1", rate, now + 120_000).await.unwrap(), Admission::Allowed);
    }
    assert!(matches!(one.take_rate("api-key:k1", rate, now + 120_000).await.unwrap(), Admission::Limited { .. }));
}

/// The first node records its key's fingerprint; a second with the same key agrees, one with
/// another key is told, and a deliberate change (forgetting) lets the new key in.
async fn nodes_must_agree_on_shared_keys(b: Backend) {
    use darkroom_store::cluster::KeyAgreement;
    let one = fresh_store(b).await;
    let two = Store::connect(one.url()).await.unwrap();
    assert_eq!(one.agree_on_key("media-url", "aaaa").await.unwrap(), KeyAgreement::Agreed);
    assert_eq!(two.agree_on_key("media-url", "aaaa").await.unwrap(), KeyAgreement::Agreed);
    match two.agree_on_key("media-url", "bbbb").await.unwrap() {
        KeyAgreement::Differs { recorded, set_at } => assert!(recorded == "aaaa" && set_at > 0),
        other => panic!("another key must be refused, got {other:?}"),
    }
    assert_eq!(one.agree_on_key("other-key", "bbbb").await.unwrap(), KeyAgreement::Agreed, "keys are recorded by name");
    assert_eq!(two.forget_cluster_keys().await.unwrap(), 2);
    assert_eq!(two.agree_on_key("media-url", "bbbb").await.unwrap(), KeyAgreement::Agreed);
    assert!(matches!(one.agree_on_key("media-url", "aaaa").await.unwrap(), KeyAgreement::Differs { .. }));
}

/// A worker that shuts down gives its running job back: another claims it at once (no lease
/// to wait out), a stale release changes nothing, and the job keeps the id of the request
/// that created it.
async fn a_released_job_is_claimed_at_once_and_keeps_its_request_id(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "rel@example.com", 10).await;
    let up = upload(&store, &user).await;
    let (j, _) = store.create_job(NewJob { request_id: Some("req-123"), ..job(&user, &up, "a", 1) }).await.unwrap();
    assert_eq!(j.request_id.as_deref(), Some("req-123"));
    let mut queued = store.watch_queue();
    queued.borrow_and_update();
    let first = store.claim_job("w1", 60_000).await.unwrap().unwrap();
    assert!(store.claim_job("w2", 60_000).await.unwrap().is_none(), "leased for a minute");
    assert!(!store.release_job(&j.id, "w2").await.unwrap(), "only the holder releases");
    assert!(store.release_job(&j.id, "w1").await.unwrap());
    assert!(queued.has_changed().unwrap(), "idle workers are woken");
    let second = store.claim_job("w2", 60_000).await.unwrap().expect("claimed at once, not after the lease");
    assert_eq!((second.id.as_str(), second.attempts, second.request_id.as_deref()), (first.id.as_str(), 2, Some("req-123")));
    assert!(!store.release_job(&j.id, "w1").await.unwrap(), "a stale holder releases nothing");
    let out = JobOutput { result_key: "r", thumb_key: "t", result_hash: "h", width: 1, height: 1 };
    assert!(store.complete_job(&j.id, "w2", &out, OutputGate::Allow(&decision("output", "allow", None))).await.unwrap());
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
    assert!(store.fail_job(&a.id, "w", "technical failure", true).await.unwrap());
    assert!(!store.fail_job(&a.id, "w", "again", true).await.unwrap(), "refunded once");
    let got = store.claim_job("w", 60_000).await.unwrap().unwrap();
    assert_eq!(got.id, r.id);
    let block = decision("output", "block", Some("sexual"));
    assert!(store.reject_job(&r.id, "w", Category::Sexual, "sexual content", &block, None).await.unwrap());
    let canceled = store.cancel_job(&c.id, &user, true).await.unwrap();
    assert_eq!(canceled.status, JobStatus::Canceled);
    assert!(matches!(store.cancel_job(&c.id, &user, true).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.user(&user).await.unwrap().balance, 1 + 2 + 4, "failure and cancel refunded, rejection not");
    // A running job is taken from its worker: its progress and completion no longer count.
    let (d, _) = store.create_job(job(&user, &up, "d", 5)).await.unwrap();
    assert_eq!(store.claim_job("w", 60_000).await.unwrap().unwrap().id, d.id);
    assert_eq!(store.cancel_job(&d.id, &user, true).await.unwrap().status, JobStatus::Canceled);
    assert!(!store.job_progress(&d.id, "w", 50, 60_000).await.unwrap(), "the worker learns at its next progress write");
    let out = JobOutput { result_key: "r", thumb_key: "t", result_hash: "h", width: 1, height: 1 };
    assert!(!store.complete_job(&d.id, "w", &out, OutputGate::Allow(&decision("output", "allow", None))).await.unwrap(), "and cannot complete it");
    assert!(!store.fail_job(&d.id, "w", "stopped", true).await.unwrap(), "nor refund it twice");
    assert_eq!(store.job(&d.id, &user).await.unwrap().result_key, None);
    assert!(store.claim_job("w2", 60_000).await.unwrap().is_none(), "nobody claims it again");
    assert_eq!(store.user(&user).await.unwrap().balance, 1 + 2 + 4, "the running job's cost came back once");
    let kinds: Vec<String> = store.ledger(&user, 20).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "refund").count(), 3);
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
    assert!(matches!(store.cancel_job(&j.id, &bob, true).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_job(&j.id, &bob).await, Err(StoreError::NotFound)));
    assert!(store.jobs_for_user(&bob, None, None, 10).await.unwrap().is_empty());
}

async fn events_replay_after_an_id(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "e@example.com", 10).await;
    let up = upload(&store, &user).await;
    let mut watch = store.watch_member(&user);
    let mut others = store.watch_member("someone-else");
    let (j, _) = store.create_job(job(&user, &up, "a", 1)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(1), watch.changed()).await.expect("the member's watch fires after commit");
    assert!(tokio::time::timeout(Duration::from_millis(50), others.changed()).await.is_err(), "another member's does not");
    store.claim_job("w", 60_000).await.unwrap();
    store.job_progress(&j.id, "w", 40, 60_000).await.unwrap();
    let all = store.events_after(&user, 0, 100).await.unwrap();
    assert_eq!(all.len(), 4, "job queued, balance, running, progress");
    assert!(all.iter().map(|e| e.seq).eq(1..=4), "the member's events are numbered 1, 2, 3, …");
    let after = store.events_after(&user, all[1].seq, 100).await.unwrap();
    assert_eq!(after, all[2..].to_vec());
    assert_eq!(store.last_event_id(&user).await.unwrap(), all[3].seq);
    let p: serde_json::Value = serde_json::from_str(&all[3].payload).unwrap();
    assert_eq!((p["status"].as_str(), p["progress"].as_i64()), (Some("running"), Some(40)));
}

fn balance_event(n: i64) -> darkroom_contract::LiveEvent {
    darkroom_contract::LiveEvent::Balance(darkroom_contract::event::Balance { balance: n })
}

/// Two writers of one member's events (two nodes): the second cannot take its number while
/// the first is uncommitted, so events commit in `seq` order and a reader resuming from the
/// highest `seq` it saw can never have skipped a lower one that commits later. (With the
/// table's global id this is what broke: the later transaction took id 11, committed first,
/// a stream read it, and id 10 committed after it, unseen for ever.)
async fn one_members_events_commit_in_sequence_order(b: Backend) {
    use darkroom_store::testing::append_event;
    let store = fresh_store(b).await;
    let user = member(&store, "order@example.com", 0).await;
    let node_b = Store::connect(store.url()).await.unwrap();
    let mut first = store.begin_write().await.unwrap();
    assert_eq!(append_event(&mut first, &user, &balance_event(1)).await.unwrap(), Some(1));
    let second = tokio::spawn({
        let user = user.clone();
        async move {
            let mut tx = node_b.begin_write().await.unwrap();
            let seq = append_event(&mut tx, &user, &balance_event(2)).await.unwrap();
            tx.commit().await.unwrap();
            seq
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second writer waits for the first one's commit");
    assert!(store.events_after(&user, 0, 10).await.unwrap().is_empty(), "nothing is visible before a commit");
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), Some(2), "the second writer's number follows the first's commit");
    let seen: Vec<i64> = store.events_after(&user, 0, 10).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seen, [1, 2]);
    // A rolled-back writer leaves no number used and no hole.
    let mut dropped = store.begin_write().await.unwrap();
    append_event(&mut dropped, &user, &balance_event(3)).await.unwrap();
    dropped.rollback().await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    assert_eq!(append_event(&mut tx, &user, &balance_event(3)).await.unwrap(), Some(3));
    tx.commit().await.unwrap();
    // A member whose row is gone gets no event (and the transaction goes on).
    let mut tx = store.begin_write().await.unwrap();
    assert_eq!(append_event(&mut tx, "no-such-member", &balance_event(0)).await.unwrap(), None);
    tx.commit().await.unwrap();
}

/// Two stores on one database (two nodes), eight writers granting credits to one member
/// while a reader tails the log with `seq > last` as the live stream does: the reader ends
/// with every event exactly once, numbered 1..=N without a gap.
async fn concurrent_writers_leave_no_gap_for_a_tailing_reader(b: Backend) {
    let store = fresh_store(b).await;
    let user = member(&store, "tail@example.com", 0).await;
    let nodes = [store.clone(), Store::connect(store.url()).await.unwrap()];
    let before = store.last_event_id(&user).await.unwrap();
    let mut writers = Vec::new();
    for w in 0..8usize {
        let (node, user) = (nodes[w % 2].clone(), user.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..25 {
                node.add_credits(&user, darkroom_store::ledger::Kind::Grant, 1, "admin", &format!("tail-{w}-{i}"), None).await.unwrap().expect("a new key");
            }
        }));
    }
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = tokio::spawn({
        let (store, user, done) = (nodes[1].clone(), user.clone(), done.clone());
        async move {
            let (mut last, mut seen) = (before, Vec::new());
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                for e in store.events_after(&user, last, 500).await.unwrap() {
                    last = e.seq;
                    seen.push(e.seq);
                }
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        }
    });
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let total = store.last_event_id(&user).await.unwrap();
    assert_eq!(total - before, 200, "one balance event per grant");
    assert_eq!(seen, ((before + 1)..=total).collect::<Vec<_>>(), "every event once, in order, none skipped");
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
    assert_eq!(store.event_horizon(&user).await.unwrap(), before.last().unwrap().seq);
    assert_eq!(store.event_horizon(&other).await.unwrap(), 0);
    let left = store.events_after(&user, 0, 100).await.unwrap();
    assert_eq!(left.len(), 1, "the newer event stays");
    assert_eq!(store.prune_events(cut, 1000).await.unwrap(), 0, "idempotent");
    assert_eq!(store.event_horizon(&user).await.unwrap(), before.last().unwrap().seq);
    // The count bound: keep only the newest event per member.
    let other_up = upload(&store, &other).await;
    store.create_job(job(&other, &other_up, "b", 1)).await.unwrap();
    let theirs = store.events_after(&other, 0, 100).await.unwrap();
    assert_eq!(theirs.len(), 2, "job queued + balance");
    assert_eq!(store.prune_events(0, 1).await.unwrap(), 1);
    assert_eq!(store.events_after(&other, 0, 100).await.unwrap(), theirs[1..].to_vec());
    assert_eq!(store.event_horizon(&other).await.unwrap(), theirs[0].seq);
    assert_eq!(store.events_after(&user, 0, 100).await.unwrap().len(), 1, "the other member keeps theirs");
}

async fn share_links_explore_likes_and_showcase(b: Backend) {
    let store = fresh_store(b).await;
    let owner = member(&store, "share@example.com", 10).await;
    let fan = member(&store, "fan@example.com", 0).await;
    let moderator = admin(&store).await;
    let up = upload(&store, &owner).await;
    let out = JobOutput { result_key: "r", thumb_key: "t", result_hash: "h", width: 1, height: 1 };
    let allow = decision("output", "allow", None);
    let mut ids = Vec::new();
    for (key, style) in [("a", 0), ("b", 3), ("c", 0)] {
        store.create_job(NewJob { style, ..job(&owner, &up, key, 1) }).await.unwrap();
        let j = store.claim_job("w", 60_000).await.unwrap().unwrap();
        store.complete_job(&j.id, "w", &out, OutputGate::Allow(&allow)).await.unwrap();
        ids.push(j.id);
    }
    let (a, bb, c) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    assert!(matches!(store.create_share_link(a, &fan, "x", None).await, Err(StoreError::NotFound)), "not the fan's");

    // Share links: a private item becomes `link`; expired, revoked and private answer NotFound.
    let live = store.create_share_link(a, &owner, "h-live", Some(darkroom_store::now_ms() + 60_000)).await.unwrap();
    store.create_share_link(a, &owner, "h-old", Some(darkroom_store::now_ms() - 1)).await.unwrap();
    assert_eq!(store.job(a, &owner).await.unwrap().visibility, Visibility::Link);
    assert_eq!(store.open_share_link("h-live").await.unwrap().id, a);
    assert_eq!(store.open_share_link("h-live").await.unwrap().id, a);
    assert!(matches!(store.open_share_link("h-old").await, Err(StoreError::NotFound)), "expired");
    assert!(matches!(store.open_share_link("nope").await, Err(StoreError::NotFound)));
    let links = store.share_links(a, &owner).await.unwrap();
    assert_eq!(links.iter().find(|l| l.id == live.id).unwrap().views, 2, "views counted");
    assert!(store.share_links(a, &fan).await.unwrap().is_empty(), "scoped to the owner");
    assert!(store.shareable(a).await.unwrap() && !store.shareable(bb).await.unwrap());
    store.set_visibility(a, &owner, Visibility::Private).await.unwrap();
    assert!(matches!(store.open_share_link("h-live").await, Err(StoreError::NotFound)), "private again: link stops");
    store.set_visibility(a, &owner, Visibility::Link).await.unwrap();
    assert!(matches!(store.revoke_share_link(&live.id, &fan).await, Err(StoreError::NotFound)));
    store.revoke_share_link(&live.id, &owner).await.unwrap();
    assert!(matches!(store.open_share_link("h-live").await, Err(StoreError::NotFound)), "revoked");

    // Explore: public and viewable only, keyset pages, likes order `Top`. Every change to it
    // bumps the feed version (caches key on it), in the database and in this process.
    let (v0, l0) = (store.feed_version().await.unwrap(), store.local_feed_changes());
    store.set_visibility(bb, &owner, Visibility::Public).await.unwrap();
    store.set_visibility(c, &owner, Visibility::Public).await.unwrap();
    assert!(store.public_job(a).await.is_err(), "a link item has no public page");
    let page1 = store.explore(Sort::Newest, None, None, 1).await.unwrap();
    assert_eq!(page1.iter().map(|f| f.job.id.as_str()).collect::<Vec<_>>(), [c]);
    let cursor = Cursor { id: page1[0].job.id.clone(), likes: page1[0].likes };
    let page2 = store.explore(Sort::Newest, None, Some(&cursor), 5).await.unwrap();
    assert_eq!(page2.iter().map(|f| f.job.id.as_str()).collect::<Vec<_>>(), [bb]);
    let (st, me) = (&store, owner.as_str());
    let styled = |style| async move { st.explore(Sort::Newest, Some(style), None, 5).await.unwrap().into_iter().map(|f| f.job.id).collect::<Vec<_>>() };
    assert_eq!((styled(3).await, styled(0).await, styled(7).await), (vec![bb.to_string()], vec![c.to_string()], vec![]), "filtered by style");
    let mine = |f: GalleryFilter| async move { st.gallery_jobs(me, &f, None, 5).await.unwrap().len() };
    assert_eq!(mine(GalleryFilter { style: Some(3), ..Default::default() }).await, 1);
    assert_eq!(mine(GalleryFilter { style: Some(0), status: Some(JobStatus::Succeeded), ..Default::default() }).await, 2);
    let made = store.job(a, &owner).await.unwrap().created_at;
    assert_eq!(mine(GalleryFilter { from_ms: Some(made + 86_400_000), ..Default::default() }).await, 0, "a later day");
    assert_eq!(mine(GalleryFilter { from_ms: Some(made - 1), until_ms: Some(made + 86_400_000), ..Default::default() }).await, 3);
    // The item page's newer and older neighbours, in the gallery's order (uuid v7 ids are
    // monotonic in a process), scoped to the owner.
    assert_eq!(store.gallery_neighbours(me, bb).await.unwrap(), (Some(c.to_string()), Some(a.to_string())));
    assert_eq!(store.gallery_neighbours(me, a).await.unwrap(), (Some(bb.to_string()), None));
    assert_eq!(store.gallery_neighbours(me, c).await.unwrap(), (None, Some(bb.to_string())));
    assert_eq!(store.gallery_neighbours(&fan, bb).await.unwrap(), (None, None), "another member's items are not theirs");
    assert!(matches!(store.like(a, &fan, true).await, Err(StoreError::NotFound)), "only public items are liked");
    assert_eq!(store.like(bb, &fan, true).await.unwrap(), 1);
    assert_eq!(store.like(bb, &fan, true).await.unwrap(), 1, "one like per member");
    assert_eq!(store.likes(bb, Some(&fan)).await.unwrap(), (1, true));
    let liked = store.liked_among(&fan, &[bb.to_string(), c.to_string()]).await.unwrap();
    assert!(liked.contains(bb) && !liked.contains(c), "one query for a page of likes");
    let top = store.explore(Sort::Top, None, None, 1).await.unwrap();
    assert_eq!((top[0].job.id.as_str(), top[0].likes), (bb, 1));
    let next = store.explore(Sort::Top, None, Some(&Cursor { id: top[0].job.id.clone(), likes: 1 }), 5).await.unwrap();
    assert_eq!(next.iter().map(|f| f.job.id.as_str()).collect::<Vec<_>>(), [c]);
    assert_eq!(next[0].likes, 0);
    let end = store.explore(Sort::Top, None, Some(&Cursor { id: c.to_string(), likes: 0 }), 5).await.unwrap();
    assert!(end.is_empty(), "past the last unliked item: {end:?}");
    let whole = store.explore(Sort::Top, None, None, 5).await.unwrap();
    assert_eq!(whole.iter().map(|f| (f.job.id.as_str(), f.likes)).collect::<Vec<_>>(), [(bb, 1), (c, 0)], "liked first, then the rest");
    let ruling = ruling(&moderator, "hidden");
    store.set_hidden(bb, true, &ruling).await.unwrap();
    assert_eq!(store.explore(Sort::Newest, None, None, 10).await.unwrap().len(), 1, "hidden items leave Explore at once");
    // Two visibility changes, two likes, one hide.
    assert_eq!((store.feed_version().await.unwrap() - v0, store.local_feed_changes() - l0), (5, 5));
    assert_eq!(store.like(bb, &fan, false).await.err().map(|e| e.to_string()), Some(StoreError::NotFound.to_string()));

    // Showcase consent is separate from visibility and off by default.
    assert!(store.job(c, &owner).await.unwrap().showcase_at.is_none());
    assert!(store.set_showcase(c, &owner, true).await.unwrap().showcase_at.is_some());
    assert!(matches!(store.set_showcase(c, &fan, true).await, Err(StoreError::NotFound)));
    assert!(store.set_showcase(c, &owner, false).await.unwrap().showcase_at.is_none());
}

async fn api_key_caps_and_webhook_deliveries_exactly_once(b: Backend) {
    use darkroom_store::api::NewApiKey;
    use darkroom_store::jobs::ApiOrigin;
    let store = fresh_store(b).await;
    let me = member(&store, "api@example.com", 100).await;
    let up = upload(&store, &me).await;
    let key = store
        .create_api_key(NewApiKey {
            user_id: &me, name: "k", prefix: "dk_abcdefgh", secret_hash: "h1", scopes: "generate,read",
            cap_credits: Some(10), cap_period: Some("day"), expires_at: None,
        })
        .await
        .unwrap();
    let found = store.api_key_by_hash("h1").await.unwrap().unwrap();
    assert_eq!((found.key.id.as_str(), found.owner.suspended_at, found.owner.terms_version.as_str()), (key.id.as_str(), None, "1"));
    assert!(store.api_key_by_hash("h2").await.unwrap().is_none());
    store.set_webhook(&key.id, &me, Some("https://example.com/h"), "generation.canceled", Some("whsec_AAAA")).await.unwrap();
    // The cap counts this key's jobs since the window start, less refunded ones.
    let with_key = |k: &'static str| NewJob { api: Some(ApiOrigin { key_id: &key.id, request_hash: "r", cap: Some((10, 0)), log: None }), ..job(&me, &up, k, 5) };
    let (a, _) = store.create_job(with_key("a")).await.unwrap();
    store.create_job(with_key("b")).await.unwrap();
    assert!(matches!(store.create_job(with_key("c")).await, Err(StoreError::CreditCapReached { cap: 10, spent: 10 })));
    assert_eq!(store.api_key_spend(&key.id, 0).await.unwrap(), 10);
    // Canceling refunds (spend drops) and queues exactly one delivery, in the same transaction.
    store.cancel_job(&a.id, &me, true).await.unwrap();
    assert_eq!(store.api_key_spend(&key.id, 0).await.unwrap(), 5);
    store.create_job(with_key("c")).await.unwrap();
    let ds = store.deliveries(&me, Some(&key.id), 10).await.unwrap();
    assert_eq!(ds.len(), 1);
    assert_eq!((ds[0].event.as_str(), ds[0].job_id.as_str(), ds[0].status.as_str()), ("generation.canceled", a.id.as_str(), "pending"));
    // One sender wins the claim; a delivered one is never due again; resend makes it due.
    let now = darkroom_store::now_ms();
    assert_eq!(store.due_deliveries(now, 10).await.unwrap().len(), 1);
    assert!(store.claim_delivery(&ds[0].id, now, now + 30_000).await.unwrap());
    assert!(!store.claim_delivery(&ds[0].id, now, now + 30_000).await.unwrap());
    store.delivery_attempted(&ds[0].id, Some(200), None, true, None).await.unwrap();
    assert!(store.due_deliveries(now + 1, 10).await.unwrap().is_empty());
    store.resend_delivery(&ds[0].id, &me).await.unwrap();
    assert!(store.resend_delivery(&ds[0].id, "someone-else").await.is_err());
    assert_eq!(store.due_deliveries(darkroom_store::now_ms() + 1, 10).await.unwrap().len(), 1);
    // Revoked keys create no jobs; the request log prunes by age.
    store.revoke_api_key(&key.id, &me).await.unwrap();
    assert!(matches!(store.create_job(with_key("d")).await, Err(StoreError::NotFound)));
    store.log_api_request(&me, &key.id, "dk_abcdefgh", "GET", "/api/v1/balance", 200, 0).await.unwrap();
    assert_eq!(store.api_requests(&me, 10).await.unwrap().len(), 1);
    assert_eq!(store.prune_api_requests(darkroom_store::now_ms() + 1).await.unwrap(), 1);
    assert_ledger_consistent(&store, &me).await;
}

/// balance = sum of entries = sum of lots (after due lots expire), never negative.
async fn assert_lots_consistent(store: &Store, user: &str) {
    store.expire_lots(darkroom_store::now_ms()).await.unwrap();
    let u = store.user(user).await.unwrap();
    assert_eq!(store.ledger_sum(user).await.unwrap(), u.balance, "balance = sum of ledger entries");
    assert_eq!(store.lots_sum(user).await.unwrap(), u.balance, "balance = sum of live lots");
    assert!(u.balance >= 0);
}

async fn ledger_invariants_hold_over_random_operations(b: Backend) {
    use darkroom_store::ledger::Kind;
    let store = fresh_store(b).await;
    let me = member(&store, "prop@example.com", 20).await;
    let up = upload(&store, &me).await;
    // xorshift64: the same sequence every run (seed per backend), no extra crates.
    let mut x: u64 = if b == Backend::Sqlite { 0x9E37_79B9_7F4A_7C15 } else { 0xD1B5_4A32_D192_ED03 };
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut jobs: Vec<String> = Vec::new();
    let (mut charged, mut refused, mut repeats) = (0, 0, 0);
    for step in 0..160 {
        let now = darkroom_store::now_ms();
        match rnd(5) {
            0 => {
                let expires = match rnd(3) {
                    0 => None,
                    1 => Some(now + 1 + rnd(30) as i64),
                    _ => Some(now + 86_400_000),
                };
                let key = format!("g{}", rnd(40));
                let first = store.add_credits(&me, Kind::Grant, 1 + rnd(30) as i64, "grant", &key, expires).await.unwrap();
                repeats += first.is_none() as i32;
            }
            1 => {
                let key = format!("j{}", rnd(60));
                match store.create_job(job(&me, &up, &key, 1 + rnd(20) as i64)).await {
                    Ok((j, created)) => {
                        charged += created as i32;
                        repeats += (!created) as i32;
                        jobs.push(j.id);
                    }
                    Err(StoreError::InsufficientCredits { .. }) => refused += 1,
                    Err(e) => panic!("step {step}: {e}"),
                }
            }
            2 if !jobs.is_empty() => {
                let id = jobs[rnd(jobs.len() as u64) as usize].clone();
                let _ = store.cancel_job(&id, &me, true).await; // a second cancel is a conflict, nothing changes
            }
            3 => match store.deduct(&me, 1 + rnd(10) as i64, "admin", &format!("d{}", rnd(30))).await {
                Ok(_) | Err(StoreError::InsufficientCredits { .. }) => {}
                Err(e) => panic!("step {step}: {e}"),
            },
            _ => tokio::time::sleep(std::time::Duration::from_millis(1 + rnd(10))).await,
        }
        assert_lots_consistent(&store, &me).await;
    }
    // A retried grant with a used key changes nothing.
    let before = store.user(&me).await.unwrap().balance;
    assert!(store.add_credits(&me, Kind::Grant, 5, "grant", "retry-me", None).await.unwrap().is_some());
    assert_eq!(store.add_credits(&me, Kind::Grant, 5, "grant", "retry-me", None).await.unwrap(), None);
    assert_eq!(store.user(&me).await.unwrap().balance, before + 5);
    // More than the balance: refused, nothing written.
    let have = store.user(&me).await.unwrap().balance;
    assert!(matches!(store.create_job(job(&me, &up, "too-much", have + 1)).await, Err(StoreError::InsufficientCredits { .. })));
    refused += 1;
    assert_lots_consistent(&store, &me).await;
    println!("{b:?}: {charged} charges, {refused} refused for credits, {repeats} repeated keys");
    assert!(charged > 5 && repeats > 0, "the sequence exercised charges and retries");
}

async fn charges_take_the_soonest_expiring_lot_and_lots_expire_on_time(b: Backend) {
    use darkroom_store::ledger::Kind;
    let store = fresh_store(b).await;
    let me = member(&store, "lots@example.com", 0).await;
    let up = upload(&store, &me).await;
    let now = darkroom_store::now_ms();
    store.add_credits(&me, Kind::Purchase, 10, "never", "a", None).await.unwrap();
    store.add_credits(&me, Kind::Purchase, 10, "in a day", "b", Some(now + 86_400_000)).await.unwrap();
    store.add_credits(&me, Kind::Grant, 10, "in an hour", "c", Some(now + 3_600_000)).await.unwrap();
    store.create_job(job(&me, &up, "k1", 15)).await.unwrap();
    let lots: Vec<(String, i64)> = sqlx::query_as("SELECT e.idempotency_key, l.remaining FROM credit_lots l JOIN ledger_entries e ON e.id = l.entry_id WHERE l.user_id = $1 ORDER BY e.idempotency_key")
        .bind(&me)
        .fetch_all(&store.pool)
        .await
        .unwrap();
    assert_eq!(lots, vec![("a".into(), 10), ("b".into(), 5), ("c".into(), 0)], "the hour lot first, then the day lot");
    // A lot expires on time: 60 ms from now.
    store.add_credits(&me, Kind::Grant, 7, "short", "d", Some(darkroom_store::now_ms() + 60)).await.unwrap();
    assert_eq!(store.user(&me).await.unwrap().balance, 22);
    tokio::time::sleep(std::time::Duration::from_millis(80)).await;
    // A charge after its time cannot use it (expired first, in the charge's transaction).
    assert!(matches!(store.create_job(job(&me, &up, "k2", 16)).await, Err(StoreError::InsufficientCredits { balance: 15, needed: 16 })));
    assert_eq!(store.expire_lots(darkroom_store::now_ms()).await.unwrap(), 1);
    let u = store.user(&me).await.unwrap();
    assert_eq!(u.balance, 15);
    let expiry = store.ledger(&me, 10).await.unwrap().into_iter().find(|e| e.kind == "expiry").expect("an expiry entry");
    assert_eq!(expiry.amount, -7);
    assert_eq!(store.expire_lots(darkroom_store::now_ms()).await.unwrap(), 0, "expired once");
    // A refund returns credits to the lots they came from.
    let (j, _) = store.create_job(job(&me, &up, "k3", 12)).await.unwrap();
    store.cancel_job(&j.id, &me, true).await.unwrap();
    assert_lots_consistent(&store, &me).await;
    assert_eq!(store.user(&me).await.unwrap().balance, 15);
}

/// The seeded catalogue, an administrator's create and update (audited in the same
/// transaction), a duplicate id refused, one move, and a text→image job (no photo) that counts
/// one use of its template, charged once.
async fn templates_are_seeded_saved_audited_and_counted(b: Backend) {
    use darkroom_store::templates::TemplateInput;
    let store = fresh_store(b).await;
    let all = store.templates(true).await.unwrap();
    assert_eq!(all.len(), 65);
    assert_eq!(all[0].id, "style-01");
    let video = all.iter().find(|t| t.id == "photo-to-video").unwrap();
    assert_eq!((video.mode, video.generator.as_str(), video.cost), (Mode::ImageToVideo, "local-motion", Some(1)), "priced per second");
    let seven = all.iter().find(|t| t.id == "style-07-color").unwrap();
    assert_eq!((seven.mode, seven.generator.as_str(), seven.cost, seven.params.as_str()), (Mode::ImageToImage, "local-style", None, r#"{"style": 6, "strength": 1.0, "preserve_color": true}"#));
    assert_eq!(all.iter().filter(|t| t.mode == Mode::TextToImage).count(), 5);
    // The 26 styles are named (migration 0023), each name its own, with German beside.
    let night = all.iter().find(|t| t.id == "style-08").unwrap();
    assert_eq!(night.name, "Night Gold");
    assert!(night.translations.contains(r#""name": "Nachtgold""#), "{}", night.translations);
    assert_eq!(seven.name, "Indigo Mosaic (original colours)");
    let names: Vec<&str> = all.iter().filter(|t| t.id.starts_with("style-") && !t.id.ends_with("-color")).map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), 26);
    for (i, a) in names.iter().enumerate() {
        assert!(!a.starts_with("Style "), "{a}: still numbered");
        for (j, b) in names.iter().enumerate() {
            assert!(i == j || !a.contains(b), "{a} contains {b}: a search or a label would be ambiguous");
        }
    }
    assert!(all.iter().all(|t| t.translations.starts_with('{')), "every row has a JSON object");
    let admin = member(&store, "admin@example.com", 0).await;
    let input = TemplateInput {
        id: "ink-sketch", name: "Ink sketch", description: "", mode: Mode::TextToImage, generator: "openai", fallbacks: r#"["gemini"]"#,
        params: "{}", prompt_template: "an ink sketch of {prompt}", negative_prompt: "colour", cost: Some(3), position: 5, preview_url: "",
        translations: r#"{"de":{"name":"Tuscheskizze"}}"#, archived: false,
    };
    let saved = store.save_template(&admin, &input, true).await.unwrap();
    assert_eq!((saved.cost, saved.archived_at), (Some(3), None));
    assert_eq!(saved.translations, r#"{"de":{"name":"Tuscheskizze"}}"#, "stored as given");
    assert_eq!(store.template_uses().await.unwrap().get("ink-sketch"), None, "not used yet");
    assert!(matches!(store.save_template(&admin, &input, true).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.save_template(&admin, &TemplateInput { id: "nope", ..input.clone() }, false).await, Err(StoreError::NotFound)));
    // Position 5 sorts it first; moving it down swaps it with style-01.
    assert_eq!(store.templates(false).await.unwrap()[0].id, "ink-sketch");
    store.move_template(&admin, "ink-sketch", 1).await.unwrap();
    let order: Vec<String> = store.templates(false).await.unwrap().into_iter().take(2).map(|t| t.id).collect();
    assert_eq!(order, ["style-01", "ink-sketch"]);
    store.move_template(&admin, "style-01", -1).await.unwrap(); // already first: nothing
    assert_eq!(store.templates(false).await.unwrap()[0].id, "style-01");
    // A text→image job: no upload, the template recorded and counted.
    let user = member(&store, "t@example.com", 10).await;
    let new = NewJob { upload_id: None, template_id: Some("ink-sketch"), mode: Mode::TextToImage, cost: 3, ..job(&user, "", "t2i", 3) };
    let (j, created) = store.create_job(new).await.unwrap();
    assert!(created);
    assert_eq!((j.upload_id, j.template_id.as_deref(), j.mode), (None, Some("ink-sketch"), Mode::TextToImage));
    let again = NewJob { upload_id: None, template_id: Some("ink-sketch"), mode: Mode::TextToImage, cost: 3, ..job(&user, "", "t2i", 3) };
    assert!(!store.create_job(again).await.unwrap().1, "the same key: the first job");
    assert_eq!(store.template_uses().await.unwrap().get("ink-sketch"), Some(&1), "counted once");
    assert_eq!(store.user(&user).await.unwrap().balance, 7);
    // Archived: out of the offered list, still readable (its jobs keep their template).
    store.save_template(&admin, &TemplateInput { archived: true, ..input.clone() }, false).await.unwrap();
    assert!(store.templates(false).await.unwrap().iter().all(|t| t.id != "ink-sketch"));
    assert!(store.template("ink-sketch").await.unwrap().archived_at.is_some());
    let audit: Vec<String> = store.audit_entries("ink-sketch", 10).await.unwrap().into_iter().rev().map(|e| e.action).collect();
    assert_eq!(audit, ["templates.create", "templates.move", "templates.update"]);
    assert_ledger_consistent(&store, &user).await;
}

async fn pending_material_terms_follow_what_was_accepted(b: Backend) {
    let store = fresh_store(b).await;
    let admin = member(&store, "legal@example.com", 0).await;
    let now = darkroom_store::now_ms();
    let pending = |accepted: &'static str, at: i64| {
        let store = store.clone();
        async move { store.pending_material_terms(accepted, at).await.unwrap() }
    };
    assert_eq!(pending("built-in", now).await, None, "nothing published");
    store.publish_legal(&admin, "terms", "v1", "One.", now - 3_000, false).await.unwrap();
    assert_eq!(pending("built-in", now).await, None, "not material");
    store.publish_legal(&admin, "terms", "v2", "Two.", now - 2_000, true).await.unwrap();
    store.publish_legal(&admin, "privacy", "p9", "Privacy.", now - 1_000, true).await.unwrap();
    assert_eq!(pending("built-in", now).await.as_deref(), Some("v2"), "a version never published accepted nothing");
    assert_eq!(pending("v1", now).await.as_deref(), Some("v2"), "accepted before the material one");
    assert_eq!(pending("v2", now).await, None, "accepted it");
    assert_eq!(pending("v1", now - 2_500).await, None, "before it took effect");
    // A later minor version accepted counts; a material one dated in the future waits.
    store.publish_legal(&admin, "terms", "v3", "Three.", now - 1_000, false).await.unwrap();
    store.publish_legal(&admin, "terms", "v4", "Four.", now + 60_000, true).await.unwrap();
    assert_eq!(pending("v3", now).await, None);
    assert_eq!(pending("v1", now).await.as_deref(), Some("v2"));
    assert_eq!(pending("v3", now + 60_000).await.as_deref(), Some("v4"), "once in effect");
    assert_eq!(pending("v4", now + 60_000).await, None);
}

/// Support requests: stored open; answered (again) and closed by staff, each move audited on
/// `support:<id>`; a closed request moves no more; two closes at once: one wins; the queue
/// lists by state (oldest first) or all (newest first); a member's own list is theirs only.
async fn support_requests_move_open_answered_closed_audited(b: Backend) {
    use darkroom_contract::{SupportStatus, SupportTopic};
    let store = fresh_store(b).await;
    let asker = member(&store, "asker@example.com", 0).await;
    let staff = admin(&store).await;
    let visitor = store.create_support_request(None, "visitor@example.com", SupportTopic::Privacy, "Please export my data.").await.unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    let mine = store.create_support_request(Some(&asker), "asker@example.com", SupportTopic::Billing, "Charged twice.").await.unwrap();
    assert_eq!((visitor.status, visitor.topic, visitor.user_id.as_deref()), (SupportStatus::Open, SupportTopic::Privacy, None));
    let open: Vec<String> = store.support_requests(Some(SupportStatus::Open), 10).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(open, [visitor.id.clone(), mine.id.clone()], "oldest first");
    assert_eq!(store.support_requests_of(&asker).await.unwrap().len(), 1, "their own only");

    let answered = store.move_support_request(&mine.id, &staff, SupportStatus::Answered, Some("Refunded.")).await.unwrap();
    assert_eq!((answered.status, answered.answer.as_deref(), answered.answered_by.as_deref()), (SupportStatus::Answered, Some("Refunded."), Some(staff.as_str())));
    tokio::time::sleep(Duration::from_millis(2)).await;
    let again = store.move_support_request(&mine.id, &staff, SupportStatus::Answered, Some("And credited.")).await.unwrap();
    assert_eq!(again.answer.as_deref(), Some("And credited."), "a follow-up answer");
    // An answer needs its text; a close takes none.
    assert!(matches!(store.move_support_request(&mine.id, &staff, SupportStatus::Answered, None).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.move_support_request(&mine.id, &staff, SupportStatus::Open, None).await, Err(StoreError::Conflict(_))), "never back to open");

    // Two closes at once: exactly one wins.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let (a, b2) = tokio::join!(
        store.move_support_request(&mine.id, &staff, SupportStatus::Closed, None),
        store.move_support_request(&mine.id, &staff, SupportStatus::Closed, None)
    );
    assert_eq!([a.is_ok(), b2.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b2:?}");
    let closed = store.support_request(&mine.id).await.unwrap();
    assert!(closed.status == SupportStatus::Closed && closed.closed_at.is_some());
    assert!(matches!(store.move_support_request(&mine.id, &staff, SupportStatus::Answered, Some("Late.")).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.move_support_request("nope", &staff, SupportStatus::Closed, None).await, Err(StoreError::NotFound)));

    let audit: Vec<String> = store.audit_entries(&format!("support:{}", mine.id), 10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(audit, ["support.close", "support.answer", "support.answer"], "newest first, one row per move");
    let all: Vec<String> = store.support_requests(None, 10).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(all, [mine.id.clone(), visitor.id.clone()], "all states, newest first");
}

/// The console's member search (text in the address or name, case-insensitive, `%` and `_`
/// literal; role; standing now; keyset pages) and the staff actions, each audited.
async fn members_search_and_staff_actions_are_audited(b: Backend) {
    use darkroom_store::members::{MemberFilter, StandingFilter};
    let store = fresh_store(b).await;
    let staff = admin(&store).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(member(&store, &format!("person{i}@example.com"), 0).await);
    }
    let odd = member(&store, "under_score@example.com", 0).await;
    let find = |text: Option<&'static str>, role: Option<&'static str>, standing: Option<StandingFilter>| {
        let store = store.clone();
        async move { store.search_members(&MemberFilter { text, role, standing }, None, 100).await.unwrap().into_iter().map(|u| u.email).collect::<Vec<_>>() }
    };
    assert_eq!(find(Some("PERSON3"), None, None).await, ["person3@example.com"]);
    assert_eq!(find(Some("_"), None, None).await, ["under_score@example.com"], "`_` is literal");
    assert_eq!(find(None, Some("moderator"), None).await.len(), 1);
    // Keyset pages: 2 + 2 + the rest, in id order, nothing twice.
    let filter = MemberFilter { text: Some("person"), ..Default::default() };
    let first = store.search_members(&filter, None, 2).await.unwrap();
    let second = store.search_members(&filter, Some(&first[1].id), 2).await.unwrap();
    let third = store.search_members(&filter, Some(&second[1].id), 2).await.unwrap();
    let all: Vec<String> = first.iter().chain(&second).chain(&third).map(|u| u.id.clone()).collect();
    assert_eq!(all, ids, "every person once, in id order");

    let until = darkroom_store::now_ms() + 3_600_000;
    store.staff_restrict(&staff, &ids[0], until, "spam").await.unwrap();
    store.staff_suspend(&staff, &ids[1], "fraud").await.unwrap();
    store.staff_restrict(&staff, &ids[2], darkroom_store::now_ms() - 1, "long ago").await.unwrap();
    assert_eq!(find(None, None, Some(StandingFilter::Restricted)).await, ["person0@example.com"], "a restriction in the past is over");
    assert_eq!(find(None, None, Some(StandingFilter::Suspended)).await, ["person1@example.com"]);
    assert!(find(None, None, Some(StandingFilter::Good)).await.contains(&"person2@example.com".to_string()));
    store.staff_set_role(&staff, &odd, "moderator", "helps").await.unwrap();
    assert!(matches!(store.staff_set_role(&staff, "nobody", "admin", "x").await, Err(StoreError::NotFound)));
    for (id, action) in [(&ids[0], "user.restrict"), (&ids[1], "user.suspend"), (&odd, "user.role")] {
        let row = &store.audit_entries(&format!("user:{id}"), 1).await.unwrap()[0];
        assert_eq!((row.action.as_str(), row.actor_id.as_deref()), (action, Some(staff.as_str())));
    }
}

/// The common creation (allowed or held, no cap, no lot due, one lot covers the cost) is one
/// round trip inside its transaction; it writes exactly what the general path writes, and
/// every other case still takes the general path with its exact answers.
async fn common_creations_take_one_round_trip_and_write_what_the_general_path_writes(b: Backend) {
    use darkroom_contract::event::Balance;
    use darkroom_contract::LiveEvent;
    use darkroom_store::api::NewApiKey;
    use darkroom_store::jobs::{ApiOrigin, RequestLog};
    use darkroom_store::ledger::Kind;
    let store = fresh_store(b).await;
    let me = member(&store, "fast@example.com", 20).await;
    let up = upload(&store, &me).await;
    let key = store
        .create_api_key(NewApiKey {
            user_id: &me, name: "k", prefix: "dk_fastfast", secret_hash: "hf", scopes: "generate", cap_credits: None, cap_period: None, expires_at: None,
        })
        .await
        .unwrap();
    let log = RequestLog { key_prefix: "dk_fastfast", method: "POST", route: "/api/v1/generations" };
    let decisions = [decision("prompt", "allow", None), decision("upload", "review", Some("sexual"))];
    let api = |k: &'static str, status: JobStatus| NewJob {
        api: Some(ApiOrigin { key_id: &key.id, request_hash: "r", cap: None, log: Some(log) }),
        gates: Gates { status, category: None, message: None, decisions: &decisions, strike: None },
        ..job(&me, &up, k, 3)
    };
    let events_before = store.last_event_id(&me).await.unwrap();
    let (a, created) = store.create_job(api("a", JobStatus::Queued)).await.unwrap();
    assert!(created);
    assert_eq!(store.creations_at_once(), 1, "the common case takes one round trip");
    assert_eq!((a.status, a.cost, a.upload_id.as_deref(), a.api_key_id.as_deref()), (JobStatus::Queued, 3, Some(up.as_str()), Some(key.id.as_str())));
    assert_eq!(store.job(&a.id, &me).await.unwrap(), a, "the answer is the stored row");
    assert_eq!(store.user(&me).await.unwrap().balance, 17);
    let entry = store.ledger(&me, 10).await.unwrap().into_iter().find(|e| e.job_id.as_deref() == Some(a.id.as_str())).expect("the charge");
    assert_eq!((entry.kind.as_str(), entry.amount, entry.balance_after), ("charge", -3, 17));
    let draws: Vec<(String, i64)> = sqlx::query_as("SELECT d.entry_id, d.amount FROM lot_draws d WHERE d.entry_id = $1").bind(&entry.id).fetch_all(&store.pool).await.unwrap();
    assert_eq!(draws, vec![(entry.id.clone(), 3)], "drawn from the one lot");
    let got = store.decisions_for_job(&a.id).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|d| d.user_id == me && d.job_id.as_deref() == Some(a.id.as_str())));
    let logged = store.api_requests(&me, 10).await.unwrap();
    assert_eq!((logged.len(), logged[0].status, logged[0].cost, logged[0].route.as_str()), (1, 201, 3, "/api/v1/generations"));
    let events = store.events_after(&me, events_before, 10).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![events_before + 1, events_before + 2], "numbered on");
    assert_eq!((events[0].kind.as_str(), events[0].payload.clone()), ("job", LiveEvent::Job(a.state()).payload()));
    assert_eq!((events[1].kind.as_str(), events[1].payload.clone()), ("balance", LiveEvent::Balance(Balance { balance: 17 }).payload()));
    assert_lots_consistent(&store, &me).await;
    // Held for review: also one round trip.
    let (h, _) = store.create_job(api("h", JobStatus::Review)).await.unwrap();
    assert_eq!((h.status, store.creations_at_once()), (JobStatus::Review, 2));
    // A retried key answers the first job, charging nothing.
    let (again, created) = store.create_job(api("a", JobStatus::Queued)).await.unwrap();
    assert_eq!((again.id.as_str(), created, store.user(&me).await.unwrap().balance), (a.id.as_str(), false, 14));
    // A debit across two lots takes the general path and draws from both.
    let now = darkroom_store::now_ms();
    store.add_credits(&me, Kind::Grant, 1, "soon", "soon", Some(now + 3_600_000)).await.unwrap();
    let (g, _) = store.create_job(api("g", JobStatus::Queued)).await.unwrap();
    assert_eq!(store.creations_at_once(), 2, "the general path");
    let g_entry = store.ledger(&me, 10).await.unwrap().into_iter().find(|e| e.job_id.as_deref() == Some(g.id.as_str())).unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lot_draws WHERE entry_id = $1").bind(&g_entry.id).fetch_one(&store.pool).await.unwrap();
    assert_eq!((g_entry.balance_after, n), (12, 2));
    let last = store.events_after(&me, 0, 100).await.unwrap();
    assert_eq!(last.last().unwrap().payload, LiveEvent::Balance(Balance { balance: 12 }).payload(), "both paths write the same balance event");
    // Too few credits, a deleted upload, a revoked key: the general path's answers, nothing written.
    let before = (store.user(&me).await.unwrap().balance, store.events_after(&me, 0, 100).await.unwrap().len(), store.api_requests(&me, 100).await.unwrap().len());
    let dear = NewJob { cost: 13, ..api("dear", JobStatus::Queued) };
    assert!(matches!(store.create_job(dear).await, Err(StoreError::InsufficientCredits { balance: 12, needed: 13 })));
    let other = upload(&store, &me).await;
    store.delete_upload(&other, &me).await.unwrap();
    let gone = NewJob { upload_id: Some(&other), ..api("gone", JobStatus::Queued) };
    assert!(matches!(store.create_job(gone).await, Err(StoreError::NotFound)));
    store.revoke_api_key(&key.id, &me).await.unwrap();
    assert!(matches!(store.create_job(api("revoked", JobStatus::Queued)).await, Err(StoreError::NotFound)));
    let after = (store.user(&me).await.unwrap().balance, store.events_after(&me, 0, 100).await.unwrap().len(), store.api_requests(&me, 100).await.unwrap().len());
    assert_eq!(before, after, "no credit, event or log row for a refused creation");
    assert_eq!(store.creations_at_once(), 2);
    assert_lots_consistent(&store, &me).await;
}

/// Creations that arrive while a transaction runs commit together in the next one (group
/// commit), each whole or absent: a batch that mixes good creations with a reused
/// idempotency key, too few credits and a deleted upload writes exactly the good ones, and
/// the others get the general path's answers; a creation the database refuses fails alone.
/// With group commit off, each commits alone.
async fn creations_arriving_together_commit_together_each_whole_or_absent(b: Backend) {
    let store = fresh_store(b).await.with_group_commit(32);
    let mut members = Vec::new();
    for i in 0..6 {
        let m = member(&store, &format!("g{i}@example.com"), 10).await;
        let up = upload(&store, &m).await;
        members.push((m, up));
    }
    let poor = member(&store, "poor@example.com", 3).await;
    let poor_up = upload(&store, &poor).await;
    let gone = upload(&store, &members[2].0).await;
    store.delete_upload(&gone, &members[2].0).await.unwrap();
    let create = |user: &str, up: &str, key: &str| {
        let (store, user, up, key) = (store.clone(), user.to_string(), up.to_string(), key.to_string());
        tokio::spawn(async move { store.create_job(job(&user, &up, &key, 2)).await })
    };
    // Hold what the first batch needs (SQLite's one write connection; member 0's row on
    // PostgreSQL), so everything sent meanwhile waits for the next transaction.
    let mut held = store.begin_write().await.unwrap();
    sqlx::query("UPDATE users SET event_seq = event_seq WHERE id = $1").bind(&members[0].0).execute(&mut *held).await.unwrap();
    let first = create(&members[0].0, &members[0].1, "first");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut good = Vec::new();
    for (m, up) in &members {
        for k in 0..4 {
            good.push(create(m, up, &format!("k{k}")));
        }
    }
    let again = create(&members[1].0, &members[1].1, "k0");
    let poor_jobs = [create(&poor, &poor_up, "p0"), create(&poor, &poor_up, "p1")];
    let deleted = create(&members[2].0, &gone, "gone");
    tokio::time::sleep(Duration::from_millis(200)).await;
    held.commit().await.unwrap();

    assert!(first.await.unwrap().unwrap().1);
    let mut k0_of_member_1 = None;
    for (i, t) in good.into_iter().enumerate() {
        let (j, _) = t.await.unwrap().unwrap();
        if i == 4 {
            k0_of_member_1 = Some(j.id);
        }
    }
    // The same key twice in one batch: one job, created once, both answered with it.
    let (twin, _) = again.await.unwrap().unwrap();
    assert_eq!(Some(twin.id.clone()), k0_of_member_1, "the reused key answers the same job");
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE user_id = $1 AND idempotency_key = 'k0'").bind(&members[1].0).fetch_one(&store.pool).await.unwrap();
    assert_eq!(created, 1);
    let mut poor_answers = Vec::new();
    for t in poor_jobs {
        poor_answers.push(match t.await.unwrap() {
            Ok((_, true)) => "created",
            Err(StoreError::InsufficientCredits { balance: 1, needed: 2 }) => "too few credits",
            other => panic!("unexpected {other:?}"),
        });
    }
    poor_answers.sort();
    assert_eq!(poor_answers, ["created", "too few credits"], "3 credits cover one charge of 2");
    assert!(matches!(deleted.await.unwrap(), Err(StoreError::NotFound)), "a deleted upload makes no job");

    let stats = store.group_commit_stats();
    assert_eq!(stats.creations, 1 + 24 + 1 + 2 + 1, "every common creation went through a group commit");
    assert!(stats.largest > 1 && stats.transactions < stats.creations, "creations that arrived together shared a transaction: {stats:?}");
    assert!(stats.fallbacks >= 1, "a batch holding creations that did not apply ran again one by one: {stats:?}");
    assert!(stats.busy_micros >= stats.transactions, "every answered batch's time in its lane is counted: {stats:?}");
    assert!(stats.queued_micros > 0, "creations that arrived while a batch ran waited for a lane: {stats:?}");
    let expect = [(0, 5), (2, 4), (2, 4), (2, 4), (2, 4), (2, 4)];
    for ((m, _), (balance, jobs)) in members.iter().zip(expect) {
        assert_eq!(store.user(m).await.unwrap().balance, balance);
        assert_eq!(store.jobs_for_user(m, None, None, 100).await.unwrap().len(), jobs);
        let events = store.events_after(m, 0, 100).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "each member's events numbered without a gap");
        assert_eq!(events.iter().filter(|e| e.kind.as_str() == "job").count(), jobs, "a job event per creation");
        assert_ledger_consistent(&store, m).await;
        assert_lots_consistent(&store, m).await;
    }
    assert_eq!(store.user(&poor).await.unwrap().balance, 1);
    assert_ledger_consistent(&store, &poor).await;

    // A batch of good creations and one the database itself refuses (a template that does
    // not exist: its foreign key) writes the good ones; the error is that creation's alone.
    // Every lane is kept busy first (`lanes`: PostgreSQL runs several batches side by side,
    // SQLite one), each on a member's row held here, so the three arrive in one batch.
    let (a, b_) = (member(&store, "fk-a@example.com", 10).await, member(&store, "fk-b@example.com", 10).await);
    let (a_up, b_up) = (upload(&store, &a).await, upload(&store, &b_).await);
    let mut blockers = Vec::new();
    for i in 0..darkroom_store::jobs::group_commit::lanes(b) {
        let m = member(&store, &format!("blocker{i}@example.com"), 10).await;
        let up = upload(&store, &m).await;
        blockers.push((m, up));
    }
    let mut held = store.begin_write().await.unwrap();
    for (m, _) in &blockers {
        sqlx::query("UPDATE users SET event_seq = event_seq WHERE id = $1").bind(m).execute(&mut *held).await.unwrap();
    }
    let blocked: Vec<_> = blockers.iter().map(|(m, up)| create(m, up, "blocked")).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fine = [create(&a, &a_up, "fine-a"), create(&b_, &b_up, "fine-b")];
    let refused = {
        let (store, user, up) = (store.clone(), a.clone(), a_up.clone());
        tokio::spawn(async move { store.create_job(NewJob { template_id: Some("no-such-template"), ..job(&user, &up, "refused", 2) }).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    held.commit().await.unwrap();
    for t in blocked {
        assert!(t.await.unwrap().unwrap().1);
    }
    for t in fine {
        assert!(t.await.unwrap().unwrap().1, "a good creation beside a refused one is written");
    }
    match refused.await.unwrap() {
        Err(StoreError::GroupCommit(e)) => panic!("one creation's error failed its whole batch: {e:?}"),
        Err(_) => {}
        Ok(j) => panic!("a job with no such template: {j:?}"),
    }
    assert_eq!((store.user(&a).await.unwrap().balance, store.user(&b_).await.unwrap().balance), (8, 8));
    assert_eq!(store.jobs_for_user(&a, None, None, 10).await.unwrap().len(), 1);
    let grouped = store.group_commit_stats();
    assert!(grouped.fallbacks > stats.fallbacks, "that batch ran again one by one: {grouped:?}");

    // Off: each creation commits on its own, outside any group.
    let alone = store.clone().with_group_commit(1);
    let (j, created) = alone.create_job(job(&members[1].0, &members[1].1, "alone", 2)).await.unwrap();
    assert!(created && j.status == JobStatus::Queued);
    assert_eq!(alone.group_commit_stats().creations, grouped.creations, "not grouped");
    assert_eq!(store.user(&members[1].0).await.unwrap().balance, 0);
}

/// A member's creations that arrive together share a group commit (on PostgreSQL one
/// set-based statement for the whole batch) and write exactly what they would write one after
/// another in arrival order: each charge's balance after it, the job and balance events
/// numbered on in that order (and stored in it), each job's decisions, its request log row,
/// and the one lot drawn down by each.
async fn one_members_creations_in_one_batch_write_what_one_by_one_writes(b: Backend) {
    use darkroom_store::api::NewApiKey;
    use darkroom_store::jobs::{ApiOrigin, RequestLog};
    let store = fresh_store(b).await.with_group_commit(32);
    let me = member(&store, "batch@example.com", 20).await;
    let up = upload(&store, &me).await;
    let key = store
        .create_api_key(NewApiKey {
            user_id: &me, name: "k", prefix: "dk_batchbat", secret_hash: "hb", scopes: "generate", cap_credits: None, cap_period: None, expires_at: None,
        })
        .await
        .unwrap();
    let log = RequestLog { key_prefix: "dk_batchbat", method: "POST", route: "/api/v1/generations" };
    let decisions = [decision("prompt", "allow", None), decision("upload", "allow", None)];
    let held_decisions = [decision("prompt", "allow", None), decision("upload", "review", Some("sexual"))];
    let create = |k: &'static str, cost: i64, review: bool| {
        let (store, me, up, key_id) = (store.clone(), me.clone(), up.clone(), key.id.clone());
        let (decisions, held) = (decisions.clone(), held_decisions.clone());
        tokio::spawn(async move {
            let gates = if review {
                Gates { status: JobStatus::Review, category: None, message: None, decisions: &held, strike: None }
            } else {
                Gates { status: JobStatus::Queued, category: None, message: None, decisions: &decisions, strike: None }
            };
            let new = NewJob { api: Some(ApiOrigin { key_id: &key_id, request_hash: k, cap: None, log: Some(log) }), gates, ..job(&me, &up, k, cost) };
            store.create_job(new).await
        })
    };
    // Hold what the first batch needs (SQLite's one write connection; the member's row on
    // PostgreSQL), so the three sent meanwhile wait and then commit together.
    let mut held = store.begin_write().await.unwrap();
    sqlx::query("UPDATE users SET event_seq = event_seq WHERE id = $1").bind(&me).execute(&mut *held).await.unwrap();
    let first = create("first", 1, false);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut rest = Vec::new();
    for (k, cost, review) in [("k1", 2, false), ("k2", 3, true), ("k3", 4, false)] {
        rest.push((k, cost, create(k, cost, review)));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    held.commit().await.unwrap();
    let mut jobs = vec![("first", 1, first.await.unwrap().unwrap().0)];
    for (k, cost, t) in rest {
        let (j, created) = t.await.unwrap().unwrap();
        assert!(created);
        jobs.push((k, cost, j));
    }
    let stats = store.group_commit_stats();
    assert_eq!((stats.transactions, stats.largest, stats.fallbacks), (2, 3, 0), "the three that arrived together were written as one set: {stats:?}");
    assert_eq!(store.creations_at_once(), 4, "none took the general path");

    assert_eq!(store.user(&me).await.unwrap().balance, 10);
    let ledger = store.ledger(&me, 10).await.unwrap();
    let events = store.events_after(&me, 0, 100).await.unwrap();
    let mut balance = 20;
    for (i, (k, cost, j)) in jobs.iter().enumerate() {
        balance -= cost;
        assert_eq!((j.cost, j.status, j.request_hash.as_deref()), (*cost, if *k == "k2" { JobStatus::Review } else { JobStatus::Queued }, Some(*k)));
        assert_eq!(&store.job(&j.id, &me).await.unwrap(), j, "the answer is the stored row");
        let entry = ledger.iter().find(|e| e.job_id.as_deref() == Some(j.id.as_str())).expect("its charge");
        assert_eq!((entry.kind.as_str(), entry.amount, entry.balance_after), ("charge", -cost, balance), "{k}: charged in arrival order");
        let draws: Vec<i64> = sqlx::query_scalar("SELECT amount FROM lot_draws WHERE entry_id = $1").bind(&entry.id).fetch_all(&store.pool).await.unwrap();
        assert_eq!(draws, [*cost], "{k}: drawn from the one lot");
        // After the grant's events: each creation's job event, then its balance event.
        let seq = events.iter().find(|e| e.kind.as_str() == "job").expect("the first job event").seq + 2 * i as i64;
        let job_event = events.iter().find(|e| e.seq == seq).expect("the job event");
        assert_eq!((job_event.kind.as_str(), job_event.payload.clone()), ("job", darkroom_contract::LiveEvent::Job(j.state()).payload()), "{k}");
        let balance_event = events.iter().find(|e| e.seq == seq + 1).expect("the balance event");
        assert_eq!((balance_event.kind.as_str(), balance_event.payload.as_str()), ("balance", format!("{{\"balance\":{balance}}}").as_str()), "{k}");
        let got = store.decisions_for_job(&j.id).await.unwrap();
        assert_eq!(got.len(), 2, "{k}: its decisions");
        assert!(got.iter().all(|d| d.user_id == me && d.job_id.as_deref() == Some(j.id.as_str())));
        assert_eq!(got.iter().any(|d| d.decision.as_str() == "review"), *k == "k2");
    }
    let seqs_by_id: Vec<i64> = sqlx::query_scalar("SELECT seq FROM events WHERE user_id = $1 ORDER BY id").bind(&me).fetch_all(&store.pool).await.unwrap();
    assert_eq!(seqs_by_id, (1..=seqs_by_id.len() as i64).collect::<Vec<_>>(), "stored in the order they are numbered");
    let logged = store.api_requests(&me, 10).await.unwrap();
    assert_eq!(logged.len(), 4, "one log row per created generation");
    assert!(logged.iter().all(|r| r.status == 201 && r.route == "/api/v1/generations"));
    assert_eq!(logged.iter().map(|r| r.cost).sum::<i64>(), 10);
    assert_lots_consistent(&store, &me).await;
}

/// PostgreSQL only (its listener carries notices between nodes): a job created through a set
/// (group commit, the default) wakes another node's watchers of the member and of the queue,
/// through the notices the set sends just after its commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_set_notifies_other_nodes_after_its_commit() {
    let store = fresh_store(darkroom_store::Backend::Postgres).await;
    let user = member(&store, "notice@example.com", 10).await;
    let up = upload(&store, &user).await;
    let node_b = Store::connect(store.url()).await.unwrap();
    tokio::spawn(darkroom_store::live::listen(node_b.clone()));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !node_b.hub.listening() {
        assert!(std::time::Instant::now() < deadline, "node B's listener connects");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut member_watch = node_b.watch_member(&user);
    let mut queued = node_b.watch_queue();
    queued.borrow_and_update();
    store.create_job(job(&user, &up, "notice", 1)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), member_watch.changed()).await.expect("node B hears of the member's new events");
    tokio::time::timeout(Duration::from_secs(5), queued.changed()).await.expect("node B hears of the queued job").unwrap();
}
