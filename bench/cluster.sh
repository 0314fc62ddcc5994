#!/usr/bin/env bash
# The cluster benchmark: scripts/cluster.sh on loopback (PostgreSQL, SeaweedFS, nginx), wrk.
#   (a) signed-out Explore through nginx with 1 and with 2 web nodes, beside one node without
#       nginx in the same run;
#   (b) POST /api/v1/generations with the workers paused (jobs created and charged, not run),
#       the same three ways; jobs = charges = logged requests is checked afterwards;
#   (c) jobs per minute with 1 and with 2 worker processes (BENCH_JOBS 512² generations
#       queued at once, timed from the first claim to the last success).
# Prints req/s, p99 and the ratios. Settings: BENCH_PROFILE (release), BENCH_SECS (10),
# BENCH_CONNS (16), BENCH_JOBS (24), BENCH_PORT (18480).
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
PROFILE=${BENCH_PROFILE:-release}
SECS=${BENCH_SECS:-10}
CONNS=${BENCH_CONNS:-16}
JOBS=${BENCH_JOBS:-24}
export CLUSTER_PORT=${BENCH_PORT:-18480}
export CLUSTER_DIR=$PWD/target/bench-cluster
command -v wrk > /dev/null || apt-get install -y -q wrk > /dev/null
cargo build -q --profile "$PROFILE" -p server --bin darkroom
export DARKROOM_BIN=$PWD/target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/darkroom
PGDB=darkroom_bench_cluster
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$PGDB
export DARKROOM_RENDER_PREVIEWS=false DARKROOM_API_KEY_RATE_PER_MIN=100000000 DARKROOM_API_IP_RATE_PER_MIN=100000000 RUST_LOG=warn
export DARKROOM_S3_PREFIX=bench-$$
sql() { psql -q -X -A -t -h 127.0.0.1 -U postgres -d "$PGDB" -v ON_ERROR_STOP=1 "$@"; }
fresh_db() {
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB"
  "$DARKROOM_BIN" migrate > /dev/null
}
cleanup() { scripts/cluster.sh stop > /dev/null 2>&1 || true; psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" > /dev/null 2>&1 || true; }
trap cleanup EXIT

# A member with a billion credits and a key whose secret this script knows.
BIN=$DARKROOM_BIN
. bench/seed-member.sh
member() { seed_member; }

run_wrk() { # label url [lua]
  local out rps p99
  out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency ${3:+-s "$3"} "$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf "%-44s %10s %10s %s\n" "$1" "$rps" "$p99" "$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')" >&2
  echo "$rps"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "Darkroom cluster benchmark: profile $PROFILE, PostgreSQL + SeaweedFS + nginx, wrk -c$CONNS -d${SECS}s, $(nproc) cores" >&2
printf "%-44s %10s %10s\n" target "req/s" p99 >&2
declare -A R
for WEB in 1 2; do
  fresh_db
  member
  CLUSTER_WEB=$WEB CLUSTER_WORKERS=0 scripts/cluster.sh start > /dev/null
  NGINX_BASE=http://127.0.0.1:$CLUSTER_PORT
  NODE_BASE=http://127.0.0.1:$((CLUSTER_PORT + 1))
  PHOTO=$(mktemp --suffix .png)
  python3 -c "
from PIL import Image; import sys
Image.open(sys.argv[1]).convert('RGB').resize((64, 64)).save(sys.argv[2])" data/models/samples/chelsea.png "$PHOTO" 2> /dev/null || cp data/models/samples/chelsea.png "$PHOTO"
  UPLOAD=$(curl -fs -H "Authorization: Bearer $SECRET" -F "file=@$PHOTO" "$NODE_BASE/api/v1/uploads" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  LUA=$(mktemp --suffix .lua)
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n' \
    "'{\"upload_id\":\"$UPLOAD\",\"style\":3}'" "$SECRET" > "$LUA"
  wrk -t1 -c4 -d2s "$NGINX_BASE/explore" > /dev/null # warm-up
  if [ "$WEB" = 1 ]; then
    R[explore_direct]=$(run_wrk "Explore, 1 node, no nginx" "$NODE_BASE/explore")
    R[api_direct]=$(run_wrk "create API, 1 node, no nginx" "$NODE_BASE/api/v1/generations" "$LUA")
  fi
  R[explore_$WEB]=$(run_wrk "Explore through nginx, $WEB web node(s)" "$NGINX_BASE/explore")
  R[api_$WEB]=$(run_wrk "create API through nginx, $WEB web node(s)" "$NGINX_BASE/api/v1/generations" "$LUA")
  sleep 2
  jobs=$(echo "SELECT COUNT(*) FROM jobs;" | sql)
  charges=$(echo "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'charge';" | sql)
  logged=$(echo "SELECT COUNT(*) FROM api_requests WHERE status = 201 AND route = '/api/v1/generations';" | sql)
  [ "$jobs" = "$charges" ] && [ "$charges" = "$logged" ] || { echo "jobs $jobs, charges $charges, logged $logged differ" >&2; exit 1; }
  scripts/cluster.sh stop > /dev/null
done

# (c) jobs per minute: 1 web node, M worker processes, JOBS generations of a 512² photo.
for M in 1 2; do
  fresh_db
  member
  CLUSTER_WEB=1 CLUSTER_WORKERS=0 scripts/cluster.sh start > /dev/null
  BODY=$(mktemp --suffix .json)
  python3 -c "import base64,json,sys; print(json.dumps({'image': base64.b64encode(open(sys.argv[1],'rb').read()).decode(), 'style': 3}))" data/models/samples/astronaut.png > "$BODY"
  for i in $(seq 1 "$JOBS"); do
    curl -fs -o /dev/null -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' --data-binary "@$BODY" "http://127.0.0.1:$CLUSTER_PORT/api/v1/generations"
  done
  CLUSTER_WEB=1 CLUSTER_WORKERS=$M scripts/cluster.sh start > /dev/null
  while [ "$(echo "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running');" | sql)" != 0 ]; do sleep 0.5; done
  span=$(echo "SELECT (MAX(finished_at) - MIN(started_at)) FROM jobs WHERE status = 'succeeded';" | sql)
  done_n=$(echo "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded';" | sql)
  R[jpm_$M]=$(awk -v n="$done_n" -v ms="$span" 'BEGIN { printf "%.1f", n * 60000 / ms }')
  printf "%-44s %10s\n" "jobs/min, $M worker process(es) ($done_n of $JOBS)" "${R[jpm_$M]}" >&2
  CLUSTER_WEB=1 CLUSTER_WORKERS=$M scripts/cluster.sh stop > /dev/null
done

echo >&2
echo "ratios: Explore 1 node via nginx / direct $(ratio "${R[explore_1]}" "${R[explore_direct]}"), 2 nodes / 1 node $(ratio "${R[explore_2]}" "${R[explore_1]}")" >&2
echo "ratios: create API 1 node via nginx / direct $(ratio "${R[api_1]}" "${R[api_direct]}"), 2 nodes / 1 node $(ratio "${R[api_2]}" "${R[api_1]}")" >&2
echo "ratios: jobs/min 2 workers / 1 worker $(ratio "${R[jpm_2]}" "${R[jpm_1]}")" >&2
