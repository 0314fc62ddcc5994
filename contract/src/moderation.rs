//! Moderation's words: where a check ran ([`Gate`]), what it decided ([`Decision`]) and what
//! a member is told it was about ([`Category`]).

text_enum! {
    /// Where a moderation decision was made.
    pub enum Gate ("moderation gate") {
        /// The prompt, before the charge is kept.
        Prompt = "prompt",
        /// The cleaned upload, before the job runs.
        Upload = "upload",
        /// The result, before anyone can see it.
        Output = "output",
        /// A moderator's ruling on a held job.
        Moderator = "moderator",
        /// A moderator's ruling on a report.
        Report = "report",
    }
}

text_enum! {
    /// A gate's outcome, ordered: the highest of several wins (`allow < review < block`).
    pub enum Decision ("moderation decision") {
        Allow = "allow",
        /// Held for a moderator.
        Review = "review",
        Block = "block",
    }
}

impl PartialOrd for Decision {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decision {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

text_enum! {
    /// What a rejection or a hidden item was about, as its owner is told.
    pub enum Category ("moderation category") {
        Sexual = "sexual",
        Minors = "minors",
        Violence = "violence",
        Other = "other",
    }
}

impl Category {
    /// Words shown to the member: "sexual content", "minors", "violence", "other".
    pub fn label(self) -> &'static str {
        match self {
            Category::Sexual => "sexual content",
            Category::Minors => "minors",
            Category::Violence => "violence",
            Category::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_decision_wins() {
        assert_eq!([Decision::Review, Decision::Block, Decision::Allow].into_iter().max(), Some(Decision::Block));
        assert!(Decision::Allow < Decision::Review);
        assert_eq!("output".parse::<Gate>(), Ok(Gate::Output));
        assert!("nsfw".parse::<Category>().is_err());
    }
}
