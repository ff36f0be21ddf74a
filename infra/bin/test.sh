#!/usr/bin/env bash
# npm test: set up whatever is missing, then run every test: unit and
# integration tests beside the code (in parallel), then the cross-service
# end-to-end, browser, fault, fuzz and API contract tests under test/ (one file at a time:
# each runs a whole pipeline of real processes, and on two cores they would
# only slow each other down). All against the real Kafka, ClickHouse and
# PostgreSQL: started here when not running, stopped afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
bash infra/bin/bootstrap.sh --test
source infra/bin/node-env.sh
# The OpenAPI contract fuzzer of test/contract/ (a pinned schemathesis in a venv under .tools/).
bash infra/bin/schemathesis.sh >/dev/null

INFRA="node infra/local/dist/cli.js"
was_running=0
if $INFRA status | grep -q "kafka: running"; then was_running=1; fi
pg_was_running=0
if bash -c 'source infra/postgres/common.sh; BIN="$(pg_find_bin)" && [ -f "$PG_DATA/PG_VERSION" ] && pg_as_owner "$BIN/pg_ctl" -D "$PG_DATA" status' >/dev/null 2>&1; then pg_was_running=1; fi
# Leave the machine as we found it: stop only what this run started (KEEP_INFRA=1 keeps it all).
cleanup() {
  if [ "${KEEP_INFRA:-}" = "1" ]; then return; fi
  if [ "$was_running" = 0 ]; then $INFRA stop >/dev/null 2>&1 || true; fi
  if [ "$pg_was_running" = 0 ]; then bash infra/postgres/stop.sh >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

VITEST=".tools/node_modules/.bin/pnpm exec vitest run"
if [ "$#" -gt 0 ]; then
  KEEP_INFRA=1 $VITEST "$@"
  exit $?
fi
echo "== unit and integration tests (packages, services, infra)"
KEEP_INFRA=1 $VITEST --exclude "test/**"
echo "== cross-service tests (test/): end-to-end, browser, fault, fuzz"
KEEP_INFRA=1 $VITEST test/ --no-file-parallelism
