// cron_interval_ms: the schedules a deployment uses, and the conservative answer for the rest.
#include <catch2/catch_test_macros.hpp>

#include "core/cron.h"

using namespace pb;

TEST_CASE("cron intervals of the usual schedules", "[cron]") {
  CHECK(cron_interval_ms("*/15 * * * *") == 15 * 60'000);
  CHECK(cron_interval_ms("  */5   * * * * ") == 5 * 60'000);
  CHECK(cron_interval_ms("* * * * *") == 60'000);
  CHECK(cron_interval_ms("7 * * * *") == 60 * 60'000);
  CHECK(cron_interval_ms("0 */6 * * *") == 6 * 60 * 60'000);
  CHECK(cron_interval_ms("30 3 * * *") == 24 * 60 * 60'000);
}

TEST_CASE("unrecognised schedules count as daily", "[cron]") {
  for (const char* e : {"", "*/15 * * *", "*/15 * * * * *", "0 0 * * 1", "1,31 * * * *", "*/0 * * * *", "*/99 * * * *", "x * * * *"})
    CHECK(cron_interval_ms(e) == 24 * 60 * 60'000);
}
