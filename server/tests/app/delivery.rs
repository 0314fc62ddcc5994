//! How the browser bundle and pages travel: the bundle under its build id, cached for a year,
//! precompressed (brotli, gzip) copies that match their originals; HTML and JSON compressed on
//! the fly.

use std::io::Read;

use darkroom_store::Backend;
use server::bundle::{Bundle, FILES, IMMUTABLE};

use super::spawn_app;

fn brotli_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &brotli::enc::BrotliEncoderParams::default()).unwrap();
    out
}

fn brotli_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &data[..], &mut out).unwrap();
    out
}

fn gzip_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

/// A site folder with a small bundle and its precompressed copies, as build-site.sh lays it.
fn fake_site() -> std::path::PathBuf {
    let site = std::env::temp_dir().join(format!("darkroom-site-{}", darkroom_store::new_id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    for name in FILES {
        let body = format!("/* {name} */ {}", "export function hydrate() { return 42; } ".repeat(40));
        let path = site.join("pkg").join(name);
        std::fs::write(&path, &body).unwrap();
        std::fs::write(path.with_file_name(format!("{name}.br")), brotli_encode(body.as_bytes())).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
        std::fs::write(path.with_file_name(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    }
    site
}

/// A node serving the site folder `site`, without workers, and the bundle's build id.
async fn serve_site(b: Backend, site: &std::path::Path) -> (super::TestApp, String) {
    let id = Bundle::open(site).id;
    let s = site.to_path_buf();
    let app = spawn_app(b, move |c| {
        c.workers = 0;
        c.site_root = s;
    })
    .await;
    (app, id)
}

pub async fn bundle_is_versioned_precompressed_and_immutable(b: Backend) {
    let site = fake_site();
    let (app, id) = serve_site(b, &site).await;
    let http = reqwest::Client::new();
    let home = http.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    for file in ["darkroom.js", "darkroom_bg.wasm", "darkroom.css"] {
        assert!(home.contains(&format!("/pkg/{id}/{file}")), "the page links {file} under the build id {id}");
    }
    for name in FILES {
        let original = std::fs::read(site.join("pkg").join(name)).unwrap();
        let url = format!("{}/pkg/{id}/{name}", app.base);
        for (accept, encoding) in [("br", Some("br")), ("gzip", Some("gzip")), ("gzip, deflate, br", Some("br")), ("identity", None)] {
            let r = http.get(&url).header("accept-encoding", accept).send().await.unwrap();
            assert_eq!(r.status(), 200, "{name} ({accept})");
            assert_eq!(r.headers()["cache-control"], IMMUTABLE, "{name}");
            let got = r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
            assert_eq!(got.as_deref(), encoding, "{name} asked with {accept}");
            let body = r.bytes().await.unwrap();
            let plain = match encoding {
                Some("br") => brotli_decode(&body),
                Some("gzip") => gzip_decode(&body),
                _ => body.to_vec(),
            };
            assert_eq!(plain, original, "{name} ({accept}) is the file");
        }
        // Without the current id: the file, but never cached past the next deploy.
        for stale in [format!("{}/pkg/{name}", app.base), format!("{}/pkg/0123456789abcdef/{name}", app.base)] {
            let r = http.get(&stale).send().await.unwrap();
            assert_eq!((r.status().as_u16(), r.headers()["cache-control"].to_str().unwrap()), (200, "no-cache"), "{stale}");
        }
    }
    // Pages and JSON compressed on the fly for clients that accept it.
    let r = http.get(format!("{}/explore", app.base)).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string())), (200, Some("br".into())));
    assert!(String::from_utf8(brotli_decode(&r.bytes().await.unwrap())).unwrap().contains("</html>"));
    let r = http.get(format!("{}/api/v1/openapi.json", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string()), Some("gzip".into()));
    let doc: serde_json::Value = serde_json::from_slice(&gzip_decode(&r.bytes().await.unwrap())).unwrap();
    assert!(doc["openapi"].is_string());
    std::fs::remove_dir_all(&site).ok();
}

/// The bundle build-site.sh made (when built): the main module and the lazy routes' chunks,
/// and each file's `.br` and `.gz` is its original.
#[test]
fn built_precompressed_files_match_their_originals() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    if !pkg.join("darkroom_bg.wasm").exists() {
        println!("no site built at {}; scripts/build-site.sh makes it (test.sh runs it first)", pkg.display());
        return;
    }
    let names = Bundle::files(&pkg);
    for name in FILES {
        assert!(names.iter().any(|n| n == name), "{name} built");
    }
    assert!(names.iter().any(|n| n.ends_with(".wasm") && n != "darkroom_bg.wasm"), "the lazy routes' chunks built: {names:?}");
    for name in &names {
        let original = std::fs::read(pkg.join(name)).unwrap();
        let br = std::fs::read(pkg.join(format!("{name}.br"))).unwrap_or_else(|_| panic!("{name}.br made"));
        let gz = std::fs::read(pkg.join(format!("{name}.gz"))).unwrap_or_else(|_| panic!("{name}.gz made"));
        assert_eq!(brotli_decode(&br), original, "{name}.br");
        assert_eq!(gzip_decode(&gz), original, "{name}.gz");
        println!("{name}: {} bytes, brotli {}, gzip {}", original.len(), br.len(), gz.len());
    }
}

