//! The generation queue: jobs, their charge, their lease, their outcome.
//!
//! States: `queued` → `running` → `succeeded` | `rejected` | `failed` | `canceled`, and
//! `review` (moderation, SPEC §6): a job held before it runs, or a finished job whose result
//! stays hidden, until a moderator approves (→ `queued` / `succeeded`) or rejects it.
//! A job can also be created `rejected` when the prompt or upload gate blocks it: it is
//! charged and never refunded, and the gate's decision is recorded with it.
//! - Creation charges the cost and inserts the job in one transaction; an idempotency key
//!   (unique per member) makes a retried submission return the first job, charged once.
//! - Workers claim with a lease (`lease_owner`, `lease_until`). A worker that dies (kill -9)
//!   stops renewing; once the lease lapses any worker may claim the job again. Every state
//!   write is conditional on still holding the lease, so a stale worker's late write changes
//!   nothing: each job finishes exactly once.
//! - A technical failure refunds (when the operator's setting says so) and a cancel before
//!   start refunds; a moderation rejection never does (SPEC §3). Refunds carry the idempotency
//!   key `refund:<job id>`, so a job is refunded at most once.

pub use darkroom_contract::{Category, JobState, JobStatus, LiveEvent, Mode, Visibility};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::moderation::{decision_in, strike_in, NewDecision, StrikeRules};
use crate::{events, ledger, new_id, now_ms, Backend, BindArgs, Result, Store, StoreError};

pub mod group_commit;

/// A generation job as stored.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub id: String,
    pub user_id: String,
    /// The member's photo (`None` for text→image).
    pub upload_id: Option<String>,
    /// The style image's upload, for any-image-as-style generations.
    pub style_upload_id: Option<String>,
    pub mode: Mode,
    /// Engine parameters as JSON text.
    pub params: String,
    /// Credits charged at creation.
    pub cost: i64,
    pub status: JobStatus,
    /// 0..=100.
    pub progress: i64,
    /// For `failed`/`rejected`: what the member is told (a category, never internals).
    pub error: Option<String>,
    pub attempts: i64,
    pub result_key: Option<String>,
    pub thumb_key: Option<String>,
    pub result_hash: Option<String>,
    pub result_width: Option<i64>,
    pub result_height: Option<i64>,
    pub visibility: Visibility,
    pub created_at: i64,
    /// When the first attempt started (Unix ms).
    pub started_at: Option<i64>,
    /// When the latest attempt started (Unix ms): after a crash and a new claim, later than
    /// `started_at`.
    pub attempt_started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The member's prompt (may be empty), as checked by the prompt gate.
    pub prompt: String,
    /// For `rejected` or hidden items.
    pub moderation_category: Option<Category>,
    /// Set when a moderator hid the item everywhere.
    pub hidden_at: Option<i64>,
    /// Set while the owner allows the operator to showcase the item (SPEC §4).
    pub showcase_at: Option<i64>,
    /// The (first) style's engine index, 0..=24; -1 if none. A copy out of `params`, for filters.
    pub style: i64,
    /// The API key that created it (None: the web form).
    pub api_key_id: Option<String>,
    /// SHA-256 of the API request that created it (same idempotency key + other body → 409).
    pub request_hash: Option<String>,
    /// The template it was made with (`None`: made before templates were data).
    pub template_id: Option<String>,
    /// The HTTP request that created it (`x-request-id`), if it came through one.
    pub request_id: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, user_id, upload_id, style_upload_id, mode, params, cost, status, progress, error, attempts, result_key, thumb_key, \
     result_hash, result_width, result_height, visibility, created_at, started_at, attempt_started_at, finished_at, prompt, moderation_category, hidden_at, showcase_at, style, api_key_id, request_hash, template_id, request_id";

/// What a member's gallery shows (all `None`: everything not deleted).
#[derive(Clone, Debug, Default)]
pub struct GalleryFilter {
    /// Keep only this status.
    pub status: Option<JobStatus>,
    /// Keep only this (first) style, the engine's index.
    pub style: Option<i64>,
    /// Created at or after this time (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Created before this time (Unix milliseconds).
    pub until_ms: Option<i64>,
}

