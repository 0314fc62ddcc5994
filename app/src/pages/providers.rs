//! `/admin/providers`: the generators this server runs and their health (administrators).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::providers::provider_health;
use crate::i18n::{t, title};
use crate::pages::{format_time, server_message, MembersOnly};

#[component]
pub fn AdminProvidersPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| provider_health());
    view! {
        <Title text=title("providers.title")/>
        <MembersOnly>
            <section class="page">
                <h1>{t("providers.title")}</h1>
                <p class="muted">{t("providers.intro")}</p>
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(list) => view! {
                                <table class="providers" data-testid="providers">
                                    <thead><tr>
                                        <th>{t("providers.id")}</th><th>{t("providers.state")}</th>
                                        <th>{t("providers.last_success")}</th><th>{t("providers.last_failure")}</th>
                                        <th>{t("providers.latency")}</th><th>{t("providers.errors")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|p| {
                                            let pct = |r: f64| format!("{:.0}%", r * 100.0);
                                            let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into());
                                            view! {
                                                <tr data-provider=p.id.clone() data-state=p.state.clone()>
                                                    <td><code>{p.id.clone()}</code></td>
                                                    <td>{t(match p.state.as_str() {
                                                        "ok" => "providers.ok",
                                                        "degraded" => "providers.degraded",
                                                        "open" => "providers.open",
                                                        "half_open" => "providers.half_open",
                                                        _ => "providers.local",
                                                    })}</td>
                                                    <td>{p.last_success.map(format_time).unwrap_or_else(|| "—".into())}</td>
                                                    <td>{p.last_failure.map(format_time).unwrap_or_else(|| "—".into())}
                                                        <br/><small>{p.last_error.clone().unwrap_or_default()}</small></td>
                                                    <td>{format!("p50 {} · p95 {}", ms(p.p50_ms), ms(p.p95_ms))}</td>
                                                    <td>{format!("{} / {} · {} {}", pct(p.error_rate_hour), pct(p.error_rate_day), p.calls_day, t("providers.calls"))}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}
