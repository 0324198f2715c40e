#include "host/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "routes/app.h"
#include "runners/failure.h"

namespace pb::server {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_server::connection {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::buffer_body>> parser;
  bool expect_continue = false;
  bool body_started = false;
  explicit connection(tcp::socket s) : stream(std::move(s)) {}
};

namespace {

// Handle 0: the request body, read from the connection as the core consumes it.
class request_source final : public body_source {
 public:
  request_source(std::shared_ptr<http_server::connection> c, std::chrono::seconds timeout) : c_(std::move(c)), timeout_(timeout) {
    if (auto n = c_->parser->content_length()) length = static_cast<std::int64_t>(*n);
  }
  awaitable<std::string> next() override {
    auto& p = *c_->parser;
    if (p.is_done()) co_return std::string();
    if (c_->expect_continue && !c_->body_started) {
      c_->body_started = true;
      boost::system::error_code ec;
      static const std::string go = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(c_->stream, asio::buffer(go), asio::redirect_error(use_awaitable, ec));
    }
    c_->body_started = true;
    std::string buf(64 * 1024, '\0');
    for (;;) {
      p.get().body().data = buf.data();
      p.get().body().size = buf.size();
      c_->stream.expires_after(timeout_);
      boost::system::error_code ec;
      co_await http::async_read(c_->stream, c_->buffer, p, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec == http::error::body_limit) runners::fail("PayloadTooLarge", "the request body is over the server's limit");
      if (ec) runners::fail("TypeError", "the request body was cut off: " + ec.message());
      std::size_t n = buf.size() - p.get().body().size;
      if (n > 0) {
        buf.resize(n);
        co_return buf;
      }
      if (p.is_done()) co_return std::string();
    }
  }

 private:
  std::shared_ptr<http_server::connection> c_;
  std::chrono::seconds timeout_;
};

bool hop_by_hop(std::string_view name) {
  return beast::iequals(name, "connection") || beast::iequals(name, "transfer-encoding") || beast::iequals(name, "keep-alive") ||
         beast::iequals(name, "content-length");
}

std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  long ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03ldZ", buf, ms);
  return out;
}

// Writes the core's response; false when the connection broke or a streamed body failed midway (the
// connection is then closed so the client sees the truncation).
awaitable<bool> write_response(beast::tcp_stream& stream, core_response r, bool head, bool keep_alive, std::int64_t& bytes,
                               std::chrono::seconds timeout) {
  http::response<http::buffer_body> res{static_cast<http::status>(r.status), 11};
  std::int64_t declared = -1;
  for (const auto& [k, v] : r.headers) {
    if (beast::iequals(k, "content-length")) declared = std::atoll(v.c_str());
    if (!hop_by_hop(k)) res.insert(k, v);
  }
  res.keep_alive(keep_alive);
  bool no_body = head || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
  if (r.stream && declared < 0) declared = r.stream->length;
  if (!r.stream) declared = static_cast<std::int64_t>(r.body.size());
  if (r.status != 204 && r.status != 304 && !(r.status >= 100 && r.status < 200)) {
    if (declared >= 0) res.content_length(static_cast<std::uint64_t>(declared));
    else if (!head) res.chunked(true);
  }
  http::response_serializer<http::buffer_body> sr{res};
  boost::system::error_code ec;
  stream.expires_after(timeout);
  res.body().data = nullptr;
  res.body().more = !no_body;
  if (no_body || (!r.stream && r.body.empty())) {
    res.body().more = false;
    co_await http::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }
  co_await http::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  auto send = [&](std::string_view chunk, bool more) -> awaitable<bool> {
    res.body().data = const_cast<char*>(chunk.data());
    res.body().size = chunk.size();
    res.body().more = more;
    stream.expires_after(timeout);
    boost::system::error_code e;
    co_await http::async_write(stream, sr, asio::redirect_error(use_awaitable, e));
    if (e == http::error::need_buffer) e = {};
    bytes += static_cast<std::int64_t>(chunk.size());
    co_return !e;
  };
  if (!r.stream) {
    bool ok = co_await send(r.body, false);
    co_return ok;
  }
  std::int64_t sent = 0;
  for (;;) {
    std::string chunk;
    try {
      chunk = co_await r.stream->next();
    } catch (...) {
      co_return false;  // the source broke: cut the response short
    }
    if (chunk.empty()) break;
    sent += static_cast<std::int64_t>(chunk.size());
    if (declared >= 0 && sent > declared) co_return false;
    if (!co_await send(chunk, true)) co_return false;
  }
  if (declared >= 0 && sent != declared) co_return false;
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  co_await http::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
  co_return !ec;
}

// Reads and discards what is left of the request body: true when it ended within the bounds.
awaitable<bool> drain_body(http_server::connection& c, std::size_t max_bytes, std::chrono::seconds timeout) {
  auto& p = *c.parser;
  std::string buf(64 * 1024, '\0');
  std::size_t seen = 0;
  while (!p.is_done() && seen <= max_bytes) {
    p.get().body().data = buf.data();
    p.get().body().size = buf.size();
    c.stream.expires_after(timeout);
    boost::system::error_code ec;
    co_await http::async_read(c.stream, c.buffer, p, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return false;
    seen += buf.size() - p.get().body().size;
  }
  co_return p.is_done();
}

// Metrics labels stay bounded: a client can send any method name.
std::string method_label(const std::string& m) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (m == known) return m;
  return "OTHER";
}

bool composer_read_path(std::string_view method, std::string_view route) {
  return (method == "GET" || method == "HEAD") &&
         (route == "/packages.json" || route == "/p2/{vendor}/{file}" || route == "/dist/{vendor}/{name}/{version}/{file}");
}

}  // namespace

