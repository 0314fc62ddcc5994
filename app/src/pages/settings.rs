//! Settings: the member's standing (SPEC §6): strikes, restriction, suspension, and what the
//! operator's thresholds are; then the account sections (`pages::account::AccountSettings`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::moderation::category_label;
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, MembersOnly};

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Outside `MembersOnly`: see `AccountData`.
    provide_context(crate::pages::account::AccountData::new());
    view! {
        <Title text=title("settings.title")/>
        <MembersOnly>
            <Settings/>
        </MembersOnly>
    }
}

#[component]
fn Settings() -> impl IntoView {
    view! {
        <section class="page narrow">
            <h1>{t("settings.title")}</h1>
            <p><a href="/settings/api" data-testid="api-keys-link">{t("settings.api_link")}</a></p>
            <crate::pages::account::AccountSettings/>
        </section>
    }
}

/// The member's standing (rendered by the account settings, in the same `Suspend` as the
/// rest of the page's data: one boundary, not two racing ones).
pub fn standing_view(s: crate::api::moderation::StandingView) -> impl IntoView {
    let summary = if s.suspended {
        t("standing.suspended").to_string()
    } else if let Some(at) = s.restricted_until {
        tf("standing.restricted", &[("time", &format_time(at))])
    } else {
        t("standing.good").to_string()
    };
    view! {
        <h2>{t("standing.title")}</h2>
        <p data-testid="standing" class=if s.suspended || s.restricted_until.is_some() { "notice error" } else { "notice" }>{summary}</p>
        <p class="muted">{tf("standing.strikes", &[("active", &s.active), ("suspend", &s.suspend_at), ("restrict", &s.restrict_at), ("days", &s.window_days)])}</p>
        {(!s.strikes.is_empty()).then(|| view! {
            <ul class="strikes" data-testid="strikes">
                {s.strikes.into_iter().map(|k| view! {
                    <li>
                        {format_time(k.created_at)} " · " {category_label(k.category.as_str())}
                        {if k.lifted { t("standing.lifted") } else if k.expired { t("standing.expired") } else { "" }}
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
}
