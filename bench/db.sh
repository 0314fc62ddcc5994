# Sourced by the benchmarks: `fresh_db DIR` makes an empty, migrated database for BENCH_DB
# (sqlite: DIR/darkroom.db; postgres: the database PGDB on 127.0.0.1:5432, dropped first),
# exports DATABASE_URL and defines `sql` (runs SQL from stdin or arguments on it).
# Needs DB (sqlite|postgres), PGDB and BIN (the darkroom binary).
fresh_db() {
  local dir=$1
  if [ "$DB" = postgres ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB"
    sql() { psql -q -X -A -t -h 127.0.0.1 -U postgres -d "$PGDB" -v ON_ERROR_STOP=1 "$@"; }
  else
    export DATABASE_URL="sqlite://$dir/darkroom.db"
    SQLITE_FILE="$dir/darkroom.db"
    sql() { sqlite3 -bail "$SQLITE_FILE" "$@"; }
  fi
  "$BIN" migrate >/dev/null
}
