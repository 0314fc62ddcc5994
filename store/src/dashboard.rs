//! What a member's dashboard reads beyond their jobs: the credits that expire next and the
//! credits spent per day and template.

use serde::{Deserialize, Serialize};

use crate::{Result, Store};

/// One day's net spending on one template: charges less refunds, in credits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UsageRow {
    /// The UTC day's start, Unix ms.
    pub day: i64,
    /// The template's name; empty for jobs made before templates (or without one).
    pub template: String,
    pub credits: i64,
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

impl Store {
    /// The soonest time some of `user_id`'s credits expire after `now_ms` and how many
    /// credits expire then; `None` when none of their credits expire.
    pub async fn next_expiry(&self, user_id: &str, now_ms: i64) -> Result<Option<(i64, i64)>> {
        Ok(sqlx::query_as::<_, (i64, i64)>(
            "SELECT expires_at, CAST(SUM(remaining) AS BIGINT) FROM credit_lots \
             WHERE user_id = $1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at > $2 \
             GROUP BY expires_at ORDER BY expires_at LIMIT 1",
        )
        .bind(user_id)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Credits `user_id` spent per UTC day and template from `since_ms` on: the sum of their
    /// `charge` and `refund` ledger entries (a refund counts on the day it was made), by the
    /// template of the entry's job; oldest day first.
    pub async fn usage_by_day(&self, user_id: &str, since_ms: i64) -> Result<Vec<UsageRow>> {
        Ok(sqlx::query_as::<_, UsageRow>(
            "SELECT (l.created_at / 86400000) * 86400000 AS day, COALESCE(t.name, '') AS template, CAST(SUM(-l.amount) AS BIGINT) AS credits \
             FROM ledger_entries l LEFT JOIN jobs j ON j.id = l.job_id LEFT JOIN templates t ON t.id = j.template_id \
             WHERE l.user_id = $1 AND l.kind IN ('charge', 'refund') AND l.created_at >= $2 \
             GROUP BY (l.created_at / 86400000) * 86400000, COALESCE(t.name, '') ORDER BY day, template",
        )
        .bind(user_id)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?)
    }
}
