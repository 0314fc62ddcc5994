//! Support: requests from the support page (visitors and members) and staff's answers.
//!
//! A request is checked and rate limited ([`SupportLimits`]: per client address, and per
//! email address so nobody can fill another person's inbox with receipts), stored `open`, and
//! acknowledged by mail. Staff (administrators) answer by mail from the console and close
//! requests; each move is audited by the store. A member's requests use their account's
//! address; a visitor's the one they typed. Account deletion removes both.

use std::net::IpAddr;

use darkroom_contract::{SupportStatus, SupportTopic};
use darkroom_store::cluster::Rate;
use darkroom_store::support::SupportRequest;

use crate::limits::{Counter, Limiter};
use crate::mail::Mail;
use crate::{AppState, ServiceError};

/// The longest message and answer, in characters.
pub const MAX_TEXT_CHARS: usize = 5000;
/// The shortest message, in characters (after trimming).
pub const MIN_MESSAGE_CHARS: usize = 10;

/// How often support requests may be sent.
pub struct SupportLimits {
    per_ip: Limiter,
    per_email: Limiter,
}

impl SupportLimits {
    /// `per_ip_per_hour` requests per client address (`DARKROOM_SUPPORT_RATE_PER_IP_PER_HOUR`)
    /// and 3 per email address per hour, counted where `counter` says.
    pub fn new(counter: &Counter, per_ip_per_hour: u32) -> Self {
        Self { per_ip: Limiter::new("support-ip", Rate::per(per_ip_per_hour, 3_600_000), counter), per_email: Limiter::new("support-email", Rate::per(3, 3_600_000), counter) }
    }
}

/// What the support form sends.
pub struct NewRequest<'a> {
    /// The signed-in member's id and account address, if any (the typed address is then ignored).
    pub member: Option<(&'a str, &'a str)>,
    /// The address a visitor typed.
    pub email: &'a str,
    /// A [`SupportTopic`] text.
    pub topic: &'a str,
    pub message: &'a str,
}

/// Checks, counts and stores a request, then mails its receipt.
///
/// Errors: [`ServiceError::Invalid`] naming the field (address, topic, message length);
/// [`ServiceError::RateLimited`] with the seconds to wait; the store's. A receipt that cannot
/// be mailed is logged, not an error (the request is kept and staff see it).
pub async fn submit(state: &AppState, ip: Option<IpAddr>, form: NewRequest<'_>) -> Result<SupportRequest, ServiceError> {
    let (user_id, email) = match form.member {
        Some((id, email)) => (Some(id), email.to_string()),
        None => {
            crate::accounts::check_email(form.email)?;
            (None, darkroom_store::users::normalize_email(form.email))
        }
    };
    let topic: SupportTopic = form.topic.parse().map_err(|_| ServiceError::Invalid("Choose what your request is about.".into()))?;
    let message = form.message.trim();
    let chars = message.chars().count();
    if !(MIN_MESSAGE_CHARS..=MAX_TEXT_CHARS).contains(&chars) {
        return Err(ServiceError::Invalid(format!("Write between {MIN_MESSAGE_CHARS} and {MAX_TEXT_CHARS} characters.")));
    }
    if let Some(ip) = ip {
        state.support_limits.per_ip.check(&ip.to_string()).await?;
    }
    state.support_limits.per_email.check(&email).await?;
    let request = state.store.create_support_request(user_id, &email, topic, message).await?;
    let receipt = Mail::plain(
        "We received your support request",
        &["Thank you for writing. We answer every request by mail to this address.", "Your message:", message, &format!("Reference: {}", request.id)],
    );
    if let Err(e) = state.mailer.send(&email, receipt).await {
        tracing::warn!(error = %e, request = %request.id, "support receipt not mailed");
    }
    Ok(request)
}

/// Staff answers a request: the answer is stored, audited and mailed to the request's address.
///
/// Errors: [`ServiceError::Invalid`] for an empty or too long answer; `NotFound`; `Conflict`
/// for a closed request; [`ServiceError::Unavailable`] when the mail cannot be sent (the
/// answer is stored and shown in the console; sending it again is safe).
pub async fn answer(state: &AppState, staff_id: &str, id: &str, text: &str) -> Result<SupportRequest, ServiceError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(ServiceError::Invalid(format!("Write an answer of at most {MAX_TEXT_CHARS} characters.")));
    }
    let request = state.store.move_support_request(id, staff_id, SupportStatus::Answered, Some(text)).await?;
    let mail = Mail::plain("Re: your support request", &[text, "You wrote:", &request.message, &format!("Reference: {}", request.id)]);
    state.mailer.send(&request.email, mail).await?;
    Ok(request)
}

/// Staff closes a request (audited). Errors: `NotFound`; `Conflict` if already closed.
pub async fn close(state: &AppState, staff_id: &str, id: &str) -> Result<SupportRequest, ServiceError> {
    Ok(state.store.move_support_request(id, staff_id, SupportStatus::Closed, None).await?)
}
