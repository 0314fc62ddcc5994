#!/usr/bin/env bash
# The remote-provider path (issue 20): text→image through the `openai-image` template against
# the OpenAI Images stand-in (end2end/standin/openai.mjs, which answers repeated requests at
# once from memory). BENCH_N generations one after another, each timed from the moment its
# `POST /api/v1/generations` is sent to the moment the member's live stream (`GET /events`,
# signed in) says `succeeded`. In the same run: the stand-in's own time per request (it
# reports it), the client's direct round trip to the stand-in with the same body, and, from
# the database, where Darkroom's time goes (waiting for a worker; the run itself: the provider
# call, the output gate, the content credentials, the renditions and storing them).
#
# Settings: BENCH_DB=sqlite|postgres (default sqlite), BENCH_PROFILE=release|dev (release),
# BENCH_N (30, after 3 not counted), BENCH_PORT (3311; the stand-in one port up), BENCH_KEEP.
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
PROFILE=${BENCH_PROFILE:-release}
PORT=${BENCH_PORT:-3311}
N=${BENCH_N:-30}
STANDIN_PORT=$((PORT + 1))
PGDB=darkroom_bench_remote
node end2end/standin/openai.mjs "$STANDIN_PORT" sk-bench-openai >/dev/null 2>&1 &
BENCH_ALSO_KILL=$!
export DARKROOM_OPENAI_API_KEY=sk-bench-openai DARKROOM_OPENAI_API_BASE="http://127.0.0.1:$STANDIN_PORT" DARKROOM_WORKERS=1
. bench/member.sh

echo "Darkroom remote-provider benchmark: $DB, profile $PROFILE, $N generations in sequence, $(nproc) cores"
node bench/remote.mjs "$BASE" "http://127.0.0.1:$STANDIN_PORT" "$BENCH_EMAIL" "$BENCH_PASSWORD" "$SECRET" "$N" sk-bench-openai >"$WORK/ids.txt"
IDS=$(sed "s/.*/'&'/" "$WORK/ids.txt" | paste -sd,)
echo "SELECT attempt_started_at - created_at, finished_at - attempt_started_at FROM jobs WHERE id IN ($IDS);" | sql \
  | tr '|' ' ' | python3 -c '
import sys
rows = [tuple(map(int, l.split())) for l in sys.stdin if l.strip()]
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
for name, i in (("waiting for a worker", 0), ("the run (provider call included)", 1)):
    xs = [r[i] for r in rows]
    print(f"{name:44s} p50 {pct(xs, 50):6d} ms   p99 {pct(xs, 99):6d} ms   (database timestamps, {len(xs)} jobs)")
'
