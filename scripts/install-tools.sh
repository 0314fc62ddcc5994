#!/usr/bin/env bash
# Installs what building and testing Darkroom needs and the machine lacks. Idempotent and
# quick when everything is there. Sources: rustup, crates.io, Debian packages, npm.
#   --test  also the browser-test tools (Debian's chromium, playwright-core from npm)
set -euo pipefail
cd "$(dirname "$0")/.."
WASM_BINDGEN_VERSION=0.2.130   # must equal the workspace's pinned wasm-bindgen

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # No --locked: the tool's own lock file names a yanked crate.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
need_apt=()
command -v python3 > /dev/null || need_apt+=(python3 python3-pip python3-venv)
# Debian's python3 makes virtual environments only with python3-venv (scripts/schemathesis.sh).
if command -v python3 > /dev/null && ! python3 -c 'import ensurepip' 2> /dev/null; then
  need_apt+=(python3-venv)
fi
command -v curl > /dev/null || need_apt+=(curl)
# tools/wasm-split: the patched library is downloaded and patched (below).
command -v patch > /dev/null || need_apt+=(patch)
# The browser bundle: wasm-opt shrinks it (binaryen from npm, below), brotli precompresses it
# (scripts/build-site.sh).
command -v brotli > /dev/null || need_apt+=(brotli)
command -v node > /dev/null || need_apt+=(nodejs npm)
# Video (darkroom_engine::video): Debian's ffmpeg and ffprobe, run as subprocesses.
{ command -v ffmpeg > /dev/null && command -v ffprobe > /dev/null; } || need_apt+=(ffmpeg)
if [ "${1:-}" = "--test" ]; then
  command -v chromium > /dev/null || need_apt+=(chromium)
  # The cluster test and scripts/cluster.sh: nginx in front of the nodes, psql for the database.
  command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
  command -v psql > /dev/null || need_apt+=(postgresql-client)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${need_apt[@]}"
fi
# tools/wasm-split cuts the bundle at its lazy routes (scripts/build-site.sh); reinstalled when
# its source changes. It builds on wasm_split_cli_support 0.2.4 from crates.io (checksum
# pinned) with one patch of ours (tools/wasm-split/patches: the shared chunks grouped by
# route), unpacked into target/tools/src where the tool's [patch] section points.
SPLIT_CRATE=wasm_split_cli_support-0.2.4
SPLIT_SHA256=f6c1f994b196e31969f4cdbe37d051362659567efc0f5c90cb931a8a5cdc530f
SPLIT_SRC="target/tools/src/$SPLIT_CRATE"
SPLIT_PATCH_STAMP="$(sha256sum tools/wasm-split/patches/*.patch | sha256sum | cut -c1-16)"
if [ "$(cat "$SPLIT_SRC/.patched" 2>/dev/null)" != "$SPLIT_PATCH_STAMP" ]; then
  rm -rf "$SPLIT_SRC" && mkdir -p target/tools/src
  curl -fsSL "https://static.crates.io/crates/wasm_split_cli_support/$SPLIT_CRATE.crate" -o "target/tools/src/$SPLIT_CRATE.crate"
  echo "$SPLIT_SHA256  target/tools/src/$SPLIT_CRATE.crate" | sha256sum -c --quiet
  tar xzf "target/tools/src/$SPLIT_CRATE.crate" -C target/tools/src
  for p in tools/wasm-split/patches/*.patch; do patch -s -d "$SPLIT_SRC" -p1 < "$p"; done
  echo "$SPLIT_PATCH_STAMP" > "$SPLIT_SRC/.patched"
fi
SPLIT_STAMP="$(cat tools/wasm-split/Cargo.toml tools/wasm-split/Cargo.lock tools/wasm-split/src/*.rs tools/wasm-split/patches/*.patch | sha256sum | cut -c1-16)"
if [ "$(cat target/tools/wasm-split.stamp 2>/dev/null)" != "$SPLIT_STAMP" ] || [ ! -x target/tools/bin/darkroom-wasm-split ]; then
  cargo install --locked --path tools/wasm-split --root target/tools
  echo "$SPLIT_STAMP" > target/tools/wasm-split.stamp
fi
# binaryen's wasm-opt, pinned, from npm: Debian's (108) corrupts the externref table that
# wasm-bindgen makes for reference types, and the bundle no longer hydrates.
BINARYEN_VERSION=132.0.0
if [ "$(node -p "require('./target/tools/node_modules/binaryen/package.json').version" 2>/dev/null)" != "$BINARYEN_VERSION" ]; then
  npm install --prefix target/tools --no-audit --no-fund --no-save "binaryen@$BINARYEN_VERSION"
fi
if [ "${1:-}" = "--test" ] && { [ ! -d end2end/node_modules/playwright-core ] || [ ! -d end2end/node_modules/openai ] || [ ! -d end2end/node_modules/@seriousme/openapi-schema-validator ]; }; then
  (cd end2end && npm ci --no-audit --no-fund)
fi
