//! The live fan-out: who is woken when a member's event log grows, a job is queued or the
//! public feed changes, in this process and (on PostgreSQL) on every node.
//!
//! - [`Hub`] is this process's switchboard. A live stream holds a [`MemberWatch`] for its
//!   member only, so one member's job wakes that member's streams and no one else's; idle
//!   workers hold [`Hub::queued`]; the Explore cache reads [`Hub::feed_changes`].
//! - Writes on PostgreSQL also send `NOTIFY darkroom, '<kind>:<member>'` inside their
//!   transaction (delivered at commit, never for a rolled-back change; PostgreSQL folds
//!   repeats within one transaction). [`listen`] runs one `LISTEN` connection per process in
//!   a reconnect loop and hands each notice to the hub. Nothing depends on a notice arriving:
//!   after every reconnect (or a heartbeat that did not come back) every watcher is woken, and
//!   each re-reads the `events` table from where it was, so nothing committed while the
//!   listener was down is missed. The streams' slow poll stays as a last safety net.
//!   (sqlx's `PgListener::try_recv` returns `None` when the connection was lost and reconnects
//!   on the next call; `recv` would hide that, and with it the need to resync.)
//! - SQLite runs in one process with its workers (a separate `darkroom worker` process is
//!   found by the streams' 1 s poll).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::{Backend, Store};

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "darkroom";
/// Silence on the channel after which the listener sends itself a heartbeat notice.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a heartbeat may take to come back before the connection is taken for dead.
pub const HEARTBEAT_WAIT: Duration = Duration::from_secs(5);

/// What a notice is about (the payload's first letter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice<'a> {
    /// `e:<member id>`: the member's event log grew.
    Member(&'a str),
    /// `q`: a job is waiting for a worker.
    Queued,
    /// `f`: what Explore shows changed.
    Feed,
    /// `c`: operator data changed (templates, settings, terms: [`crate::cached`]).
    Config,
    /// `h`: the listener's own heartbeat.
    Heartbeat,
}

impl<'a> Notice<'a> {
    /// The payload text sent with `pg_notify`.
    pub fn payload(self) -> String {
        match self {
            Notice::Member(id) => format!("e:{id}"),
            Notice::Queued => "q".into(),
            Notice::Feed => "f".into(),
            Notice::Config => "c".into(),
            Notice::Heartbeat => "h".into(),
        }
    }

    /// Reads a payload; `None` for one this version does not know (ignored).
    pub fn parse(payload: &'a str) -> Option<Self> {
        match payload {
            "q" => Some(Notice::Queued),
            "f" => Some(Notice::Feed),
            "c" => Some(Notice::Config),
            "h" => Some(Notice::Heartbeat),
            p => p.strip_prefix("e:").filter(|id| !id.is_empty()).map(Notice::Member),
        }
    }
}

/// This process's watchers. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Hub {
    members: Mutex<HashMap<String, watch::Sender<u64>>>,
    queued: watch::Sender<u64>,
    feed: AtomicU64,
    config: AtomicU64,
    listening: AtomicBool,
    reconnects: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Self { members: Mutex::default(), queued: watch::channel(0).0, feed: AtomicU64::new(0), config: AtomicU64::new(0), listening: AtomicBool::new(false), reconnects: AtomicU64::new(0) }
    }
}

/// A live stream's subscription to one member's changes. Subscribe *before* reading the
/// log: a change committed after this was made always makes [`MemberWatch::changed`] return.
pub struct MemberWatch {
    rx: watch::Receiver<u64>,
    hub: Arc<Hub>,
    member: String,
}

impl MemberWatch {
    /// Waits until the member's log may have grown since the last call (or since the watch
    /// was made). Spurious wake-ups happen (a resync wakes everyone); re-reading is the answer.
    pub async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await // the hub outlives every watch; never here
        }
    }
}

impl Drop for MemberWatch {
    fn drop(&mut self) {
        let mut members = self.hub.members.lock().unwrap_or_else(|e| e.into_inner());
        // This watch's own receiver is still alive here: 1 means it was the last one.
        if members.get(&self.member).is_some_and(|s| s.receiver_count() <= 1) {
            members.remove(&self.member);
        }
    }
}

impl Hub {
    /// Watches one member's event log.
    pub fn member(self: &Arc<Self>, member: &str) -> MemberWatch {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        let rx = members.entry(member.to_string()).or_insert_with(|| watch::channel(0).0).subscribe();
        MemberWatch { rx, hub: self.clone(), member: member.to_string() }
    }

    /// Wakes the member's watchers (none: nothing happens).
    pub fn member_changed(&self, member: &str) {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = members.get(member) {
            s.send_modify(|v| *v += 1);
        }
    }

    /// A watch that changes whenever a job may be waiting (idle workers wait on it).
    pub fn queued(&self) -> watch::Receiver<u64> {
        self.queued.subscribe()
    }

    /// Wakes idle workers.
    pub fn job_queued(&self) {
        self.queued.send_modify(|v| *v += 1);
    }

    /// Counts a public-feed change (this process's or, through the listener, another's).
    pub fn feed_changed(&self) {
        self.feed.fetch_add(1, Ordering::SeqCst);
    }

    /// Feed changes seen so far (grows; the Explore cache keys on it).
    pub fn feed_changes(&self) -> u64 {
        self.feed.load(Ordering::SeqCst)
    }

