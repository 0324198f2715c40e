// The d1.* effects on PostgreSQL (libpq). Each effect is one pipeline: the translated statements
// (sql_translate.h) and one Sync, so a d1.batch is one implicit transaction (all or nothing) and costs
// one round trip; a batch of several SELECTs runs in a REPEATABLE READ READ ONLY block so it reads one
// snapshot, as it does on D1. Parameters travel separately (never spliced into SQL) with their types
// (int8, float8, text). Statements are prepared once per connection under a name; behind a pooler in
// transaction mode (PgBouncer) named statements would land on other server connections, so the URL
// option pool_mode=transaction keeps every statement unnamed. Errors read like D1's for what the core
// tells apart ("UNIQUE constraint failed", ...).
//
// `pg_session` + `pg_exchange` are the building blocks: the server drives them non-blocking on its
// event loop (host/pg_pool.h); `postgres_database` drives them blocking (tests, migrations, cron).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runners/sql.h"
#include "runners/sql_translate.h"

struct pg_conn;
typedef struct pg_conn PGconn;
struct pg_result;
typedef struct pg_result PGresult;

namespace pb::runners {

// postgres://user:password@host:port/db?libpq-options&pool_size=N&pool_mode=transaction&schema=S
struct postgres_url {
  std::string conninfo;         // what libpq gets (our own options removed)
  int pool_size = 8;            // connections per server instance
  bool named_statements = true; // false with pool_mode=transaction
  std::string schema;           // search_path for every connection (tests use one schema each)
  std::string redacted;         // for logs: the URL without its password
};
// Throws failure(TypeError) for a URL that is not postgres:// or postgresql://, or a bad option.
postgres_url parse_postgres_url(const std::string& url);

// One connection's state beyond libpq's: its prepared statements and the schema facts the translator
// needs (loaded on first use, reloaded after migrations).
class pg_session {
 public:
  pg_session(PGconn* conn, const postgres_url& url);
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  PGconn* conn() const { return conn_; }
  bool broken() const;
  const schema_info& schema();  // blocking catalog read on first use
  void forget_schema() { schema_loaded_ = false; }
  bool schema_loaded() const { return schema_loaded_; }
  // The catalog queries behind schema_info, and loading their rows (the server runs them itself,
  // without blocking).
  static const char* primary_keys_sql();
  static const char* columns_sql();
  void load_schema(const json& primary_key_rows, const json& column_rows);
  bool named_statements() const { return named_; }
  // The statement name for (sql, types) if it is prepared on this connection, else "".
  std::string prepared(const std::string& key) const;
  std::string reserve_name();
  void mark_prepared(const std::string& key, const std::string& name);
  std::uint64_t round_trips = 0;

 private:
  PGconn* conn_;
  bool named_;
  std::unordered_map<std::string, std::string> prepared_;
  std::uint64_t next_name_ = 0;
  schema_info schema_;
  bool schema_loaded_ = false;
};

// Opens a blocking connection (search_path set when the URL names a schema); throws failure.
std::unique_ptr<pg_session> connect_blocking(const postgres_url& url);

// One effect's statements in flight on a session.
class pg_exchange {
 public:
  // op: the d1.* op. Translation errors throw failure before anything is sent. raw: the statements are
  // PostgreSQL already (the server's own catalog and maintenance queries), not translated.
  pg_exchange(pg_session& s, std::string op, std::vector<sql_statement> statements, bool raw = false);
  ~pg_exchange();
  pg_exchange(const pg_exchange&) = delete;
  pg_exchange& operator=(const pg_exchange&) = delete;

  bool read_only() const { return read_only_; }
  // Queues everything in libpq (pipeline mode). False: the connection failed.
  bool send();
  // Takes the results libpq has; blocking waits for them. True once every result is in.
  bool receive(bool blocking);
  // The effect's value; throws failure (after receive returned true).
  json value();
  // A failure that means the connection is unusable (the pool drops it).
  bool connection_lost() const { return lost_; }
  bool serialization_failure() const { return sqlstate_ == "40001"; }

 private:
  enum class item { control, prepare, statement, sync };
  struct expect {
    item kind;
    std::size_t index = 0;  // statement index
    std::string key, name;  // prepare: cache key and name
  };
  void take(PGresult* r, const expect& e);

  pg_session& s_;
  std::string op_;
  std::vector<sql_statement> statements_;
  std::vector<translated_sql> translated_;
  std::vector<json> results_;
  std::deque<expect> expected_;
  bool read_only_ = false;
  bool snapshot_ = false;  // several reads in one REPEATABLE READ block
  bool failed_ = false, lost_ = false;
  std::string error_name_ = "Error", error_;
  std::string sqlstate_;
};

// Blocking: for tests (PB_TEST_DATABASE_URL), migrations and the server's maintenance work.
class postgres_database final : public sql_database {
 public:
  explicit postgres_database(const postgres_url& url);
  json run(const json& effect) override;
  json query(const std::string& sql) override;
  bool apply_migration(const migration& m) override;
  std::string_view dialect() const override { return "postgres"; }
  // Raw SQL in PostgreSQL's own dialect (maintenance: partitions); returns rows.
  json exec(const std::string& sql);
  pg_session& session() { return *s_; }

 private:
  std::unique_ptr<pg_session> s_;
  postgres_url url_;
};

}  // namespace pb::runners
