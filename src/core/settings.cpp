#include "core/settings.h"

#include <algorithm>

#include "core/text.h"

namespace pb {

namespace {
// A decimal number of at most `digits` digits (a sane bound), else the fallback.
std::int64_t number_or(std::string_view text, std::int64_t fallback, std::size_t digits = 9) {
  if (text.empty() || text.size() > digits) return fallback;
  std::int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return fallback;
    n = n * 10 + (c - '0');
  }
  return n;
}
std::int64_t positive_or(std::string_view text, std::int64_t fallback, std::size_t digits = 9) {
  std::int64_t n = number_or(text, fallback, digits);
  return n > 0 ? n : fallback;
}

// A vendor name as Composer allows it, or such a name with '*' wildcards.
bool vendor_pattern(std::string_view v) {
  if (v.empty() || v.size() > 100) return false;
  for (char c : v)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '*')) return false;
  return true;
}
}  // namespace

settings settings::from_vars(json v) {
  settings s;
  if (!v.is_object()) v = json::object();
  s.test_hooks = v["PB_TEST_HOOKS"].as_string() == "1";
  s.admin_token = std::string(v["ADMIN_TOKEN"].as_string());
  s.encryption_key = std::string(v["PB_ENCRYPTION_KEY"].as_string());
  s.encryption_key_previous = std::string(v["PB_ENCRYPTION_KEY_PREVIOUS"].as_string());
  // Anything but "paid" is the Free plan: a wrong value errs on the side of the smaller budget.
  std::string_view plan_name = v["PB_PLAN"].as_string();
  s.plan = plan_name == "paid" ? plan::paid : plan_name == "self-hosted" ? plan::self_hosted : plan::free;
  // About 6 subrequests a package: 8 fit Free's 50, 150 fit Paid's 1,000 (the budget still has the last word).
  s.sync_packages_per_slice = positive_or(v["PB_SYNC_PACKAGES_PER_SLICE"].as_string(), s.plan == plan::free ? 8 : 150);
  s.rate_limit_per_minute = number_or(v["PB_RATE_LIMIT"].as_string(), s.rate_limit_per_minute);
  s.audit_retention_days = positive_or(v["PB_AUDIT_RETENTION_DAYS"].as_string(), s.audit_retention_days);
  s.webhook_key = std::string(v["PB_WEBHOOK_KEY"].as_string());
  // Comma- or space-separated vendor names or patterns; entries that are not patterns are ignored.
  std::string_view list = v["PB_PRIVATE_VENDORS"].as_string();
  std::string item;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    char c = i < list.size() ? list[i] : ',';
    if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
      if (vendor_pattern(item)) s.private_vendors.push_back(item);
      item.clear();
    } else {
      item += ascii_lower(c);
    }
  }
  s.dist_redirect_presigned = v["PB_DIST_REDIRECT"].as_string() == "presigned";
  s.presign_ttl_s = std::min<std::int64_t>(positive_or(v["PB_PRESIGN_TTL_S"].as_string(), 300), 7 * 24 * 3600);
  s.broadcast_invalidations = v["PB_INVALIDATION_BROADCAST"].as_string() == "1";
  s.max_archive_bytes = positive_or(v["PB_MAX_ARCHIVE_BYTES"].as_string(), s.max_archive_bytes, 15);
  s.vars = std::move(v);
  return s;
}

bool settings::valid_source_secret_name(std::string_view name) {
  if (name.size() <= source_secret_prefix.size() || name.size() > 64 || name.substr(0, source_secret_prefix.size()) != source_secret_prefix)
    return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace pb
