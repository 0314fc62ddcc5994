//! Darkroom's services: what the web pages, the HTTP routes and the workers all call.
//!
//! - [`config`]: operator settings from the environment.
//! - [`credits`]: the ledger filters pages and exports share.
//! - [`error`]: [`ServiceError`], the one error type every caller maps to HTTP or UI text.
//! - [`auth`]: passwords (argon2id) and the axum-login backend over the store.
//! - [`accounts`]: sign-up rules (age, terms, grant), email verification, password reset and
//!   change, email change, security events, sign-in rate limits, consents.
//! - [`legal`]: terms and privacy versions, re-consent.
//! - [`mail`]: transactional mail (SMTP or the outbox folder).
//! - [`media`]: media storage through `object_store` (local folder by default).
//! - [`generation`]: submit a photo with style parameters (checks, upload, charge, queue).
//! - [`generators`]: the [`generators::Generator`] trait and the registry of local models
//!   and remote providers the worker dispatches to.
//! - [`worker`]: the loop that claims jobs, runs their generators and stores results.
//! - [`styles`]: the style catalogue and its engine-made previews.
//! - [`retention`]: purges uploads and results past the operator's keep-for times.
//! - [`sharing`]: share links, likes, showcase consent, signed media URLs.
//! - [`api`]: API keys (create, authenticate, scopes, caps), the generation object,
//!   templates and styles for integrators.
//! - [`webhooks`]: per-key webhook endpoints, Standard Webhooks signing, the sender.
//! - [`payments`]: providers on or off, checkout for a plan, Stripe and PayPal (verified
//!   webhooks applied exactly once), plan checks, money formatting.
//! - [`oidc`]: Google sign-in (OpenID Connect, code flow with PKCE, ID token checks).
//! - [`privacy`]: the data export (ZIP, signed 24 h link) and account deletion.
//! - [`moderation`]: the prompt, upload and output gates, the policy, the review queue,
//!   reports, strikes and standing.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod credits;
pub mod dashboard;
pub mod error;
pub mod feed;
pub mod generation;
pub mod generators;
pub mod legal;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod media;
pub mod members;
pub mod moderation;
pub mod notices;
pub mod oidc;
pub mod outbound;
pub mod payments;
pub mod privacy;
pub mod request_id;
pub mod retention;
pub mod settings;
pub mod sharing;
pub mod styles;
pub mod support;
pub mod templates;
pub mod video_work;
pub mod webhooks;
pub mod worker;

use std::sync::Arc;

pub use config::Config;
pub use darkroom_engine::Engine;
pub use darkroom_store::Store;
pub use error::ServiceError;
pub use media::Media;

