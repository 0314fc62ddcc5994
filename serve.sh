#!/usr/bin/env bash
# The first command: installs what is missing, fetches the models (pinned, SHA-256 checked),
# builds, migrates the SQLite database in ./data and serves http://127.0.0.1:3000.
# Re-running it is fast: every step skips what is already done.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-tools.sh
scripts/build-site.sh
cargo build -p server
./target/debug/darkroom fetch-models
./target/debug/darkroom migrate
exec ./target/debug/darkroom serve
