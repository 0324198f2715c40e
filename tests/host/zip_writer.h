// A minimal zip writer for test fixtures: stored (method 0) or deflated (method 8, zlib) entries,
// central directory and end record, optional archive comment. Enough to exercise the upload path.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pb::testing {

struct zip_file {
  std::string name;  // a trailing '/' makes a directory entry
  std::string content;
  bool deflate = true;
};

std::string make_zip(const std::vector<zip_file>& files, std::string comment = {});

}  // namespace pb::testing
