#!/usr/bin/env bash
# Darkroom as a cluster on this machine, on loopback: PostgreSQL (already running), SeaweedFS
# (S3), web nodes (`darkroom serve`, DARKROOM_WORKERS=0), worker processes (`darkroom worker`)
# and nginx in front (deploy/nginx.conf). The same layout as deploy/README.md on real machines.
#   scripts/cluster.sh start   starts whatever is not running (so after a kill it restarts
#                              that part), waits until every node and nginx are ready, prints
#                              the site's address
#   scripts/cluster.sh stop    SIGTERM to every part (nodes finish or hand back their work),
#                              SIGKILL after 30 s, then SeaweedFS if this script started it
#   scripts/cluster.sh status  each part and its pid
# Settings: CLUSTER_DIR (target/cluster), CLUSTER_PORT (18080: nginx; web nodes on the next
# ports, worker metrics from +100), CLUSTER_WEB (2), CLUSTER_WORKERS (2), DARKROOM_BIN
# (target/release/darkroom, else target/debug/darkroom), DATABASE_URL (default a database
# `darkroom_cluster` on 127.0.0.1:5432, made if missing), DARKROOM_S3_ENDPOINT (unset: SeaweedFS
# from scripts/seaweedfs.sh on CLUSTER_PORT+10). Every other DARKROOM_* variable reaches the
# nodes as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${CLUSTER_DIR:-$ROOT/target/cluster}
PORT=${CLUSTER_PORT:-18080}
WEB=${CLUSTER_WEB:-2}
WORKERS=${CLUSTER_WORKERS:-2}
BIN=${DARKROOM_BIN:-}
if [ -z "$BIN" ]; then
  if [ -x target/release/darkroom ]; then BIN=$ROOT/target/release/darkroom; else BIN=$ROOT/target/debug/darkroom; fi
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/darkroom_cluster}
mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/nodes" "$DIR/nginx/tmp"
# nginx's workers run as an unprivileged user when it starts as root: they write request
# bodies here.
chmod -R a+rwx "$DIR/nginx/tmp"

running() { [ -f "$DIR/pids/$1.pid" ] && kill -0 "$(cat "$DIR/pids/$1.pid")" 2>/dev/null; }
parts() { for i in $(seq 1 "$WEB"); do echo "web$i"; done; for i in $(seq 1 "$WORKERS"); do echo "worker$i"; done; }

