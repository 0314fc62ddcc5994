//! A generation job's words: its [`JobStatus`] and the moves between them, its [`Mode`], and
//! who may see its result ([`Visibility`]).

text_enum! {
    /// Where a job is in its life.
    ///
    /// ```text
    ///              ┌──────────► rejected ◄──────────┐
    ///  (created) ──┼─► queued ──► running ──► succeeded
    ///              │     ▲  │        │  └──► failed
    ///              └─► review ◄──────┘ (output held)
    ///                    └──► canceled ◄── queued, running
    /// ```
    /// A job is created `queued`, `review` (held by a gate) or `rejected` (blocked by a gate);
    /// see [`JobStatus::can_start_as`] and [`JobStatus::can_become`].
    pub enum JobStatus ("job status") {
        /// Waiting for a worker.
        Queued = "queued",
        /// Held for a moderator: before it runs (no result yet) or after (result hidden).
        Review = "review",
        /// A worker holds its lease.
        Running = "running",
        /// Finished with a result the owner can see.
        Succeeded = "succeeded",
        /// Blocked by moderation; charged, never refunded.
        Rejected = "rejected",
        /// Ended for a technical reason; refunded when the operator's setting says so.
        Failed = "failed",
        /// Canceled by its owner before it finished.
        Canceled = "canceled",
    }
}

impl JobStatus {
    /// The four end states: a job in one of them never changes state again.
    pub const TERMINAL: [JobStatus; 4] = [JobStatus::Succeeded, JobStatus::Rejected, JobStatus::Failed, JobStatus::Canceled];

    /// True for `succeeded`, `rejected`, `failed` and `canceled`.
    pub fn is_terminal(self) -> bool {
        Self::TERMINAL.contains(&self)
    }

    /// Whether a new job may be created in this state: `queued` (the gates allowed it),
    /// `review` (held) or `rejected` (blocked).
    pub fn can_start_as(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Review | JobStatus::Rejected)
    }

    /// Whether a job in `self` may move to `next`:
    /// - `queued` → `running` (claimed) or `canceled`;
    /// - `running` → `running` (claimed again after its lease lapsed), `succeeded`, `review`
    ///   (the output gate held the result), `rejected` (the output gate blocked it), `failed`,
    ///   `canceled` (its owner, while it runs: the worker stops and keeps nothing);
    /// - `review` → `queued` or `succeeded` (a moderator approved it, before or after it ran),
    ///   `rejected`, `canceled` (its owner, before it ran).
    pub fn can_become(self, next: JobStatus) -> bool {
        use JobStatus::*;
        match self {
            Queued => matches!(next, Running | Canceled),
            Running => matches!(next, Running | Succeeded | Review | Rejected | Failed | Canceled),
            Review => matches!(next, Queued | Succeeded | Rejected | Canceled),
            Succeeded | Rejected | Failed | Canceled => false,
        }
    }

    /// The Standard Webhooks event type a job's move into this state sends
    /// (`generation.succeeded`, ...); `None` for states that send none.
    pub fn webhook_event(self) -> Option<&'static str> {
        match self {
            JobStatus::Succeeded => Some("generation.succeeded"),
            JobStatus::Failed => Some("generation.failed"),
            JobStatus::Rejected => Some("generation.rejected"),
            JobStatus::Canceled => Some("generation.canceled"),
            _ => None,
        }
    }
}

text_enum! {
    /// What a generation makes from what (SPEC §3's four modes).
    pub enum Mode ("mode") {
        /// A photo restyled.
        ImageToImage = "image_to_image",
        /// An image from a prompt.
        TextToImage = "text_to_image",
        /// A short clip from one photo.
        ImageToVideo = "image_to_video",
        /// An uploaded clip restyled.
        VideoToVideo = "video_to_video",
    }
}

impl Mode {
    /// Whether the mode needs a source image or clip from the member.
    pub fn needs_source(self) -> bool {
        !matches!(self, Mode::TextToImage)
    }
}

text_enum! {
    /// Who may see a finished result. New results are `private`.
    pub enum Visibility ("visibility") {
        /// Its owner (and moderators) only.
        Private = "private",
        /// Anyone with a share link.
        Link = "link",
        /// Anyone: on the public feed and its own public page.
        Public = "public",
    }
}

impl Default for Visibility {
    /// New results are private.
    fn default() -> Self {
        Visibility::Private
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip_and_unknown_ones_are_errors() {
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(*m));
        }
        let e = "done".parse::<JobStatus>().unwrap_err();
        assert_eq!(e.to_string(), "unknown job status \"done\"");
        assert!(serde_json::from_str::<Visibility>("\"everyone\"").is_err());
        assert_eq!(serde_json::from_str::<Visibility>("\"link\"").unwrap(), Visibility::Link);
    }

    #[test]
    fn terminal_states_go_nowhere_and_creation_states_are_the_gates_outcomes() {
        for from in JobStatus::ALL {
            let moves: Vec<_> = JobStatus::ALL.iter().filter(|to| from.can_become(**to)).collect();
            assert_eq!(moves.is_empty(), from.is_terminal(), "{from}: {moves:?}");
        }
        let starts: Vec<_> = JobStatus::ALL.iter().copied().filter(|s| s.can_start_as()).collect();
        assert_eq!(starts, [JobStatus::Queued, JobStatus::Review, JobStatus::Rejected]);
        assert!(!JobStatus::Queued.can_become(JobStatus::Succeeded), "a job runs before it succeeds");
        assert!(JobStatus::Review.can_become(JobStatus::Succeeded));
        assert_eq!(JobStatus::Canceled.webhook_event(), Some("generation.canceled"));
        assert_eq!(JobStatus::Running.webhook_event(), None);
    }
}
