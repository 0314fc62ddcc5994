//! Media storage through `object_store`: a local folder by default (SPEC §1); an S3-compatible
//! store plugs in behind the same [`Media`] handle.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::ServiceError;
use darkroom_engine::imageio::{RenditionFormat, RENDITION_WIDTHS};

/// The storage key of a result's rendition, next to its thumbnail (the 512-wide JPEG, whose
/// key ends `-w512.jpg`): `…-w{width}.{jpg|webp}`.
pub fn rendition_key(thumb_key: &str, width: u32, format: RenditionFormat) -> String {
    let stem = thumb_key.strip_suffix("-w512.jpg").unwrap_or(thumb_key);
    format!("{stem}-w{width}.{}", format.ext())
}

/// The stored key and MIME type of the result file a URL names: `result` (the PNG original),
/// `thumb` (the 512-wide JPEG) or a rendition `w{256|512|1200}.{jpg|webp}`. `None` for any
/// other name, or a result that has no files.
pub fn result_file(variant: &str, result_key: Option<&str>, thumb_key: Option<&str>) -> Option<(String, &'static str)> {
    if variant == "result" {
        return result_key.map(|k| (k.to_string(), "image/png"));
    }
    let thumb = thumb_key?;
    if variant == "thumb" {
        return Some((thumb.to_string(), "image/jpeg"));
    }
    let (w, ext) = variant.strip_prefix('w')?.split_once('.')?;
    let width: u32 = w.parse().ok().filter(|w| RENDITION_WIDTHS.contains(w))?;
    let format = [RenditionFormat::Jpeg, RenditionFormat::Webp].into_iter().find(|f| f.ext() == ext)?;
    Some((rendition_key(thumb, width, format), format.mime()))
}

/// Every stored file of a result: the original and each rendition. What deletes, hides or
/// purges a result deletes all of these (a missing one is no error: results made before
/// renditions existed have only the thumbnail).
pub fn result_keys(result_key: Option<&str>, thumb_key: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = result_key.into_iter().map(str::to_string).collect();
    if let Some(thumb) = thumb_key {
        keys.push(thumb.to_string());
        for w in RENDITION_WIDTHS {
            for f in [RenditionFormat::Jpeg, RenditionFormat::Webp] {
                let k = rendition_key(thumb, w, f);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_names_map_to_keys() {
        let (r, t) = (Some("results/u/j/0.png"), Some("results/u/j/0-w512.jpg"));
        assert_eq!(result_file("result", r, t), Some(("results/u/j/0.png".into(), "image/png")));
        assert_eq!(result_file("thumb", r, t), Some(("results/u/j/0-w512.jpg".into(), "image/jpeg")));
        assert_eq!(result_file("w1200.webp", r, t), Some(("results/u/j/0-w1200.webp".into(), "image/webp")));
        assert_eq!(result_file("w256.jpg", r, t), Some(("results/u/j/0-w256.jpg".into(), "image/jpeg")));
        for bad in ["w300.jpg", "w256.gif", "w.jpg", "upload", "../x", "w256"] {
            assert_eq!(result_file(bad, r, t), None, "{bad}");
        }
        assert_eq!(result_keys(r, t).len(), 7, "original + 3 widths x 2 formats");
    }
}

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
