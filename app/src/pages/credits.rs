//! The credits page (`/credits`, SPEC §5): balance, the ledger with kind and date filters,
//! keyset pages ("Older"), CSV export of what the filters show; for administrators, a form
//! that adjusts a member's credits with a required reason (audited).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::credits::{ledger_page, AdminAdjustCredits};
use crate::pages::{format_time, server_message, MembersOnly};

#[component]
pub fn CreditsPage() -> impl IntoView {
    view! {
        <Title text="Credits · Darkroom"/>
        <MembersOnly>
            <Credits/>
        </MembersOnly>
    }
}

const KINDS: [(&str, &str); 8] = [
    ("", "All entries"),
    ("grant", "Grants"),
    ("purchase", "Purchases"),
    ("subscription_grant", "Subscription credits"),
    ("charge", "Charges"),
    ("refund", "Refunds"),
    ("adjustment", "Adjustments"),
    ("expiry", "Expired"),
];

#[component]
fn Credits() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    let adjust = ServerAction::<AdminAdjustCredits>::new();
    let page = Resource::new(
        move || (q("kind"), q("from"), q("to"), q("before"), adjust.version().get()),
        |(kind, from, to, before, _)| ledger_page(Some(kind), Some(from), Some(to), Some(before)),
    );
    view! {
        <section class="page">
            <h1>"Credits"</h1>
            <form method="get" action="/credits" class="row filters" data-testid="ledger-filters">
                <label>"Show "
                    <select name="kind" data-testid="ledger-kind">
                        {KINDS.iter().map(|(v, label)| {
                            let selected = q("kind") == *v;
                            view! { <option value=*v selected=selected>{*label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"From " <input type="date" name="from" value=q("from")/></label>
                <label>"To " <input type="date" name="to" value=q("to")/></label>
                <button type="submit">"Filter"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let csv = format!("/credits/ledger.csv?kind={}&from={}&to={}", q("kind"), q("from"), q("to"));
                        let older = p.next.clone().map(|n| format!("/credits?kind={}&from={}&to={}&before={n}", q("kind"), q("from"), q("to")));
                        view! {
                            <p class="balance-big" data-testid="ledger-balance">{p.balance}" credits"</p>
                            <p><a href="/credits/buy" class="button" data-testid="buy-credits">"Buy credits"</a>" · "
                                <a href=csv rel="external" data-testid="ledger-csv">"Download CSV"</a>
                                {p.admin.then(|| view! { <span>" · " <a href="/admin/plans">"Edit plans"</a></span> })}</p>
                            {if p.entries.is_empty() {
                                view! { <p class="muted" data-testid="ledger-empty">"No entries."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="log" data-testid="ledger">
                                        <thead><tr><th>"Time"</th><th>"Entry"</th><th>"Credits"</th><th>"Balance"</th><th>"Reason"</th></tr></thead>
                                        <tbody>
                                            {p.entries.into_iter().map(|e| {
                                                let label = KINDS.iter().find(|(k, _)| *k == e.kind).map_or(e.kind.clone(), |(_, l)| l.to_string());
                                                view! {
                                                    <tr data-kind=e.kind.clone()>
                                                        <td>{format_time(e.created_at)}</td>
                                                        <td>{label}</td>
                                                        <td>{if e.amount > 0 { format!("+{}", e.amount) } else { e.amount.to_string() }}</td>
                                                        <td>{e.balance_after}</td>
                                                        <td>{e.reason}{e.job_id.map(|j| view! { " · " <a href=format!("/gallery/{j}")>"generation"</a> })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            {older.map(|href| view! { <p><a href=href data-testid="ledger-older">"Older entries"</a></p> })}
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
        <h2>"Adjust a member's credits"</h2>
        <ActionForm action=adjust attr:class="stack" attr:data-testid="adjust-form">
            <input type="hidden" name="key" value=form_key/>
            <label>"Member's email " <input type="email" name="email" required/></label>
            <label>"Credits (negative to deduct) " <input type="number" name="amount" step="1" required/></label>
            <label>"Reason (recorded in the audit log) " <input type="text" name="reason" required maxlength="500"/></label>
            <button type="submit">"Apply"</button>
        </ActionForm>
        {move || adjust.value().get().map(|r| match r {
            Ok(b) => view! { <p class="notice" data-testid="adjust-done">{format!("Done. Their balance is now {b} credits.")}</p> }.into_any(),
            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
        })}
    }
}

