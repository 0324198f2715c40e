// The cron trigger of the self-hosted server: every PB_CRON_INTERVAL_S each replica tries to take the
// "cron" lease in the database (table leases, migration 0007_server); the one holding it runs the core's
// scheduled invocation (source syncs, as Cloudflare's cron trigger does) and the download counters'
// upkeep: on PostgreSQL the next months' partitions are made ahead of time and partitions older than
// PB_DOWNLOADS_RETENTION_MONTHS are dropped; on SQLite old rows are deleted.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "host/async.h"
#include "host/http_server.h"
#include "host/invocation.h"

namespace pb::server {

class cron_timer {
 public:
  cron_timer(services& s, http_server& server);
  void start();
  void stop();
  // One tick now (tests and the first run after start): lease, scheduled run, upkeep.
  awaitable<bool> tick();

 private:
  awaitable<void> loop();
  services& s_;
  http_server& server_;
  asio::steady_timer timer_;
  bool stopping_ = false;
};

// The DDL that keeps `downloads` partitioned by month (PostgreSQL), given the partitions that exist:
// statements to run in one transaction each (create + move rows out of the default + attach, or drop).
std::vector<std::vector<std::string>> partition_upkeep(const std::vector<std::string>& existing, std::time_t now, int retention_months);

}  // namespace pb::server
