// ada's IDNA step (UTS #46 domain-to-ASCII), reduced to ASCII hosts. The full version carries ~100 KB
// of Unicode tables (gzip'd) that would put the Worker over its size budget; upstream hosts are ASCII
// in practice. Non-ASCII hosts (after percent-decoding) are refused, so such URLs do not parse and
// nothing is fetched from them; ASCII hosts are mapped as the standard maps them (lower case).
// "xn--" labels are kept as given: fetch() validates them itself, and the string it would connect to
// is the same one compared here. Declared in third_party/ada/ada.h; see third_party/ada/README.md.
#include "ada.h"

namespace ada::idna {

std::string to_ascii(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (char c : utf8) {
    if (static_cast<unsigned char>(c) >= 0x80) return {};  // ada's "" = failure
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string to_unicode(std::string_view input) { return std::string(input); }

}  // namespace ada::idna
