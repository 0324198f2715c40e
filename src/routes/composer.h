// The Composer repository routes (token auth): /packages.json, /p2/{vendor}/{name}.json and ~dev.json,
// /dist/... archives, and composer's notify-batch POST /downloads. A package outside the token's scope
// answers exactly like an unknown one (404): a 403 would abort composer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

// /packages.json's Last-Modified: the later of its change marker's second (storage::listing_inputs) and
// listing_shape_s, the date of the last change to the listing's fields in this code, so a copy made by
// an older version is always sent again. tests/native/routes/test_composer.cpp pins the fields by the
// digest of a fixed listing: a change to them fails there until both constants move.
inline constexpr std::int64_t listing_shape_s = 1796216400;  // 2026-12-02T13:00:00Z
inline constexpr std::string_view listing_shape_sha256 = "ef549ae9211b2e514f8cae71f917e8249075011f8258657c575e80764906e7bf";
// How far the database's clock may lag this instance's (the marker is the database's time).
inline constexpr std::int64_t listing_clock_skew_ms = 5000;
// The listing's Last-Modified second for a marker read at read_at_ms (this instance's clock, taken
// before the read), or 0 (undated) when another listing could still get the same second: a write in
// the marker's second after this read would move the marker within that second, so a listing is only
// dated once its read started a full second (plus the clock skew) after it.
std::int64_t listing_modified_s(std::optional<std::int64_t> changed_ms, std::int64_t read_at_ms);

task<http::response> packages_json(request_context& ctx);
// packages_json's warm answer: the token and the catalog in the hot cache with a body already rendered
// for this origin, scope and licence set (and the p2 warm path's other conditions); nullopt otherwise.
std::optional<http::response> packages_json_warm(request_context& ctx);
task<http::response> p2_document(request_context& ctx);
// p2_document's warm hit as a plain function (no coroutine, no effect): the token and the document both
// in the isolate's hot cache, no hourly last-use write due, under the rate limit. nullopt for anything
// else (a denial of the rate limit is not counted): p2_document then answers it.
std::optional<http::response> p2_document_warm(request_context& ctx);
task<http::response> dist_archive(request_context& ctx);
task<http::response> notify_downloads(request_context& ctx);

}  // namespace pb::routes
