// Version constraints (src/versions/constraint.h) on lines of text: line 1 is parsed as a constraint,
// the other lines as versions to match. Invariants: an error has a message; the allocation-free
// matches_version agrees with matches() against Constraint('==', v) (its definition); satisfies() is
// normalize + parse + matches_version; a parsed constraint keeps its input as its pretty string; "*"
// matches every version, "[]" none; a constraint's to_string() is stable across copies.
#include "fuzz.h"
#include "versions/constraint.h"
#include "versions/version_parser.h"

using namespace pb;
using namespace pb::versions;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto lines = fuzz::split(fuzz::as_text(data, size), '\n', 12);
  const std::string_view text = lines[0];
  auto parsed = parse_constraints(text);
  if (!parsed) {
    fuzz::check(!parsed.err().message.empty(), "a constraint error without a message", text);
    return 0;
  }
  const constraint& c = *parsed;
  const std::string shown = c.to_string();
  fuzz::check(!shown.empty(), "an empty constraint string", text);
  const constraint copy = c;
  fuzz::check(copy.to_string() == shown, "a copied constraint prints differently", text);
  if (!text.empty() && text != "0") fuzz::check(c.pretty_string() == text, "the pretty string is not the input", text);

  std::vector<std::string> versions;
  for (std::size_t i = 1; i < lines.size(); ++i) versions.emplace_back(lines[i]);
  versions.emplace_back(c.type() == constraint::kind::single ? c.version() : std::string("1.0.0.0"));
  for (const std::string& v : versions) {
    const std::string detail = std::string(text) + " | " + v;
    auto normalized = normalize(v);
    auto sat = satisfies(v, text);
    if (!normalized) {
      fuzz::check(!sat.ok(), "satisfies() accepted a version normalize() refuses", detail);
      continue;
    }
    const bool by_version = c.matches_version(*normalized);
    const bool by_constraint = c.matches(constraint::make_single(constraint_op::eq, *normalized));
    fuzz::check(by_version == by_constraint, "matches_version disagrees with matches(== v)", detail);
    fuzz::check(sat.ok() && *sat == by_version, "satisfies() disagrees with parse + matches_version", detail);
    fuzz::check(constraint::match_all().matches_version(*normalized), "* does not match a version", detail);
    fuzz::check(!constraint::match_none().matches_version(*normalized), "[] matches a version", detail);
  }
  return 0;
}
