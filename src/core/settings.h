// settings: the deployment's configuration, typed. Read once per wasm instance from the Worker's string
// bindings (vars and secrets) by pb_configure, shared by every invocation of that instance; the code
// reads fields here, never a variable by name. What each setting means is in docs/API.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace pb {

// The Workers plan the deployment runs on (PB_PLAN): it bounds what one invocation may do. The
// self-hosted server always sets "self-hosted": no platform ends its invocations, so no budget.
enum class plan { free, paid, self_hosted };

struct settings {
  bool test_hooks = false;      // PB_TEST_HOOKS=1: enables /__test/* routes (never in production)
  std::string admin_token;      // ADMIN_TOKEN: the bootstrap admin secret; empty = admin API disabled
  std::string encryption_key;   // PB_ENCRYPTION_KEY: base64 of 32 bytes, seals stored credentials
  // PB_ENCRYPTION_KEY_PREVIOUS: the key before a rotation; still opens what it sealed until re-sealed.
  std::string encryption_key_previous;
  std::int64_t sync_packages_per_slice = 8;  // PB_SYNC_PACKAGES_PER_SLICE (default 8 on Free, 150 on Paid)
  pb::plan plan = pb::plan::free;            // PB_PLAN: "free" (default), "paid" or "self-hosted"

  // Subrequests (fetch, D1, KV, R2, Cache API calls) one invocation may make on this plan: Cloudflare
  // ends an invocation past 50 on Free and 1,000 on Paid; the server has no such limit.
  std::int64_t subrequest_budget() const {
    return plan == pb::plan::self_hosted ? INT64_MAX : plan == pb::plan::paid ? 1000 : 50;
  }
  // PB_WEBHOOK_KEY: derives each source's webhook secret; empty = derived from encryption_key instead.
  std::string webhook_key;
  // PB_PRIVATE_VENDORS ("acme,acme-*"): vendor names (or patterns) that are never mirrored from packagist.
  std::vector<std::string> private_vendors;
  // PB_RATE_LIMIT: requests per minute per package token when the token sets none; 0 = unlimited.
  std::int64_t rate_limit_per_minute = 1000;
  // PB_AUDIT_RETENTION_DAYS: the cron trigger deletes audit entries older than this.
  std::int64_t audit_retention_days = 90;
  // PB_DIST_REDIRECT=presigned: /dist answers 302 to a short-lived pre-signed storage URL (after the token
  // and scope checks) when the host's store can sign one (blob.presign); otherwise it streams.
  bool dist_redirect_presigned = false;
  std::int64_t presign_ttl_s = 300;  // PB_PRESIGN_TTL_S: lifetime of those URLs
  // PB_INVALIDATION_BROADCAST=1 (set by the self-hosted server when replicas share a Redis): writes that
  // drop hot-cache entries tell the other instances at once (isolates.invalidate).
  bool broadcast_invalidations = false;
  // PB_MAX_ARCHIVE_BYTES: the largest upstream archive mirrored into R2 (bigger ones are refused with a
  // 502 and nothing stored). Archives stream through in 5 MiB parts, so this bounds storage and time,
  // not memory.
  std::int64_t max_archive_bytes = std::int64_t{1} << 30;
  // The host reads an R2 object into a response itself (configuration document "host": {"respond_r2":
  // true}; PROTOCOL.md http.respond "body_r2"): a warm /dist download is then one effect batch. Not a
  // Worker variable: the host declares what it implements (the Worker does; the native hosts do not).
  bool host_serves_r2 = false;

  // Every string binding, for sources whose credentials name a Worker secret ({"secret": NAME}).
  json vars = json::object();
  // Only secrets under this prefix may hold a source's credentials (never ADMIN_TOKEN or the keys).
  static constexpr std::string_view source_secret_prefix = "PB_SOURCE_";
  static bool valid_source_secret_name(std::string_view name);
  // The value of the Worker secret `name` when it is a valid source secret name, else empty.
  std::string_view source_secret(std::string_view name) const {
    return valid_source_secret_name(name) ? vars[name].as_string() : std::string_view();
  }

  // From the Worker's string bindings ({"NAME": "value", ...}); unknown or malformed values fall back
  // to the defaults above.
  static settings from_vars(json vars);
};

}  // namespace pb
