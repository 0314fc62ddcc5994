//! Darkroom's persistence: one SQL store that runs on SQLite (embedded default) or PostgreSQL
//! (scale-out), chosen by the URL.
//!
//! Queries are written once, in the SQL both databases share, and run through sqlx's `Any`
//! driver; the two dialects differ only in their migrations (`migrations/sqlite`,
//! `migrations/postgres`, same tables and constraints) and in the few statements that
//! [`Backend`] switches (how a write transaction begins, how the queue skips locked rows).
//! Times are Unix milliseconds; ids are UUIDv7 strings (time-ordered, for keyset paging).
//!
//! Areas, one module each: [`accounts`] (email links, security events, sessions, consents,
//! terms versions, preferences, exports, deletion), [`api`] (keys, webhook deliveries, request log), [`users`], [`ledger`] (credits), [`uploads`], [`jobs`] (the
//! generation queue), [`events`] (the per-member event log behind the live stream), [`audit`],
//! [`moderation`] (decisions, reports, strikes, standing), [`sharing`] (share links, Explore,
//! likes, showcase), [`retention`] (what is past its keep-for time), [`payments`] (plans,
//! payments, provider events applied exactly once, subscriptions), [`cluster`] (rate limits
//! counted for every node, the keys every node must share).

pub mod accounts;
pub mod api;
pub mod audit;
pub mod cached;
pub mod cluster;
pub mod dashboard;
pub mod events;
pub mod jobs;
pub mod ledger;
pub mod live;
pub mod members;
pub mod moderation;
pub mod notices;
pub mod payments;
pub mod retention;
pub mod settings;
pub mod sharing;
pub mod support;
pub mod templates;
pub mod uploads;
pub mod users;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use sqlx::Any;

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Store errors. `NotFound` and `Conflict` are expected outcomes callers map to 404/409;
/// `InsufficientCredits` to 402; `Db` is an operational failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("insufficient credits: balance {balance}, needed {needed}")]
    InsufficientCredits { balance: i64, needed: i64 },
    /// An API key's spending cap would be exceeded; nothing was written.
    #[error("credit cap reached: cap {cap}, spent {spent}")]
    CreditCapReached { cap: i64, spent: i64 },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The group commit (`jobs::group_commit`) running a creation ended before it answered
    /// (its task panicked, or the runtime is shutting down): whether the creation was written
    /// is not known to this caller, as for a connection lost during `COMMIT`; its job's id and
    /// idempotency key keep a retry from writing it twice.
    #[error("the group commit ended before it answered")]
    GroupCommit(#[source] std::sync::Arc<StoreError>),
}

impl StoreError {
    /// True for a unique-constraint violation (a concurrent duplicate insert).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// `bind` on sqlx's query types (`query`, `query_as`), so one binder serves each.
pub(crate) trait BindArgs<'q>: Sized {
    fn bind_arg<T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>>(self, value: T) -> Self;
}

impl<'q> BindArgs<'q> for sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    fn bind_arg<T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>>(self, value: T) -> Self {
        self.bind(value)
    }
}

impl<'q, O> BindArgs<'q> for sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>> {
    fn bind_arg<T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>>(self, value: T) -> Self {
        self.bind(value)
    }
}

/// Announces a change to operator data inside the caller's transaction (on PostgreSQL every
/// node's copy is dropped at commit); the caller counts it in this process after commit
/// ([`Store::operator_changed`]). See [`cached`].
pub(crate) async fn announce_operator_change(conn: &mut sqlx::AnyConnection) -> Result<()> {
    live::notify_in(conn, live::Notice::Config).await
}

