//! The audit log: who did what to whom, why, and when. Append-only.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::{new_id, now_ms, Result, Store};

/// What the console's audit log shows: every part optional (`None`: any).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter<'a> {
    /// Rows by this actor (a user id).
    pub actor_id: Option<&'a str>,
    /// An action (`support.answer`) or a family of them (`support`: every `support.*`).
    pub action: Option<&'a str>,
    /// Rows about exactly this target (`user:<id>`, `job:<id>`, `support:<id>`, ...).
    pub target: Option<&'a str>,
    /// Unix milliseconds, `from_ms` inclusive, `until_ms` exclusive.
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

/// One audit row with its actor's address (`None`: the system or the CLI).
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct AuditRow {
    pub id: String,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: String,
    pub reason: String,
    pub created_at: i64,
}


/// Appends an audit row inside `tx` (so it commits with the change it describes).
/// `actor_id` is `None` for the system or the CLI.
pub(crate) async fn audit_in(tx: &mut Transaction<'static, Any>, actor_id: Option<&str>, action: &str, target: &str, reason: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (id, actor_id, action, target, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(new_id())
        .bind(actor_id)
        .bind(action)
        .bind(target)
        .bind(reason)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// The audit log, newest first: rows passing `filter` older than the row `before` (an id
    /// from the previous page), at most `limit`. Ids grow with time (`new_id`), so pages are
    /// keyset pages over the primary key.
    pub async fn audit_page(&self, filter: &AuditFilter<'_>, before: Option<&str>, limit: i64) -> Result<Vec<AuditRow>> {
        let action = filter.action.unwrap_or("");
        Ok(sqlx::query_as::<_, AuditRow>(
            "SELECT a.id, a.actor_id, u.email AS actor_email, a.action, a.target, a.reason, a.created_at \
             FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id \
             WHERE ($1 = '' OR a.actor_id = $1) AND ($2 = '' OR a.action = $2 OR a.action LIKE $3 ESCAPE '\\') \
             AND ($4 = '' OR a.target = $4) AND ($5 = '' OR a.id < $5) AND a.created_at >= $6 AND a.created_at < $7 \
             ORDER BY a.id DESC LIMIT $8",
        )
        .bind(filter.actor_id.unwrap_or(""))
        .bind(action)
        .bind(format!("{}.%", crate::like_escaped(action)))
        .bind(filter.target.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(filter.from_ms.unwrap_or(0))
        .bind(filter.until_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Appends an audit row on its own. `actor_id` is `None` for the system or the CLI.
    pub async fn audit(&self, actor_id: Option<&str>, action: &str, target: &str, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        audit_in(&mut tx, actor_id, action, target, reason).await?;
        tx.commit().await?;
        Ok(())
    }
}
