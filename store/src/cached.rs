//! Operator data that nearly every request reads and that changes a few times a day: the
//! templates, the settings document and the terms versions. Each process keeps a copy in
//! memory ([`OperatorData`]) and uses it while both hold:
//! - no change to that data was counted since the copy was read. This process's own writes
//!   count right after commit; on PostgreSQL every such write also sends the `c` notice, which
//!   each node's listener counts (see [`crate::live`]). A copy read while a change was made is
//!   counted as older than that change, so it is read again at the next use;
//! - it is younger than [`MAX_AGE`], the bound for what no notice brings: another process's
//!   write on SQLite (a separate `darkroom worker`), or a notice lost while the listener
//!   reconnects (it then counts a change anyway).
//!
//! So a save applies at the next request on the node that made it, on other PostgreSQL nodes
//! as soon as the notice arrives, and everywhere within [`MAX_AGE`].

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::live::Hub;
use crate::settings::SettingsRow;
use crate::templates::Template;
use crate::Result;

/// The longest a copy is used without reading the database again.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// One cached value: the hub's change count when it was read, when, and the value.
#[derive(Debug)]
pub(crate) struct Cached<T> {
    slot: Mutex<Option<(u64, Instant, Arc<T>)>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Self { slot: Mutex::new(None) }
    }
}

impl<T> Cached<T> {
    /// The copy, or what `read` answers now (then kept). Errors: `read`'s.
    pub(crate) async fn get<F, Fut>(&self, hub: &Hub, read: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        // Counted before the read: a change committed during it leaves this copy stale.
        let seen = hub.config_changes();
        if let Some((count, at, value)) = &*self.slot.lock().unwrap_or_else(|e| e.into_inner()) {
            if *count == seen && at.elapsed() < MAX_AGE {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(read().await?);
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((seen, Instant::now(), value.clone()));
        Ok(value)
    }
}

/// A terms version as the re-consent check needs it (no body).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct TermsVersion {
    pub version: String,
    pub effective_at: i64,
    pub created_at: i64,
    /// 1: members must accept it again.
    pub material: i64,
}

/// The cached operator data of one process (in [`crate::Store`]).
#[derive(Debug, Default)]
pub(crate) struct OperatorData {
    /// Every template, archived ones too, in catalogue order.
    pub templates: Cached<Vec<Template>>,
    /// The settings document (`None` before the first save).
    pub settings: Cached<Option<SettingsRow>>,
    /// Every terms version.
    pub terms: Cached<Vec<TermsVersion>>,
}

/// The newest material terms version in effect at `now` that a member who accepted
/// `accepted` still has to accept: effective after the accepted version (after the newest
/// row of that name; any, if it was never published), newest first by effective time, then by
/// publication. `None`: nothing pending.
pub(crate) fn pending_terms(versions: &[TermsVersion], accepted: &str, now: i64) -> Option<String> {
    let key = |v: &&TermsVersion| (v.effective_at, v.created_at);
    let since = versions.iter().filter(|v| v.version == accepted).max_by_key(key).map_or(i64::MIN, |v| v.effective_at);
    versions
        .iter()
        .filter(|v| v.material == 1 && v.effective_at <= now && v.effective_at > since)
        .max_by_key(key)
        .map(|v| v.version.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str, effective_at: i64, created_at: i64, material: bool) -> TermsVersion {
        TermsVersion { version: version.into(), effective_at, created_at, material: material as i64 }
    }

    #[test]
    fn pending_terms_are_the_newest_material_version_after_the_accepted_one() {
        let all = [v("1", 10, 1, true), v("1.1", 20, 2, false), v("2", 30, 3, true), v("3", 100, 4, true)];
        assert_eq!(pending_terms(&all, "1", 50), Some("2".into()));
        assert_eq!(pending_terms(&all, "1", 25), None, "a minor change asks nothing");
        assert_eq!(pending_terms(&all, "2", 50), None);
        assert_eq!(pending_terms(&all, "2", 100), Some("3".into()), "in effect from its time on");
        assert_eq!(pending_terms(&all, "never-published", 50), Some("2".into()));
        assert_eq!(pending_terms(&[], "1", 50), None);
        // Two versions effective at the same time: the later publication wins.
        let same = [v("1", 10, 1, true), v("2a", 30, 3, true), v("2b", 30, 4, true)];
        assert_eq!(pending_terms(&same, "1", 50), Some("2b".into()));
    }
}