# Settings every node shares: the database, the bucket, the key that signs media URLs.
shared_env() {
  if [ -z "${DARKROOM_MEDIA_URL_SECRET:-}" ]; then
    [ -f "$DIR/media-url.secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/media-url.secret"
    export DARKROOM_MEDIA_URL_SECRET="$(cat "$DIR/media-url.secret")"
  fi
  if [ -z "${DARKROOM_S3_ENDPOINT:-}" ]; then
    export DARKROOM_S3_ENDPOINT="$(SEAWEEDFS_DIR="$DIR/seaweedfs" SEAWEEDFS_S3_PORT=$((PORT + 10)) scripts/seaweedfs.sh start)"
    touch "$DIR/seaweedfs.ours"
  fi
  export DARKROOM_S3_BUCKET=${DARKROOM_S3_BUCKET:-darkroom-test}
  export DARKROOM_S3_ACCESS_KEY_ID=${DARKROOM_S3_ACCESS_KEY_ID:-darkroom-test}
  export DARKROOM_S3_SECRET_ACCESS_KEY=${DARKROOM_S3_SECRET_ACCESS_KEY:-darkroom-test-secret}
  export DARKROOM_S3_PREFIX=${DARKROOM_S3_PREFIX:-cluster}
  export DARKROOM_MODELS_DIR=${DARKROOM_MODELS_DIR:-$ROOT/data/models}
  export DARKROOM_SITE_ROOT=${DARKROOM_SITE_ROOT:-$ROOT/target/site}
}

start_part() {
  local name=$1 port
  running "$name" && return 0
  mkdir -p "$DIR/nodes/$name"
  case "$name" in
    web*)
      port=$((PORT + ${name#web}))
      DARKROOM_DATA_DIR="$DIR/nodes/$name" DARKROOM_ADDR="127.0.0.1:$port" DARKROOM_WORKERS=0 \
        DARKROOM_TRUSTED_PROXIES=127.0.0.1 setsid "$BIN" serve > "$DIR/logs/$name.log" 2>&1 < /dev/null &
      ;;
    worker*)
      DARKROOM_DATA_DIR="$DIR/nodes/$name" DARKROOM_METRICS_ADDR="127.0.0.1:$((PORT + 100 + ${name#worker}))" \
        setsid "$BIN" worker --count 1 > "$DIR/logs/$name.log" 2>&1 < /dev/null &
      ;;
  esac
  echo $! > "$DIR/pids/$name.pid"
}

wait_ready() {
  local url=$1 what=$2
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ] && return 0
    sleep 0.2
  done
  echo "$what did not become ready ($url)" >&2
  return 1
}

case "${1:-}" in
  start)
    [ -x "$NGINX" ] || { echo "nginx is missing (scripts/install-tools.sh --test installs it)" >&2; exit 1; }
    [ -x "$BIN" ] || { echo "no darkroom binary at $BIN" >&2; exit 1; }
    db=${DATABASE_URL##*/}; db=${db%%\?*}
    if ! psql "${DATABASE_URL%/*}/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE $db"
    fi
    shared_env
    # One migration run before the nodes start (each would take the migration lock in turn).
    "$BIN" migrate > "$DIR/logs/migrate.log" 2>&1
    for p in $(parts); do start_part "$p"; done
    for i in $(seq 1 "$WEB"); do
      running "web$i" || { echo "web$i exited:" >&2; tail -20 "$DIR/logs/web$i.log" >&2; exit 1; }
      wait_ready "http://127.0.0.1:$((PORT + i))/readyz" "web$i" || { tail -20 "$DIR/logs/web$i.log" >&2; exit 1; }
    done
    for i in $(seq 1 "$WORKERS"); do
      wait_ready "http://127.0.0.1:$((PORT + 100 + i))/metrics" "worker$i" || { tail -20 "$DIR/logs/worker$i.log" >&2; exit 1; }
    done
    if ! running nginx; then
      upstreams=""
      for i in $(seq 1 "$WEB"); do upstreams+="        server 127.0.0.1:$((PORT + i)) max_fails=1 fail_timeout=5s;\n"; done
      sed -e "/# BEGIN upstreams/,/# END upstreams/c\\$upstreams" \
          -e "/# BEGIN listen/,/# END listen/c\\        listen 127.0.0.1:$PORT;" deploy/nginx.conf > "$DIR/nginx/nginx.conf"
      "$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -g 'daemon off;' > "$DIR/logs/nginx.log" 2>&1 < /dev/null &
      echo $! > "$DIR/pids/nginx.pid"
    fi
    wait_ready "http://127.0.0.1:$PORT/readyz" "nginx" || { cat "$DIR/logs/nginx.log" >&2; exit 1; }
    echo "http://127.0.0.1:$PORT"
    ;;
  stop)
    for p in $(parts) nginx; do running "$p" && kill -TERM "$(cat "$DIR/pids/$p.pid")" || true; done
    for _ in $(seq 1 300); do
      alive=0
      for p in $(parts) nginx; do running "$p" && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for p in $(parts) nginx; do running "$p" && kill -KILL "$(cat "$DIR/pids/$p.pid")" || true; rm -f "$DIR/pids/$p.pid"; done
    if [ -f "$DIR/seaweedfs.ours" ]; then
      SEAWEEDFS_DIR="$DIR/seaweedfs" scripts/seaweedfs.sh stop
      rm -f "$DIR/seaweedfs.ours"
    fi
    ;;
  status)
    for p in $(parts) nginx; do
      if running "$p"; then echo "$p running (pid $(cat "$DIR/pids/$p.pid"))"; else echo "$p stopped"; fi
    done
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
