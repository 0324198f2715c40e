#include "host/sql_service.h"

#include <libpq-fe.h>

#include <deque>
#include <filesystem>

#include "runners/failure.h"
#include "runners/postgres_database.h"
#include "runners/sql.h"
#include "runners/sql_translate.h"
#include "runners/sqlite_database.h"

namespace pb::server {

using runners::fail;

namespace {

constexpr std::int64_t replica_sticky_ms = 2000;

bool effect_reads_only(const json& e) {
  for (const auto& s : runners::d1_statements(e))
    if (!runners::to_postgres(s.sql, {}).read_only) return false;
  return true;
}

// ---- SQLite ---------------------------------------------------------------------------------------------

class sqlite_service final : public sql_service {
 public:
  sqlite_service(asio::thread_pool& blocking, std::string path, metrics& m, int threads)
      : blocking_(blocking), path_(std::move(path)), m_(m), threads_(threads) {}

  awaitable<json> run(json effect, bool, bool& wrote) override {
    wrote = !effect_reads_only(effect);
    ++m_.queries["sqlite"];
    ++busy_;
    auto started = std::chrono::steady_clock::now();
    std::string path = path_;
    try {
      json v = co_await offload(blocking_, [path, e = std::move(effect)] { return connection(path).run(e); });
      --busy_;
      wait_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      co_return v;
    } catch (...) {
      --busy_;
      throw;
    }
  }

  awaitable<json> run_native(std::vector<std::string>) override { fail("NotSupported", "no native SQL on SQLite"); }

  std::map<std::string, pool_stats> stats() const override {
    pool_stats p;
    p.size = threads_;
    p.busy = busy_;
    p.wait_seconds_total = wait_;
    return {{"sqlite", p}};
  }
  std::string describe() const override { return "sqlite://" + path_; }
  std::string_view dialect() const override { return "sqlite"; }

 private:
  // One connection per blocking thread (SQLite connections are not shared across threads).
  static runners::sqlite_database& connection(const std::string& path) {
    thread_local std::unique_ptr<runners::sqlite_database> db;
    if (!db) db = std::make_unique<runners::sqlite_database>(path);
    return *db;
  }
  asio::thread_pool& blocking_;
  std::string path_;
  metrics& m_;
  int threads_, busy_ = 0;
  double wait_ = 0;
};

// ---- PostgreSQL ----------------------------------------------------------------------------------------------

// Waits until fd is readable or writable (false on timeout).
awaitable<bool> wait_fd(asio::io_context& io, int fd, bool write, std::chrono::milliseconds timeout) {
  asio::posix::stream_descriptor d(io, fd);
  asio::steady_timer t(io);
  t.expires_after(timeout);
  bool timed_out = false;
  t.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      boost::system::error_code ignored;
      d.cancel(ignored);
    }
  });
  boost::system::error_code ec;
  co_await d.async_wait(write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read,
                        asio::redirect_error(use_awaitable, ec));
  t.cancel();
  d.release();
  co_return !timed_out;
}

class pg_pool {
 public:
  pg_pool(asio::io_context& io, runners::postgres_url url, std::string name) : io_(io), url_(std::move(url)), name_(std::move(name)), freed_(io.get_executor()) {}

  struct slot {
    std::unique_ptr<runners::pg_session> s;
    std::unique_ptr<asio::posix::stream_descriptor> sock;
    bool busy = false;
    ~slot() {
      if (sock) sock->release();  // libpq owns the socket
    }
  };

  // Runs one effect (or raw statements) on a pooled connection. A lost connection is replaced, and a
  // read-only effect is tried once more on a fresh one.
  awaitable<json> run(std::string op, std::vector<runners::sql_statement> statements, bool raw) {
    for (int attempt = 0;; ++attempt) {
      auto sl = co_await acquire();
      std::optional<runners::pg_exchange> x;
      bool sent = false;
      std::exception_ptr error;
      try {
        if (!sl->s->schema_loaded() && !raw) co_await load_schema(*sl);
        x.emplace(*sl->s, op, statements, raw);
        sent = x->send();
        if (sent) {
          co_await flush(*sl);
          while (!x->receive(false)) co_await readable(*sl);
        }
      } catch (...) {
        error = std::current_exception();
      }
      bool lost = sl->s->broken() || !sent || (x && x->connection_lost());
      release(sl, lost);
      if (error && !x) std::rethrow_exception(error);  // translation or parameter errors: nothing was sent
      bool read_only = x && x->read_only();
      if (lost && read_only && attempt == 0) continue;  // a read is safe to repeat on a fresh connection
      if (error || !sent) fail("Error", "D1_ERROR: Network connection lost.");
      if (x->serialization_failure() && attempt < 5) continue;  // the batch rolled back whole
      co_return x->value();
    }
  }

