//! Group commit for job creation's common case ([`Store::create_job`]): the creations that
//! arrive together share one transaction and one commit.
//!
//! One commit per generation was the floor of `POST /api/v1/generations` under load: every
//! commit writes the pages it touched (SQLite's WAL frames; PostgreSQL's WAL record and
//! flush), and a generation touches ten rows in eight tables. Here each caller hands its
//! creation (one statement, its arguments owned) to a queue. Whoever finds fewer drain tasks
//! running than the backend's lanes ([`lanes`]: SQLite has one writer, PostgreSQL takes
//! several) starts one; a drain task takes every creation waiting (at most
//! [`Store::group_commit_max`]), opens one write transaction, runs each inside its own
//! savepoint, rolls back to the savepoint any that did not apply, commits once, and only
//! then answers every caller. Nothing waits for a batch to fill: a lone request is a batch of
//! one, and a batch forms from the requests that arrived while the last one ran.
//!
//! What it keeps:
//! - Each creation is whole or absent: its savepoint undoes a step that did not apply (and
//!   its caller then takes the general path, in a transaction of its own).
//! - An answer comes only after the commit, so no caller reports a job that is not durable;
//!   a failed commit fails every creation of the batch ([`StoreError::GroupCommit`]), as a
//!   failed commit of a single creation would.
//! - Lock order: a batch runs its creations in member id order (arrival order within a
//!   member), so two batches (of two nodes on PostgreSQL) take members' rows in one order and
//!   cannot deadlock on them.
//! - PostgreSQL keeps 64 subtransactions per session in shared memory before it spills to
//!   `pg_subtrans` (`PGPROC_MAX_CACHED_SUBXIDS`); one creation is one savepoint, so a batch is
//!   capped below that ([`MAX_BATCH`]).
//! - A drain task that ends early (a panic, the runtime shutting down) drops what it held,
//!   so its callers get an error rather than waiting for ever, and the next caller starts a
//!   new one.

use std::sync::{Arc, Mutex};

use sqlx::any::AnyArguments;
use sqlx::{AnyPool, Executor};
use tokio::sync::oneshot;

use super::Job;
use crate::{Backend, Result, Store, StoreError};

/// The most creations one transaction holds (see the module's notes on savepoints).
pub const MAX_BATCH: usize = 32;

/// One creation handed to the queue: the statement of [`Store::create_job_at_once`] with its
/// arguments, the member it charges (the batch's lock order), and where its answer goes.
pub(super) struct Creation {
    pub sql: String,
    pub args: AnyArguments<'static>,
    pub user_id: String,
    reply: Option<oneshot::Sender<Result<Option<Job>>>>,
}

impl Creation {
    pub fn new(sql: String, args: AnyArguments<'static>, user_id: String) -> Self {
        Self { sql, args, user_id, reply: None }
    }
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
}

#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<Creation>,
    /// Drain tasks running, at most [`lanes`].
    drains: usize,
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
    /// Errors: a database error of this creation alone (nothing of it written), or
    /// [`StoreError::GroupCommit`] when the batch's transaction failed.
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
            let (group, backend, pool, max) = (self.group.clone(), self.backend, self.write_pool.clone(), self.group_commit_max);
            tokio::spawn(async move { drain(group, backend, pool, max).await });
        }
        answer.await.map_err(|_| StoreError::GroupCommit(Arc::new(sqlx::Error::WorkerCrashed.into())))?
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
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut queue = self.group.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.drains = queue.drains.saturating_sub(1);
        if queue.drains == 0 {
            queue.waiting.clear();
        }
    }
}

async fn drain(group: Arc<GroupCommit>, backend: Backend, pool: AnyPool, max: usize) {
    let mut guard = DrainGuard { group, done: false };
    loop {
        let batch: Vec<Creation> = {
            let mut queue = guard.group.queue.lock().unwrap_or_else(|e| e.into_inner());
            if queue.waiting.is_empty() {
                queue.drains -= 1;
                guard.done = true;
                return;
            }
            let n = queue.waiting.len().min(max.min(MAX_BATCH));
            queue.waiting.drain(..n).collect()
        };
        {
            let mut stats = guard.group.stats.lock().unwrap_or_else(|e| e.into_inner());
            stats.transactions += 1;
            stats.creations += batch.len() as u64;
            stats.largest = stats.largest.max(batch.len() as u64);
        }
        for (reply, answer) in run_batch(backend, &pool, batch).await {
            if let Some(reply) = reply {
                // A caller that left (its request dropped) misses its answer; its job stands.
                let _ = reply.send(answer);
            }
        }
    }
}

/// Everything a batch answers: each creation's reply channel with its answer.
type Answers = Vec<(Option<oneshot::Sender<Result<Option<Job>>>>, Result<Option<Job>>)>;

/// Runs `batch` in one write transaction and answers each creation (see the module's notes).
async fn run_batch(backend: Backend, pool: &AnyPool, mut batch: Vec<Creation>) -> Answers {
    batch.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    let mut answers: Answers = Vec::with_capacity(batch.len());
    let mut tx = match crate::begin_write_on(backend, pool).await {
        Ok(tx) => tx,
        Err(e) => return fail_all(batch.into_iter().map(|c| c.reply), answers, e),
    };
    let mut savepoint = "SAVEPOINT creation";
    let mut rest = batch.into_iter();
    while let Some(creation) = rest.next() {
        // On SQLite the savepoint goes first in the creation's own multi-statement query (one
        // hand-off to its worker thread, not two); PostgreSQL prepares the creation's
        // statement, so the savepoint is a simple query before it. Either fails only with the
        // transaction itself.
        let prefixed;
        let sql = if backend == Backend::Sqlite {
            prefixed = format!("{savepoint}; {}", creation.sql);
            &prefixed
        } else {
            if let Err(e) = (&mut *tx).execute(savepoint).await {
                return fail_all(std::iter::once(creation.reply).chain(rest.map(|c| c.reply)), answers, e.into());
            }
            &creation.sql
        };
        savepoint = "RELEASE SAVEPOINT creation; SAVEPOINT creation";
        let args: AnyArguments<'_> = creation.args;
        let answer = match sqlx::query_with(sql, args).fetch_all(&mut *tx).await {
            Ok(rows) => super::applied_at_once(backend, &rows),
            Err(e) => Err(e.into()),
        };
        let answer = match answer {
            Ok(Some(job)) => Ok(Some(job)),
            Err(e) if !super::not_applied(&e) => Err(e),
            // A step did not apply: undo this creation only.
            _ => Ok(None),
        };
        if !matches!(answer, Ok(Some(_))) {
            if let Err(e) = (&mut *tx).execute("ROLLBACK TO SAVEPOINT creation").await {
                return fail_all(std::iter::once(creation.reply).chain(rest.map(|c| c.reply)), answers, e.into());
            }
        }
        answers.push((creation.reply, answer));
    }
    if let Err(e) = tx.commit().await {
        return fail_all(std::iter::empty(), answers, e.into());
    }
    answers
}

/// The batch's transaction failed: every creation in it (answered or not) fails with `e`.
fn fail_all(unanswered: impl Iterator<Item = Option<oneshot::Sender<Result<Option<Job>>>>>, answered: Answers, e: StoreError) -> Answers {
    let cause = Arc::new(e);
    answered
        .into_iter()
        .map(|(reply, _)| reply)
        .chain(unanswered)
        .map(|reply| (reply, Err(StoreError::GroupCommit(cause.clone()))))
        .collect()
}
