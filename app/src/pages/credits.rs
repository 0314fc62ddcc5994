//! The credits page (`/credits`, SPEC §5): balance, the ledger with kind and date filters,
//! keyset pages ("Older"), CSV export of what the filters show; for administrators, a form
//! that adjusts a member's credits with a required reason (audited).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::credits::{ledger_page, AdminAdjustCredits, LedgerView};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, server_message, MembersOnly};

#[component]
pub fn CreditsPage() -> impl IntoView {
    // Made above `MembersOnly`, whose `Suspend` may run its children several times on the
    // server: a resource made inside was fetched once per run, and a charge or refund
    // between two runs made the HTML and the hydrated data differ.
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    let adjust = ServerAction::<AdminAdjustCredits>::new();
    let page = Resource::new(
        move || (q("kind"), q("from"), q("to"), q("before"), adjust.version().get()),
        |(kind, from, to, before, _)| ledger_page(Some(kind), Some(from), Some(to), Some(before)),
    );
    view! {
        <Title text=title("credits.title")/>
        <MembersOnly>
            <Credits adjust page/>
        </MembersOnly>
    }
}

const KINDS: [(&str, &str); 8] = [
    ("", "credits.k.all"),
    ("grant", "credits.k.grant"),
    ("purchase", "credits.k.purchase"),
    ("subscription_grant", "credits.k.subscription"),
    ("charge", "credits.k.charge"),
    ("refund", "credits.k.refund"),
    ("adjustment", "credits.k.adjustment"),
    ("expiry", "credits.k.expiry"),
];

#[component]
fn Credits(adjust: ServerAction<AdminAdjustCredits>, page: Resource<Result<LedgerView, ServerFnError>>) -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    view! {
        <section class="page">
            <h1>{t("credits.title")}</h1>
            <form method="get" action="/credits" class="row filters" on:change=crate::pages::apply_on_change data-testid="ledger-filters">
                <label>{t("filter.show")} " "
                    <select name="kind" data-testid="ledger-kind">
                        {KINDS.iter().map(|(v, label)| {
                            let selected = q("kind") == *v;
                            view! { <option value=*v selected=selected>{t(label)}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>{t("filter.from")} " " <input type="date" name="from" value=q("from")/></label>
                <label>{t("filter.to")} " " <input type="date" name="to" value=q("to")/></label>
                <button type="submit">{t("filter.apply")}</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let csv = format!("/credits/ledger.csv?kind={}&from={}&to={}", q("kind"), q("from"), q("to"));
                        let older = p.next.clone().map(|n| format!("/credits?kind={}&from={}&to={}&before={n}", q("kind"), q("from"), q("to")));
                        view! {
                            <p class="balance-big" data-testid="ledger-balance">{tf("credits.n", &[("n", &p.balance)])}</p>
                            <p><a href="/credits/buy" class="button" data-testid="buy-credits">{t("buy.title")}</a>" · "
                                <a href=csv rel="external" data-testid="ledger-csv">{t("credits.csv")}</a>
                                {p.admin.then(|| view! { <span>" · " <a href="/admin/plans">{t("credits.edit_plans")}</a></span> })}</p>
                            {if p.entries.is_empty() {
                                view! { <p class="muted" data-testid="ledger-empty">{t("credits.none")}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="log" data-testid="ledger">
                                        <thead><tr><th>{t("col.time")}</th><th>{t("col.entry")}</th><th>{t("col.credits")}</th><th>{t("col.balance")}</th><th>{t("col.reason")}</th></tr></thead>
                                        <tbody>
                                            {p.entries.into_iter().map(|e| {
                                                let label = KINDS.iter().find(|(k, _)| *k == e.kind).map_or(e.kind.clone(), |(_, l)| t(l).to_string());
                                                view! {
                                                    <tr data-kind=e.kind.clone()>
                                                        <td>{format_time(e.created_at)}</td>
                                                        <td>{label}</td>
                                                        <td>{if e.amount > 0 { format!("+{}", e.amount) } else { e.amount.to_string() }}</td>
                                                        <td>{e.balance_after}</td>
                                                        <td>{e.reason}{e.job_id.map(|j| view! { " · " <a href=format!("/gallery/{j}")>{t("credits.generation")}</a> })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            {older.map(|href| view! { <p><a href=href data-testid="ledger-older">{t("credits.older")}</a></p> })}
                            {p.admin.then(|| view! { <div><AdminAdjust adjust form_key=p.form_key.clone()/></div> })}
                        }
                    })
                })}
            </Transition>
        </section>
    }
}

/// Administrators: add or take a member's credits, with a reason (audited).
#[component]
fn AdminAdjust(adjust: ServerAction<AdminAdjustCredits>, form_key: String) -> impl IntoView {
    view! {
        <h2>{t("credits.adjust")}</h2>
        <ActionForm action=adjust attr:class="stack" attr:data-testid="adjust-form">
            <input type="hidden" name="key" value=form_key/>
            <label>{t("credits.adjust.email")} " " <input type="email" name="email" required/></label>
            <label>{t("credits.adjust.amount")} " " <input type="number" name="amount" step="1" required/></label>
            <label>{t("credits.adjust.reason")} " " <input type="text" name="reason" required maxlength="500"/></label>
            <button type="submit">{t("credits.adjust.apply")}</button>
        </ActionForm>
        {move || adjust.value().get().map(|r| match r {
            Ok(b) => view! { <p class="notice" data-testid="adjust-done">{tf("credits.adjust.done", &[("n", &b)])}</p> }.into_any(),
            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
        })}
    }
}

