// core/json: any input either fails to parse with a message, or parses to a tree whose dump() parses
// back to an equal tree and dumps to the same text (the wire and the stored documents rely on it);
// check_json gives parse_json's verdict; is_dump_form never accepts a text dump() would write otherwise.
#include "fuzz.h"

using namespace pb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
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
