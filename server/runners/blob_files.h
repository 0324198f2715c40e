// R2's semantics on a local directory (PB_STORAGE_URL=file:///path, the server's default, and the
// native tests' blob store). Keys are flat like R2's: each key is one file named by its percent-encoded
// key (hashed when long) in one of 256 shard directories, with its metadata beside it under meta/.
// Writes go to tmp/ and are renamed into place after an fsync, so a partial object is never visible; a
// put with an expected size that receives another number of bytes stores nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "runners/crypto_ops.h"

namespace pb::runners {

struct blob_info {
  std::string key;
  std::int64_t size = 0;
  std::string etag;
  std::int64_t uploaded_ms = 0;
  json http_metadata = json::object();
  json custom_metadata = json::object();
};
// The object info fields of r2.get / r2.head (PROTOCOL.md).
json blob_info_json(const blob_info& info);

struct byte_span {
  std::int64_t offset = 0;
  std::int64_t length = 0;
};
// An r2.get "range" ({"offset","length"?} or {"suffix"}) against an object of `size` bytes, clamped as
// R2 clamps it.
byte_span resolve_range(const json& range, std::int64_t size);

class file_blob_store {
 public:
  explicit file_blob_store(std::filesystem::path root);  // creates the directories

  std::optional<blob_info> head(const std::string& key) const;
  // The object's file (open it to stream) and info.
  std::optional<std::pair<std::filesystem::path, blob_info>> locate(const std::string& key) const;
  // Whole or ranged read into memory.
  std::optional<std::pair<blob_info, std::string>> read(const std::string& key, std::int64_t offset = 0, std::int64_t length = -1) const;
  void remove(const std::string& key);
  std::size_t count() const;

  // A put in progress: bytes are appended as they arrive; commit() makes the object visible at once.
  class writer {
   public:
    writer(writer&&) noexcept;
    writer& operator=(writer&&) = delete;
    ~writer();  // an uncommitted writer leaves nothing behind
    void append(std::string_view chunk);
    // Throws failure (BadBody) when expected_size >= 0 and a different number of bytes arrived; append
    // throws PayloadTooLarge past max_bytes (>= 0) and BadBody past expected_size, before writing.
    // Returns r2.put's value {"key","size","etag","sha1"?,"sha256"?}.
    json commit(std::int64_t uploaded_ms);
    std::int64_t written() const { return size_; }

   private:
    friend class file_blob_store;
    writer(const file_blob_store& store, std::string key, json http_metadata, json custom_metadata, bool sha1, bool sha256,
           std::int64_t expected_size, std::int64_t max_bytes);
    const file_blob_store* store_;
    std::string key_;
    json http_metadata_, custom_metadata_;
    std::filesystem::path tmp_;
    int fd_ = -1;
    std::int64_t size_ = 0, expected_, max_;
    digest_stream md5_, sha1_, sha256_;
    bool want_sha1_, want_sha256_, done_ = false;
  };
  writer begin_put(std::string key, json http_metadata, json custom_metadata, bool sha1, bool sha256, std::int64_t expected_size,
                   std::int64_t max_bytes = -1);
  json put(const std::string& key, std::string_view data, const json& effect, std::int64_t uploaded_ms);

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path object_path(const std::string& key) const;
  std::filesystem::path meta_path(const std::string& key) const;
  std::filesystem::path root_;
};

// The object-store key rule shared by the stores: 1..1024 bytes (throws failure otherwise).
void check_key(const std::string& key);

}  // namespace pb::runners