/// Bumps the public feed's version inside the caller's transaction (see [`Store::feed_version`]).
pub(crate) async fn bump_feed(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("UPDATE feed_version SET version = version + 1 WHERE id = 1").execute(&mut *conn).await?;
    live::notify_in(conn, live::Notice::Feed).await
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A connection pool and the dialect it speaks. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Reads (and, on PostgreSQL, everything).
    pub pool: AnyPool,
    /// Writes: on SQLite one connection, so writers queue in order in this process instead
    /// of sleeping in SQLite's busy handler (which made tail latencies of hundreds of ms
    /// under load); on PostgreSQL the same pool as `pool`.
    write_pool: AnyPool,
    /// Rate-limit buckets ([`cluster`]): on PostgreSQL their own few connections with
    /// `synchronous_commit = off`, so counting a request never waits for the disk (a crash
    /// may forget the last fraction of a second of counts, which only ever lets a few more
    /// requests through; nothing else is written here). On SQLite the write pool.
    rate_pool: AnyPool,
    pub backend: Backend,
    url: String,
    /// Who is woken by a change (see [`live`]): this process's changes right after commit,
    /// other nodes' through the PostgreSQL listener.
    pub hub: std::sync::Arc<live::Hub>,
    /// Jobs created in one round trip ([`Store::create_job`]'s common case), for tests and
    /// metrics.
    creations_at_once: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Templates, settings and terms versions as last read ([`cached`]).
    operator: std::sync::Arc<cached::OperatorData>,
    /// Job creations waiting for the next group commit (`jobs::group_commit`).
    group: std::sync::Arc<jobs::group_commit::GroupCommit>,
    /// The most job creations one transaction commits together; 1: each its own.
    group_commit_max: usize,
}

impl Store {
    /// Connects to `url`: `sqlite://path/to/file.db` (created if missing; WAL mode) or
    /// `postgres://user@host:port/db`.
    ///
    /// Errors: [`StoreError::Db`] if the URL is malformed or the database unreachable.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Db(sqlx::Error::Configuration(format!("unsupported database URL {url}").into())));
        };
        if backend == Backend::Sqlite {
            // Create the folder the database file lives in.
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = path.split('?').next().unwrap_or("");
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
            }
        }
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_string()
        };
        let opts: AnyConnectOptions = url.parse()?;
        // `relaxed`: commits do not wait for the disk (PostgreSQL's `synchronous_commit`).
        // No ping on every acquire (sqlx's default `test_before_acquire`): that doubled the
        // round trips of every statement (a hand-off to SQLite's worker thread, a network round
        // trip to PostgreSQL). On PostgreSQL a connection idle for over a second is still
        // pinged first (a server restart or a dropped link meanwhile); SQLite's connections
        // are in this process and cannot go stale.
        let pool_with = |max: u32, relaxed: bool| AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for > Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;").await?;
                        }
                        Backend::Postgres if relaxed => {
                            conn.execute("SET synchronous_commit = off").await?;
                        }
                        Backend::Postgres => {}
                    }
                    Ok(())
                })
            })
            ;
        let pool = pool_with(if backend == Backend::Sqlite { 8 } else { 16 }, false).connect_with(opts.clone()).await?;
        let (write_pool, rate_pool) = match backend {
            Backend::Sqlite => {
                let write = pool_with(1, false).connect_with(opts).await?;
                (write.clone(), write)
            }
            Backend::Postgres => (pool.clone(), pool_with(4, true).connect_with(opts).await?),
        };
        Ok(Self {
            pool,
            write_pool,
            rate_pool,
            backend,
            url,
            hub: Default::default(),
            creations_at_once: Default::default(),
            operator: Default::default(),
            group: Default::default(),
            // Measured with `bench/api.sh` (README, "Performance"): on both backends a batch
            // written as sets lifts one member's key (×1.8 SQLite, ×2.2 PostgreSQL) and costs
            // nothing with 16 members' keys.
            group_commit_max: jobs::group_commit::MAX_BATCH,
        })
    }

    /// Sets the most job creations one transaction commits together (1..=[`jobs::group_commit::MAX_BATCH`],
    /// clamped). 1 turns group commit off: each creation commits on its own, in its caller's
    /// task. The default: the maximum (`jobs::group_commit` says what it buys).
    pub fn with_group_commit(mut self, max: usize) -> Self {
        self.group_commit_max = max.clamp(1, jobs::group_commit::MAX_BATCH);
        self
    }

    /// The public feed's version in the database: it grows in the same transaction as every
    /// change to what Explore shows (another process's changes included).
    pub async fn feed_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT version FROM feed_version WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Public-feed changes seen by this process so far: grows right after each of its own
    /// commits and, on PostgreSQL, when another node's notice arrives, so a cache here never
    /// serves a page older than its own writes.
    pub fn local_feed_changes(&self) -> u64 {
        self.hub.feed_changes()
    }

    /// Call after committing a transaction that ran [`bump_feed`].
    pub(crate) fn feed_changed(&self) {
        self.hub.feed_changed();
    }

    /// The URL this store was opened with (for the session store, which wants a typed pool).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Applies pending migrations for this backend. Idempotent.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`) so concurrent writers queue on `busy_timeout` instead of failing
    /// on a lock upgrade; on PostgreSQL it is a plain `BEGIN`.
    ///
    /// Cancel-safe: sqlx 0.8's `begin`/`begin_with` are not (launchbadge/sqlx#2054, #4393).
    /// A caller dropped between the `BEGIN` and the `Transaction` being made (a browser that
    /// navigates away mid-request) left the connection inside a transaction nothing owned,
    /// and every later `BEGIN` on SQLite's one write connection failed with "attempted to
    /// call begin_with at non-zero transaction depth". So the begin runs in its own task: if
    /// the caller is gone, the task still finishes and drops the `Transaction`, which rolls
    /// back.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Any>> {
        let (backend, pool) = (self.backend, self.write_pool.clone());
        let begin = tokio::spawn(async move {
            match backend {
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => pool.begin().await,
            }
        });
        Ok(begin.await.map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??)
    }
}

