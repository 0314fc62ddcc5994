//! `darkroom-wasm-split <input.wasm> <out dir> <main module out>`: splits the browser bundle
//! at its split points (Leptos' `#[lazy_route]` and `#[lazy]`, which mark them through
//! `wasm_split_helpers`) with `wasm_split_cli_support`, the library cargo-leptos uses for its
//! `--split`.
//!
//! Writes into `<out dir>`: one `.wasm` per chunk, the loader `__wasm_split.js` (it imports
//! `./darkroom.js`, the main module wasm-bindgen makes), and `__wasm_split_manifest.json`: for
//! each split point, the chunks it needs (what Leptos would preload; the app does not use it
//! yet, see `app/src/routes.rs`). The main module goes to
//! `<main module out>`, for wasm-bindgen (`--keep-lld-exports --no-demangle`).
//!
//! The input must be linked with `-Clink-args=--emit-relocs` (scripts/build-site.sh).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, main_out] = args.as_slice() else {
        return Err("usage: darkroom-wasm-split <input.wasm> <out dir> <main module out>".into());
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
        opts
    })
    .map_err(|e| format!("{e:?}"))?;
    std::fs::write(out_dir.join("__wasm_split_manifest.json"), serde_json::to_string_pretty(&split.prefetch_map)?)?;
    eprintln!("split into {} chunks", split.split_modules.len());
    Ok(())
}
