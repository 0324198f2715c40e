// Body handles on the server (PROTOCOL.md "Body handles"): a `body_source` is a stream of bytes read
// once, chunk by chunk, so archives never sit whole in memory. Sources: memory, a file range, the
// request body (http_server.cpp), an outbound transfer (curl_engine.cpp) and `tee`, which splits one
// source into two readers (buffering what one has read and the other not yet).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/async.h"

namespace pb::server {

class body_source {
 public:
  virtual ~body_source() = default;
  // The next chunk (never empty), or "" at the end. Throws runners::failure when the stream breaks.
  virtual awaitable<std::string> next() = 0;
  std::int64_t length = -1;  // total bytes when known
};
using source_ptr = std::shared_ptr<body_source>;

class memory_source final : public body_source {
 public:
  explicit memory_source(std::string data);
  awaitable<std::string> next() override;

 private:
  std::string data_;
  std::size_t at_ = 0;
};

// Reads [offset, offset + length) of an open file descriptor (owned) in 256 KiB chunks.
class file_source final : public body_source {
 public:
  file_source(int fd, std::int64_t offset, std::int64_t length);
  ~file_source() override;
  awaitable<std::string> next() override;

 private:
  int fd_;
  std::int64_t offset_, remaining_;
};

// Two readers of one source. Each branch gets every byte; the branch ahead reads from the source and
// queues what the other has not read yet.
std::pair<source_ptr, source_ptr> tee(source_ptr src, asio::any_io_executor ex);

// Reads a whole source; throws failure(PayloadTooLarge) past max_bytes.
awaitable<std::string> collect(source_ptr src, std::int64_t max_bytes);

// The invocation's handle table: ids are handed to the core, using one consumes it.
class handle_table {
 public:
  std::int64_t add(source_ptr s);
  void set(std::int64_t id, source_ptr s) { map_[id] = std::move(s); }
  source_ptr take(std::int64_t id);  // throws failure(BadHandle)
  void clear() { map_.clear(); }

 private:
  std::map<std::int64_t, source_ptr> map_;
  std::int64_t next_ = 1;
};

}  // namespace pb::server
