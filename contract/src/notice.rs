//! Notices an operator publishes to members: shown as a banner, and mailed when marked.

text_enum! {
    /// What a notice announces (the banner's label; the terms name each as something members
    /// are told in advance).
    pub enum NoticeKind ("notice kind") {
        /// A plan's price, credits or terms change.
        PlanChange = "plan_change",
        /// A feature is added, changed or retired.
        FeatureChange = "feature_change",
        /// The service, or part of it, is suspended or ends.
        Suspension = "suspension",
        /// Planned maintenance: the service is slow or away for a while.
        Maintenance = "maintenance",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in NoticeKind::ALL {
            assert_eq!(k.as_str().parse::<NoticeKind>(), Ok(*k));
        }
        assert!("news".parse::<NoticeKind>().is_err());
    }
}
