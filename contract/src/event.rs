//! The live stream's events (SSE, docs in `server/src/routes/events.rs`): one definition for
//! the store that appends them, the stream that sends them and the page that applies them.
//!
//! On the wire an event is an SSE `event:` line with its [`EventKind`] and a `data:` line with
//! the payload's JSON: `job` → a [`JobState`]; `balance` → `{"balance": n}` (credits);
//! `snapshot` → `{"balance": n, "jobs": [JobState, ...]}`.

use serde::{Deserialize, Serialize};

use crate::{Category, JobStatus};

text_enum! {
    /// Which payload an event carries.
    pub enum EventKind ("event kind") {
        Job = "job",
        Balance = "balance",
        Snapshot = "snapshot",
    }
}

/// A job's state as its owner's pages see it live.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobState {
    pub id: String,
    pub status: JobStatus,
    /// 0..=100.
    pub progress: i64,
    /// For `failed`/`rejected`: what the member is told.
    pub error: Option<String>,
    /// Credits charged.
    pub cost: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// For rejected or hidden items.
    pub category: Option<Category>,
    /// Hidden everywhere by a moderator.
    pub hidden: bool,
}

/// The balance payload: credits.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Balance {
    pub balance: i64,
}

/// The snapshot payload: the current balance (credits) and the newest jobs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub balance: i64,
    pub jobs: Vec<JobState>,
}

/// One live event's payload, typed.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    Job(JobState),
    Balance(Balance),
    Snapshot(Snapshot),
}

impl LiveEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            LiveEvent::Job(_) => EventKind::Job,
            LiveEvent::Balance(_) => EventKind::Balance,
            LiveEvent::Snapshot(_) => EventKind::Snapshot,
        }
    }

    /// The `data` JSON text.
    pub fn payload(&self) -> String {
        let v = match self {
            LiveEvent::Job(j) => serde_json::to_string(j),
            LiveEvent::Balance(b) => serde_json::to_string(b),
            LiveEvent::Snapshot(s) => serde_json::to_string(s),
        };
        v.expect("plain structs serialise")
    }

    /// Reads an event from its kind and `data` text. Errors: an unknown kind, or a payload
    /// that is not that kind's shape (the message says which).
    pub fn parse(kind: &str, data: &str) -> Result<Self, String> {
        let kind: EventKind = kind.parse().map_err(|e: crate::ParseError| e.to_string())?;
        let bad = |e: serde_json::Error| format!("{kind} event: {e}");
        Ok(match kind {
            EventKind::Job => LiveEvent::Job(serde_json::from_str(data).map_err(bad)?),
            EventKind::Balance => LiveEvent::Balance(serde_json::from_str(data).map_err(bad)?),
            EventKind::Snapshot => LiveEvent::Snapshot(serde_json::from_str(data).map_err(bad)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_as_written() {
        let job = JobState {
            id: "j1".into(),
            status: JobStatus::Running,
            progress: 40,
            error: None,
            cost: 1,
            created_at: 5,
            finished_at: None,
            category: None,
            hidden: false,
        };
        for e in [
            LiveEvent::Job(job.clone()),
            LiveEvent::Balance(Balance { balance: 7 }),
            LiveEvent::Snapshot(Snapshot { balance: 7, jobs: vec![job] }),
        ] {
            assert_eq!(LiveEvent::parse(e.kind().as_str(), &e.payload()), Ok(e.clone()));
        }
        assert_eq!(LiveEvent::Balance(Balance { balance: 3 }).payload(), r#"{"balance":3}"#);
        assert!(LiveEvent::parse("job", r#"{"id":"x","status":"done"}"#).unwrap_err().starts_with("job event:"));
        assert!(LiveEvent::parse("ping", "{}").is_err());
    }
}
