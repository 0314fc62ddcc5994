#!/usr/bin/env bash
# POST /api/v1/generations under load (issue 8): the real binary with its workers paused
# (DARKROOM_WORKERS=0, so jobs are created and charged but not run), a small photo uploaded
# once through POST /api/v1/uploads and referred to by `upload_id`, no Idempotency-Key (each
# request creates and charges a job), wrk on loopback. In the same run, the raw INSERT rate
# of the same `jobs` table through the database's own client (pgbench -c CONNS for
# PostgreSQL; sqlite3, one statement per transaction with the server's pragmas, for SQLite)
# — the floor under what one API request can cost — and the rows one generation writes, through
# the same client, one generation per transaction and in batches of BENCH_MEMBERS (what the
# database alone manages with those rows). Two loads: one member's key (each request
# waits for the one before on the member's balance row until commit), then BENCH_MEMBERS (16)
# members' keys in turn (no shared hot row). Both loads run twice on the same database:
# first with group commit off (DARKROOM_GROUP_COMMIT=1: each creation commits on its own, the
# baseline), then on (BENCH_GROUP_COMMIT, default 32: creations that arrive together share a
# transaction).
#
# Settings: BENCH_DB=sqlite|postgres (default sqlite), BENCH_PROFILE=release|dev (release),
# BENCH_MEMBERS (16), BENCH_SECS (10), BENCH_CONNS (16), BENCH_THREADS (1), BENCH_PORT (3301), BENCH_KEEP,
# BENCH_PERF=DIR (records `perf record -a` of the whole machine during each measured load into
# DIR/<keys>-<off|on>.data: where the cores go, by process and symbol, with `perf report`).
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
PROFILE=${BENCH_PROFILE:-release}
SECS=${BENCH_SECS:-10}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_THREADS:-1}
PORT=${BENCH_PORT:-3301}

command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
PGDB=darkroom_bench_api
export DARKROOM_WORKERS=0 DARKROOM_GROUP_COMMIT=1
. bench/member.sh

# A small photo (64x64 PNG), uploaded once per member.
python3 - "$MODELS/samples/chelsea.png" "$WORK/small.png" <<'PY' 2>/dev/null || cp "$MODELS/samples/chelsea.png" "$WORK/small.png"
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((64, 64)).save(sys.argv[2])
PY
upload() {
  curl -fs -H "Authorization: Bearer $1" -F "file=@$WORK/small.png" "$BASE/api/v1/uploads" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'
}
UPLOAD=$(upload "$SECRET")
[ -n "$UPLOAD" ] || { echo "upload failed" >&2; tail -5 "$WORK/server.log" >&2; exit 1; }
BODY="{\"upload_id\":\"$UPLOAD\",\"style\":3}"
# The request really creates a queued generation (a fast error would be wrong).
curl -fs -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' -d "$BODY" "$BASE/api/v1/generations" \
  | grep -q '"status":"queued"' || { echo "POST /api/v1/generations did not queue" >&2; tail -5 "$WORK/server.log" >&2; exit 1; }
# The wrk script: requests take the members' keys (and their uploads) in turn.
SECRETS=("$SECRET") BODIES=("$BODY") USER_IDS=("$USER_ID") UPLOADS=("$UPLOAD")
lua() {
  {
    echo "local secrets = {"; printf '"%s",\n' "${SECRETS[@]:0:$1}"; echo "}"
    echo "local bodies = {"; printf "'%s',\n" "${BODIES[@]:0:$1}"; echo "}"
    cat <<'LUA'
local i = 0
request = function()
  i = i % #secrets + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. secrets[i] }, bodies[i])
end
LUA
  } >"$WORK/post$1.lua"
  echo "$WORK/post$1.lua"
}

