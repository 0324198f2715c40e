// S3 locations and AWS Signature Version 4 (with OpenSSL): the Authorization header for requests the
// server sends, and pre-signed GET URLs that clients follow (PB_DIST_REDIRECT=presigned). Pure: the
// time comes in as an argument; the requests are sent by the server (host/s3_store.h).
//   PB_STORAGE_URL=s3://bucket[/prefix]?endpoint=http://127.0.0.1:9000&region=us-east-1[&path_style=1]
//                  [&public_endpoint=https://s3.example.com]  (what clients use, when it differs)
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or user:password in the URL).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::runners {

struct s3_location {
  std::string bucket;
  std::string prefix;         // "" or "some/prefix/" (keys are stored under it)
  std::string endpoint;       // scheme://host[:port], no trailing slash
  std::string public_endpoint;  // where clients reach the store (pre-signed URLs), when not `endpoint`
  std::string region = "us-east-1";
  std::string access_key, secret_key;
  bool path_style = true;     // endpoint/bucket/key (S3-compatible stores) or bucket.endpoint/key (AWS)
  std::string redacted;       // for logs
};
// Throws failure(TypeError) for a malformed URL or missing credentials.
s3_location parse_s3_url(const std::string& url, const std::string& env_access_key, const std::string& env_secret_key);

using query_list = std::vector<std::pair<std::string, std::string>>;
using header_pairs = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 encoding as SigV4 wants it (unreserved kept; '/' kept when encode_slash is false).
std::string uri_encode(std::string_view s, bool encode_slash);

struct s3_request {
  std::string method;
  std::string url;        // full URL with the canonical query string
  header_pairs headers;   // what to send (host is implied by the URL; x-amz-* and authorization added)
};

// A request for `key` ("" for the bucket itself) signed in the Authorization header. payload_sha256:
// hex of the body's SHA-256, or "UNSIGNED-PAYLOAD".
s3_request sign_request(const s3_location& s3, std::string method, const std::string& key, query_list query,
                        header_pairs headers, const std::string& payload_sha256, std::time_t now);

// A pre-signed GET URL valid for expires_s seconds from now (1 .. 604800).
std::string presign_get(const s3_location& s3, const std::string& key, std::int64_t expires_s, query_list extra, std::time_t now);

}  // namespace pb::runners
