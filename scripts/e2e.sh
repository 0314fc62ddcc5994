#!/usr/bin/env bash
# End-to-end tests: serves the built app on a fresh SQLite database and runs the Chromium
# tests in end2end/ against it (all, or the files given as arguments). Expects the binary
# and site built (test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${DARKROOM_E2E_PORT:-3100}"
DATA="$(mktemp -d /tmp/darkroom-e2e.XXXXXX)"
MODELS="${DARKROOM_MODELS_DIR:-$PWD/data/models}"
mkdir -p "$DATA" && cp -r "${DARKROOM_DATA_DIR:-data}/previews" "$DATA/" 2>/dev/null || true
# A moderator account for the moderation tests (the CLI's create-admin, as an operator would).
export DARKROOM_E2E_MOD_EMAIL="moderator@example.com" DARKROOM_E2E_MOD_PASSWORD="moderator password 1"
DARKROOM_DATA_DIR="$DATA" DARKROOM_MODELS_DIR="$MODELS" DARKROOM_ADMIN_PASSWORD="$DARKROOM_E2E_MOD_PASSWORD" \
  ./target/debug/darkroom create-admin --email "$DARKROOM_E2E_MOD_EMAIL" --name Moderator > /dev/null
# Payments: a local stand-in for Stripe's API (end2end/standin/stripe.mjs) on the next port.
STRIPE_PORT=$((PORT + 1))
# Mail goes to the outbox folder; the tests read it (verification, reset, export links).
export DARKROOM_E2E_OUTBOX="$DATA/outbox"
export DARKROOM_E2E_STRIPE_URL="http://127.0.0.1:$STRIPE_PORT" DARKROOM_E2E_STRIPE_WEBHOOK_SECRET="whsec_e2e"
node end2end/standin/stripe.mjs "$STRIPE_PORT" sk_test_e2e > "$DATA/stripe-standin.log" 2>&1 &
STANDIN=$!
# Text→image: a local stand-in for OpenAI Images (end2end/standin/openai.mjs) two ports up.
OPENAI_PORT=$((PORT + 2))
export DARKROOM_E2E_OPENAI_URL="http://127.0.0.1:$OPENAI_PORT"
node end2end/standin/openai.mjs "$OPENAI_PORT" sk-e2e-openai > "$DATA/openai-standin.log" 2>&1 &
OPENAI_STANDIN=$!
DARKROOM_DATA_DIR="$DATA" DARKROOM_MODELS_DIR="$MODELS" DARKROOM_ADDR="127.0.0.1:$PORT" \
  DARKROOM_STRIPE_SECRET_KEY=sk_test_e2e DARKROOM_STRIPE_WEBHOOK_SECRET="$DARKROOM_E2E_STRIPE_WEBHOOK_SECRET" \
  DARKROOM_STRIPE_API_BASE="$DARKROOM_E2E_STRIPE_URL" DARKROOM_AUTH_RATE_PER_IP_PER_HOUR=10000 DARKROOM_AUTH_RATE_PER_ACCOUNT=100 DARKROOM_PAGE_RATE_PER_MIN=100000 \
  DARKROOM_OPENAI_API_KEY=sk-e2e-openai DARKROOM_OPENAI_API_BASE="$DARKROOM_E2E_OPENAI_URL" \
  ./target/debug/darkroom serve > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER $STANDIN $OPENAI_STANDIN 2>/dev/null || true' EXIT
scripts/wait-ready.sh "http://127.0.0.1:$PORT" || { tail -20 "$DATA/server.log"; exit 1; }
(cd end2end && [ -d node_modules/playwright-core ] && [ -d node_modules/openai ] && [ -d node_modules/@seriousme/openapi-schema-validator ] || npm ci --no-audit --no-fund)
# A hung browser must not hang CI: the whole suite gets 20 minutes.
# Arguments name test files to run instead of all (e.g. tests/create.test.mjs).
export DARKROOM_E2E_URL="http://127.0.0.1:$PORT" DARKROOM_SAMPLES="$MODELS/samples"
if [ $# -gt 0 ]; then
  cd end2end && timeout 1200 node --test --test-concurrency=1 "$@" || { tail -50 "$DATA/server.log"; exit 1; }
else
  cd end2end && timeout 1200 npm test || { tail -50 "$DATA/server.log"; exit 1; }
fi
