//! Group commit for job creation's common case ([`Store::create_job`]): the creations that
//! arrive together share one transaction and one commit.
//!
//! One commit per generation was the floor of `POST /api/v1/generations` under load: every
//! commit writes the pages it touched (SQLite's WAL frames; PostgreSQL's WAL record and
//! flush), and a generation touches ten rows in eight tables. Here each caller hands its
//! creation, as a row of a set ([`SetRow`]), to a queue. Whoever finds fewer drain tasks
//! running than the backend's lanes ([`lanes`]: SQLite has one writer, PostgreSQL takes
//! several) starts one; a drain task takes every creation waiting (at most
//! [`Store::group_commit_max`]) of members no other lane is running, writes them, and only
//! then answers every caller. Nothing waits for a batch to fill: a lone request is a batch of
//! one, and a batch forms from the requests that arrived while the last one ran.
//!
//! How a batch is written ([`write_set`]): each table once for all its creations, from JSON
//! sets, so the per-statement cost (parsing, planning, a round trip or a hand-off to SQLite's
//! worker thread) is paid once per batch rather than once per creation.
//! - SQLite: the whole transaction as one multi-statement query on the writer
//!   ([`SQLITE_SET_BATCH_SQL`]: `BEGIN IMMEDIATE`, the set, checks, `COMMIT`), which stops
//!   before its commit, and is rolled back, unless every creation's rows are there.
//! - PostgreSQL: one statement ([`PG_SET_BATCH_SQL`]) that writes nothing unless every
//!   creation applied.
//!
//! If any creation of a batch did not apply, nothing of the batch is written and each
//! creation is then written alone, as a set of one, with its own answer. With group commit
//! off ([`Store::group_commit_max`] 1) every creation is a set of one: one way to write a
//! creation, whatever the load.
//!
//! What it keeps:
//! - Each creation is whole or absent; one that did not apply takes the general path, in a
//!   transaction of its own, with its exact answer.
//! - A member's creations in one batch are written as they would be one after another in
//!   arrival order: balances after each charge, event numbers, the lot drawn.
//! - An answer comes only after the commit, so no caller reports a job that is not durable.
//!   A batch whose set failed is written again creation by creation, so one creation's error
//!   fails that creation only; a creation the failed set did write (a commit whose answer was
//!   lost) is not written twice: its job's id is taken, and the general path answers with the
//!   job its idempotency key already names.
//! - Lock order: no two lanes of a process run the same member's creations at once; a batch
//!   takes members' rows in member id order (SQLite: creations sorted; PostgreSQL: the rows
//!   locked in id order first), so batches of two nodes cannot deadlock on them either.
//! - A batch holds at most [`MAX_BATCH`] creations: each caller's answer waits for its whole
//!   batch, so the cap bounds that wait.
//! - A drain task that ends early (a panic, the runtime shutting down) drops what it held,
//!   so its callers get an error rather than waiting for ever, and the next caller starts a
//!   new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::AnyPool;
use tokio::sync::oneshot;

use super::Job;
use crate::{Backend, Result, Store, StoreError};

/// The most creations one transaction holds: each caller's answer waits for its whole batch.
pub const MAX_BATCH: usize = 32;

/// One creation of [`Store::create_job_at_once`]: the member it charges (the batch's lock
/// order), the creation as a row of a set ([`SetRow`]), and where its answer goes.
pub(super) struct Creation {
    pub user_id: String,
    pub set_row: SetRow,
    reply: Option<oneshot::Sender<Result<Option<Job>>>>,
    /// When it joined the queue ([`GroupCommitStats::queued_micros`]).
    queued_at: std::time::Instant,
}

impl Creation {
    pub fn new(user_id: String, set_row: SetRow) -> Self {
        Self { user_id, set_row, reply: None, queued_at: std::time::Instant::now() }
    }
}

/// A creation as one row of a set-based batch ([`PG_SET_BATCH_SQL`], [`SQLITE_SET_BATCH_SQL`]).
#[derive(Debug)]
pub(super) struct SetRow {
    /// The job's id.
    pub id: String,
    /// The job's columns and the rows that come with it, as [`PG_SET_BATCH_SQL`]'s `i` reads
    /// them (a JSON object: `id`, `user_id`, …, `entry_id`, `entry_key`, `payload`, `log_id`, …;
    /// `k` and `before` are added per set by [`set_inputs`]).
    pub creation: serde_json::Map<String, serde_json::Value>,
    /// Its gate decisions, as rows of `moderation_decisions` (JSON objects).
    pub decisions: Vec<serde_json::Value>,
    /// Credits charged (> 0).
    pub cost: i64,
    /// Its time (Unix ms): lots live and due at this time.
    pub now: i64,
    /// The job starts `queued` (idle workers are woken).
    pub queued: bool,
}

