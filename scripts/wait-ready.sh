#!/usr/bin/env bash
# Waits until a server started by a test script answers `GET <base>/readyz` (60 s at most;
# then exits 1 with the reason).
set -euo pipefail
BASE="$1"
for _ in $(seq 1 120); do
  curl -fs "$BASE/readyz" > /dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "the server at $BASE did not become ready in 60 s" >&2
exit 1
