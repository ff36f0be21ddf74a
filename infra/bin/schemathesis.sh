#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI contract fuzzer of test/contract/) into a
# project-local venv, idempotently, and prints the path of its `st` command.
# SCHEMATHESIS_VENV overrides the place (default .tools/py-schemathesis).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="4.32.5"
VENV="${SCHEMATHESIS_VENV:-$ROOT/.tools/py-schemathesis}"
log() { printf '[schemathesis] %s\n' "$*" >&2; }
die() { printf '[schemathesis] ERROR: %s\n' "$*" >&2; exit 1; }

if [ ! -x "$VENV/bin/st" ] || [ "$(cat "$VENV/.complete" 2>/dev/null)" != "$VERSION" ]; then
  command -v python3 >/dev/null 2>&1 || die "python3 is missing (Debian: apt-get install python3 python3-venv)"
  log "installing schemathesis $VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$VERSION" >&2 || die "pip could not install schemathesis==$VERSION"
  echo "$VERSION" > "$VENV/.complete"
fi
echo "$VENV/bin/st"