/// The queue of creations waiting for a transaction, whether a task drains it, and what
/// the batches so far held.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    stats: Mutex<GroupCommitStats>,
}

/// What this process's group commits held so far ([`Store::group_commit_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Transactions that ran one or more creations.
    pub transactions: u64,
    /// Creations they ran (applied or not).
    pub creations: u64,
    /// The most creations one transaction ran.
    pub largest: u64,
    /// Batches written as sets that did not apply whole (a creation in them did not apply)
    /// and so ran again creation by creation.
    pub fallbacks: u64,
    /// Microseconds the lanes spent on batches, from taking one to having its answers (summed
    /// over lanes): over a load's wall time, how busy the lanes were.
    pub busy_micros: u64,
    /// Microseconds creations waited in the queue before a lane took them (summed): over
    /// `creations`, the mean wait for a lane.
    pub queued_micros: u64,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<Creation>,
    /// Drain tasks running, at most [`lanes`].
    drains: usize,
    /// Members whose creations a drain task is running now: no other lane takes theirs, so
    /// two batches never wait on each other's rows.
    busy: std::collections::HashSet<String>,
}

impl Queue {
    /// Takes up to `max` waiting creations, in arrival order, of members no other lane is
    /// running, and marks those members busy.
    fn take(&mut self, max: usize) -> Vec<Creation> {
        let (mut taken, mut left) = (Vec::new(), Vec::with_capacity(self.waiting.len()));
        let mut mine = std::collections::HashSet::new();
        for c in self.waiting.drain(..) {
            if taken.len() < max && (mine.contains(&c.user_id) || !self.busy.contains(&c.user_id)) {
                mine.insert(c.user_id.clone());
                taken.push(c);
            } else {
                left.push(c);
            }
        }
        self.waiting = left;
        self.busy.extend(mine);
        taken
    }
}

impl std::fmt::Debug for Creation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creation").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

impl Store {
    /// What this process's group commits held so far: transactions, creations, the largest.
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        *self.group.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `creation` in the next group commit and returns its job once committed, or
    /// `None` (nothing of it written) when a step did not apply.
    ///
    /// Errors: a database error of this creation (nothing of it written), or
    /// [`StoreError::GroupCommit`] when the drain task running its batch ended before it
    /// answered (a panic, the runtime shutting down).
    pub(super) async fn create_in_group(&self, mut creation: Creation) -> Result<Option<Job>> {
        let (reply, answer) = oneshot::channel();
        creation.reply = Some(reply);
        let start = {
            let mut queue = self.group.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.waiting.push(creation);
            let start = queue.drains < lanes(self.backend);
            queue.drains += usize::from(start);
            start
        };
        if start {
            let (group, backend, pools, max) = (self.group.clone(), self.backend, self.set_pools(), self.group_commit_max);
            tokio::spawn(async move { drain(group, backend, pools, max).await });
        }
        answer.await.map_err(|_| StoreError::GroupCommit(Arc::new(sqlx::Error::WorkerCrashed.into())))?
    }

    /// Writes `creation` alone, as a set of one (group commit off), and returns its job, or
    /// `None` (nothing written) when a step did not apply.
    ///
    /// Errors: any database error (nothing written).
    pub(super) async fn create_alone(&self, creation: Creation) -> Result<Option<Job>> {
        let id = creation.set_row.id.clone();
        Ok(write_set(self.backend, &self.set_pools(), &mut Writer::default(), &[creation]).await?.and_then(|mut jobs| jobs.remove(&id)))
    }

    fn set_pools(&self) -> Pools {
        Pools { write: self.write_pool.clone(), notify: self.rate_pool.clone() }
    }
}

/// Where a set is written and, on PostgreSQL, where its notices go after the commit.
struct Pools {
    /// The store's write pool.
    write: AnyPool,
    /// Connections that commit without waiting for the disk (the rate-limit pool on
    /// PostgreSQL, which sends nothing but notices here).
    notify: AnyPool,
}

/// The notices a committed set owes other nodes (PostgreSQL's listeners, `crate::live`): each
/// member's event log changed, and a job is queued if one is.
fn notices(batch: &[Creation]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(batch.len() + 1);
    for c in batch {
        let member = crate::live::Notice::Member(&c.user_id).payload();
        if !out.contains(&member) {
            out.push(member);
        }
    }
    if batch.iter().any(|c| c.set_row.queued) {
        out.push(crate::live::Notice::Queued.payload());
    }
    out
}

/// Sends `notices` after a set's commit, as a transaction of their own on connections that
/// do not wait for the disk.
///
/// Why not inside the set's statement: PostgreSQL serializes every transaction that sends a
/// notice on one lock held through its commit (`PreCommit_Notify` in `async.c`: queue entries
/// must appear in commit order), so batches on several lanes that each notified waited for one
/// another's WAL flush. Here only this short transaction takes that lock. A notice is only a
/// wake-up (listeners read the committed rows), so sending it just after the commit is
/// enough. If it is lost (the database unreachable right then; it is logged), nothing is: idle
/// workers look for queued jobs every half second anyway, and the member's streams on other
/// nodes read the change at their next notice or safety poll (the server's `SAFETY_POLL`).
async fn notify_after(pool: AnyPool, notices: Vec<String>) {
    let payloads = serde_json::to_string(&notices).expect("JSON of strings");
    let sent = sqlx::query("SELECT COUNT(pg_notify($1, value)) FROM json_array_elements_text($2::json)")
        .bind(crate::live::CHANNEL)
        .bind(payloads)
        .execute(&pool)
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "notices of created jobs not sent");
    }
}

/// How many drain tasks may run at once: SQLite writes through one connection, so one;
/// PostgreSQL runs batches side by side on its pool (their member-id order keeps them from
/// deadlocking on members' rows), as many as its disk flushes well together.
pub fn lanes(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 4,
    }
}

/// Counts a drain task out however it ends. One that ends early (a panic, the runtime
/// shutting down) and was the last fails what it had not taken (their reply channels drop),
/// so no caller waits on a task that is gone.
struct DrainGuard {
    group: Arc<GroupCommit>,
    done: bool,
    /// The members of the batch running now (busy until it is answered).
    holding: Vec<String>,
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut queue = self.group.queue.lock().unwrap_or_else(|e| e.into_inner());
        for m in &self.holding {
            queue.busy.remove(m);
        }
        queue.drains = queue.drains.saturating_sub(1);
        if queue.drains == 0 {
            queue.waiting.clear();
        }
    }
}

async fn drain(group: Arc<GroupCommit>, backend: Backend, pools: Pools, max: usize) {
    let mut guard = DrainGuard { group, done: false, holding: Vec::new() };
    // SQLite's write connection, kept from one batch to the next while creations keep coming
    // (given back when the queue is empty, and at least every `HOLD_WRITER`).
    let mut writer = Writer::default();
    loop {
        let batch: Vec<Creation> = {
            let mut queue = guard.group.queue.lock().unwrap_or_else(|e| e.into_inner());
            for m in guard.holding.drain(..) {
                queue.busy.remove(&m);
            }
            let batch = queue.take(max.min(MAX_BATCH));
            if batch.is_empty() {
                // Nothing waiting, or only creations of members another lane is running
                // (that lane takes them when it comes back for more).
                queue.drains -= 1;
                guard.done = true;
                return;
            }
            guard.holding = batch.iter().map(|c| c.user_id.clone()).collect();
            batch
        };
        let taken_at = std::time::Instant::now();
        {
            let mut stats = guard.group.stats.lock().unwrap_or_else(|e| e.into_inner());
            stats.transactions += 1;
            stats.creations += batch.len() as u64;
            stats.largest = stats.largest.max(batch.len() as u64);
            stats.queued_micros += batch.iter().map(|c| taken_at.saturating_duration_since(c.queued_at).as_micros() as u64).sum::<u64>();
        }
        let (answers, fell_back) = run_set_batch(backend, &pools, &mut writer, batch).await;
        {
            // Counted before the answers, so a caller that has its answer sees its batch here.
            let mut stats = guard.group.stats.lock().unwrap_or_else(|e| e.into_inner());
            stats.fallbacks += u64::from(fell_back);
            stats.busy_micros += taken_at.elapsed().as_micros() as u64;
        }
        for (reply, answer) in answers {
            if let Some(reply) = reply {
                // A caller that left (its request dropped) misses its answer; its job stands.
                let _ = reply.send(answer);
            }
        }
    }
}

/// Everything a batch answers: each creation's reply channel with its answer.
type Answers = Vec<(Option<oneshot::Sender<Result<Option<Job>>>>, Result<Option<Job>>)>;