jobs_count() { echo "SELECT COUNT(*) FROM jobs;" | sql; }
# `lanes`: the group commit lanes' busy seconds, their creations' queue seconds and creations
# so far (from /metrics; zeros while the server runs without a metrics token).
lanes() {
  curl -fs -H 'Authorization: Bearer bench' "$BASE/metrics" 2>/dev/null | awk '
    /^darkroom_group_commit_busy_seconds / { b = $2 } /^darkroom_group_commit_queued_seconds / { q = $2 } /^darkroom_grouped_creations / { c = $2 }
    END { printf "%f %f %d\n", b, q, c }' || echo "0 0 0"
}
echo "Darkroom API benchmark: $DB, profile $PROFILE, wrk -t$THREADS -c$CONNS -d${SECS}s, $(nproc) cores"
printf "%-52s %10s %10s  %s\n" target "per sec" p99 notes
# `load N TAG`: wrk with N members' keys; sets RPS_TAG_N and P99_TAG_N.
load() {
  local script before after out
  script=$(lua "$1")
  wrk -t"$THREADS" -c"$CONNS" -d2s -s "$script" "$BASE/api/v1/generations" >/dev/null # warm-up
  before=$(jobs_count)
  local lanes_before
  lanes_before=$(lanes)
  local perf_pid=
  if [ -n "${BENCH_PERF:-}" ]; then
    mkdir -p "$BENCH_PERF"
    perf record -q -a -F 499 -o "$BENCH_PERF/$1-$2.data" -- sleep "$SECS" 2>/dev/null &
    perf_pid=$!
  fi
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$script" "$BASE/api/v1/generations")
  after=$(jobs_count)
  local lane_note
  lane_note=$(echo "$lanes_before $(lanes)" | awk -v secs="$SECS" '$6 > $3 { printf "lanes busy %.0f%%, mean wait for a lane %.2f ms", 100 * ($4 - $1) / secs, 1000 * ($5 - $2) / ($6 - $3) }')
  [ -z "$perf_pid" ] || wait "$perf_pid" || true
  printf -v "RPS_$2_$1" '%s' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  printf -v "P99_$2_$1" '%s' "$(echo "$out" | awk '$1 == "99%" {print $2}')"
  local rps="RPS_$2_$1" p99="P99_$2_$1"
  printf "%-52s %10s %10s  %s\n" "POST /api/v1/generations, $1 key(s), group commit $2" "${!rps}" "${!p99}" \
    "$((after - before)) jobs created $lane_note $(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')"
}
MEMBERS=${BENCH_MEMBERS:-16}
for n in $(seq 2 "$MEMBERS"); do
  seed_member "$n"
  up=$(upload "$SECRET")
  [ -n "$up" ] || { echo "upload for member $n failed" >&2; exit 1; }
  SECRETS+=("$SECRET") BODIES+=("{\"upload_id\":\"$up\",\"style\":3}") USER_IDS+=("$USER_ID") UPLOADS+=("$up")
done
# One member: every request waits for the one before on the member's balance row; then
# MEMBERS members in parallel (no shared row). Group commit off (the baseline), then on.
load 1 off
load "$MEMBERS" off
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
DARKROOM_GROUP_COMMIT=${BENCH_GROUP_COMMIT:-32} DARKROOM_METRICS_TOKEN=bench "$BIN" serve >>"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.2; done
load 1 on
load "$MEMBERS" on
# What the batches held (both loads with group commit on): transactions, creations, and
# batches that did not apply whole and ran again one by one.
curl -fs -H 'Authorization: Bearer bench' "$BASE/metrics" | awk '
  /^darkroom_group_commits / { t = $2 } /^darkroom_grouped_creations / { c = $2 } /^darkroom_group_commit_fallbacks / { f = $2 }
  END { if (t > 0) printf "group commit: %d transactions, %d creations (%.1f per transaction), %d fell back to one by one\n", t, c, c / t, f }'
sleep 2 # requests wrk abandoned at the end still finish (and log) on the server
LOGGED=$(echo "SELECT COUNT(*) FROM api_requests WHERE status = 201 AND route = '/api/v1/generations';" | sql)
CHARGES=$(echo "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'charge';" | sql)
[ "$LOGGED" -eq "$CHARGES" ] && [ "$CHARGES" -eq "$(jobs_count)" ] || { echo "jobs $(jobs_count), charges $CHARGES, logged $LOGGED differ" >&2; exit 1; }
echo "jobs = charges = logged requests: $CHARGES"

# `sqlite_rate N FILE`: runs FILE (N transactions) through sqlite3 on the database; prints
# transactions per second.
sqlite_rate() {
  local start end
  start=$(date +%s.%N)
  sqlite3 "$WORK/darkroom.db" <"$2" >/dev/null
  end=$(date +%s.%N)
  awk -v n="$1" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }'
}

