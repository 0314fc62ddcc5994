//! ONNX Runtime environment and session pools.
//!
//! The runtime library is loaded once per process with `ort::init_from` (feature
//! `load-dynamic`); nothing is downloaded. `ort::session::Session::run` takes `&mut self`,
//! so each model keeps a small pool of sessions, one per concurrent caller.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;

use crate::assets::ModelFiles;

/// Errors from the engine. `BadInput` is the caller's fault (shown to the member);
/// `Runtime` and `Missing` are the operator's (models not fetched, library mismatch).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Input the engine refuses: too small, bad style weights, strength out of 0..=1.
    #[error("{0}")]
    BadInput(String),
    /// A model or the runtime library is not where the configuration says.
    #[error("model files missing: {0} (run `darkroom fetch-models`)")]
    Missing(String),
    /// ONNX Runtime reported an error.
    #[error("onnx runtime: {0}")]
    Runtime(String),
}

impl From<ort::Error> for EngineError {
    fn from(e: ort::Error) -> Self {
        EngineError::Runtime(e.to_string())
    }
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Folder that `fetch-models` filled (holds `libonnxruntime.so.*` and the `.onnx` files).
    pub models_dir: PathBuf,
    /// Sessions per model: how many inferences of one model may run at once.
    pub sessions_per_model: usize,
    /// The process's ONNX Runtime thread budget: one intra-op pool of this many threads that
    /// every session of every model shares (0: one per core). Fixed by the first engine
    /// loaded in the process (the environment is process-wide).
    pub intra_threads: usize,
    /// Longest side in pixels the style network is run at (the reference default is 1024).
    pub max_side: u32,
}

impl EngineConfig {
    /// Defaults for a models folder: one session, runtime-chosen threads, 1024 px.
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Self { models_dir: models_dir.into(), sessions_per_model: 1, intra_threads: 0, max_side: 1024 }
    }
}

static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the shared library on first use, with
/// one global thread pool (`CreateEnvWithGlobalThreadPools`) of `threads` intra-op threads
/// (0: one per core) that never spin while idle: sessions of several models (and several
/// in-process workers) share the cores instead of each busy-waiting a pool of its own, and an
/// idle engine leaves the CPU to the web side.
///
/// Errors: [`EngineError::Missing`] if the library file is absent, [`EngineError::Runtime`] if
/// it fails to load. The first library path and thread budget win for the life of the process.
pub fn environment(library: &Path, threads: usize) -> Result<&'static Environment, EngineError> {
    if !library.exists() {
        return Err(EngineError::Missing(library.display().to_string()));
    }
    let env = ENVIRONMENT.get_or_init(|| {
        let builder = ort::init_from(library).map_err(|e| e.to_string())?;
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
        let pool = ort::environment::GlobalThreadPoolOptions::default()
            .with_intra_threads(threads)
            .and_then(|p| p.with_inter_threads(1))
            .and_then(|p| p.with_spin_control(false))
            .map_err(|e| e.to_string())?;
        builder.with_name("darkroom").with_global_thread_pool(pool).build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|e| EngineError::Runtime(e.clone()))
}

/// A fixed set of sessions of one model; [`SessionPool::with`] borrows one.
pub struct SessionPool {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl SessionPool {
    /// Loads `model` `count` times (at least once), on the environment's shared thread pool.
    pub fn load(env: &Environment, model: &Path, count: usize) -> Result<Self, EngineError> {
        if !model.exists() {
            return Err(EngineError::Missing(model.display().to_string()));
        }
        let mut sessions = Vec::new();
        for _ in 0..count.max(1) {
            sessions.push(Mutex::new(Session::builder(env)?.commit_from_file(model)?));
        }
        Ok(Self { sessions, next: AtomicUsize::new(0) })
    }

    /// Runs `f` with exclusive use of one session (blocks while all are busy).
    pub fn with<R>(&self, f: impl FnOnce(&mut Session) -> R) -> R {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.sessions.len();
        for i in 0..n {
            if let Ok(mut s) = self.sessions[(start + i) % n].try_lock() {
                return f(&mut s);
            }
        }
        let mut s = self.sessions[start % n].lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }
}

/// The loaded engine: the style network and the moderation detector ready to run. Cheap to share behind an `Arc`.
pub struct Engine {
    pub(crate) style: SessionPool,
    /// The arbitrary-style networks (see [`crate::arbitrary`]); `None` in a models folder
    /// fetched before they were used.
    pub(crate) predict: Option<SessionPool>,
    pub(crate) transform: Option<SessionPool>,
    pub(crate) detector: SessionPool,
    /// Settings it was loaded with.
    pub config: EngineConfig,
}

impl Engine {
    /// Loads the runtime library, the style models and the detector (`320n.onnx`) from
    /// `config.models_dir`. Errors: [`EngineError::Missing`] for an absent file (the
    /// arbitrary-style pair is optional: without it [`Engine::stylize_with`] says so).
    pub fn load(config: EngineConfig) -> Result<Self, EngineError> {
        let files = ModelFiles::in_dir(&config.models_dir);
        let env = environment(&files.onnxruntime, config.intra_threads)?;
        let style = SessionPool::load(env, &files.multistyle26, config.sessions_per_model)?;
        let detector = SessionPool::load(env, &files.nudenet, config.sessions_per_model)?;
        let optional = |path: &std::path::Path| -> Result<Option<SessionPool>, EngineError> {
            if path.exists() { SessionPool::load(env, path, config.sessions_per_model).map(Some) } else { Ok(None) }
        };
        let predict = optional(&files.arbitrary_predict)?;
        let transform = optional(&files.arbitrary_transform)?;
        Ok(Self { style, predict, transform, detector, config })
    }
}
