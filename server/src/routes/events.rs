//! `GET /events`: the member's live stream (Server-Sent Events, SPEC §8).
//!
//! Each event's SSE `id` is its member's sequence number `seq` and its SSE `event` its kind (`job`,
//! `balance`); `data` is JSON. The stream starts after `Last-Event-ID` (sent by the browser
//! on reconnect) or else `?after=` (the id the page was rendered at), so a reconnecting tab
//! receives exactly what it missed. Ids are the member's event sequence numbers
//! (`darkroom_store::events`), which commit in order however many nodes write, so resuming
//! from an id never skips one.
//!
//! New events are found by reading the log when the member's own watch fires
//! (`darkroom_store::live`: this process's commits, and on PostgreSQL every node's through
//! `LISTEN/NOTIFY`); other members' changes wake nothing here. A slow poll is the safety net:
//! every second on SQLite (a separate `darkroom worker` process), every [`SAFETY_POLL`] on
//! PostgreSQL while the listener is connected. Comments every 15 s keep proxies from closing
//! the stream. If the resume point is older than what retention kept, a `snapshot` event
//! (current balance and jobs) comes first.
//!
//! When the node stops (SIGTERM), every stream ends with an SSE `retry` of
//! [`RETRY_AFTER_SHUTDOWN`], so the server's graceful shutdown is not held open by streams and
//! the client reconnects (through the load balancer, to a node that runs) and resumes.
//!
//! A client that stops reading is not kept for ever: when the stream's queue stays full for
//! `DARKROOM_WRITE_TIMEOUT_SECS` the stream ends (and the kernel closes a connection whose
//! data goes unread that long: `TCP_USER_TIMEOUT`, set in `Application::run`). The client resumes by
//! `Last-Event-ID`, so nothing is lost.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use darkroom_contract::event::{EventKind, LiveEvent, Snapshot};
use darkroom_service::auth::AuthSession;
use darkroom_service::AppState;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

#[derive(Deserialize)]
pub struct Params {
    after: Option<i64>,
}

/// Events read from the log per query.
const BATCH: i64 = 200;
/// The reconnection delay a stream's last message asks for when its node stops.
pub const RETRY_AFTER_SHUTDOWN: Duration = Duration::from_millis(500);
/// The poll between notices on PostgreSQL with the listener connected.
pub const SAFETY_POLL: Duration = Duration::from_secs(15);

pub async fn stream(State(app): State<AppState>, auth: AuthSession, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    let Some(user) = auth.user else { return StatusCode::UNAUTHORIZED.into_response() };
    let from_header = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let mut last = match from_header.or(q.after) {
        Some(id) => id,
        None => app.store.last_event_id(&user.id).await.unwrap_or(0),
    };
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    // Resuming from before what retention kept: the missed events are gone, so the member
    // gets the current state first (event `snapshot`), then the stream goes on from there.
    let horizon = app.store.event_horizon(&user.id).await.unwrap_or(0);
    if last < horizon {
        match snapshot(&app, &user.id, horizon).await {
            Ok((id, data)) => {
                last = id;
                let _ = tx.send(Ok(Event::default().id(id.to_string()).event(EventKind::Snapshot.as_str()).data(data))).await;
            }
            Err(e) => tracing::warn!(error = %e, "snapshot failed"),
        }
    }
    // Watching starts before the first read: nothing committed after this line is missed.
    let mut watch = app.store.watch_member(&user.id);
    let write_timeout = Duration::from_secs(app.config.write_timeout_secs);
    let mut stopping = app.shutdown.subscribe();
    tokio::spawn(async move {
        let _open = darkroom_service::metrics::StreamGuard::open(&app.metrics);
        loop {
            match app.store.events_after(&user.id, last, BATCH).await {
                Ok(events) => {
                    let full = events.len() as i64 == BATCH;
                    for e in events {
                        last = e.seq;
                        let ev = Event::default().id(e.seq.to_string()).event(e.kind.as_str()).data(e.payload);
                        match tx.send_timeout(Ok(ev), write_timeout).await {
                            Ok(()) => {}
                            Err(mpsc::error::SendTimeoutError::Closed(_)) => return, // the client went away
                            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                                tracing::info!(member = %user.id, last, "live stream cut: the client stopped reading");
                                return;
                            }
                        }
                    }
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading events failed"),
            }
            let poll = if app.store.hub.listening() { SAFETY_POLL } else { Duration::from_secs(1) };
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(poll) => {}
                _ = watch.changed() => {}
                _ = async { stopping.wait_for(|s| *s).await.is_ok() } => {
                    // This node is stopping: end the stream so the server can, and tell the
                    // client to come back soon (to another node, behind a load balancer).
                    let _ = tx.send_timeout(Ok(Event::default().retry(RETRY_AFTER_SHUTDOWN).comment("node stopping")), Duration::from_secs(1)).await;
                    return;
                }
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

/// The member's current state: `{"balance": n, "jobs": [job, ...]}` (20 newest jobs), with
/// the event id it is current as of (never below the pruned horizon, even when retention
/// removed every event, so the client's resume point only moves forward).
async fn snapshot(app: &AppState, user_id: &str, horizon: i64) -> Result<(i64, String), darkroom_store::StoreError> {
    let id = app.store.last_event_id(user_id).await?.max(horizon);
    let balance = app.store.user(user_id).await?.balance;
    let jobs = app.store.jobs_for_user(user_id, None, None, 20).await?.iter().map(|j| j.state()).collect();
    Ok((id, LiveEvent::Snapshot(Snapshot { balance, jobs }).payload()))
}
