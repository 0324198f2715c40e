// The isolate's hot cache: token records, p2 documents (and their bodies as served) and the catalog
// behind /packages.json, kept in wasm memory for a few seconds, so a p2 hit or a packages.json on a warm
// isolate needs no D1 read at all. Writes in this isolate (uploads, syncs, source changes, revocations)
// invalidate it at once; other isolates see a change within `ttl_ms` (documented in docs/API.md). A p2
// document, and the catalog, outlive ttl_ms while their change marker (migration 0008) says nothing has
// changed since they were read.
// Bounded in entries and bytes; the oldest entries go first. Documents are shared, never copied out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "storage/packages.h"
#include "storage/sources.h"
#include "storage/tokens.h"

namespace pb::storage::hot_cache {

inline constexpr std::int64_t ttl_ms = 10'000;

// Shared with the cache, never copied per request (null: not cached or expired).
std::shared_ptr<const token_record> token(std::string_view hash, std::int64_t now_ms);
// Token records carry the generation that was current when their lookup started: a lookup that was in
// flight across a revocation (forget_tokens) must not put the record it read back into the cache.
std::uint64_t token_generation();
void put_token(const std::string& hash, std::shared_ptr<const token_record> t, std::int64_t now_ms, std::uint64_t generation);
// Empties the token cache and starts a new generation.
void forget_tokens();
// Records a token's last use in cached copies, so the hourly last_used_at write is not repeated.
void touched(std::int64_t token_id, std::int64_t now_ms);

// A stored document by key ("p2/acme/widget.json") and the bodies served from it (origin substituted,
// licences applied), kept in the same entry: a warm p2 hit is one lookup, and a changed document takes its
// bodies with it (no check of derived entries against their basis).
struct served_body {
  std::string licences;  // auth::licence_key of a restricted token; "" for the document as stored
  std::string origin;    // scheme://host[:port]
  std::shared_ptr<const std::string> bytes;
  std::uint64_t id = 0;        // new_body_id(), the response's shared_body_id
  std::string last_modified;   // the header as sent (a filtered copy's is a second earlier)
  std::int64_t modified_s = 0; // for If-Modified-Since; 0: never answered 304 (filtered, or unparseable)
};
struct document_entry {
  std::shared_ptr<const stored_document> doc;
  std::vector<served_body> served;
  std::int64_t marker = 0;  // documents_changed_ms read with doc (before it); 0: unknown
};
// The entry while it is current: read under ttl_ms ago, or read under the documents' marker that the
// latest confirm_documents() saw under ttl_ms ago (no document has changed since it was read).
// Counted in stats() as a hit or a miss; with `count_miss` false a miss is not counted, for a caller that
// looks again after revalidating (that second lookup counts the request once, as a hit or a miss).
std::shared_ptr<document_entry> document(std::string_view key, std::int64_t now_ms, bool count_miss = true);
// Caches d, read under marker (0: unknown), under key; returns its entry (not kept when the document
// alone is over the byte budget).
std::shared_ptr<document_entry> put_document(const std::string& key, std::shared_ptr<const stored_document> d,
                                             std::int64_t now_ms, std::int64_t marker);
// The documents' change marker (pb_meta documents_changed_ms, moved by triggers on every write to
// metadata_documents, migration 0008) as read by a request that started at read_at_ms. Cached documents
// read under the same marker are current again until read_at_ms + ttl_ms, however long ago they were
// read: one small read revalidates them all. Only the latest read counts (an older read that completes
// later does not move it back); 0 (a database before migration 0008) confirms nothing.
void confirm_documents(std::int64_t marker, std::int64_t read_at_ms);
// Adds a served body to e (the entry of key) and counts its bytes against the budget while e is cached.
const served_body& add_served(std::string_view key, document_entry& e, served_body b);
// Forgets the document, the package catalog and the archive rows (every document change may change
// the package list or remove versions).
void forget_document(const std::string& key);

// Archive rows for /dist by "package\nreference\nversion": only rows whose archive is stored (they do not
// change until the version goes away), without their composer.json; dropped with every document change
// in this isolate and after ttl_ms.
std::optional<dist_row> dist(const std::string& key, std::int64_t now_ms);
void put_dist(const std::string& key, dist_row row, std::int64_t now_ms);

// A fresh id for a body shared by many responses (http::response::shared_body_id); never reused while
// the instance lives.
std::uint64_t new_body_id();

// What /packages.json is made of: the package names and the enabled packagist sources, plus the bodies
// already rendered from them, each with what it depends on besides them (the origin, the token's scope
// patterns and licences), compared field by field on a warm request: no key is built per request. One
// entry, dropped with every document or source change in this isolate and after ttl_ms.
struct catalog {
  std::vector<std::string> names;
  std::vector<source_record> mirrors;
  // The Last-Modified second of the listing as a token of unrestricted scope sees it (routes/composer.cpp,
  // listing_modified_s); 0: undated, so never answered with 304.
  std::int64_t modified_s = 0;
  std::string last_modified;  // modified_s as an HTTP date, made once
  std::optional<std::int64_t> changed_ms;  // the listing's marker read with it (storage::listing_inputs)
  struct body {
    std::string origin;                   // scheme://host[:port]
    std::vector<std::string> scopes;      // the token's package patterns
    std::vector<auth::licence> licences;  // the token's licences (compared by auth::same_licences)
    std::shared_ptr<const std::string> bytes;
    std::uint64_t id = 0;  // new_body_id()
  };
  std::vector<body> rendered;
};
std::shared_ptr<catalog> current_catalog(std::int64_t now_ms);  // null when absent or expired
// The catalog even past ttl_ms (null when absent or forgotten): still the listing while the listing's
// marker has not moved since it was read (routes/composer.cpp, load_catalog).
std::shared_ptr<catalog> expired_catalog();
// Stores a catalog unless a forget_catalog() happened since `generation` (taken before the D1 reads):
// what was read may predate that change, so it serves the request that read it and nothing else.
void put_catalog(std::shared_ptr<catalog> c, std::int64_t now_ms, std::uint64_t generation);
std::uint64_t catalog_generation();
void forget_catalog();

// /health's storage probe (its D1 meta rows and KV/R2 reachability, as JSON): a load balancer calling
// every few seconds costs each isolate at most one probe per ttl_ms.
std::optional<json> health_probe(std::int64_t now_ms);
void put_health_probe(json probe, std::int64_t now_ms);

// Empties everything (tests start each case from a clean cache).
void clear();

// Drops the entries (and always the catalog) here and, when the instance broadcasts invalidations
// (settings::broadcast_invalidations, set once per instance by pb_configure), in the host's other
// instances too (isolates.invalidate). The Worker does not broadcast: other isolates see changes
// within ttl_ms.
void set_broadcast(bool on);
task<std::monostate> forget_everywhere(bool tokens, std::vector<std::string> documents);
// Applies an invalidation another instance broadcast ({"tokens":bool,"documents":[...]}): the named
// documents, the catalog and the archive rows, and with "tokens" every token record.
void apply_invalidation(const json& message);

// Counters since the instance started (the server's /metrics).
struct counters {
  std::uint64_t token_hits = 0, token_misses = 0, document_hits = 0, document_misses = 0;
};
counters stats();

}  // namespace pb::storage::hot_cache
