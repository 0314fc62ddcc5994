# Sourced by the benchmarks: `seed_member` makes an administrator (BENCH_EMAIL, BENCH_PASSWORD)
# holding a billion credits (a ledger grant and its lot, so balance = sum of entries = sum of
# lots still holds) and an API key whose secret the script knows (only its SHA-256 is stored,
# as the keys page does). Needs BIN (the darkroom binary, DATABASE_URL set) and `sql`.
# Sets USER_ID and SECRET.
BENCH_EMAIL=bench@example.com BENCH_PASSWORD="bench password 1"
# `seed_member N` (N ≥ 2) makes another such member, benchN@example.com, the same way.
seed_member() {
  local n="${1:-}" email="$BENCH_EMAIL"
  [ -z "$n" ] || email="bench$n@example.com"
  DARKROOM_ADMIN_PASSWORD="$BENCH_PASSWORD" "$BIN" create-admin --email "$email" >/dev/null
  USER_ID=$(echo "SELECT id FROM users WHERE email = '$email';" | sql)
  local now_ms hash
  now_ms=$(($(date +%s) * 1000))
  SECRET="dk_bench$(head -c 64 /dev/urandom | sha256sum | cut -c1-36)"
  hash=$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)
  sql <<SQL
UPDATE users SET balance = balance + 1000000000 WHERE id = '$USER_ID';
INSERT INTO ledger_entries (id, user_id, kind, amount, balance_after, reason, idempotency_key, created_at)
SELECT 'bench-grant$n', id, 'grant', 1000000000, balance, 'benchmark', 'bench-grant', $now_ms FROM users WHERE id = '$USER_ID';
INSERT INTO credit_lots (id, user_id, entry_id, kind, amount, remaining, expires_at, created_at)
VALUES ('bench-lot$n', '$USER_ID', 'bench-grant$n', 'grant', 1000000000, 1000000000, NULL, $now_ms);
INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, rights_confirmed_at, created_at)
VALUES ('bench-key$n', '$USER_ID', 'bench', '${SECRET:0:11}', '$hash', 'generate,read', $now_ms, $now_ms);
SQL
}
