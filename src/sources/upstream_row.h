// An upstream version (Composer's package format, as a tree or as read from a p2 document's text) turned
// into the row this repository keeps for it: the columns (version, normalized version, reference, dist,
// time, stability) and the composer.json without them. What every mirroring source runs per version
// (packagist, composer repositories, VCS tags); in its own file so the wasm build compiles it at -O2
// with the other per-version work (CMakeLists.txt), apart from sync.cpp's coroutines.
#pragma once

#include "core/json.h"
#include "core/result.h"
#include "sources/p2_reader.h"
#include "storage/packages.h"

namespace pb::sources {

// One upstream version object (Composer's package format) → the row we keep; the error says why a
// version is skipped. References are made hex (Composer's mirror URLs need hex %reference%).
result<storage::upstream_version> upstream_version_row(const json& version);
// The same row for a version read from a p2 document (sources/p2_reader.h): from its members' text when
// it has them, byte for byte what the tree gives.
result<storage::upstream_version> upstream_version_row(const p2_version& version);

}  // namespace pb::sources