/// A job to create.
pub struct NewJob<'a> {
    pub user_id: &'a str,
    /// The member's photo (`None` for text→image).
    pub upload_id: Option<&'a str>,
    /// The template (its use count goes up by one with the job).
    pub template_id: Option<&'a str>,
    /// A second upload of the member's the generator reads (the style image).
    pub style_upload_id: Option<&'a str>,
    pub mode: Mode,
    pub params: &'a str,
    /// The (first) style's engine index (see [`Job::style`]).
    pub style: i64,
    pub cost: i64,
    pub visibility: Visibility,
    /// Client-chosen key; the same key returns the same job.
    pub idempotency_key: &'a str,
    pub prompt: &'a str,
    /// What the prompt and upload gates decided.
    pub gates: Gates<'a>,
    /// Set when an API key creates the job.
    pub api: Option<ApiOrigin<'a>>,
    /// The HTTP request that creates it (`x-request-id`), for the worker's logs.
    pub request_id: Option<&'a str>,
}

/// The API key a job is created with, and its spending cap.
pub struct ApiOrigin<'a> {
    pub key_id: &'a str,
    /// SHA-256 of the request (lowercase hex), kept with the job.
    pub request_hash: &'a str,
    /// `(credits, since_ms)`: the key may spend at most `credits` on jobs created since
    /// `since_ms` (refunded ones not counted), this one included.
    pub cap: Option<(i64, i64)>,
    /// The request's row in the member's API request log, written in the job's transaction
    /// (status 201, the job's cost), so a created generation is always logged and a failed
    /// creation never is. `None`: the caller logs the request itself.
    pub log: Option<RequestLog<'a>>,
}

/// An API request as the member's request log records it (`api_requests`).
#[derive(Clone, Copy, Debug)]
pub struct RequestLog<'a> {
    /// The key's visible prefix (`dk_…`).
    pub key_prefix: &'a str,
    /// `POST`, `GET`, ...
    pub method: &'a str,
    /// The route's pattern, e.g. `/api/v1/generations`.
    pub route: &'a str,
}

/// The outcome of the gates a job passes before it is queued.
pub struct Gates<'a> {
    /// `queued` (allowed), `review` (held for a moderator) or `rejected` (blocked): see
    /// [`JobStatus::can_start_as`].
    pub status: JobStatus,
    /// For `rejected`: the category the member sees, and the message.
    pub category: Option<Category>,
    pub message: Option<&'a str>,
    /// Every gate's decision, recorded with the job.
    pub decisions: &'a [NewDecision],
    /// Applied when `rejected` and the policy strikes automatic blocks.
    pub strike: Option<&'a StrikeRules>,
}

impl Gates<'_> {
    /// No moderation: queued, nothing recorded (store tests and tools).
    pub const ALLOW: Gates<'static> = Gates { status: JobStatus::Queued, category: None, message: None, decisions: &[], strike: None };
}

/// What a finished job produced.
pub struct JobOutput<'a> {
    pub result_key: &'a str,
    pub thumb_key: &'a str,
    pub result_hash: &'a str,
    pub width: i64,
    pub height: i64,
}