/// PostgreSQL's batch as one statement over sets: every creation of the batch in one
/// statement, one row per table write (the statement's cost is paid once per batch, not once
/// per creation), committing on its own. It writes exactly the rows [`Store::create_job`]'s
/// general path writes for each creation, in the order they would be written one after
/// another in arrival order: a member's k-th creation in the batch sees the balance, event
/// numbers and first lot its earlier ones left.
///
/// Inputs: `$1` the creations (`i`: a JSON array of [`SetRow::creation`] with `k`, the
/// creation's place among its member's, from 1, and `before`, the credits its member's
/// earlier ones in the batch take), `$2` the members (`m`: `user_id`, `total` credits,
/// `count` creations, `now` in Unix ms), `$3` the decisions. The notices for other nodes are
/// not sent in it but after its commit ([`notify_after`]). Each member's row is locked first,
/// in id order (`lk`), so batches of two processes cannot deadlock on members' rows. Every step applied for every creation,
/// or the statement raises (`darkroom_require`, migration 0019) and nothing is written.
static PG_SET_BATCH_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let cols = super::COLUMNS;
    let first_lot = format!("SELECT id FROM credit_lots WHERE {} LIMIT 1", crate::ledger::live_lots("m.user_id", "m.now"));
    let charge = crate::ledger::Kind::Charge.as_str();
    let (job_kind, balance_kind) = (darkroom_contract::EventKind::Job.as_str(), darkroom_contract::EventKind::Balance.as_str());
    format!(
        "WITH i AS (SELECT * FROM json_to_recordset($1::json) AS x(k bigint, before bigint, id text, user_id text, upload_id text, mode text, \
           params text, cost bigint, status text, visibility text, idempotency_key text, created_at bigint, prompt text, error text, \
           moderation_category text, style bigint, api_key_id text, request_hash text, style_upload_id text, template_id text, \
           request_id text, live_key text, entry_id text, entry_key text, payload text, log_id text, key_prefix text, method text, route text)), \
         m AS (SELECT * FROM json_to_recordset($2::json) AS x(user_id text, total bigint, count bigint, now bigint)), \
         lk AS (SELECT id FROM users WHERE id IN (SELECT user_id FROM m) ORDER BY id FOR UPDATE), \
         s AS (SELECT id, credit_additions FROM users WHERE id IN (SELECT user_id FROM m)), \
         j AS (INSERT INTO jobs (id, user_id, upload_id, mode, params, cost, status, visibility, idempotency_key, created_at, \
           prompt, error, moderation_category, style, api_key_id, request_hash, style_upload_id, template_id, request_id) \
           SELECT id, user_id, upload_id, mode, params, cost, status, visibility, idempotency_key, created_at, prompt, error, \
           moderation_category, style, api_key_id, request_hash, style_upload_id, template_id, request_id FROM i \
           WHERE (i.upload_id IS NULL OR EXISTS (SELECT 1 FROM uploads WHERE id = i.upload_id AND user_id = i.user_id AND deleted_at IS NULL)) \
           AND (i.style_upload_id IS NULL OR EXISTS (SELECT 1 FROM uploads WHERE id = i.style_upload_id AND user_id = i.user_id AND deleted_at IS NULL)) \
           AND (i.live_key IS NULL OR EXISTS (SELECT 1 FROM api_keys WHERE id = i.live_key AND user_id = i.user_id AND revoked_at IS NULL)) \
           RETURNING {cols}), \
         u AS (UPDATE users SET balance = users.balance - m.total, event_seq = users.event_seq + 2 * m.count FROM m JOIN s ON s.id = m.user_id \
           WHERE users.id = m.user_id AND users.balance >= m.total AND users.credit_additions = s.credit_additions \
           AND (SELECT COUNT(*) FROM lk) = (SELECT COUNT(*) FROM m) \
           AND NOT EXISTS (SELECT 1 FROM credit_lots WHERE user_id = m.user_id AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= m.now) \
           RETURNING users.id, users.balance + m.total AS balance_before, users.event_seq - 2 * m.count AS seq_before), \
         f AS (SELECT m.user_id, m.total, l.id FROM m CROSS JOIN LATERAL ({first_lot}) l), \
         lot AS (UPDATE credit_lots SET remaining = credit_lots.remaining - f.total FROM f \
           WHERE credit_lots.id = f.id AND credit_lots.remaining >= f.total AND EXISTS (SELECT 1 FROM u WHERE u.id = f.user_id) \
           RETURNING credit_lots.id, f.user_id), \
         e AS (INSERT INTO ledger_entries (id, user_id, kind, amount, balance_after, reason, job_id, idempotency_key, created_at) \
           SELECT i.entry_id, i.user_id, '{charge}', -i.cost, u.balance_before - i.before - i.cost, 'generation', i.id, i.entry_key, i.created_at \
           FROM i JOIN u ON u.id = i.user_id), \
         dr AS (INSERT INTO lot_draws (entry_id, lot_id, amount) SELECT i.entry_id, lot.id, i.cost FROM i JOIN lot ON lot.user_id = i.user_id), \
         ev AS (INSERT INTO events (user_id, seq, kind, payload, created_at) \
           SELECT x.user_id, x.seq, x.kind, x.payload, x.created_at FROM ( \
             SELECT i.user_id, u.seq_before + 2 * i.k - 1 AS seq, '{job_kind}' AS kind, i.payload, i.created_at FROM i JOIN u ON u.id = i.user_id \
             UNION ALL SELECT i.user_id, u.seq_before + 2 * i.k, '{balance_kind}', '{{\"balance\":' || (u.balance_before - i.before - i.cost) || '}}', \
             i.created_at FROM i JOIN u ON u.id = i.user_id) x ORDER BY x.user_id, x.seq), \
         l AS (INSERT INTO api_requests (id, user_id, api_key_id, key_prefix, method, route, status, cost, created_at) \
           SELECT log_id, user_id, api_key_id, key_prefix, method, route, 201, cost, created_at FROM i WHERE log_id IS NOT NULL), \
         d AS (INSERT INTO moderation_decisions (id, job_id, user_id, gate, decision, category, detector, labels, policy_version, actor_id, reason, created_at) \
           SELECT * FROM json_to_recordset($3::json) AS x(id text, job_id text, user_id text, gate text, decision text, category text, detector text, \
           labels text, policy_version text, actor_id text, reason text, created_at bigint)), \
         ok AS (SELECT darkroom_require((SELECT COUNT(*) FROM j) = (SELECT COUNT(*) FROM i) AND (SELECT COUNT(*) FROM u) = (SELECT COUNT(*) FROM m) \
           AND (SELECT COUNT(*) FROM lot) = (SELECT COUNT(*) FROM m), 'job creations in one statement') AS applied) \
         SELECT ok.applied, j.* FROM ok LEFT JOIN j ON true"
    )
});

