// core/json: any input either fails to parse with a message, or parses to a tree whose dump() parses
// back to an equal tree and dumps to the same text (the wire and the stored documents rely on it);
// check_json gives parse_json's verdict; is_dump_form never accepts a text dump() would write otherwise;
// json_scan::checked_members (the p2 reader's one-pass check and walk) accepts only objects simdjson
// accepts, with the members and extent of the slow way.
#include <utility>
#include <vector>

#include "core/json_scan.h"
#include "fuzz.h"
#include "simdjson.h"

using namespace pb;

namespace {

void check_one_pass(std::string_view in) {
  if (!simdjson::validate_utf8(in.data(), in.size())) return;  // its precondition (the reader checks first)
  using members = std::vector<std::pair<std::string, std::string_view>>;
  const auto into = [](members& out) {
    return [&out](std::string_view k, std::string_view v) -> result<json_scan::go_on> {
      out.emplace_back(k, v);
      return json_scan::go_on{};
    };
  };
  members fast, slow;
  json_scanner sc(in);
  if (!json_scan::checked_members(sc, into(fast))) return;
  json_scanner extent(in);
  auto object = extent.value();
  fuzz::check(object && extent.offset() == sc.offset(), "checked_members ends elsewhere than the object", in);
  auto checked = check_json(*object);
  fuzz::check(checked.ok(), "checked_members accepted an object simdjson refuses", std::string(*object));
  json_scanner again(*object);
  fuzz::check(json_scan::walk_members(again, into(slow)).ok(), "walk_members refused an object checked_members took");
  fuzz::check(fast == slow, "checked_members walked other members than walk_members", in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  check_one_pass(in);
  auto parsed = parse_json(in);
  auto checked = check_json(in);
  fuzz::check(checked.ok() == parsed.ok(), "check_json and parse_json disagree");
  if (!parsed) {
    fuzz::check(!parsed.err().message.empty(), "a parse error without a message");
    fuzz::check(checked.err().message == parsed.err().message, "check_json's error is not parse_json's");
    return 0;
  }
  const std::string once = parsed->dump();
  // The mirror copies a value's text in place of its dump when is_dump_form says so.
  if (is_dump_form(in)) fuzz::check(once == in, "is_dump_form accepted a text dump() writes otherwise", once);
  auto again = parse_json(once);
  fuzz::check(again.ok(), "dump() wrote text that does not parse", once);
  fuzz::check(*again == *parsed, "dump() then parse changed the value", once);
  fuzz::check(again->dump() == once, "dump() is not stable", once);
  json_writer w;
  w.begin_array().value(*parsed).end_array();
  fuzz::check(w.str() == "[" + once + "]", "json_writer and dump() disagree", w.str());
  return 0;
}
