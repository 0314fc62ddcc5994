//! Sharing (SPEC §4): share links, the public Explore feed, likes, the showcase opt-in.
//!
//! An item is **viewable by others** only while it is `succeeded`, not deleted, not hidden
//! by a moderator, and its visibility allows it: `link` or `public` through a valid share
//! link, `public` on its public page and in Explore. Every read checks this in the same
//! query, so a change of visibility, a deletion or a hide applies at once everywhere.
//!
//! Share-link tokens are made and hashed by the caller; only the SHA-256 is stored.

use serde::{Deserialize, Serialize};

use crate::jobs::{emit_job, job_in, Job, JobStatus, Visibility, COLUMNS};
use crate::{new_id, now_ms, Result, Store, StoreError};

/// The SQL condition (on `jobs`) for an item others may see at all.
const VIEWABLE: &str = "status = 'succeeded' AND deleted_at IS NULL AND hidden_at IS NULL";

/// A share link as its owner sees it (never the token: only its hash is kept).
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct ShareLink {
    pub id: String,
    pub job_id: String,
    /// Unix ms; `None` = never expires.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Times the link was opened.
    pub views: i64,
    pub created_at: i64,
}

/// Explore's orderings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sort {
    /// Newest first (keyset on id).
    Newest,
    /// Most likes in the last 7 days first, then newest (keyset on likes, id).
    Top,
}

/// An Explore entry: the item and its like count (all-time for `Newest`, last 7 days for `Top`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FeedItem {
    pub job: Job,
    pub likes: i64,
    /// The owner's display name, if they show it with their public items
    /// ([`Store::set_show_name`]).
    pub creator: Option<String>,
}

/// The Explore queries' creator column: the owner's name if they show it.
const CREATOR: &str = "(SELECT u.display_name FROM users u WHERE u.id = jobs.user_id AND u.show_name_at IS NOT NULL) AS creator";

/// Where the next Explore page starts: the last item's id and, for `Top`, its like count.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    pub id: String,
    pub likes: i64,
}

/// Seven days in milliseconds: the window of `Top`.
pub const TOP_WINDOW_MS: i64 = 7 * 86_400_000;

