#include "runners/s3_sign.h"

#include "http/url.h"

#include <algorithm>
#include <cctype>

#include "runners/crypto_ops.h"
#include "runners/failure.h"

namespace pb::runners {

namespace {

// Malformed escapes stay as they are (the URL is then refused for what it says, not how it is escaped).
std::string decoded(std::string_view s) { return http::percent_decode(s).value_or(std::string(s)); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string amz_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}


struct target {
  std::string host;  // Host header value
  std::string base;  // scheme://host
  std::string path;  // canonical (encoded) path
};

target locate(const s3_location& s3, const std::string& key, bool for_clients = false) {
  target t;
  const std::string& endpoint = for_clients && !s3.public_endpoint.empty() ? s3.public_endpoint : s3.endpoint;
  std::string scheme = endpoint.substr(0, endpoint.find("://"));
  std::string host = endpoint.substr(endpoint.find("://") + 3);
  std::string full_key = key.empty() ? "" : s3.prefix + key;
  if (s3.path_style) {
    t.host = host;
    t.path = "/" + uri_encode(s3.bucket, true) + (key.empty() ? "" : "/" + uri_encode(full_key, false));
  } else {
    t.host = s3.bucket + "." + host;
    t.path = "/" + uri_encode(full_key, false);
  }
  t.base = scheme + "://" + t.host;
  return t;
}

std::string canonical_query(query_list q) {
  for (auto& [k, v] : q) {
    k = uri_encode(k, true);
    v = uri_encode(v, true);
  }
  std::sort(q.begin(), q.end());
  std::string out;
  for (const auto& [k, v] : q) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

std::string signing_key(const s3_location& s3, const std::string& date) {
  std::string k = hmac_raw("SHA-256", "AWS4" + s3.secret_key, date);
  k = hmac_raw("SHA-256", k, s3.region);
  k = hmac_raw("SHA-256", k, "s3");
  return hmac_raw("SHA-256", k, "aws4_request");
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

s3_location parse_s3_url(const std::string& url, const std::string& env_access_key, const std::string& env_secret_key) {
  if (url.rfind("s3://", 0) != 0) fail("TypeError", "an S3 storage URL starts with s3://");
  s3_location s3;
  std::string rest = url.substr(5), query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (auto at = rest.find('@'); at != std::string::npos) {
    std::string user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = user.find(':');
    s3.access_key = decoded(user.substr(0, colon));
    if (colon != std::string::npos) s3.secret_key = decoded(user.substr(colon + 1));
  }
  auto slash = rest.find('/');
  s3.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) {
    s3.prefix = rest.substr(slash + 1);
    if (!s3.prefix.empty() && s3.prefix.back() != '/') s3.prefix += '/';
  }
  if (s3.bucket.size() < 3 || s3.bucket.size() > 63) fail("TypeError", "S3 bucket names are 3 to 63 characters");
  bool explicit_style = false;
  std::size_t at = 0;
  while (at < query.size()) {
    std::size_t amp = query.find('&', at);
    std::string pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    std::string k = pair.substr(0, pair.find('='));
    std::string v = pair.find('=') == std::string::npos ? "" : decoded(pair.substr(pair.find('=') + 1));
    if (k == "endpoint") s3.endpoint = v;
    else if (k == "public_endpoint") s3.public_endpoint = v;
    else if (k == "region") s3.region = v;
    else if (k == "path_style") {
      s3.path_style = v == "1" || v == "true";
      explicit_style = true;
    } else if (!k.empty()) fail("TypeError", "unknown S3 URL option " + k + " (endpoint, public_endpoint, region, path_style)");
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  if (s3.endpoint.empty()) {
    s3.endpoint = "https://s3." + s3.region + ".amazonaws.com";
    if (!explicit_style) s3.path_style = false;
  }
  while (!s3.endpoint.empty() && s3.endpoint.back() == '/') s3.endpoint.pop_back();
  while (!s3.public_endpoint.empty() && s3.public_endpoint.back() == '/') s3.public_endpoint.pop_back();
  for (const std::string* e : {&s3.endpoint, &s3.public_endpoint})
    if (!e->empty() && e->rfind("http://", 0) != 0 && e->rfind("https://", 0) != 0)
      fail("TypeError", "S3 endpoints must be http:// or https:// URLs");
  if (s3.access_key.empty()) s3.access_key = env_access_key;
  if (s3.secret_key.empty()) s3.secret_key = env_secret_key;
  if (s3.access_key.empty() || s3.secret_key.empty())
    fail("TypeError", "S3 needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  s3.redacted = "s3://" + s3.bucket + "/" + s3.prefix + "?endpoint=" + s3.endpoint + "&region=" + s3.region;
  return s3;
}

s3_request sign_request(const s3_location& s3, std::string method, const std::string& key, query_list query,
                        header_pairs headers, const std::string& payload_sha256, std::time_t now) {
  target t = locate(s3, key);
  std::string date = amz_date(now);
  headers.emplace_back("x-amz-date", date);
  headers.emplace_back("x-amz-content-sha256", payload_sha256);
  header_pairs canon;
  canon.emplace_back("host", t.host);
  for (const auto& [k, v] : headers) canon.emplace_back(lower(k), trim(v));
  std::sort(canon.begin(), canon.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : canon) {
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }
  std::string cq = canonical_query(query);
  std::string creq = method + "\n" + t.path + "\n" + cq + "\n" + canonical_headers + "\n" + signed_headers + "\n" + payload_sha256;
  std::string scope = date.substr(0, 8) + "/" + s3.region + "/s3/aws4_request";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex_digest("SHA-256", creq);
  std::string raw = hmac_raw("SHA-256", signing_key(s3, date.substr(0, 8)), to_sign);
  std::string signature = to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + s3.access_key + "/" + scope +
                                            ", SignedHeaders=" + signed_headers + ", Signature=" + signature);
  return s3_request{std::move(method), t.base + t.path + (cq.empty() ? "" : "?" + cq), std::move(headers)};
}

std::string presign_get(const s3_location& s3, const std::string& key, std::int64_t expires_s, query_list extra, std::time_t now) {
  if (expires_s < 1 || expires_s > 604800) fail("TypeError", "pre-signed URLs live 1 s to 7 days");
  target t = locate(s3, key, true);
  std::string date = amz_date(now);
  std::string scope = date.substr(0, 8) + "/" + s3.region + "/s3/aws4_request";
  query_list q = std::move(extra);
  q.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  q.emplace_back("X-Amz-Credential", s3.access_key + "/" + scope);
  q.emplace_back("X-Amz-Date", date);
  q.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  q.emplace_back("X-Amz-SignedHeaders", "host");
  std::string cq = canonical_query(q);
  std::string creq = "GET\n" + t.path + "\n" + cq + "\nhost:" + t.host + "\n\nhost\nUNSIGNED-PAYLOAD";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex_digest("SHA-256", creq);
  std::string raw = hmac_raw("SHA-256", signing_key(s3, date.substr(0, 8)), to_sign);
  return t.base + t.path + "?" + cq + "&X-Amz-Signature=" + to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

}  // namespace pb::runners
