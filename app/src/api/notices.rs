//! Notices to members: the banner's data (with the member, in `get_me`), closing one, and the
//! console's list, publish and withdraw (`/admin/notices`, administrators). Rules:
//! `service::notices`.

use darkroom_contract::NoticeKind;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A notice as the banner and the console show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NoticeView {
    pub id: String,
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// Marked for mail to every member.
    pub mail: bool,
    /// Unix ms: the mailing finished (`None`: still mailing, or not mailed).
    pub mail_done_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    pub withdrawn_at: Option<i64>,
}

#[cfg(feature = "ssr")]
impl From<darkroom_store::notices::Notice> for NoticeView {
    fn from(n: darkroom_store::notices::Notice) -> Self {
        NoticeView { id: n.id, kind: n.kind, title: n.title, body: n.body, mail: n.mail == 1, mail_done_at: n.mail_done_at, created_at: n.created_at, withdrawn_at: n.withdrawn_at }
    }
}

/// Closes a notice's banner for the signed-in member. Errors: 401 signed out; 404 unknown.
#[server(endpoint = "dismiss_notice")]
pub async fn dismiss_notice(id: String) -> Result<(), ServerFnError> {
    use crate::api::ssr::{fail, member};
    let (state, user) = member().await?;
    state.store.dismiss_notice(&user.id, &id).await.map_err(|e| fail(e.into()))
}

/// Every notice, newest first (administrators only).
#[server(endpoint = "admin_notices")]
pub async fn admin_notices() -> Result<Vec<NoticeView>, ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, _) = admin("manage notices").await?;
    Ok(state.store.notices(100).await.map_err(|e| fail(e.into()))?.into_iter().map(Into::into).collect())
}

/// Publishes a notice (administrators only); `mail` (a checkbox) mails every member too.
/// Errors: 400 for an unknown kind or an empty or too long title or text.
#[server(endpoint = "publish_notice")]
pub async fn publish_notice(kind: Option<String>, title: Option<String>, body: Option<String>, mail: Option<String>) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, user) = admin("manage notices").await?;
    let text = |v: Option<String>| v.unwrap_or_default();
    darkroom_service::notices::publish(&state, &user.id, &text(kind), &text(title), &text(body), mail.is_some()).await.map_err(fail)?;
    Ok(())
}

/// Withdraws a notice: its banner goes for everyone and an unfinished mailing stops
/// (administrators only). Errors: 404 for an unknown or already withdrawn notice.
#[server(endpoint = "withdraw_notice")]
pub async fn withdraw_notice(id: String) -> Result<(), ServerFnError> {
    use crate::api::ssr::{admin, fail};
    let (state, user) = admin("manage notices").await?;
    state.store.withdraw_notice(&user.id, &id).await.map_err(|e| fail(e.into()))
}
