#!/usr/bin/env bash
# Builds the browser side into target/site: the WASM bundle (frontend crate, `hydrate`) cut
# at its lazy routes into a main module and chunks, bound by wasm-bindgen, and the
# stylesheet. What cargo-leptos `--split` would do, in a few commands, so a fresh machine
# needs only the wasm32 target, the pinned wasm-bindgen-cli and tools/wasm-split
# (scripts/install-tools.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${DARKROOM_WASM_PROFILE:-wasm-release}"
SITE="${DARKROOM_SITE_ROOT:-target/site}"
SPLIT="target/tools/bin/darkroom-wasm-split"
# --emit-relocs: the relocations wasm-split needs to cut the module. (Not `erase_components`,
# which would cut a third more: the server's views must be built the same way or hydration
# fails, and that is a rebuild of every server crate.)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Clink-args=--emit-relocs"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$PROFILE"
dir="$PROFILE"; [ "$PROFILE" = dev ] && dir=debug
rm -rf "$SITE/pkg"
mkdir -p "$SITE/pkg" target/wasm-split
# The chunks, their loader (__wasm_split.js) and the manifest go straight to the site; the
# main module to wasm-bindgen.
# Code shared by several lazy routes goes into the chunk of the first of them in this order
# (tools/wasm-split): the pages a visitor opens from a link or the menu first, so they need
# the fewest requests.
CHUNK_ORDER="share,public,explore,create,item,gallery,dashboard,sign_up,sign_in,pricing"
"$SPLIT" "target/wasm32-unknown-unknown/$dir/frontend.wasm" "$SITE/pkg" target/wasm-split/main.wasm "$CHUNK_ORDER"
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle --out-dir "$SITE/pkg" --out-name darkroom \
  target/wasm-split/main.wasm
WASM="$SITE/pkg/darkroom_bg.wasm"
raw=$(stat -c %s "$WASM")
# Size: binaryen's wasm-opt `-Oz` (pinned, installed by install-tools.sh) on the main module,
# with the features rustc's wasm32 target emits. A dev build skips it.
WASM_OPT="target/tools/node_modules/.bin/wasm-opt"
if [ "$PROFILE" != dev ] && [ -x "$WASM_OPT" ]; then
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
    "$WASM" -o "$WASM.opt"
  mv "$WASM.opt" "$WASM"
  # The chunks: their name section (function names for debuggers) is most of their bytes;
  # stripping it is quick and changes no code (-Oz on top saves little and takes minutes).
  find "$SITE/pkg" -name '*.wasm' ! -name darkroom_bg.wasm -print0 |
    xargs -0 -P "$(nproc)" -I{} "$WASM_OPT" --enable-bulk-memory --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue \
      --strip-debug --strip-producers {} -o {}
elif [ "$PROFILE" != dev ]; then
  echo "wasm-opt not installed (scripts/install-tools.sh): the bundle stays unoptimised"
fi
cp style/main.css "$SITE/pkg/darkroom.css"
cp -r public/. "$SITE/" 2>/dev/null || true
# Precompressed copies for the static file server (brotli and gzip, best compression).
for f in "$SITE"/pkg/*; do
  case "$f" in *.br | *.gz) continue ;; esac
  brotli -q 11 -k -f "$f"
  gzip -9 -k -f -n "$f"
done
chunks=$(find "$SITE/pkg" -name '*.wasm' ! -name darkroom_bg.wasm | wc -l)
echo "site built in $SITE: main wasm $raw → $(stat -c %s "$WASM") bytes, brotli $(stat -c %s "$WASM.br"), js brotli $(stat -c %s "$SITE/pkg/darkroom.js.br"); $chunks chunks, brotli $(cat "$SITE"/pkg/*.wasm.br | wc -c) bytes with the main module"
