// composer/minifier: minify and expand on any JSON array never crash, and for a list of version objects
// expand(minify(x)) == x as Composer reads versions (top-level keys in any order; null and "__unset"
// values are absent, which is MetadataMinifier's own contract). php_identical is reflexive.
// p2_writer::prepend (the upload's splice): when it splices x[0] in front of the written x[1..], the
// result is byte for byte what writing all of x gives. build_p2 (the writer, which minifies on encoded
// values) writes what minify() on the trees, encoded whole, gives.
#include "fuzz.h"
#include "php_equal.h"

#include "composer/p2_builder.h"

using namespace pb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = parse_json(fuzz::as_text(data, size));
  if (!parsed || !parsed->is_array()) return 0;
  const json_array& versions = parsed->as_array();
  fuzz::check(composer::php_identical(*parsed, *parsed), "php_identical(x, x) is false", parsed->dump());

  const json minified = composer::minify(versions);
  fuzz::check(minified.is_array() && minified.size() == versions.size(), "minify changed the number of versions",
              parsed->dump());
  const json expanded = composer::expand(minified.as_array());
  (void)composer::expand(versions);  // arbitrary "minified" input
  fuzz::check(expanded.is_array() && expanded.size() == versions.size(), "expand changed the number of versions",
              parsed->dump());

  {
    json_array lists[2];
    for (const json& v : versions) lists[composer::p2_writer::goes_to_dev(v) ? 1 : 0].push_back(v);
    const composer::p2_documents written = composer::build_p2("x", versions);
    const std::string* texts[2] = {&written.tagged, &written.dev};
    for (int dev = 0; dev < 2; ++dev) {
      json_object packages, doc;
      packages.emplace_back("x", composer::minify(lists[dev]));
      doc.emplace_back("minified", json("composer/2.0"));
      doc.emplace_back("packages", json(std::move(packages)));
      const std::string expected = composer::packagist_json_encode(json(std::move(doc)));
      fuzz::check(*texts[dev] == expected, "build_p2 differs from minify() encoded whole",
                  parsed->dump() + "\nwritten: " + *texts[dev] + "\nexpected: " + expected);
    }
  }

  if (versions.size() >= 2) {
    bool one_list = true;
    for (const json& v : versions) one_list = one_list && composer::p2_writer::goes_to_dev(v) == composer::p2_writer::goes_to_dev(versions[0]);
    if (one_list) {
      const bool dev = composer::p2_writer::goes_to_dev(versions[0]);
      const json_array rest(versions.begin() + 1, versions.end());
      const composer::p2_documents all = composer::build_p2("x", versions), tail = composer::build_p2("x", rest);
      const std::string& whole = dev ? all.dev : all.tagged;
      const std::string& written = dev ? tail.dev : tail.tagged;
      const std::size_t head = std::string_view("{\"minified\":\"composer/2.0\",\"packages\":{\"x\":[").size();
      if (auto spliced = composer::p2_writer::prepend(versions[0], versions[1], std::string_view(written).substr(head)))
        fuzz::check(whole.substr(head) == *spliced, "prepend differs from writing the whole list",
                    parsed->dump() + "\nspliced: " + *spliced + "\nwhole: " + whole);
    }
  }

  for (const json& v : versions)
    if (!v.is_object() || fuzz::has_duplicate_keys(v)) return 0;  // outside the round trip's domain
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const json& back = expanded.as_array()[i];
    fuzz::check(back.is_object(), "expand gave a version that is not an object", parsed->dump());
    fuzz::check(fuzz::same_members(fuzz::composer_view(versions[i]), fuzz::composer_view(back), composer::php_identical),
                "expand(minify(x)) != x", "version " + std::to_string(i) + " of " + parsed->dump() +
                                              "\nminified: " + minified.dump() + "\nexpanded: " + expanded.dump());
  }
  return 0;
}
