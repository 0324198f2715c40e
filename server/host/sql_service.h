// The d1.* effects on the server's database. SQLite (the default): each of PB_DB_THREADS blocking
// threads keeps its own connection to the file (WAL), so the loop never waits on SQLite. PostgreSQL: a
// bounded pool of non-blocking libpq connections on the loop (URL option pool_size, default 8), and
// with PB_DATABASE_REPLICA_URL a second pool for the read replica: reads an invocation may take from it
// (composer's read paths, before that invocation wrote anything) go there while it is caught up and no
// write by this instance — or announced by another one — happened in the last 2 seconds.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/json.h"
#include "host/async.h"
#include "host/metrics.h"

namespace pb::server {

class sql_service {
 public:
  virtual ~sql_service() = default;
  // Runs a d1.* effect (throws runners::failure). replica_ok: the caller accepts a slightly stale read.
  // Sets wrote when the effect may have written.
  virtual awaitable<json> run(json effect, bool replica_ok, bool& wrote) = 0;
  // PostgreSQL's own SQL (maintenance: partitions), on the primary, one transaction.
  virtual awaitable<json> run_native(std::vector<std::string> statements) = 0;
  virtual std::map<std::string, pool_stats> stats() const = 0;
  virtual std::string describe() const = 0;
  virtual std::string_view dialect() const = 0;
  virtual void start() {}
  virtual void stop() {}
  // Another instance changed data (an invalidation arrived): read from the primary for a while.
  virtual void saw_remote_write() {}
};

// Migrates the database (blocking, at startup) and opens the service.
std::unique_ptr<sql_service> open_sql_service(asio::io_context& io, asio::thread_pool& blocking, const std::string& url,
                                              const std::string& replica_url, metrics& m, int threads);

}  // namespace pb::server
