#include "host/redis.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <iostream>

#include "core/json.h"
#include "http/url.h"
#include "runners/failure.h"

namespace pb::server {

namespace {

using tcp = asio::ip::tcp;

// Malformed escapes stay as they are (the URL is then refused for what it says, not how it is escaped).
std::string decoded(std::string_view s) { return http::percent_decode(s).value_or(std::string(s)); }

redis_reply copy(const redisReply* r) {
  redis_reply out;
  if (!r) return out;
  out.type = r->type;
  out.integer = r->integer;
  if (r->str) out.str.assign(r->str, r->len);
  for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy(r->element[i]));
  return out;
}

std::optional<int> number(std::string_view s, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0 || v > max) return std::nullopt;
  return v;
}

[[noreturn]] void bad_url(const std::string& why) {
  runners::fail("TypeError", "PB_CACHE_URL: " + why + " (redis[s]://[[user]:password@]host[:port][/db])");
}

}  // namespace

bool redis_reply::is_nil() const { return type == REDIS_REPLY_NIL || type == 0; }

bool is_redis_url(std::string_view url) { return url.rfind("redis://", 0) == 0 || url.rfind("rediss://", 0) == 0; }

redis_url parse_redis_url(std::string_view url) {
  redis_url u;
  if (url.rfind("rediss://", 0) == 0) {
    u.tls = true;
    url.remove_prefix(9);
  } else if (url.rfind("redis://", 0) == 0) {
    url.remove_prefix(8);
  } else {
    bad_url("a Redis URL starts with redis:// or rediss://");
  }
  if (url.find_first_of("?#") != std::string_view::npos) bad_url("query parameters are not read");
  std::string_view authority = url.substr(0, url.find('/'));
  std::string_view path = authority.size() < url.size() ? url.substr(authority.size() + 1) : std::string_view();
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    // user:password, :password, or (as before ACL users existed) the password alone.
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      u.user = decoded(userinfo.substr(0, colon));
      u.password = decoded(userinfo.substr(colon + 1));
    } else {
      u.password = decoded(userinfo);
    }
    if (!u.user.empty() && u.password.empty()) bad_url("a user needs a password");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) bad_url("an IPv6 address needs its closing ]");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') bad_url("expected :port after the IPv6 address");
    if (!after.empty()) port = after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) bad_url("no host");
  if (!port.empty() || authority.find(':') != std::string_view::npos) {
    auto p = number(port, 65535);
    if (!p || *p == 0) bad_url("the port is a number from 1 to 65535");
    u.port = *p;
  }
  if (!path.empty()) {
    auto db = number(path, 1 << 20);
    if (!db) bad_url("the path is a database number");
    u.db = *db;
  }
  return u;
}

std::string redis_url::redacted() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "rediss://" : "redis://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" +
         std::to_string(db);
}

// One connection: the socket (under TLS for rediss://), hiredis's reader for what comes back, and the
// bytes waiting to be written (commands are appended while a write is in flight).
struct redis_client::connection {
  std::optional<tcp::socket> plain;
  std::optional<asio::ssl::stream<tcp::socket>> tls;
  redisReader* reader = redisReaderCreate();
  std::string out;
  bool writing = false;

  connection(asio::io_context& io, asio::ssl::context* ctx) {
    if (ctx) tls.emplace(io, *ctx);
    else plain.emplace(io);
  }
  ~connection() { redisReaderFree(reader); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  void close() {
    boost::system::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }
  awaitable<void> write(const std::string& bytes) {
    if (tls) co_await asio::async_write(*tls, asio::buffer(bytes), use_awaitable);
    else co_await asio::async_write(*plain, asio::buffer(bytes), use_awaitable);
  }
  // The next reply, reading as much as it takes. Throws on a closed connection or a protocol error.
  awaitable<redis_reply> read_reply() {
    for (;;) {
      void* r = nullptr;
      if (redisReaderGetReply(reader, &r) != REDIS_OK) runners::fail("Error", std::string("protocol error: ") + reader->errstr);
      if (r) {
        redis_reply reply = copy(static_cast<redisReply*>(r));
        freeReplyObject(r);
        co_return reply;
      }
      char buf[16384];
      std::size_t n = tls ? co_await tls->async_read_some(asio::buffer(buf), use_awaitable)
                          : co_await plain->async_read_some(asio::buffer(buf), use_awaitable);
      redisReaderFeed(reader, buf, n);
    }
  }
  void append(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    char* cmd = nullptr;
    int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), lens.data());
    if (len < 0) runners::fail("Error", "cache: cannot format a command");
    out.append(cmd, static_cast<std::size_t>(len));
    redisFreeCommand(cmd);
  }
};

struct redis_client::pending {
  oneshot<std::pair<bool, redis_reply>> done;
  explicit pending(asio::any_io_executor ex) : done(ex) {}
};

redis_client::redis_client(asio::io_context& io, std::string url, std::string ca_file, std::string channel,
                           std::function<void(const std::string&)> on_message, std::function<void()> on_reconnect)
    : io_(io),
      url_(parse_redis_url(url)),
      channel_(std::move(channel)),
      on_message_(std::move(on_message)),
      on_reconnect_(std::move(on_reconnect)),
      retry_(io) {
  if (url_.tls) {
    tls_.emplace(asio::ssl::context::tls_client);
    tls_->set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty()) tls_->set_default_verify_paths(ec);
    else tls_->load_verify_file(ca_file, ec);
    if (ec) runners::fail("TypeError", "PB_CACHE_CA_FILE: cannot read " + (ca_file.empty() ? "the system's CAs" : ca_file) + ": " + ec.message());
  } else if (!ca_file.empty()) {
    runners::fail("TypeError", "PB_CACHE_CA_FILE is set but PB_CACHE_URL is not rediss://");
  }
}

