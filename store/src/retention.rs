//! Retention (SPEC §7, seeds' "temporary files"): which uploads and results are past the
//! operator's keep-for time. The caller removes their files first and then marks them
//! purged here, so a crash in between leaves rows that the next run purges again (file
//! deletion is idempotent) and never a file without a row.

use crate::jobs::{emit_job, job_in, Job, COLUMNS};
use crate::uploads::Upload;
use crate::{now_ms, Result, Store};

/// Jobs that still need their upload: not finished yet.
pub(crate) const ACTIVE: &str = "('queued', 'review', 'running')";

/// Whose results a retention pass covers, by the plan their per-plan settings follow
/// (`store::settings`: the newest active subscription's plan, `''` without one).
#[derive(Clone, Copy, Debug)]
pub enum PlanScope<'a> {
    /// Members on this plan.
    On(&'a str),
    /// Members on none of these plans (members without a subscription included).
    NoneOf(&'a [String]),
}

impl Store {
    /// Uploads made before `before_ms`, not yet purged, whose jobs have all finished; oldest
    /// first, at most `limit`.
    pub async fn expired_uploads(&self, before_ms: i64, limit: i64) -> Result<Vec<Upload>> {
        Ok(sqlx::query_as::<_, Upload>(&format!(
            "SELECT id, user_id, object_key, content_hash, mime, bytes, width, height, created_at, gate, duration_ms FROM uploads u \
             WHERE deleted_at IS NULL AND created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE (j.upload_id = u.id OR j.style_upload_id = u.id) AND j.status IN {ACTIVE}) \
             ORDER BY created_at LIMIT $2"
        ))
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks an upload purged (its file is gone).
    pub async fn mark_upload_purged(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE uploads SET deleted_at = COALESCE(deleted_at, $1) WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    /// Finished jobs with files (results) of the members in `scope` that finished before
    /// `before_ms` and are not deleted; oldest first, at most `limit`.
    pub async fn expired_results(&self, before_ms: i64, scope: PlanScope<'_>, limit: i64) -> Result<Vec<Job>> {
        let plan = crate::settings::plan_of("jobs.user_id");
        let cond = match scope {
            PlanScope::On(_) => format!("{plan} = $3"),
            PlanScope::NoneOf([]) => "1 = 1".to_string(),
            PlanScope::NoneOf(list) => format!("{plan} NOT IN ({})", (0..list.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ")),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE deleted_at IS NULL AND result_key IS NOT NULL \
             AND status NOT IN {ACTIVE} AND finished_at < $1 AND {cond} ORDER BY finished_at LIMIT $2"
        );
        let mut q = sqlx::query_as::<_, Job>(&sql).bind(before_ms).bind(limit);
        match scope {
            PlanScope::On(p) => q = q.bind(p.to_string()),
            PlanScope::NoneOf(list) => {
                for p in list {
                    q = q.bind(p.clone());
                }
            }
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// Marks a job's result purged: the item leaves the gallery, Explore and every link, and
    /// the member is told live.
    pub async fn mark_result_purged(&self, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE jobs SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(());
        }
        let job = job_in(&mut tx, id).await?;
        emit_job(&mut tx, &job).await?;
        crate::bump_feed(&mut tx).await?;
        tx.commit().await?;
        self.changed(&job.user_id);
        self.feed_changed();
        Ok(())
    }
}
