// pb_composer_cli: runs src/composer/ functions over stdin for tests/composer/differential.php, which
// runs the same operations with Composer's PHP code (MetadataMinifier, json_encode, ===) and compares.
//
// Input: one request per line, `op<TAB>json[<TAB>json]` (JSON as json_encode writes it: no raw tabs or
// newlines). Output: one line per request; "ERR <message>" when the input does not parse.
//   minify <list>        composer::minify: the result as compact JSON
//   expand <list>        composer::expand: the result as compact JSON
//   encode <value>       composer::packagist_json_encode(value)
//   identical <a> <b>    composer::php_identical(a, b): "true" or "false"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "composer/minifier.h"
#include "composer/p2_builder.h"
#include "core/json.h"

namespace {

std::string run(std::string_view line) {
  const std::size_t tab = line.find('\t');
  if (tab == std::string_view::npos) return "ERR no tab in request";
  const std::string_view op = line.substr(0, tab);
  std::string_view rest = line.substr(tab + 1);
  std::string_view second;
  if (op == "identical") {
    const std::size_t tab2 = rest.find('\t');
    if (tab2 == std::string_view::npos) return "ERR identical needs two values";
    second = rest.substr(tab2 + 1);
    rest = rest.substr(0, tab2);
  }
  auto value = pb::parse_json(rest);
  if (!value) return "ERR " + value.err().message;
  if (op == "minify") return pb::composer::minify(value->as_array()).dump();
  if (op == "expand") return pb::composer::expand(value->as_array()).dump();
  if (op == "encode") return pb::composer::packagist_json_encode(*value);
  if (op == "identical") {
    auto other = pb::parse_json(second);
    if (!other) return "ERR " + other.err().message;
    return pb::composer::php_identical(*value, *other) ? "true" : "false";
  }
  return "ERR unknown op " + std::string(op);
}

}  // namespace

int main() {
  char* buf = nullptr;
  std::size_t cap = 0;
  ssize_t len;
  while ((len = getline(&buf, &cap, stdin)) >= 0) {
    std::string_view line(buf, static_cast<std::size_t>(len));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    const std::string out = run(line);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::free(buf);
  return 0;
}
