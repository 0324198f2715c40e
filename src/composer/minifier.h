// Composer's "composer/2.0" minified version lists: port of Composer\MetadataMinifier\MetadataMinifier
// (composer/metadata-minifier src/MetadataMinifier.php, as Packagist's V2Dumper and Composer's
// ComposerRepository call it). Also `php_identical`, PHP's === on json_decode($x, true) values, which
// the port needs. Pure; no Packagist-specific field handling (that is p2_builder.h).
#pragma once

#include "core/json.h"

namespace pb::composer {

// PHP's $a === $b after both sides went through json_decode(..., true): objects and arrays are PHP
// arrays, equal when they have the same keys in the same order with identical values (so [] equals {}
// and ["a"] equals {"0":"a"}); 1 and 1.0 differ; strings compare bytewise.
[[nodiscard]] bool php_identical(const json& a, const json& b);
// PHP truthiness of a decoded JSON value (`!$x` is false).
[[nodiscard]] bool php_truthy(const json& v);

// MetadataMinifier::minify($versions): the first version complete, each later one only with the
// top-level keys whose value changed (compared with !==, nested values wholesale) and "__unset" for keys
// that disappeared. PHP quirks kept on purpose: a key whose value is null is never "set" (isset), so in
// a later version it comes out as "__unset"; an empty version makes the next one complete again; new
// keys are appended to the running state while changed keys keep their place. JSON arrays used as
// versions are treated as PHP lists (keys "0", "1", ...); scalars as versions iterate as empty.
[[nodiscard]] json minify(const json_array& versions);

// MetadataMinifier::expand($versions): replays the diffs. The first non-empty entry is taken as is;
// each later one sets its keys (in place when present, else appended) and removes keys whose value is
// the string "__unset".
[[nodiscard]] json expand(const json_array& minified);

}  // namespace pb::composer
