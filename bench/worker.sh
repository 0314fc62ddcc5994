#!/usr/bin/env bash
# The engine's throughput and the web side's latency while it works (issue 19, part 4), with
# the real binary and the real 26-style network, in one run:
#   cold start    process start → first 200 from /readyz (polled every 10 ms), per setup
#   jobs/min      BENCH_JOBS (12) generations of a 1024×1024 photo (bench/make_photos.py),
#                 submitted through the API at once, timed from the first claim to the last
#                 success, with 1 and 2 in-process workers (DARKROOM_WORKERS) and with 1
#                 separate `darkroom worker` process beside a web node without workers
#   home p99      GET / (the home page, rendered per request) with wrk, first with the worker
#                 idle (the baseline), then while it renders
# All setups share DARKROOM_ENGINE_THREADS (default: every core) as the engine's thread budget.
#
# Settings: BENCH_DB=sqlite|postgres (default sqlite), BENCH_PROFILE=release|dev (release),
# BENCH_JOBS (12), BENCH_CONNS (4), BENCH_PORT (3302).
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
PROFILE=${BENCH_PROFILE:-release}
JOBS=${BENCH_JOBS:-12}
CONNS=${BENCH_CONNS:-4}
PORT=${BENCH_PORT:-3302}
DB=${BENCH_DB:-sqlite}
PGDB=darkroom_bench_worker
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
command -v sqlite3 >/dev/null || apt-get install -y -q sqlite3 >/dev/null
cargo build -q --profile "$PROFILE" -p server --bin darkroom
BIN=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/darkroom
MODELS=${DARKROOM_MODELS_DIR:-$PWD/data/models}
[ -f "$MODELS/samples/astronaut.png" ] || "$BIN" fetch-models >/dev/null
WORK=$(mktemp -d /tmp/darkroom-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
  if [ "$DB" = postgres ]; then psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
PY="$(scripts/pyref.sh)"
"$PY" bench/make_photos.py "$MODELS/samples" "$WORK/photos"
BODY="$WORK/body.json"
python3 -c "import base64,json,sys; print(json.dumps({'image': base64.b64encode(open(sys.argv[1],'rb').read()).decode(), 'style': 3}))" \
  "$WORK/photos/photo-1024.png" >"$BODY"

export DARKROOM_ADDR="127.0.0.1:$PORT" DARKROOM_RENDER_PREVIEWS=false DARKROOM_MODELS_DIR="$MODELS" \
  DARKROOM_API_KEY_RATE_PER_MIN=100000000 DARKROOM_API_IP_RATE_PER_MIN=100000000 RUST_LOG=${RUST_LOG:-warn}
BASE="http://127.0.0.1:$PORT"
now_ms() { date +%s%3N; }
# wrk's requests/s and p99 (ms) of GET / for SECS seconds.
home() {
  local out
  out=$(wrk -t1 -c"$CONNS" -d"$1s" --latency "$BASE/" 2>&1)
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.1f", v }')
  echo "$rps $p99"
}

. bench/db.sh
declare -A R
printf "Darkroom worker benchmark: %s, profile %s, %s jobs of 1024x1024, %s cores, engine threads %s\n" \
  "$DB" "$PROFILE" "$JOBS" "$(nproc)" "${DARKROOM_ENGINE_THREADS:-all}" >&2
printf "%-34s %10s %10s %12s %14s %12s %14s\n" setup "start ms" jobs/min "home req/s" "home p99 ms" "busy req/s" "busy p99 ms" >&2
for SETUP in inproc1 inproc2 separate; do
  DIR="$WORK/$SETUP"
  mkdir -p "$DIR"
  export DARKROOM_DATA_DIR="$DIR"
  fresh_db "$DIR"
  . bench/seed-member.sh
  seed_member
  case $SETUP in
    inproc1) WEB_WORKERS=1 ;;
    inproc2) WEB_WORKERS=2 ;;
    separate) WEB_WORKERS=0 ;;
  esac
  # Cold start: the web process from exec to ready (the engine loads in it when it has workers).
  t0=$(now_ms)
  DARKROOM_WORKERS=$WEB_WORKERS "$BIN" serve >"$DIR/server.log" 2>&1 &
  WEB=$!
  PIDS+=("$WEB")
  until curl -fs -o /dev/null "$BASE/readyz"; do sleep 0.01; done
  start_ms=$(($(now_ms) - t0))
  read -r idle_rps idle_p99 < <(home 5)
  # Queue every job first, then let the workers go: one figure for the whole batch.
  if [ "$SETUP" = separate ]; then
    for _ in $(seq 1 "$JOBS"); do
      curl -fs -o /dev/null -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' --data-binary "@$BODY" "$BASE/api/v1/generations"
    done
    DARKROOM_WORKERS=1 "$BIN" worker >"$DIR/worker.log" 2>&1 &
    PIDS+=("$!")
  else
    for _ in $(seq 1 "$JOBS"); do
      curl -fs -o /dev/null -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' --data-binary "@$BODY" "$BASE/api/v1/generations"
    done
  fi
  # The page's latency while the engine works (BENCH_JOBS keeps it busy longer than wrk runs).
  until [ "$(echo "SELECT COUNT(*) FROM jobs WHERE status = 'running';" | sql)" -gt 0 ]; do sleep 0.05; done
  read -r busy_rps busy_p99 < <(home 8)
  while [ "$(echo "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running');" | sql)" != 0 ]; do sleep 0.2; done
  done_n=$(echo "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded';" | sql)
  [ "$done_n" = "$JOBS" ] || { echo "$SETUP: $done_n of $JOBS succeeded" >&2; tail -5 "$DIR"/*.log >&2; exit 1; }
  span=$(echo "SELECT MAX(finished_at) - MIN(started_at) FROM jobs WHERE status = 'succeeded';" | sql)
  jpm=$(awk -v n="$done_n" -v ms="$span" 'BEGIN { printf "%.1f", n * 60000 / ms }')
  case $SETUP in
    inproc1) label="1 in-process worker" ;;
    inproc2) label="2 in-process workers" ;;
    separate) label="web node + 1 darkroom worker" ;;
  esac
  printf "%-34s %10s %10s %12s %14s %12s %14s\n" "$label" "$start_ms" "$jpm" "$idle_rps" "$idle_p99" "$busy_rps" "$busy_p99" >&2
  R[$SETUP]=$jpm
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
done
echo >&2
echo "ratios: jobs/min 2 in-process / 1 $(awk -v a="${R[inproc2]}" -v b="${R[inproc1]}" 'BEGIN { printf "%.2f", a / b }'), separate worker / 1 in-process $(awk -v a="${R[separate]}" -v b="${R[inproc1]}" 'BEGIN { printf "%.2f", a / b }')" >&2
echo "goals: home p99 while busy ≤ 50 ms; start ≤ 1000 ms" >&2
