//! Settings: the member's standing (SPEC §6): strikes, restriction, suspension, and what the
//! operator's thresholds are; then the account sections (`pages::account::AccountSettings`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::moderation::category_label;
use crate::pages::{format_time, MembersOnly};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings · Darkroom"/>
        <MembersOnly>
            <Settings/>
        </MembersOnly>
    }
}

#[component]
fn Settings() -> impl IntoView {
    view! {
        <section class="page narrow">
            <h1>{crate::i18n::t("settings.title")}</h1>
            <p><a href="/settings/api" data-testid="api-keys-link">"API keys, webhooks and request log"</a></p>
            <crate::pages::account::AccountSettings/>
        </section>
    }
}

/// The member's standing (rendered by the account settings, in the same `Suspend` as the
/// rest of the page's data: one boundary, not two racing ones).
pub fn standing_view(s: crate::api::moderation::StandingView) -> impl IntoView {
    let summary = if s.suspended {
        "Suspended: you cannot sign in again or use API keys until a moderator lifts it.".to_string()
    } else if let Some(t) = s.restricted_until {
        format!("Restricted: you can't start new generations until {}.", format_time(t))
    } else {
        "Good standing.".to_string()
    };
    view! {
        <h2>"Account standing"</h2>
        <p data-testid="standing" class=if s.suspended || s.restricted_until.is_some() { "notice error" } else { "notice" }>{summary}</p>
        <p class="muted">{format!(
            "Active strikes: {} of {}. Each generation rejected by moderation and each upheld report adds one; {} restrict new generations for a while, {} suspend the account. Strikes stop counting after {} days.",
            s.active, s.suspend_at, s.restrict_at, s.suspend_at, s.window_days
        )}</p>
        {(!s.strikes.is_empty()).then(|| view! {
            <ul class="strikes" data-testid="strikes">
                {s.strikes.into_iter().map(|k| view! {
                    <li>
                        {format_time(k.created_at)} " · " {category_label(&k.category)}
                        {if k.lifted { " · lifted" } else if k.expired { " · expired" } else { "" }}
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
}
