#!/usr/bin/env bash
# Stop the local PostgreSQL cluster if it runs. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
BIN="$(pg_find_bin || true)"
[ -n "$BIN" ] || exit 0
[ -f "$PG_DATA/PG_VERSION" ] || exit 0
if pg_as_owner "$BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
  pg_log "stopping"
  pg_as_owner "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >&2
fi
