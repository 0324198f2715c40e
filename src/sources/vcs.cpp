#include "sources/vcs.h"

#include <algorithm>

#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/http_date.h"
#include "http/headers.h"
#include "http/web_url.h"
#include "sources/upstream.h"
#include "sources/vcs_refs.h"
#include "sources/vcs_versions.h"
#include "storage/packages.h"

namespace pb::sources {

namespace {

using namespace vcs;  // the repository's model and Composer's version rules, split out of this file

constexpr std::int64_t requests_per_slice = 40;  // upstream requests (listing pages + composer.json reads)
constexpr std::size_t in_flight = 6;            // a Worker's connection limit
constexpr std::int64_t default_wait_ms = 60000;  // rate limited without a reset time
// Transient upstream failures (network, 5xx) in a row before a sync gives up, and the pause before
// the next try: 10 s, 40 s, 160 s, 640 s.
constexpr std::int64_t max_transient_failures = 5;
constexpr std::int64_t retry_delay_ms(std::int64_t fails) { return 10'000 << (2 * (fails - 1)); }

// Rate limits as GitHub (X-RateLimit-*), GitLab (RateLimit-*) and any 429/Retry-After report them.
struct rate_state {
  bool stop = false;
  std::int64_t until_ms = 0;
};

std::int64_t header_int(const http::headers& h, std::string_view a, std::string_view b) {
  auto v = h.get(a);
  if (!v) v = h.get(b);
  if (!v || v->empty()) return -1;
  std::int64_t n = 0;
  for (char ch : *v) {
    if (ch < '0' || ch > '9') return -1;
    n = n * 10 + (ch - '0');
  }
  return n;
}

// True when the response itself was refused for the rate limit (it must be asked again later).
bool observe(rate_state& rs, const fx::fetch_response& r, std::int64_t now_ms) {
  const auto& h = r.header_list;
  std::int64_t remaining = header_int(h, "x-ratelimit-remaining", "ratelimit-remaining");
  std::int64_t limit = header_int(h, "x-ratelimit-limit", "ratelimit-limit");
  std::int64_t reset = header_int(h, "x-ratelimit-reset", "ratelimit-reset");
  std::int64_t retry_after = header_int(h, "retry-after", "x-retry-after");
  bool refused = r.status == 429 || (r.status == 403 && (remaining == 0 || retry_after >= 0));
  bool low = remaining >= 0 && (remaining < 5 || (limit > 0 && remaining * 10 < limit));
  if (!refused && !low) return false;
  std::int64_t until = retry_after >= 0 ? now_ms + retry_after * 1000 : reset > 0 ? reset * 1000 : 0;
  if (until <= now_ms) until = now_ms + default_wait_ms;
  rs.stop = true;
  rs.until_ms = std::max(rs.until_ms, until);
  return refused;
}

task<result<std::monostate>> record_skipped(std::int64_t source_id, std::vector<std::pair<std::string, std::string>> skipped,
                                            std::int64_t now_ms) {
  std::vector<fx::d1_statement> batch;
  batch.push_back({"DELETE FROM skipped_refs WHERE source_id = ?", {json(source_id)}});
  for (std::size_t i = 0; i < skipped.size() && i < 500; ++i)
    batch.push_back({"INSERT OR REPLACE INTO skipped_refs (source_id, ref, reason, seen_at) VALUES (?, ?, ?, ?)",
                     {json(source_id), json(skipped[i].first), json(skipped[i].second), json(now_ms)}});
  auto r = co_await fx::d1_batch(std::move(batch));
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

task<result<std::monostate>> set_next_sync(std::int64_t source_id, std::int64_t at_ms) {
  auto r = co_await fx::d1_run("UPDATE sources SET next_sync_at = ? WHERE id = ?", {json(at_ms), json(source_id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

slice_report error_report(std::string message) {
  slice_report r;
  r.status = "error";
  r.errors.push_back(std::move(message));
  return r;
}

std::int64_t pending(const vcs_cursor& c) {
  std::int64_t n = listed(c) ? 0 : 1;
  for (const auto& r : c.refs) n += r.fetched ? 0 : 1;
  return n;
}

// One round of requests: the repository, one listing page, or a batch of composer.json reads.
struct round {
  char what = 0;  // r: repository, l: listing page, f: composer.json files
  std::vector<std::string> urls;
  std::vector<std::size_t> refs;  // for f: the ref each URL reads
};

round plan(vcs_cursor& c, const provider& p, std::int64_t budget) {
  round r;
  if (!c.have_repo || !listed(c)) {
    r.what = c.have_repo ? 'l' : 'r';
    r.urls.push_back(c.have_repo ? c.next_list : p.repo_api);
    return r;
  }
  r.what = 'f';
  // Refs at an already-read commit share its composer.json; the rest are read up to 6 at a time.
  for (std::size_t i = 0; i < c.refs.size() && r.urls.size() < in_flight && static_cast<std::int64_t>(r.urls.size()) < budget; ++i) {
    ref_entry& e = c.refs[i];
    if (e.fetched) continue;
    auto same = std::find_if(c.refs.begin(), c.refs.end(), [&](const ref_entry& o) {
      return o.fetched && o.sha == e.sha && (o.reason.empty() || o.reason == "no composer.json");
    });
    if (same != c.refs.end()) {
      e.fetched = true;
      e.body = same->body;
      e.reason = same->reason;
      continue;
    }
    bool queued = false;
    for (std::size_t j : r.refs) queued = queued || c.refs[j].sha == e.sha;
    if (queued) continue;
    r.refs.push_back(i);
    r.urls.push_back(composer_json_url(p, e.sha));
  }
  return r;
}

// Why a round failed. Transient: the request did not complete (network, timeout) or the upstream
// answered 5xx: worth trying again later from the same cursor. Anything else ends the sync.
struct failure {
  std::string message;
  bool transient = false;
  bool empty() const { return message.empty(); }
};

failure failed(const result<fx::fetch_response>& r, std::string message) {
  return {std::move(message), !r || r->status >= 500};
}

// Takes a round's responses into the cursor; returns the first failure, if any. Every successful
// response of the round is kept even when another one failed, so a retry asks only for what is
// missing. Responses refused for the rate limit are left to be asked again after the reset.
failure apply(vcs_cursor& c, const provider& p, const round& rd, std::vector<result<fx::fetch_response>>& results,
              rate_state& rs, std::int64_t now_ms) {
  failure first;
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (!results[k]) {
      if (first.empty()) first = failed(results[k], results[k].err().message);
      continue;
    }
    const fx::fetch_response& r = *results[k];
    const std::string& url = rd.urls[k];
    if (observe(rs, r, now_ms)) continue;
    if (rd.what == 'f') {
      auto file = composer_file(p.kind, r, url);
      if (!file) {
        if (first.empty()) first = failed(results[k], file.err().message);
        continue;
      }
      ref_entry& e = c.refs[rd.refs[k]];
      e.fetched = true;
      e.body = std::move(file->first);
      e.reason = std::move(file->second);
      continue;
    }
    if (r.status != 200) return failed(results[k], http_failure(r, url));
    if (rd.what == 'r') {
      auto doc = parse_json(r.text);
      if (!doc) return {url + ": " + doc.err().message};
      c.have_repo = true;
      c.default_branch = std::string(p.kind == 'b' ? (*doc)["mainbranch"]["name"].as_string() : (*doc)["default_branch"].as_string());
      c.next_list = list_url(p, false);
      c.listing_branches = false;
      continue;
    }
    auto next = add_refs(c, p.kind, r, url);
    if (!next) return {next.err().message};
    c.next_list = *next;
    if (c.next_list.empty() && !c.listing_branches) {
      c.listing_branches = true;
      c.next_list = list_url(p, true);
    }
  }
  return first;
}

}  // namespace

task<result<slice_report>> vcs_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms) {
  vcs_cursor c = read_cursor(s.sync_cursor);
  slice_report report;
  report.status = "running";
  if (c.wait_until > now_ms) {  // still rate limited, or waiting to retry: no request at all
    report.remaining = pending(c);
    report.retry_at_ms = c.wait_until;
    report.errors.push_back((c.fails > 0 ? "retrying after an upstream failure at " : "rate limited until ") +
                            format_iso8601_utc(c.wait_until));
    // The claim is given back untouched: the cursor stays as it is.
    auto released = co_await storage::release_sync(s);
    if (!released) co_return std::move(released).err();
    co_return report;
  }
  auto p = provider_of(s);
  if (!p) {
    (void)co_await finish_sync(s, {"error", 0, 0, p.err().message}, now_ms);
    co_return error_report(p.err().message);
  }
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  // The API may live on the web host's origin (GHE's /api/v3, GitLab's /api/v4) or on its own.
  if (auto api = http::parse_web_url(p->api); api && !credentials_allowed(*u, *api)) u->origins.push_back(api->origin());

  rate_state rs;
  // Upstream reads are subrequests too: the invocation's budget, less the slice's closing writes.
  std::int64_t budget = std::min(requests_per_slice, fx::subrequests_left() - package_subrequests - slice_closing_subrequests);
  failure failure;
  // Rounds of requests (the repository, a listing page, or up to 6 composer.json reads), one batch each.
  while (failure.empty() && !rs.stop && budget > 0) {
    round next = plan(c, *p, budget);
    if (next.urls.empty()) break;
    budget -= static_cast<std::int64_t>(next.urls.size());
    std::vector<task<result<fx::fetch_response>>> reads;
    for (const auto& url : next.urls) reads.push_back(upstream_get(*u, url));
    auto results = co_await when_all(std::move(reads));
    failure = apply(c, *p, next, results, rs, now_ms);
  }

  if (!failure.empty() && failure.transient && c.fails + 1 < max_transient_failures) {
    // A network error or a 5xx: what this sync has read so far is kept and the same cursor is tried
    // again after a pause (10 s, 40 s, 160 s, ...). Nothing served changes; the error is on the source.
    ++c.fails;
    c.wait_until = now_ms + retry_delay_ms(c.fails);
    auto saved = co_await save_sync_cursor(s, write_cursor(c), now_ms);
    if (!saved) co_return std::move(saved).err();
    std::string message = failure.message + " (attempt " + std::to_string(c.fails) + " of " +
                          std::to_string(max_transient_failures) + "; the sync resumes at " + format_iso8601_utc(c.wait_until) + ")";
    auto noted = co_await storage::record_sync(s.id, {"error", 0, 0, message}, now_ms);
    if (!noted) co_return std::move(noted).err();
    slice_report r = error_report(std::move(message));
    r.remaining = pending(c);
    r.retry_at_ms = c.wait_until;
    co_return r;
  }
  if (!failure.empty()) {  // the upstream refuses or is broken for good: everything served so far stays as it was
    (void)co_await finish_sync(s, {"error", 0, 0, failure.message}, now_ms);
    co_return error_report(failure.message);
  }
  c.fails = 0;
  report.remaining = pending(c);
  if (report.remaining > 0) {
    if (rs.stop) c.wait_until = rs.until_ms;
    auto saved = co_await save_sync_cursor(s, write_cursor(c), now_ms);
    if (!saved) co_return std::move(saved).err();
    if (rs.stop) {
      auto delayed = co_await set_next_sync(s.id, rs.until_ms);
      if (!delayed) co_return std::move(delayed).err();
      report.errors.push_back("rate limited until " + format_iso8601_utc(rs.until_ms));
      report.retry_at_ms = rs.until_ms;
    }
    co_return report;
  }

  auto b = build_versions(c, *p, s);
  if (!b) {
    (void)co_await finish_sync(s, {"error", 0, 0, b.err().message}, now_ms);
    co_return error_report(b.err().message);
  }
  std::string notes;
  for (std::size_t i = 0; i < b->skipped.size() && i < 10; ++i)
    notes += (notes.empty() ? "skipped " : "; ") + b->skipped[i].first + " (" + b->skipped[i].second + ")";
  if (b->skipped.size() > 10) notes += "; and " + std::to_string(b->skipped.size() - 10) + " more";
  auto recorded = co_await record_skipped(s.id, b->skipped, now_ms);
  if (!recorded) co_return std::move(recorded).err();
  std::int64_t count = static_cast<std::int64_t>(b->rows.size());
  auto replaced = co_await storage::replace_source_versions(b->package, s.id, s.type, std::move(b->rows), now_ms);
  if (!replaced) {
    (void)co_await finish_sync(s, {"error", 0, 0, replaced.err().message}, now_ms);
    co_return error_report(replaced.err().message);
  }
  auto rebuilt = co_await storage::rebuild_documents(b->package, now_ms);
  if (!rebuilt) co_return std::move(rebuilt).err();
  auto done = co_await finish_sync(s, {"ok", 1, count, notes}, now_ms);
  if (!done) co_return std::move(done).err();
  report.status = "ok";
  report.packages = 1;
  report.versions = count;
  for (std::size_t i = 0; i < b->skipped.size() && i < 20; ++i)
    report.errors.push_back(b->skipped[i].first + ": " + b->skipped[i].second);
  co_return report;
}

}  // namespace pb::sources
