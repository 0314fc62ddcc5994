//! The process's metrics, in the Prometheus/OpenMetrics text format (`prometheus-client`, the
//! Prometheus project's Rust client), served at `/metrics` by the web server and, with
//! `DARKROOM_METRICS_ADDR`, on a listener of their own (worker processes too).
//!
//! Recorded as things happen: HTTP requests and their latency by route pattern and status
//! (`darkroom_http_requests_total`, `darkroom_http_request_duration_seconds`), open live
//! streams (`darkroom_sse_connections`), finished jobs by template and end state and their
//! run time by template (`darkroom_jobs_finished_total`, `darkroom_job_duration_seconds`),
//! webhook attempts by outcome (`darkroom_webhook_deliveries_total`). Read when scraped
//! ([`Metrics::render`]): jobs waiting, running and held for review, from the database
//! (`darkroom_jobs`, so every node reports the cluster's queue the same); each generator's
//! calls and failures over the last hour and its circuit (`darkroom_provider_calls`,
//! `darkroom_provider_circuit_open`); the database pool (`darkroom_db_connections`); group
//! commit's transactions and the creations they ran (`darkroom_group_commits`,
//! `darkroom_grouped_creations`, and `darkroom_group_commit_fallbacks`: batches that did not
//! apply whole and ran again creation by creation).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::AppState;

/// `method`, `route` (the pattern, `/api/v1/generations/{id}`, never the raw path), `status`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// `method`, `route`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// A job's `template` and end `status`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub template: String,
    pub status: String,
}

/// A job's `template`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TemplateLabels {
    pub template: String,
}

/// One `status` (`queued`, `running`, `review`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

/// A generator (`provider`) and an `outcome` (`ok`, `error`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    pub provider: String,
    pub outcome: String,
}

/// A generator.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderOnly {
    pub provider: String,
}

/// `outcome`: `delivered` or `failed`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

/// `state`: `idle` or `in_use`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: String,
}

