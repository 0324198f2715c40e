#include "http/url.h"

#include "core/text.h"

namespace pb::http {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

url parse_url(std::string_view s) {
  url u;
  std::size_t scheme_end = s.find("://");
  if (scheme_end != std::string_view::npos) {
    u.scheme = std::string(s.substr(0, scheme_end));
    s.remove_prefix(scheme_end + 3);
    std::size_t host_end = s.find_first_of("/?#");
    u.host = std::string(s.substr(0, host_end));
    s = host_end == std::string_view::npos ? std::string_view{} : s.substr(host_end);
  }
  std::size_t hash = s.find('#');
  if (hash != std::string_view::npos) s = s.substr(0, hash);
  std::size_t q = s.find('?');
  u.path = std::string(s.substr(0, q));
  if (u.path.empty()) u.path = "/";
  if (q != std::string_view::npos) u.query = std::string(s.substr(q + 1));
  return u;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> url::query_params() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = query;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    auto k = percent_decode(part.substr(0, eq), true);
    auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
    if (k && v) out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

bool url::edge_cache_works() const {
  std::string_view h = host;
  if (auto colon = h.rfind(':'); colon != std::string_view::npos && h.find(']') == std::string_view::npos) h = h.substr(0, colon);
  while (!h.empty() && h.back() == '.') h.remove_suffix(1);
  constexpr std::string_view suffix = ".workers.dev";
  return !(h.size() > suffix.size() && ascii_lower(h.substr(h.size() - suffix.size())) == suffix);
}

std::optional<std::string> url::query_param(std::string_view name) const {
  for (auto& [k, v] : query_params())
    if (k == name) return v;
  return std::nullopt;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~';
    if (keep) out += static_cast<char>(c);
    else out += {'%', hex[c >> 4], hex[c & 15]};
  }
  return out;
}

}  // namespace pb::http