/// The inputs of a set ([`PG_SET_BATCH_SQL`], [`SQLITE_SET_BATCH_SQL`]) for `batch` (sorted
/// by member, arrival order within one): the creations (each [`SetRow::creation`] with `k`,
/// its place among its member's from 1, and `before`, the credits its member's earlier ones
/// take), the members (`user_id`, `total` credits, `count` creations, `now` the latest time)
/// and the decisions, as JSON text.
fn set_inputs(batch: &[Creation]) -> (String, String, String) {
    #[derive(serde::Serialize)]
    struct Placed<'a> {
        k: i64,
        before: i64,
        #[serde(flatten)]
        creation: &'a serde_json::Map<String, serde_json::Value>,
    }
    #[derive(serde::Serialize)]
    struct Member<'a> {
        user_id: &'a str,
        total: i64,
        count: i64,
        now: i64,
    }
    let (mut creations, mut members) = (Vec::with_capacity(batch.len()), Vec::<Member>::new());
    for c in batch {
        let row = &c.set_row;
        match members.last_mut() {
            Some(m) if m.user_id == c.user_id => {}
            _ => members.push(Member { user_id: &c.user_id, total: 0, count: 0, now: 0 }),
        }
        let m = members.last_mut().expect("pushed above");
        creations.push(Placed { k: m.count + 1, before: m.total, creation: &row.creation });
        m.total += row.cost;
        m.count += 1;
        m.now = m.now.max(row.now);
    }
    let decisions: Vec<&serde_json::Value> = batch.iter().flat_map(|c| &c.set_row.decisions).collect();
    // Maps with string keys and plain values: serializing them cannot fail.
    fn text(v: &impl serde::Serialize) -> String {
        serde_json::to_string(v).expect("JSON of plain values")
    }
    (text(&creations), text(&members), text(&decisions))
}

