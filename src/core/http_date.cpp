#include "core/http_date.h"

#include "core/text.h"

#include <array>
#include <cstdio>

namespace pb {

namespace {

constexpr std::array<std::string_view, 7> short_days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_days = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct civil {
  std::int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(std::int64_t y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

struct broken_down {
  civil date;
  int weekday;  // 0 = Sunday
  int hour, minute, second;
};

broken_down split(std::int64_t unix_ms) {
  const std::int64_t secs = floor_div(unix_ms, 1000);
  const std::int64_t days = floor_div(secs, 86400);
  const std::int64_t rem = secs - days * 86400;
  broken_down b{};
  b.date = civil_from_days(days);
  b.weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  b.hour = static_cast<int>(rem / 3600);
  b.minute = static_cast<int>(rem / 60 % 60);
  b.second = static_cast<int>(rem % 60);
  return b;
}


bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// A tiny cursor over the input; every step returns false on a mismatch.
struct cursor {
  std::string_view s;
  std::size_t i = 0;

  bool literal(std::string_view lit) {
    if (s.substr(i, lit.size()) != lit) return false;
    i += lit.size();
    return true;
  }
  bool digits(std::size_t n, int& out) {
    if (i + n > s.size()) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  }
  bool month(int& out) {
    for (std::size_t m = 0; m < months.size(); ++m) {
      if (iequals(s.substr(i, 3), months[m])) {
        out = static_cast<int>(m) + 1;
        i += 3;
        return true;
      }
    }
    return false;
  }
  bool word(std::string_view w) {
    if (!iequals(s.substr(i, w.size()), w)) return false;
    i += w.size();
    return true;
  }
  // hour ":" minute ":" second
  bool time_of_day(int& h, int& m, int& sec) {
    return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, sec);
  }
  bool at_end() const { return i == s.size(); }
};

std::optional<std::int64_t> to_unix(std::int64_t year, int month, int day, int h, int m, int sec) {
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (h > 23 || m > 59 || sec > 60) return std::nullopt;
  return days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + sec;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}


}  // namespace

std::string format_http_date(std::int64_t unix_ms) {
  const broken_down b = split(unix_ms);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04lld %02d:%02d:%02d GMT", short_days[b.weekday].data(), b.date.day,
                months[b.date.month - 1].data(), static_cast<long long>(b.date.year), b.hour, b.minute, b.second);
  return buf;
}

std::string format_iso8601(std::int64_t unix_ms) {
  const broken_down b = split(unix_ms);
  if (b.date.year >= 0 && b.date.year <= 9999) {
    // Written digit by digit: every version of a mirror rewrite formats its time (snprintf was 2%).
    char out[] = "0000-00-00T00:00:00+00:00";
    const auto put = [&](std::size_t at, std::int64_t v, int width) {
      for (int i = width - 1; i >= 0; --i, v /= 10) out[at + i] = static_cast<char>('0' + v % 10);
    };
    put(0, b.date.year, 4);
    put(5, b.date.month, 2);
    put(8, b.date.day, 2);
    put(11, b.hour, 2);
    put(14, b.minute, 2);
    put(17, b.second, 2);
    return std::string(out, sizeof out - 1);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d+00:00", static_cast<long long>(b.date.year),
                b.date.month, b.date.day, b.hour, b.minute, b.second);
  return buf;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  const std::string_view s = trim(text);
  int day = 0, month = 0, year = 0, h = 0, m = 0, sec = 0;

  // IMF-fixdate: day-name "," SP date1 SP time-of-day SP GMT, date1 = day SP month SP year
  for (std::string_view name : short_days) {
    cursor c{s};
    if (c.word(name) && c.literal(", ") && c.digits(2, day) && c.literal(" ") && c.month(month) && c.literal(" ") &&
        c.digits(4, year) && c.literal(" ") && c.time_of_day(h, m, sec) && c.literal(" ") && c.word("GMT") &&
        c.at_end())
      return to_unix(year, month, day, h, m, sec);
  }
  // RFC 850: day-name-l "," SP date2 SP time-of-day SP GMT, date2 = day "-" month "-" 2DIGIT
  for (std::string_view name : long_days) {
    cursor c{s};
    if (c.word(name) && c.literal(", ") && c.digits(2, day) && c.literal("-") && c.month(month) && c.literal("-") &&
        c.digits(2, year) && c.literal(" ") && c.time_of_day(h, m, sec) && c.literal(" ") && c.word("GMT") &&
        c.at_end())
      return to_unix(year < 70 ? 2000 + year : 1900 + year, month, day, h, m, sec);
  }
  // asctime: day-name SP date3 SP time-of-day SP year, date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
  for (std::string_view name : short_days) {
    cursor c{s};
    if (!(c.word(name) && c.literal(" ") && c.month(month) && c.literal(" "))) continue;
    if (c.literal(" ")) {
      if (!c.digits(1, day)) continue;
    } else if (!c.digits(2, day)) {
      continue;
    }
    if (c.literal(" ") && c.time_of_day(h, m, sec) && c.literal(" ") && c.digits(4, year) && c.at_end())
      return to_unix(year, month, day, h, m, sec);
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_iso8601(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return std::nullopt;
  std::int64_t ms = 0;
  std::int64_t offset_min = 0;
  std::size_t at = 10;
  if (at < s.size()) {
    if (s[at] != 'T' && s[at] != 't' && s[at] != ' ') return std::nullopt;
    if (!digits(s, at + 1, 2, h) || at + 3 >= s.size() || s[at + 3] != ':' || !digits(s, at + 4, 2, mi)) return std::nullopt;
    at += 6;
    if (at < s.size() && s[at] == ':') {
      if (!digits(s, at + 1, 2, sec)) return std::nullopt;
      at += 3;
      if (at < s.size() && s[at] == '.') {
        ++at;
        int scale = 100;
        std::size_t start = at;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
          ms += (s[at] - '0') * scale;
          scale /= 10;
          ++at;
        }
        if (at == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (at >= s.size()) return std::nullopt;  // a time needs a zone: Z or an offset
    if (s[at] == 'Z' || s[at] == 'z') {
      ++at;
    } else if (s[at] == '+' || s[at] == '-') {
      int oh, om;
      if (!digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' || !digits(s, at + 4, 2, om)) return std::nullopt;
      offset_min = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
      at += 6;
    } else {
      return std::nullopt;
    }
    if (at != s.size()) return std::nullopt;
  }
  std::int64_t days = days_from_civil(y, mo, d);
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  // Only instants the four-digit forms can write back: an offset must not carry the date into year -1
  // or 10000 (found by the request_headers fuzzer: "0000-01-01T00:00:00+02:00" came out as "-001-...").
  if (secs < days_from_civil(0, 1, 1) * 86400 || secs >= days_from_civil(10000, 1, 1) * 86400) return std::nullopt;
  return secs * 1000 + ms;
}

std::string format_iso8601_utc(std::int64_t unix_ms) {
  broken_down b = split(unix_ms);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(b.date.year), b.date.month,
                b.date.day, b.hour, b.minute, b.second);
  return buf;
}

std::string format_day(std::int64_t unix_ms) { return format_iso8601_utc(unix_ms).substr(0, 10); }

}  // namespace pb
