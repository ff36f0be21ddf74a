#!/usr/bin/env bash
# npm test: set up whatever is missing, then run every test (unit, integration
# against the real Kafka and ClickHouse, end-to-end, browser). The vitest
# global setup starts the servers it needs and stops them afterwards (or
# reuses running ones).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
bash infra/bin/bootstrap.sh --test
exec .tools/node_modules/.bin/pnpm exec vitest run "$@"
