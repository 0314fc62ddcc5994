//! The audit log: who did what to whom, why, and when. Append-only.

use sqlx::{Any, Transaction};

use crate::{new_id, now_ms, Result, Store};

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
    /// Appends an audit row on its own. `actor_id` is `None` for the system or the CLI.
    pub async fn audit(&self, actor_id: Option<&str>, action: &str, target: &str, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        audit_in(&mut tx, actor_id, action, target, reason).await?;
        tx.commit().await?;
        Ok(())
    }
}
