//! Rate limits, counted where every node that serves the same members sees them.
//!
//! One algorithm, GCRA (ITU-T I.371's generic cell rate algorithm: a burst, then one request
//! per interval), kept in one of two places:
//! - **in this process** (`governor`) on SQLite: an SQLite database is one machine's file, so
//!   there is one web node and memory is exact and free;
//! - **in the database** on PostgreSQL (`darkroom_store::cluster`, one conditional upsert):
//!   N web nodes allow the quota once between them, not N times. An upsert costs a round
//!   trip, but no wait for the disk (the buckets' connections commit with
//!   `synchronous_commit = off`).
//!
//! **Leases** (database only): a key that keeps coming back takes several requests in one
//! upsert and spends them from this process's memory for up to [`LEASE_FOR`]. A lease starts
//! at one request, doubles each time one is spent before it lapses, and halves after one
//! lapses unspent, up to `burst / 16` (at most 64; 1, so no lease, for bursts under 32, such
//! as the sign-in limits). The database grants a lease only from what the bucket holds, so
//! the cluster never allows more than the quota; a lease that lapses unspent is lost, so a
//! key sending at its limit from several nodes may be refused up to one lease early.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use darkroom_store::cluster::{Admission, Rate};
use darkroom_store::{Backend, Store};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::sharing::UrlSigner;
use crate::ServiceError;

/// Where a [`Limiter`] counts.
#[derive(Clone)]
pub enum Counter {
    /// In this process's memory (one node).
    InProcess,
    /// In the database, shared by every node on it. Keys (email addresses, client
    /// addresses) are stored only as a keyed hash under the nodes' shared key, so the table
    /// holds nothing personal that outlives an account's deletion.
    Database(Store, Arc<UrlSigner>),
}

impl Counter {
    /// The database on PostgreSQL (where several nodes can run), this process on SQLite.
    pub fn for_store(store: &Store, signer: &Arc<UrlSigner>) -> Self {
        match store.backend {
            Backend::Postgres => Counter::Database(store.clone(), signer.clone()),
            Backend::Sqlite => Counter::InProcess,
        }
    }
}

/// One named limit over many keys (a client IP, an API key id, an email address).
pub struct Limiter {
    /// Prefix of the database buckets (`api-key`, `auth-ip`, ...).
    name: &'static str,
    rate: Rate,
    count: Count,
}

enum Count {
    Memory(DefaultKeyedRateLimiter<String>),
    Database { store: Store, signer: Arc<UrlSigner>, leases: Mutex<HashMap<String, Lease>> },
}

/// How long requests taken ahead from a database bucket may be spent.
pub const LEASE_FOR: Duration = Duration::from_secs(1);

/// Past this many keys holding leases, lapsed ones are dropped.
const LEASES_KEPT: usize = 4096;

/// Requests taken ahead for one key: `left` to spend until `until`; `size`, how many the
/// last upsert took.
#[derive(Debug)]
struct Lease {
    left: i64,
    until: Instant,
    size: i64,
}

impl Lease {
    /// How many to take in the next upsert: double after a lease spent before it lapsed,
    /// half after one that lapsed unspent, within `1..=cap`.
    fn next_size(lease: Option<&Lease>, now: Instant, cap: i64) -> i64 {
        match lease {
            None => 1,
            Some(l) if l.until > now => (l.size * 2).min(cap),
            Some(l) => (l.size / 2).clamp(1, cap),
        }
    }
}

impl Limiter {
    /// `rate` per key, counted where `counter` says.
    pub fn new(name: &'static str, rate: Rate, counter: &Counter) -> Self {
        let count = match counter {
            Counter::InProcess => {
                let burst = NonZeroU32::new(u32::try_from(rate.burst).unwrap_or(u32::MAX).max(1)).expect("at least 1");
                let quota = Quota::with_period(Duration::from_millis(rate.interval_ms.max(1) as u64)).expect("non-zero").allow_burst(burst);
                Count::Memory(RateLimiter::keyed(quota))
            }
            Counter::Database(store, signer) => Count::Database { store: store.clone(), signer: signer.clone(), leases: Mutex::default() },
        };
        Self { name, rate, count }
    }

    /// Takes one request for `key`.
    ///
    /// Errors: [`ServiceError::RateLimited`] with the whole seconds to wait (at least 1);
    /// a database error when counting there.
    pub async fn check(&self, key: &str) -> Result<(), ServiceError> {
        let wait_ms = match &self.count {
            Count::Memory(l) => match l.check_key(&key.to_string()) {
                Ok(()) => return Ok(()),
                Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()).as_millis() as i64,
            },
            Count::Database { store, signer, leases } => match self.take_from_database(store, signer, leases, key).await? {
                None => return Ok(()),
                Some(wait_ms) => wait_ms,
            },
        };
        Err(ServiceError::RateLimited { retry_after_secs: ((wait_ms + 999) / 1000).max(1) as u64 })
    }

    /// Takes one request for `key` from this process's lease, or else from the database
    /// bucket (a new lease when the key is busy, see the module's docs). Returns `None` when
    /// allowed, or the milliseconds to wait.
    ///
    /// Errors: the database's.
    async fn take_from_database(&self, store: &Store, signer: &UrlSigner, leases: &Mutex<HashMap<String, Lease>>, key: &str) -> Result<Option<i64>, ServiceError> {
        let cap = (self.rate.burst / 16).clamp(1, 64);
        let now = Instant::now();
        let size = match leases.lock().unwrap_or_else(|e| e.into_inner()).get_mut(key) {
            Some(l) if l.left > 0 && l.until > now => {
                l.left -= 1;
                return Ok(None);
            }
            lease => Lease::next_size(lease.map(|l| &*l), now, cap),
        };
        let bucket = format!("{}:{}", self.name, &signer.keyed_hash(&format!("rate-limit:{}:{key}", self.name))[..32]);
        let now_ms = darkroom_store::now_ms();
        let taken = if size > 1 && store.take_rate_tokens(&bucket, self.rate, now_ms, size).await? {
            size
        } else {
            match store.take_rate(&bucket, self.rate, now_ms).await? {
                Admission::Allowed => 1,
                Admission::Limited { retry_after_ms } => return Ok(Some(retry_after_ms)),
            }
        };
        let mut leases = leases.lock().unwrap_or_else(|e| e.into_inner());
        if leases.len() >= LEASES_KEPT {
            leases.retain(|_, l| l.until > now);
        }
        // Leases taken side by side for one key add up: none of their requests is lost.
        let until = Instant::now() + LEASE_FOR;
        let lease = leases.entry(key.to_string()).or_insert(Lease { left: 0, until, size: 1 });
        lease.left = if lease.until > now { lease.left } else { 0 } + taken - 1;
        lease.until = until;
        lease.size = taken;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_allows_the_burst_then_one_per_interval() {
        let l = Limiter::new("t", Rate::per(3, 60_000), &Counter::InProcess);
        for _ in 0..3 {
            l.check("a").await.unwrap();
        }
        match l.check("a").await {
            Err(ServiceError::RateLimited { retry_after_secs }) => assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("{other:?}"),
        }
        l.check("b").await.expect("keys are counted apart");
    }

    /// Two nodes on one PostgreSQL database, one busy key: the nodes take requests ahead
    /// (the bucket moves further than the requests they answered), yet together they allow
    /// the burst exactly once; a slow limit (burst under 32) never takes ahead.
    #[tokio::test]
    async fn database_leases_never_allow_more_than_the_quota() {
        let one = darkroom_store::testing::fresh_store(Backend::Postgres).await;
        let two = Store::connect(one.url()).await.unwrap();
        let signer = Arc::new(UrlSigner::new(b"lease-test-key".to_vec(), 60));
        let rate = Rate::per(512, 60_000); // 512 at once, then one every ~117 ms; leases up to 32
        let nodes = [Limiter::new("t", rate, &Counter::Database(one.clone(), signer.clone())), Limiter::new("t", rate, &Counter::Database(two, signer.clone()))];
        let tat = || async {
            let t: i64 = sqlx::query_scalar("SELECT tat FROM rate_limits").fetch_one(&one.pool).await.unwrap();
            t
        };
        let start = darkroom_store::now_ms();
        for i in 0..40 {
            nodes[i % 2].check("key").await.unwrap();
        }
        let ahead = (tat().await - start) / rate.interval_ms;
        assert!(ahead > 40 + 8, "busy nodes took requests ahead: the bucket moved {ahead} requests for 40 answered");
        let mut allowed = 40;
        for i in 0..1200 {
            match nodes[i % 2].check("key").await {
                Ok(()) => allowed += 1,
                Err(ServiceError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
                Err(e) => panic!("{e}"),
            }
        }
        // At most the burst plus what refilled while the test ran (one per interval); at least
        // the burst less one lease per node, should a lease lapse on a slow machine.
        let refilled = (darkroom_store::now_ms() - start) / rate.interval_ms + 1;
        assert!((512 - 2 * 32..=512 + refilled).contains(&allowed), "allowed {allowed}, refilled {refilled}: never more than the quota");

        // A slow limit takes one request per upsert: the bucket moves by what was answered.
        let slow = Limiter::new("slow", Rate::per(20, 60_000), &Counter::Database(one.clone(), signer));
        for _ in 0..5 {
            slow.check("k").await.unwrap();
        }
        let moved: Vec<i64> = sqlx::query_scalar("SELECT tat FROM rate_limits WHERE bucket LIKE 'slow:%'").fetch_all(&one.pool).await.unwrap();
        let now = darkroom_store::now_ms();
        assert_eq!(moved.len(), 1);
        assert!((moved[0] - now - 5 * 3_000).abs() < 2_000, "five requests, five intervals: {}", moved[0] - now);
    }
}
