//! The Darkroom server: builds the axum application from a [`Config`] (pages, server
//! functions, HTTP routes, sessions, CSRF) and runs it with its in-process workers.
//!
//! `main.rs` is only the command line; tests build an [`Application`] in-process.

pub mod bundle;
pub mod explore_cache;
pub mod csrf;
pub mod headers;
pub mod observe;
pub mod page_limit;
pub mod routes;
pub mod sessions;
pub mod ssr_guard;

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use axum::Router;
use axum_login::AuthManagerLayerBuilder;
use darkroom_service::auth::Backend;
use darkroom_service::{AppState, Config};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::sync::watch;
use tower_http::services::ServeDir;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use darkroom_service;

/// State the router hands to handlers: the services and Leptos' options.
#[derive(Clone, FromRef)]
pub struct ServerState {
    pub app: AppState,
    pub leptos: LeptosOptions,
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    /// The services (tests reach into the store through this).
    pub state: AppState,
}

/// Idle time after which a session ends, in days.
pub const SESSION_DAYS: i64 = 14;

impl Application {
    /// Connects and migrates the database, loads the engine, builds the router and binds
    /// `config.addr` (port 0 picks a free port). Starts `config.workers` in-process workers
    /// when run.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        // Bound first, so the configuration names the real address (port 0 picks one).
        let listener = tokio::net::TcpListener::bind(&config.addr).await?;
        let addr = listener.local_addr()?;
        config.addr = addr.to_string();
        let state = AppState::build(config).await?;
        state.agree_on_shared_keys().await?;
        let config = state.config.clone();
        if let Some(engine) = state.engine.clone().filter(|_| config.render_previews) {
            let (models, out) = (config.models_dir.clone(), config.data_dir.join("previews"));
            tokio::task::spawn_blocking(move || {
                if let Err(e) = darkroom_service::styles::ensure_previews(&engine, &models, &out) {
                    tracing::warn!(error = %e, "style previews not rendered");
                }
            });
        }
        let router = router(state.clone(), addr).await?;
        Ok(Self { listener, router, state })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    /// A handle that stops the server and its workers when sent `true`.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.state.shutdown.clone()
    }

    /// Serves until Ctrl-C/SIGTERM or the shutdown handle fires. Then: no new connections,
    /// live streams end with a retry hint (clients resume on another node by
    /// `Last-Event-ID`), requests in flight finish, workers claim nothing more and finish or
    /// give back their job (`darkroom_service::worker::run`).
    pub async fn run(self) -> anyhow::Result<()> {
        let rx = self.state.shutdown.subscribe();
        if let Some(addr) = self.state.config.metrics_addr.clone() {
            observe::serve_metrics(self.state.clone(), &addr, rx.clone()).await?;
        }
        let workers = darkroom_service::worker::spawn(&self.state, self.state.config.workers, &rx);
        let webhooks = darkroom_service::webhooks::spawn(&self.state, &rx);
        let mut stop = rx.clone();
        // Other nodes' changes (PostgreSQL LISTEN/NOTIFY; nothing to do on SQLite).
        let live = tokio::spawn(darkroom_store::live::listen(self.state.store.clone()));
        tokio::spawn(prune_events(self.state.clone(), rx.clone()));
        tokio::spawn(purge_expired(self.state.clone(), rx.clone()));
        tokio::spawn(expire_credits(self.state.clone(), rx.clone()));
        tokio::spawn(mail_notices(self.state.clone(), rx.clone()));
        let tx = self.state.shutdown.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("stopping: no new connections, streams end, workers finish or give back their job");
            let _ = tx.send(true);
        });
        tracing::info!(addr = %self.addr(), "serving");
        let write_timeout = std::time::Duration::from_secs(self.state.config.write_timeout_secs);
        let listener = axum::serve::ListenerExt::tap_io(self.listener, move |tcp: &mut tokio::net::TcpStream| tune_socket(tcp, write_timeout));
        axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await?;
        for w in workers {
            let _ = w.await;
        }
        let _ = webhooks.await;
        live.abort();
        Ok(())
    }
}

/// Days the API request log is kept.
pub const API_LOG_DAYS: i64 = 90;

