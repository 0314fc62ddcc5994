//! Buying credits (`/credits/buy`, SPEC §5): the packages and subscriptions on offer with a
//! button per provider (plain form posts to `/payments/checkout`, which send the member to
//! the provider's checkout), the member's payments and subscriptions, and what happened when
//! they come back. With no provider configured the page says payments are off.
//! Administrators edit the catalogue on `/admin/plans`. Anyone sees prices on `/pricing`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::payments::{admin_payments, admin_plans, billing_page, pricing, BillingView, PaymentView, PlanView, SavePlan};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, server_message, MembersOnly};

#[component]
pub fn BuyPage() -> impl IntoView {
    // Made above `MembersOnly`, whose `Suspend` may run its children several times on the
    // server (a resource made inside would be fetched once per run; a payment confirmed
    // between two runs would make the HTML and the hydrated data differ).
    let query = use_query_map();
    // Re-read when a live balance event arrives: a confirmed payment then shows as such.
    let live = expect_context::<crate::live::Live>();
    let page = Resource::new(move || (query.with(|m| m.get("paid").unwrap_or_default()), live.balance.get()), |(paid, _)| billing_page(Some(paid)));
    view! {
        <Title text=title("buy.title")/>
        <MembersOnly>
            <Buy page/>
        </MembersOnly>
    }
}

fn lasts(days: Option<i64>) -> String {
    match days {
        Some(d) => tf("buy.lasts", &[("days", &d)]),
        None => t("buy.forever").to_string(),
    }
}

/// Words for the `error` code `/payments/checkout` sends back.
fn checkout_error(code: &str) -> &'static str {
    match code {
        "unavailable" => t("buy.err.unavailable"),
        "not_found" => t("buy.err.not_found"),
        _ => t("buy.err.plan"),
    }
}

#[component]
fn Buy(page: Resource<Result<BillingView, ServerFnError>>) -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    view! {
        <section class="page">
            <h1>{t("buy.title")}</h1>
            {move || (!q("error").is_empty()).then(|| view! { <p class="notice error" data-testid="checkout-error">{checkout_error(&q("error"))}</p> })}
            {move || (!q("canceled").is_empty()).then(|| view! { <p class="notice" data-testid="checkout-canceled">{t("buy.canceled")}</p> })}
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let returned = p.returned.clone().map(|status| {
                            let text = if status == "created" {
                                t("buy.thanks_pending")
                            } else {
                                t("buy.thanks_done")
                            };
                            view! { <p class="notice" data-testid="checkout-returned">{text}</p> }
                        });
                        let (stripe, paypal) = (p.stripe, p.paypal);
                        view! {
                            {returned}
                            <p class="muted">{t("buy.balance")} " " <a href="/credits">{tf("credits.n", &[("n", &p.balance)])}</a>
                                ". " {t("buy.rules")}</p>
                            {if !stripe && !paypal {
                                view! { <p class="notice" data-testid="payments-off">{t("buy.off")}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="plans" data-testid="plans">
                                        {p.plans.into_iter().map(|plan| view! { <PlanCard plan stripe paypal/> }).collect_view()}
                                    </div>
                                    <p class="muted small">{t("buy.cards")}</p>
                                }.into_any()
                            }}
                            {(!p.subscriptions.is_empty()).then(|| view! {
                                <div>
                                <h2>{t("buy.subscriptions")}</h2>
                                <ul data-testid="subscriptions">
                                    {p.subscriptions.into_iter().map(|s| view! {
                                        <li>{s.plan}" · "{s.provider}" · "{s.status}" · "{tf("buy.since", &[("time", &format_time(s.created_at))])}</li>
                                    }).collect_view()}
                                </ul>
                                </div>
                            })}
                            <h2>{t("buy.payments")}</h2>
                            <PaymentsTable payments=p.payments/>
                        }
                    })
                })}
            </Transition>
        </section>
    }
}

