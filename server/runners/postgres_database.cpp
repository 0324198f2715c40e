#include "runners/postgres_database.h"

#include "http/url.h"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>

#include "runners/failure.h"

namespace pb::runners {

namespace {

// Malformed escapes stay as they are (the URL is then refused for what it says, not how it is escaped).
std::string decoded(std::string_view s) { return http::percent_decode(s).value_or(std::string(s)); }

constexpr Oid oid_bool = 16, oid_bytea = 17, oid_int8 = 20, oid_int2 = 21, oid_int4 = 23, oid_oid = 26, oid_text = 25,
              oid_float4 = 700, oid_float8 = 701, oid_numeric = 1700;


[[noreturn]] void lost(const std::string& why) { fail("Error", "D1_ERROR: Network connection lost. (" + why + ")"); }

std::string conn_error(PGconn* c) {
  std::string m = c ? PQerrorMessage(c) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

void quiet(void*, const char*) {}  // notices (e.g. "there is no transaction in progress") are not errors

json cell(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return json();
  const char* v = PQgetvalue(r, row, col);
  switch (PQftype(r, col)) {
    case oid_int8:
    case oid_int4:
    case oid_int2:
    case oid_oid: return json(static_cast<std::int64_t>(std::strtoll(v, nullptr, 10)));
    case oid_float4:
    case oid_float8: return json(std::strtod(v, nullptr));
    case oid_numeric: {
      std::string s(v);
      if (s.find_first_of(".eE") == std::string::npos) return json(static_cast<std::int64_t>(std::strtoll(v, nullptr, 10)));
      return json(std::strtod(v, nullptr));
    }
    case oid_bool: return json(std::int64_t{v[0] == 't' ? 1 : 0});  // SQLite has no booleans
    case oid_bytea: {
      json arr = json::array();
      std::string s(v);
      for (std::size_t i = 2; i + 1 < s.size(); i += 2) arr.push_back(json(static_cast<int>(std::strtol(s.substr(i, 2).c_str(), nullptr, 16))));
      return arr;
    }
    default: return json(std::string(v, static_cast<std::size_t>(PQgetlength(r, row, col))));
  }
}

json rows_of(const PGresult* r) {
  json rows = json::array();
  int n = PQntuples(r), cols = PQnfields(r);
  for (int i = 0; i < n; ++i) {
    json row = json::object();
    for (int c = 0; c < cols; ++c) row.set(PQfname(r, c), cell(r, i, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

// D1's wording for the errors the core recognises; everything else keeps PostgreSQL's message.
std::string d1_message(const PGresult* r) {
  auto field = [&](int code) {
    const char* v = PQresultErrorField(r, code);
    return std::string(v ? v : "");
  };
  std::string state = field(PG_DIAG_SQLSTATE), table = field(PG_DIAG_TABLE_NAME), constraint = field(PG_DIAG_CONSTRAINT_NAME);
  std::string primary = field(PG_DIAG_MESSAGE_PRIMARY);
  if (state == "23505") return "D1_ERROR: UNIQUE constraint failed: " + table + " (" + constraint + "): SQLITE_CONSTRAINT";
  if (state == "23503") return "D1_ERROR: FOREIGN KEY constraint failed (" + constraint + "): SQLITE_CONSTRAINT";
  if (state == "23514") return "D1_ERROR: CHECK constraint failed: " + constraint + ": SQLITE_CONSTRAINT";
  // 42P01/42703: 'relation "x" does not exist' / 'column "x" does not exist'.
  auto quoted = [&] {
    auto a = primary.find('"'), b = primary.rfind('"');
    return a != std::string::npos && b > a ? primary.substr(a + 1, b - a - 1) : primary;
  };
  if (state == "42P01") return "D1_ERROR: no such table: " + quoted() + ": SQLITE_ERROR";
  if (state == "42703") return "D1_ERROR: no such column: " + quoted() + ": SQLITE_ERROR";
  if (state == "23502") return "D1_ERROR: NOT NULL constraint failed: " + table + "." + field(PG_DIAG_COLUMN_NAME) + ": SQLITE_CONSTRAINT";
  return "D1_ERROR: " + primary + " (SQLSTATE " + state + ")";
}

}  // namespace

postgres_url parse_postgres_url(const std::string& url) {
  postgres_url out;
  if (url.rfind("postgres://", 0) != 0 && url.rfind("postgresql://", 0) != 0)
    fail("TypeError", "a PostgreSQL URL starts with postgres:// or postgresql://");
  std::string base = url, query;
  if (auto q = url.find('?'); q != std::string::npos) {
    base = url.substr(0, q);
    query = url.substr(q + 1);
  }
  std::string kept;
  std::size_t at = 0;
  while (at <= query.size() && !query.empty()) {
    std::size_t amp = query.find('&', at);
    std::string pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    std::string k = pair.substr(0, pair.find('=')), v = pair.find('=') == std::string::npos ? "" : decoded(pair.substr(pair.find('=') + 1));
    if (k == "pool_size") {
      out.pool_size = std::atoi(v.c_str());
      if (out.pool_size < 1 || out.pool_size > 1000) fail("TypeError", "pool_size must be between 1 and 1000");
    } else if (k == "pool_mode") {
      if (v != "transaction" && v != "session") fail("TypeError", "pool_mode must be transaction or session");
      out.named_statements = v != "transaction";
    } else if (k == "schema") {
      for (char c : v)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) fail("TypeError", "schema: letters, digits and _ only");
      out.schema = v;
    } else if (!pair.empty()) {
      kept += (kept.empty() ? "" : "&") + pair;
    }
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  out.conninfo = base + (kept.empty() ? "" : "?" + kept);
  out.redacted = out.conninfo;
  std::size_t scheme = out.redacted.find("://") + 3, atsign = out.redacted.find('@', scheme);
  std::size_t colon = out.redacted.find(':', scheme);
  if (atsign != std::string::npos && colon != std::string::npos && colon < atsign)
    out.redacted = out.redacted.substr(0, colon + 1) + "***" + out.redacted.substr(atsign);
  return out;
}

pg_session::pg_session(PGconn* conn, const postgres_url& url) : conn_(conn), named_(url.named_statements) {
  PQsetNoticeProcessor(conn_, quiet, nullptr);
}

pg_session::~pg_session() { PQfinish(conn_); }

bool pg_session::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

std::string pg_session::prepared(const std::string& key) const {
  auto it = prepared_.find(key);
  return it == prepared_.end() ? std::string() : it->second;
}

std::string pg_session::reserve_name() { return "pb_" + std::to_string(++next_name_); }

void pg_session::mark_prepared(const std::string& key, const std::string& name) {
  if (prepared_.size() > 2000) prepared_.clear();  // bounded; the server forgets, names are never reused
  prepared_[key] = name;
}

const char* pg_session::primary_keys_sql() {
  return "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
         "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name "
         "AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name "
         "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() "
         "ORDER BY tc.table_name, kcu.ordinal_position";
}

const char* pg_session::columns_sql() {
  return "SELECT table_name, column_name, (column_name = 'id' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')) AS identity "
         "FROM information_schema.columns WHERE table_schema = current_schema()";
}

void pg_session::load_schema(const json& pk_rows, const json& col_rows) {
  schema_ = {};
  for (const auto& r : pk_rows.as_array())
    schema_.primary_keys[std::string(r["table_name"].as_string())].push_back(std::string(r["column_name"].as_string()));
  for (const auto& r : col_rows.as_array()) {
    std::string table(r["table_name"].as_string());
    schema_.columns[table].insert(std::string(r["column_name"].as_string()));
    if (r["identity"].as_int() == 1) schema_.identity_id[table] = true;
  }
  schema_loaded_ = true;
}

const schema_info& pg_session::schema() {
  if (schema_loaded_) return schema_;
  json pk = json::array(), cols = json::array();
  for (auto [sql, out] : {std::pair{primary_keys_sql(), &pk}, std::pair{columns_sql(), &cols}}) {
    PGresult* r = PQexec(conn_, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) *out = rows_of(r);
    PQclear(r);
  }
  load_schema(pk, cols);
  return schema_;
}

std::unique_ptr<pg_session> connect_blocking(const postgres_url& url) {
  PGconn* c = PQconnectdb(url.conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = conn_error(c);
    PQfinish(c);
    lost(m);
  }
  auto s = std::make_unique<pg_session>(c, url);
  if (!url.schema.empty()) {
    PGresult* r = PQexec(c, ("SET search_path TO " + url.schema).c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) lost(conn_error(c));
  }
  return s;
}

// ---- pg_exchange ------------------------------------------------------------------------------------

pg_exchange::pg_exchange(pg_session& s, std::string op, std::vector<sql_statement> statements, bool raw)
    : s_(s), op_(std::move(op)), statements_(std::move(statements)) {
  read_only_ = true;
  for (const auto& st : statements_) {
    if (raw) {
      translated_sql t;
      t.sql = st.sql;
      t.parameter_count = static_cast<int>(st.params.size());
      t.read_only = false;
      translated_.push_back(std::move(t));
      read_only_ = false;
      continue;
    }
    translated_sql t = to_postgres(st.sql, s_.schema());
    if (!t.error.empty()) fail("Error", "D1_ERROR: " + t.error + ": SQLITE_ERROR");
    if (static_cast<std::size_t>(t.parameter_count) != st.params.size())
      fail("Error", "D1_ERROR: Wrong number of parameter bindings for SQL query.");
    read_only_ = read_only_ && t.read_only;
    translated_.push_back(std::move(t));
  }
  snapshot_ = read_only_ && statements_.size() > 1;
  results_.resize(statements_.size());
}

pg_exchange::~pg_exchange() = default;

bool pg_exchange::send() {
  PGconn* c = s_.conn();
  if (PQpipelineStatus(c) == PQ_PIPELINE_OFF && PQenterPipelineMode(c) != 1) return false;
  auto control = [&](const char* sql) {
    expected_.push_back({item::control, 0, {}, {}});
    return PQsendQueryParams(c, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  };
  if (snapshot_ && !control("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) return false;
  for (std::size_t i = 0; i < statements_.size(); ++i) {
    const json& params = statements_[i].params;
    std::vector<Oid> types;
    std::vector<std::string> text;
    std::vector<const char*> values;
    std::string key = translated_[i].sql + "\x1f";
    for (const auto& p : params.as_array()) {
      switch (p.type()) {
        case json::kind::null: types.push_back(0); text.emplace_back(); break;
        case json::kind::boolean: types.push_back(oid_int8); text.push_back(p.as_bool() ? "1" : "0"); break;
        case json::kind::integer: types.push_back(oid_int8); text.push_back(std::to_string(p.as_int())); break;
        case json::kind::number: {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", p.as_double());
          types.push_back(oid_float8);
          text.push_back(buf);
          break;
        }
        default: types.push_back(oid_text); text.emplace_back(p.as_string()); break;
      }
      key += std::to_string(types.back()) + ",";
    }
    for (std::size_t k = 0; k < text.size(); ++k) values.push_back(params.as_array()[k].is_null() ? nullptr : text[k].c_str());
    int n = static_cast<int>(values.size());
    if (!s_.named_statements()) {
      expected_.push_back({item::statement, i, {}, {}});
      if (PQsendQueryParams(c, translated_[i].sql.c_str(), n, types.data(), values.data(), nullptr, nullptr, 0) != 1) return false;
      continue;
    }
    std::string name = s_.prepared(key);
    if (name.empty()) {
      name = s_.reserve_name();
      expected_.push_back({item::prepare, i, key, name});
      if (PQsendPrepare(c, name.c_str(), translated_[i].sql.c_str(), n, types.data()) != 1) return false;
    }
    expected_.push_back({item::statement, i, {}, {}});
    if (PQsendQueryPrepared(c, name.c_str(), n, values.data(), nullptr, nullptr, 0) != 1) return false;
  }
  if (snapshot_ && !control("COMMIT")) return false;
  expected_.push_back({item::sync, 0, {}, {}});
  if (PQpipelineSync(c) != 1) return false;
  if (snapshot_) {
    // After a failed statement the block stays aborted past the Sync: roll it back in the same trip
    // (after a COMMIT this only raises a notice).
    if (!control("ROLLBACK")) return false;
    expected_.push_back({item::sync, 0, {}, {}});
    if (PQpipelineSync(c) != 1) return false;
  }
  ++s_.round_trips;
  return true;
}

void pg_exchange::take(PGresult* r, const expect& e) {
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_PIPELINE_ABORTED) return;
  if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
    if (e.kind == item::control && failed_) return;
    if (!failed_) {
      failed_ = true;
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      sqlstate_ = state ? state : "";
      error_ = d1_message(r);
      if (sqlstate_.empty() || sqlstate_.rfind("08", 0) == 0 || sqlstate_.rfind("57P", 0) == 0) {
        lost_ = true;
        error_ = "D1_ERROR: Network connection lost. (" + conn_error(s_.conn()) + ")";
      }
    }
    return;
  }
  if (e.kind == item::prepare) {
    if (st == PGRES_COMMAND_OK) s_.mark_prepared(e.key, e.name);
    return;
  }
  if (e.kind != item::statement) return;
  const translated_sql& t = translated_[e.index];
  if (t.ddl) s_.forget_schema();
  json rows = st == PGRES_TUPLES_OK ? rows_of(r) : json::array();
  std::int64_t changes = 0, last_row_id = 0;
  std::string status = PQcmdStatus(r);
  if (status.rfind("INSERT", 0) == 0 || status.rfind("UPDATE", 0) == 0 || status.rfind("DELETE", 0) == 0 ||
      status.rfind("MERGE", 0) == 0)
    changes = std::strtoll(PQcmdTuples(r), nullptr, 10);
  if (t.returning_added) {
    if (!rows.as_array().empty()) last_row_id = rows.as_array().back()["id"].as_int();
    rows = json::array();
  }
  results_[e.index] = statement_result(std::move(rows), changes, last_row_id);
}

bool pg_exchange::receive(bool blocking) {
  PGconn* c = s_.conn();
  while (!expected_.empty()) {
    if (!blocking) {
      if (PQconsumeInput(c) != 1) {
        failed_ = lost_ = true;
        error_ = "D1_ERROR: Network connection lost. (" + conn_error(c) + ")";
        expected_.clear();
        return true;
      }
      if (PQisBusy(c)) return false;
    }
    PGresult* r = PQgetResult(c);
    const expect& e = expected_.front();
    if (e.kind == item::sync) {
      if (r == nullptr) {  // the connection went away before the Sync's answer
        if (PQstatus(c) != CONNECTION_OK) {
          failed_ = lost_ = true;
          error_ = "D1_ERROR: Network connection lost. (" + conn_error(c) + ")";
          expected_.clear();
          return true;
        }
        continue;
      }
      PQclear(r);
      expected_.pop_front();
      continue;
    }
    if (r == nullptr) {
      if (PQstatus(c) != CONNECTION_OK) {
        failed_ = lost_ = true;
        error_ = "D1_ERROR: Network connection lost. (" + conn_error(c) + ")";
        expected_.clear();
        return true;
      }
      expected_.pop_front();
      continue;
    }
    take(r, e);
    PQclear(r);
  }
  if (PQpipelineStatus(c) != PQ_PIPELINE_OFF) PQexitPipelineMode(c);
  return true;
}

json pg_exchange::value() {
  if (failed_) fail(error_name_, error_);
  return d1_value(op_, std::move(results_));
}

// ---- postgres_database ---------------------------------------------------------------------------------

postgres_database::postgres_database(const postgres_url& url) : s_(connect_blocking(url)), url_(url) {}

json postgres_database::run(const json& effect) {
  for (int attempt = 0;; ++attempt) {
    if (s_->broken()) s_ = connect_blocking(url_);
    pg_exchange x(*s_, std::string(effect["op"].as_string()), d1_statements(effect));
    if (!x.send()) lost(conn_error(s_->conn()));
    x.receive(true);
    if (x.serialization_failure() && attempt < 5) continue;  // the batch rolled back whole: run it again
    return x.value();
  }
}

json postgres_database::query(const std::string& sql) {
  json e = json::object();
  e.set("op", json("d1.all"));
  e.set("sql", json(sql));
  e.set("params", json::array());
  return run(e)["results"];
}

json postgres_database::exec(const std::string& sql) {
  if (s_->broken()) s_ = connect_blocking(url_);
  PGresult* r = PQexec(s_->conn(), sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string m = d1_message(r);
    PQclear(r);
    fail("Error", m);
  }
  json rows = rows_of(r);
  PQclear(r);
  return rows;
}

bool postgres_database::apply_migration(const migration& m) {
  // The lock makes concurrent replicas take turns; the second finds the file recorded and skips it.
  exec("BEGIN");
  try {
    exec("SELECT pg_advisory_xact_lock(7301)");
    exec("CREATE TABLE IF NOT EXISTS d1_migrations (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
         "name TEXT UNIQUE, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    if (!exec("SELECT 1 FROM d1_migrations WHERE name = '" + m.name + "'").as_array().empty()) {
      exec("COMMIT");
      return false;
    }
    exec(m.sql);
    exec("INSERT INTO d1_migrations (name) VALUES ('" + m.name + "')");
    exec("COMMIT");
  } catch (...) {
    if (!s_->broken()) {
      PGresult* r = PQexec(s_->conn(), "ROLLBACK");
      PQclear(r);
    }
    throw;
  }
  s_->forget_schema();
  return true;
}

}  // namespace pb::runners
