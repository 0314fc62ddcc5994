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
cp style/main.css "$SITE/pkg/darkroom.css"
cp -r public/. "$SITE/" 2>/dev/null || true
echo "site built in $SITE ($(du -h "$SITE/pkg/darkroom_bg.wasm" | cut -f1) wasm)"