http_server::http_server(services& s, std::function<std::string()> scrape_extra)
    : s_(s),
      scrape_extra_(std::move(scrape_extra)),
      ui_(s.config.serve_ui ? static_files(embedded_ui_files()) : static_files()),
      acceptor_(s.io), drained_(s.io.get_executor()) {}

void http_server::start() {
  tcp::endpoint ep(asio::ip::make_address(s_.config.listen_host), static_cast<unsigned short>(s_.config.listen_port));
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(s_.io, accept_loop(), asio::detached);
}

void http_server::stop_accepting() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (const auto& c : idle_) c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  if (work_ == 0) drained_.set();
}

void http_server::track(int delta) {
  work_ = static_cast<std::size_t>(static_cast<long>(work_) + delta);
  if (stopping_ && work_ == 0) drained_.set();
}

awaitable<void> http_server::accept_loop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping_) break;
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(s_.io, session(std::make_shared<connection>(std::move(sock))), asio::detached);
  }
}

std::string http_server::origin_of(const std::string& host, const std::string& proto, const std::string& fwd_host) const {
  if (!s_.config.public_url.empty()) return s_.config.public_url;
  std::string scheme = "http", h = host.empty() ? "localhost" : host;
  if (s_.config.trust_forwarded) {
    if (proto == "https" || proto == "http") scheme = proto;
    if (!fwd_host.empty()) h = fwd_host.substr(0, fwd_host.find(','));
  }
  return scheme + "://" + h;
}

