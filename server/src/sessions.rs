//! Server-side sessions in the same database as everything else (SPEC §1: any node resumes
//! any session), through `tower-sessions-sqlx-store`. Its stores are typed per database, so
//! [`DbSessionStore`] picks one at start-up.

use darkroom_store::Backend;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store for the configured database.
#[derive(Clone, Debug)]
pub enum DbSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl DbSessionStore {
    /// Opens a pool on `url` and creates the sessions table if missing.
    pub async fn connect(url: &str, backend: Backend) -> anyhow::Result<Self> {
        Ok(match backend {
            Backend::Sqlite => {
                let opts: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(opts.create_if_missing(true).busy_timeout(std::time::Duration::from_secs(30)))
                    .await?;
                let s = SqliteStore::new(pool);
                s.migrate().await?;
                Self::Sqlite(s)
            }
            Backend::Postgres => {
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(8).connect(url).await?;
                let s = PostgresStore::new(pool);
                s.migrate().await?;
                Self::Postgres(s)
            }
        })
    }
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

/// Middleware (inside the auth layer): records the signed-in member's session in
/// `user_sessions` — device (user agent), truncated IP, last seen — at most once a minute per
/// session, so the sessions page can list and end them.
pub async fn track(
    axum::extract::State(app): axum::extract::State<darkroom_service::AppState>,
    auth: darkroom_service::auth::AuthSession,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // Before the handler, so a page that lists the member's sessions (rendered by this very
    // request, possibly streaming after the response head) sees the current one. A sign-in
    // request is recorded by the member's next request (its new session id is not this one's).
    if let (Some(user), Some(id)) = (&auth.user, auth.session.id()) {
        let id = id.to_string();
        let now = darkroom_store::now_ms();
        let due = {
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() > 100_000 {
                seen.clear();
            }
            match seen.get(&id) {
                Some(&t) if now - t < 60_000 => false,
                _ => {
                    seen.insert(id.clone(), now);
                    true
                }
            }
        };
        if due {
            let ip = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
            let from = darkroom_service::accounts::request_origin(ip, req.headers());
            if let Err(e) = app.store.touch_session(&id, &user.id, &from).await {
                tracing::warn!(error = %e, "session not recorded");
            }
        }
    }
    next.run(req).await
}

static SEEN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, i64>>> = std::sync::LazyLock::new(Default::default);

/// `GET /` for a signed-in member answers `303 See Other` to `/dashboard` (their home);
/// visitors get the landing page. (In the browser, the header's brand link already points a
/// member to the dashboard.)
pub async fn member_home(auth: darkroom_service::auth::AuthSession, req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    if req.method() == axum::http::Method::GET && req.uri().path() == "/" && auth.user.is_some() {
        return axum::response::IntoResponse::into_response(axum::response::Redirect::to("/dashboard"));
    }
    next.run(req).await
}