impl Store {
    /// Watches one member's event log (this process's commits and, on PostgreSQL with the
    /// listener running, every node's). Make it before reading the log.
    pub fn watch_member(&self, user_id: &str) -> live::MemberWatch {
        self.hub.member(user_id)
    }

    /// Changes whenever a job may be waiting for a worker.
    pub fn watch_queue(&self) -> tokio::sync::watch::Receiver<u64> {
        self.hub.queued()
    }

    /// Call after committing a transaction that appended events of `user_id`.
    pub(crate) fn changed(&self, user_id: &str) {
        self.hub.member_changed(user_id);
    }

    /// Call after committing a change to operator data (templates, settings, terms).
    pub(crate) fn operator_changed(&self) {
        self.hub.config_changed();
    }

    /// How many jobs this process created in one round trip (the rest took the general path).
    pub fn creations_at_once(&self) -> u64 {
        self.creations_at_once.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Call after committing a transaction that queued a job (or released a held one).
    pub(crate) fn queued(&self) {
        self.hub.job_queued();
    }
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `text` for a `LIKE … ESCAPE '\'` pattern: its `\`, `%` and `_` match only themselves.
pub(crate) fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A new time-ordered id (UUIDv7, hyphenated lowercase).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Test support: a fresh, migrated, empty database.
pub mod testing {
    use super::*;

    /// Which databases the story tests run against.
    pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    /// The PostgreSQL server for tests: `DARKROOM_TEST_PG_URL`, default
    /// `postgres://postgres@127.0.0.1:5432/test`. A new database is created on it per call.
    pub fn pg_admin_url() -> String {
        std::env::var("DARKROOM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// Creates a new empty database on `backend` (a temp SQLite file, or a new PostgreSQL
    /// database named `darkroom_test_<uuid>`), migrates it, and returns its URL.
    pub async fn fresh_database_url(backend: Backend) -> String {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("darkroom-tests");
                std::fs::create_dir_all(&dir).unwrap();
                format!("sqlite://{}", dir.join(format!("{}.db", uuid::Uuid::new_v4().simple())).display())
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!("darkroom_test_{}", uuid::Uuid::new_v4().simple());
                let admin_store = Store::connect(&admin).await.expect("PostgreSQL for tests (DARKROOM_TEST_PG_URL)");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin_store.pool).await.unwrap();
                admin_store.pool.close().await;
                let (base, _) = admin.rsplit_once('/').unwrap();
                format!("{base}/{name}")
            }
        }
    }

