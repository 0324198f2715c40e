// GET /dist/{vendor}/{name}/{version}/{reference}.{type}: the archive download. A warm download reads its
// version row from the isolate, streams from the edge cache or R2 (or redirects to a pre-signed URL), and
// counts the fetch after the client has its bytes; a source's first download fetches the archive from
// upstream through a single flight and stores it whole before serving it.
#include "routes/composer.h"
#include "routes/composer_answers.h"

#include "auth/credentials.h"
#include "auth/licences.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/http_date.h"
#include "core/text.h"
#include "http/range.h"
#include "routes/gate.h"
#include "sources/upstream.h"
#include "storage/hot_cache.h"
#include "storage/packages.h"
#include "storage/sources.h"

namespace pb::routes {

namespace {

constexpr const char* archive_cache_control = "private, max-age=31536000, immutable";

http::response missing_archive(const std::string& key) {
  return http::private_error_response(error_code::internal, "the archive is missing from storage",
                                      "archive missing from R2: " + key);
}

http::response upstream_error(std::string_view name, std::string internal) {
  return http::private_error_response(error_code::upstream,
                                      "the archive of " + std::string(name) + " could not be fetched from its upstream",
                                      std::move(internal));
}

// One more fetch in the stats (downloads.fetches). Grouped: under load the Worker commits concurrent
// downloads' counts in one D1 batch (PROTOCOL.md d1.run).
fx::typed_effect<fx::d1_result> count_fetch(const request_context& ctx, std::int64_t version_id, const storage::token_record& t) {
  return fx::d1_run_grouped(
      "downloads",
      "INSERT INTO downloads (package_id, version_normalized, token_id, day, count, fetches) "
      "SELECT package_id, version_normalized, ?, ?, 0, 1 FROM versions WHERE id = ? "
      "ON CONFLICT (package_id, version_normalized, token_id, day) DO UPDATE SET fetches = fetches + 1",
      {json(t.id), json(format_day(ctx.now_ms)), json(version_id)});
}

// Sends a whole archive's response and, only once it went out, counts the fetch: the count rides on the
// response's effect (http.respond "after": one effect batch less per download) or, from a host that
// leaves it to the core, follows it. Then, hourly, the token's last use. With `from_r2` the host reads
// that R2 object into the response itself (settings::host_serves_r2): a warm download is one batch.
// Whether the response went out: false when the R2 object is gone (nothing was sent); an error when it
// did not go out for another reason (the read or the sending failed).
task<result<bool>> respond_counted(request_context& ctx, http::response r, std::int64_t version_id,
                                   const storage::token_record& t, std::string_view from_r2 = {}) {
  auto count = count_fetch(ctx, version_id, t);
  auto sent = co_await respond_early(ctx, std::move(r), &count.raw, from_r2);
  if (!sent) co_return std::move(sent).err();
  if (!sent->found) co_return false;
  if (!sent->after_ran) (void)co_await count;
  if (storage::needs_touch(t, ctx.now_ms)) (void)co_await storage::touch_token(t.id, ctx.now_ms);
  co_return true;
}

std::string content_type_for(std::string_view type) {
  if (type == "zip") return "application/zip";
  if (type == "tar") return "application/x-tar";
  return "application/octet-stream";
}

// First download of a source's archive: fetched from upstream with the source's credentials (only to
// the source's own hosts), stored into R2 whole (with its length when the upstream gives one, else as a
// multipart upload a part at a time) with SHA-1/SHA-256 computed on the way, checked against the
// promised shasum, recorded, and only then served from R2 with its length. The client gets a whole
// archive or, when the transfer breaks, a 502 before any byte: a stream that fails after its 200 is not
// reliably a failure for the client (workerd ends a chunked response cleanly when its body fails,
// cloudflare/workerd#6818, and wrangler dev's proxy re-chunks even a response with a Content-Length),
// so composer could otherwise take a short body for a complete, corrupt zip.
// Single flight: one request per archive holds a lease in D1 and fetches; the others wait (bounded)
// for its R2 copy. A lease that runs out (its holder failed) lets the next request fetch.
struct flight {
  bool fetch = false;           // this request fetches from upstream
  std::string dist_key;         // set when another request's copy arrived meanwhile
  std::int64_t dist_size = 0;
};

constexpr std::int64_t lease_ms = 60 * 1000;
constexpr int max_waits = 40;  // x 500 ms

task<result<flight>> join_flight(std::int64_t version_id, std::int64_t now_ms) {
  for (int attempt = 0;; ++attempt) {
    auto lease = co_await fx::d1_run(
        "UPDATE versions SET fetch_lease_until = ? WHERE id = ? AND dist_key IS NULL "
        "AND (fetch_lease_until IS NULL OR fetch_lease_until < ?)",
        {json(now_ms + lease_ms), json(version_id), json(now_ms)});
    if (!lease) co_return std::move(lease).err();
    if (lease->changes == 1) co_return flight{true, {}, 0};
    auto row = co_await fx::d1_first("SELECT dist_key, dist_size FROM versions WHERE id = ?", {json(version_id)});
    if (!row) co_return std::move(row).err();
    if (row->has_value() && (**row)["dist_key"].is_string())
      co_return flight{false, std::string((**row)["dist_key"].as_string()), (**row)["dist_size"].as_int()};
    if (attempt >= max_waits) co_return flight{true, {}, 0};  // waited long enough: fetch without the lease
    auto later = co_await fx::clock_sleep(500);
    if (!later) co_return std::move(later).err();
    now_ms = *later;
  }
}

// Whoever waits on this archive fetches it themselves next.
task<std::monostate> release_lease(std::int64_t version_id) {
  (void)co_await fx::d1_run("UPDATE versions SET fetch_lease_until = NULL WHERE id = ?", {json(version_id)});
  co_return std::monostate{};
}

// The upstream's Content-Length when it is the archive's own length (no content coding), else -1.
std::int64_t archive_length(const http::headers& h) {
  auto cl = h.get("content-length");
  if (!cl || h.has("content-encoding") || cl->empty() || cl->size() > 15) return -1;
  std::int64_t length = 0;
  for (char c : *cl) {
    if (c < '0' || c > '9') return -1;
    length = length * 10 + (c - '0');
  }
  return length;
}

struct first_download {
  http::response answer;      // the error answer, unless the archive is now to be served from R2
  bool serve_stored = false;  // stored whole: serve dist_key like any stored archive
  std::string dist_key, sha1;
  std::int64_t dist_size = 0;
};

first_download answered(http::response r) {
  first_download f;
  f.answer = std::move(r);
  return f;
}

// Stores the upstream body `from` under key (length -1: unknown) and checks it against the promised
// shasum; records it on success. The error says what went wrong, for the log.
task<result<fx::r2_put_result>> store_archive(const settings& cfg, storage::version_row v, std::string key,
                                              http::body_handle from, std::int64_t length) {
  fx::r2_put_args put;
  put.key = key;
  put.from = from;
  put.want_sha1 = true;
  put.want_sha256 = true;
  put.expected_size = length;
  put.max_bytes = cfg.max_archive_bytes;
  put.http_metadata = json::object();
  put.http_metadata.set("contentType", json(content_type_for(v.dist_type)));
  auto stored = co_await fx::r2_put(std::move(put));
  if (!stored) co_return make_error(error_code::upstream, "storing " + v.upstream_dist_url + " failed: " + stored.err().message);
  if (!v.dist_shasum.empty() && v.dist_shasum != stored->sha1) {
    (void)co_await fx::r2_delete({key});  // not what the metadata promised: keep fetching from upstream
    co_return make_error(error_code::upstream, v.upstream_dist_url + " has sha1 " + stored->sha1 +
                                                   ", the metadata promised " + v.dist_shasum);
  }
  auto recorded = co_await storage::record_mirrored_dist(v.id, key, stored->sha1, stored->sha256, stored->size);
  if (!recorded) {
    (void)co_await fx::r2_delete({key});  // nothing unrecorded stays behind
    co_return make_error(error_code::unavailable, "recording " + key + " failed: " + recorded.err().message);
  }
  co_return std::move(*stored);
}

task<first_download> fetch_through(request_context& ctx, std::string name, storage::version_row v) {
  auto source = co_await storage::find_source(v.source_id);
  if (!source) {
    (void)co_await release_lease(v.id);
    co_return answered(store_error(source.err()));
  }
  if (!source->has_value()) co_return answered(http::error_response(error_code::not_found, "the source of " + name + " was removed"));
  // A disabled source lends no credentials: its public archives still come through, anonymously.
  result<sources::upstream> u = sources::upstream{};
  if ((*source)->enabled) u = co_await sources::open_upstream(ctx.settings(), std::move(**source));
  if (!u) {
    (void)co_await release_lease(v.id);
    co_return answered(upstream_error(name, u.err().message));
  }
  auto up = co_await sources::upstream_get(*u, v.upstream_dist_url, {}, fx::body_read::handle);
  if (!up || up->status != 200) {
    (void)co_await release_lease(v.id);
    co_return answered(upstream_error(name, up ? "upstream answered HTTP " + std::to_string(up->status) + " for " +
                                                     v.upstream_dist_url
                                               : up.err().message));
  }
  std::int64_t length = archive_length(up->header_list);
  if (length > ctx.settings().max_archive_bytes) {
    (void)co_await release_lease(v.id);
    co_return answered(http::private_error_response(
        error_code::upstream, "the archive of " + name + " is too large to mirror",
        v.upstream_dist_url + " declares " + std::to_string(length) + " bytes, over PB_MAX_ARCHIVE_BYTES (" +
            std::to_string(ctx.settings().max_archive_bytes) + ")"));
  }
  std::string key = "mirror/" + name + "/" + v.reference + "." + v.dist_type;
  auto stored = co_await store_archive(ctx.settings(), v, key, up->body, length);
  if (!stored) {
    (void)co_await release_lease(v.id);
    co_return answered(upstream_error(name, stored.err().message));
  }
  first_download f;
  f.serve_stored = true;
  f.dist_key = key;
  f.sha1 = stored->sha1;
  f.dist_size = stored->size;
  co_return f;
}

// find_dist through the isolate's hot cache: a warm download reads no D1 row.
struct found_dist {
  std::optional<storage::dist_row> row;
  bool from_hot_cache = false;
};
task<result<found_dist>> find_dist_cached(const std::string& name, const std::string& reference, const std::string& version,
                                          std::int64_t now_ms) {
  std::string key = name + "\n" + reference + "\n" + version;
  if (auto hot = storage::hot_cache::dist(key, now_ms)) co_return found_dist{std::move(hot), true};
  auto row = co_await storage::find_dist(name, reference, version);
  if (!row) co_return std::move(row).err();
  if (row->has_value()) storage::hot_cache::put_dist(key, **row, now_ms);
  co_return found_dist{std::move(*row), false};
}


}  // namespace

task<http::response> dist_archive(request_context& ctx) {
  std::string name = ctx.params[0] + "/" + ctx.params[1];
  const std::string& version = ctx.params[2];
  std::string_view file = ctx.params[3];
  std::size_t dot = file.find('.');
  if (dot == std::string_view::npos || dot == 0) co_return not_found_package(name);
  std::string reference(file.substr(0, dot));
  std::string type(file.substr(dot + 1));
  if (auto denied = auth::missing_credentials(ctx.req.header_list)) co_return *denied;

  auto [auth, found] = co_await when_all(authenticate(ctx), find_dist_cached(name, reference, version, ctx.now_ms));
  if (!auth.ok()) co_return auth.denial;
  if (!auth::may_see(*auth.token, name)) co_return not_found_package(name);
  if (!found) co_return store_error(found.err());
  const std::optional<storage::dist_row>& row = found->row;
  // A version outside the token's licences answers like one that does not exist.
  if (!row || row->v.dist_type != type || (row->v.dist_key.empty() && row->v.upstream_dist_url.empty()) ||
      !auth::version_visible(auth.token->licences, name, row->v.version_normalized, row->v.release_time))
    co_return http::error_response(error_code::not_found, "no archive " + reference + "." + type + " for " + name);
  storage::version_row v = row->v;
  // A row from this isolate's memory whose archive is gone was deleted elsewhere within the last 10 s.
  auto gone = [&, from_cache = found->from_hot_cache]() {
    if (!from_cache) return missing_archive(v.dist_key);
    storage::hot_cache::forget_document(storage::document_key(name, false));
    return http::error_response(error_code::not_found, "no archive " + reference + "." + type + " for " + name);
  };
  if (v.dist_key.empty()) {
    auto f = co_await join_flight(v.id, ctx.now_ms);
    if (!f) co_return store_error(f.err());
    if (f->fetch) {
      ctx.cache = "upstream";  // the log names where the bytes came from
      first_download first = co_await fetch_through(ctx, name, v);
      if (!first.serve_stored) co_return std::move(first.answer);
      v.dist_key = first.dist_key;  // stored whole just now: served from R2 with its length
      v.dist_size = first.dist_size;
      if (v.dist_shasum.empty()) v.dist_shasum = first.sha1;
    } else {
      v.dist_key = f->dist_key;  // another request stored it meanwhile: serve the R2 copy
      v.dist_size = f->dist_size;
    }
  }

  // PB_DIST_REDIRECT=presigned: the archive flows from the store, not through here (the token and scope
  // were checked above). A store that cannot sign URLs (R2 bindings, local files) falls back to streaming.
  if (ctx.settings().dist_redirect_presigned) {
    auto url = co_await fx::blob_presign(v.dist_key, ctx.settings().presign_ttl_s, content_type_for(v.dist_type));
    if (url) {
      http::response redirect;
      redirect.status = 302;
      redirect.header_list.set("location", *url);
      redirect.header_list.set("cache-control", "private, no-store");
      ctx.cache = "r2";  // for the log: the bytes come straight from the store (the server's R2)
      // The client takes the whole archive from the store: one fetch in the stats, as a streamed one.
      (void)co_await respond_counted(ctx, std::move(redirect), v.id, *auth.token);
      co_return already_sent();
    }
  }

  http::response r;
  r.header_list.set("content-type", content_type_for(v.dist_type));
  r.header_list.set("cache-control", archive_cache_control);
  r.header_list.set("accept-ranges", "bytes");
  if (!v.dist_shasum.empty()) r.header_list.set("etag", "\"" + v.dist_shasum + "\"");

  if (auto range_header = ctx.req.header_list.get("range"); range_header && ctx.req.method == "GET") {
    http::byte_range br;
    switch (http::parse_range(*range_header, v.dist_size, br)) {
      case http::range_kind::unsatisfiable: {
        http::response e = http::error_response(make_error(error_code::bad_request, "range not satisfiable", 416));
        e.header_list.set("content-range", "bytes */" + std::to_string(v.dist_size));
        co_return e;
      }
      case http::range_kind::ok: {
        fx::r2_range rr;
        rr.offset = br.first;
        rr.length = br.last - br.first + 1;
        auto obj = co_await fx::r2_get(v.dist_key, fx::body_read::handle, rr);
        if (!obj) co_return store_error(obj.err(), "reading " + v.dist_key);
        if (!obj->has_value()) co_return gone();
        r.status = 206;
        ctx.cache = "r2";
        r.header_list.set("content-range", "bytes " + std::to_string(br.first) + "-" + std::to_string(br.last) + "/" +
                                               std::to_string(v.dist_size));
        r.header_list.set("content-length", std::to_string(br.last - br.first + 1));
        r.body_from = (*obj)->body;
        co_return co_await finish(ctx, std::move(r), *auth.token);
      }
      case http::range_kind::none: break;
    }
  }

  // The length is known from the stored archive: HEAD answers it as GET does, and a short body is an
  // error for the client.
  r.header_list.set("content-length", std::to_string(v.dist_size));
  // Edge cache first (keyed by the immutable storage key, never by credentials), then R2. On workers.dev
  // the cache does nothing: no lookup and no fill there (two subrequests and an R2 read saved). The entry
  // lives in the Worker's own named cache (see cache.match in PROTOCOL.md), which no request from
  // outside reads or fills, whatever its URL; no route answers that URL either.
  const bool edge_cache = ctx.req.target.edge_cache_works();
  std::string cache_key = ctx.req.target.origin() + "/__pb_cache/" + v.dist_key;
  if (edge_cache) {
    auto hit = co_await fx::cache_match(cache_key);
    if (hit && hit->has_value() && (*hit)->status == 200) {
      ctx.cache = "edge";
      r.status = 200;
      r.body_from = (*hit)->body;
      (void)co_await respond_counted(ctx, std::move(r), v.id, *auth.token);
      co_return already_sent();
    }
  }
  r.status = 200;
  // A host that reads R2 into the response itself (settings::host_serves_r2) gets the key with it: one
  // effect. Others get the object's handle first.
  std::string_view from_r2;
  if (ctx.settings().host_serves_r2) {
    from_r2 = v.dist_key;
  } else {
    auto obj = co_await fx::r2_get(v.dist_key);
    if (!obj) co_return store_error(obj.err(), "reading " + v.dist_key);
    if (!obj->has_value()) co_return gone();
    r.body_from = (**obj).body;
  }
  std::string_view cache_before = ctx.cache;
  if (ctx.cache.empty()) ctx.cache = "r2";
  auto sent = co_await respond_counted(ctx, std::move(r), v.id, *auth.token, from_r2);
  if (!sent && from_r2.empty()) co_return already_sent();  // sending failed: the host answers for it
  if (!sent || !*sent) ctx.cache = cache_before;  // nothing went out: the answer below is labelled as before
  if (!sent) co_return store_error(sent.err(), "reading " + v.dist_key);
  if (!*sent) co_return gone();
  // Fill the edge cache after the client has its bytes: a second R2 read, never on the client's path.
  if (edge_cache) {
    auto again = co_await fx::r2_get(v.dist_key);
    if (again && again->has_value()) {
      http::headers h;
      h.set("content-type", content_type_for(v.dist_type));
      h.set("cache-control", "public, max-age=31536000, immutable");
      h.set("content-length", std::to_string(v.dist_size));
      (void)co_await fx::cache_put(cache_key, 200, std::move(h), {}, (*again)->body);
    }
  }
  co_return already_sent();
}

}  // namespace pb::routes