# Raw INSERT of the same table, same database, same run.
INSERT="INSERT INTO jobs (id, user_id, upload_id, mode, params, cost, status, visibility, idempotency_key, created_at, prompt, style)"
if [ "$DB" = postgres ]; then
  cat >"$WORK/insert.sql" <<SQL
$INSERT VALUES (gen_random_uuid()::text, '$USER_ID', '$UPLOAD', 'image_to_image', '{}', 5, 'queued', 'private', gen_random_uuid()::text, 0, '', 3);
SQL
  RAW=$(pgbench -n -h 127.0.0.1 -U postgres -c "$CONNS" -j 1 -T "$SECS" -f "$WORK/insert.sql" "$PGDB" 2>/dev/null | awk '/^tps/ {print $3}')
  printf "%-28s %10s %10s  %s\n" "raw INSERT INTO jobs" "$RAW" "-" "pgbench -c$CONNS, one row per transaction"
else
  N=$((20000))
  {
    echo "PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
    for i in $(seq 1 $N); do
      echo "$INSERT VALUES ('raw-$i', '$USER_ID', '$UPLOAD', 'image_to_image', '{}', 5, 'queued', 'private', 'raw-$i', 0, '', 3);"
    done
  } >"$WORK/insert.sql"
  RAW=$(sqlite_rate "$N" "$WORK/insert.sql")
  printf "%-28s %10s %10s  %s\n" "raw INSERT INTO jobs" "$RAW" "-" "sqlite3, $N rows, one per transaction"
fi

# The rows one generation must write, as one transaction of plain statements through the
# database's own client (no HTTP, no service), the members in turn: the job, its two gate
# decisions, the request's log row, the balance and event counter, the ledger entry, the lot
# and its draw, the job and balance events. What the database alone costs per generation,
# beside the one-row INSERT.
generation_rows() { # $1: an expression unique per transaction; $2: the member's index
  local user="${USER_IDS[$2]}" upload="${UPLOADS[$2]}" lot key
  lot=$(echo "SELECT id FROM credit_lots WHERE user_id = '$user' AND remaining > 0 ORDER BY created_at LIMIT 1;" | sql)
  key=$(echo "SELECT id FROM api_keys WHERE user_id = '$user' LIMIT 1;" | sql)
  cat <<SQL
$INSERT VALUES ($1, '$user', '$upload', 'image_to_image', '{}', 5, 'queued', 'private', $1, 0, '', 3);
INSERT INTO moderation_decisions (id, job_id, user_id, gate, decision, category, detector, labels, policy_version, actor_id, reason, created_at)
  VALUES ('d1' || $1, $1, '$user', 'prompt', 'allow', NULL, 'rustrict+lists', '[]', 'v', NULL, NULL, 0),
         ('d2' || $1, $1, '$user', 'upload', 'allow', NULL, 'nudenet-320n', '[]', 'v', NULL, NULL, 0);
INSERT INTO api_requests (id, user_id, api_key_id, key_prefix, method, route, status, cost, created_at)
  VALUES ('l' || $1, '$user', '$key', 'dk_bench', 'POST', '/api/v1/generations', 201, 5, 0);
UPDATE users SET balance = balance - 5, event_seq = event_seq + 2 WHERE id = '$user';
INSERT INTO ledger_entries (id, user_id, kind, amount, balance_after, reason, job_id, idempotency_key, created_at)
  SELECT 'e' || $1, '$user', 'charge', -5, balance, 'generation', $1, 'job:' || $1, 0 FROM users WHERE id = '$user';
INSERT INTO lot_draws (entry_id, lot_id, amount) VALUES ('e' || $1, '$lot', 5);
UPDATE credit_lots SET remaining = remaining - 5 WHERE id = '$lot';
INSERT INTO events (user_id, seq, kind, payload, created_at)
  SELECT '$user', event_seq - 1, 'job', '{}', 0 FROM users WHERE id = '$user'
  UNION ALL SELECT '$user', event_seq, 'balance', '{}', 0 FROM users WHERE id = '$user';
SQL
}
if [ "$DB" = postgres ]; then
  # One script per member, picked at random per transaction: no shared hot row, as above.
  SCRIPTS=()
  for m in $(seq 0 $((MEMBERS - 1))); do
    { echo '\set n random(1, 9000000000000000)'; echo "BEGIN;"; generation_rows "('g' || :n)" "$m"; echo "COMMIT;"; } >"$WORK/generation$m.sql"
    SCRIPTS+=(-f "$WORK/generation$m.sql@1")
  done
  GEN=$(pgbench -n -h 127.0.0.1 -U postgres -c "$CONNS" -j 1 -T "$SECS" "${SCRIPTS[@]}" "$PGDB" 2>/dev/null | awk '/^tps/ {print $3}')
  printf "%-28s %10s %10s  %s\n" "raw generation rows" "$GEN" "-" "pgbench -c$CONNS, one generation's rows per transaction, $MEMBERS members"
