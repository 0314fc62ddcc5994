//! Darkroom's services: what the web pages, the HTTP routes and the workers all call.
//!
//! - [`config`]: operator settings from the environment.
//! - [`error`]: [`ServiceError`], the one error type every caller maps to HTTP or UI text.
//! - [`auth`]: passwords (argon2id) and the axum-login backend over the store.
//! - [`accounts`]: sign-up rules (age, terms, grant).
//! - [`media`]: media storage through `object_store` (local folder by default).
//! - [`generation`]: submit a photo with style parameters (checks, upload, charge, queue).
//! - [`worker`]: the loop that claims jobs, runs the engine and stores results.
//! - [`styles`]: the style catalogue and its engine-made previews.

pub mod accounts;
pub mod auth;
pub mod config;
pub mod error;
pub mod generation;
pub mod media;
pub mod styles;
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
    pub config: Arc<Config>,
}

impl AppState {
    /// Connects the database (migrating it), opens media storage and loads the engine.
    ///
    /// Errors: database or storage unreachable. A missing engine is logged, not an error.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
        let media = Media::local(&config.media_dir)?;
        let mut engine_config = darkroom_engine::EngineConfig::new(&config.models_dir);
        engine_config.max_side = config.max_side;
        engine_config.sessions_per_model = config.workers.max(1);
        let engine = match tokio::task::spawn_blocking(move || Engine::load(engine_config)).await? {
            Ok(e) => Some(Arc::new(e)),
            Err(e) => {
                tracing::warn!(error = %e, "generation engine not loaded; run `darkroom fetch-models`");
                None
            }
        };
        Ok(Self { store, media, engine, config: Arc::new(config) })
    }
}
