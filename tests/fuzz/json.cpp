// core/json: any input either fails to parse with a message, or parses to a tree whose dump() parses
// back to an equal tree and dumps to the same text (the wire and the stored documents rely on it);
// check_json gives parse_json's verdict; is_dump_form never accepts a text dump() would write otherwise.
// Two fast paths against their references on any input: the scanner's container blocks against its byte
// loop, and simdjson's patched fallback kernel (the one wasm runs) against the native one; and the
// scanner's strict reading against simdjson and is_dump_form.
#include <string>
#include <utility>

#include "core/json_scan.h"
#include "fuzz.h"
#include "simdjson.h"

using namespace pb;

namespace {

// The verdict and, when the text parses, its minified form, by one simdjson kernel.
std::pair<bool, std::string> simdjson_answer(const simdjson::implementation* kernel, std::string_view in) {
  const simdjson::implementation* before = simdjson::get_active_implementation();
  simdjson::get_active_implementation() = kernel;
  std::pair<bool, std::string> answer{false, ""};
  {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    answer.first = !parser.parse(in.data(), in.size()).get(root);
    if (answer.first) answer.second = simdjson::minify(root);
  }
  simdjson::get_active_implementation() = before;
  return answer;
}

void fast_paths(std::string_view in) {
  json_scanner fast(in), slow(in);
  slow.skip_ws();
  if (slow.peek() == '{' || slow.peek() == '[') {
    const bool fast_ok = fast.value().has_value();
    const bool slow_ok = slow.skip_container_bytes();
    fuzz::check(fast_ok == slow_ok && fast.position() == slow.position() && fast.too_deep() == slow.too_deep(),
                "the scanner's container blocks and its byte loop disagree");
  }
  // strict_value (the p2 reader's check of an entry's members, in place of simdjson's): what it accepts
  // simdjson accepts, ending where value() ends it, and its form is is_dump_form's answer. Given valid
  // UTF-8, which the reader checks for the whole document first.
  if (simdjson::validate_utf8(in.data(), in.size())) {
    json_scanner strict(in), extent(in);
    bool dump = false;
    if (strict.strict_value(dump)) {
      const auto v = extent.value();
      fuzz::check(v.has_value() && strict.position() == extent.position(), "strict_value and value() end apart");
      fuzz::check(check_json(*v).ok(), "strict_value accepted what simdjson refuses", std::string(*v));
      fuzz::check(dump == is_dump_form(*v), "strict_value's form is not is_dump_form's", std::string(*v));
    }
  }
  static const simdjson::implementation* const fallback = simdjson::get_available_implementations()["fallback"];
  static const simdjson::implementation* const native = simdjson::get_available_implementations().detect_best_supported();
  if (fallback && native && fallback != native)
    fuzz::check(simdjson_answer(fallback, in) == simdjson_answer(native, in),
                "simdjson's fallback kernel and the native one disagree");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  fast_paths(in);
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