awaitable<void> http_server::session(std::shared_ptr<connection> c) {
  const auto header_timeout = std::chrono::seconds(s_.config.header_timeout_s);
  const auto idle_timeout = std::chrono::seconds(s_.config.idle_timeout_s);
  const auto body_timeout = std::chrono::seconds(s_.config.body_timeout_s);
  bool first = true;
  while (!stopping_) {
    c->parser.emplace();
    c->parser->header_limit(64 * 1024);
    c->parser->body_limit(static_cast<std::uint64_t>(s_.config.max_body_bytes));
    c->expect_continue = c->body_started = false;
    boost::system::error_code ec;
    // Idle between requests: a keep-alive connection waits for the first byte up to the idle timeout.
    idle_.insert(c);
    c->stream.expires_after(first ? header_timeout : idle_timeout);
    co_await http::async_read_header(c->stream, c->buffer, *c->parser, asio::redirect_error(use_awaitable, ec));
    idle_.erase(c);
    first = false;
    if (ec) break;  // closed, timed out, malformed (Beast answers nothing; the client sees the close)
    auto started = std::chrono::steady_clock::now();
    track(1);
    ++s_.stats.in_flight;
    auto& req = c->parser->get();
    std::string method(req.method_string()), target(req.target());
    std::string path = target.substr(0, target.find('?'));
    std::vector<std::pair<std::string, std::string>> headers;
    std::string host, fwd_proto, fwd_host, if_none_match;
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (name == "host") host = std::string(f.value());
      if (name == "x-forwarded-proto") fwd_proto = std::string(f.value());
      if (name == "x-forwarded-host") fwd_host = std::string(f.value());
      if (name == "if-none-match") if_none_match = std::string(f.value());
      if (name == "expect" && beast::iequals(f.value(), "100-continue")) c->expect_continue = true;
      headers.emplace_back(std::move(name), std::string(f.value()));
    }
    bool has_body = req.chunked() || (c->parser->content_length() && *c->parser->content_length() > 0);
    bool keep_alive = req.keep_alive() && !stopping_;
    bool head = method == "HEAD";
    std::string route(routes::route_pattern(method, path));
    std::int64_t bytes = 0;
    int status = 0;
    int effects = 0;
    bool ok = true;
    std::string cache, detail;

    std::optional<core_response> asset;
    if (path != "/metrics") asset = ui_.answer(method, target, if_none_match);
    if (asset) {
      // A UI file (its trailing-slash redirect, or a 405): answered without running the core. A body
      // sent along is read and dropped, as after the core's refusals below.
      status = asset->status;
      route = "static";
      ok = co_await write_response(c->stream, std::move(*asset), head, keep_alive, bytes, body_timeout);
      if (ok && has_body && !c->parser->is_done() && !co_await drain_body(*c, 8 << 20, std::chrono::seconds(5))) keep_alive = false;
    } else if ((method == "GET" || head) && path == "/metrics") {
      core_response m;
      m.status = 200;
      m.headers = {{"content-type", "text/plain; version=0.0.4"}, {"cache-control", "no-store"}};
      std::map<std::string, pool_stats> pools = s_.sql.stats();
      m.body = render(s_.stats, pools, scrape_extra_ ? scrape_extra_() : "");
      status = 200;
      route = "/metrics";
      ok = co_await write_response(c->stream, std::move(m), head, keep_alive, bytes, body_timeout);
    } else {
      source_ptr body = has_body ? std::make_shared<request_source>(c, body_timeout) : nullptr;
      auto inv = std::make_shared<invocation>(s_, fetch_start_document(method, origin_of(host, fwd_proto, fwd_host) + target, headers, has_body),
                                              body, composer_read_path(method, route));
      auto response = std::make_shared<oneshot<core_response>>(s_.io.get_executor());
      track(1);  // the invocation may outlive the response (it goes on after http.respond)
      asio::co_spawn(
          s_.io, [inv, response]() -> awaitable<void> { co_await inv->run([response](core_response r) { response->set(std::move(r)); }); },
          [this, response](std::exception_ptr e) {
            if (e && !response->has_value()) {
              core_response r;
              r.status = 500;
              r.headers = {{"content-type", "application/json"}, {"cache-control", "no-store"}};
              r.body = R"({"error":{"code":"internal","message":"the server failed while answering"}})";
              response->set(std::move(r));
            }
            track(-1);
          });
      core_response r = co_await response->get();
      status = r.status;
      cache = r.cache;
      detail = r.detail;
      ok = co_await write_response(c->stream, std::move(r), head, keep_alive, bytes, body_timeout);
      effects = inv->effects_run();
      // A body the core did not read (a refusal before the upload) is read and dropped, up to a bound,
      // so the client finishes sending and sees the answer (lingering close); past it, the connection
      // closes.
      if (ok && has_body && !c->parser->is_done()) {
        bool drained = co_await drain_body(*c, 8 << 20, std::chrono::seconds(5));
        if (!drained) keep_alive = false;
      }
    }

    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    --s_.stats.in_flight;
    ++s_.stats.requests[{route.empty() ? "unmatched" : route, method_label(method), ok ? status : 0}];
    s_.stats.latency.observe(seconds);
    s_.stats.latency_by_route[route.empty() ? "unmatched" : route].observe(seconds);
    if (s_.config.log == "requests" || (s_.config.log == "errors" && (status >= 500 || !ok))) {
      // The Worker's request line (PROTOCOL.md "The request log") plus the server's own fields; "level"
      // is for lifecycle and error lines, as there.
      json_writer w;
      w.begin_object().field("ts", iso_now());
      w.field("method", method).field("path", path).field("route", route.empty() ? "unmatched" : route);
      w.field("status", ok ? status : 0).field("ms", static_cast<std::int64_t>(seconds * 1000)).field("bytes", bytes);
      if (!cache.empty()) w.field("cache", cache);
      if (!detail.empty()) w.field("detail", detail);
      w.field("effects", effects).field("instance", s_.config.instance_id);
      if (!ok) w.field("error", "connection closed before the response was complete");
      w.end_object();
      std::string line = std::move(w).str() + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    }
    track(-1);
    if (!ok || !keep_alive) break;
  }
  boost::system::error_code ec;
  c->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  c->stream.close();
}

}  // namespace pb::server
