#!/usr/bin/env bash
# The API contract, from outside: schemathesis (PyPI, pinned) against a running server with
# every check, bounded in examples and time. Fails on any mismatch between
# /api/v1/openapi.json and what the server answers (a status, header, body or content type the
# document does not state, valid input refused, invalid input accepted) and on any 5xx.
# Expects the binary and the models (test.sh makes both).
set -euo pipefail
cd "$(dirname "$0")/.."
ST_VERSION=4.32.5
VENV="${DARKROOM_ST_VENV:-$PWD/target/venv-schemathesis}"
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
fi
PORT="${DARKROOM_ST_PORT:-3200}"
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d /tmp/darkroom-st.XXXXXX)"
export DARKROOM_DATA_DIR="$DATA" DARKROOM_MODELS_DIR="${DARKROOM_MODELS_DIR:-$PWD/data/models}"
EMAIL="api-contract@example.com" PASSWORD="contract password 1"
DARKROOM_ADMIN_PASSWORD="$PASSWORD" ./target/debug/darkroom create-admin --email "$EMAIL" --name Contract > /dev/null
# Generous API limits (the fuzzer sends thousands of requests; the limits have their own
# tests) and a short wait for the synchronous OpenAI-shaped endpoints (503 is documented).
DARKROOM_ADDR="127.0.0.1:$PORT" DARKROOM_API_KEY_RATE_PER_MIN=1000000 DARKROOM_API_IP_RATE_PER_MIN=1000000 \
  DARKROOM_API_SYNC_TIMEOUT_SECS=3 DARKROOM_RENDER_PREVIEWS=false DARKROOM_SIGNUP_GRANT=50 \
  ./target/debug/darkroom serve > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
scripts/wait-ready.sh "$BASE" || { tail -20 "$DATA/server.log"; exit 1; }
# A key, made the way a member makes one: sign in, then the API keys form's server function.
JAR="$DATA/cookies"
curl -fsS -c "$JAR" -b "$JAR" -H "Origin: $BASE" -H "Accept: application/json" \
  --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" "$BASE/api/sign_in" > /dev/null
SECRET="$(curl -fsS -c "$JAR" -b "$JAR" -H "Origin: $BASE" -H "Accept: application/json" \
  -d "name=contract&scope_generate=on&scope_read=on&rights=on" "$BASE/api/create_api_key" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')"
echo "schemathesis $ST_VERSION against $BASE (every check)"
timeout 900 "$VENV/bin/st" --config-file scripts/schemathesis.toml run "$BASE/api/v1/openapi.json" --checks all -H "Authorization: Bearer $SECRET" \
  --max-examples "${DARKROOM_ST_EXAMPLES:-30}" --max-time "${DARKROOM_ST_SECONDS:-180}" --seed 20261201 \
  --workers 2 --request-timeout 30 --no-shrink --warnings off ||
  { echo "--- server log"; tail -40 "$DATA/server.log"; exit 1; }
