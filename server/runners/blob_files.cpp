#include "runners/blob_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runners/failure.h"

namespace pb::runners {

namespace fs = std::filesystem;

namespace {

std::string encode_name(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || (c == '.' && !out.empty())) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (out.size() > 200) out = hex_digest("SHA-256", key) + ".long";
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("Error", std::string("storage write failed: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Writes a small file atomically (tmp + fsync + rename).
void replace_file(const fs::path& tmp_dir, const fs::path& target, std::string_view data) {
  fs::path tmp = tmp_dir / ("m-" + random_hex(12));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail("Error", std::string("storage write failed: ") + std::strerror(errno));
  try {
    write_all(fd, data);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  fs::rename(tmp, target, ec);
  if (ec) {
    ::unlink(tmp.c_str());
    fail("Error", "storage rename failed: " + ec.message());
  }
}

}  // namespace

void check_key(const std::string& key) {
  if (key.empty() || key.size() > 1024) fail("TypeError", "object keys must be 1 to 1024 bytes long");
}

json blob_info_json(const blob_info& i) {
  json out = json::object();
  out.set("found", json(true));
  out.set("key", json(i.key));
  out.set("size", json(i.size));
  out.set("etag", json(i.etag));
  out.set("uploaded_ms", json(i.uploaded_ms));
  out.set("http_metadata", i.http_metadata.is_object() ? i.http_metadata : json::object());
  out.set("custom_metadata", i.custom_metadata.is_object() ? i.custom_metadata : json::object());
  return out;
}

byte_span resolve_range(const json& r, std::int64_t size) {
  byte_span s{0, size};
  if (r.find("suffix")) {
    s.length = std::min(std::max<std::int64_t>(r["suffix"].as_int(), 0), size);
    s.offset = size - s.length;
  } else {
    s.offset = std::min(std::max<std::int64_t>(r["offset"].as_int(), 0), size);
    std::int64_t want = r.find("length") ? r["length"].as_int(size - s.offset) : size - s.offset;
    s.length = std::min(std::max<std::int64_t>(want, 0), size - s.offset);
  }
  return s;
}

file_blob_store::file_blob_store(fs::path root) : root_(std::move(root)) {
  for (const char* d : {"objects", "meta", "tmp"}) fs::create_directories(root_ / d);
  // Leftovers of puts that never finished (a crash): nobody can ever commit them.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "tmp", ec)) fs::remove(e.path(), ec);
}

fs::path file_blob_store::object_path(const std::string& key) const {
  std::string name = encode_name(key);
  return root_ / "objects" / hex_digest("SHA-256", key).substr(0, 2) / name;
}

fs::path file_blob_store::meta_path(const std::string& key) const {
  return root_ / "meta" / hex_digest("SHA-256", key).substr(0, 2) / (encode_name(key) + ".json");
}

std::optional<std::pair<fs::path, blob_info>> file_blob_store::locate(const std::string& key) const {
  check_key(key);
  fs::path p = object_path(key);
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return std::nullopt;
  blob_info info;
  info.key = key;
  info.size = static_cast<std::int64_t>(size);
  if (auto meta = parse_json(slurp(meta_path(key))); meta && (*meta)["size"].as_int(-1) == info.size) {
    info.etag = std::string((*meta)["etag"].as_string());
    info.uploaded_ms = (*meta)["uploaded_ms"].as_int();
    info.http_metadata = (*meta)["http_metadata"];
    info.custom_metadata = (*meta)["custom_metadata"];
  }
  return std::make_pair(p, info);
}

std::optional<blob_info> file_blob_store::head(const std::string& key) const {
  auto l = locate(key);
  if (!l) return std::nullopt;
  return l->second;
}

std::optional<std::pair<blob_info, std::string>> file_blob_store::read(const std::string& key, std::int64_t offset,
                                                                       std::int64_t length) const {
  auto l = locate(key);
  if (!l) return std::nullopt;
  int fd = ::open(l->first.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // removed meanwhile
  std::int64_t size = l->second.size;
  offset = std::min(offset, size);
  if (length < 0 || offset + length > size) length = size - offset;
  std::string data(static_cast<std::size_t>(length), '\0');
  std::int64_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, data.data() + got, static_cast<std::size_t>(length - got), offset + got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += n;
  }
  ::close(fd);
  data.resize(static_cast<std::size_t>(got));
  return std::make_pair(l->second, std::move(data));
}

void file_blob_store::remove(const std::string& key) {
  check_key(key);
  std::error_code ec;
  fs::remove(object_path(key), ec);
  fs::remove(meta_path(key), ec);
}

std::size_t file_blob_store::count() const {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "objects", ec))
    if (e.is_regular_file()) ++n;
  return n;
}

file_blob_store::writer::writer(const file_blob_store& store, std::string key, json http_metadata, json custom_metadata, bool sha1,
                                bool sha256, std::int64_t expected_size, std::int64_t max_bytes)
    : store_(&store),
      key_(std::move(key)),
      http_metadata_(std::move(http_metadata)),
      custom_metadata_(std::move(custom_metadata)),
      expected_(expected_size),
      max_(max_bytes),
      md5_("MD5"),
      sha1_("SHA-1"),
      sha256_("SHA-256"),
      want_sha1_(sha1),
      want_sha256_(sha256) {
  tmp_ = store.root_ / "tmp" / ("o-" + random_hex(12));
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("Error", std::string("storage write failed: ") + std::strerror(errno));
}

file_blob_store::writer::writer(writer&& o) noexcept
    : store_(o.store_),
      key_(std::move(o.key_)),
      http_metadata_(std::move(o.http_metadata_)),
      custom_metadata_(std::move(o.custom_metadata_)),
      tmp_(std::move(o.tmp_)),
      fd_(o.fd_),
      size_(o.size_),
      expected_(o.expected_),
      max_(o.max_),
      md5_(std::move(o.md5_)),
      sha1_(std::move(o.sha1_)),
      sha256_(std::move(o.sha256_)),
      want_sha1_(o.want_sha1_),
      want_sha256_(o.want_sha256_),
      done_(o.done_) {
  o.fd_ = -1;
  o.done_ = true;
}

file_blob_store::writer::~writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!done_) ::unlink(tmp_.c_str());
}

