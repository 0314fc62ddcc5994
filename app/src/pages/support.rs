//! `/support`: the support and contact form (anyone; a member's earlier requests below it),
//! and `/admin/support`: the administrators' queue, where requests are answered by mail and
//! closed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::support::{admin_support, support_page, AnswerSupport, CloseSupport, SubmitSupport, SupportView};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, server_message, ConsoleNav, MembersOnly};

/// The topics of `darkroom_contract::SupportTopic`, with their labels.
const TOPICS: [(&str, &str); 5] = [
    ("account", "support.topic.account"),
    ("billing", "support.topic.billing"),
    ("moderation", "support.topic.moderation"),
    ("privacy", "support.topic.privacy"),
    ("other", "support.topic.other"),
];

fn topic_label(topic: &str) -> &'static str {
    TOPICS.iter().find(|(v, _)| *v == topic).map_or(t("support.topic.other"), |(_, k)| t(k))
}

fn status_label(status: &str) -> &'static str {
    match status {
        "open" => t("support.status.open"),
        "answered" => t("support.status.answered"),
        _ => t("support.status.closed"),
    }
}

#[component]
pub fn SupportFormPage() -> impl IntoView {
    let submit = ServerAction::<SubmitSupport>::new();
    let page = Resource::new(move || submit.version().get(), |_| support_page());
    view! {
        <Title text=title("support.title")/>
        <section class="page narrow">
            <h1>{t("support.title")}</h1>
            <p class="muted">{t("support.intro")}</p>
            {move || submit.value().get().map(|r| match r {
                Ok(reference) => view! { <p class="notice" role="status" data-testid="support-sent">{tf("support.sent", &[("ref", &reference)])}</p> }.into_any(),
                Err(e) => view! { <p class="notice error" role="alert" data-testid="support-error">{server_message(&e)}</p> }.into_any(),
            })}
            <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    let p = page.await.unwrap_or(crate::api::support::SupportPageView { email: None, mine: Vec::new() });
                    let from = match p.email.clone() {
                        Some(email) => view! { <p class="muted">{tf("support.answer_to", &[("email", &email)])}</p> }.into_any(),
                        None => view! {
                            <label>{t("auth.email")} <input type="email" name="email" required maxlength="254" autocomplete="email" data-testid="support-email"/></label>
                        }.into_any(),
                    };
                    view! {
                        <ActionForm action=submit attr:class="stack" attr:data-testid="support-form">
                            {from}
                            <label>{t("support.topic")}
                                <select name="topic" data-testid="support-topic">
                                    {TOPICS.iter().map(|(v, k)| view! { <option value=*v>{t(k)}</option> }).collect_view()}
                                </select>
                            </label>
                            <label>{t("support.message")}
                                <textarea name="message" rows="6" required minlength="10" maxlength="5000" data-testid="support-message"></textarea>
                            </label>
                            <button type="submit" class="primary" data-testid="support-submit" disabled=move || submit.pending().get()>{t("support.send")}</button>
                        </ActionForm>
                        {(!p.mine.is_empty()).then(|| view! {
                            <div>
                                <h2>{t("support.mine")}</h2>
                                <ul class="support-list" data-testid="support-mine">
                                    {p.mine.into_iter().map(|r| view! { <li><RequestSummary r/></li> }).collect_view()}
                                </ul>
                            </div>
                        })}
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A request's topic, state, time, message and answer.
#[component]
fn RequestSummary(r: SupportView) -> impl IntoView {
    view! {
        <p>
            <strong>{topic_label(&r.topic)}</strong> " · " <span class="badge" data-status=r.status.clone()>{status_label(&r.status)}</span>
            " · " <small class="muted">{format_time(r.created_at)}</small>
        </p>
        <blockquote class="support-message">{r.message.clone()}</blockquote>
        {r.answer.clone().map(|a| view! {
            <div class="support-answer" data-testid="support-answer">
                <small class="muted">{tf("support.answered_at", &[("time", &r.answered_at.map(format_time).unwrap_or_default())])}</small>
                <p>{a}</p>
            </div>
        })}
    }
}

#[component]
pub fn AdminSupportPage() -> impl IntoView {
    let answer = ServerAction::<AnswerSupport>::new();
    let close = ServerAction::<CloseSupport>::new();
    let query = use_query_map();
    let status = move || query.with(|m| m.get("status")).unwrap_or_else(|| "open".into());
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(move || (status(), answer.version().get(), close.version().get()), |(s, _, _)| admin_support(Some(s)));
    view! {
        <Title text=title("support.admin_title")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                <h1>{t("support.admin_title")}</h1>
                <form method="get" action="/admin/support" class="filters row" on:change=crate::pages::apply_on_change>
                    <label>{t("support.status")} " "
                        <select name="status" data-testid="support-status">
                            {["open", "answered", "closed", "all"].into_iter().map(|s| view! {
                                <option value=s selected=move || status() == s>{if s == "all" { t("support.all") } else { status_label(s) }}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button type="submit">{t("filter.apply")}</button>
                </form>
                {move || [answer.value().get(), close.value().get()].into_iter().flatten().find_map(Result::err)
                    .map(|e| view! { <p class="notice error" role="alert" data-testid="support-admin-error">{server_message(&e)}</p> })}
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="support-empty">{t("support.empty")}</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="support-list" data-testid="support-queue">
                                    {list.into_iter().map(|r| {
                                        let (id1, id2, closed) = (r.id.clone(), r.id.clone(), r.status == "closed");
                                        let (rid, status) = (r.id.clone(), r.status.clone());
                                        let who = format!("{} · {}", r.email, if r.from_member { t("support.member") } else { t("support.visitor") });
                                        view! {
                                            <li class="card" data-request=rid data-status=status>
                                                <p class="muted small">{who}</p>
                                                <RequestSummary r/>
                                                {(!closed).then(|| view! {
                                                    <div class="row">
                                                        <ActionForm action=answer attr:class="stack grow">
                                                            <input type="hidden" name="id" value=id1/>
                                                            <label>{t("support.your_answer")}
                                                                <textarea name="answer" rows="3" required maxlength="5000" data-testid="support-answer-text"></textarea>
                                                            </label>
                                                            <button type="submit" class="primary" data-testid="support-answer-send">{t("support.answer")}</button>
                                                        </ActionForm>
                                                        <ActionForm action=close attr:class="inline">
                                                            <input type="hidden" name="id" value=id2/>
                                                            <button type="submit" data-testid="support-close">{t("support.close")}</button>
                                                        </ActionForm>
                                                    </div>
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