/// A plan's name, credits, price and how long its credits last (the top-up and pricing pages).
fn plan_summary(plan: &PlanView) -> impl IntoView + use<> {
    let subscription = plan.kind == "subscription";
    let price = if subscription { tf("buy.per_month", &[("price", &format!("{} {}", plan.currency, plan.price))]) } else { format!("{} {}", plan.currency, plan.price) };
    view! {
        <h3>{plan.name.clone()}</h3>
        <p class="balance-big">{tf("credits.n", &[("n", &plan.credits)])}{subscription.then(|| t("buy.a_month"))}</p>
        <p>{price}</p>
        <p class="muted small">{lasts(plan.lot_days)}</p>
    }
}

#[component]
fn PlanCard(plan: PlanView, stripe: bool, paypal: bool) -> impl IntoView {
    let subscription = plan.kind == "subscription";
    let form = move |provider: &'static str, label: &'static str, id: String| {
        view! {
            <form method="post" action="/payments/checkout" class="inline">
                <input type="hidden" name="plan" value=id/>
                <input type="hidden" name="provider" value=provider/>
                <button type="submit" data-testid=format!("buy-{provider}")>{label}</button>
            </form>
        }
    };
    view! {
        <div class="plan card" data-testid="plan" data-plan=plan.id.clone()>
            {plan_summary(&plan)}
            <div class="row">
                {stripe.then(|| form("stripe", if subscription { t("buy.subscribe") } else { t("buy.buy") }, plan.id.clone()))}
                {(paypal && !subscription).then(|| form("paypal", t("buy.paypal"), plan.id.clone()))}
            </div>
        </div>
    }
}

