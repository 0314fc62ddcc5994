//! The id of the HTTP request being served (`x-request-id`), for what the request starts
//! and outlives it: a job records it, and the worker's log lines for that job carry it.
//!
//! The web server's request-id layer sets it for the request's task
//! ([`scope`]); [`current`] reads it anywhere below (a task spawned for the request must
//! take it along, as the API layer does).

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `f` with `id` as the current request's id.
pub async fn scope<F: Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

/// The current request's id, when running inside [`scope`].
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// Whether a client-sent id may be kept: 1–64 ASCII letters, digits, `-`, `_` or `.` (what
/// nginx's `$request_id` and UUIDs are); anything else is replaced, so no one writes into
/// the logs through it.
pub fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_is_seen_inside_its_scope_only() {
        assert_eq!(current(), None);
        assert_eq!(scope("abc".into(), async { current() }).await.as_deref(), Some("abc"));
        assert!(acceptable("0192f0c4-7a1b-7c3e-9d2f-123456789abc") && acceptable("a1b2c3"));
        assert!(!acceptable("") && !acceptable("a\nb") && !acceptable(&"x".repeat(65)) && !acceptable("a b"));
    }
}
