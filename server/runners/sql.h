// The SQL runner for the d1.* effects: one interface, two databases. `sqlite_database` (the default,
// and what the native tests run) and `postgres_database` execute D1's semantics: rows as objects,
// meta.changes / meta.last_row_id, a batch is one transaction, D1's limit of 100 bound parameters and
// its error texts for the failures the core tells apart ("UNIQUE constraint failed"). Migrations are
// the files in d1/migrations (SQLite) and d1/postgres (PostgreSQL), embedded in the binary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace pb::runners {

struct sql_statement {
  std::string sql;
  json params;  // array of null / integer / number / string / boolean
};

// The statements of a d1.* effect, checked the way D1 checks them (throws failure).
std::vector<sql_statement> d1_statements(const json& effect);
// The effect's value from each statement's {"results":[...],"meta":{...}}.
json d1_value(std::string_view op, std::vector<json> statement_results);
// One statement's result document.
json statement_result(json rows, std::int64_t changes, std::int64_t last_row_id);

struct migration {
  std::string name;  // file name, e.g. "0002_packages_tokens.sql"
  std::string sql;
};

class sql_database {
 public:
  virtual ~sql_database() = default;
  // Runs a d1.all / d1.first / d1.run / d1.batch effect; returns its value or throws failure.
  virtual json run(const json& effect) = 0;
  // Raw SQL in the core's dialect, no parameters: the rows (tests and host maintenance).
  virtual json query(const std::string& sql) = 0;
  // Applies one migration unless d1_migrations (the table wrangler keeps for D1) records it: the check,
  // the script and the record in one transaction that concurrent callers take in turn (SQLite: BEGIN
  // IMMEDIATE; PostgreSQL: an advisory transaction lock). Returns whether it was applied now.
  virtual bool apply_migration(const migration& m) = 0;
  virtual std::string_view dialect() const = 0;  // "sqlite" or "postgres"
};

// The migrations compiled into the binary for a dialect, in order.
const std::vector<migration>& embedded_migrations(std::string_view dialect);

// Applies the embedded migrations not yet applied, in order; concurrent callers (replicas starting
// together) apply each file once. Returns the names applied now.
std::vector<std::string> migrate(sql_database& db);

}  // namespace pb::runners
