#include "host/curl_engine.h"

#include <algorithm>
#include <cctype>
#include <deque>

#include "runners/failure.h"

namespace pb::server {

namespace {

constexpr std::size_t pause_above = 4 << 20;   // queued bytes that pause a transfer
constexpr std::size_t resume_below = 1 << 20;  // ...until the reader drains below this

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string outbound_response::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

struct curl_engine::watched {
  asio::posix::stream_descriptor desc;
  int what = 0;
  bool reading = false, writing = false;
  explicit watched(asio::io_context& io, curl_socket_t s) : desc(io, s) {}
};

struct curl_engine::transfer {
  curl_engine* engine;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  outbound_request req;
  event progress;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  bool headers_ready = false, done = false, paused = false, cancelled = false;
  CURLcode result = CURLE_OK;
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::deque<std::string> chunks;
  std::size_t queued = 0;
  std::size_t upload_at = 0;

  transfer(curl_engine* e, asio::any_io_executor ex) : engine(e), progress(ex) {}
  ~transfer() {
    if (easy) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
  }

  std::string error_text() const {
    std::string m = errbuf[0] ? errbuf : curl_easy_strerror(result);
    return "fetch failed: " + m;
  }

  static std::size_t on_header(char* p, std::size_t size, std::size_t n, void* self) {
    auto* t = static_cast<transfer*>(self);
    std::string line(p, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {  // a new header block (1xx, redirects, the final one)
      t->headers.clear();
      auto sp = line.find(' ');
      t->status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    } else if (line.empty()) {
      bool redirect_followed = t->req.follow_redirects && t->status >= 300 && t->status < 400 &&
                               std::any_of(t->headers.begin(), t->headers.end(), [](auto& h) { return h.first == "location"; });
      if (t->status >= 200 && !redirect_followed && !t->headers_ready) {
        t->headers_ready = true;
        t->progress.notify();
      }
    } else if (auto colon = line.find(':'); colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
      t->headers.emplace_back(lower(line.substr(0, colon)), v);
    }
    return size * n;
  }

  static std::size_t on_write(char* p, std::size_t size, std::size_t n, void* self) {
    auto* t = static_cast<transfer*>(self);
    if (t->cancelled) return 0;  // the reader went away: abort the transfer
    if (t->queued > pause_above) {
      t->paused = true;
      return CURL_WRITEFUNC_PAUSE;  // curl hands the same bytes again after CURLPAUSE_CONT
    }
    t->chunks.emplace_back(p, size * n);
    t->queued += size * n;
    if (!t->headers_ready) t->headers_ready = true;
    t->progress.notify();
    return size * n;
  }

  static std::size_t on_read(char* p, std::size_t size, std::size_t n, void* self) {
    auto* t = static_cast<transfer*>(self);
    std::size_t k = std::min(size * n, t->req.body.size() - t->upload_at);
    std::copy_n(t->req.body.data() + t->upload_at, k, p);
    t->upload_at += k;
    return k;
  }
};

namespace {

// The response body: the transfer's queued chunks; dropping it unread cancels the transfer.
class transfer_body final : public body_source {
 public:
  explicit transfer_body(std::shared_ptr<curl_engine::transfer> t) : t_(std::move(t)) {}
  ~transfer_body() override {
    if (!t_->done && !t_->cancelled) {
      t_->cancelled = true;
      curl_easy_pause(t_->easy, CURLPAUSE_CONT);  // let curl notice; the write callback now refuses data
      t_->chunks.clear();
    }
  }
  awaitable<std::string> next() override {
    for (;;) {
      if (!t_->chunks.empty()) {
        std::string c = std::move(t_->chunks.front());
        t_->chunks.pop_front();
        t_->queued -= c.size();
        if (t_->paused && t_->queued < resume_below && !t_->done) {
          t_->paused = false;
          curl_easy_pause(t_->easy, CURLPAUSE_CONT);
        }
        co_return c;
      }
      if (t_->done) {
        if (t_->result != CURLE_OK) runners::fail("TypeError", t_->error_text());
        co_return std::string();
      }
      co_await t_->progress.wait();
    }
  }

