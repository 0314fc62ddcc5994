#!/usr/bin/env bash
# Explore under load (issue 5): seeds BENCH_ITEMS (default 100,000) public items, serves them
# with the real binary, and measures with wrk on loopback, all in one run of one server:
#   hello      GET /healthz              (a raw axum route behind the same middleware)
#   explore    GET /explore              (SSR HTML, first page of 24)
#   deep       GET /explore?after=<id>   (SSR HTML, a keyset page 90% of the way down)
#   top        GET /explore?sort=top     (SSR HTML, likes of the last 7 days)
#   *_r        the same three with a cookie of no session, which skips the signed-out page
#              cache (server/src/explore_cache.rs): every request rendered, as for a visitor
#   *_m        Explore and Top signed in as a member (a real session from /api/sign_in)
#   feed       POST /api/explore         (the feed as JSON, the server function's endpoint)
# Prints req/s and p99 per target and Explore's share of hello's req/s
# (goal: explore ≥ 30% of hello, p99 ≤ 25 ms).
#
# Settings: BENCH_DB=sqlite|postgres (default sqlite; postgres uses 127.0.0.1:5432),
# BENCH_PROFILE=release|dev (default release), BENCH_SECS (10), BENCH_CONNS (16),
# BENCH_THREADS (1: the server gets the other core), BENCH_PORT (3300).
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
N=${BENCH_ITEMS:-100000}
DB=${BENCH_DB:-sqlite}
PROFILE=${BENCH_PROFILE:-release}
SECS=${BENCH_SECS:-10}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_THREADS:-1}
PORT=${BENCH_PORT:-3300}

command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build -q --profile "$PROFILE" -p server --bin darkroom # BENCH_NO_BUILD: the binary built before
BIN=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/darkroom

WORK=$(mktemp -d /tmp/darkroom-bench.XXXXXX)
export DARKROOM_DATA_DIR="$WORK" DARKROOM_ADDR="127.0.0.1:$PORT" DARKROOM_WORKERS=0 \
  DARKROOM_RENDER_PREVIEWS=false DARKROOM_MODELS_DIR="$WORK/no-models" RUST_LOG=warn
PGDB=darkroom_bench
. bench/db.sh
fresh_db "$WORK"
DARKROOM_ADMIN_PASSWORD="bench password 1" "$BIN" create-admin --email bench@example.com >/dev/null
USER_ID=$(echo "SELECT id FROM users WHERE email = 'bench@example.com';" | sql)

# Items: ids sort like the real time-ordered ones; 26 styles in turn; 1024x768 results;
# every 50th item liked (by the one member) in the last day, so `top` has an order.
echo "seeding $N public items ($DB)..." >&2
SEED_START=$(date +%s)
NOW_MS=$(($(date +%s) * 1000))
if [ "$DB" = postgres ]; then
  sql <<SQL
INSERT INTO uploads (id, user_id, object_key, content_hash, mime, bytes, width, height, rights_confirmed_at, created_at)
VALUES ('bench-upload', '$USER_ID', 'uploads/bench.png', '00', 'image/png', 1, 1024, 768, $NOW_MS, $NOW_MS);
INSERT INTO jobs (id, user_id, upload_id, mode, params, style, cost, status, progress, result_key, thumb_key, result_hash,
                  result_width, result_height, visibility, idempotency_key, created_at, finished_at, prompt)
SELECT lpad(to_hex(16777216 + i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), '$USER_ID', 'bench-upload',
       'image_to_image', '{"styles":[[' || (i % 26) || ',1.0]],"strength":1.0,"preserve_color":false}', i % 26, 10,
       'succeeded', 100, 'results/bench/' || i || '/0.png', 'results/bench/' || i || '/0-w512.jpg', '00', 1024, 768,
       'public', 'bench-' || i, $NOW_MS - ($N - i) * 1000, $NOW_MS - ($N - i) * 1000, 'Bench item ' || i
FROM generate_series(1, $N) AS i;
INSERT INTO likes (job_id, user_id, created_at)
SELECT id, '$USER_ID', $NOW_MS - 3600000 FROM jobs WHERE idempotency_key LIKE 'bench-%'
  AND CAST(substr(idempotency_key, 7) AS INTEGER) % 50 = 0;
ANALYZE;
SQL
else
  sql <<SQL
PRAGMA journal_mode = WAL;
INSERT INTO uploads (id, user_id, object_key, content_hash, mime, bytes, width, height, rights_confirmed_at, created_at)
VALUES ('bench-upload', '$USER_ID', 'uploads/bench.png', '00', 'image/png', 1, 1024, 768, $NOW_MS, $NOW_MS);
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $N)
INSERT INTO jobs (id, user_id, upload_id, mode, params, style, cost, status, progress, result_key, thumb_key, result_hash,
                  result_width, result_height, visibility, idempotency_key, created_at, finished_at, prompt)
