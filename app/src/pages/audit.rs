//! `/admin/audit`: the audit log for administrators: who did what to whom, why and when;
//! filters by actor, action, target and dates (a plain GET form), older pages by keyset, and
//! the same rows as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::admin_audit;
use crate::i18n::{t, title};
use crate::pages::{format_time, server_message, ConsoleNav, MembersOnly};

const FIELDS: [&str; 5] = ["actor", "action", "target", "from", "to"];

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(
        move || (FIELDS.map(|f| q(f)), q("before")),
        |([actor, action, target, from, to], before)| admin_audit(Some(actor), Some(action), Some(target), Some(from), Some(to), Some(before)),
    );
    // The current filters as a query string (for the CSV link and the next page).
    let filters = move || {
        FIELDS
            .iter()
            .filter_map(|f| Some(q(f)).filter(|v| !v.is_empty()).map(|v| format!("{f}={}", query_encode(&v))))
            .collect::<Vec<_>>()
            .join("&")
    };
    view! {
        <Title text=title("audit.title")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                <h1>{t("audit.title")}</h1>
                <form method="get" action="/admin/audit" class="filters row" on:change=crate::pages::apply_on_change data-testid="audit-filters">
                    <label>{t("audit.actor")} " " <input type="text" name="actor" value=q("actor") placeholder="name@example.com" maxlength="254"/></label>
                    <label>{t("audit.action")} " " <input type="text" name="action" value=q("action") placeholder="support" maxlength="64"/></label>
                    <label>{t("audit.target")} " " <input type="text" name="target" value=q("target") placeholder="user:…" maxlength="200"/></label>
                    <label>{t("filter.from")} " " <input type="date" name="from" value=q("from")/></label>
                    <label>{t("filter.to")} " " <input type="date" name="to" value=q("to")/></label>
                    <button type="submit">{t("filter.apply")}</button>
                    <a class="button" href=move || format!("/admin/audit.csv?{}", filters()) rel="external" data-testid="audit-csv">{t("audit.csv")}</a>
                </form>
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(p) if p.rows.is_empty() => view! { <p class="muted" data-testid="audit-empty">{t("audit.empty")}</p> }.into_any(),
                            Ok(p) => {
                                let next = p.next.map(|n| format!("/admin/audit?{}{}before={n}", filters(), if filters().is_empty() { "" } else { "&" }));
                                view! {
                                    <table class="log" data-testid="audit-log">
                                        <thead><tr><th>{t("col.time")}</th><th>{t("audit.actor")}</th><th>{t("audit.action")}</th><th>{t("audit.target")}</th><th>{t("audit.reason")}</th></tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|r| {
                                                let action = r.action.clone();
                                                view! {
                                                <tr data-action=action>
                                                    <td>{format_time(r.created_at)}</td>
                                                    <td>{r.actor.unwrap_or_else(|| t("audit.system").to_string())}</td>
                                                    <td><code>{r.action}</code></td>
                                                    <td><code>{r.target}</code></td>
                                                    <td>{r.reason}</td>
                                                </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {next.map(|href| view! { <p><a href=href data-testid="audit-older">{t("audit.older")}</a></p> })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

/// A query value, percent-encoded (RFC 3986 unreserved characters kept).
fn query_encode(v: &str) -> String {
    v.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
