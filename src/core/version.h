// The product version, baked in at build time from CMakeLists.txt's project(VERSION).
#pragma once

#ifndef PB_VERSION
#define PB_VERSION "0.0.0-dev"
#endif

namespace pb {
inline constexpr const char* product_version = PB_VERSION;
}
