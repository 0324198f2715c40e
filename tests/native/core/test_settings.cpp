// settings::from_vars: PB_PLAN and what it sizes, the previous encryption key, fallbacks.
#include <catch2/catch_test_macros.hpp>

#include "core/settings.h"

using namespace pb;

namespace {
settings with(std::initializer_list<std::pair<const char*, const char*>> kv) {
  json v = json::object();
  for (auto [k, val] : kv) v.set(k, json(val));
  return settings::from_vars(v);
}
}  // namespace

TEST_CASE("PB_PLAN sizes the subrequest budget and the sync slice", "[settings]") {
  CHECK(with({}).plan == plan::free);
  CHECK(with({}).subrequest_budget() == 50);
  CHECK(with({}).sync_packages_per_slice == 8);
  CHECK(with({{"PB_PLAN", "paid"}}).subrequest_budget() == 1000);
  CHECK(with({{"PB_PLAN", "paid"}}).sync_packages_per_slice == 150);
  CHECK(with({{"PB_PLAN", "Paid "}}).plan == plan::free);  // anything else: the smaller budget
  CHECK(with({{"PB_PLAN", "paid"}, {"PB_SYNC_PACKAGES_PER_SLICE", "20"}}).sync_packages_per_slice == 20);
}

TEST_CASE("the self-hosted server's plan has no subrequest budget", "[settings]") {
  settings s = with({{"PB_PLAN", "self-hosted"}});
  CHECK(s.plan == plan::self_hosted);
  CHECK(s.subrequest_budget() == INT64_MAX);
  CHECK(s.sync_packages_per_slice == 150);
}

TEST_CASE("the previous encryption key is read beside the current one", "[settings]") {
  settings s = with({{"PB_ENCRYPTION_KEY", "new"}, {"PB_ENCRYPTION_KEY_PREVIOUS", "old"}});
  CHECK(s.encryption_key == "new");
  CHECK(s.encryption_key_previous == "old");
  CHECK(with({}).encryption_key_previous.empty());
}
