#!/usr/bin/env bash
# The first visit as a phone gets it from a deployed site: TLS and HTTP/2 at nginx
# (deploy/nginx.conf with an HTTPS listener and a self-signed certificate made here) in front
# of one release node, beside the same node answered directly over HTTP/1.1, in one run of
# bench/first-visit.mjs each. A lazy page's code comes in many small chunks: over HTTP/1.1 the
# browser fetches 6 at a time, each waiting a round trip; over HTTP/2 they share one
# connection. The node serves a fresh SQLite database with BENCH_ITEMS (200) public items
# (no image files: LCP is the page's text or a broken image's box), a public item page and
# a share link to it.
#
# Settings: BENCH_PORT (3320: the node; nginx on the next port). Needs target/site built
# (scripts/build-site.sh) and end2end/node_modules (scripts/install-tools.sh --test).
set -euo pipefail
# Page views are not limited here: the benchmark sends thousands a second from one address.
export DARKROOM_PAGE_RATE_PER_MIN=${DARKROOM_PAGE_RATE_PER_MIN:-0}
cd "$(dirname "$0")/.."
PORT=${BENCH_PORT:-3320}
TLS_PORT=$((PORT + 1))
N=${BENCH_ITEMS:-200}
cargo build -q --release -p server --bin darkroom
BIN=target/release/darkroom
WORK=$(mktemp -d /tmp/darkroom-h2.XXXXXX)
NODE_PID=
cleanup() {
  [ -z "$NODE_PID" ] || kill "$NODE_PID" 2>/dev/null || true
  [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export DARKROOM_DATA_DIR="$WORK/data" DARKROOM_ADDR="127.0.0.1:$PORT" DARKROOM_WORKERS=0 \
  DARKROOM_RENDER_PREVIEWS=false DARKROOM_MODELS_DIR="$WORK/no-models" RUST_LOG=warn \
  DATABASE_URL="sqlite://$WORK/data/darkroom.db" DARKROOM_TRUSTED_PROXIES=127.0.0.1
"$BIN" migrate >/dev/null
DARKROOM_ADMIN_PASSWORD="bench password 1" "$BIN" create-admin --email bench@example.com >/dev/null
NOW_MS=$(($(date +%s) * 1000))
sqlite3 -bail "$WORK/data/darkroom.db" <<SQL
INSERT INTO uploads (id, user_id, object_key, content_hash, mime, bytes, width, height, rights_confirmed_at, created_at)
SELECT 'bench-upload', id, 'uploads/bench.png', '00', 'image/png', 1, 1024, 768, $NOW_MS, $NOW_MS FROM users;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $N)
INSERT INTO jobs (id, user_id, upload_id, mode, params, style, cost, status, progress, result_key, thumb_key, result_hash,
                  result_width, result_height, visibility, idempotency_key, created_at, finished_at, prompt)
SELECT printf('%08x-0000-7000-8000-%012x', 16777216 + i, i), (SELECT id FROM users), 'bench-upload', 'image_to_image',
       '{"styles":[[' || (i % 26) || ',1.0]],"strength":1.0,"preserve_color":false}', i % 26, 10, 'succeeded', 100,
       'results/bench/' || i || '/0.png', 'results/bench/' || i || '/0-w512.jpg', '00', 1024, 768, 'public', 'bench-' || i,
       $NOW_MS - ($N - i) * 1000, $NOW_MS - ($N - i) * 1000, 'Bench item ' || i
FROM seq;
SQL
ITEM=$(sqlite3 "$WORK/data/darkroom.db" "SELECT id FROM jobs ORDER BY id DESC LIMIT 1")
# A share link to it (the token's SHA-256 is what the database keeps: service::sharing).
TOKEN=$(openssl rand -hex 16)
sqlite3 -bail "$WORK/data/darkroom.db" "INSERT INTO share_links (id, job_id, user_id, token_hash, created_at)
  SELECT 'bench-share', '$ITEM', user_id, '$(printf %s "$TOKEN" | sha256sum | cut -c1-64)', $NOW_MS FROM jobs WHERE id = '$ITEM'"
PAGES="/s/$TOKEN /p/$ITEM"
"$BIN" serve >"$WORK/server.log" 2>&1 &
NODE_PID=$!
until curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz"; do sleep 0.1; done

mkdir -p "$WORK/nginx/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$WORK/nginx/key.pem" -out "$WORK/nginx/cert.pem" 2>/dev/null
sed -e "/# BEGIN upstreams/,/# END upstreams/c\\        server 127.0.0.1:$PORT;" \
    -e "/# BEGIN listen/,/# END listen/c\\        listen 127.0.0.1:$TLS_PORT ssl http2;\\n        ssl_certificate $WORK/nginx/cert.pem;\\n        ssl_certificate_key $WORK/nginx/key.pem;" \
    deploy/nginx.conf >"$WORK/nginx/nginx.conf"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 </dev/null &
until curl -fsk -o /dev/null "https://127.0.0.1:$TLS_PORT/readyz"; do sleep 0.1; done

echo "== direct to the node, HTTP/1.1"
BENCH_PAGES="$PAGES" node bench/first-visit.mjs "http://127.0.0.1:$PORT"
echo
echo "== through nginx, TLS and HTTP/2"
BENCH_PAGES="$PAGES" BENCH_INSECURE=1 NODE_TLS_REJECT_UNAUTHORIZED=0 node bench/first-visit.mjs "https://127.0.0.1:$TLS_PORT"