/// Everything a request or worker needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub media: Media,
    /// `None` when the models are not fetched: pages work, jobs fail with a clear message.
    pub engine: Option<Arc<Engine>>,
    /// The generators jobs can name (the local ones only with an engine).
    pub generators: generators::Generators,
    pub config: Arc<Config>,
    /// The moderation policy in force (operator file or the shipped default).
    pub policy: Arc<moderation::Policy>,
    /// Explore's pages, cached until the public feed changes.
    pub feed: feed::Feed,
    /// Signs media URLs for shared and public items.
    pub signer: Arc<sharing::UrlSigner>,
    /// Signs the C2PA manifest of every output (`None` only if no key could be made).
    pub provenance: Option<Arc<darkroom_engine::provenance::Provenance>>,
    /// Sends transactional mail.
    pub mailer: mail::Mailer,
    /// Sign-in, sign-up and reset rate limits (for the cluster on PostgreSQL).
    pub auth_limits: Arc<accounts::AuthLimits>,
    /// How often support requests may be sent (for the cluster on PostgreSQL).
    pub support_limits: Arc<support::SupportLimits>,
    /// How often a member may preview styles on their own photo (`styles::preview_on_photo`).
    pub preview_limits: Arc<limits::Limiter>,
    /// This process's metrics (`/metrics`).
    pub metrics: Arc<metrics::Metrics>,
    /// Turns `true` when the process is asked to stop (SIGTERM, Ctrl-C, a test's handle):
    /// workers stop claiming, live streams end with a retry hint.
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// Connects the database (migrating it), opens media storage and loads the engine.
    ///
    /// Errors: database or storage unreachable, an invalid moderation policy file. A missing
    /// engine is logged, not an error (images then wait for a moderator).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let mut store = Store::connect(&config.database_url).await?;
        if let Some(max) = config.group_commit {
            store = store.with_group_commit(max);
        }
        store.migrate().await?;
        let media = Media::from_config(&config)?;
        let mut engine_config = darkroom_engine::EngineConfig::new(&config.models_dir);
        engine_config.max_side = config.max_side;
        engine_config.sessions_per_model = config.workers.max(1);
        engine_config.intra_threads = config.engine_threads;
        let engine = match tokio::task::spawn_blocking(move || Engine::load(engine_config)).await? {
            Ok(e) => Some(Arc::new(e)),
            Err(e) => {
                tracing::warn!(error = %e, "generation engine not loaded; run `darkroom fetch-models`");
                None
            }
        };
        let policy = match &config.moderation_policy {
            Some(path) => moderation::Policy::load(path).map_err(|e| anyhow::anyhow!("moderation policy: {e}"))?,
            None => moderation::Policy::default(),
        };
        tracing::info!(version = %policy.version, "moderation policy loaded");
        let signer = Arc::new(sharing::UrlSigner::load(config.media_url_secret.as_deref(), &config.data_dir, config.signed_url_secs)?);
        let provenance = load_provenance(&config)?;
        let mailer = mail::Mailer::from_config(&config)?;
        let counter = limits::Counter::for_store(&store, &signer);
        let auth_limits = Arc::new(accounts::AuthLimits::new(&counter, config.auth_rate_per_ip_per_hour, config.auth_rate_per_account));
        let support_limits = Arc::new(support::SupportLimits::new(&counter, config.support_rate_per_ip_per_hour));
        let preview_limits = Arc::new(limits::Limiter::new("style-preview", darkroom_store::cluster::Rate::per(styles::OWN_PREVIEWS_PER_MIN, 60_000), &counter));
        let generators = generators::Generators::new(engine.clone(), &config);
        let metrics = Arc::new(metrics::Metrics::new());
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let feed = feed::Feed::new(store.clone());
        Ok(Self { store, media, engine, generators, config: Arc::new(config), policy: Arc::new(policy), feed, signer, provenance, mailer, auth_limits, support_limits, preview_limits, metrics, shutdown })
    }
}

impl AppState {
    /// Every node (`serve`, `worker`) must sign media URLs (and key IP and user hashes) with
    /// the same key: the first node on a database records the key's fingerprint, and a node
    /// started with another key stops here with an error naming the setting, instead of
    /// signing URLs the others refuse. One-off commands (`create-admin`, `purge`, ...) neither
    /// record nor check it.
    ///
    /// Errors: another key is recorded; the database could not be reached.
    pub async fn agree_on_shared_keys(&self) -> anyhow::Result<()> {
        agree_on_keys(&self.store, &self.signer).await
    }
}

async fn agree_on_keys(store: &Store, signer: &sharing::UrlSigner) -> anyhow::Result<()> {
    use darkroom_store::cluster::KeyAgreement;
    match store.agree_on_key("media-url", &signer.fingerprint()).await? {
        KeyAgreement::Agreed => Ok(()),
        KeyAgreement::Differs { recorded, set_at } => anyhow::bail!(
            "DARKROOM_MEDIA_URL_SECRET differs from the key the other nodes on this database use \
             (fingerprint {recorded}, recorded at {set_at} ms; this node's is {}): set the same secret on every node. \
             After changing it on purpose on every node, run `darkroom forget-keys` once.",
            signer.fingerprint()
        ),
    }
}

/// The C2PA signer: the operator's key when configured (an unreadable or mismatched key is a
/// start-up error), otherwise one made now (a failure there is logged: outputs then carry
/// the XMP label only).
fn load_provenance(config: &Config) -> anyhow::Result<Option<Arc<darkroom_engine::provenance::Provenance>>> {
    use darkroom_engine::provenance::Provenance;
    match (&config.c2pa_cert, &config.c2pa_key) {
        (Some(cert), Some(key)) => {
            let p = Provenance::from_pem(&std::fs::read(cert)?, &std::fs::read(key)?, &config.c2pa_alg)
                .map_err(|e| anyhow::anyhow!("DARKROOM_C2PA_CERT/KEY: {e}"))?;
            Ok(Some(Arc::new(p)))
        }
        (None, None) => match Provenance::ephemeral() {
            Ok(p) => Ok(Some(Arc::new(p))),
            Err(e) => {
                tracing::error!(error = %e, "no C2PA signer; outputs carry the XMP label only");
                Ok(None)
            }
        },
        _ => anyhow::bail!("set both DARKROOM_C2PA_CERT and DARKROOM_C2PA_KEY, or neither"),
    }
}
