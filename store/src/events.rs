//! The per-member event log behind the live stream (SSE, SPEC §8).
//!
//! Every change a member should see live (job progress and state, balance) is appended here
//! in the same transaction as the change itself, so an event exists if and only if the change
//! committed. Ids increase monotonically per database; the stream uses them as SSE event ids
//! and replays from `Last-Event-ID`.

pub use darkroom_contract::{EventKind, LiveEvent};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::{now_ms, Result, Store};

/// One live event.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: i64,
    /// Which payload it carries (see [`LiveEvent`]).
    pub kind: EventKind,
    /// JSON text of the payload ([`LiveEvent::payload`]).
    pub payload: String,
    pub created_at: i64,
}

/// Appends an event inside `tx`; returns its id.
pub(crate) async fn append_in(tx: &mut Transaction<'static, Any>, user_id: &str, event: &LiveEvent) -> Result<i64> {
    Ok(sqlx::query_scalar("INSERT INTO events (user_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(user_id)
        .bind(event.kind())
        .bind(event.payload())
        .bind(now_ms())
        .fetch_one(&mut **tx)
        .await?)
}

impl Store {
    /// The member's events with id > `after`, oldest first, at most `limit`.
    pub async fn events_after(&self, user_id: &str, after: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(sqlx::query_as::<_, Event>(
            "SELECT id, kind, payload, created_at FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The member's newest event id, 0 if none.
    pub async fn last_event_id(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM events WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?)
    }
}

impl Store {
    /// Applies retention: deletes events older than `before_ms` (Unix ms) and, per member,
    /// all but the newest `keep_per_user`, remembering per member the newest id removed.
    /// Returns how many rows went.
    pub async fn prune_events(&self, before_ms: i64, keep_per_user: i64) -> Result<u64> {
        let greatest = match self.backend {
            crate::Backend::Sqlite => "MAX(event_horizons.pruned_through, excluded.pruned_through)",
            crate::Backend::Postgres => "GREATEST(event_horizons.pruned_through, excluded.pruned_through)",
        };
        let doomed = "SELECT id, user_id FROM (SELECT id, user_id, created_at, \
             ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id DESC) AS rn FROM events) ranked \
             WHERE ranked.created_at < $1 OR ranked.rn > $2";
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO event_horizons (user_id, pruned_through) \
             SELECT user_id, MAX(id) FROM ({doomed}) d WHERE true GROUP BY user_id \
             ON CONFLICT (user_id) DO UPDATE SET pruned_through = {greatest}"
        ))
        .bind(before_ms)
        .bind(keep_per_user)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(&format!("DELETE FROM events WHERE id IN (SELECT id FROM ({doomed}) d)"))
            .bind(before_ms)
            .bind(keep_per_user)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected())
    }

    /// The newest event id retention removed for this member (0 if none): a stream resuming
    /// from an id below this has a gap and needs a snapshot.
    pub async fn event_horizon(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT pruned_through FROM event_horizons WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(0))
    }
}
