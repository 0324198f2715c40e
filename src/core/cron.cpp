#include "core/cron.h"

#include <array>
#include <utility>

namespace pb {

namespace {

constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t day_ms = 24 * 60 * minute_ms;

// "N" (0-59 / 0-23): true and the value; anything else: false.
bool number(std::string_view f, int max) {
  if (f.empty() || f.size() > 2) return false;
  int n = 0;
  for (char c : f) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n <= max;
}

// "*/N" with 1 <= N <= max: N, else 0.
int step(std::string_view f, int max) {
  if (f.substr(0, 2) != "*/" || !number(f.substr(2), max)) return 0;
  int n = 0;
  for (char c : f.substr(2)) n = n * 10 + (c - '0');
  return n;
}

}  // namespace

std::int64_t cron_interval_ms(std::string_view expression) {
  std::array<std::string_view, 5> f{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < expression.size();) {
    while (i < expression.size() && expression[i] == ' ') ++i;
    std::size_t end = expression.find(' ', i);
    if (end == std::string_view::npos) end = expression.size();
    if (end > i) {
      if (count == f.size()) return day_ms;
      f[count++] = expression.substr(i, end - i);
    }
    i = end;
  }
  if (count != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*") return day_ms;
  auto [minute, hour] = std::pair{f[0], f[1]};
  if (hour == "*") {
    if (minute == "*") return minute_ms;
    if (int n = step(minute, 59)) return n * minute_ms;
    if (number(minute, 59)) return 60 * minute_ms;
    return day_ms;
  }
  if (!number(minute, 59)) return day_ms;
  if (int n = step(hour, 23)) return n * 60 * minute_ms;
  return day_ms;  // a fixed hour: daily
}

}  // namespace pb