/// Writes `batch` as one set ([`write_set`]) and answers each creation. If a step did not
/// apply for any creation of a batch of several (a deleted upload, too few credits for a
/// member's creations together, a key used before), or the set failed (an error that may be
/// one creation's own), nothing was written and each creation is then written alone, as a
/// set of one, with its own answer (it is rare: see [`GroupCommitStats::fallbacks`]; a
/// creation written meanwhile cannot be written twice, its job's id is taken). A batch of one
/// answers with its own result, error included. Also returns whether it fell back.
async fn run_set_batch(backend: Backend, pools: &Pools, writer: &mut Writer, mut batch: Vec<Creation>) -> (Answers, bool) {
    batch.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    match write_set(backend, pools, writer, &batch).await {
        Ok(Some(jobs)) => (answered(batch, jobs), false),
        Ok(None) if batch.len() == 1 => (batch.into_iter().map(|c| (c.reply, Ok(None))).collect(), false),
        Err(e) if batch.len() == 1 => {
            let alone = batch.pop().expect("one creation");
            (vec![(alone.reply, Err(e))], false)
        }
        Ok(None) | Err(_) => {
            let mut answers: Answers = Vec::with_capacity(batch.len());
            for c in batch {
                let one = std::slice::from_ref(&c);
                let answer = write_set(backend, pools, writer, one).await.map(|jobs| jobs.and_then(|mut jobs| jobs.remove(&c.set_row.id)));
                answers.push((c.reply, answer));
            }
            (answers, true)
        }
    }
}

/// Writes `batch` (sorted by member, arrival order within one) as one set, committed on its
/// own: [`PG_SET_BATCH_SQL`] on PostgreSQL, [`SQLITE_SET_BATCH_SQL`] in one write transaction
/// on SQLite. Returns the jobs by id when every creation applied, or `None` with nothing
/// written when any did not ([`super::not_applied`]; on SQLite also rows counted short).
///
/// Errors: any other database error (nothing written).
async fn write_set(backend: Backend, pools: &Pools, writer: &mut Writer, batch: &[Creation]) -> Result<Option<HashMap<String, Job>>> {
    use sqlx::FromRow;
    let (creations, members, decisions) = set_inputs(batch);
    if backend == Backend::Postgres {
        let rows = sqlx::query(&PG_SET_BATCH_SQL).bind(creations).bind(members).bind(decisions).fetch_all(&pools.write).await.map_err(StoreError::from);
        return match rows {
            Ok(rows) => {
                tokio::spawn(notify_after(pools.notify.clone(), notices(batch)));
                Ok(Some(rows.iter().map(|row| Job::from_row(row).map(|job| (job.id.clone(), job))).collect::<sqlx::Result<_>>()?))
            }
            Err(e) if super::not_applied(&e) => Ok(None),
            Err(e) => Err(e),
        };
    }
    let member_count = batch.windows(2).filter(|w| w[0].user_id != w[1].user_id).count() + 1;
    // One hand-off to SQLite's thread for the whole transaction. Until it is known to have
    // ended (committed or rolled back), the connection is closed rather than given back to
    // the pool should this future be dropped: an open transaction must never be reused.
    // A connection kept too long goes back to the pool first (it is the pool's only one).
    let kept = writer.0.take().filter(|(_, since)| since.elapsed() < HOLD_WRITER);
    let (conn, since) = match kept {
        Some(kept) => kept,
        None => (pools.write.acquire().await?, std::time::Instant::now()),
    };
    let mut conn = WriterConnection { conn: Some(conn), open: true };
    let rows = sqlx::query(&SQLITE_SET_BATCH_SQL)
        .bind(creations)
        .bind(members)
        .bind(decisions)
        .bind(batch.len() as i64)
        .bind(member_count as i64)
        .fetch_all(conn.get())
        .await
        .map_err(StoreError::from);
    match rows {
        Ok(rows) => {
            writer.keep(conn.ended(), since);
            Ok(Some(rows.iter().map(|row| Job::from_row(row).map(|job| (job.id.clone(), job))).collect::<sqlx::Result<_>>()?))
        }
        Err(e) => {
            // The statement that failed left the transaction open (or `BEGIN` itself failed).
            match sqlx::query("ROLLBACK").execute(conn.get()).await {
                Ok(_) => writer.keep(conn.ended(), since),
                Err(r) if r.to_string().contains("no transaction is active") => writer.keep(conn.ended(), since),
                Err(r) => tracing::warn!(error = %r, "rollback after a failed set; closing the connection"),
            }
            if super::not_applied(&e) || short_step(&e) { Ok(None) } else { Err(e) }
        }
    }
}

/// SQLite's write connection while a set's own transaction runs on it: closed on drop unless
/// [`WriterConnection::ended`] says the transaction is over.
struct WriterConnection {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    open: bool,
}

impl WriterConnection {
    fn get(&mut self) -> &mut sqlx::AnyConnection {
        self.conn.as_deref_mut().expect("held until ended")
    }

    /// The transaction is over: the connection may be used again.
    fn ended(mut self) -> sqlx::pool::PoolConnection<sqlx::Any> {
        self.open = false;
        self.conn.take().expect("held until ended")
    }
}