    /// Counts a change to operator data (this process's or, through the listener, another's).
    pub fn config_changed(&self) {
        self.config.fetch_add(1, Ordering::SeqCst);
    }

    /// Operator-data changes seen so far (grows; [`crate::cached`] keys on it).
    pub fn config_changes(&self) -> u64 {
        self.config.load(Ordering::SeqCst)
    }

    /// Wakes everything: every member's watchers, idle workers and the feed (after the
    /// listener reconnected, when notices may have been missed).
    pub fn wake_all(&self) {
        for s in self.members.lock().unwrap_or_else(|e| e.into_inner()).values() {
            s.send_modify(|v| *v += 1);
        }
        self.job_queued();
        self.feed_changed();
        self.config_changed();
    }

    /// Members with at least one open watch in this process.
    pub fn watched_members(&self) -> usize {
        self.members.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True while the PostgreSQL listener is connected (streams then poll slowly).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    /// How many times the listener lost its connection and resynced.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::SeqCst)
    }

    /// Hands one received notice to its watchers.
    pub fn dispatch(&self, payload: &str) {
        match Notice::parse(payload) {
            Some(Notice::Member(id)) => self.member_changed(id),
            Some(Notice::Queued) => self.job_queued(),
            Some(Notice::Feed) => self.feed_changed(),
            Some(Notice::Config) => self.config_changed(),
            Some(Notice::Heartbeat) | None => {}
        }
    }
}

/// Sends `notice` inside `tx` on PostgreSQL (delivered at commit); nothing on SQLite.
pub(crate) async fn notify_in(conn: &mut sqlx::AnyConnection, notice: Notice<'_>) -> crate::Result<()> {
    if is_postgres(conn) {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(notice.payload()).execute(conn).await?;
    }
    Ok(())
}

pub(crate) fn is_postgres(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// Runs the PostgreSQL listener until the process ends: connect, `LISTEN`, wake everyone
/// (resync), hand notices to the hub; on a lost connection or a missing heartbeat, resync
/// and reconnect with backoff (100 ms doubling to 5 s). Returns at once on SQLite.
pub async fn listen(store: Store) {
    if store.backend != Backend::Postgres {
        return;
    }
    let hub = store.hub.clone();
    let mut backoff = Duration::from_millis(100);
    loop {
        match run_listener(&store).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(error = %e, "live listener connection failed");
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
        hub.listening.store(false, Ordering::SeqCst);
        hub.reconnects.fetch_add(1, Ordering::SeqCst);
        hub.wake_all();
        tokio::time::sleep(backoff).await;
    }
}

/// One listener connection's life; returns when it is lost (`Ok`: after having worked).
async fn run_listener(store: &Store) -> crate::Result<()> {
    use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
    let opts: PgConnectOptions = store.url().parse()?;
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(10)).connect_lazy_with(opts.application_name("darkroom-listener"));
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    let hub = &store.hub;
    hub.listening.store(true, Ordering::SeqCst);
    // Anything committed before LISTEN took effect was not announced to this process.
    hub.wake_all();
    let mut heartbeat_sent = false;
    loop {
        let wait = if heartbeat_sent { HEARTBEAT_WAIT } else { HEARTBEAT };
        match tokio::time::timeout(wait, listener.try_recv()).await {
            Ok(Ok(Some(n))) => {
                heartbeat_sent = false;
                hub.dispatch(n.payload());
            }
            // The connection dropped; sqlx reconnects on the next call. Resync first.
            Ok(Ok(None)) => {
                tracing::warn!("live listener connection lost; resyncing");
                hub.reconnects.fetch_add(1, Ordering::SeqCst);
                hub.wake_all();
                heartbeat_sent = false;
            }
            Ok(Err(e)) => return Err(e.into()),
            Err(_) if heartbeat_sent => {
                tracing::warn!("live listener heartbeat did not come back; reconnecting");
                return Ok(());
            }
            Err(_) => {
                heartbeat_sent = true;
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(Notice::Heartbeat.payload()).execute(&store.pool).await {
                    tracing::warn!(error = %e, "live listener heartbeat not sent");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_back() {
        for n in [Notice::Member("u-1"), Notice::Queued, Notice::Feed, Notice::Heartbeat] {
            assert_eq!(Notice::parse(&n.payload()), Some(n));
        }
        assert_eq!(Notice::parse("e:"), None);
        assert_eq!(Notice::parse("x"), None);
    }

    #[tokio::test]
    async fn a_member_change_wakes_only_that_member() {
        let hub = Arc::new(Hub::default());
        let mut ann = hub.member("ann");
        let mut bob = hub.member("bob");
        hub.member_changed("ann");
        tokio::time::timeout(Duration::from_millis(100), ann.changed()).await.expect("ann woken");
        assert!(tokio::time::timeout(Duration::from_millis(50), bob.changed()).await.is_err(), "bob not woken");
        hub.wake_all();
        tokio::time::timeout(Duration::from_millis(100), bob.changed()).await.expect("a resync wakes everyone");
        assert_eq!(hub.watched_members(), 2);
        drop(bob);
        assert_eq!(hub.watched_members(), 1, "the last watch of a member removes its entry");
        let second = hub.member("ann");
        drop(ann);
        assert_eq!(hub.watched_members(), 1, "another watch of the member keeps it");
        drop(second);
        assert_eq!(hub.watched_members(), 0);
    }
}