    /// A fresh migrated store on `backend`.
    pub async fn fresh_store(backend: Backend) -> Store {
        let store = Store::connect(&fresh_database_url(backend).await).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Appends a live event inside a caller's transaction (which the test then holds open or
    /// commits), as every write of the store does. Returns its `seq`.
    pub async fn append_event(tx: &mut sqlx::Transaction<'static, Any>, user_id: &str, event: &crate::events::LiveEvent) -> Result<Option<i64>> {
        crate::events::append_in(tx, user_id, event).await
    }
}

#[cfg(test)]
mod vocabulary {
    //! The store's SQL names job states, visibilities and decisions as literals (the
    //! database's own language, like the migrations). This check reads those queries and
    //! fails on a word the contract does not define, so a renamed state cannot leave a query
    //! behind that silently matches nothing.
    use darkroom_contract::{Decision, JobStatus, Visibility};

    const SOURCES: [(&str, &str); 5] = [
        ("jobs.rs", include_str!("jobs.rs")),
        ("sharing.rs", include_str!("sharing.rs")),
        ("moderation.rs", include_str!("moderation.rs")),
        ("retention.rs", include_str!("retention.rs")),
        ("accounts.rs", include_str!("accounts.rs")),
    ];

    /// The quoted words after each `<column> =`, `<>`, `IN (` or `NOT IN (` on the `jobs` and
    /// `moderation_decisions` columns this checks.
    fn literals<'a>(src: &'a str, column: &str) -> Vec<&'a str> {
        let mut out = Vec::new();
        for (at, _) in src.match_indices(column) {
            let before = src[..at].chars().last().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' {
                continue;
            }
            let rest = src[at + column.len()..].trim_start();
            let rest = ["NOT IN", "IN", "<>", "="].iter().find_map(|op| rest.strip_prefix(op)).map(str::trim_start);
            let Some(rest) = rest else { continue };
            let rest = rest.strip_prefix('(').unwrap_or(rest);
            let mut rest = rest.trim_start();
            while let Some(r) = rest.strip_prefix('\'') {
                let end = r.find('\'').expect("closed quote");
                out.push(&r[..end]);
                rest = r[end + 1..].trim_start().strip_prefix(',').map(str::trim_start).unwrap_or("");
            }
        }
        out
    }

    #[test]
    fn every_state_and_visibility_in_the_sql_is_the_contracts() {
        let mut seen = 0;
        for (file, src) in SOURCES {
            // `exports.status`, `subscriptions.status` and `reports.status` are other tables' own words.
            let others = ["exports", "subscriptions", "reports"];
            let src: String = src.lines().filter(|l| !others.iter().any(|o| l.contains(o))).collect::<Vec<_>>().join("\n");
            for word in literals(&src, "status") {
                assert!(word.parse::<JobStatus>().is_ok(), "{file}: job status {word:?} is not the contract's");
                seen += 1;
            }
            for word in literals(&src, "visibility") {
                assert!(word.parse::<Visibility>().is_ok(), "{file}: visibility {word:?} is not the contract's");
                seen += 1;
            }
            for word in literals(&src, "decision") {
                assert!(word.parse::<Decision>().is_ok(), "{file}: decision {word:?} is not the contract's");
                seen += 1;
            }
        }
        assert!(seen >= 20, "the scan found the queries ({seen} literals)");
        // Retention's "not finished yet" list is every state that is not terminal.
        let active: Vec<JobStatus> =
            crate::retention::ACTIVE.trim_matches(['(', ')']).split(", ").map(|w| w.trim_matches('\'').parse().unwrap()).collect();
        let open: Vec<JobStatus> = JobStatus::ALL.iter().copied().filter(|s| !s.is_terminal()).collect();
        assert_eq!(active.len(), open.len());
        assert!(open.iter().all(|s| active.contains(s)));
        assert_eq!(literals("WHERE status = 'queued' OR (status IN ('running', 'review'))", "status"), ["queued", "running", "review"]);
        assert_eq!(literals("x_status = 'nope'", "status"), Vec::<&str>::new());
    }
}
