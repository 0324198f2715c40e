// The d1.* effects on SQLite, the database D1 itself runs: the server's default (a file, WAL mode) and
// the native tests' database (in memory). One connection; not thread-safe (the server gives each of
// its database threads its own connection to the same file).
#pragma once

#include <string>

#include "runners/sql.h"

struct sqlite3;

namespace pb::runners {

class sqlite_database final : public sql_database {
 public:
  // path: a file (created if missing) or ":memory:". Foreign keys on, as on D1.
  explicit sqlite_database(const std::string& path);
  ~sqlite_database() override;
  sqlite_database(const sqlite_database&) = delete;
  sqlite_database& operator=(const sqlite_database&) = delete;

  json run(const json& effect) override;
  json query(const std::string& sql) override;
  bool apply_migration(const migration& m) override;
  std::string_view dialect() const override { return "sqlite"; }

  void exec(const std::string& sql);  // a script without parameters; throws failure
  sqlite3* handle() const { return db_; }

 private:
  json statement(const std::string& sql, const json& params);
  sqlite3* db_ = nullptr;
};

}  // namespace pb::runners
