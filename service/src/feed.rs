//! The public feed's pages, read through a cache shared by every request of this process.
//!
//! Explore is the same for every viewer except their own likes (read per request, one query
//! for a page: `Store::liked_among`), and "Top this week" counts the likes of the window on
//! every read. So pages of [`Store::explore`](darkroom_store::Store::explore) are kept here
//! under a key of what they were asked for and the feed's [`Stamp`], so they are never
//! staler than the data:
//! - the database's feed version (`Store::feed_version`) grows in the same transaction as
//!   every change to what Explore shows (visibility, hide, delete, purge, likes); it is read
//!   at most every [`DB_CHECK`], so another process's change shows within that time;
//! - this process's own changes are counted right after commit (`Store::local_feed_changes`)
//!   and apply at once; on PostgreSQL so are other nodes' (their `NOTIFY`, through the
//!   listener of `darkroom_store::live`), the database read being the safety net;
//! - `Top`'s window slides with the clock: its pages are also keyed by the minute, so a like
//!   leaves the 7-day count at most a minute late.
//!
//! What an item may show is still decided by SQL on the read that fills the cache, and its
//! media by the signed-media route on every request (a deleted item's files stop answering
//! at once, even from a page read just before). The signed-out HTML cache
//! (`server/src/explore_cache.rs`) keys on the same [`Stamp`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use darkroom_store::sharing::{Cursor, FeedItem, Sort};
use darkroom_store::Store;

/// How often the database's feed version is read (another process's changes show within it).
pub const DB_CHECK: Duration = Duration::from_millis(250);
/// Pages kept at most (all are dropped when full or when the stamp moves: they go stale together).
pub const MAX_PAGES: usize = 512;

/// The feed's version as this process knows it: the database's counter (read at most every
/// [`DB_CHECK`]) and this process's own change count. Equal stamps: the same feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub db: i64,
    pub local: u64,
}

/// What one page was asked for, and in which form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PageKey {
    sort: Sort,
    style: Option<i64>,
    after: Option<(String, i64)>,
    limit: i64,
    /// `Top`: the minute of the clock (its window slides); `Newest`: 0.
    minute: i64,
    /// The form the caller made of the rows ([`Feed::page_as`]) and its own key part.
    form: (TypeId, String),
}

/// A cached page, in the form its caller made of it.
type Cached = Arc<dyn Any + Send + Sync>;

/// The feed cache. Cheap to clone (one per process, in `AppState`).
#[derive(Clone)]
pub struct Feed {
    store: Store,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    db_version: i64,
    checked: Option<Instant>,
    stamp: Option<Stamp>,
    pages: HashMap<PageKey, Cached>,
}

impl Feed {
    pub fn new(store: Store) -> Self {
        Self { store, inner: Arc::new(Mutex::new(Inner { db_version: 0, checked: None, stamp: None, pages: HashMap::new() })) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The feed's current [`Stamp`]. Errors: the database could not be read (callers then
    /// skip their caches).
    pub async fn stamp(&self) -> darkroom_store::Result<Stamp> {
        let local = self.store.local_feed_changes();
        let fresh = {
            let inner = self.lock();
            inner.checked.filter(|t| t.elapsed() < DB_CHECK).map(|_| inner.db_version)
        };
        let db = match fresh {
            Some(v) => v,
            None => {
                let v = self.store.feed_version().await?;
                let mut inner = self.lock();
                inner.db_version = v;
                inner.checked = Some(Instant::now());
                v
            }
        };
        Ok(Stamp { db, local })
    }

    /// One page of Explore, as [`Store::explore`](darkroom_store::Store::explore) answers it
    /// (`limit` items at most, after `after`), in the form `make` turns the rows into (the
    /// page's view, with its signed URLs). Cached with the rows' key and the caller's `form`
    /// key (what else the form depends on: the URLs' signing window, the site's address) until
    /// the feed's stamp moves; `make` runs once per key while the feed stays the same.
    /// Errors: the store's.
    pub async fn page_as<T: Send + Sync + 'static>(
        &self,
        sort: Sort,
        style: Option<i64>,
        after: Option<&Cursor>,
        limit: i64,
        form: &str,
        make: impl FnOnce(Vec<FeedItem>) -> T,
    ) -> darkroom_store::Result<Arc<T>> {
        let stamp = self.stamp().await?;
        let minute = if sort == Sort::Top { darkroom_store::now_ms() / 60_000 } else { 0 };
        let key = PageKey { sort, style, after: after.map(|c| (c.id.clone(), c.likes)), limit, minute, form: (TypeId::of::<T>(), form.to_string()) };
        {
            let mut inner = self.lock();
            if inner.stamp != Some(stamp) {
                inner.pages.clear();
                inner.stamp = Some(stamp);
            }
            if let Some(page) = inner.pages.get(&key).and_then(|p| p.clone().downcast::<T>().ok()) {
                return Ok(page);
            }
        }
        let page = Arc::new(make(self.store.explore(sort, style, after, limit).await?));
        let mut inner = self.lock();
        // A page read while the feed moved is not kept: it may predate the change.
        if inner.stamp == Some(stamp) && stamp.local == self.store.local_feed_changes() {
            if inner.pages.len() >= MAX_PAGES {
                inner.pages.clear();
            }
            inner.pages.insert(key, page.clone() as Cached);
        }
        Ok(page)
    }
}