impl Drop for WriterConnection {
    fn drop(&mut self) {
        if let (true, Some(conn)) = (self.open, self.conn.as_mut()) {
            conn.close_on_drop();
        }
    }
}

/// The longest a drain task keeps SQLite's write connection across batches before giving it
/// back to the pool, so other writers (workers, sign-ins) wait at most about this long.
const HOLD_WRITER: std::time::Duration = std::time::Duration::from_millis(20);

/// SQLite's write connection as a drain task keeps it between batches, with when it was taken
/// (none on PostgreSQL, whose lanes each run one statement on the pool).
#[derive(Default)]
struct Writer(Option<(sqlx::pool::PoolConnection<sqlx::Any>, std::time::Instant)>);

impl Writer {
    /// Keeps `conn` (taken at `since`) for the next batch.
    fn keep(&mut self, conn: sqlx::pool::PoolConnection<sqlx::Any>, since: std::time::Instant) {
        self.0 = Some((conn, since));
    }
}

/// Whether `e` is a set's check that a step applied to fewer rows than it must (SQLite:
/// `darkroom_require` in [`SQLITE_SET_BATCH_SQL`]).
fn short_step(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(d)) if d.message().contains(SQLITE_REQUIRE))
}

/// Each creation of a set batch that applied whole, answered with its job from `jobs`.
fn answered(batch: Vec<Creation>, mut jobs: HashMap<String, Job>) -> Answers {
    batch
        .into_iter()
        .map(|c| {
            // Written with the batch (every creation was checked to apply).
            let job = jobs.remove(&c.set_row.id);
            (c.reply, job.map(Some).ok_or(StoreError::NotFound))
        })
        .collect()
}