else
  N=5000
  for m in $(seq 0 $((MEMBERS - 1))); do generation_rows "'g-NNN-$m'" "$m" >"$WORK/generation$m.sql"; done
  {
    echo "PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
    for i in $(seq 1 $N); do echo "BEGIN IMMEDIATE;"; sed "s/NNN/$i/g" "$WORK/generation$((i % MEMBERS)).sql"; echo "COMMIT;"; done
  } >"$WORK/generation.sql"
  GEN=$(sqlite_rate "$N" "$WORK/generation.sql")
  printf "%-28s %10s %10s  %s\n" "raw generation rows" "$GEN" "-" "sqlite3, $N generations, one transaction each"
fi
# The same rows with several generations per transaction, as group commit writes them: the
# database-only ceiling for batches of MEMBERS generations (SQLite: one writer, each batch the
# members in turn; PostgreSQL: four clients, as four lanes, each batch four members' four
# generations, the members of a batch picked at random among four groups).
if [ "$DB" = postgres ]; then
  SCRIPTS=()
  for g in 0 1 2 3; do
    {
      echo '\set n random(1, 9000000000000000)'
      echo "BEGIN;"
      for j in $(seq 0 $((MEMBERS - 1))); do generation_rows "('b$j-' || :n)" "$(((4 * g + j % 4) % MEMBERS))"; done
      echo "COMMIT;"
    } >"$WORK/batch$g.sql"
    SCRIPTS+=(-f "$WORK/batch$g.sql@1")
  done
  TPS=$(pgbench -n -h 127.0.0.1 -U postgres -c 4 -j 1 -T "$SECS" "${SCRIPTS[@]}" "$PGDB" 2>/dev/null | awk '/^tps/ {print $3}')
  BATCHED=$(awk -v t="$TPS" -v m="$MEMBERS" 'BEGIN { printf "%.0f", t * m }')
  printf "%-28s %10s %10s  %s\n" "raw generation rows, batched" "$BATCHED" "-" "pgbench -c4, $MEMBERS generations per transaction (generations/s)"
else
  N=5000
  {
    echo "PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
    for i in $(seq 1 $N); do
      if [ $(((i - 1) % MEMBERS)) -eq 0 ]; then echo "BEGIN IMMEDIATE;"; fi
      sed "s/NNN/b$i/g" "$WORK/generation$((i % MEMBERS)).sql"
      if [ $((i % MEMBERS)) -eq 0 ] || [ "$i" -eq "$N" ]; then echo "COMMIT;"; fi
    done
  } >"$WORK/batched.sql"
  BATCHED=$(sqlite_rate "$N" "$WORK/batched.sql")
  printf "%-28s %10s %10s  %s\n" "raw generation rows, batched" "$BATCHED" "-" "sqlite3, $N generations, $MEMBERS per transaction"
fi
awk -v r="$RAW" -v b="$BATCHED" 'BEGIN { printf "raw generation rows in batches / raw INSERT %.1f%% (the ceiling for any API on these rows)\n", 100 * b / r }'
for tag in off on; do
  one="RPS_${tag}_1" many="RPS_${tag}_$MEMBERS"
  awk -v t="$tag" -v a="${!one}" -v b="${!many}" -v m="$MEMBERS" -v r="$RAW" -v g="$GEN" \
    -v c="$BATCHED" \
    'BEGIN { printf "group commit %s: API / raw INSERT: one key %.1f%%, %d keys %.1f%% (goal for %d keys: 35%%); API / raw generation rows: %d keys %.1f%%, batched %.1f%%\n", t, 100 * a / r, m, 100 * b / r, m, m, 100 * b / g, 100 * b / c }'
done
awk -v r="$RAW" -v g="$GEN" 'BEGIN { printf "raw generation rows / raw INSERT %.1f%%\n", 100 * g / r }'
