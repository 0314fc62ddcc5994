//! Darkroom's vocabulary as types, shared by every crate of the workspace and both sides of
//! the pages (it compiles to WebAssembly: serde only).
//!
//! Each word the service stores or sends is an enum here, parsed once where it enters (a
//! database row, a request, a live event) and compared as a value everywhere else:
//! - [`JobStatus`] with its allowed transitions, [`Mode`], [`Visibility`] ([`job`]);
//! - moderation's [`Gate`], [`Decision`] and [`Category`] ([`moderation`]);
//! - the live stream's [`LiveEvent`] and its payloads ([`event`]);
//! - the names of a result's files and renditions ([`media`]);
//! - support requests' [`SupportTopic`] and [`SupportStatus`] ([`support`]);
//! - the operator's notices to members, [`NoticeKind`] ([`notice`]).
//!
//! Stored form: every enum is TEXT in both databases (its `as_str`), read back with
//! [`std::str::FromStr`]; an unknown value read back is an error ([`ParseError`]), never a
//! panic. With the `sqlx` feature they bind and decode directly through sqlx's `Any` driver.
//! The wire form (JSON, SSE, the API) is the same text.

#[macro_use]
mod text_enum;

pub mod event;
pub mod job;
pub mod media;
pub mod moderation;
pub mod notice;
pub mod support;

pub use event::{EventKind, JobState, LiveEvent};
pub use job::{JobStatus, Mode, Visibility};
pub use moderation::{Category, Decision, Gate};
pub use notice::NoticeKind;
pub use support::{SupportStatus, SupportTopic};

/// A text that is not one of an enum's values: `kind` names the enum (`job status`, ...),
/// `value` is what was read (cut to 64 characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub kind: &'static str,
    pub value: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} {:?}", self.kind, self.value)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    pub(crate) fn new(kind: &'static str, value: &str) -> Self {
        Self { kind, value: value.chars().take(64).collect() }
    }
}
