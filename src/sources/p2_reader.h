// Reading one package's versions out of an upstream p2 document without holding the document's tree:
// the document is split into its version entries by a small structural scanner, each entry is parsed
// (simdjson, core/json.h) into a small tree, expanded (composer::expander) and handed to the caller
// before the next one is read. Memory: the document's text plus one version. What a packagist mirror
// reads (sources/packagist.cpp); the benchmark's mirror rewrite measures it (tests/bench).
#pragma once

#include <functional>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace pb::sources {

// Which lists of a package a reader takes when "packages" has several keys for it (case variants):
// every one that is a list, in order (sources::mirror_package), or only the last key, ignored when it
// is not a list (Composer's repository reader, sources/composer_repo).
enum class p2_lists { every, last };

// Calls `each` with every version of `name` (lower-case) in `doc`, in the document's order: the
// entries of the keys of "packages" whose lower-cased form is `name` (see p2_lists), expanded when
// "minified" is "composer/2.0". Each version is valid during its call only; `each`
// returns false to stop. An error (bad_request) when the document is not a JSON object, is not valid
// UTF-8, is structurally broken (unbalanced, a missing separator), or when a part that is read (a key,
// "minified", a version entry) is not valid JSON. Values that are not read (other keys, other packages)
// are only scanned for their extent, not validated: see docs/PERFORMANCE.md.
result<std::monostate> read_p2_versions(std::string_view doc, std::string_view name,
                                        const std::function<bool(const json&)>& each, p2_lists which = p2_lists::every);

}  // namespace pb::sources