  pool_stats stats() const {
    pool_stats p = stats_;
    p.size = static_cast<int>(slots_.size());
    p.busy = 0;
    for (const auto& s : slots_) p.busy += s->busy ? 1 : 0;
    return p;
  }
  const std::string& name() const { return name_; }
  void close() { slots_.clear(); }

 private:
  awaitable<std::shared_ptr<slot>> acquire() {
    auto started = std::chrono::steady_clock::now();
    bool waited = false;
    for (;;) {
      for (auto& s : slots_)
        if (!s->busy) {
          s->busy = true;
          account(started, waited);
          co_return s;
        }
      if (static_cast<int>(slots_.size()) + connecting_ < url_.pool_size) {
        ++connecting_;
        std::shared_ptr<slot> s;
        try {
          s = co_await open();
        } catch (...) {
          --connecting_;
          freed_.notify();
          throw;
        }
        --connecting_;
        s->busy = true;
        slots_.push_back(s);
        account(started, waited);
        co_return s;
      }
      waited = true;
      ++stats_.waiting;
      co_await freed_.wait();
      --stats_.waiting;
    }
  }

  void account(std::chrono::steady_clock::time_point started, bool waited) {
    ++stats_.acquired;
    if (waited) stats_.wait_seconds_total += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }

  void release(const std::shared_ptr<slot>& s, bool drop) {
    s->busy = false;
    if (drop) slots_.erase(std::remove(slots_.begin(), slots_.end(), s), slots_.end());
    freed_.notify();
  }

  awaitable<std::shared_ptr<slot>> open() {
    PGconn* c = PQconnectStart(url_.conninfo.c_str());
    if (!c) fail("Error", "D1_ERROR: Network connection lost. (out of memory)");
    auto sl = std::make_shared<slot>();
    sl->s = std::make_unique<runners::pg_session>(c, url_);
    if (PQstatus(c) == CONNECTION_BAD) fail("Error", "D1_ERROR: Network connection lost. (" + std::string(PQerrorMessage(c)) + ")");
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (st != PGRES_POLLING_OK) {
      if (st == PGRES_POLLING_FAILED || std::chrono::steady_clock::now() > deadline)
        fail("Error", "D1_ERROR: Network connection lost. (" + std::string(PQerrorMessage(c)) + ")");
      bool ready = co_await wait_fd(io_, PQsocket(c), st == PGRES_POLLING_WRITING, std::chrono::seconds(10));
      if (!ready) fail("Error", "D1_ERROR: Network connection lost. (connection timed out)");
      st = PQconnectPoll(c);
    }
    PQsetnonblocking(c, 1);
    sl->sock = std::make_unique<asio::posix::stream_descriptor>(io_, PQsocket(c));
    co_return sl;
  }

  awaitable<void> load_schema(slot& sl) {
    runners::pg_exchange x(*sl.s, "d1.batch",
                           {{runners::pg_session::primary_keys_sql(), json::array()}, {runners::pg_session::columns_sql(), json::array()}},
                           true);
    if (!x.send()) fail("Error", "D1_ERROR: Network connection lost.");
    co_await flush(sl);
    while (!x.receive(false)) co_await readable(sl);
    json v = x.value();
    sl.s->load_schema(v["results"].as_array()[0]["results"], v["results"].as_array()[1]["results"]);
  }

  awaitable<void> flush(slot& sl) {
    for (;;) {
      int f = PQflush(sl.s->conn());
      if (f == 0) co_return;
      if (f < 0) fail("Error", "D1_ERROR: Network connection lost. (" + std::string(PQerrorMessage(sl.s->conn())) + ")");
      co_await sl.sock->async_wait(asio::posix::stream_descriptor::wait_write, use_awaitable);
    }
  }

  awaitable<void> readable(slot& sl) {
    co_await sl.sock->async_wait(asio::posix::stream_descriptor::wait_read, use_awaitable);
  }

  asio::io_context& io_;
  runners::postgres_url url_;
  std::string name_;
  std::vector<std::shared_ptr<slot>> slots_;
  int connecting_ = 0;
  event freed_;
  pool_stats stats_;
};