/// SQLite's batch as sets: its whole transaction as one multi-statement query on the writer
/// (`BEGIN IMMEDIATE` … `COMMIT`), each table written once for the whole batch from the JSON
/// sets of [`PG_SET_BATCH_SQL`] (`$1` creations, `$2` members, `$3` decisions; `$4` how many
/// creations, `$5` how many members), so the batch costs one hand-off to SQLite's worker
/// thread. SQLite has no data-modifying CTEs, so the steps are statements in order: the jobs
/// (rows as wide as [`super::COLUMNS`], the query's only rows), the debits, the ledger entries,
/// the draws from each member's first live lot that covers its creations together, the lots,
/// the events, the request log rows and the decisions. After the jobs, the debits and the
/// draws, a check (`changes()`, the rows the step before wrote) inserts a row that breaks the
/// `darkroom_require` constraint of a temporary table when the step wrote fewer rows than it
/// must, which stops the query before `COMMIT`; the caller then rolls back. Each statement
/// reads the sets through materialized CTEs (`i`, `m`): the JSON text is parsed once per
/// statement, each field taken once per row. The writer's lock (`BEGIN IMMEDIATE`) keeps every
/// read current.
static SQLITE_SET_BATCH_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let cols = super::COLUMNS;
    let charge = crate::ledger::Kind::Charge.as_str();
    let (job_kind, balance_kind) = (darkroom_contract::EventKind::Job.as_str(), darkroom_contract::EventKind::Balance.as_str());
    let job_cols = "id, user_id, upload_id, mode, params, cost, status, visibility, idempotency_key, created_at, prompt, error, \
         moderation_category, style, api_key_id, request_hash, style_upload_id, template_id, request_id";
    let fields = format!("k, before, {job_cols}, live_key, entry_id, entry_key, payload, log_id, key_prefix, method, route");
    // `json_each` renders an element's `value` as text each time it is named: name it once
    // (`raw`), then take each field from that text (parsed once, from SQLite's JSON cache).
    let taken: Vec<String> = fields.split(", ").map(|f| format!("v ->> '{f}' AS {f}")).collect();
    let i = format!("raw AS MATERIALIZED (SELECT value AS v FROM json_each($1)), i AS MATERIALIZED (SELECT {} FROM raw)", taken.join(", "));
    let m = "m AS MATERIALIZED (SELECT value ->> 'user_id' AS user_id, value ->> 'total' AS total, value ->> 'count' AS count, \
         value ->> 'now' AS now FROM json_each($2))";
    let first_lot = format!("(SELECT id FROM credit_lots WHERE {} LIMIT 1)", crate::ledger::live_lots("m.user_id", "m.now"));
    // Each creation with its member's totals and the member's row after the debit.
    let joined = "i JOIN m ON m.user_id = i.user_id JOIN users u ON u.id = m.user_id";
    let balance_after = "u.balance + m.total - i.before - i.cost";
    let seq_before = "u.event_seq - 2 * m.count";
    // Adds nothing when `changes()` (the step before) is `$n`; otherwise a row that fails.
    let require = |step: &str, n: &str| format!("INSERT INTO temp.{SQLITE_REQUIRE} (step, ok) SELECT '{step}', 0 WHERE changes() <> {n}");
    [
        "BEGIN IMMEDIATE".to_string(),
        format!("CREATE TEMP TABLE IF NOT EXISTS {SQLITE_REQUIRE} (step TEXT NOT NULL, ok INTEGER NOT NULL, CONSTRAINT {SQLITE_REQUIRE} CHECK (ok = 1))"),
        format!(
            "WITH {i} INSERT INTO jobs ({job_cols}) SELECT {job_cols} FROM i \
             WHERE (i.upload_id IS NULL OR EXISTS (SELECT 1 FROM uploads WHERE id = i.upload_id AND user_id = i.user_id AND deleted_at IS NULL)) \
             AND (i.style_upload_id IS NULL OR EXISTS (SELECT 1 FROM uploads WHERE id = i.style_upload_id AND user_id = i.user_id AND deleted_at IS NULL)) \
             AND (i.live_key IS NULL OR EXISTS (SELECT 1 FROM api_keys WHERE id = i.live_key AND user_id = i.user_id AND revoked_at IS NULL)) \
             RETURNING {cols}"
        ),
        require("jobs", "$4"),
        format!(
            "WITH {m} UPDATE users SET balance = balance - m.total, event_seq = event_seq + 2 * m.count FROM m \
             WHERE users.id = m.user_id AND users.balance >= m.total \
             AND NOT EXISTS (SELECT 1 FROM credit_lots WHERE user_id = m.user_id AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= m.now)"
        ),
        require("debits", "$5"),
        format!(
            "WITH {i}, {m} INSERT INTO ledger_entries (id, user_id, kind, amount, balance_after, reason, job_id, idempotency_key, created_at) \
             SELECT i.entry_id, u.id, '{charge}', -i.cost, {balance_after}, 'generation', i.id, i.entry_key, i.created_at FROM {joined}"
        ),
        format!(
            "WITH {i}, {m}, f AS MATERIALIZED (SELECT m.user_id, m.total, {first_lot} AS id FROM m) \
             INSERT INTO lot_draws (entry_id, lot_id, amount) SELECT i.entry_id, f.id, i.cost FROM i JOIN f ON f.user_id = i.user_id \
             WHERE (SELECT remaining FROM credit_lots WHERE id = f.id) >= f.total"
        ),
        require("draws", "$4"),
        format!(
            "WITH {i} UPDATE credit_lots SET remaining = remaining - (SELECT SUM(amount) FROM lot_draws WHERE lot_id = credit_lots.id AND entry_id IN (SELECT entry_id FROM i)) \
             WHERE id IN (SELECT lot_id FROM lot_draws WHERE entry_id IN (SELECT entry_id FROM i))"
        ),
        format!(
            "WITH {i}, {m} INSERT INTO events (user_id, seq, kind, payload, created_at) SELECT user_id, seq, kind, payload, created_at FROM ( \
             SELECT u.id AS user_id, {seq_before} + 2 * i.k - 1 AS seq, '{job_kind}' AS kind, i.payload AS payload, i.created_at AS created_at FROM {joined} \
             UNION ALL SELECT u.id, {seq_before} + 2 * i.k, '{balance_kind}', '{{\"balance\":' || ({balance_after}) || '}}', i.created_at FROM {joined}) \
             ORDER BY user_id, seq"
        ),
        format!(
            "WITH {i} INSERT INTO api_requests (id, user_id, api_key_id, key_prefix, method, route, status, cost, created_at) \
             SELECT log_id, user_id, api_key_id, key_prefix, method, route, 201, cost, created_at FROM i WHERE log_id IS NOT NULL"
        ),
        "INSERT INTO moderation_decisions (id, job_id, user_id, gate, decision, category, detector, labels, policy_version, actor_id, reason, created_at) \
         SELECT value ->> 'id', value ->> 'job_id', value ->> 'user_id', value ->> 'gate', value ->> 'decision', value ->> 'category', \
         value ->> 'detector', value ->> 'labels', value ->> 'policy_version', value ->> 'actor_id', value ->> 'reason', value ->> 'created_at' \
         FROM json_each($3)"
            .to_string(),
        "COMMIT".to_string(),
    ]
    .join("; ")
});

/// The constraint (and temporary table) whose failure means a step of [`SQLITE_SET_BATCH_SQL`]
/// wrote fewer rows than it must.
const SQLITE_REQUIRE: &str = "darkroom_require";
