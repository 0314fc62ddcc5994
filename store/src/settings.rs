//! The operator's settings document (`site_settings`, one row) and the member's tier that
//! per-plan settings apply to. The document's shape belongs to `service::settings`; here it
//! is text with a version number, saved only over the version it was read at.

use crate::{now_ms, Result, Store};

/// The plan a member's per-plan settings follow: the plan of their newest active
/// subscription, `''` when they have none. An SQL expression over `user`, an SQL expression
/// for the member's id (`jobs.user_id`, `$1`): the one definition both queries use.
pub(crate) fn plan_of(user: &str) -> String {
    format!("COALESCE((SELECT s.plan_id FROM subscriptions s WHERE s.user_id = {user} AND s.status = 'active' ORDER BY s.created_at DESC, s.id DESC LIMIT 1), '')")
}

/// The stored settings document and its version (1 for the first save).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SettingsRow {
    pub doc: String,
    pub version: i64,
}

impl Store {
    /// The settings document, `None` before the first save, as this process last read it
    /// ([`crate::cached`]: a save shows at once here and on other nodes within a second).
    pub async fn site_settings(&self) -> Result<Option<SettingsRow>> {
        let row = self
            .operator
            .settings
            .get(&self.hub, || async {
                Ok(sqlx::query_as::<_, SettingsRow>("SELECT doc, version FROM site_settings WHERE id = 1").fetch_optional(&self.pool).await?)
            })
            .await?;
        Ok((*row).clone())
    }

    /// Saves `doc` if the stored version is still `read_version` (0: nothing was stored), and
    /// appends the audit row `settings.save` (target `settings`, `summary` as its reason) in
    /// the same transaction. Returns the new version, or `None` when someone saved first (the
    /// caller reads again and shows what changed).
    pub async fn save_site_settings(&self, actor_id: &str, doc: &str, read_version: i64, summary: &str) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let version = read_version + 1;
        let done = if read_version == 0 {
            sqlx::query(
                "INSERT INTO site_settings (id, doc, version, updated_by, updated_at) VALUES (1, $1, 1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(doc)
            .bind(actor_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query("UPDATE site_settings SET doc = $1, version = $2, updated_by = $3, updated_at = $4 WHERE id = 1 AND version = $5")
                .bind(doc)
                .bind(version)
                .bind(actor_id)
                .bind(now)
                .bind(read_version)
                .execute(&mut *tx)
                .await?
        };
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        crate::audit::audit_in(&mut tx, Some(actor_id), "settings.save", "settings", summary).await?;
        crate::announce_operator_change(&mut tx).await?;
        tx.commit().await?;
        self.operator_changed();
        Ok(Some(version))
    }

    /// The plan id a member's per-plan settings follow: their newest active subscription's
    /// plan, `None` without one.
    pub async fn member_plan(&self, user_id: &str) -> Result<Option<String>> {
        let plan: String = sqlx::query_scalar(&format!("SELECT {}", plan_of("$1"))).bind(user_id).fetch_one(&self.pool).await?;
        Ok(Some(plan).filter(|p| !p.is_empty()))
    }
}