// "16/B374D848" -> a number that orders like the LSN.
std::uint64_t lsn_value(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return 0;
  return (std::stoull(std::string(s.substr(0, slash)), nullptr, 16) << 32) | std::stoull(std::string(s.substr(slash + 1)), nullptr, 16);
}

class postgres_service final : public sql_service {
 public:
  postgres_service(asio::io_context& io, const std::string& url, const std::string& replica_url, metrics& m)
      : io_(io), m_(m), primary_(io, runners::parse_postgres_url(url), "primary"), poll_(io) {
    redacted_ = runners::parse_postgres_url(url).redacted;
    if (!replica_url.empty()) replica_ = std::make_unique<pg_pool>(io, runners::parse_postgres_url(replica_url), "replica");
  }

  awaitable<json> run(json effect, bool replica_ok, bool& wrote) override {
    std::string op(effect["op"].as_string());
    auto statements = runners::d1_statements(effect);
    bool reads = effect_reads_only(effect);
    wrote = !reads;
    if (!reads) last_write_ms_ = now_ms();
    if (replica_ && replica_ok && reads && m_.replica_fresh && now_ms() - last_write_ms_ > replica_sticky_ms) {
      ++m_.queries["replica"];
      try {
        co_return co_await replica_->run(op, statements, false);
      } catch (const runners::failure& f) {
        if (f.message.find("Network connection lost") == std::string::npos) throw;
        m_.replica_fresh = false;  // the replica went away: the primary answers until it is back
      }
    }
    ++m_.queries["primary"];
    json v = co_await primary_.run(op, std::move(statements), false);
    if (!reads) last_write_ms_ = now_ms();
    co_return v;
  }

  awaitable<json> run_native(std::vector<std::string> statements) override {
    std::vector<runners::sql_statement> list;
    for (auto& s : statements) list.push_back({std::move(s), json::array()});
    co_return co_await primary_.run("d1.batch", std::move(list), true);
  }

  std::map<std::string, pool_stats> stats() const override {
    std::map<std::string, pool_stats> out{{"primary", primary_.stats()}};
    if (replica_) out["replica"] = replica_->stats();
    return out;
  }
  std::string describe() const override { return redacted_ + (replica_ ? " (+ read replica)" : ""); }
  std::string_view dialect() const override { return "postgres"; }
  void saw_remote_write() override { last_write_ms_ = now_ms(); }

  void start() override {
    if (!replica_) return;
    asio::co_spawn(io_, watch_replica(), asio::detached);
  }
  void stop() override {
    stopping_ = true;
    poll_.cancel();
  }

 private:
  // The replica is fresh while its replayed WAL position reaches where the primary was one poll ago.
  awaitable<void> watch_replica() {
    std::uint64_t primary_before = 0;
    while (!stopping_) {
      bool fresh = false;
      try {
        json p = co_await primary_.run("d1.all", {{"SELECT pg_current_wal_lsn()::text AS lsn", json::array()}}, true);
        json r = co_await replica_->run("d1.all", {{"SELECT pg_last_wal_replay_lsn()::text AS lsn", json::array()}}, true);
        std::uint64_t now_primary = lsn_value(p["results"].as_array()[0]["lsn"].as_string());
        std::uint64_t replayed = lsn_value(r["results"].as_array()[0]["lsn"].as_string());
        fresh = primary_before != 0 && replayed >= primary_before;
        primary_before = now_primary;
      } catch (...) {
        primary_before = 0;
      }
      m_.replica_fresh = fresh;
      poll_.expires_after(std::chrono::milliseconds(250));
      boost::system::error_code ec;
      co_await poll_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  asio::io_context& io_;
  metrics& m_;
  pg_pool primary_;
  std::unique_ptr<pg_pool> replica_;
  std::string redacted_;
  std::int64_t last_write_ms_ = 0;
  asio::steady_timer poll_;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<sql_service> open_sql_service(asio::io_context& io, asio::thread_pool& blocking, const std::string& url,
                                              const std::string& replica_url, metrics& m, int threads) {
  if (url.rfind("sqlite://", 0) == 0) {
    std::string path = url.substr(9);
    if (path.empty()) fail("TypeError", "PB_DATABASE_URL=sqlite:///path/to/file");
    std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    runners::sqlite_database db(path);
    runners::migrate(db);
    return std::make_unique<sqlite_service>(blocking, path, m, threads);
  }
  {
    runners::postgres_database db(runners::parse_postgres_url(url));
    runners::migrate(db);
  }
  return std::make_unique<postgres_service>(io, url, replica_url, m);
}

}  // namespace pb::server