 private:
  std::shared_ptr<curl_engine::transfer> t_;
};

}  // namespace

curl_engine::curl_engine(asio::io_context& io) : io_(io), multi_(curl_multi_init()), timer_(io) {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &curl_engine::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &curl_engine::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
}

curl_engine::~curl_engine() {
  for (auto& [e, t] : transfers_) curl_multi_remove_handle(multi_, e);
  transfers_.clear();
  for (auto& [s, w] : sockets_) w->desc.release();
  sockets_.clear();
  curl_multi_cleanup(multi_);
}

int curl_engine::on_timer(CURLM*, long timeout_ms, void* self) {
  auto* e = static_cast<curl_engine*>(self);
  e->timer_.cancel();
  if (timeout_ms < 0) return 0;
  e->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  e->timer_.async_wait([e](boost::system::error_code ec) {
    if (!ec) e->act(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

int curl_engine::on_socket(CURL*, curl_socket_t s, int what, void* self, void*) {
  static_cast<curl_engine*>(self)->watch(s, what);
  return 0;
}

void curl_engine::watch(curl_socket_t s, int what) {
  auto it = sockets_.find(s);
  if (what == CURL_POLL_REMOVE) {
    if (it != sockets_.end()) {
      it->second->what = 0;
      boost::system::error_code ec;
      it->second->desc.cancel(ec);
      it->second->desc.release();  // curl owns the descriptor and closes it
      sockets_.erase(it);
    }
    return;
  }
  if (it == sockets_.end()) it = sockets_.emplace(s, std::make_shared<watched>(io_, s)).first;
  auto w = it->second;
  w->what = what;
  if ((what & CURL_POLL_IN) && !w->reading) arm(w, true);
  if ((what & CURL_POLL_OUT) && !w->writing) arm(w, false);
}

void curl_engine::arm(const std::shared_ptr<watched>& w, bool read) {
  (read ? w->reading : w->writing) = true;
  auto s = w->desc.native_handle();
  std::weak_ptr<watched> weak = w;
  w->desc.async_wait(read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
                     [this, weak, s, read](boost::system::error_code ec) {
                       auto w = weak.lock();
                       if (!w) return;
                       (read ? w->reading : w->writing) = false;
                       if (ec) return;
                       act(s, read ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
                       auto it = sockets_.find(s);
                       if (it == sockets_.end() || it->second != w) return;  // removed or replaced meanwhile
                       int want = read ? CURL_POLL_IN : CURL_POLL_OUT;
                       if ((w->what & want) && !(read ? w->reading : w->writing)) arm(w, read);
                     });
}

void curl_engine::act(curl_socket_t s, int flags) {
  int running = 0;
  curl_multi_socket_action(multi_, s, flags, &running);
  check_done();
}

void curl_engine::check_done() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(m->easy_handle);
    if (it == transfers_.end()) continue;
    auto t = it->second;
    t->result = m->data.result;
    t->done = true;
    curl_multi_remove_handle(multi_, m->easy_handle);
    transfers_.erase(it);
    t->progress.notify();
  }
  // Transfers whose reader went away: stop them.
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    if (it->second->cancelled) {
      curl_multi_remove_handle(multi_, it->first);
      it->second->done = true;
      it = transfers_.erase(it);
    } else {
      ++it;
    }
  }
}

awaitable<outbound_response> curl_engine::perform(outbound_request req) {
  auto t = std::make_shared<transfer>(this, io_.get_executor());
  t->req = std::move(req);
  CURL* e = t->easy = curl_easy_init();
  if (!e) runners::fail("TypeError", "fetch failed: out of memory");
  curl_easy_setopt(e, CURLOPT_URL, t->req.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &transfer::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &transfer::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, t->req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 20L);
  if (t->req.timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t->req.timeout_ms));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  if (t->req.decode) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  bool has_ua = false, has_ct = false;
  for (const auto& [k, v] : t->req.headers) {
    std::string name = lower(k);
    if (name == "user-agent") has_ua = true;
    if (name == "content-type") has_ct = true;
    if (name == "content-length" || name == "host" || name == "transfer-encoding") continue;  // curl sets them
    t->header_list = curl_slist_append(t->header_list, (k + ": " + v).c_str());
  }
  if (!has_ua) t->header_list = curl_slist_append(t->header_list, "User-Agent: package-broker");
  if (!has_ct && t->req.has_body) t->header_list = curl_slist_append(t->header_list, "Content-Type:");
  t->header_list = curl_slist_append(t->header_list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
  const std::string& m = t->req.method;
  if (m == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (t->req.has_body) {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &transfer::on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, t.get());
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t->req.body.size()));
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
  } else if (m != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  transfers_[e] = t;
  if (curl_multi_add_handle(multi_, e) != CURLM_OK) {
    transfers_.erase(e);
    runners::fail("TypeError", "fetch failed: could not start the transfer");
  }
  while (!t->headers_ready && !t->done) co_await t->progress.wait();
  if (!t->headers_ready || (t->done && t->result != CURLE_OK && t->chunks.empty() && t->status == 0))
    runners::fail("TypeError", t->error_text());
  outbound_response r;
  r.status = t->status;
  r.headers = t->headers;
  char* final_url = nullptr;
  curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &final_url);
  r.url = final_url ? final_url : t->req.url;
  auto body = std::make_shared<transfer_body>(t);
  std::string cl = r.header("content-length");
  if (!cl.empty() && r.header("content-encoding").empty() && m != "HEAD") body->length = std::atoll(cl.c_str());
  if (m == "HEAD") body->length = 0;
  r.body = body;
  co_return r;
}

}  // namespace pb::server
