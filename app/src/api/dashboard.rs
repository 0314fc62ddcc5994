//! The member's dashboard (`/dashboard`, where `/` takes a signed-in member): balance and the
//! credits that expire next, running and recent generations, credits spent over the last
//! 30 days (the chart, SVG made on the server by `service::dashboard`), active
//! subscriptions and each API key's spending against its cap this period.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::JobView;

/// An active subscription.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanLine {
    pub plan: String,
    /// Credits per paid month.
    pub credits: i64,
    /// Unix ms.
    pub since: i64,
}

/// One API key's spending in its cap period.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KeyUsage {
    pub name: String,
    pub prefix: String,
    /// Credits spent this period.
    pub spent: i64,
    /// The key's cap in credits, `None` without one.
    pub cap: Option<i64>,
    /// `day` or `month` (UTC).
    pub period: String,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DashboardView {
    /// Credits.
    pub balance: i64,
    /// `(when, credits)`: the soonest credits to expire (Unix ms).
    pub next_expiry: Option<(i64, i64)>,
    /// Queued, running or held generations, newest first.
    pub active: Vec<JobView>,
    /// The latest finished results, newest first (at most 8).
    pub recent: Vec<JobView>,
    /// The usage chart (an `<svg>` element).
    pub chart: String,
    /// Credits spent in the chart's 30 days.
    pub spent: i64,
    /// The chart's templates by series index (legend).
    pub templates: Vec<String>,
    pub plans: Vec<PlanLine>,
    /// Keys not revoked.
    pub keys: Vec<KeyUsage>,
}

/// The signed-in member's dashboard. Errors: 401 signed out.
#[server(endpoint = "dashboard")]
pub async fn dashboard() -> Result<DashboardView, ServerFnError> {
    use crate::api::ssr::{fail, member};
    use crate::i18n::{read_prefs, tr};
    let (state, user) = member().await?;
    let err = |e: darkroom_store::StoreError| fail(e.into());
    let now = darkroom_store::now_ms();
    let u = state.store.user(&user.id).await.map_err(err)?;
    let jobs = crate::api::list_jobs(None).await?;
    let (active, done): (Vec<JobView>, Vec<JobView>) = jobs.into_iter().partition(|j| !j.status.is_terminal());
    let recent: Vec<JobView> = done.into_iter().filter(|j| j.status == crate::api::JobStatus::Succeeded).take(8).collect();
    let usage = darkroom_service::dashboard::usage(&state, &user.id, now).await.map_err(fail)?;
    let lang = read_prefs().lang;
    let chart = darkroom_service::dashboard::svg(&usage, &|t: &str| if t.is_empty() { tr(&lang, "dashboard.other").to_string() } else { t.to_string() }, tr(&lang, "nav.credits"));
    let catalogue = state.store.plans(true).await.map_err(err)?;
    let plans = state
        .store
        .subscriptions(&user.id)
        .await
        .map_err(err)?
        .into_iter()
        .filter(|s| s.status == "active")
        .map(|s| {
            let plan = catalogue.iter().find(|p| p.id == s.plan_id);
            PlanLine { plan: plan.map(|p| p.name.clone()).unwrap_or(s.plan_id), credits: plan.map(|p| p.credits).unwrap_or(0), since: s.created_at }
        })
        .collect();
    let mut keys = Vec::new();
    for k in state.store.api_keys(&user.id).await.map_err(err)?.into_iter().filter(|k| k.revoked_at.is_none()) {
        let spent = darkroom_service::api::spend_this_period(&state, &k).await.map_err(fail)?;
        keys.push(KeyUsage { name: k.name, prefix: k.prefix, spent, cap: k.cap_credits, period: k.cap_period.unwrap_or_else(|| "month".into()) });
    }
    Ok(DashboardView {
        balance: u.balance,
        next_expiry: state.store.next_expiry(&user.id, now).await.map_err(err)?,
        active,
        recent,
        chart,
        spent: usage.total(),
        templates: usage.templates,
        plans,
        keys,
    })
}
