#include "host/cron.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "runners/failure.h"

namespace pb::server {

namespace {

struct month {
  int year, mon;  // mon 1..12
  month plus(int n) const {
    int m = year * 12 + (mon - 1) + n;
    return {m / 12, m % 12 + 1};
  }
  std::string day1() const {
    char b[16];
    std::snprintf(b, sizeof b, "%04d-%02d-01", year, mon);
    return b;
  }
  std::string table() const {
    char b[32];
    std::snprintf(b, sizeof b, "downloads_%04d_%02d", year, mon);
    return b;
  }
  bool operator<(const month& o) const { return year * 12 + mon < o.year * 12 + o.mon; }
};

month month_of(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1};
}

json d1_run(std::string sql, json params) {
  json e = json::object();
  e.set("op", json("d1.run"));
  e.set("sql", json(std::move(sql)));
  e.set("params", std::move(params));
  return e;
}

}  // namespace

std::vector<std::vector<std::string>> partition_upkeep(const std::vector<std::string>& existing, std::time_t now, int retention_months) {
  std::vector<std::vector<std::string>> out;
  month current = month_of(now);
  // This month and the next two exist before any row needs them.
  for (int i = 0; i < 3; ++i) {
    month m = current.plus(i);
    if (std::find(existing.begin(), existing.end(), m.table()) != existing.end()) continue;
    std::string from = m.day1(), to = m.plus(1).day1(), t = m.table();
    out.push_back({
        "CREATE TABLE IF NOT EXISTS " + t + " (LIKE downloads INCLUDING DEFAULTS)",
        // Rows that landed in the default partition for this month move along (attaching would fail).
        "WITH moved AS (DELETE FROM downloads_default WHERE day >= '" + from + "' AND day < '" + to +
            "' RETURNING *) INSERT INTO " + t + " SELECT * FROM moved",
        "ALTER TABLE downloads ATTACH PARTITION " + t + " FOR VALUES FROM ('" + from + "') TO ('" + to + "')",
    });
  }
  if (retention_months > 0) {
    month oldest = current.plus(-retention_months);  // partitions before this month go
    for (const auto& name : existing) {
      int y = 0, m = 0;
      if (std::sscanf(name.c_str(), "downloads_%4d_%2d", &y, &m) != 2) continue;
      if (month{y, m} < oldest) out.push_back({"DROP TABLE IF EXISTS " + name});
    }
    out.push_back({"DELETE FROM downloads_default WHERE day < '" + oldest.day1() + "'"});
  }
  return out;
}

cron_timer::cron_timer(services& s, http_server& server) : s_(s), server_(server), timer_(s.io) {}

void cron_timer::start() {
  if (s_.config.cron_interval_s <= 0) return;
  asio::co_spawn(s_.io, loop(), asio::detached);
}

void cron_timer::stop() {
  stopping_ = true;
  timer_.cancel();
}

awaitable<void> cron_timer::loop() {
  // The first tick comes soon after start (the partitions exist before the first download), then
  // every interval.
  auto wait = std::chrono::seconds(std::min(5, s_.config.cron_interval_s));
  while (!stopping_) {
    timer_.expires_after(wait);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (stopping_) break;
    try {
      (void)co_await tick();
    } catch (const runners::failure& f) {
      std::cerr << "{\"level\":\"error\",\"msg\":\"cron\",\"error\":\"" << f.name << ": " << f.message << "\"}" << std::endl;
    } catch (const std::exception& x) {
      std::cerr << "{\"level\":\"error\",\"msg\":\"cron\",\"error\":\"" << x.what() << "\"}" << std::endl;
    }
    wait = std::chrono::seconds(s_.config.cron_interval_s);
  }
}

awaitable<bool> cron_timer::tick() {
  std::int64_t now = now_ms();
  // Held until well past the next tick; the holder renews it each time, another replica takes it over
  // once it runs out (the holder stopped).
  std::int64_t until = now + std::max<std::int64_t>(3 * s_.config.cron_interval_s, 300) * 1000;
  bool wrote = false;
  json lease = co_await s_.sql.run(
      d1_run("INSERT INTO leases (name, holder, until_ms) VALUES ('cron', ?, ?) ON CONFLICT (name) DO UPDATE SET "
             "holder = excluded.holder, until_ms = excluded.until_ms WHERE leases.until_ms < ? OR leases.holder = excluded.holder",
             json(json_array{json(s_.config.instance_id), json(until), json(now)})),
      false, wrote);
  if (lease["meta"]["changes"].as_int() != 1) co_return false;
  ++s_.stats.cron_runs;
  s_.stats.cron_last_ms = now;

  server_.track(1);
  // The expression tells the core (and /health's cron check) the period: minutes below an hour, hours
  // below a day, else daily.
  int minutes = std::max(1, s_.config.cron_interval_s / 60);
  std::string every = minutes < 60                          ? "*/" + std::to_string(minutes) + " * * * *"
                      : minutes % 60 == 0 && minutes < 1440 ? "0 */" + std::to_string(minutes / 60) + " * * *"
                                                            : "0 0 * * *";
  auto inv = std::make_shared<invocation>(s_, scheduled_start_document(every), nullptr, false);
  try {
    co_await inv->run({});
  } catch (...) {
    server_.track(-1);
    throw;
  }
  server_.track(-1);

  if (s_.sql.dialect() == "postgres") {
    json rows = co_await s_.sql.run_native({"SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                            "WHERE i.inhparent = 'downloads'::regclass"});
    std::vector<std::string> existing;
    for (const auto& r : rows["results"].as_array()[0]["results"].as_array()) existing.emplace_back(r["relname"].as_string());
    for (auto& step : partition_upkeep(existing, static_cast<std::time_t>(now / 1000), s_.config.downloads_retention_months))
      (void)co_await s_.sql.run_native(std::move(step));
  } else if (s_.config.downloads_retention_months > 0) {
    month oldest = month_of(static_cast<std::time_t>(now / 1000)).plus(-s_.config.downloads_retention_months);
    (void)co_await s_.sql.run(d1_run("DELETE FROM downloads WHERE day < ?", json(json_array{json(oldest.day1())})), false, wrote);
  }
  co_return true;
}

}  // namespace pb::server
