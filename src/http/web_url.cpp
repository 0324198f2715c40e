#include "http/web_url.h"

#include <cstdint>
#include <cstring>

#include "ada.h"

namespace pb::http {

namespace {

// What the standard removes before parsing: leading/trailing C0 controls and spaces, and every ASCII
// tab or newline. The "//" check below runs on that, as the parser would see it.
std::string cleaned(std::string_view in) {
  while (!in.empty() && static_cast<unsigned char>(in.front()) <= 0x20) in.remove_prefix(1);
  while (!in.empty() && static_cast<unsigned char>(in.back()) <= 0x20) in.remove_suffix(1);
  std::string out;
  out.reserve(in.size());
  for (char c : in)
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  return out;
}

bool scheme_char(char c, bool first) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return first ? alpha : alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

// Length of a leading "scheme:" (0 when the input has none).
std::size_t scheme_prefix(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':') return i > 0 ? i + 1 : 0;
    if (!scheme_char(s[i], i == 0)) return 0;
  }
  return 0;
}

result<web_url> from_ada(const ada::url_aggregator& u, std::string_view input) {
  web_url w;
  std::string_view protocol = u.get_protocol();
  if (protocol != "http:" && protocol != "https:")
    return make_error(error_code::bad_request, "not an http(s) URL: \"" + std::string(input) + "\"");
  w.scheme = std::string(protocol.substr(0, protocol.size() - 1));
  w.host = std::string(u.get_hostname());
  if (w.host.empty()) return make_error(error_code::bad_request, "no host in \"" + std::string(input) + "\"");
  // Hosts are ASCII only (idna_ascii.cpp refuses the rest), but ada's fast path for hosts without upper
  // case or forbidden bytes lets a raw 0xFF through (its table of forbidden bytes stops at 0xFE). Found
  // by the web_url fuzzer.
  for (char c : w.host)
    if (static_cast<unsigned char>(c) >= 0x80)
      return make_error(error_code::bad_request, "a host that is not ASCII in \"" + std::string(input) + "\"");
  std::string_view port = u.get_port();
  w.port = w.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    w.port = 0;
    for (char c : port) w.port = w.port * 10 + (c - '0');  // ada guarantees 0..65535 digits
  }
  w.href = std::string(u.get_href());
  w.has_userinfo = u.has_credentials();
  return w;
}

result<std::monostate> slashes_after_scheme(std::string_view input, const std::string& clean) {
  std::size_t n = scheme_prefix(clean);
  if (n > 0 && clean.compare(n, 2, "//") != 0)
    return make_error(error_code::bad_request, "\"" + std::string(input) + "\" has no \"//\" after its scheme");
  return std::monostate{};
}

// The form most upstream archive URLs already have (a mirror reads one per version) and the standard's
// parser returns unchanged: "https://", a host of lower-case DNS labels whose last starts with a letter
// (never an IPv4 number), then a path of unreserved or sub-delimiter characters, ':', '@' and '/' with
// no segment starting with '.' (so no dot segment). No port, user info, query, fragment, percent-escape,
// backslash, space, upper case or "http:": anything else goes to ada. ("xn--" labels are kept as given by
// this build's IDNA step, idna_ascii.cpp; the tests' invalid punycode hosts would catch a change there.)
// Same web_url as ada's (tests/native/http/test_web_url.cpp and the web_url fuzz target compare them).
// Pointers, not string_view calls: this file is built at -Oz, where those stay calls.
// Returns the length of "https://" and the host when `in` is in that form, else 0.
std::size_t canonical(std::string_view in) {
  // Bit c: byte c may stand in the path as it is (A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ /).
  constexpr std::uint64_t path_bits[2] = {0x2fffffd200000000, 0x47fffffe87ffffff};
  const char *const begin = in.data(), *const end = begin + in.size();
  constexpr std::size_t n = 8;  // "https://"
  if (in.size() <= n || std::memcmp(begin, "https://", n) != 0) return 0;
  const char *label = begin + n, *at = label;
  for (; at < end && *at != '/'; ++at) {
    const char c = *at;
    if (c == '.' && at > label) {
      label = at + 1;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return 0;
    }
  }
  if (at == end || at == label || *label < 'a' || *label > 'z') return 0;
  for (const char* q = at + 1; q < end; ++q)  // no segment starting with '.' ("." and "..": ada removes them)
    if (const auto u = static_cast<unsigned char>(*q); u >= 128 || !(path_bits[u >> 6] >> (u & 63) & 1) || (u == '.' && q[-1] == '/'))
      return 0;
  return static_cast<std::size_t>(at - begin);
}

}  // namespace

std::string web_url::origin() const {
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return scheme + "://" + host + (default_port ? "" : ":" + std::to_string(port));
}

result<web_url> parse_web_url(std::string_view input, bool short_cut) {
  if (const std::size_t host_end = short_cut ? canonical(input) : 0) {
    web_url w;
    w.href = input;
    w.scheme = "https";
    w.host = input.substr(8, host_end - 8);
    w.port = 443;
    return w;
  }
  std::string clean = cleaned(input);
  if (scheme_prefix(clean) == 0)
    return make_error(error_code::bad_request, "not an absolute http(s) URL: \"" + std::string(input) + "\"");
  if (auto ok = slashes_after_scheme(input, clean); !ok) return std::move(ok).err();
  auto u = ada::parse<ada::url_aggregator>(clean);
  if (!u) return make_error(error_code::bad_request, "not a valid URL: \"" + std::string(input) + "\"");
  return from_ada(*u, input);
}

result<web_url> resolve_web_url(const web_url& base, std::string_view ref) {
  std::string clean = cleaned(ref);
  if (auto ok = slashes_after_scheme(ref, clean); !ok) return std::move(ok).err();
  auto b = ada::parse<ada::url_aggregator>(base.href);
  if (!b) return make_error(error_code::bad_request, "not a valid URL: \"" + base.href + "\"");
  auto u = ada::parse<ada::url_aggregator>(clean, &*b);
  if (!u) return make_error(error_code::bad_request, "\"" + std::string(ref) + "\" does not resolve against " + base.href);
  return from_ada(*u, ref);
}

}  // namespace pb::http
