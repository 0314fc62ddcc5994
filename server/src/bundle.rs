//! The browser bundle (`<site>/pkg`: `darkroom.js`, `darkroom_bg.wasm`, `darkroom.css`, and
//! the `.br`/`.gz` copies `scripts/build-site.sh` makes) and how it is served.
//!
//! Pages link the bundle under `/pkg/<build id>/…`, where the build id is a hash of the
//! three files' contents ([`Bundle::open`]), so a deploy changes every URL and the files can
//! be cached for a year: `Cache-Control: public, max-age=31536000, immutable`. A browser
//! that asks with `Accept-Encoding: br` (or `gzip`) gets the precompressed copy with its
//! `Content-Encoding`. A URL under `/pkg/` without the current id (an old page after a
//! deploy, or a hand-written link) gets the current file with `Cache-Control: no-cache`, so it
//! is never cached past the next deploy.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The files every build has (the main module, its JavaScript, the stylesheet); the build id
/// covers these and every other file of the folder ([`Bundle::files`]: the lazy routes'
/// chunks, their loader and manifest).
pub const FILES: [&str; 3] = ["darkroom.js", "darkroom_bg.wasm", "darkroom.css"];

/// The lazy routes' loader (`tools/wasm-split` writes it beside the chunks).
pub const SPLIT_LOADER: &str = "__wasm_split.js";

/// For each split point, the chunks it needs (`tools/wasm-split` writes it).
pub const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// `Cache-Control` of a file under the current build id.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The bundle of one build.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// 16 hex digits of SHA-256 over [`FILES`] (each prefixed by its length), or `dev` when
    /// none of them exists (a server built without the site).
    pub id: String,
    /// The `pkg` folder.
    pub dir: PathBuf,
    /// Its files, with the precompressed copies preferred (made once).
    files: ServeDir,
}

impl Bundle {
    /// Reads the bundle in `<site_root>/pkg` and hashes it (a few milliseconds for an 8 MB
    /// WASM file; done once at start).
    pub fn open(site_root: &Path) -> Self {
        let dir = site_root.join("pkg");
        let mut hash = Sha256::new();
        let names = Self::files(&dir);
        for name in &names {
            let bytes = std::fs::read(dir.join(name)).unwrap_or_default();
            hash.update((name.len() as u64).to_le_bytes());
            hash.update(name.as_bytes());
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
        let found = FILES.iter().any(|f| names.iter().any(|n| n == f));
        let id = if found { hex::encode(&hash.finalize()[..8]) } else { "dev".to_string() };
        let files = ServeDir::new(&dir).precompressed_br().precompressed_gzip();
        Self { id, dir, files }
    }

    /// The bundle's files in `dir` by name, sorted, without the precompressed copies
    /// (`.br`, `.gz`, which follow their originals).
    pub fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.ends_with(".br") && !n.ends_with(".gz"))
            .collect();
        names.sort();
        names
    }

    /// The split manifest as Leptos reads it, for the server to provide as context: a page
    /// on a lazy route then lists its chunks as `<link rel="preload" as="fetch">` in its
    /// `<head>` (`leptos_integration_utils`), so they download beside the main module instead
    /// of after it. `None` without a split build (or with a manifest that does not parse).
    ///
    /// Provided by the server rather than found by Leptos' `HydrationScripts`, which looks
    /// for the file under `site_pkg_dir` (`pkg/<id>/…`, a URL path here, not a folder). The
    /// links carry the request's CSP nonce as their `crossorigin` value, which HTML reads as
    /// `anonymous`: the same mode and credentials as the loader's `fetch`, so the browser
    /// reuses the preloaded response.
    pub fn split_manifest(&self) -> Option<leptos::WasmSplitManifest> {
        let text = std::fs::read_to_string(self.dir.join(SPLIT_MANIFEST)).ok()?;
        let chunks: std::collections::HashMap<String, Vec<String>> = serde_json::from_str(&text).ok()?;
        Some(leptos::WasmSplitManifest(leptos::reactive::owner::ArcStoredValue::new((format!("/{}", self.pkg_path()), chunks, SPLIT_LOADER.to_string()))))
    }

    /// The URL path of the bundle's folder without the leading slash (`pkg/<id>`): Leptos'
    /// `site_pkg_dir`.
    pub fn pkg_path(&self) -> String {
        format!("pkg/{}", self.id)
    }
}

/// 16 lowercase hex digits, or `dev`: what [`Bundle::open`] makes.
fn is_build_id(s: &str) -> bool {
    s == "dev" || (s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// `GET /pkg/{*path}`: the file, precompressed where the browser accepts it, immutable
/// under the current build id and `no-cache` otherwise.
pub async fn serve(State(bundle): State<Bundle>, req: Request) -> Response {
    let path = req.uri().path().strip_prefix("/pkg/").unwrap_or("").to_string();
    let (rest, current) = match path.split_once('/') {
        Some((id, rest)) if id == bundle.id => (rest.to_string(), true),
        // Another build's id (a page rendered before a deploy): today's file, not cached.
        Some((id, rest)) if is_build_id(id) => (rest.to_string(), false),
        _ => (path, false),
    };
    let (mut parts, body) = req.into_parts();
    parts.uri = match format!("/{rest}").parse::<Uri>() {
        Ok(u) => u,
        Err(_) => return axum::http::StatusCode::NOT_FOUND.into_response(),
    };
    let mut resp = match bundle.files.clone().oneshot(Request::from_parts(parts, body)).await {
        Ok(r) => r.map(Body::new),
        Err(never) => match never {},
    };
    if resp.status().is_success() || resp.status() == axum::http::StatusCode::NOT_MODIFIED {
        let cache = if current { IMMUTABLE } else { "no-cache" };
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_id_changes_with_any_file() {
        let dir = std::env::temp_dir().join(format!("darkroom-bundle-{}", darkroom_store::new_id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        assert_eq!(Bundle::open(&dir).id, "dev", "no bundle built");
        for name in FILES {
            std::fs::write(dir.join("pkg").join(name), name).unwrap();
        }
        let first = Bundle::open(&dir).id;
        assert_eq!(first.len(), 16);
        assert_eq!(Bundle::open(&dir).id, first, "stable for the same files");
        let mut seen = vec![first];
        for name in FILES {
            std::fs::write(dir.join("pkg").join(name), format!("{name} v2")).unwrap();
            let id = Bundle::open(&dir).id;
            assert!(!seen.contains(&id), "{name} changed, so must the id");
            seen.push(id);
        }
        // A lazy route's chunk: added, then changed.
        for body in ["chunk", "chunk v2"] {
            std::fs::write(dir.join("pkg").join("split_1.wasm"), body).unwrap();
            let id = Bundle::open(&dir).id;
            assert!(!seen.contains(&id), "the chunk ({body}) counts");
            seen.push(id);
        }
        // Precompressed copies follow their originals and do not count.
        std::fs::write(dir.join("pkg").join("split_1.wasm.br"), "x").unwrap();
        assert_eq!(&Bundle::open(&dir).id, seen.last().unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