fn seconds_histogram() -> Histogram {
    // 5 ms … ~41 s: page renders at the bottom, generations at the top.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

fn job_histogram() -> Histogram {
    // 0.1 s … ~27 min: a local style in a fraction of a second to a slow remote provider.
    Histogram::new(exponential_buckets(0.1, 2.0, 15))
}

/// Every metric of the process. Cheap to share (`Arc` in [`AppState`]).
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub sse_connections: Gauge,
    pub jobs_finished: Family<JobLabels, Counter>,
    pub job_duration: Family<TemplateLabels, Histogram>,
    pub webhook_deliveries: Family<OutcomeLabels, Counter>,
    jobs: Family<StatusLabels, Gauge>,
    provider_calls: Family<ProviderLabels, Gauge>,
    provider_open: Family<ProviderOnly, Gauge>,
    db_connections: Family<PoolLabels, Gauge>,
    group_commits: Gauge,
    grouped_creations: Gauge,
    group_commit_fallbacks: Gauge,
    group_commit_busy: Gauge<f64, std::sync::atomic::AtomicU64>,
    group_commit_queued: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered under the `darkroom` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("darkroom");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route pattern and status", http_requests.clone());
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(seconds_histogram as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "Time to the response's head, by route pattern", http_duration.clone());
        let sse_connections = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        registry.register("sse_connections", "Live event streams open on this node", sse_connections.clone());
        let jobs_finished = Family::<JobLabels, Counter>::default();
        registry.register("jobs_finished", "Jobs this process's workers ended, by template and end state", jobs_finished.clone());
        let job_duration = Family::<TemplateLabels, Histogram>::new_with_constructor(job_histogram as fn() -> Histogram);
        registry.register("job_duration_seconds", "Run time of jobs this process's workers ended, claim to end, by template", job_duration.clone());
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register("webhook_deliveries", "Webhook delivery attempts by outcome", webhook_deliveries.clone());
        let jobs = Family::<StatusLabels, Gauge>::default();
        registry.register("jobs", "Jobs in the database that are queued, running or held for review (the whole cluster)", jobs.clone());
        let provider_calls = Family::<ProviderLabels, Gauge>::default();
        registry.register("provider_calls", "Calls to each remote generator in the last hour, by outcome", provider_calls.clone());
        let provider_open = Family::<ProviderOnly, Gauge>::default();
        registry.register("provider_circuit_open", "1 while a remote generator's circuit breaker is open", provider_open.clone());
        let db_connections = Family::<PoolLabels, Gauge>::default();
        registry.register("db_connections", "Database pool connections of this process, idle or in use", db_connections.clone());
        let (group_commits, grouped_creations, group_commit_fallbacks) = (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register("group_commits", "Transactions that committed generations created together (group commit), since start", group_commits.clone());
        registry.register("grouped_creations", "Generations those transactions ran, since start (divided by group_commits: the mean batch)", grouped_creations.clone());
        registry.register(
            "group_commit_fallbacks",
            "Group commits written as sets that did not apply whole (a creation in them did not) and ran again creation by creation, since start",
            group_commit_fallbacks.clone(),
        );
        let (group_commit_busy, group_commit_queued) = (Gauge::<f64, std::sync::atomic::AtomicU64>::default(), Gauge::<f64, std::sync::atomic::AtomicU64>::default());
        registry.register(
            "group_commit_busy_seconds",
            "Time the group commit lanes spent on batches, from taking one to having its answers, summed over lanes, since start",
            group_commit_busy.clone(),
        );
        registry.register(
            "group_commit_queued_seconds",
            "Time generations waited for a group commit lane, summed, since start (divided by grouped_creations: the mean wait)",
            group_commit_queued.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            sse_connections,
            jobs_finished,
            job_duration,
            webhook_deliveries,
            jobs,
            provider_calls,
            provider_open,
            db_connections,
            group_commits,
            grouped_creations,
            group_commit_fallbacks,
            group_commit_busy,
            group_commit_queued,
        }
    }

    /// Records one answered HTTP request.
    pub fn http(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests.get_or_create(&HttpLabels { method: method.into(), route: route.into(), status }).inc();
        self.http_duration.get_or_create(&RouteLabels { method: method.into(), route: route.into() }).observe(took.as_secs_f64());
    }

    /// Records a job this process's worker ended.
    pub fn job_finished(&self, template: &str, status: &str, took: Duration) {
        self.jobs_finished.get_or_create(&JobLabels { template: template.into(), status: status.into() }).inc();
        self.job_duration.get_or_create(&TemplateLabels { template: template.into() }).observe(took.as_secs_f64());
    }

    /// Reads the figures kept elsewhere (the queue, the providers, the pool) and encodes
    /// everything in the OpenMetrics text format (`# EOF` last), which Prometheus reads.
    ///
    /// Errors: the database could not be read (the queue figures), or encoding failed.
    pub async fn render(&self, state: &AppState) -> Result<String, crate::ServiceError> {
        let counts = state.store.active_job_counts().await?;
        for status in [darkroom_contract::JobStatus::Queued, darkroom_contract::JobStatus::Running, darkroom_contract::JobStatus::Review] {
            let n = counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
            self.jobs.get_or_create(&StatusLabels { status: status.as_str().into() }).set(n);
        }
        for p in state.generators.health().into_iter().filter(|p| p.remote) {
            let since = std::time::SystemTime::now() - Duration::from_secs(3600);
            let recent = p.health.calls.iter().filter(|(t, _, _)| *t >= since);
            let (ok, err) = recent.fold((0i64, 0i64), |(o, e), (_, _, good)| if *good { (o + 1, e) } else { (o, e + 1) });
            for (outcome, n) in [("ok", ok), ("error", err)] {
                self.provider_calls.get_or_create(&ProviderLabels { provider: p.id.into(), outcome: outcome.into() }).set(n);
            }
            let open = matches!(p.state, Some(crate::generators::remote::BreakerState::Open { .. }));
            self.provider_open.get_or_create(&ProviderOnly { provider: p.id.into() }).set(i64::from(open));
        }
        let (size, idle) = (i64::from(state.store.pool.size()), state.store.pool.num_idle() as i64);
        self.db_connections.get_or_create(&PoolLabels { state: "idle".into() }).set(idle);
        self.db_connections.get_or_create(&PoolLabels { state: "in_use".into() }).set((size - idle).max(0));
        let grouped = state.store.group_commit_stats();
        self.group_commits.set(grouped.transactions as i64);
        self.grouped_creations.set(grouped.creations as i64);
        self.group_commit_fallbacks.set(grouped.fallbacks as i64);
        self.group_commit_busy.set(grouped.busy_micros as f64 / 1e6);
        self.group_commit_queued.set(grouped.queued_micros as f64 / 1e6);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).map_err(crate::ServiceError::internal)?;
        Ok(out)
    }
}

/// Counts one open live stream while it lives.
pub struct StreamGuard(Gauge<i64, std::sync::atomic::AtomicI64>);

impl StreamGuard {
    pub fn open(metrics: &Metrics) -> Self {
        metrics.sse_connections.inc();
        Self(metrics.sse_connections.clone())
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}
