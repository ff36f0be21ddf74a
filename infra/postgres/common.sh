# Shared settings for the local PostgreSQL cluster (sourced, not executed).
# The cluster lives under the ignored .local/postgres; it listens on loopback only.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_PORT="${PG_PORT:-15432}"
PG_BASE="${PG_BASE:-$ROOT/.local/postgres}"
PG_DATA="$PG_BASE/data"
PG_RUN="$PG_BASE/run"
PG_LOG="$PG_BASE/postgres.log"
# The superuser the cluster is created with; the API and the tests connect as it (local only).
PG_SUPERUSER="${PG_SUPERUSER:-spam}"
PG_PASSWORD="${PG_PASSWORD:-spam}"
PG_VERSION_DIR="${PG_BIN:-}"

pg_log() { printf '[postgres] %s\n' "$*" >&2; }
pg_die() { printf '[postgres] ERROR: %s\n' "$*" >&2; exit 1; }

pg_find_bin() {
  if [ -n "$PG_VERSION_DIR" ] && [ -x "$PG_VERSION_DIR/initdb" ]; then echo "$PG_VERSION_DIR"; return 0; fi
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# Postgres refuses to run as root: as root, run the server as the postgres
# system user (created by Debian's package) and give it the data directory.
pg_as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

PG_URL="postgres://$PG_SUPERUSER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
