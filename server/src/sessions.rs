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
