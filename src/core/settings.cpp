#include "core/settings.h"

namespace pb {

namespace {
// A positive decimal number of at most `digits` digits, else the fallback.
std::int64_t positive_or(std::string_view text, std::int64_t fallback, std::size_t digits = 9) {
  if (text.empty() || text.size() > digits) return fallback;
  std::int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return fallback;
    n = n * 10 + (c - '0');
  }
  return n > 0 ? n : fallback;
}
}  // namespace

settings settings::from_vars(json v) {
  settings s;
  if (!v.is_object()) v = json::object();
  s.test_hooks = v["PB_TEST_HOOKS"].as_string() == "1";
  s.admin_token = std::string(v["ADMIN_TOKEN"].as_string());
  s.encryption_key = std::string(v["PB_ENCRYPTION_KEY"].as_string());
  s.sync_packages_per_slice = positive_or(v["PB_SYNC_PACKAGES_PER_SLICE"].as_string(), 8);
  s.max_archive_bytes = positive_or(v["PB_MAX_ARCHIVE_BYTES"].as_string(), s.max_archive_bytes, 15);
  s.vars = std::move(v);
  return s;
}

}  // namespace pb
