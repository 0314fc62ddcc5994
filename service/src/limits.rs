//! Rate limits, counted where every node that serves the same members sees them.
//!
//! One algorithm, GCRA (ITU-T I.371's generic cell rate algorithm: a burst, then one request
//! per interval), kept in one of two places:
//! - **in this process** (`governor`) on SQLite: an SQLite database is one machine's file, so
//!   there is one web node and memory is exact and free;
//! - **in the database** on PostgreSQL (`darkroom_store::cluster`, one conditional upsert per
//!   request): N web nodes allow the quota once between them, not N times. It costs a round
//!   trip per limited request, but no wait for the disk (the buckets' connections commit
//!   with `synchronous_commit = off`).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

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
    Database(Store, Arc<UrlSigner>),
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
            Counter::Database(store, signer) => Count::Database(store.clone(), signer.clone()),
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
            Count::Database(store, signer) => {
                let bucket = format!("{}:{}", self.name, &signer.keyed_hash(&format!("rate-limit:{}:{key}", self.name))[..32]);
                match store.take_rate(&bucket, self.rate, darkroom_store::now_ms()).await? {
                    Admission::Allowed => return Ok(()),
                    Admission::Limited { retry_after_ms } => retry_after_ms,
                }
            }
        };
        Err(ServiceError::RateLimited { retry_after_secs: ((wait_ms + 999) / 1000).max(1) as u64 })
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
}
