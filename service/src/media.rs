//! Media storage through `object_store`: a local folder by default (SPEC §1); an S3-compatible
//! store plugs in behind the same [`Media`] handle.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::ServiceError;

pub use darkroom_contract::media::{rendition_key, result_file, result_keys, result_keys_for, result_prefix};

/// A handle on the media store. Keys look like `uploads/<user>/<id>.jpg`.
#[derive(Clone)]
pub struct Media(Arc<dyn ObjectStore>);

impl Media {
    /// A store rooted at a local folder (created if missing).
    pub fn local(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(std::io::Error::other)?;
        Ok(Self(Arc::new(fs)))
    }

    /// Any `object_store` implementation (S3, memory for tests, ...).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self(store)
    }

    /// Writes `bytes` at `key`, replacing what was there.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), ServiceError> {
        self.0.put(&ObjectPath::from(key), PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Reads the object. Errors: [`ServiceError::NotFound`].
    pub async fn get(&self, key: &str) -> Result<Bytes, ServiceError> {
        Ok(self.0.get(&ObjectPath::from(key)).await?.bytes().await?)
    }

    /// Deletes the object; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), ServiceError> {
        match self.0.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every file of a result ([`result_keys`]); returns how many keys were asked.
    pub async fn delete_result(&self, result_key: Option<&str>, thumb_key: Option<&str>) -> Result<u64, ServiceError> {
        let keys = result_keys(result_key, thumb_key);
        for k in &keys {
            self.delete(k).await?;
        }
        Ok(keys.len() as u64)
    }

    /// Every key under `prefix` (for purge checks and tests).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ServiceError> {
        use futures::TryStreamExt;
        let p = ObjectPath::from(prefix);
        let metas: Vec<_> = self.0.list(Some(&p)).try_collect().await?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }
}