/// The public pricing page (`/pricing`): what a generation costs with each template, the
/// credits a new account starts with, and the plans on sale. A visitor's buttons lead to
/// sign-in (which returns to the top-up page) or sign-up; a member's to the top-up page.
#[component]
pub fn PricingPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| pricing());
    view! {
        <Title text=title("pricing.title")/>
        <section class="page">
            <h1>{t("pricing.title")}</h1>
            <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let signed_in = p.signed_in;
                        let buy = move |plan: &PlanView| if signed_in {
                            view! { <a class="button primary" href="/credits/buy" data-testid="pricing-buy">{t("buy.buy")}</a> }.into_any()
                        } else {
                            view! {
                                <div class="row">
                                    <a class="button primary" href="/signin?next=/credits/buy" data-testid="pricing-sign-in" data-plan=plan.id.clone()>{t("pricing.sign_in_to_buy")}</a>
                                    <a class="button" href="/signup">{t("auth.create_account")}</a>
                                </div>
                            }.into_any()
                        };
                        let count = p.templates.len();
                        let (low, high) = (p.templates.iter().map(|t| t.cost).min().unwrap_or(0), p.templates.iter().map(|t| t.cost).max().unwrap_or(0));
                        let range = if low == high { tf("pricing.each", &[("n", &low)]) } else { tf("pricing.range", &[("low", &low), ("high", &high)]) };
                        view! {
                            <p class="lead" data-testid="pricing-grant">{tf("pricing.grant", &[("n", &p.signup_grant)])}</p>
                            <h2>{t("pricing.plans")}</h2>
                            {if p.plans.is_empty() {
                                view! { <p class="notice" data-testid="pricing-none">{t("pricing.none")}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="plans" data-testid="plans">
                                        {p.plans.iter().map(|plan| view! {
                                            <div class="plan card" data-testid="plan" data-plan=plan.id.clone()>
                                                {plan_summary(plan)}
                                                {buy(plan)}
                                            </div>
                                        }).collect_view()}
                                    </div>
                                    <p class="muted small">{t("buy.cards")}</p>
                                }.into_any()
                            }}
                            <h2>{t("pricing.costs")}</h2>
                            <p data-testid="pricing-range">{range}</p>
                            <details>
                                <summary>{tf("pricing.every_template", &[("n", &count)])}</summary>
                                <table class="log" data-testid="pricing-templates">
                                    <thead><tr><th>{t("pricing.template")}</th><th>{t("col.credits")}</th></tr></thead>
                                    <tbody>
                                        {p.templates.into_iter().map(|tp| view! {
                                            <tr><td><strong>{tp.name}</strong><br/><small class="muted">{tp.description}</small></td><td>{tp.cost}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </details>
                            <p class="muted small">{t("buy.rules")}</p>
                        }
                    })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PaymentsTable(payments: Vec<PaymentView>) -> impl IntoView {
    if payments.is_empty() {
        return view! { <p class="muted" data-testid="payments-empty">{t("buy.no_payments")}</p> }.into_any();
    }
    view! {
        <table class="log" data-testid="payments">
            <thead><tr><th>{t("col.time")}</th><th>{t("col.plan")}</th><th>{t("col.provider")}</th><th>{t("col.amount")}</th><th>{t("col.credits")}</th><th>{t("col.status")}</th><th>{t("col.transaction")}</th></tr></thead>
            <tbody>
                {payments.into_iter().map(|p| view! {
                    <tr data-status=p.status.clone()>
                        <td>{format_time(p.created_at)}</td>
                        <td>{p.plan}</td>
                        <td>{p.provider}</td>
                        <td>{p.amount}</td>
                        <td>{p.credits}</td>
                        <td>{p.status.replace('_', " ")}</td>
                        <td><code>{p.transaction_id.unwrap_or_default()}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/admin/plans`: the catalogue (add, edit, archive; audited) and the latest payments.
#[component]
pub fn AdminPlansPage() -> impl IntoView {
    let save = ServerAction::<SavePlan>::new();
    let page = Resource::new(move || save.version().get(), |_| admin_plans());
    view! {
        <Title text=title("plans.short")/>
        <MembersOnly>
            <section class="page">
                <h1>{t("plans.title")}</h1>
                {move || save.value().get().map(|r| match r {
                    Ok(p) => view! { <p class="notice" data-testid="plan-saved">{tf("plans.saved", &[("name", &p.name)])}</p> }.into_any(),
                    Err(e) => view! { <p class="notice error" data-testid="plan-error">{server_message(&e)}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        page.await.map(|p| view! {
                            <h2>{t("plans.catalogue")}</h2>
                            {p.plans.into_iter().map(|plan| view! { <PlanForm save plan=Some(plan)/> }).collect_view()}
                            <h2>{t("plans.new")}</h2>
                            <PlanForm save plan=None/>
                            <h2>{t("plans.latest")}</h2>
                            <PaymentsTable payments=p.payments/>
                        })
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

#[component]
fn PlanForm(save: ServerAction<SavePlan>, plan: Option<PlanView>) -> impl IntoView {
    let p = plan.clone();
    let get = move |f: fn(&PlanView) -> String| p.as_ref().map(f).unwrap_or_default();
    let kind = get(|p| p.kind.clone());
    let archived = plan.as_ref().is_some_and(|p| p.archived);
    view! {
        <ActionForm action=save attr:class="row plan-form" attr:data-testid="plan-form">
            <input type="hidden" name="id" value={get(|p| p.id.clone())}/>
            <label>{t("plans.kind")} " "
                <select name="kind">
                    <option value="package" selected={kind != "subscription"}>{t("plans.package")}</option>
                    <option value="subscription" selected={kind == "subscription"}>{t("plans.subscription")}</option>
                </select>
            </label>
            <label>{t("plans.name")} " " <input type="text" name="name" required maxlength="80" value={get(|p| p.name.clone())}/></label>
            <label>{t("plans.credits")} " " <input type="number" name="credits" min="1" step="1" required value={get(|p| p.credits.to_string())}/></label>
            <label>{t("plans.price")} " " <input type="text" name="price" required inputmode="decimal" size="8" value={get(|p| p.price.clone())}/></label>
            <label>{t("plans.currency")} " " <input type="text" name="currency" required maxlength="3" size="4" value={plan.as_ref().map_or("USD".to_string(), |p| p.currency.clone())}/></label>
            <label>{t("plans.lot_days")} " " <input type="number" name="lot_days" min="1" step="1" value={get(|p| p.lot_days.map(|d| d.to_string()).unwrap_or_default())}/></label>
            <label>{t("plans.position")} " " <input type="number" name="position" min="0" step="1" value={get(|p| p.position.to_string())}/></label>
            <label><input type="checkbox" name="archived" checked=archived/>" " {t("plans.archived")}</label>
            <button type="submit">{if plan.is_some() { t("settings.save") } else { t("plans.add") }}</button>
        </ActionForm>
    }
}

/// `/admin/payments`: every member's payments for administrators, filtered by provider,
/// status, member and dates (a plain GET form, keyset pages), with the providers' ids and
/// what was refunded.
#[component]
pub fn AdminPaymentsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with(|m| m.get(k).unwrap_or_default());
    const FIELDS: [&str; 6] = ["provider", "status", "member", "from", "to", "before"];
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(
        move || FIELDS.map(|f| q(f)),
        |[provider, status, member, from, to, before]| admin_payments(Some(provider), Some(status), Some(member), Some(from), Some(to), Some(before)),
    );
    view! {
        <Title text=title("console.payments")/>
        <MembersOnly>
            <section class="page">
                <crate::pages::ConsoleNav/>
                <h1>{t("console.payments")}</h1>
                <form method="get" action="/admin/payments" class="filters row" on:change=crate::pages::apply_on_change data-testid="payments-filters">
                    <label>{t("col.provider")} " "
                        <select name="provider">
                            <option value="">{t("members.any")}</option>
                            {["stripe", "paypal"].into_iter().map(|v| view! { <option value=v selected=move || q("provider") == v>{v}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t("col.status")} " "
                        <select name="status">
                            <option value="">{t("members.any")}</option>
                            {["created", "paid", "partially_refunded", "refunded"].into_iter().map(|v| view! { <option value=v selected=move || q("status") == v>{v.replace('_', " ")}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>{t("generations.member")} " " <input type="email" name="member" value=q("member") maxlength="254"/></label>
                    <label>{t("filter.from")} " " <input type="date" name="from" value=q("from")/></label>
                    <label>{t("filter.to")} " " <input type="date" name="to" value=q("to")/></label>
                    <button type="submit">{t("filter.apply")}</button>
                </form>
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(p) if p.rows.is_empty() => view! { <p class="muted" data-testid="payments-none">{t("buy.no_payments")}</p> }.into_any(),
                            Ok(p) => {
                                let filters: String = FIELDS[..5].iter().map(|f| format!("{f}={}&", q(f))).collect();
                                let next = p.next.map(|n| format!("/admin/payments?{filters}before={n}"));
                                view! {
                                    <table class="log" data-testid="staff-payments">
                                        <thead><tr><th>{t("col.time")}</th><th>{t("col.plan")}</th><th>{t("col.provider")}</th><th>{t("col.amount")}</th><th>{t("col.status")}</th><th>{t("payments.refunded")}</th><th>{t("col.transaction")}</th><th>{t("generations.member")}</th></tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|r| {
                                                let (id, status, member_href) = (r.payment.id.clone(), r.payment.status.clone(), format!("/admin/members/{}", r.user_id));
                                                let ids = [r.payment.transaction_id.clone(), r.checkout_id.clone(), r.subscription_id.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                                                view! {
                                                    <tr data-payment=id data-status=status>
                                                        <td>{format_time(r.payment.created_at)}</td>
                                                        <td>{r.payment.plan}</td>
                                                        <td>{r.payment.provider}</td>
                                                        <td>{r.payment.amount}</td>
                                                        <td>{r.payment.status.replace('_', " ")}</td>
                                                        <td>{format!("{} · {} {}", r.refunded, r.credits_revoked, t("nav.credits"))}</td>
                                                        <td><code>{ids}</code></td>
                                                        <td><a href=member_href>{t("generations.record")}</a></td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {next.map(|href| view! { <p><a href=href data-testid="payments-older">{t("audit.older")}</a></p> })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}
