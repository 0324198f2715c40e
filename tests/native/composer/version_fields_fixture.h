// Test helper: the version_fields of one version of acme/widget (the p2 builder's and field rules'
// tests), its dist URL following the normalized version as the product writes it.
#pragma once

#include <string>
#include <utility>

#include "composer/p2_builder.h"

namespace pb::testing {

inline composer::version_fields widget_fields(std::string version, std::string normalized, std::string time = "") {
  composer::version_fields f;
  f.name = "Acme/Widget";
  f.version = std::move(version);
  f.version_normalized = std::move(normalized);
  f.reference = "abc123";
  f.dist_type = "zip";
  f.dist_url = "https://repo.example/dist/acme/widget/" + f.version_normalized + "/abc123.zip";
  f.dist_shasum = "";
  f.time = std::move(time);
  return f;
}

}  // namespace pb::testing
