#include "core/settings.h"

namespace pb {

namespace {
// A positive decimal number below a sane bound, else the fallback.
std::int64_t positive_or(std::string_view text, std::int64_t fallback) {
  if (text.empty() || text.size() > 9) return fallback;
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
  s.encryption_key_previous = std::string(v["PB_ENCRYPTION_KEY_PREVIOUS"].as_string());
  // Anything but "paid" is the Free plan: a wrong value errs on the side of the smaller budget.
  s.plan = v["PB_PLAN"].as_string() == "paid" ? plan::paid : plan::free;
  // About 6 subrequests a package: 8 fit Free's 50, 150 fit Paid's 1,000 (the budget still has the last word).
  s.sync_packages_per_slice = positive_or(v["PB_SYNC_PACKAGES_PER_SLICE"].as_string(), s.plan == plan::paid ? 150 : 8);
  s.vars = std::move(v);
  return s;
}

}  // namespace pb