/// Hourly: applies live-event retention (age and count per member) and the API request
/// log's ([`API_LOG_DAYS`]), and drops rate-limit buckets that are full again.
async fn prune_events(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let before = darkroom_store::now_ms() - state.config.event_retention_secs as i64 * 1000;
        match state.store.prune_events(before, state.config.event_retention_count).await {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "old live events pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning events failed"),
        }
        let before = darkroom_store::now_ms() - API_LOG_DAYS * 86_400_000;
        if let Err(e) = state.store.prune_api_requests(before).await {
            tracing::warn!(error = %e, "pruning the API request log failed");
        }
        if let Err(e) = state.store.prune_rate_limits(darkroom_store::now_ms()).await {
            tracing::warn!(error = %e, "pruning rate-limit buckets failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Hourly: purges uploads and results past their retention (`darkroom_service::retention`).
async fn purge_expired(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        match darkroom_service::retention::purge(&state, darkroom_store::now_ms()).await {
            Ok(r) if r.files > 0 => tracing::info!(uploads = r.uploads, results = r.results, files = r.files, "retention purge"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Every minute: expires credit lots past their time (an `expiry` ledger entry each; charges
/// also expire their member's due lots first, so none is ever spent late).
async fn expire_credits(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        match state.store.expire_lots(darkroom_store::now_ms()).await {
            Ok(n) if n > 0 => tracing::info!(members = n, "credit lots expired"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiring credit lots failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Every minute: mails the notices marked for mail that no node has finished
/// (`darkroom_service::notices`; publishing starts a mailing at once, this resumes one a
/// stopped node left).
async fn mail_notices(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match darkroom_service::notices::mail_pending(&state).await {
            Ok(n) if n > 0 => tracing::info!(mails = n, "notice mails sent"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "mailing notices failed"),
        }
    }
}

/// Resolves at Ctrl-C or SIGTERM (what systemd, Docker and Kubernetes send to stop).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Options of every accepted connection.
/// - TCP_NODELAY: a rendered page is streamed in several writes; with Nagle's algorithm the
///   second small write waits for the client's delayed ACK (40 ms on Linux), which was most of
///   a page's p99 (tcp(7); the axum examples set it too).
/// - TCP_USER_TIMEOUT = `write_timeout`: a reader that takes nothing for that long is cut by
///   the kernel (data unacknowledged, or unsent to a zero window, for that long).
///
/// A failure is logged at debug level: the connection is served either way.
pub fn tune_socket(tcp: &tokio::net::TcpStream, write_timeout: std::time::Duration) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
    if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(write_timeout)) {
        tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
    }
}

/// The pages' routes, listed once per process.
///
/// Leptos lists them by running the app while a process-wide flag holds resources back
/// (leptos_server's `SuppressResourceLoad`); a resource first polled meanwhile never loads,
/// so a page request being answered by another [`Application`] of the same process (tests,
/// several nodes in one process) could stream forever (leptos-rs/leptos#4773, open in 0.8).
/// Listed once, before any server of the process can answer, nothing overlaps it.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "darkroom_session";

/// The whole router: pages and server functions (Leptos), uploads, live events, media,
/// static files, health, wrapped in sessions + auth and the page limit; beside them the API
/// (keys and its own limits); all of it behind CSRF checks, request tracing and compression.
pub async fn router(state: AppState, addr: SocketAddr) -> anyhow::Result<Router> {
    let config = state.config.clone();
    let site_root = config.site_root.display().to_string();
    // Pages link the bundle under its build id (`/pkg/<id>/…`, cached for a year).
    let bundle = bundle::Bundle::open(&config.site_root);
    let leptos = LeptosOptions::builder().output_name("darkroom").site_root(site_root.as_str()).site_pkg_dir(bundle.pkg_path()).site_addr(addr).build();
    let routes = route_list();

    let sessions = sessions::DbSessionStore::connect(state.store.url(), state.store.backend).await?;
    // Server functions end other sessions through this (the sessions page, resets, deletion).
    let session_store: darkroom_service::auth::SessionStoreRef = std::sync::Arc::new(sessions.clone());
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(SESSION_DAYS)));
    let auth_layer = AuthManagerLayerBuilder::new(Backend::new(state.store.clone()), session_layer).build();

    let upload_limit = config.upload.max_bytes + 1024 * 1024;
    // The API: its routes and OpenAPI document come from one list (routes::api::routes).
    let (api_routes, api_doc) = routes::api::routes();
    let mut api_doc_json = serde_json::to_value(&api_doc)?;
    routes::api::docs::complete(&mut api_doc_json, &routes::api::openai::model_ids(&state).await);
    // Where rate limits count: this process on SQLite, the database on PostgreSQL.
    let counter = darkroom_service::limits::Counter::for_store(&state.store, &state.signer);
    let api_layer = routes::api::LayerState {
        app: state.clone(),
        limits: std::sync::Arc::new(routes::api::Limits::new(&counter, config.api_key_rate_per_min, config.api_ip_rate_per_min)),
    };
    // JSON bodies carry the photo as base64 (4/3 of its size).
    let api_routes = api_routes
        .route_layer(axum::middleware::from_fn_with_state(api_layer, routes::api::layer))
        .layer(DefaultBodyLimit::max(upload_limit / 3 * 4 + 1024 * 1024));
    let docs = Router::new()
        .route("/api/v1/openapi.json", get(routes::api::docs::openapi_json))
        .with_state(routes::api::docs::Doc(std::sync::Arc::new(api_doc_json.to_string())))
        .merge(
            Router::new()
                .route("/api/v1/docs", get(routes::api::docs::page))
                .with_state(routes::api::docs::Page(std::sync::Arc::new(routes::api::docs::render(&api_doc_json, &format!("/{}/darkroom.css", bundle.pkg_path()))))),
        );
    let ctx = state.clone();
    let cache_state = state.clone();
    let page_limit = page_limit::PageLimit::new(config.page_rate_per_min, &counter);
    let track_state = state.clone();
    let observe_state = state.clone();
    let shell_options = leptos.clone();
    // A lazy page's chunks are preloaded from its `<head>` (bundle::Bundle::split_manifest).
    let split_manifest = bundle.split_manifest();
    let server_state = ServerState { app: state, leptos: leptos.clone() };
    let api_routes = api_routes.with_state(server_state.clone());
    // The site: pages, their server functions and the browser's own routes, with sessions.
    let site = Router::new()
        .route("/generations", post(routes::generations::create).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/generations/preview", post(routes::generations::preview).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/events", get(routes::events::stream))
        .route("/gallery/delete", post(routes::gallery::delete_selected))
        .route("/credits/ledger.csv", get(routes::ledger::csv))
        .route("/admin/audit.csv", get(routes::audit::csv))
        .route("/admin/settings/logo", post(routes::site_settings::logo).layer(DefaultBodyLimit::max(routes::site_settings::MAX_BODY)))
        .route("/payments/checkout", post(routes::payments::checkout))
        .route("/payments/paypal/return", get(routes::payments::paypal_return))
        .route("/payments/stripe/webhook", post(routes::payments::stripe_webhook).layer(DefaultBodyLimit::max(routes::payments::WEBHOOK_MAX_BYTES)))
        .route("/payments/paypal/webhook", post(routes::payments::paypal_webhook).layer(DefaultBodyLimit::max(routes::payments::WEBHOOK_MAX_BYTES)))
        .route("/providers/{id}/webhook", post(routes::providers::webhook).layer(DefaultBodyLimit::max(routes::providers::WEBHOOK_MAX_BYTES)))
        .route("/media/{id}/{variant}", get(routes::media::get))
        .route("/template-previews/{file}", get(routes::media::template_preview))
        .route("/m/{id}/{variant}", get(routes::signed_media::get))
        .route(&format!("/s/{{token}}/{}", darkroom_service::sharing::PREVIEW_FILE), get(routes::previews::share_link))
        .route(&format!("/p/{{id}}/{}", darkroom_service::sharing::PREVIEW_FILE), get(routes::previews::public_page))
        .route(&format!("/s/{{token}}/{}", darkroom_service::sharing::PREVIEW_VIDEO_FILE), get(routes::previews::share_link_video))
        .route(&format!("/p/{{id}}/{}", darkroom_service::sharing::PREVIEW_VIDEO_FILE), get(routes::previews::public_page_video))
        .route("/favicon.svg", get(routes::favicon::get))
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(observe::metrics))
        .nest_service("/previews", ServeDir::new(config.data_dir.join("previews")))
        .route_service("/pkg/{*path}", get(bundle::serve).with_state(bundle.clone()))
        .route("/account/exports/{id}", get(routes::account::export_download))
        .route("/verify", get(routes::account::verify))
        .route("/auth/google", get(routes::oidc::start))
        .route("/auth/google/callback", get(routes::oidc::callback))
        .leptos_routes_with_context(
            &server_state,
            routes,
            move || {
                provide_context(ctx.clone());
                provide_context(session_store.clone());
                if let Some(m) = &split_manifest {
                    provide_context(m.clone());
                }
            },
            move || app::shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<ServerState, _>(app::shell))
        .with_state(server_state)
        .layer(axum::middleware::from_fn(ssr_guard::finish_renders))
        .layer(axum::middleware::from_fn(ssr_guard::layer))
        .layer(axum::middleware::from_fn_with_state(track_state, sessions::track))
        .layer(axum::middleware::from_fn(sessions::member_home))
        .layer(auth_layer)
        .layer(axum::middleware::from_fn_with_state(explore_cache::ExploreCache::new(cache_state), explore_cache::layer))
        // Counted before the Explore cache: a cached page is a page view too.
        .layer(axum::middleware::from_fn_with_state(page_limit, page_limit::layer));
    // The API authenticates with keys and has its own limits (`routes::api::layer`): no
    // session, page limit or render guard runs for it.
    let router: Router = Router::new()
        .merge(api_routes)
        .merge(docs)
        .merge(site)
        .layer(axum::middleware::from_fn(csrf::layer))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(observe_state, observe::layer))
        // HTML and JSON compressed on the fly (brotli or gzip, as the client accepts); images,
        // live event streams and the precompressed bundle are left alone.
        .layer(tower_http::compression::CompressionLayer::new());
    Ok(headers::apply(router, config.secure_cookies))
}

#[cfg(test)]
mod socket_tests {
    /// An accepted connection gets TCP_NODELAY and the write timeout (read back from the
    /// kernel on a real loopback socket).
    #[tokio::test]
    async fn accepted_connections_are_tuned() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        assert!(!tcp.nodelay().unwrap(), "off by default");
        super::tune_socket(&tcp, std::time::Duration::from_secs(7));
        assert!(tcp.nodelay().unwrap());
        assert_eq!(socket2::SockRef::from(&tcp).tcp_user_timeout().unwrap(), Some(std::time::Duration::from_secs(7)));
    }
}
