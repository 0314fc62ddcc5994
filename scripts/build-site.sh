#!/usr/bin/env bash
# Builds the browser side into target/site: the WASM bundle (frontend crate, `hydrate`) via
# wasm-bindgen, and the stylesheet. What cargo-leptos would do, in two commands, so a fresh
# machine needs only the wasm32 target and the pinned wasm-bindgen-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${DARKROOM_WASM_PROFILE:-wasm-release}"
SITE="${DARKROOM_SITE_ROOT:-target/site}"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$PROFILE"
mkdir -p "$SITE/pkg"
dir="$PROFILE"; [ "$PROFILE" = dev ] && dir=debug
wasm-bindgen --target web --no-typescript --out-dir "$SITE/pkg" --out-name darkroom \
  "target/wasm32-unknown-unknown/$dir/frontend.wasm"
WASM="$SITE/pkg/darkroom_bg.wasm"
raw=$(stat -c %s "$WASM")
# Size: binaryen's wasm-opt `-Oz` (pinned, installed by install-tools.sh), with the features
# rustc's wasm32 target emits. A dev build skips it (it takes a minute or two).
WASM_OPT="target/tools/node_modules/.bin/wasm-opt"
if [ "$PROFILE" != dev ] && [ -x "$WASM_OPT" ]; then
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
    "$WASM" -o "$WASM.opt"
  mv "$WASM.opt" "$WASM"
elif [ "$PROFILE" != dev ]; then
  echo "wasm-opt not installed (scripts/install-tools.sh): the bundle stays unoptimised"
fi
cp style/main.css "$SITE/pkg/darkroom.css"
cp -r public/. "$SITE/" 2>/dev/null || true
# Precompressed copies for the static file server (brotli and gzip, best compression).
for f in "$SITE/pkg/darkroom.js" "$WASM" "$SITE/pkg/darkroom.css"; do
  rm -f "$f.br" "$f.gz"
  brotli -q 11 -k -f "$f"
  gzip -9 -k -f -n "$f"
done
echo "site built in $SITE: wasm $raw → $(stat -c %s "$WASM") bytes, brotli $(stat -c %s "$WASM.br"), js brotli $(stat -c %s "$SITE/pkg/darkroom.js.br")"