SELECT printf('%08x-0000-7000-8000-%012x', 16777216 + i, i), '$USER_ID', 'bench-upload', 'image_to_image',
       '{"styles":[[' || (i % 26) || ',1.0]],"strength":1.0,"preserve_color":false}', i % 26, 10, 'succeeded', 100,
       'results/bench/' || i || '/0.png', 'results/bench/' || i || '/0-w512.jpg', '00', 1024, 768, 'public', 'bench-' || i,
       $NOW_MS - ($N - i) * 1000, $NOW_MS - ($N - i) * 1000, 'Bench item ' || i
FROM seq;
INSERT INTO likes (job_id, user_id, created_at)
SELECT id, '$USER_ID', $NOW_MS - 3600000 FROM jobs WHERE idempotency_key LIKE 'bench-%'
  AND CAST(substr(idempotency_key, 7) AS INTEGER) % 50 = 0;
ANALYZE;
SQL
fi
DEEP=$(echo "SELECT id FROM jobs WHERE visibility = 'public' ORDER BY id DESC LIMIT 1 OFFSET $((N * 9 / 10));" | sql)
echo "seeded in $(($(date +%s) - SEED_START)) s; deep cursor $DEEP" >&2

"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"; [ "$DB" = postgres ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

BASE="http://127.0.0.1:$PORT"
# The pages really hold the items (a page of errors would be fast and wrong).
for path in "/explore" "/explore?after=$DEEP" "/explore?sort=top"; do
  curl -fs "$BASE$path" >"$WORK/page.html" || true
  tiles=$(grep -o 'data-job-id=' "$WORK/page.html" | wc -l || true)
  [ "$tiles" -eq 24 ] || { echo "$path renders $tiles items, not 24:" >&2; tail -c 1500 "$WORK/page.html" >&2; tail -5 "$WORK/server.log" >&2; exit 1; }
done
FEED_LUA="$WORK/feed.lua"
cat >"$FEED_LUA" <<'LUA'
wrk.method = "POST"
wrk.body = "sort=&style=&after="
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
curl -fs -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'sort=&style=&after=' "$BASE/api/explore" \
  | grep -q '"items":\[{' || { echo "the feed JSON holds no items" >&2; exit 1; }

run() { # name path [wrk args...]
  local name=$1 path=$2; shift 2
  wrk -t"$THREADS" -c"$CONNS" -d2s "$@" "$BASE$path" >/dev/null # warm-up
  local out; out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$@" "$BASE$path")
  local rps p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf "%-10s %-40s %10s %10s  %s\n" "$name" "${path:0:40}" "$rps" "$p99" "$errors"
  eval "RPS_$name=$rps"
}
echo "Darkroom Explore benchmark: $N public items, $DB, profile $PROFILE, wrk -t$THREADS -c$CONNS -d${SECS}s, $(nproc) cores"
printf "%-10s %-40s %10s %10s\n" target path "req/s" p99
run hello /healthz
run explore /explore
run deep "/explore?after=$DEEP"
run top "/explore?sort=top"
# The same pages rendered on every request: a session cookie bypasses the signed-out cache.
run explore_r /explore -H "Cookie: darkroom_session=bench"
run deep_r "/explore?after=$DEEP" -H "Cookie: darkroom_session=bench"
run top_r "/explore?sort=top" -H "Cookie: darkroom_session=bench"
# A member really signed in (session row, member lookup, their likes marked): the pages as
# members see them.
curl -fs -c "$WORK/jar" -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode 'email=bench@example.com' --data-urlencode 'password=bench password 1' "$BASE/api/sign_in"
SESSION=$(awk '$6 == "darkroom_session" { print $7 }' "$WORK/jar")
[ -n "$SESSION" ] || { echo "sign-in gave no session cookie" >&2; exit 1; }
curl -fs -H "Cookie: darkroom_session=$SESSION" "$BASE/explore" | grep -q 'bench@example.com\|Sign out\|Abmelden' \
  || { echo "the session cookie does not sign in" >&2; exit 1; }
run explore_m /explore -H "Cookie: darkroom_session=$SESSION"
run top_m "/explore?sort=top" -H "Cookie: darkroom_session=$SESSION"
run feed /api/explore -s "$FEED_LUA"
awk -v e="$RPS_explore" -v d="$RPS_deep" -v h="$RPS_hello" -v er="$RPS_explore_r" -v tr="$RPS_top_r" -v em="$RPS_explore_m" -v tm="$RPS_top_m" \
  'BEGIN { printf "explore/hello %.0f%%, deep/hello %.0f%% (goal >= 30%%); rendered every time: explore %.1f%%, top %.1f%%; signed in: explore %.1f%%, top %.1f%%\n", 100 * e / h, 100 * d / h, 100 * er / h, 100 * tr / h, 100 * em / h, 100 * tm / h }'
