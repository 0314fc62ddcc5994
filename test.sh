#!/usr/bin/env bash
# The second command: runs every test — unit and integration tests on SQLite and on
# PostgreSQL (DARKROOM_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test; a fresh
# database is made per test), the crash test, then the browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-tools.sh --test
scripts/build-site.sh
cargo build -p server
./target/debug/darkroom fetch-models
cargo test --workspace --exclude frontend
scripts/e2e.sh