on_both!(bundle_is_versioned_precompressed_and_immutable, lazy_pages_preload_their_few_chunks);

/// A page on a lazy route lists its chunks in its `<head>` as preloads (with the request's CSP
/// nonce as `crossorigin`, which the browser reads as `anonymous`, the loader's `fetch` mode),
/// so they download beside the main module; and code shared by routes is grouped, so a page
/// a visitor opens from a link needs a few files, not a hundred. Runs on the site
/// build-site.sh made (test.sh builds it first).
pub async fn lazy_pages_preload_their_few_chunks(b: Backend) {
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    let manifest = site.join("pkg").join(server::bundle::SPLIT_MANIFEST);
    if !manifest.exists() {
        println!("no site built at {}; scripts/build-site.sh makes it (test.sh runs it first)", site.display());
        return;
    }
    let chunks: std::collections::HashMap<String, Vec<String>> = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let route = |name: &str| chunks.iter().find(|(k, _)| k.starts_with(&format!("__{name}_view_"))).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("{name} is a lazy route"));
    for (name, at_most) in [("share", 3), ("public", 3), ("explore", 4), ("create", 6)] {
        let files = route(name);
        assert!(!files.is_empty() && files.len() <= at_most, "{name} loads {} files: {files:?}", files.len());
    }
    let (app, id) = serve_site(b, &site).await;
    let r = reqwest::get(format!("{}/explore", app.base)).await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("the page's CSP has a nonce").to_string();
    let html = r.text().await.unwrap();
    let head = html.split("</head>").next().unwrap();
    let preloads: Vec<&str> = head.split("<link").filter(|l| l.contains(r#"as="fetch""#) && l.contains("/pkg/")).collect();
    let explore = route("explore");
    for file in &explore {
        let link = preloads
            .iter()
            .find(|l| l.contains(&format!(r#"href="/pkg/{id}/{file}.wasm""#)))
            .unwrap_or_else(|| panic!("{file} preloaded in the head: {head}"));
        assert!(link.contains(r#"rel="preload""#) && link.contains(&format!(r#"crossorigin="{nonce}""#)), "{link}");
    }
    // Only this page's chunks (the main module's own preload aside).
    let own: Vec<&&str> = preloads.iter().filter(|l| !l.contains("darkroom_bg.wasm")).collect();
    assert_eq!(own.len(), explore.len(), "{own:?}");
    // The home page is in the main module: no chunk to preload.
    let home = reqwest::get(format!("{}/", app.base)).await.unwrap().text().await.unwrap();
    let home_head = home.split("</head>").next().unwrap();
    assert!(!home_head.split("<link").any(|l| l.contains(r#"as="fetch""#) && !l.contains("darkroom_bg.wasm")), "home preloads no chunk: {home_head}");
    let r = reqwest::get(format!("{}/pkg/{id}/{}.wasm", app.base, explore[0])).await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["cache-control"].to_str().unwrap()), (200, IMMUTABLE), "the preloaded chunk is served");
}
