#!/usr/bin/env bash
# Idempotent set-up for a fresh machine of this kind (Debian with npm, Java 17,
# Maven, root or sudo for apt). Safe to run on every start and test.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PNPM_VERSION="10.34.8"
log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }
need npm "install Node.js and npm (apt-get install nodejs npm): npm fetches the pinned Node.js and pnpm"
need java "install Java 17 (apt-get install openjdk-17-jre-headless); Kafka runs on it"
need mvn "install Maven (apt-get install maven); it fetches the Kafka jars from Maven Central"
# shellcheck source=node-env.sh
source "$ROOT/infra/bin/node-env.sh"

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is missing: install these Debian packages by hand: $*"
  log "installing Debian packages: $*"
  if [ ! -f "$ROOT/.local/apt-updated" ]; then
    $SUDO apt-get update -qq >&2 || die "apt-get update failed"
    mkdir -p "$ROOT/.local" && touch "$ROOT/.local/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

# ClickHouse: Debian's package (18.16). The package does not start a service
# here; infra/local starts it with the config in infra/clickhouse/.
if ! command -v clickhouse-server >/dev/null 2>&1; then
  apt_install clickhouse-server clickhouse-client
fi

# pnpm, pinned, installed project-locally so nothing global changes.
PNPM="$ROOT/.tools/node_modules/.bin/pnpm"
if [ ! -x "$PNPM" ] || [ "$("$PNPM" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION into .tools/"
  mkdir -p "$ROOT/.tools"
  npm install --prefix "$ROOT/.tools" --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >&2
fi

# Workspace dependencies. The lockfile is the source of truth in CI.
STAMP="$ROOT/node_modules/.bootstrap-lock-hash"
LOCK_HASH="$( (echo "$NODE_VERSION"; cat pnpm-lock.yaml package.json pnpm-workspace.yaml */*/package.json infra/local/package.json 2>/dev/null || true) | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK_HASH" ]; then
  log "installing workspace dependencies"
  if [ -n "${CI:-}" ]; then
    "$PNPM" install --frozen-lockfile --reporter=append-only >&2
  else
    "$PNPM" install --reporter=append-only >&2
  fi
  echo "$LOCK_HASH" > "$STAMP"
fi

# Kafka jars from Maven Central, resolved by the pom under infra/kafka.
KLIBS="$ROOT/infra/kafka/libs"
POM_HASH="$(sha256sum infra/kafka/pom.xml | cut -c1-16)"
if [ ! -f "$KLIBS/.complete" ] || [ "$(cat "$KLIBS/.complete")" != "$POM_HASH" ]; then
  log "fetching Kafka jars with Maven (first run takes about a minute)"
  rm -rf "$KLIBS"
  mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$KLIBS" -DincludeScope=runtime >&2 || die "mvn could not fetch the Kafka jars (see output above)"
  echo "$POM_HASH" > "$KLIBS/.complete"
fi

# English sentence-embedding model for @spam/embedding (infra/bin/embedding-model.sh): Python with
# venv is all it needs from the system.
command -v python3 >/dev/null 2>&1 || apt_install python3
# Debian ships venv's ensurepip separately, in python3-venv.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_install python3-venv
bash infra/bin/embedding-model.sh || die "the sentence-embedding model could not be built (see output above)"

# Test-only system packages: Chromium for the console's browser tests and
# PostgreSQL for the review store (started by the tests from infra/postgres).
if [ "${1:-}" = "--test" ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
fi

log "building TypeScript projects"
"$PNPM" exec tsc --build >&2