redis_client::~redis_client() { stop(); }

void redis_client::start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(io_, run(), asio::detached);
}

void redis_client::stop() {
  stopping_ = true;
  retry_.cancel();
  if (conn_) conn_->close();  // the session ends; its waiting commands fail
  connected_ = false;
}

// Logged: every connection made (the first, and each after a failure) and each new kind of failure;
// a failure repeating every second while Redis is away is logged once.
void redis_client::report(const std::string& error) {
  if (error == last_error_ && (!error.empty() || ever_connected_)) return;
  last_error_ = error;
  json line = json::object();
  line.set("level", json(error.empty() ? "info" : "error"));
  line.set("msg", json(error.empty() ? "cache connected" : "cache connection failed"));
  line.set("cache", json(redacted()));
  line.set("connection", json(channel_.empty() ? "commands" : "subscriber"));
  if (!error.empty()) line.set("error", json(error));
  std::cerr << line.dump() << std::endl;
}

awaitable<void> redis_client::run() {
  while (!stopping_) {
    auto c = std::make_shared<connection>(io_, tls_ ? &*tls_ : nullptr);
    conn_ = c;
    std::string error;
    try {
      co_await session(c);
    } catch (const runners::failure& f) {
      error = f.message;
    } catch (const boost::system::system_error& e) {
      error = e.code().message();
    } catch (const std::exception& e) {
      error = e.what();
    }
    c->close();
    if (conn_ == c) conn_.reset();
    connected_ = false;
    while (!waiting_.empty()) {  // their replies will not come
      waiting_.front()->done.set({false, {}});
      waiting_.pop_front();
    }
    if (stopping_) break;
    report(error.empty() ? "the connection closed" : error);
    retry_.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await retry_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> redis_client::session(std::shared_ptr<connection> c) {
  tcp::resolver resolver(io_);
  auto endpoints = co_await resolver.async_resolve(url_.host, std::to_string(url_.port), use_awaitable);
  co_await asio::async_connect(c->socket(), endpoints, use_awaitable);
  if (stopping_) co_return;
  if (c->tls) {
    // Server name for SNI (not for an address), and the certificate must name the URL's host.
    boost::system::error_code ec;
    asio::ip::make_address(url_.host, ec);
    if (ec) SSL_set_tlsext_host_name(c->tls->native_handle(), url_.host.c_str());
    c->tls->set_verify_callback(asio::ssl::host_name_verification(url_.host));
    co_await c->tls->async_handshake(asio::ssl::stream_base::client, use_awaitable);
  }
  // Before anything else: AUTH, SELECT, SUBSCRIBE, each answered before the next.
  auto ask = [&](std::vector<std::string> args) -> awaitable<redis_reply> {
    c->out.clear();
    c->append(args);
    co_await c->write(c->out);
    c->out.clear();
    co_return co_await c->read_reply();
  };
  if (!url_.password.empty()) {
    redis_reply r = co_await ask(url_.user.empty() ? std::vector<std::string>{"AUTH", url_.password}
                                                    : std::vector<std::string>{"AUTH", url_.user, url_.password});
    if (r.type == REDIS_REPLY_ERROR) runners::fail("Error", "AUTH refused: " + r.str);
  }
  if (url_.db != 0) {
    redis_reply r = co_await ask({"SELECT", std::to_string(url_.db)});
    if (r.type == REDIS_REPLY_ERROR) runners::fail("Error", "SELECT " + std::to_string(url_.db) + " refused: " + r.str);
  }
  if (!channel_.empty()) {
    redis_reply r = co_await ask({"SUBSCRIBE", channel_});
    if (r.type == REDIS_REPLY_ERROR) runners::fail("Error", "SUBSCRIBE refused: " + r.str);
  }
  if (stopping_) co_return;
  connected_ = true;
  report("");
  if (ever_connected_ && on_reconnect_) on_reconnect_();
  ever_connected_ = true;
  for (;;) {
    redis_reply r = co_await c->read_reply();
    if (!channel_.empty()) {
      if (r.type == REDIS_REPLY_ARRAY && r.elements.size() == 3 && r.elements[0].str == "message" && on_message_)
        on_message_(r.elements[2].str);
      continue;
    }
    if (waiting_.empty()) runners::fail("Error", "a reply nothing asked for");
    auto p = std::move(waiting_.front());
    waiting_.pop_front();
    p->done.set({true, std::move(r)});
  }
}

// Writes what commands appended until nothing is left; `writing` (set by the caller before the spawn)
// keeps a second writer from starting meanwhile.
awaitable<void> redis_client::write_out(std::shared_ptr<connection> c) {
  try {
    while (!c->out.empty()) {
      std::string bytes;
      bytes.swap(c->out);
      co_await c->write(bytes);
    }
  } catch (const std::exception&) {
    c->close();  // the session's read fails and ends it
  }
  c->writing = false;
}

awaitable<redis_reply> redis_client::command(std::vector<std::string> args) {
  if (!conn_ || !connected_) runners::fail("Error", "cache unavailable: no connection to " + redacted());
  auto c = conn_;
  auto p = std::make_shared<pending>(io_.get_executor());
  c->append(args);
  waiting_.push_back(p);
  if (!c->writing) {
    c->writing = true;
    asio::co_spawn(io_, write_out(c), asio::detached);
  }
  auto [ok, reply] = co_await p->done.get();
  if (!ok) runners::fail("Error", "cache unavailable: the connection to " + redacted() + " was lost");
  if (reply.type == REDIS_REPLY_ERROR) runners::fail("Error", "cache error: " + reply.str);
  co_return reply;
}

}  // namespace pb::server