impl Store {
    /// Creates a share link on the owner's finished item (a private item becomes `link`).
    ///
    /// Errors: [`StoreError::NotFound`] (not theirs, deleted); [`StoreError::Conflict`] if it
    /// has not succeeded or is hidden.
    pub async fn create_share_link(&self, job_id: &str, user_id: &str, token_hash: &str, expires_at: Option<i64>) -> Result<ShareLink> {
        let mut tx = self.begin_write().await?;
        let job = job_in(&mut tx, job_id).await?;
        let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL")
            .bind(job_id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        if live == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        if job.status != JobStatus::Succeeded || job.hidden_at.is_some() {
            tx.rollback().await?;
            return Err(StoreError::Conflict("only finished, visible items can be shared".into()));
        }
        let id = new_id();
        sqlx::query("INSERT INTO share_links (id, job_id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(job_id)
            .bind(user_id)
            .bind(token_hash)
            .bind(expires_at)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        if job.visibility == Visibility::Private {
            sqlx::query("UPDATE jobs SET visibility = 'link' WHERE id = $1").bind(job_id).execute(&mut *tx).await?;
            let after = job_in(&mut tx, job_id).await?;
            emit_job(&mut tx, &after).await?;
        }
        let link = sqlx::query_as::<_, ShareLink>("SELECT id, job_id, expires_at, revoked_at, views, created_at FROM share_links WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changed(user_id);
        Ok(link)
    }

    /// The owner's share links on an item, newest first.
    pub async fn share_links(&self, job_id: &str, user_id: &str) -> Result<Vec<ShareLink>> {
        Ok(sqlx::query_as::<_, ShareLink>(
            "SELECT id, job_id, expires_at, revoked_at, views, created_at FROM share_links WHERE job_id = $1 AND user_id = $2 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(job_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes one of the owner's share links; it answers 404 from now on.
    /// Errors: [`StoreError::NotFound`] (not theirs).
    pub async fn revoke_share_link(&self, link_id: &str, user_id: &str) -> Result<()> {
        let done = sqlx::query("UPDATE share_links SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3")
            .bind(now_ms())
            .bind(link_id)
            .bind(user_id)
            .execute(&self.write_pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Opens a share link by its token's hash: the item, if the link is live (not revoked,
    /// not expired) and the item viewable as `link` or `public`; counts the view.
    /// Errors: [`StoreError::NotFound`] otherwise (one answer for every reason: no oracle).
    pub async fn open_share_link(&self, token_hash: &str) -> Result<Job> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let found: Option<(String, String)> = sqlx::query_as(&format!(
            "SELECT s.id, s.job_id FROM share_links s JOIN jobs j ON j.id = s.job_id WHERE s.token_hash = $1 \
             AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > $2) \
             AND j.visibility IN ('link', 'public') AND j.{}",
            VIEWABLE.replace(" AND ", " AND j.")
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((link_id, job_id)) = found else {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        };
        sqlx::query("UPDATE share_links SET views = views + 1 WHERE id = $1").bind(&link_id).execute(&mut *tx).await?;
        let job = job_in(&mut tx, &job_id).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// The item behind a live share link (not revoked, not expired, the item still shared and
    /// viewable), without counting a view: what its link preview image answers with. Errors:
    /// [`StoreError::NotFound`] otherwise.
    pub async fn shared_job_by_link(&self, token_hash: &str) -> Result<Job> {
        sqlx::query_as::<_, Job>(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE id = (SELECT s.job_id FROM share_links s WHERE s.token_hash = $1 \
             AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > $2)) \
             AND visibility IN ('link', 'public') AND {VIEWABLE}"
        ))
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// A public item (visibility `public`, viewable). Errors: [`StoreError::NotFound`].
    pub async fn public_job(&self, id: &str) -> Result<Job> {
        sqlx::query_as::<_, Job>(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1 AND visibility = 'public' AND {VIEWABLE}"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// A finished result its owner may fetch (the API's owner URLs): not deleted, not hidden,
    /// `succeeded`. Errors: [`StoreError::NotFound`].
    pub async fn owner_result(&self, id: &str) -> Result<Job> {
        sqlx::query_as::<_, Job>(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE id = $1 AND deleted_at IS NULL AND hidden_at IS NULL AND status = 'succeeded'"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// The item, if it may be shown to others through a signed media URL right now:
    /// viewable and `link` or `public`. Errors: [`StoreError::NotFound`] otherwise.
    pub async fn shared_job(&self, id: &str) -> Result<Job> {
        sqlx::query_as::<_, Job>(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1 AND visibility IN ('link', 'public') AND {VIEWABLE}"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// True if [`Store::shared_job`] would find the item.
    pub async fn shareable(&self, id: &str) -> Result<bool> {
        match self.shared_job(id).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Which of `job_ids` the member has liked (one query for a whole page).
    pub async fn liked_among(&self, user_id: &str, job_ids: &[String]) -> Result<std::collections::HashSet<String>> {
        if job_ids.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (0..job_ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("SELECT job_id FROM likes WHERE user_id = $1 AND job_id IN ({})", marks.join(", "));
        let mut q = sqlx::query_scalar::<_, String>(&sql).bind(user_id);
        for id in job_ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&self.pool).await?.into_iter().collect())
    }

    /// One page of Explore: public, viewable items (of one `style`, the engine's index, if
    /// given) in `sort` order after `after`.
    ///
    /// `Newest` walks the `(visibility, id)` or `(visibility, style, id)` index from the
    /// cursor, so a deep page costs what the first does. `Top` ranks by likes in the last
    /// [`TOP_WINDOW_MS`], then newest: first the items liked in the window (counted from
    /// `likes`, a small set), then, newest first, the public items nobody liked in it (the
    /// index again), so no page sorts the whole catalogue.
    pub async fn explore(&self, sort: Sort, style: Option<i64>, after: Option<&Cursor>, limit: i64) -> Result<Vec<FeedItem>> {
        // Conditions are chosen here rather than written `($5 < 0 OR style = $5)`: an OR
        // keeps the planner from seeking the index to the cursor (a deep page would scan).
        // Every query binds the same five parameters; unused ones sit in true conditions.
        let style_cond = if style.is_some() { "style = $5" } else { "$5 < 0" };
        let public = format!("visibility = 'public' AND {VIEWABLE} AND {style_cond}");
        let mut out = Vec::new();
        match sort {
            Sort::Newest => {
                let after_cond = if after.is_some() { "id < $2" } else { "$2 = ''" };
                let sql = format!(
                    "SELECT {COLUMNS}, {CREATOR}, (SELECT COUNT(*) FROM likes l WHERE l.job_id = jobs.id AND l.created_at >= $1) AS likes \
                     FROM jobs WHERE {public} AND {after_cond} AND $3 >= 0 ORDER BY id DESC LIMIT $4"
                );
                out = self.feed_rows(&sql, 0, after, limit, style).await?;
            }
            Sort::Top => {
                let since = now_ms() - TOP_WINDOW_MS;
                let liked_after = match after {
                    None => Some("$2 = '' AND $3 >= 0"),
                    Some(c) if c.likes > 0 => Some("(r.n < $3 OR (r.n = $3 AND jobs.id < $2))"),
                    Some(_) => None,
                };
                if let Some(cond) = liked_after {
                    let sql = format!(
                        "SELECT {COLUMNS}, {CREATOR}, r.n AS likes FROM (SELECT job_id, COUNT(*) AS n FROM likes WHERE created_at >= $1 GROUP BY job_id) r \
                         JOIN jobs ON jobs.id = r.job_id WHERE {public} AND {cond} ORDER BY r.n DESC, jobs.id DESC LIMIT $4"
                    );
                    out = self.feed_rows(&sql, since, after, limit, style).await?;
                }
                if (out.len() as i64) < limit {
                    let zero_after = if after.is_some_and(|c| c.likes == 0) { "id < $2" } else { "length($2) >= 0" };
                    let sql = format!(
                        "SELECT {COLUMNS}, {CREATOR}, CAST(0 AS BIGINT) AS likes FROM jobs WHERE {public} AND {zero_after} AND $3 >= 0 \
                         AND NOT EXISTS (SELECT 1 FROM likes l WHERE l.job_id = jobs.id AND l.created_at >= $1) ORDER BY id DESC LIMIT $4"
                    );
                    let rest = self.feed_rows(&sql, since, after, limit - out.len() as i64, style).await?;
                    out.extend(rest);
                }
            }
        }
        Ok(out)
    }

    /// Runs one Explore query with its five parameters: `$1` the likes window start (ms),
    /// `$2`/`$3` the cursor's id and likes, `$4` the limit, `$5` the style (-1: any).
    async fn feed_rows(&self, sql: &str, since: i64, after: Option<&Cursor>, limit: i64, style: Option<i64>) -> Result<Vec<FeedItem>> {
        let rows = sqlx::query(sql)
            .bind(since)
            .bind(after.map(|c| c.id.as_str()).unwrap_or(""))
            .bind(after.map(|c| c.likes).unwrap_or(0))
            .bind(limit)
            .bind(style.unwrap_or(-1))
            .fetch_all(&self.pool)
            .await?;
        use sqlx::{FromRow, Row};
        rows.iter()
            .map(|r| Ok(FeedItem { job: Job::from_row(r)?, likes: r.try_get::<i64, _>("likes")?, creator: r.try_get::<Option<String>, _>("creator")? }))
            .collect()
    }

    /// Likes a public item (once per member; again is a no-op). Returns the all-time count.
    /// Errors: [`StoreError::NotFound`] unless the item is public and viewable.
    pub async fn like(&self, job_id: &str, user_id: &str, on: bool) -> Result<i64> {
        self.public_job(job_id).await?;
        let mut tx = self.begin_write().await?;
        if on {
            sqlx::query("INSERT INTO likes (job_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (job_id, user_id) DO NOTHING")
                .bind(job_id)
                .bind(user_id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM likes WHERE job_id = $1 AND user_id = $2").bind(job_id).bind(user_id).execute(&mut *tx).await?;
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM likes WHERE job_id = $1").bind(job_id).fetch_one(&mut *tx).await?;
        crate::bump_feed(&mut tx).await?;
        tx.commit().await?;
        self.feed_changed();
        Ok(n)
    }

    /// All-time likes of an item, and whether `user_id` (if any) is among them.
    pub async fn likes(&self, job_id: &str, user_id: Option<&str>) -> Result<(i64, bool)> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM likes WHERE job_id = $1").bind(job_id).fetch_one(&self.pool).await?;
        let mine: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM likes WHERE job_id = $1 AND user_id = $2")
            .bind(job_id)
            .bind(user_id.unwrap_or(""))
            .fetch_one(&self.pool)
            .await?;
        Ok((n, mine > 0))
    }

    /// The home page's showcase: public, viewable items whose owners gave showcase consent
    /// (and do not restrict processing of their data), the latest consent first, at most
    /// `limit`.
    pub async fn showcase(&self, limit: i64) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE visibility = 'public' AND showcase_at IS NOT NULL AND {VIEWABLE} \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = jobs.user_id AND u.processing_restricted_at IS NOT NULL) \
             ORDER BY showcase_at DESC, id DESC LIMIT $1"
        );
        Ok(sqlx::query_as::<_, Job>(&sql).bind(limit).fetch_all(&self.pool).await?)
    }

    /// Sets or clears the owner's showcase consent on an item (independent of visibility).
    /// Errors: [`StoreError::NotFound`] (not theirs); [`StoreError::Conflict`] when giving it
    /// while the owner restricts processing ([`Store::set_processing_restricted`]).
    pub async fn set_showcase(&self, job_id: &str, user_id: &str, on: bool) -> Result<Job> {
        // Consent is refused while the member restricts processing of their data.
        let sql = if on {
            "UPDATE jobs SET showcase_at = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = $3 AND users.processing_restricted_at IS NOT NULL)"
        } else {
            "UPDATE jobs SET showcase_at = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL"
        };
        let done = sqlx::query(sql).bind(on.then(now_ms)).bind(job_id).bind(user_id).execute(&self.write_pool).await?;
        if done.rows_affected() == 0 {
            // Not theirs or deleted: NotFound; theirs: refused by the restriction.
            self.job(job_id, user_id).await?;
            return Err(StoreError::Conflict("Processing of your data is restricted: lift the restriction to showcase items.".into()));
        }
        self.job(job_id, user_id).await
    }
}
