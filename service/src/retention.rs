//! Retention: uploads are purged `upload_retention_days` after upload (once their jobs have
//! finished) and results after the member's plan's result retention (the operator's
//! settings, `service::settings`: per subscription plan, `free` for everyone else) once they
//! finished ("files are kept for a limited time"). A purge deletes every stored file of the item first
//! and then marks the row, so nothing is left behind even after a crash mid-way.
//! Run hourly by `serve` and on demand by `darkroom purge`.

use darkroom_store::retention::PlanScope;

use crate::{AppState, ServiceError};

const DAY_MS: i64 = 86_400_000;
/// Rows handled per query; a purge loops until nothing is left.
const BATCH: i64 = 200;

/// What one purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub uploads: u64,
    pub results: u64,
    /// Files deleted from media storage.
    pub files: u64,
}

/// When the result of `user_id`'s job that finished at `finished_ms` is purged (Unix ms), or
/// `None` when their plan keeps results.
///
/// Errors: the database failed.
pub async fn result_expires_at(state: &AppState, user_id: &str, finished_ms: i64) -> Result<Option<i64>, ServiceError> {
    let settings = crate::settings::get(state).await?;
    let plan = state.store.member_plan(user_id).await?;
    let days = settings.perks(plan.as_deref()).result_retention_days;
    Ok((days > 0).then(|| finished_ms + days as i64 * DAY_MS))
}

/// Purges everything past its retention as of `now_ms`.
///
/// Errors: the database or media storage failed (what was purged before stays purged).
pub async fn purge(state: &AppState, now_ms: i64) -> Result<PurgeReport, ServiceError> {
    let mut report = PurgeReport::default();
    let config = &state.config;
    let settings = crate::settings::get(state).await?;
    let listed: Vec<String> = settings.plans.keys().cloned().collect();
    let mut passes = vec![(PlanScope::NoneOf(&listed), settings.free.result_retention_days)];
    passes.extend(settings.plans.iter().map(|(plan, perks)| (PlanScope::On(plan), perks.result_retention_days)));
    for (scope, days) in passes {
        if days == 0 {
            continue;
        }
        let before = now_ms - days as i64 * DAY_MS;
        loop {
            let jobs = state.store.expired_results(before, scope, BATCH).await?;
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                report.files += state.media.delete_result(job.result_key.as_deref(), job.thumb_key.as_deref()).await?;
                state.store.mark_result_purged(&job.id).await?;
                report.results += 1;
            }
        }
    }
    if config.upload_retention_days > 0 {
        let before = now_ms - config.upload_retention_days as i64 * DAY_MS;
        loop {
            let uploads = state.store.expired_uploads(before, BATCH).await?;
            if uploads.is_empty() {
                break;
            }
            for upload in uploads {
                state.media.delete(&upload.object_key).await?;
                report.files += 1;
                state.store.mark_upload_purged(&upload.id).await?;
                report.uploads += 1;
            }
        }
    }
    Ok(report)
}
