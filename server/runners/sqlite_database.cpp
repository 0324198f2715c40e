#include "runners/sqlite_database.h"

#include <sqlite3.h>

#include "runners/failure.h"

namespace pb::runners {

namespace {

std::string d1_error(sqlite3* db) {
  // D1's text for a failed statement, e.g. "D1_ERROR: UNIQUE constraint failed: tokens.token_hash: SQLITE_CONSTRAINT".
  int code = sqlite3_errcode(db) & 0xff;
  const char* name = code == SQLITE_CONSTRAINT ? "SQLITE_CONSTRAINT" : code == SQLITE_BUSY ? "SQLITE_BUSY" : "SQLITE_ERROR";
  return std::string("D1_ERROR: ") + sqlite3_errmsg(db) + ": " + name;
}

void bind_params(sqlite3* db, sqlite3_stmt* st, const json& params) {
  int i = 1;
  for (const auto& p : params.as_array()) {
    int rc = SQLITE_OK;
    switch (p.type()) {
      case json::kind::null: rc = sqlite3_bind_null(st, i); break;
      case json::kind::boolean: rc = sqlite3_bind_int64(st, i, p.as_bool() ? 1 : 0); break;
      case json::kind::integer: rc = sqlite3_bind_int64(st, i, p.as_int()); break;
      case json::kind::number: rc = sqlite3_bind_double(st, i, p.as_double()); break;
      case json::kind::string: {
        auto s = p.as_string();
        rc = sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        break;
      }
      default: fail("Error", "D1_TYPE_ERROR: Type 'object' not supported for value " + p.dump());
    }
    if (rc != SQLITE_OK) fail("Error", d1_error(db));
    ++i;
  }
}

json column_value(sqlite3_stmt* st, int c) {
  switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: return json(static_cast<std::int64_t>(sqlite3_column_int64(st, c)));
    case SQLITE_FLOAT: return json(sqlite3_column_double(st, c));
    case SQLITE_TEXT:
      return json(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, c)),
                              static_cast<std::size_t>(sqlite3_column_bytes(st, c))));
    case SQLITE_BLOB: {  // D1 returns blobs as arrays of byte values
      json arr = json::array();
      auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, c));
      for (int i = 0; i < sqlite3_column_bytes(st, c); ++i) arr.push_back(json(int{p[i]}));
      return arr;
    }
    default: return json();
  }
}

struct statement_guard {
  sqlite3_stmt* st = nullptr;
  ~statement_guard() { sqlite3_finalize(st); }
};

}  // namespace

sqlite_database::sqlite_database(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    fail("Error", "D1_ERROR: cannot open " + path + ": " + m);
  }
  exec("PRAGMA foreign_keys = ON");  // D1 enforces foreign keys
  if (path != ":memory:") {
    // Several connections (the server's database threads) share the file: WAL lets readers run beside
    // the writer; a writer waits for another instead of failing at once.
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = NORMAL");
  }
}

sqlite_database::~sqlite_database() { sqlite3_close(db_); }

void sqlite_database::exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    fail("Error", "D1_ERROR: " + m);
  }
}

json sqlite_database::statement(const std::string& sql, const json& params) {
  statement_guard g;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &g.st, &tail) != SQLITE_OK) fail("Error", d1_error(db_));
  if (!g.st) fail("Error", "D1_ERROR: Cannot prepare an empty SQL statement");
  if (static_cast<std::size_t>(sqlite3_bind_parameter_count(g.st)) != params.size())
    fail("Error", "D1_ERROR: Wrong number of parameter bindings for SQL query.");
  bind_params(db_, g.st, params);
  json rows = json::array();
  int rc;
  while ((rc = sqlite3_step(g.st)) == SQLITE_ROW) {
    json row = json::object();
    for (int c = 0; c < sqlite3_column_count(g.st); ++c) row.set(sqlite3_column_name(g.st, c), column_value(g.st, c));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) fail("Error", d1_error(db_));
  bool writes = !sqlite3_stmt_readonly(g.st);
  return statement_result(std::move(rows), writes ? sqlite3_changes64(db_) : 0, sqlite3_last_insert_rowid(db_));
}

json sqlite_database::run(const json& effect) {
  std::string_view op = effect["op"].as_string();
  auto statements = d1_statements(effect);
  std::vector<json> results;
  if (op != "d1.batch") {
    results.push_back(statement(statements[0].sql, statements[0].params));
    return d1_value(op, std::move(results));
  }
  // IMMEDIATE: the batch holds the write lock from its start, so two batches never deadlock upgrading.
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& s : statements) results.push_back(statement(s.sql, s.params));
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  exec("COMMIT");
  return d1_value(op, std::move(results));
}

json sqlite_database::query(const std::string& sql) { return statement(sql, json::array())["results"]; }

bool sqlite_database::apply_migration(const migration& m) {
  exec("BEGIN IMMEDIATE");
  try {
    exec("CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, "
         "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)");
    json name = json::array();
    name.push_back(json(m.name));
    if (!statement("SELECT 1 FROM d1_migrations WHERE name = ?", name)["results"].as_array().empty()) {
      exec("COMMIT");
      return false;
    }
    exec(m.sql);
    statement("INSERT INTO d1_migrations (name) VALUES (?)", name);
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  exec("COMMIT");
  return true;
}

}  // namespace pb::runners
