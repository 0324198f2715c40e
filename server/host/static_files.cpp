#include "host/static_files.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "runners/failure.h"

// Generated from ui/ by cmake/embed_files.cmake.
const std::vector<std::pair<std::string_view, std::string_view>>& pb_ui_files();

namespace pb::server {

const static_files::file_list& embedded_ui_files() { return pb_ui_files(); }

namespace {

// Files that configure the assets on Cloudflare and are never served.
bool configuration_file(std::string_view rel) { return rel == "_headers" || rel == "_redirects" || rel == ".assetsignore"; }

bool ends_with(std::string_view s, std::string_view tail) { return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail; }

// The types Cloudflare gives these extensions; anything else is served as bytes.
std::string content_type_of(std::string_view rel) {
  static const std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "application/javascript"}, {".mjs", "application/javascript"},
      {".css", "text/css; charset=utf-8"},   {".json", "application/json"},     {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".webp", "image/webp"},           {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"}, {".woff2", "font/woff2"},          {".map", "application/json"}};
  for (const auto& [ext, type] : types)
    if (ends_with(rel, ext)) return std::string(type);
  return "application/octet-stream";
}

std::string strong_etag(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static const char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (int i = 0; i < 16; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out + "\"";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A _headers pattern: '*' matches anything (a splat), ':name' a part of one path segment, the rest itself.
// Patterns and paths are short: the backtracking stays small.
bool pattern_matches(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return path.empty();
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= path.size(); ++i)
      if (pattern_matches(pattern.substr(1), path.substr(i))) return true;
    return false;
  }
  if (pattern.front() == ':') {
    std::size_t name_end = 1;
    while (name_end < pattern.size() && (std::isalnum(static_cast<unsigned char>(pattern[name_end])) || pattern[name_end] == '_')) ++name_end;
    std::size_t segment_end = std::min(path.find('/'), path.size());
    for (std::size_t i = 1; i <= segment_end; ++i)
      if (pattern_matches(pattern.substr(name_end), path.substr(i))) return true;
    return false;
  }
  return !path.empty() && path.front() == pattern.front() && pattern_matches(pattern.substr(1), path.substr(1));
}

struct header_rule {
  std::string pattern;
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> detach;  // "! Name": drops what an earlier rule set
};

std::vector<header_rule> parse_headers_file(std::string_view text) {
  std::vector<header_rule> rules;
  int line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](const std::string& why) { runners::fail("TypeError", "ui/_headers line " + std::to_string(line_no) + ": " + why); };
    bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (!indented) {
      if (line.front() != '/') bad("a rule starts with a path (absolute URLs are not supported here)");
      rules.push_back({std::string(line), {}, {}});
      continue;
    }
    if (rules.empty()) bad("a header before any path");
    if (line.front() == '!') {
      rules.back().detach.emplace_back(trim(line.substr(1)));
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) bad("expected 'Name: value'");
    rules.back().set.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return rules;
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Headers of every matching rule, in file order; a header several rules set is joined with ", ".
std::vector<std::pair<std::string, std::string>> headers_for(const std::vector<header_rule>& rules, std::string_view path) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : rules) {
    if (!pattern_matches(r.pattern, path)) continue;
    for (const auto& name : r.detach)
      out.erase(std::remove_if(out.begin(), out.end(), [&](const auto& h) { return same_name(h.first, name); }), out.end());
    for (const auto& header : r.set) {
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& h) { return same_name(h.first, header.first); });
      if (it == out.end()) out.push_back(header);
      else it->second += ", " + header.second;
    }
  }
  return out;
}

// %XX decoded; nullopt for a malformed escape (the core then answers the path as it is).
std::optional<std::string> percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) || !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

}  // namespace

static_files::static_files(const file_list& list) {
  std::vector<header_rule> rules;
  for (const auto& [rel, bytes] : list)
    if (rel == "_headers") rules = parse_headers_file(bytes);

  // auto-trailing-slash: a/index.html is served at /a/, b.html at /b, any other file at its own path.
  std::vector<std::pair<std::string, std::string>> aliases;  // (alias, canonical) of HTML pages
  for (const auto& [rel, bytes] : list) {
    if (configuration_file(rel)) continue;
    std::string path = "/" + std::string(rel);
    if (ends_with(path, "/index.html")) {
      std::string folder = path.substr(0, path.size() - 10);  // "/a/"
      aliases.emplace_back(path, folder);
      aliases.emplace_back(folder + "index", folder);
      if (folder != "/") {
        std::string bare = folder.substr(0, folder.size() - 1);  // "/a"
        aliases.emplace_back(bare, folder);
        aliases.emplace_back(bare + ".html", folder);
      }
      path = folder;
    } else if (ends_with(path, ".html")) {
      std::string bare = path.substr(0, path.size() - 5);  // "/b"
      for (const std::string& alias : {path, bare + "/", bare + "/index", bare + "/index.html"}) aliases.emplace_back(alias, bare);
      path = bare;
    }
    file f{bytes, content_type_of(rel), strong_etag(bytes), headers_for(rules, path)};
    files_.insert_or_assign(path, std::move(f));
  }
  // A real file's path is never redirected; the first page claiming an alias keeps it.
  for (auto& [alias, canonical] : aliases)
    if (!files_.count(alias) && alias != canonical) redirects_.emplace(alias, canonical);
}

std::optional<core_response> static_files::answer(std::string_view method, std::string_view target, std::string_view if_none_match) const {
  if (files_.empty()) return std::nullopt;
  std::size_t q = target.find('?');
  std::optional<std::string> path = percent_decoded(target.substr(0, q));
  if (!path) return std::nullopt;
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q);

  core_response r;
  if (method != "GET" && method != "HEAD") {
    // As on Workers: the assets refuse other methods on their paths themselves (405, no body, the
    // _headers); the Allow header is ours (RFC 9110 requires it on a 405).
    auto page = redirects_.find(*path);
    auto it = files_.find(page == redirects_.end() ? *path : page->second);
    if (it == files_.end()) return std::nullopt;
    r.status = 405;
    r.headers = {{"allow", "GET, HEAD"}};
    r.headers.insert(r.headers.end(), it->second.headers.begin(), it->second.headers.end());
    return r;
  }
  if (auto it = redirects_.find(*path); it != redirects_.end()) {
    r.status = 307;
    r.headers = {{"location", it->second + std::string(query)}, {"cache-control", "no-store"}};
    return r;
  }
  auto it = files_.find(*path);
  if (it == files_.end()) return std::nullopt;
  const file& f = it->second;
  r.headers = {{"content-type", f.content_type}, {"etag", f.etag}, {"cache-control", "public, max-age=0, must-revalidate"}};
  r.headers.insert(r.headers.end(), f.headers.begin(), f.headers.end());
  // If-None-Match: a list of entity tags, or '*'; weak ones compare too (RFC 9110 13.1.2).
  bool matched = false;
  for (std::string_view rest = if_none_match; !rest.empty() && !matched;) {
    std::size_t comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    matched = tag == "*" || tag == f.etag;
  }
  r.status = matched ? 304 : 200;
  if (!matched) r.body = std::string(f.bytes);
  return r;
}

}  // namespace pb::server
