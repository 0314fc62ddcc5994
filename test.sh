#!/usr/bin/env bash
# The second command: runs every test — unit and integration tests on SQLite and on
# PostgreSQL (DARKROOM_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test; a fresh
# database is made per test), the media stories also on S3 (SeaweedFS), the crash test, the API contract (schemathesis against a running
# server), then the browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-tools.sh --test
scripts/build-site.sh
# Build the tests and the binary in one go (one feature resolution, so nothing compiles twice).
cargo test --workspace --exclude frontend --no-run
./target/debug/darkroom fetch-models
# The engine's reference images, made with the Python path on this machine (ONNX Runtime's
# CPU kernels differ between processors: see engine/tests/reference.rs).
PY="$(scripts/pyref.sh)"
"$PY" scripts/make_engine_fixture.py data/models target/engine-fixtures
export DARKROOM_ENGINE_FIXTURES="$PWD/target/engine-fixtures"
# Test databases from earlier runs (each test makes its own) are dropped first.
if command -v psql > /dev/null; then
  PG="${DARKROOM_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
  psql "$PG" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'darkroom_test_%'" 2>/dev/null |
    while read -r db; do psql "$PG" -qc "DROP DATABASE IF EXISTS $db" || true; done
fi
# A real S3 server for the stories that keep media on S3 (scripts/seaweedfs.sh).
export DARKROOM_TEST_S3_ENDPOINT="$(scripts/seaweedfs.sh start)"
trap 'scripts/seaweedfs.sh stop' EXIT
cargo test --workspace --exclude frontend --no-fail-fast
scripts/schemathesis.sh
scripts/e2e.sh