void file_blob_store::writer::append(std::string_view chunk) {
  std::int64_t after = size_ + static_cast<std::int64_t>(chunk.size());
  if (max_ >= 0 && after > max_) fail("PayloadTooLarge", "body is larger than " + std::to_string(max_) + " bytes");
  if (expected_ >= 0 && after > expected_) fail("BadBody", "the body is longer than the " + std::to_string(expected_) + " bytes expected");
  write_all(fd_, chunk);
  size_ += static_cast<std::int64_t>(chunk.size());
  md5_.update(chunk);
  if (want_sha1_) sha1_.update(chunk);
  if (want_sha256_) sha256_.update(chunk);
}

json file_blob_store::writer::commit(std::int64_t uploaded_ms) {
  if (expected_ >= 0 && size_ != expected_)
    fail("BadBody", "the body ended after " + std::to_string(size_) + " of the " + std::to_string(expected_) + " bytes expected");
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
  json out = json::object();
  out.set("key", json(key_));
  out.set("size", json(size_));
  std::string etag = md5_.hex();
  out.set("etag", json(etag));
  if (want_sha1_) out.set("sha1", json(sha1_.hex()));
  if (want_sha256_) out.set("sha256", json(sha256_.hex()));
  json meta = json::object();
  meta.set("size", json(size_));
  meta.set("etag", json(etag));
  meta.set("uploaded_ms", json(uploaded_ms));
  meta.set("http_metadata", http_metadata_.is_object() ? http_metadata_ : json::object());
  meta.set("custom_metadata", custom_metadata_.is_object() ? custom_metadata_ : json::object());
  // Metadata first: the object's rename is the commit point (metadata with another size is ignored).
  replace_file(store_->root_ / "tmp", store_->meta_path(key_), meta.dump());
  fs::path target = store_->object_path(key_);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  fs::rename(tmp_, target, ec);
  if (ec) fail("Error", "storage rename failed: " + ec.message());
  done_ = true;
  return out;
}

file_blob_store::writer file_blob_store::begin_put(std::string key, json http_metadata, json custom_metadata, bool sha1, bool sha256,
                                                   std::int64_t expected_size, std::int64_t max_bytes) {
  check_key(key);
  return writer(*this, std::move(key), std::move(http_metadata), std::move(custom_metadata), sha1, sha256, expected_size, max_bytes);
}

json file_blob_store::put(const std::string& key, std::string_view data, const json& e, std::int64_t uploaded_ms) {
  bool sha1 = false, sha256 = false;
  for (const auto& a : e["digests"].as_array()) {
    if (a.as_string() == "SHA-1") sha1 = true;
    if (a.as_string() == "SHA-256") sha256 = true;
  }
  const json* want = e.find("expected_size");
  const json* max = e.find("max_bytes");
  writer w = begin_put(key, e["http_metadata"], e["custom_metadata"], sha1, sha256, want ? want->as_int() : -1, max ? max->as_int() : -1);
  w.append(data);
  return w.commit(uploaded_ms);
}

}  // namespace pb::runners
