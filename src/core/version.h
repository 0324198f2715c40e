// The product version, baked in at build time from CMakeLists.txt's project(VERSION), and the database
// schema this code needs.
#pragma once

#ifndef PB_VERSION
#define PB_VERSION "0.0.0-dev"
#endif

namespace pb {
inline constexpr const char* product_version = PB_VERSION;
// The pb_meta schema_version the newest migration in d1/migrations sets (a native test checks that they
// agree): /health is degraded while the database is older than this.
inline constexpr int schema_version = 8;
}
