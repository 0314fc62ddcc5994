#!/usr/bin/env bash
# Do other members' open live streams cost one member's generations anything? On PostgreSQL
# (LISTEN/NOTIFY fan-out), the release binary with its workers paused: BENCH_JOBS generations
# created one after another through the API, the server's CPU time measured from
# /proc/<pid>/stat, first with no stream open, then with BENCH_STREAMS other members' streams
# open (bench/streams.mjs), then the same streams for as long with no generations. A stream is
# woken only by its own member's events, so the second figure should be the first plus the
# third (the streams' own 15 s safety polls and heartbeats).
# Settings: BENCH_DB (postgres), BENCH_PROFILE (release), BENCH_STREAMS (400), BENCH_JOBS (1000),
# BENCH_PORT (3321).
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
PROFILE=${BENCH_PROFILE:-release}
PORT=${BENCH_PORT:-3321}
export BENCH_DB=${BENCH_DB:-postgres}
PGDB=darkroom_bench_streams
export DARKROOM_WORKERS=0 DARKROOM_REQUIRE_VERIFIED_EMAIL=false DARKROOM_AUTH_RATE_PER_IP_PER_HOUR=1000000 DARKROOM_SIGNUP_GRANT=0
. bench/member.sh
UPLOAD=$(curl -fs -H "Authorization: Bearer $SECRET" -F "file=@$MODELS/samples/chelsea.png" "$BASE/api/v1/uploads" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$UPLOAD" ] || { echo "upload failed" >&2; exit 1; }
echo "Darkroom live-stream fan-out benchmark: $DB, profile $PROFILE, $(nproc) cores"
node bench/streams.mjs "$BASE" "$SECRET" "$UPLOAD" "$SERVER" "${BENCH_STREAMS:-400}" "${BENCH_JOBS:-1000}"
