//! Notices to members: an administrator publishes one (a plan change, a feature change, a
//! suspension of the service, maintenance); members see it as a banner on every page until
//! they close it or it is withdrawn, and when it is marked for mail every member with an
//! account gets it by mail too (the terms promise notice of such changes in advance).
//!
//! Mailing runs in the background in batches of [`BATCH`] (`mail_pending`, started at
//! publish and every minute by `serve`); a node takes the notice's lease first, so two nodes
//! never mail the same batch. A crash mid-batch mails that batch's members again at most
//! once more (the cursor moves after each batch): a duplicate notice is better than a missing one.

use darkroom_contract::NoticeKind;
use darkroom_store::notices::Notice;

use crate::mail::Mail;
use crate::{AppState, ServiceError};

/// A title's length limit, in characters.
pub const MAX_TITLE: usize = 120;
/// A body's length limit, in characters.
pub const MAX_BODY: usize = 2000;
/// Members mailed per batch (the cursor and the lease move after each).
pub const BATCH: i64 = 100;
/// How long a node holds a mailing before another may take it over, in milliseconds.
const LEASE_MS: i64 = 120_000;
/// Banners older than this are no longer shown (90 days, in milliseconds).
pub const SHOWN_FOR_MS: i64 = 90 * 86_400_000;

/// Checks and publishes a notice for `actor_id`, audited; a mailing starts at once in the
/// background when `mail`.
///
/// Errors: an unknown kind, an empty or too long title or body (400); the database failed.
pub async fn publish(state: &AppState, actor_id: &str, kind: &str, title: &str, body: &str, mail: bool) -> Result<Notice, ServiceError> {
    let kind: NoticeKind = kind.parse().map_err(|_| ServiceError::Invalid(format!("Unknown notice kind: {kind}.")))?;
    let (title, body) = (title.trim(), body.trim());
    if title.is_empty() || title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(format!("The title must be 1 to {MAX_TITLE} characters on one line.")));
    }
    if body.is_empty() || body.chars().count() > MAX_BODY {
        return Err(ServiceError::Invalid(format!("The text must be 1 to {MAX_BODY} characters.")));
    }
    let notice = state.store.publish_notice(actor_id, kind, title, body, mail).await?;
    if mail {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = mail_pending(&state).await {
                tracing::warn!(error = %e, "mailing a notice failed; the minute loop retries");
            }
        });
    }
    Ok(notice)
}

/// Mails every notice still to be mailed, batch by batch, while this node holds its lease.
/// Returns how many mails were sent.
///
/// Errors: the database failed (the mailing resumes from its cursor later). A mail that
/// cannot be sent is logged and skipped (one bad address must not hold up everyone else).
pub async fn mail_pending(state: &AppState) -> Result<u64, ServiceError> {
    let mut sent = 0;
    while let Some((notice, mut cursor)) = state.store.claim_notice_mailing(LEASE_MS).await? {
        loop {
            let batch = state.store.notice_recipients(cursor.as_deref(), BATCH).await?;
            let Some(last) = batch.last().map(|r| r.id.clone()) else {
                state.store.finish_notice_mailing(&notice.id).await?;
                break;
            };
            for r in &batch {
                if let Err(e) = state.mailer.send(&r.email, message(state, &notice)).await {
                    tracing::warn!(notice = %notice.id, user = %r.id, error = %e, "notice mail not sent");
                } else {
                    sent += 1;
                }
            }
            let done = (batch.len() as i64) < BATCH;
            state.store.advance_notice_mailing(&notice.id, &last, done, LEASE_MS).await?;
            if done {
                break;
            }
            cursor = Some(last);
        }
    }
    Ok(sent)
}

/// The mail of a notice: its title as the subject, its kind, its text, and where to read
/// the terms.
fn message(state: &AppState, n: &Notice) -> Mail {
    let kind = match n.kind {
        NoticeKind::PlanChange => "A change to our plans",
        NoticeKind::FeatureChange => "A change to the service",
        NoticeKind::Suspension => "A suspension of the service",
        NoticeKind::Maintenance => "Planned maintenance",
    };
    Mail::with_link(
        &n.title,
        &[kind, &n.body],
        "Open Darkroom",
        &format!("{}/", state.config.public_url.trim_end_matches('/')),
        "You get this because you have a Darkroom account; notices like this one are sent to every member.",
    )
}
