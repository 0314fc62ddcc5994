# Shared by the API benchmarks (sourced, not run): builds the server, makes a fresh database
# (BENCH_DB=sqlite|postgres) with an administrator holding a billion credits and an API key
# whose secret the script knows, starts `darkroom serve` on BENCH_PORT and removes it all on
# exit. Before sourcing, set PROFILE, PORT, PGDB and export any extra DARKROOM_* settings.
# After: BIN, WORK, BASE, USER_ID, SECRET, MODELS, sql (runs SQL on the database), SERVER.
command -v sqlite3 >/dev/null || apt-get install -y -q sqlite3 >/dev/null
DB=${BENCH_DB:-sqlite}
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build -q --profile "$PROFILE" -p server --bin darkroom # BENCH_NO_BUILD: the binary built before
BIN=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/darkroom
MODELS=${DARKROOM_MODELS_DIR:-$PWD/data/models}
[ -f "$MODELS/samples/chelsea.png" ] || "$BIN" fetch-models >/dev/null

WORK=$(mktemp -d /tmp/darkroom-bench.XXXXXX)
export DARKROOM_DATA_DIR="$WORK" DARKROOM_ADDR="127.0.0.1:$PORT" DARKROOM_RENDER_PREVIEWS=false \
  DARKROOM_MODELS_DIR="$MODELS" DARKROOM_API_KEY_RATE_PER_MIN=100000000 DARKROOM_API_IP_RATE_PER_MIN=100000000 RUST_LOG=${RUST_LOG:-warn}
. bench/db.sh
fresh_db "$WORK"
. bench/seed-member.sh
seed_member

"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
bench_cleanup() {
  kill "$SERVER" ${BENCH_ALSO_KILL:-} 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
  if [ "$DB" = postgres ]; then psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" || true; fi
}
trap bench_cleanup EXIT
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT"
