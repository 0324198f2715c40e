# Sourced by the local scripts (dev, test, bench): the toolchain, and nothing that reaches a
# Cloudflare account (scripts/deploy sources toolchain.sh only).
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
export CLOUDFLARE_CF_FETCH_ENABLED=false      # miniflare: no request.cf download
unset CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID
