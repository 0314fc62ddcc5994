//! `darkroom-wasm-split <input.wasm> <out dir> <main module out> [route,route,...]`: splits
//! the browser bundle at its split points (Leptos' `#[lazy_route]` and `#[lazy]`, which mark
//! them through `wasm_split_helpers`) with `wasm_split_cli_support`, the library cargo-leptos
//! uses for its `--split`, patched (`patches/chunk-groups.patch`) to group the shared chunks
//! by route: code shared by several routes goes into the chunk of the first of them in the
//! given order (the routes a visitor opens first lead; the rest follow in name order), and
//! every route that needs any of a chunk's code loads it. Upstream makes one chunk per
//! distinct set of routes: with Darkroom's 33 lazy routes that was 677 chunks, 143 of them for
//! a share page, and on a mobile network (a round trip of half a second, six requests at a
//! time over HTTP/1.1) the page waited over ten seconds for its code. Grouped, a share page
//! needs two chunks of the same size in all; later routes load a few more, some holding code
//! they do not run. A route is named as in `app/src/routes.rs` in snake case (`share`,
//! `admin_members`); without the list, the chunks are upstream's.
//!
//! Writes into `<out dir>`: one `.wasm` per chunk, the loader `__wasm_split.js` (it imports
//! `./darkroom.js`, the main module wasm-bindgen makes), and `__wasm_split_manifest.json`: for
//! each split point, the chunks it needs (which a page on a lazy route preloads with
//! `<link rel="preload">`: `server/src/bundle.rs`). The main module goes to
//! `<main module out>`, for wasm-bindgen (`--keep-lld-exports --no-demangle`).
//!
//! The input must be linked with `-Clink-args=--emit-relocs` (scripts/build-site.sh).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, out_dir, main_out, order) = match args.as_slice() {
        [input, out_dir, main_out] => (input, out_dir, main_out, None),
        // `#[lazy_route]` names a route's split point `__<route>_view_<hash>`.
        [input, out_dir, main_out, routes] => (input, out_dir, main_out, Some(routes.split(',').map(|r| format!("__{}_view_", r.trim())).collect())),
        _ => return Err("usage: darkroom-wasm-split <input.wasm> <out dir> <main module out> [route,route,...]".into()),
    };
    let wasm = std::fs::read(input)?;
    let out_dir = Path::new(out_dir);
    std::fs::create_dir_all(out_dir)?;
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&wasm);
        opts.output_dir = out_dir;
        opts.main_out_path = Path::new(main_out);
        opts.main_module = "./darkroom.js";
        opts.link_name = "./__wasm_split.js";
        opts.chunk_order = order;
        opts
    })
    .map_err(|e| format!("{e:?}"))?;
    std::fs::write(out_dir.join("__wasm_split_manifest.json"), serde_json::to_string_pretty(&split.prefetch_map)?)?;
    eprintln!("split into {} chunks", split.split_modules.len());
    Ok(())
}
