//! Support requests: what someone asks through the support page, and where it stands.

text_enum! {
    /// What a support request is about (the form's choice; staff filter by it).
    pub enum SupportTopic ("support topic") {
        /// Signing in, the account, its settings.
        Account = "account",
        /// Credits, payments, refunds, subscriptions.
        Billing = "billing",
        /// A moderation decision, a strike, a restriction (an appeal).
        Moderation = "moderation",
        /// A privacy request: access, correction, erasure, restriction, objection, portability.
        Privacy = "privacy",
        /// Anything else.
        Other = "other",
    }
}

text_enum! {
    /// Where a support request stands.
    ///
    /// ```text
    /// open ──► answered ──► closed
    ///   └───────────────────►┘
    /// ```
    /// Staff may answer again (a follow-up); a closed request stays closed.
    pub enum SupportStatus ("support status") {
        /// Waiting for staff.
        Open = "open",
        /// Staff answered by mail.
        Answered = "answered",
        /// Done; kept for the record.
        Closed = "closed",
    }
}

impl SupportStatus {
    /// True if a request in this state may move to `next`.
    pub fn can_become(self, next: SupportStatus) -> bool {
        use SupportStatus::*;
        match self {
            Open => matches!(next, Answered | Closed),
            Answered => matches!(next, Answered | Closed),
            Closed => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_request_stays_closed_and_texts_round_trip() {
        for s in SupportStatus::ALL {
            assert_eq!(s.as_str().parse::<SupportStatus>(), Ok(*s));
            assert!(!SupportStatus::Closed.can_become(*s));
        }
        for t in SupportTopic::ALL {
            assert_eq!(t.as_str().parse::<SupportTopic>(), Ok(*t));
        }
        assert!(SupportStatus::Open.can_become(SupportStatus::Answered) && SupportStatus::Answered.can_become(SupportStatus::Closed));
        assert!(!SupportStatus::Answered.can_become(SupportStatus::Open));
        assert!("nope".parse::<SupportTopic>().is_err());
    }
}
