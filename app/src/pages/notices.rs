//! `/admin/notices`: administrators publish a notice to members (a banner, and a mail when
//! marked) and withdraw one; the list shows each notice's mailing state.

use darkroom_contract::NoticeKind;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::notices::{admin_notices, PublishNotice, WithdrawNotice};
use crate::i18n::{t, title};
use crate::pages::account::notice_kind_label;
use crate::pages::{format_time, server_message, ConsoleNav, MembersOnly};

#[component]
pub fn AdminNoticesPage() -> impl IntoView {
    let publish = ServerAction::<PublishNotice>::new();
    let withdraw = ServerAction::<WithdrawNotice>::new();
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime"); read again after each change.
    let list = Resource::new(move || (publish.version().get(), withdraw.version().get()), |_| admin_notices());
    let error = move || {
        [publish.value().get(), withdraw.value().get()]
            .into_iter()
            .find_map(|r| r.and_then(Result::err))
            .map(|e| view! { <p class="notice error" data-testid="notices-error">{server_message(&e)}</p> })
    };
    view! {
        <Title text=title("notices.title")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                <h1>{t("notices.title")}</h1>
                <p class="muted">{t("notices.intro")}</p>
                {error}
                <ActionForm action=publish attr:class="stack" attr:data-testid="notice-form">
                    <label>{t("notices.kind")}
                        <select name="kind">
                            {NoticeKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{notice_kind_label(*k)}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t("notices.heading")}
                        <input type="text" name="title" required maxlength="120" data-testid="notice-title"/>
                    </label>
                    <label>{t("notices.body")}
                        <textarea name="body" rows="4" required maxlength="2000" data-testid="notice-body"></textarea>
                    </label>
                    <label class="check"><input type="checkbox" name="mail" data-testid="notice-mail"/> {t("notices.mail")}</label>
                    <button type="submit" class="primary" data-testid="notice-publish" disabled=move || publish.pending().get()>{t("notices.publish")}</button>
                </ActionForm>
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(rows) if rows.is_empty() => view! { <p class="muted">{t("notices.none")}</p> }.into_any(),
                            Ok(rows) => view! {
                                <ul class="plain stack" data-testid="notices-list">
                                    {rows.into_iter().map(|n| {
                                        let state = match (n.withdrawn_at, n.mail, n.mail_done_at) {
                                            (Some(_), _, _) => t("notices.withdrawn"),
                                            (None, true, None) => t("notices.mailing"),
                                            (None, true, Some(_)) => t("notices.mailed"),
                                            (None, false, _) => "",
                                        };
                                        let live = n.withdrawn_at.is_none();
                                        let (row_id, form_id) = (n.id.clone(), n.id.clone());
                                        view! {
                                            <li class="card" data-notice=row_id>
                                                <p><strong>{notice_kind_label(n.kind)} ": " {n.title}</strong> " " <span class="muted">{format_time(n.created_at)} " " {state}</span></p>
                                                <p class="notice-body">{n.body}</p>
                                                {live.then(|| view! {
                                                    <ActionForm action=withdraw attr:class="inline">
                                                        <input type="hidden" name="id" value=form_id/>
                                                        <button type="submit" data-testid="notice-withdraw">{t("notices.withdraw")}</button>
                                                    </ActionForm>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}
