//! Support server functions: the public support page (`support_page`, `submit_support`) and
//! the administrators' queue (`admin_support`, `answer_support`, `close_support`). The rules
//! (checks, rate limits, mail, audit) live in `darkroom_service::support`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A support request as the page and the console show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SupportView {
    pub id: String,
    pub email: String,
    /// Sent by a signed-in member (not a visitor).
    pub from_member: bool,
    /// A `darkroom_contract::SupportTopic` text.
    pub topic: String,
    pub message: String,
    /// A `darkroom_contract::SupportStatus` text: `open`, `answered`, `closed`.
    pub status: String,
    pub answer: Option<String>,
    /// Unix milliseconds.
    pub answered_at: Option<i64>,
    pub created_at: i64,
}

/// The support page: who is asking, and a member's own earlier requests.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SupportPageView {
    /// The signed-in member's address (answers go there); `None` for a visitor.
    pub email: Option<String>,
    pub mine: Vec<SupportView>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::SupportView;

    pub fn view(r: darkroom_store::support::SupportRequest) -> SupportView {
        SupportView {
            from_member: r.user_id.is_some(),
            topic: r.topic.to_string(),
            status: r.status.to_string(),
            id: r.id,
            email: r.email,
            message: r.message,
            answer: r.answer,
            answered_at: r.answered_at,
            created_at: r.created_at,
        }
    }
}

/// The support page's data (anyone).
#[server(endpoint = "support_page")]
pub async fn support_page() -> Result<SupportPageView, ServerFnError> {
    use crate::api::ssr::{auth, fail, state};
    let state = state()?;
    let Some(user) = auth().await?.user else { return Ok(SupportPageView { email: None, mine: Vec::new() }) };
    let email = state.store.user(&user.id).await.map_err(|e| fail(e.into()))?.email;
    let mine = state.store.support_requests_of(&user.id).await.map_err(|e| fail(e.into()))?;
    Ok(SupportPageView { email: Some(email), mine: mine.into_iter().map(ssr::view).collect() })
}

/// Sends a support request (anyone; a member's answer goes to their account's address, a
/// visitor's to `email`). Returns the request's reference. Errors: 400 naming the field,
/// 429 with `Retry-After` beyond the limits.
#[server(endpoint = "submit_support")]
pub async fn submit_support(email: Option<String>, topic: Option<String>, message: Option<String>) -> Result<String, ServerFnError> {
    use crate::api::ssr::{auth, client, fail, state};
    let state = state()?;
    let member = match auth().await?.user {
        Some(u) => Some((u.id.clone(), state.store.user(&u.id).await.map_err(|e| fail(e.into()))?.email)),
        None => None,
    };
    let ip = client().await.ip;
    let form = darkroom_service::support::NewRequest {
        member: member.as_ref().map(|(id, email)| (id.as_str(), email.as_str())),
        email: email.as_deref().unwrap_or(""),
        topic: topic.as_deref().unwrap_or(""),
        message: message.as_deref().unwrap_or(""),
    };
    let request = darkroom_service::support::submit(&state, ip, form).await.map_err(fail)?;
    Ok(request.id)
}

/// The support queue: requests in `status` (`open` by default, oldest first; `all`: every
/// state, newest first), 200 at most. Administrators only (403).
#[server(endpoint = "admin_support")]
pub async fn admin_support(status: Option<String>) -> Result<Vec<SupportView>, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    use darkroom_contract::SupportStatus;
    let (state, _) = admin("see support requests").await?;
    let status = match status.as_deref().unwrap_or("open") {
        "all" => None,
        s => Some(s.parse::<SupportStatus>().map_err(|_| fail(darkroom_service::ServiceError::Invalid("Unknown status.".into())))?),
    };
    let list = state.store.support_requests(status, 200).await.map_err(|e| fail(e.into()))?;
    Ok(list.into_iter().map(ssr::view).collect())
}

/// Answers a request by mail (administrators; audited). Errors: 400 for an empty answer,
/// 404, 409 for a closed request, 403 for anyone else.
#[server(endpoint = "answer_support")]
pub async fn answer_support(id: String, answer: Option<String>) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, staff) = admin("answer support requests").await?;
    darkroom_service::support::answer(&state, &staff.id, &id, answer.as_deref().unwrap_or("")).await.map_err(fail)?;
    Ok(())
}

/// Closes a request (administrators; audited). Errors: 404, 409 if closed, 403 for anyone else.
#[server(endpoint = "close_support")]
pub async fn close_support(id: String) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, staff) = admin("close support requests").await?;
    darkroom_service::support::close(&state, &staff.id, &id).await.map_err(fail)?;
    Ok(())
}
