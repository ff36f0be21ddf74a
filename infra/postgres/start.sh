#!/usr/bin/env bash
# Start the local PostgreSQL cluster (claims, users, sessions, audit of the API).
# Idempotent: installs Debian's postgresql when missing, initialises the cluster
# once, starts it when it is not running, waits until it accepts connections.
# Prints the connection URL on stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BIN="$(pg_find_bin || true)"
if [ -z "$BIN" ]; then
  command -v apt-get >/dev/null 2>&1 || pg_die "PostgreSQL is missing and apt-get is not available: install postgresql (15) by hand"
  SUDO=""; [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  pg_log "installing Debian's postgresql package"
  $SUDO apt-get update -qq >&2 || pg_die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql >&2 || pg_die "apt-get install postgresql failed"
  BIN="$(pg_find_bin)" || pg_die "initdb not found after installing postgresql"
fi
if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then
  pg_die "running as root but there is no 'postgres' user to run the server as (install Debian's postgresql package)"
fi

# Serialise concurrent starts (parallel test files, npm start + npm test).
mkdir -p "$PG_BASE"
exec 9>"$PG_BASE/.lock"
flock -w 120 9 || pg_die "timed out waiting for $PG_BASE/.lock"

mkdir -p "$PG_RUN"
if [ "$(id -u)" = "0" ]; then chown postgres: "$PG_BASE" "$PG_RUN"; fi

if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  pg_log "initialising a cluster in $PG_DATA"
  rm -rf "$PG_DATA"
  PWFILE="$PG_BASE/.pw"
  printf '%s\n' "$PG_PASSWORD" > "$PWFILE"
  if [ "$(id -u)" = "0" ]; then chown postgres: "$PWFILE"; fi
  chmod 600 "$PWFILE"
  pg_as_owner "$BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --pwfile="$PWFILE" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_BASE/initdb.log" 2>&1 \
    || { cat "$PG_BASE/initdb.log" >&2; pg_die "initdb failed"; }
  rm -f "$PWFILE"
fi

if pg_as_owner "$BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
  pg_log "already running (port from its postmaster.pid)"
else
  pg_log "starting on 127.0.0.1:$PG_PORT"
  rm -f "$PG_DATA/postmaster.pid" 2>/dev/null || true
  pg_as_owner "$BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-p $PG_PORT -k $PG_RUN -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 9>&- || { tail -n 30 "$PG_LOG" >&2 || true; pg_die "pg_ctl start failed (log: $PG_LOG)"; }
fi

for _ in $(seq 1 60); do
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    echo "$PG_URL"
    exit 0
  fi
  sleep 0.5
done
pg_die "PostgreSQL did not accept connections on 127.0.0.1:$PG_PORT within 30 s (log: $PG_LOG)"
