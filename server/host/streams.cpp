#include "host/streams.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "runners/failure.h"

namespace pb::server {

namespace {
constexpr std::size_t chunk_size = 256 * 1024;
}

memory_source::memory_source(std::string data) : data_(std::move(data)) { length = static_cast<std::int64_t>(data_.size()); }

awaitable<std::string> memory_source::next() {
  if (at_ >= data_.size()) co_return std::string();
  if (at_ == 0 && data_.size() <= chunk_size) {
    at_ = data_.size();
    co_return std::move(data_);
  }
  std::size_t n = std::min(chunk_size, data_.size() - at_);
  std::string out = data_.substr(at_, n);
  at_ += n;
  co_return out;
}

file_source::file_source(int fd, std::int64_t offset, std::int64_t len) : fd_(fd), offset_(offset), remaining_(len) { length = len; }

file_source::~file_source() {
  if (fd_ >= 0) ::close(fd_);
}

awaitable<std::string> file_source::next() {
  // Local files come from the page cache in microseconds: read on the loop, in bounded chunks.
  if (remaining_ <= 0) co_return std::string();
  std::string buf(std::min<std::int64_t>(remaining_, chunk_size), '\0');
  ssize_t n;
  do {
    n = ::pread(fd_, buf.data(), buf.size(), offset_);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) runners::fail("Error", n < 0 ? std::string("storage read failed: ") + std::strerror(errno) : "the object shrank while being read");
  buf.resize(static_cast<std::size_t>(n));
  offset_ += n;
  remaining_ -= n;
  co_return buf;
}

namespace {

struct tee_state {
  source_ptr src;
  event progress;
  bool reading = false, ended = false;
  std::exception_ptr error;
  std::deque<std::string> queued[2];
  bool alive[2] = {true, true};
  explicit tee_state(source_ptr s, asio::any_io_executor ex) : src(std::move(s)), progress(ex) {}
};

class tee_branch final : public body_source {
 public:
  tee_branch(std::shared_ptr<tee_state> s, int side) : s_(std::move(s)), side_(side) { length = s_->src->length; }
  ~tee_branch() override {
    s_->alive[side_] = false;
    s_->queued[side_].clear();
    s_->progress.notify();  // a branch waiting for this one to catch up goes on alone
  }
  awaitable<std::string> next() override {
    for (;;) {
      auto& mine = s_->queued[side_];
      if (!mine.empty()) {
        std::string c = std::move(mine.front());
        mine.pop_front();
        s_->progress.notify();  // the other branch may read ahead again
        co_return c;
      }
      if (s_->error) std::rethrow_exception(s_->error);
      if (s_->ended) co_return std::string();
      // The other branch is reading, or has not taken the last chunk yet: wait. The branches advance
      // together (as PROTOCOL.md has body.tee), so a slow reader holds the other back instead of
      // chunks piling up in memory.
      if (s_->reading || (s_->alive[1 - side_] && !s_->queued[1 - side_].empty())) {
        co_await s_->progress.wait();
        continue;
      }
      s_->reading = true;
      std::string c;
      try {
        c = co_await s_->src->next();
      } catch (...) {
        s_->error = std::current_exception();
      }
      s_->reading = false;
      if (!s_->error) {
        if (c.empty()) s_->ended = true;
        else if (s_->alive[1 - side_]) s_->queued[1 - side_].push_back(c);
      }
      s_->progress.notify();
      if (s_->error) std::rethrow_exception(s_->error);
      co_return c;
    }
  }

 private:
  std::shared_ptr<tee_state> s_;
  int side_;
};

}  // namespace

std::pair<source_ptr, source_ptr> tee(source_ptr src, asio::any_io_executor ex) {
  auto s = std::make_shared<tee_state>(std::move(src), ex);
  return {std::make_shared<tee_branch>(s, 0), std::make_shared<tee_branch>(s, 1)};
}

awaitable<std::string> collect(source_ptr src, std::int64_t max_bytes) {
  std::string out;
  for (;;) {
    std::string c = co_await src->next();
    if (c.empty()) break;
    if (static_cast<std::int64_t>(out.size() + c.size()) > max_bytes)
      runners::fail("PayloadTooLarge", "body is larger than " + std::to_string(max_bytes) + " bytes");
    out += c;
  }
  co_return out;
}

std::int64_t handle_table::add(source_ptr s) {
  std::int64_t id = next_++;
  map_[id] = std::move(s);
  return id;
}

source_ptr handle_table::take(std::int64_t id) {
  auto it = map_.find(id);
  if (it == map_.end()) runners::fail("BadHandle", "unknown or already used body handle " + std::to_string(id));
  source_ptr s = std::move(it->second);
  map_.erase(it);
  return s;
}

}  // namespace pb::server
