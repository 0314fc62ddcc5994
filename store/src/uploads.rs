//! Uploaded sources (photos and clips): where the cleaned copy is stored and what it is.

use serde::{Deserialize, Serialize};

use crate::{now_ms, Result, Store, StoreError};

/// A stored upload (the metadata-free re-encoded copy, not the bytes the member sent).
#[derive(Clone, Debug, sqlx::FromRow, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub user_id: String,
    /// Key in media storage.
    pub object_key: String,
    /// SHA-256 of the bytes the member sent, lowercase hex.
    pub content_hash: String,
    pub mime: String,
    /// Size of the stored copy in bytes.
    pub bytes: i64,
    /// Pixels, after EXIF orientation.
    pub width: i64,
    pub height: i64,
    pub created_at: i64,
    /// For images sent to the API's upload endpoint: the upload gate's decision record
    /// (JSON), applied when a generation uses the image. `None` for the web form.
    #[serde(default)]
    pub gate: Option<String>,
    /// A clip's length in milliseconds (its clean copy); `None` for images.
    #[serde(default)]
    pub duration_ms: Option<i64>,
}

const COLUMNS: &str = "id, user_id, object_key, content_hash, mime, bytes, width, height, created_at, gate, duration_ms";

impl Store {
    /// Records an upload whose file is already in storage; the member confirmed rights and
    /// consent for it now.
    pub async fn insert_upload(&self, u: &Upload) -> Result<()> {
        sqlx::query(
            "INSERT INTO uploads (id, user_id, object_key, content_hash, mime, bytes, width, height, rights_confirmed_at, created_at, gate, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)",
        )
        .bind(&u.id)
        .bind(&u.user_id)
        .bind(&u.object_key)
        .bind(&u.content_hash)
        .bind(&u.mime)
        .bind(u.bytes)
        .bind(u.width)
        .bind(u.height)
        .bind(now_ms())
        .bind(&u.gate)
        .bind(u.duration_ms)
        .execute(&self.write_pool)
        .await?;
        Ok(())
    }

    /// The member's upload, if it exists and is not deleted. Errors: [`StoreError::NotFound`]
    /// (also for someone else's upload: no oracle).
    pub async fn upload(&self, id: &str, user_id: &str) -> Result<Upload> {
        sqlx::query_as::<_, Upload>(&format!("SELECT {COLUMNS} FROM uploads WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

impl Store {
    /// Marks the member's upload deleted (its file is removed by the caller).
    pub async fn delete_upload(&self, id: &str, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE uploads SET deleted_at = $1 WHERE id = $2 AND user_id = $3")
            .bind(now_ms())
            .bind(id)
            .bind(user_id)
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }
}
