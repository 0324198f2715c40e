// The web UI's files (ui/, embedded at build time) served the way Workers static assets serve them for
// the Worker (wrangler.toml [assets]: html_handling "auto-trailing-slash", not_found_handling "none"):
// a file's path is answered before the core runs (GET and HEAD with the file, other methods with 405);
// other paths go to the core.
// ui/_headers applies as on Cloudflare; ETag and If-None-Match give 304s.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/invocation.h"

namespace pb::server {

class static_files {
 public:
  using file_list = std::vector<std::pair<std::string_view, std::string_view>>;  // relative path -> bytes

  static_files() = default;  // serves nothing (PB_UI=off)
  // Throws runners::failure(TypeError) on a _headers line it cannot read.
  explicit static_files(const file_list& files);

  // The answer for `method` on `target` (path and query): the file, a 304, a 307 to the file's canonical
  // path, or 405 for a method other than GET and HEAD; nullopt when no file has this path (the core answers).
  std::optional<core_response> answer(std::string_view method, std::string_view target, std::string_view if_none_match) const;

  std::size_t size() const { return files_.size(); }

 private:
  struct file {
    std::string_view bytes;
    std::string content_type, etag;
    std::vector<std::pair<std::string, std::string>> headers;  // from _headers
  };
  std::map<std::string, file, std::less<>> files_;               // canonical URL path -> file
  std::map<std::string, std::string, std::less<>> redirects_;     // other spellings of an HTML page -> canonical
};

// The files embedded from ui/ (cmake/embed_files.cmake).
const static_files::file_list& embedded_ui_files();

}  // namespace pb::server
