#!/usr/bin/env bash
# npm start: set up whatever is missing, then run the whole system locally.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$ROOT/infra/bin/bootstrap.sh"
source "$ROOT/infra/bin/node-env.sh"
exec node --disable-warning=TimeoutNegativeWarning "$ROOT/infra/local/dist/start.js"
