#include "host/redis.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "http/url.h"
#include "runners/failure.h"

namespace pb::server {

namespace {

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


}  // namespace

bool redis_reply::is_nil() const { return type == REDIS_REPLY_NIL || type == 0; }

// hiredis's event hooks on an Asio descriptor. hiredis owns (and closes) the socket; `alive` guards
// against the context being freed while a wait is outstanding.
struct redis_client::adapter {
  redisAsyncContext* ac;
  asio::posix::stream_descriptor desc;
  bool alive = true, want_read = false, want_write = false, reading = false, writing = false;
  adapter(asio::io_context& io, redisAsyncContext* c) : ac(c), desc(io, c->c.fd) {}

  static void arm(const std::shared_ptr<adapter>& a, bool read) {
    if (!a->alive || (read ? a->reading : a->writing)) return;
    (read ? a->reading : a->writing) = true;
    a->desc.async_wait(read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
                       [a, read](boost::system::error_code ec) {
                         (read ? a->reading : a->writing) = false;
                         if (ec || !a->alive) return;
                         if (read) redisAsyncHandleRead(a->ac);
                         else redisAsyncHandleWrite(a->ac);
                         if (a->alive && (read ? a->want_read : a->want_write)) arm(a, read);
                       });
  }
};

namespace {

using adapter_ptr = std::shared_ptr<redis_client::adapter>;
adapter_ptr& of(void* p) { return *static_cast<adapter_ptr*>(p); }

void add_read(void* p) {
  of(p)->want_read = true;
  redis_client::adapter::arm(of(p), true);
}
void del_read(void* p) { of(p)->want_read = false; }
void add_write(void* p) {
  of(p)->want_write = true;
  redis_client::adapter::arm(of(p), false);
}
void del_write(void* p) { of(p)->want_write = false; }
void cleanup(void* p) {
  auto* holder = static_cast<adapter_ptr*>(p);
  auto& a = *holder;
  a->alive = false;
  boost::system::error_code ec;
  a->desc.cancel(ec);
  a->desc.release();
  delete holder;
}

}  // namespace

struct redis_client::pending {
  oneshot<std::pair<bool, redis_reply>> done;
  explicit pending(asio::any_io_executor ex) : done(ex) {}
};

redis_client::redis_client(asio::io_context& io, std::string url, std::string channel, std::function<void(const std::string&)> on_message,
                           std::function<void()> on_reconnect)
    : io_(io), channel_(std::move(channel)), on_message_(std::move(on_message)), on_reconnect_(std::move(on_reconnect)), retry_(io) {
  if (url.rfind("redis://", 0) != 0) runners::fail("TypeError", "a Redis URL starts with redis://");
  std::string rest = url.substr(8);
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string user = rest.substr(0, at);
    password_ = decoded(user.substr(user.find(':') == std::string::npos ? 0 : user.find(':') + 1));
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty()) db_ = std::atoi(db.c_str());
    rest = rest.substr(0, slash);
  }
  auto colon = rest.rfind(':');
  host_ = rest.substr(0, colon);
  if (colon != std::string::npos) port_ = std::atoi(rest.c_str() + colon + 1);
  if (host_.empty() || port_ <= 0) runners::fail("TypeError", "PB_CACHE_URL: redis://host:port expected");
  redacted_ = "redis://" + host_ + ":" + std::to_string(port_) + "/" + std::to_string(db_);
}

redis_client::~redis_client() { stop(); }

void redis_client::start() { connect(); }

void redis_client::stop() {
  stopping_ = true;
  retry_.cancel();
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    ac->data = nullptr;
    redisAsyncFree(ac);  // pending callbacks run with a null reply
  }
  connected_ = false;
}

void redis_client::connect() {
  if (stopping_) return;
  redisAsyncContext* ac = redisAsyncConnect(host_.c_str(), port_);
  if (!ac || ac->err) {
    if (ac) redisAsyncFree(ac);
    schedule_reconnect();
    return;
  }
  ac->data = this;
  auto* holder = new adapter_ptr(std::make_shared<adapter>(io_, ac));
  ac->ev.data = holder;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  redisAsyncSetConnectCallback(ac, &redis_client::on_connect);
  redisAsyncSetDisconnectCallback(ac, &redis_client::on_disconnect);
  ac_ = ac;
  // Queued before the connection is up; hiredis sends them first.
  if (!password_.empty()) redisAsyncCommand(ac, nullptr, nullptr, "AUTH %b", password_.data(), password_.size());
  if (db_ != 0) redisAsyncCommand(ac, nullptr, nullptr, "SELECT %d", db_);
  if (!channel_.empty()) {
    redisAsyncCommand(
        ac,
        [](redisAsyncContext* c, void* r, void*) {
          auto* self = static_cast<redis_client*>(c->data);
          auto* reply = static_cast<redisReply*>(r);
          if (!self || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
          if (std::string(reply->element[0]->str, reply->element[0]->len) != "message") return;
          if (self->on_message_) self->on_message_(std::string(reply->element[2]->str, reply->element[2]->len));
        },
        nullptr, "SUBSCRIBE %b", channel_.data(), channel_.size());
  }
}

void redis_client::schedule_reconnect() {
  if (stopping_) return;
  retry_.expires_after(std::chrono::seconds(1));
  retry_.async_wait([this](boost::system::error_code ec) {
    if (!ec) connect();
  });
}

void redis_client::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<redis_client*>(ac->data);
  if (!self) return;
  if (status != REDIS_OK) {
    self->ac_ = nullptr;  // hiredis frees the context after this callback
    self->schedule_reconnect();
    return;
  }
  self->connected_ = true;
  if (self->ever_connected_ && self->on_reconnect_) self->on_reconnect_();
  self->ever_connected_ = true;
}

void redis_client::on_disconnect(const redisAsyncContext* ac, int) {
  auto* self = static_cast<redis_client*>(ac->data);
  if (!self) return;
  self->connected_ = false;
  self->ac_ = nullptr;
  self->schedule_reconnect();
}

awaitable<redis_reply> redis_client::command(std::vector<std::string> args) {
  if (!ac_ || !connected_) runners::fail("Error", "cache unavailable: no connection to " + redacted_);
  auto p = std::make_shared<pending>(io_.get_executor());
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* keep = new std::shared_ptr<pending>(p);
  int rc = redisAsyncCommandArgv(
      ac_,
      [](redisAsyncContext*, void* r, void* priv) {
        auto* holder = static_cast<std::shared_ptr<pending>*>(priv);
        auto* reply = static_cast<redisReply*>(r);
        (*holder)->done.set({reply != nullptr, copy(reply)});
        delete holder;
      },
      keep, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (rc != REDIS_OK) {
    delete keep;
    runners::fail("Error", "cache unavailable: " + redacted_);
  }
  auto [ok, reply] = co_await p->done.get();
  if (!ok) runners::fail("Error", "cache unavailable: the connection to " + redacted_ + " was lost");
  if (reply.type == REDIS_REPLY_ERROR) runners::fail("Error", "cache error: " + reply.str);
  co_return reply;
}

}  // namespace pb::server