/// How a finished run ends after the output gate.
pub enum OutputGate<'a> {
    /// Shown to the member: `succeeded`.
    Allow(&'a NewDecision),
    /// Stored but hidden until a moderator rules: `review`.
    Review(&'a NewDecision),
}

impl Job {
    /// The state a member's page shows, as sent on the live stream.
    pub fn state(&self) -> JobState {
        JobState {
            id: self.id.clone(),
            status: self.status,
            progress: self.progress,
            error: self.error.clone(),
            cost: self.cost,
            created_at: self.created_at,
            finished_at: self.finished_at,
            category: self.moderation_category,
            hidden: self.hidden_at.is_some(),
        }
    }
}

/// Inside a job's creation with a capped key: its row is locked (PostgreSQL; SQLite holds the
/// writer lock already) and the cap checked against its jobs in the window, this one
/// included. (An uncapped key's liveness is checked by the job's INSERT.) Errors:
/// [`StoreError::NotFound`] (revoked), [`StoreError::CreditCapReached`].
async fn api_key_check_in(tx: &mut Transaction<'static, Any>, api: &ApiOrigin<'_>, (cap, since): (i64, i64), user_id: &str, cost: i64, now: i64) -> Result<()> {
    let live = sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(api.key_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    if live.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let spent: i64 = sqlx::query_scalar(crate::api::SPEND_SQL).bind(api.key_id).bind(since).fetch_one(&mut **tx).await?;
    if spent > cap {
        return Err(StoreError::CreditCapReached { cap, spent: spent - cost });
    }
    Ok(())
}

pub(crate) async fn job_in(tx: &mut Transaction<'static, Any>, id: &str) -> Result<Job> {
    sqlx::query_as::<_, Job>(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)
}

pub(crate) async fn emit_job(tx: &mut Transaction<'static, Any>, job: &Job) -> Result<()> {
    emit_job_with(tx, job, None).await
}

/// [`emit_job`], and with `balance` the member's new balance as the next event (one
/// statement for both on PostgreSQL).
pub(crate) async fn emit_job_with(tx: &mut Transaction<'static, Any>, job: &Job, balance: Option<i64>) -> Result<()> {
    let mut events = vec![LiveEvent::Job(job.state())];
    events.extend(balance.map(|balance| LiveEvent::Balance(darkroom_contract::event::Balance { balance })));
    // A queued job also wakes the idle workers (in the same statement on PostgreSQL).
    let queued = (job.status == JobStatus::Queued).then_some(crate::live::Notice::Queued);
    events::append_all_notifying_in(tx, &job.user_id, &events, queued).await?;
    crate::api::queue_delivery_in(tx, job).await?;
    Ok(())
}

/// The job's INSERT, `$1..$21` as [`bind_new_job`] binds them: it inserts nothing unless its
/// uploads are still the member's and (without a cap, which locks the key later) its API key
/// is still live. An idempotency key used before fails the unique index.
const INSERT_JOB: &str = "INSERT INTO jobs (id, user_id, upload_id, mode, params, cost, status, visibility, idempotency_key, created_at, \
     prompt, error, moderation_category, finished_at, style, api_key_id, request_hash, style_upload_id, template_id, request_id) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20 \
     WHERE ($3 IS NULL OR EXISTS (SELECT 1 FROM uploads WHERE id = $3 AND user_id = $2 AND deleted_at IS NULL)) \
     AND ($18 IS NULL OR EXISTS (SELECT 1 FROM uploads WHERE id = $18 AND user_id = $2 AND deleted_at IS NULL)) \
     AND ($21 IS NULL OR EXISTS (SELECT 1 FROM api_keys WHERE id = $21 AND user_id = $2 AND revoked_at IS NULL))";

/// Binds [`INSERT_JOB`]'s `$1..$21` for `new` with its `id`, created at `now`, as owned
/// values (so the arguments can outlive `new`: [`OwnedArgs`]).
fn bind_new_job<'q, Q: BindArgs<'q>>(q: Q, new: &NewJob<'_>, id: &str, now: i64) -> Q {
    let (gates, api) = (&new.gates, new.api.as_ref());
    let owned = |s: Option<&str>| s.map(str::to_owned);
    q.bind_arg(id.to_owned())
        .bind_arg(new.user_id.to_owned())
        .bind_arg(owned(new.upload_id))
        .bind_arg(new.mode)
        .bind_arg(new.params.to_owned())
        .bind_arg(new.cost)
        .bind_arg(gates.status)
        .bind_arg(new.visibility)
        .bind_arg(new.idempotency_key.to_owned())
        .bind_arg(now)
        .bind_arg(new.prompt.to_owned())
        .bind_arg(owned(gates.message))
        .bind_arg(gates.category)
        .bind_arg((gates.status == JobStatus::Rejected).then_some(now))
        .bind_arg(new.style)
        .bind_arg(owned(api.map(|a| a.key_id)))
        .bind_arg(owned(api.map(|a| a.request_hash)))
        .bind_arg(owned(new.style_upload_id))
        .bind_arg(owned(new.template_id))
        .bind_arg(owned(new.request_id))
        .bind_arg(owned(api.filter(|a| a.cap.is_none()).map(|a| a.key_id)))
}

/// `new` as a row of a group commit's set-based batch (`group_commit`): the
/// values [`bind_new_job`] binds, the debit's ledger entry (`entry`: id, idempotency key) and
/// the job event's payload, the request log row (`log`, with its id) and the decisions.
fn set_row(new: &NewJob<'_>, id: &str, now: i64, entry: (&str, &str, &str), log: Option<(&RequestLog<'_>, &str)>) -> group_commit::SetRow {
    use serde_json::json;
    let (gates, api) = (&new.gates, new.api.as_ref());
    let (entry_id, entry_key, payload) = entry;
    let creation = json!({
        "id": id, "user_id": new.user_id, "upload_id": new.upload_id, "mode": new.mode.as_str(), "params": new.params,
        "cost": new.cost, "status": gates.status.as_str(), "visibility": new.visibility.as_str(),
        "idempotency_key": new.idempotency_key, "created_at": now, "prompt": new.prompt, "error": gates.message,
        "moderation_category": gates.category.map(Category::as_str), "style": new.style,
        "api_key_id": api.map(|a| a.key_id), "request_hash": api.map(|a| a.request_hash),
        "style_upload_id": new.style_upload_id, "template_id": new.template_id, "request_id": new.request_id,
        "live_key": api.filter(|a| a.cap.is_none()).map(|a| a.key_id),
        "entry_id": entry_id, "entry_key": entry_key, "payload": payload,
        "log_id": log.map(|(_, id)| id), "key_prefix": log.map(|(l, _)| l.key_prefix), "method": log.map(|(l, _)| l.method),
        "route": log.map(|(l, _)| l.route),
    });
    let serde_json::Value::Object(creation) = creation else { unreachable!("an object literal") };
    let decisions = gates
        .decisions
        .iter()
        .map(|d| {
            json!({
                "id": new_id(), "job_id": id, "user_id": new.user_id, "gate": d.gate.as_str(), "decision": d.decision.as_str(),
                "category": d.category.map(Category::as_str), "detector": d.detector, "labels": d.labels.to_string(),
                "policy_version": d.policy_version, "actor_id": d.actor_id, "reason": d.reason, "created_at": now,
            })
        })
        .collect();
    group_commit::SetRow { id: id.to_owned(), creation, decisions, cost: new.cost, now, queued: gates.status == JobStatus::Queued }
}

/// Errors of [`Store::create_job_at_once`]'s set statement that mean "did not apply", which the
/// general path then answers: a step did not apply (`DR001`, PostgreSQL), the idempotency key
/// was used before (unique index), or PostgreSQL gave up on a lock (deadlock `40P01`,
/// serialization `40001`).
fn not_applied(e: &StoreError) -> bool {
    e.is_unique_violation() || matches!(e, StoreError::Db(sqlx::Error::Database(d)) if matches!(d.code().as_deref(), Some("DR001" | "40P01" | "40001")))
}

impl Store {
    /// Charges `cost` and queues the job, atomically. Returns the job and whether it was
    /// created now (`false`: the idempotency key was seen before and nothing was charged).
    ///
    /// Errors: [`StoreError::InsufficientCredits`] (nothing written), [`StoreError::NotFound`]
    /// if the upload is not this member's.
    pub async fn create_job(&self, new: NewJob<'_>) -> Result<(Job, bool)> {
        let gates = &new.gates;
        if !gates.status.can_start_as() {
            return Err(StoreError::Conflict(format!("a job cannot start as {}", gates.status)));
        }
        let id = new_id();
        let now = now_ms();
        if let Some(created) = self.create_job_at_once(&new, &id, now).await? {
            return Ok(created);
        }
        let mut tx = self.begin_write().await?;
        // One statement inserts the job and returns it, if its uploads are still the
        // member's and (without a cap, which locks the key below) its API key is still live.
        // An idempotency key used before fails the unique index: that earlier job is the
        // answer (no lookup first: most requests are new).
        let sql = format!("{INSERT_JOB} RETURNING {COLUMNS}");
        let inserted = bind_new_job(sqlx::query_as::<_, Job>(&sql), &new, &id, now).fetch_optional(&mut *tx).await.map_err(StoreError::from);
        let job = match inserted {
            Ok(Some(job)) => job,
            // An upload deleted meanwhile, or the key revoked; unless the key was used before
            // (nothing was inserted, so the unique index never spoke).
            Ok(None) => {
                tx.rollback().await?;
                return match self.job_by_key(new.user_id, new.idempotency_key).await? {
                    Some(job) => Ok((job, false)),
                    None => Err(StoreError::NotFound),
                };
            }
            Err(e) if e.is_unique_violation() => {
                // A request with the same key came first (or won the race): answer with its job.
                tx.rollback().await?;
                let job = self.job_by_key(new.user_id, new.idempotency_key).await?.ok_or(StoreError::NotFound)?;
                return Ok((job, false));
            }
            Err(e) => return Err(e),
        };
        crate::moderation::decisions_in(&mut tx, new.user_id, Some(&id), gates.decisions).await?;
        if let (Some(rules), JobStatus::Rejected) = (gates.strike, gates.status) {
            let category = gates.category.unwrap_or(Category::Other);
            strike_in(&mut tx, new.user_id, Some(&id), None, category, "blocked automatically", rules).await?;
        }
        if let Some(log) = new.api.as_ref().and_then(|a| a.log.as_ref().map(|l| (a.key_id, l))) {
            crate::api::log_request(&mut *tx, new.user_id, log.0, log.1, 201, new.cost, now).await?;
        }
        // The row locks come last (the key's, then the member's: the debit and the events
        // take it), so concurrent requests of one member (or key) wait for each other only
        // over the few statements before the commit.
        if let Some((api, cap)) = new.api.as_ref().and_then(|a| a.cap.map(|c| (a, c))) {
            api_key_check_in(&mut tx, api, cap, new.user_id, new.cost, now).await?;
        }
        let balance = ledger::debit_in(&mut tx, new.user_id, ledger::Kind::Charge, new.cost, "generation", Some(&id), &format!("job:{id}")).await?;
        emit_job_with(&mut tx, &job, Some(balance)).await?;
        tx.commit().await?;
        self.changed(new.user_id);
        if job.status == JobStatus::Queued {
            self.queued();
        }
        Ok((job, true))
    }

    /// [`Self::create_job`] in one round trip, for the common case:
    /// the job is allowed or held (not blocked), its API key has no cap, no credit lot of the
    /// member's is due, and the first live lot covers the cost. The creation is written as a
    /// set of one, or with the creations arriving beside it as one set
    /// ([`group_commit`]): on PostgreSQL one statement of data-modifying CTEs that commits on
    /// its own and undoes itself unless every step applied (`darkroom_require`); on SQLite the
    /// writer's whole transaction as one multi-statement query (the database's write lock from
    /// `BEGIN IMMEDIATE`), which stops before its `COMMIT` and is rolled back unless every step
    /// applied. Either writes
    /// exactly the rows the general path writes: the job, its decisions and request log row,
    /// the debit (balance, entry, lot, draw) and the job and balance events; on PostgreSQL the
    /// notices for other nodes follow the commit (`group_commit::notify_after` says why).
    ///
    /// Returns `None`, with nothing written, when a step did not apply (an upload or the key
    /// gone, too few credits, a lot due, a debit across lots) or the idempotency key was used
    /// before: [`Self::create_job`]'s general path then answers (with the exact error).
    /// Errors: any other database error (nothing written); [`StoreError::GroupCommit`] when the
    /// group commit running it ended before it answered.
    async fn create_job_at_once(&self, new: &NewJob<'_>, id: &str, now: i64) -> Result<Option<(Job, bool)>> {
        let gates = &new.gates;
        let api = new.api.as_ref();
        if gates.status == JobStatus::Rejected || api.is_some_and(|a| a.cap.is_some()) || new.cost <= 0 {
            return Ok(None);
        }
        let state = JobState {
            id: id.to_string(),
            status: gates.status,
            progress: 0,
            error: gates.message.map(str::to_string),
            cost: new.cost,
            created_at: now,
            finished_at: None,
            category: gates.category,
            hidden: false,
        };
        let payload = LiveEvent::Job(state).payload();
        let log = api.and_then(|a| a.log.as_ref());
        let log_id = log.map(|_| new_id());
        let set_row = set_row(new, id, now, (&new_id(), &format!("job:{id}"), &payload), log.zip(log_id.as_deref()));
        let creation = group_commit::Creation::new(new.user_id.to_owned(), set_row);
        let job = if self.group_commit_max > 1 { self.create_in_group(creation).await? } else { self.create_alone(creation).await? };
        Ok(job.map(|job| self.created_at_once(job)))
    }

    /// After a commit of [`Self::create_job_at_once`]: counts it and wakes this process's
    /// watchers (the member's streams; idle workers for a queued job).
    fn created_at_once(&self, job: Job) -> (Job, bool) {
        self.creations_at_once.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.changed(&job.user_id);
        if job.status == JobStatus::Queued {
            self.queued();
        }
        (job, true)
    }

    /// The member's job created with this idempotency key, if any.
    pub async fn job_by_key(&self, user_id: &str, key: &str) -> Result<Option<Job>> {
        Ok(sqlx::query_as::<_, Job>(&format!("SELECT {COLUMNS} FROM jobs WHERE user_id = $1 AND idempotency_key = $2"))
            .bind(user_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The member's job (not deleted). Errors: [`StoreError::NotFound`], also for others' jobs.
    pub async fn job(&self, id: &str, user_id: &str) -> Result<Job> {
        sqlx::query_as::<_, Job>(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// A job by id, whoever owns it (workers and admin tools only).
    pub async fn job_any_owner(&self, id: &str) -> Result<Job> {
        sqlx::query_as::<_, Job>(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The member's jobs, newest first. `before`: a job id to page after (keyset);
    /// `status`: keep only this status.
    pub async fn jobs_for_user(&self, user_id: &str, status: Option<JobStatus>, before: Option<&str>, limit: i64) -> Result<Vec<Job>> {
        self.gallery_jobs(user_id, &GalleryFilter { status, ..Default::default() }, before, limit).await
    }

    /// The member's jobs that pass `filter`, newest first, at most `limit`; `before`: a job
    /// id to page after (keyset on the time-ordered id).
    pub async fn gallery_jobs(&self, user_id: &str, filter: &GalleryFilter, before: Option<&str>, limit: i64) -> Result<Vec<Job>> {
        Ok(sqlx::query_as::<_, Job>(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE user_id = $1 AND deleted_at IS NULL \
             AND ($2 = '' OR status = $2) AND ($3 = '' OR id < $3) AND ($5 < 0 OR style = $5) \
             AND created_at >= $6 AND created_at < $7 ORDER BY id DESC LIMIT $4"
        ))
        .bind(user_id)
        .bind(filter.status.map_or("", JobStatus::as_str))
        .bind(before.unwrap_or(""))
        .bind(limit)
        .bind(filter.style.unwrap_or(-1))
        .bind(filter.from_ms.unwrap_or(0))
        .bind(filter.until_ms.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The member's items either side of `id` in their gallery's order (newest first, not
    /// deleted): `(newer, older)`, each `None` at that end. One query.
    pub async fn gallery_neighbours(&self, user_id: &str, id: &str) -> Result<(Option<String>, Option<String>)> {
        Ok(sqlx::query_as::<_, (Option<String>, Option<String>)>(
            "SELECT (SELECT id FROM jobs WHERE user_id = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT 1),                     (SELECT id FROM jobs WHERE user_id = $1 AND deleted_at IS NULL AND id < $2 ORDER BY id DESC LIMIT 1)",
        )
        .bind(user_id)
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// How many queued jobs were created before this one (0 = next to run).
    pub async fn queue_position(&self, job: &Job) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND id < $1")
            .bind(&job.id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Claims the oldest runnable job for `worker` for `lease_ms`: a queued one, or a running
    /// one whose lease lapsed (its worker died). Returns `None` when the queue is empty.
    pub async fn claim_job(&self, worker: &str, lease_ms: i64) -> Result<Option<Job>> {
        let now = now_ms();
        let pick = match self.backend {
            Backend::Sqlite => "SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_until < $3) ORDER BY id LIMIT 1",
            Backend::Postgres => {
                "SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_until < $3) \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
        };
        let mut tx = self.begin_write().await?;
        let claimed: Option<String> = sqlx::query_scalar(&format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
             started_at = COALESCE(started_at, $3), attempt_started_at = $3 WHERE id = ({pick}) RETURNING id"
        ))
        .bind(worker)
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = claimed else {
            tx.rollback().await?;
            return Ok(None);
        };
        let job = job_in(&mut tx, &id).await?;
        emit_job(&mut tx, &job).await?;
        tx.commit().await?;
        self.changed(&job.user_id);
        Ok(Some(job))
    }

    /// Records progress (0..=100) and renews the lease. Returns `false` if `worker` no longer
    /// holds the job (its lease lapsed and another worker took it): the caller must stop.
    pub async fn job_progress(&self, id: &str, worker: &str, progress: i64, lease_ms: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET progress = $1, lease_until = $2 WHERE id = $3 AND status = 'running' AND lease_owner = $4",
        )
        .bind(progress.clamp(0, 100))
        .bind(now_ms() + lease_ms)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let job = job_in(&mut tx, id).await?;
        emit_job(&mut tx, &job).await?;
        tx.commit().await?;
        self.changed(&job.user_id);
        Ok(true)
    }

    /// How many jobs are queued, running and held for review, over every member (the
    /// queue's figures for `/metrics`). States with none are absent.
    pub async fn active_job_counts(&self) -> Result<Vec<(JobStatus, i64)>> {
        let rows: Vec<(JobStatus, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running', 'review') GROUP BY status").fetch_all(&self.pool).await?;
        Ok(rows)
    }

    /// Gives a running job back to the queue at once (a worker shutting down that will not
    /// finish it): its lease ends now, so any worker claims it as it would after a crash,
    /// without waiting for the lease to lapse. Returns `false` if `worker` no longer held it.
    pub async fn release_job(&self, id: &str, worker: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE jobs SET lease_until = 0 WHERE id = $1 AND status = 'running' AND lease_owner = $2")
            .bind(id)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::live::notify_in(&mut *tx, crate::live::Notice::Queued).await?;
        tx.commit().await?;
        self.queued();
        Ok(true)
    }

    /// Marks the job succeeded with its output, or holds it in `review` with the output
    /// hidden, as the output gate decided (the decision is recorded). Returns `false` (and
    /// changes nothing) if `worker` no longer holds it.
    pub async fn complete_job(&self, id: &str, worker: &str, out: &JobOutput<'_>, gate: OutputGate<'_>) -> Result<bool> {
        let (status, decision) = match gate {
            OutputGate::Allow(d) => (JobStatus::Succeeded, d),
            OutputGate::Review(d) => (JobStatus::Review, d),
        };
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $9, progress = 100, result_key = $1, thumb_key = $2, result_hash = $3, \
             result_width = $4, result_height = $5, finished_at = $6, lease_owner = NULL, lease_until = NULL \
             WHERE id = $7 AND status = 'running' AND lease_owner = $8",
        )
        .bind(out.result_key)
        .bind(out.thumb_key)
        .bind(out.result_hash)
        .bind(out.width)
        .bind(out.height)
        .bind(now_ms())
        .bind(id)
        .bind(worker)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        let mut listed = false;
        if done.rows_affected() > 0 {
            let job = job_in(&mut tx, id).await?;
            decision_in(&mut tx, &job.user_id, Some(id), decision).await?;
            // A result that starts public (the operator's default visibility) joins Explore now.
            listed = job.visibility == Visibility::Public && status == JobStatus::Succeeded;
            if listed {
                crate::bump_feed(&mut tx).await?;
            }
        }
        let finished = self.finish(tx, id, done.rows_affected(), false).await?;
        if listed {
            self.feed_changed();
        }
        Ok(finished)
    }

    /// Ends a running job `rejected` by the output gate: the member sees `category` and
    /// `message`, the charge is not refunded, the decision is recorded and, with `strike`,
    /// a strike added. The caller never stored the output. Returns `false` if `worker` no
    /// longer holds the job.
    pub async fn reject_job(
        &self,
        id: &str,
        worker: &str,
        category: Category,
        message: &str,
        decision: &NewDecision,
        strike: Option<&StrikeRules>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = 'rejected', error = $1, moderation_category = $2, finished_at = $3, lease_owner = NULL, \
             lease_until = NULL WHERE id = $4 AND status = 'running' AND lease_owner = $5",
        )
        .bind(message)
        .bind(category)
        .bind(now_ms())
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            let user_id = job_in(&mut tx, id).await?.user_id;
            decision_in(&mut tx, &user_id, Some(id), decision).await?;
            if let Some(rules) = strike {
                strike_in(&mut tx, &user_id, Some(id), None, category, "blocked automatically", rules).await?;
            }
        }
        self.finish(tx, id, done.rows_affected(), false).await
    }

    /// Ends the job `failed` (a technical failure) with the message the member sees, refunded
    /// when `refund` (the operator's setting). A moderation outcome is [`Store::reject_job`].
    /// Returns `false` if `worker` no longer holds it.
    pub async fn fail_job(&self, id: &str, worker: &str, message: &str, refund: bool) -> Result<bool> {
        let status = JobStatus::Failed;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL \
             WHERE id = $4 AND status = 'running' AND lease_owner = $5",
        )
        .bind(status)
        .bind(message)
        .bind(now_ms())
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        self.finish(tx, id, done.rows_affected(), refund).await
    }

    /// Cancels the member's job if it has not finished (queued, running, or held before it
    /// ran); refunds it when `refund` (the operator's setting, on by default). Returns the job.
    ///
    /// Errors: [`StoreError::NotFound`]; [`StoreError::Conflict`] if it already finished.
    pub async fn cancel_job(&self, id: &str, user_id: &str, refund: bool) -> Result<Job> {
        let mut tx = self.begin_write().await?;
        // Held for review before running counts as not started. A running job is taken from
        // its worker: the lease is cleared, so the worker's next progress write or completion
        // fails and it stops, keeping nothing (its files are removed by it).
        let done = sqlx::query(
            "UPDATE jobs SET status = 'canceled', finished_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE id = $2 AND user_id = $3 \
             AND (status IN ('queued', 'running') OR (status = 'review' AND result_key IS NULL))",
        )
            .bind(now_ms())
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let job = self.job(id, user_id).await?;
            return Err(StoreError::Conflict(format!("the job is {} and can no longer be canceled", job.status)));
        }
        self.finish(tx, id, 1, refund).await?;
        self.job(id, user_id).await
    }

    async fn finish(&self, mut tx: Transaction<'static, Any>, id: &str, rows: u64, refund: bool) -> Result<bool> {
        if rows == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let job = job_in(&mut tx, id).await?;
        if refund && job.cost > 0 {
            let balance =
                ledger::refund_in(&mut tx, &job.user_id, job.cost, Some(id), &format!("refund:{id}"), &format!("job:{id}")).await?;
            ledger::emit_balance(&mut tx, &job.user_id, balance).await?;
        }
        emit_job(&mut tx, &job).await?;
        tx.commit().await?;
        self.changed(&job.user_id);
        Ok(true)
    }

    /// Sets the visibility of the member's finished item (SPEC §4). Errors:
    /// [`StoreError::NotFound`] (not theirs, deleted); [`StoreError::Conflict`] for an item that
    /// has not succeeded.
    pub async fn set_visibility(&self, id: &str, user_id: &str, visibility: Visibility) -> Result<Job> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE jobs SET visibility = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL AND status = 'succeeded'")
            .bind(visibility)
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            self.job(id, user_id).await?;
            return Err(StoreError::Conflict("only finished items can be shared".into()));
        }
        let after = job_in(&mut tx, id).await?;
        emit_job(&mut tx, &after).await?;
        crate::bump_feed(&mut tx).await?;
        tx.commit().await?;
        self.changed(user_id);
        self.feed_changed();
        Ok(after)
    }

    /// Deletes the member's job from their gallery (its media keys are returned so the
    /// caller removes the files). From this moment its pages and media answer 404.
    pub async fn delete_job(&self, id: &str, user_id: &str) -> Result<Job> {
        let job = self.job(id, user_id).await?;
        if !job.status.is_terminal() {
            return Err(StoreError::Conflict("a job can be deleted once it has finished".into()));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE jobs SET deleted_at = $1 WHERE id = $2 AND user_id = $3")
            .bind(now_ms())
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        crate::bump_feed(&mut tx).await?;
        tx.commit().await?;
        self.feed_changed();
        Ok(job)
    }
}
