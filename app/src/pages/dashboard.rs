//! `/dashboard`: where a signed-in member lands (`/` sends them here). Balance and the
//! credits that expire next, generations in progress (live, the create page's cards), recent
//! results, credits spent over 30 days (a chart made on the server), active subscriptions,
//! each API key's spending against its cap; each part says what to do first when empty.
//! The operator's notices are in the header on every page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::dashboard::{dashboard, DashboardView};
use crate::i18n::{t, tf, title};
use crate::pages::create::JobCard;
use crate::pages::{format_time, server_message, MembersOnly, ResultPicture};

#[component]
pub fn DashboardPage() -> impl IntoView {
    crate::mark_hydrated();
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let data = Resource::new(|| (), |_| dashboard());
    view! {
        <Title text=title("dashboard.title")/>
        <MembersOnly>
            <section class="page dashboard">
                <h1>{t("dashboard.title")}</h1>
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(d) => view! { <Dashboard d/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

#[component]
fn Dashboard(d: DashboardView) -> impl IntoView {
    let live = expect_context::<crate::live::Live>();
    let initial = d.balance;
    let expiry = d.next_expiry.map(|(at, n)| tf("dashboard.expiry", &[("n", &n), ("at", &format_time(at))]));
    let legend = d.templates.iter().enumerate().map(|(i, name)| {
        let name = if name.is_empty() { t("dashboard.other").to_string() } else { name.clone() };
        view! { <li><span class=format!("swatch series-{}", i.min(SERIES - 1))></span> {name}</li> }
    }).collect_view();
    view! {
        <div class="dash-grid">
            <div class="card" data-testid="dash-balance">
                <h2>{t("dashboard.balance")}</h2>
                <p class="big">{move || live.balance.get().unwrap_or(initial)} " " {t("nav.credits")}</p>
                <p class="muted">{expiry.unwrap_or_else(|| t("dashboard.no_expiry").to_string())}</p>
                <p><A href="/credits/buy" attr:class="button">{t("dashboard.top_up")}</A> " " <A href="/credits">{t("dashboard.ledger")}</A></p>
            </div>
            <div class="card" data-testid="dash-plans">
                <h2>{t("dashboard.plan")}</h2>
                {if d.plans.is_empty() {
                    view! { <p class="muted">{t("dashboard.no_plan")} " " <A href="/pricing">{t("dashboard.see_plans")}</A></p> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {d.plans.into_iter().map(|p| view! { <li><strong>{p.plan}</strong> " · " {tf("dashboard.plan_credits", &[("n", &p.credits)])} " · " {tf("dashboard.since", &[("at", &format_time(p.since))])}</li> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
        </div>
        <h2>{t("dashboard.running")}</h2>
        {if d.active.is_empty() {
            view! { <p class="muted" data-testid="dash-idle">{t("dashboard.idle")} " " <A href="/create">{t("dashboard.create")}</A></p> }.into_any()
        } else {
            view! { <ul class="jobs plain" data-testid="dash-active">{d.active.into_iter().map(|job| view! { <li><JobCard job/></li> }).collect_view()}</ul> }.into_any()
        }}
        <h2>{t("dashboard.recent")}</h2>
        {if d.recent.is_empty() {
            view! { <p class="muted" data-testid="dash-no-results">{t("dashboard.no_results")} " " <A href="/create">{t("dashboard.create")}</A></p> }.into_any()
        } else {
            view! {
                <ul class="grid" data-testid="dash-recent">
                    {d.recent.into_iter().map(|j| {
                        let (href, media) = (format!("/gallery/{}", j.id), j.id.clone());
                        let alt = if j.prompt.is_empty() { j.style_label.clone() } else { j.prompt.clone() };
                        view! {
                            <li class="tile">
                                <A href=href>
                                    <ResultPicture width=j.width.unwrap_or(512) height=j.height.unwrap_or(512) alt lazy=true
                                        sizes="(max-width: 600px) 50vw, 200px"
                                        url=Callback::new(move |v: String| format!("/media/{media}/{v}"))/>
                                </A>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p><A href="/gallery">{t("dashboard.all_results")}</A></p>
            }.into_any()
        }}
        <h2>{t("dashboard.usage")}</h2>
        <p class="muted" data-testid="dash-spent">{tf("dashboard.spent", &[("n", &d.spent)])}</p>
        <div class="chart" inner_html=d.chart></div>
        <ul class="legend plain row">{legend}</ul>
        <h2>{t("dashboard.api")}</h2>
        {if d.keys.is_empty() {
            view! { <p class="muted">{t("dashboard.no_keys")} " " <A href="/keys">{t("dashboard.keys")}</A></p> }.into_any()
        } else {
            view! {
                <table class="log" data-testid="dash-keys">
                    <thead><tr><th>{t("dashboard.key")}</th><th>{t("dashboard.key_spent")}</th><th>{t("dashboard.key_cap")}</th></tr></thead>
                    <tbody>
                        {d.keys.into_iter().map(|k| {
                            let period = if k.period == "day" { t("dashboard.per_day") } else { t("dashboard.per_month") };
                            view! {
                                <tr>
                                    <td>{k.name} " " <code>{k.prefix}</code></td>
                                    <td>{k.spent}</td>
                                    <td>{k.cap.map(|c| format!("{c} {period}")).unwrap_or_else(|| t("dashboard.no_cap").to_string())}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

/// Distinct chart colours: the stylesheet's `series-0` … `series-5`, as many as
/// `service::dashboard::SERIES` uses.
const SERIES: usize = 6;
