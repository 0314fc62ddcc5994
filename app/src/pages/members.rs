//! `/admin/members` and `/admin/members/:id`: the operator's console on members
//! (administrators): search with role and standing filters (a plain GET form, keyset pages),
//! a member's record, and the staff actions, each with a reason that the audit log keeps;
//! `/admin/generations`: every member's generations.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::members::{admin_generations, admin_member, admin_members, AdminDisableKey, AdminMemberAction, AdminOpenGeneration, MemberDetail, RecordLine};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, server_message, ConsoleNav, MembersOnly};

fn standing_label(s: &str) -> &'static str {
    match s {
        "restricted" => t("members.restricted"),
        "suspended" => t("members.suspended"),
        _ => t("members.good"),
    }
}

#[component]
pub fn AdminMembersPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(move || (q("q"), q("role"), q("standing"), q("after")), |(text, role, standing, after)| admin_members(Some(text), Some(role), Some(standing), Some(after)));
    let select = move |name: &'static str, options: [(&'static str, &'static str); 4]| {
        view! {
            <select name=name data-testid=format!("members-{name}")>
                {options.into_iter().map(|(v, k)| view! { <option value=v selected=move || q(name) == v>{t(k)}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <Title text=title("console.members")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                <h1>{t("console.members")}</h1>
                <form method="get" action="/admin/members" class="filters row" on:change=crate::pages::apply_on_change data-testid="members-filters">
                    <label>{t("members.search")} " " <input type="search" name="q" value=q("q") maxlength="254" data-testid="members-q"/></label>
                    <label>{t("members.role")} " " {select("role", [("", "members.any"), ("member", "members.role.member"), ("moderator", "members.role.moderator"), ("admin", "members.role.admin")])}</label>
                    <label>{t("members.standing")} " " {select("standing", [("", "members.any"), ("good", "members.good"), ("restricted", "members.restricted"), ("suspended", "members.suspended")])}</label>
                    <button type="submit">{t("filter.apply")}</button>
                </form>
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(p) if p.rows.is_empty() => view! { <p class="muted" data-testid="members-empty">{t("members.none")}</p> }.into_any(),
                            Ok(p) => {
                                let next = p.next.map(|n| format!("/admin/members?q={}&role={}&standing={}&after={n}", q("q"), q("role"), q("standing")));
                                view! {
                                    <table class="log" data-testid="members">
                                        <thead><tr><th>{t("auth.email")}</th><th>{t("signup.name")}</th><th>{t("members.role")}</th><th>{t("members.standing")}</th><th>{t("col.credits")}</th><th>{t("members.since")}</th></tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|m| {
                                                let (href, id, standing) = (format!("/admin/members/{}", m.id), m.id.clone(), m.standing.clone());
                                                view! {
                                                    <tr data-member=id data-standing=standing>
                                                        <td><a href=href>{m.email}</a>{(!m.email_verified).then(|| view! { <small class="muted">" " {t("members.unconfirmed")}</small> })}</td>
                                                        <td>{m.display_name}</td>
                                                        <td>{m.role}</td>
                                                        <td>{standing_label(&m.standing)}</td>
                                                        <td>{m.balance}</td>
                                                        <td>{format_time(m.created_at)}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {next.map(|href| view! { <p><a href=href data-testid="members-next">{t("members.more")}</a></p> })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

#[component]
fn Lines(title_key: &'static str, lines: Vec<RecordLine>, testid: &'static str) -> impl IntoView {
    view! {
        <h2>{t(title_key)}</h2>
        {if lines.is_empty() {
            view! { <p class="muted">"—"</p> }.into_any()
        } else {
            view! {
                <table class="log" data-testid=testid>
                    <tbody>
                        {lines.into_iter().map(|l| view! { <tr><td>{format_time(l.at)}</td><td><code>{l.kind}</code></td><td>{l.detail}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
pub fn AdminMemberPage() -> impl IntoView {
    let params = use_params_map();
    let act = ServerAction::<AdminMemberAction>::new();
    let disable = ServerAction::<AdminDisableKey>::new();
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(
        move || (params.with(|p| p.get("id").unwrap_or_default()), act.version().get(), disable.version().get()),
        |(id, _, _)| admin_member(id),
    );
    view! {
        <Title text=title("console.members")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                {move || [act.value().get(), disable.value().get()].into_iter().flatten().next().map(|r| match r {
                    Ok(()) => view! { <p class="notice" role="status" data-testid="member-action-done">{t("members.done")}</p> }.into_any(),
                    Err(e) => view! { <p class="notice error" role="alert" data-testid="member-action-error">{server_message(&e)}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(d) => view! { <MemberRecord d act disable/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

#[component]
fn MemberRecord(d: MemberDetail, act: ServerAction<AdminMemberAction>, disable: ServerAction<AdminDisableKey>) -> impl IntoView {
    let m = d.member.clone();
    let id = m.id.clone();
    let reason = || view! { <label>{t("members.reason")} " " <input type="text" name="reason" required maxlength="500" data-testid="member-reason"/></label> };
    let action_form = move |action: &'static str, label: &'static str, extra: AnyView| {
        let id = id.clone();
        view! {
            <ActionForm action=act attr:class="row" attr:data-action=action>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value=action/>
                {extra}
                {reason()}
                <button type="submit" data-testid=format!("member-{action}")>{t(label)}</button>
            </ActionForm>
        }
    };
    let standing = match (d.suspended_at, d.restricted_until) {
        (Some(at), _) => tf("members.suspended_since", &[("time", &format_time(at))]),
        (None, Some(until)) => tf("members.restricted_until", &[("time", &format_time(until))]),
        _ => t("members.good").to_string(),
    };
    view! {
        <h1 data-testid="member-email">{m.email.clone()}</h1>
        <dl class="details">
            <dt>{t("signup.name")}</dt><dd>{m.display_name.clone()}</dd>
            <dt>{t("members.role")}</dt><dd data-testid="member-role">{m.role.clone()}</dd>
            <dt>{t("members.standing")}</dt><dd data-testid="member-standing" data-standing=m.standing.clone()>{standing}</dd>
            <dt>{t("members.strikes")}</dt><dd>{d.active_strikes}</dd>
            <dt>{t("col.credits")}</dt><dd>{m.balance} " · " <a href="/credits">{t("members.adjust")}</a></dd>
            <dt>{t("members.sessions")}</dt><dd>{d.sessions}</dd>
            <dt>{t("members.since")}</dt><dd>{format_time(m.created_at)}</dd>
        </dl>
        <h2>{t("members.actions")}</h2>
        <div class="stack" data-testid="member-actions">
            {action_form("role", "members.set_role", view! {
                <select name="role" data-testid="member-role-select">
                    {["member", "moderator", "admin"].into_iter().map(|r| view! { <option value=r selected=m.role == r>{r}</option> }).collect_view()}
                </select>
            }.into_any())}
            {action_form("restrict", "members.restrict", view! { <label>{t("members.until")} " " <input type="date" name="until" required/></label> }.into_any())}
            {action_form("suspend", "members.suspend", ().into_any())}
            {action_form("lift", "members.lift", ().into_any())}
            {action_form("end_sessions", "members.end_sessions", ().into_any())}
        </div>
        <h2>{t("members.keys")}</h2>
        {if d.keys.is_empty() {
            view! { <p class="muted">"—"</p> }.into_any()
        } else {
            view! {
                <table class="log" data-testid="member-keys">
                    <tbody>
                        {d.keys.into_iter().map(|k| {
                            let (key_id, revoked) = (k.id.clone(), k.revoked);
                            view! {
                                <tr data-key=k.id.clone() data-revoked=revoked.to_string()>
                                    <td>{k.name}</td><td><code>{k.prefix}</code></td><td>{format_time(k.created_at)}</td>
                                    <td>{if revoked { t("members.key_off").into_any() } else {
                                        view! {
                                            <ActionForm action=disable attr:class="row">
                                                <input type="hidden" name="key_id" value=key_id/>
                                                {reason()}
                                                <button type="submit" class="danger" data-testid="member-disable-key">{t("members.disable_key")}</button>
                                            </ActionForm>
                                        }.into_any()
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <Lines title_key="members.generations" lines=d.generations testid="member-generations"/>
        <Lines title_key="members.ledger" lines=d.ledger testid="member-ledger"/>
        <h2>{t("members.payments")}</h2>
        <ul data-testid="member-payments">
            {d.payments.into_iter().map(|p| view! { <li>{format_time(p.created_at)} " · " {p.plan} " · " {p.provider} " · " {p.amount} " · " {p.status}</li> }).collect_view()}
        </ul>
        <Lines title_key="members.security" lines=d.security testid="member-security"/>
        <Lines title_key="members.strikes" lines=d.strikes testid="member-strikes"/>
    }
}

/// `/admin/generations`: every member's generations (administrators), filtered; opening one
/// that is not public asks for a reason, which the audit log keeps.
#[component]
pub fn AdminGenerationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    let open = ServerAction::<AdminOpenGeneration>::new();
    const FIELDS: [&str; 7] = ["status", "mode", "template", "member", "from", "to", "before"];
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(
        move || FIELDS.map(|f| q(f)),
        |[status, mode, template, member, from, to, before]| admin_generations(Some(status), Some(mode), Some(template), Some(member), Some(from), Some(to), Some(before)),
    );
    view! {
        <Title text=title("generations.title")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                <h1>{t("generations.title")}</h1>
                <form method="get" action="/admin/generations" class="filters row" on:change=crate::pages::apply_on_change data-testid="generations-filters">
                    <label>{t("generations.status")} " "
                        <select name="status">
                            <option value="">{t("members.any")}</option>
                            {["queued", "review", "running", "succeeded", "rejected", "failed", "canceled"].into_iter().map(|s| view! { <option value=s selected=move || q("status") == s>{s}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t("generations.mode")} " "
                        <select name="mode">
                            <option value="">{t("members.any")}</option>
                            {["image_to_image", "text_to_image", "image_to_video", "video_to_video"].into_iter().map(|m| view! { <option value=m selected=move || q("mode") == m>{m}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t("generations.template")} " " <input type="text" name="template" value=q("template") maxlength="64"/></label>
                    <label>{t("generations.member")} " " <input type="email" name="member" value=q("member") maxlength="254"/></label>
                    <label>{t("filter.from")} " " <input type="date" name="from" value=q("from")/></label>
                    <label>{t("filter.to")} " " <input type="date" name="to" value=q("to")/></label>
                    <button type="submit">{t("filter.apply")}</button>
                </form>
                {move || open.value().get().map(|r| match r {
                    Ok(href) => view! { <p class="notice" role="status"><a href=href rel="external" target="_blank" data-testid="generation-opened">{t("generations.opened")}</a></p> }.into_any(),
                    Err(e) => view! { <p class="notice error" role="alert" data-testid="generation-open-error">{server_message(&e)}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(p) if p.rows.is_empty() => view! { <p class="muted" data-testid="generations-empty">{t("generations.none")}</p> }.into_any(),
                            Ok(p) => {
                                let filters: String = FIELDS[..6].iter().map(|f| format!("{f}={}&", q(f))).collect();
                                let next = p.next.map(|n| format!("/admin/generations?{filters}before={n}"));
                                view! {
                                    <table class="log" data-testid="generations">
                                        <thead><tr><th>{t("col.time")}</th><th>{t("generations.status")}</th><th>{t("generations.mode")}</th><th>{t("generations.template")}</th><th>{t("generations.visibility")}</th><th>{t("col.credits")}</th><th>{t("generations.member")}</th><th></th></tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|g| {
                                                let (id, public) = (g.id.clone(), g.visibility == "public");
                                                let (gid, visibility) = (g.id.clone(), g.visibility.clone());
                                                let member_href = format!("/admin/members/{}", g.user_id);
                                                view! {
                                                    <tr data-generation=gid data-visibility=visibility>
                                                        <td>{format_time(g.created_at)}</td>
                                                        <td>{g.status}{g.moderation.map(|m| view! { <small class="muted">" · " {m}</small> })}</td>
                                                        <td>{g.mode}</td>
                                                        <td>{g.template.unwrap_or_default()}</td>
                                                        <td>{g.visibility}</td>
                                                        <td>{g.cost}</td>
                                                        <td><a href=member_href>{t("generations.record")}</a></td>
                                                        <td>
                                                            <ActionForm action=open attr:class="row">
                                                                <input type="hidden" name="id" value=id/>
                                                                {(!public).then(|| view! { <input type="text" name="reason" required maxlength="500" placeholder=t("generations.reason") data-testid="generation-reason"/> })}
                                                                <button type="submit" data-testid="generation-open">{t("generations.open")}</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {next.map(|href| view! { <p><a href=href data-testid="generations-older">{t("audit.older")}</a></p> })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}
