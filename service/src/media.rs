//! Media storage through `object_store`: a local folder by default, or an S3-compatible bucket
//! (`DARKROOM_S3_*`, [`crate::config::S3Settings`]) behind the same [`Media`] handle, so every
//! node of a cluster reads what any node wrote.
//!
//! Keys are idempotent: a retried write rewrites the same key with the same bytes, and the
//! database, not the store, says which keys are live. Nothing here uses conditional writes
//! (S3-compatible servers differ in how reliably they honour them).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::ServiceError;

pub use darkroom_contract::media::{is_video, original_mime, rendition_key, result_file, result_keys, result_keys_for, result_keys_with, result_prefix};

/// A handle on the media store. Keys look like `uploads/<user>/<id>.jpg`.
#[derive(Clone)]
pub struct Media(Arc<dyn ObjectStore>);

fn s3_prefix(config: &crate::Config) -> Option<String> {
    config.s3.as_ref()?.prefix.as_deref().map(|p| p.trim_matches('/').to_string()).filter(|p| !p.is_empty())
}

impl Media {
    /// A store rooted at a local folder (created if missing).
    pub fn local(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(std::io::Error::other)?;
        Ok(Self(Arc::new(fs)))
    }

    /// The media store the settings name: the S3 bucket when one is set, else the local
    /// folder. Errors: the folder cannot be made, or the S3 settings are incomplete (the
    /// bucket is not checked here: `check` is, by `/readyz`).
    pub fn from_config(config: &crate::Config) -> anyhow::Result<Self> {
        let Some(s3) = &config.s3 else { return Ok(Self::local(&config.media_dir)?) };
        let mut b = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_virtual_hosted_style_request(!s3.path_style)
            .with_client_options(object_store::ClientOptions::new().with_connect_timeout(std::time::Duration::from_secs(5)).with_timeout(std::time::Duration::from_secs(120)));
        if let Some(endpoint) = &s3.endpoint {
            b = b.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(key)) = (&s3.access_key_id, &s3.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(key);
        }
        let s3 = b.build()?;
        Ok(match s3_prefix(config) {
            Some(prefix) => Self(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))),
            None => Self(Arc::new(s3)),
        })
    }

    /// Whether the store answers: a listing of one prefix (for `/readyz`). Errors: the
    /// store's own (unreachable, refused credentials, no such bucket).
    pub async fn check(&self) -> Result<(), ServiceError> {
        use futures::StreamExt;
        let p = ObjectPath::from("readyz");
        match self.0.list(Some(&p)).next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.into()),
        }
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
