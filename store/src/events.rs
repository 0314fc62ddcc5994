//! The per-member event log behind the live stream (SSE, SPEC §8).
//!
//! Every change a member should see live (job progress and state, balance) is appended here
//! in the same transaction as the change itself, so an event exists if and only if the change
//! committed. Each event has the member's next sequence number (`seq`: 1, 2, 3, … per member),
//! which the stream sends as the SSE event id and replays from after `Last-Event-ID`.
//!
//! Why a per-member number and not the table's id: ids are handed out at insert, not at
//! commit, so with several writers (two workers, two web nodes on PostgreSQL) one member's
//! transactions can commit out of id order, and a stream that already read id 11 would
//! never see id 10. `seq` is taken by `UPDATE users SET event_seq = event_seq + 1`, which
//! holds the member's row lock until commit: the next `seq` cannot be taken before the
//! previous one's transaction has ended, so `seq > last` never skips a committed event.
//! (The other choice, reading only below the oldest open transaction's horizon, would let
//! any long transaction anywhere hold back every stream.) The cost is that one member's
//! event-writing transactions serialise on their row, which the balance debit already does.

pub use darkroom_contract::{EventKind, LiveEvent};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::{now_ms, Result, Store};

/// One live event.
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// The member's sequence number: 1 for their first event, then one more each time, with
    /// no gaps (retention removes the oldest only). The SSE event id.
    pub seq: i64,
    /// Which payload it carries (see [`LiveEvent`]).
    pub kind: EventKind,
    /// JSON text of the payload ([`LiveEvent::payload`]).
    pub payload: String,
    pub created_at: i64,
}

/// Appends an event inside `tx` (taking the member's row lock until commit) and, on
/// PostgreSQL, announces it to every node at commit (see [`crate::live`]). Returns its `seq`,
/// or `None` if the member's row is gone (no one can be watching; nothing is written).
pub(crate) async fn append_in(tx: &mut Transaction<'static, Any>, user_id: &str, event: &LiveEvent) -> Result<Option<i64>> {
    append_all_in(tx, user_id, std::slice::from_ref(event)).await
}

/// Appends `events` in order inside `tx` (consecutive `seq`s) as [`append_in`] does one:
/// one statement on PostgreSQL (number, rows and notice), two on SQLite. Returns the last
/// `seq`, or `None` if the member's row is gone or `events` is empty.
pub(crate) async fn append_all_in(tx: &mut Transaction<'static, Any>, user_id: &str, events: &[LiveEvent]) -> Result<Option<i64>> {
    append_all_notifying_in(tx, user_id, events, None).await
}

/// [`append_all_in`], sending `also` too (on PostgreSQL in the same statement; on SQLite
/// notices are not sent).
pub(crate) async fn append_all_notifying_in(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    events: &[LiveEvent],
    also: Option<crate::live::Notice<'_>>,
) -> Result<Option<i64>> {
    if events.is_empty() {
        return Ok(None);
    }
    let n = events.len() as i64;
    let now = now_ms();
    let conn = &mut **tx;
    // Rows `($k + i*2, $k + i*2 + 1)` of (kind, payload), numbered from the member's new
    // `event_seq` backwards.
    let postgres = crate::live::is_postgres(conn);
    let also = also.filter(|_| postgres).map(crate::live::Notice::payload);
    let first = if also.is_some() { 6 } else { 5 };
    let values: Vec<String> = (0..events.len()).map(|i| format!("({}, ${}, ${})", i + 1, first + 2 * i, first + 2 * i + 1)).collect();
    let seq = if postgres {
        // One round trip: the numbers, the rows and the notices.
        let sql = format!(
            "WITH s AS (UPDATE users SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq) \
             INSERT INTO events (user_id, seq, kind, payload, created_at) \
             SELECT $1, s.event_seq - $2 + v.n, v.kind, v.payload, $3 FROM s \
             CROSS JOIN (VALUES {}) AS v(n, kind, payload) \
             CROSS JOIN LATERAL (SELECT pg_notify($4, 'e:' || $1){}) n \
             RETURNING seq",
            values.join(", "),
            if also.is_some() { ", pg_notify($4, $5)" } else { "" }
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(user_id).bind(n).bind(now).bind(crate::live::CHANNEL);
        if let Some(payload) = also {
            q = q.bind(payload);
        }
        for e in events {
            q = q.bind(e.kind()).bind(e.payload());
        }
        q.fetch_all(conn).await?.into_iter().max()
    } else {
        let Some(last) = sqlx::query_scalar::<_, i64>("UPDATE users SET event_seq = event_seq + $1 WHERE id = $2 RETURNING event_seq")
            .bind(n)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let sql = format!(
            "INSERT INTO events (user_id, seq, kind, payload, created_at) \
             SELECT $1, $2 - $3 + v.column1, v.column2, v.column3, $4 FROM (VALUES {}) AS v",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(user_id).bind(last).bind(n).bind(now);
        for e in events {
            q = q.bind(e.kind()).bind(e.payload());
        }
        q.execute(conn).await?;
        Some(last)
    };
    Ok(seq)
}

impl Store {
    /// The member's events with `seq` > `after`, oldest first, at most `limit`.
    pub async fn events_after(&self, user_id: &str, after: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(sqlx::query_as::<_, Event>(
            "SELECT seq, kind, payload, created_at FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The member's newest event `seq` (committed), 0 if none.
    pub async fn last_event_id(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?)
    }
}

impl Store {
    /// Applies retention: deletes events older than `before_ms` (Unix ms) and, per member,
    /// all but the newest `keep_per_user`, remembering per member the newest `seq` removed.
    /// Returns how many rows went.
    pub async fn prune_events(&self, before_ms: i64, keep_per_user: i64) -> Result<u64> {
        let greatest = match self.backend {
            crate::Backend::Sqlite => "MAX(event_horizons.pruned_through, excluded.pruned_through)",
            crate::Backend::Postgres => "GREATEST(event_horizons.pruned_through, excluded.pruned_through)",
        };
        let doomed = "SELECT id, seq, user_id FROM (SELECT id, seq, user_id, created_at, \
             ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY seq DESC) AS rn FROM events) ranked \
             WHERE ranked.created_at < $1 OR ranked.rn > $2";
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO event_horizons (user_id, pruned_through) \
             SELECT user_id, MAX(seq) FROM ({doomed}) d WHERE true GROUP BY user_id \
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

    /// The newest event `seq` retention removed for this member (0 if none): a stream
    /// resuming from below this has a gap and needs a snapshot.
    pub async fn event_horizon(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT pruned_through FROM event_horizons WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(0))
    }
}
