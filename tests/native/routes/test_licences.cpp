// Licences and listing on the native host: versions outside a token's constraint or released after its
// updates_until are invisible in packages.json, p2, /dist, list.json and search.json, while a token
// without licences keeps the prebuilt document. Plus the pure filter (auth/licences.h).
#include "auth/licences.h"
#include "composer/minifier.h"
#include "core/http_date.h"
#include "native/routes/admin_fixture.h"

using namespace pb;
using namespace pb::testing;

namespace {
constexpr std::int64_t jan_1 = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t day = 86'400'000;
}  // namespace

TEST_CASE("licences: constraint and update expiry decide what a customer sees", "[licences][native]") {
  admin_fixture f;
  // Released on Jan 1, Feb 1 and Mar 1 (upload time is the release time of an artifact).
  f.c.now_ms = jan_1;
  REQUIRE(f.upload("acme/widget", "1.5.0").status == 201);
  REQUIRE(f.upload("acme/widget", "2.0.0").status == 201);
  f.c.now_ms = jan_1 + 31 * day;
  REQUIRE(f.upload("acme/widget", "2.1.0").status == 201);
  f.c.now_ms = jan_1 + 59 * day;
  REQUIRE(f.upload("acme/widget", "2.2.0").status == 201);
  REQUIRE(f.upload("acme/legacy", "1.0.0").status == 201);
  REQUIRE(f.upload("other/free", "1.0.0").status == 201);

  json all = f.token(R"({"name":"everything"})");
  json customer = f.token(R"({"name":"customer","licences":[
      {"packages":"acme/widget","constraint":"^2.0","updates_until":"2026-02-15"},
      {"packages":"acme/legacy","constraint":"^3.0"}]})");
  std::string everything(all["token"].as_string()), cust(customer["token"].as_string());

  reply unrestricted = f.as_client(everything, "GET", "/p2/acme/widget.json");
  CHECK(p2_versions(unrestricted.body_json(), "acme/widget") == std::vector<std::string>{"2.2.0", "2.1.0", "2.0.0", "1.5.0"});

  reply p2 = f.as_client(cust, "GET", "/p2/acme/widget.json");
  REQUIRE(p2.status == 200);
  // Never a 304 for a filtered copy: a full copy cached by another token must not be confirmed. Its
  // Last-Modified is older than the full document's, so the full one is never confirmed by it either.
  std::string lm = unrestricted.header("last-modified");
  CHECK(*parse_http_date(p2.header("last-modified")) == *parse_http_date(lm) - 1);
  header_list since = basic(cust);
  since.emplace_back("if-modified-since", lm);
  CHECK(f.c.call("GET", "/p2/acme/widget.json", since).status == 200);
  header_list full_since = basic(everything);
  full_since.emplace_back("if-modified-since", p2.header("last-modified"));
  CHECK(f.c.call("GET", "/p2/acme/widget.json", full_since).status == 200);
  full_since.back().second = lm;
  CHECK(f.c.call("GET", "/p2/acme/widget.json", full_since).status == 304);
  json doc = p2.body_json();
  CHECK(doc["minified"].as_string() == "composer/2.0");
  json expanded = composer::expand(doc["packages"]["acme/widget"].as_array());
  std::vector<std::string> seen;
  for (const auto& v : expanded.as_array()) seen.emplace_back(v["version"].as_string());
  CHECK(seen == std::vector<std::string>{"2.1.0", "2.0.0"});
  // The expanded entries are whole (re-minified, not cut out of the diff chain).
  for (const auto& v : expanded.as_array()) {
    CHECK(v["name"].as_string() == "acme/widget");
    CHECK(v["dist"]["url"].as_string().find("https://repo.test/dist/acme/widget/") == 0);
  }
  // Warm: the filtered copy comes from the isolate's cache, without effects.
  CHECK(f.as_client(cust, "GET", "/p2/acme/widget.json").ops.empty());

  // /dist: 404 for an invisible version, the archive for a visible one.
  json detail = f.admin("GET", "/admin/api/packages/acme/widget").body_json();
  for (const auto& v : detail["versions"].as_array()) {
    std::string path(v["dist_url"].as_string());
    bool visible = v["version"].as_string() == "2.0.0" || v["version"].as_string() == "2.1.0";
    INFO(path);
    CHECK(f.as_client(cust, "GET", path).status == (visible ? 200 : 404));
    CHECK(f.as_client(everything, "GET", path).status == 200);
  }

  // packages.json and list.json: acme/legacy has no version in ^3.0, so it is not listed.
  json root = f.as_client(cust, "GET", "/packages.json").body_json();
  std::vector<std::string> names;
  for (const auto& n : root["available-packages"].as_array()) names.emplace_back(n.as_string());
  CHECK(names == std::vector<std::string>{"acme/widget", "other/free"});
  CHECK(root["list"].as_string() == "https://repo.test/packages/list.json");
  CHECK(root["search"].as_string() == "https://repo.test/search.json?q=%query%&type=%type%");
  json list = f.as_client(cust, "GET", "/packages/list.json?filter=acme/*").body_json();
  CHECK(list["packageNames"].dump() == R"(["acme/widget"])");
  CHECK(f.as_client(everything, "GET", "/packages/list.json?filter=acme/*").body_json()["packageNames"].size() == 2);
  CHECK(f.as_client(cust, "GET", "/p2/acme/legacy.json").body_json()["packages"]["acme/legacy"].size() == 0);

  SECTION("updating the licences applies at once in this isolate") {
    std::string id = std::to_string(customer["id"].as_int());
    REQUIRE(f.admin("PATCH", "/admin/api/tokens/" + id, R"({"licences":[{"packages":"acme/*","constraint":"*"}]})").status == 200);
    CHECK(p2_versions(f.as_client(cust, "GET", "/p2/acme/widget.json").body_json(), "acme/widget").size() == 4);
  }
  SECTION("a new release after the expiry stays invisible; the document's other versions stay") {
    f.c.now_ms = jan_1 + 70 * day;
    REQUIRE(f.upload("acme/widget", "2.3.0").status == 201);
    json again = composer::expand(f.as_client(cust, "GET", "/p2/acme/widget.json").body_json()["packages"]["acme/widget"].as_array());
    CHECK(again.size() == 2);
  }
}

TEST_CASE("search.json: packagist's shape, scoped to the token", "[listing][native]") {
  admin_fixture f;
  REQUIRE(f.upload("acme/widget", "1.0.0").status == 201);
  REQUIRE(f.upload("acme/logger", "1.0.0").status == 201);
  REQUIRE(f.upload("other/widget-tools", "1.0.0").status == 201);
  std::string scoped(f.token(R"({"name":"acme","packages":["acme/*"]})")["token"].as_string());
  json r = f.as_client(scoped, "GET", "/search.json?q=widget").body_json();
  REQUIRE(r["results"].size() == 1);
  CHECK(r["total"].as_int() == 1);
  CHECK(r["results"].as_array()[0]["name"].as_string() == "acme/widget");
  CHECK(r["results"].as_array()[0]["description"].as_string() == "the acme/widget package");
  // Words must all match, name or description.
  CHECK(f.as_client(scoped, "GET", "/search.json?q=the%20logger").body_json()["total"].as_int() == 1);
  CHECK(f.as_client(scoped, "GET", "/search.json?q=nothing").body_json()["results"].size() == 0);
  CHECK(f.as_client(scoped, "GET", "/search.json?q=acme&per_page=1").body_json()["next"].is_string());
  CHECK(f.as_client(scoped, "GET", "/search.json?q=x&page=0").status == 400);
  CHECK(f.c.call("GET", "/search.json?q=widget").status == 401);
  CHECK(f.c.call("GET", "/packages/list.json").status == 401);
}

TEST_CASE("licence filter: pure rules", "[licences]") {
  auto l = auth::make_licence("acme/*", "~1.2 || ^3.0", 1000);
  REQUIRE(l);
  std::vector<auth::licence> ls{*l};
  CHECK(auth::version_visible(ls, "acme/x", "1.2.5.0", 999));
  CHECK_FALSE(auth::version_visible(ls, "acme/x", "1.2.5.0", 1001));  // released after the expiry
  CHECK_FALSE(auth::version_visible(ls, "acme/x", "1.2.5.0", 0));     // unknown release time
  CHECK_FALSE(auth::version_visible(ls, "acme/x", "2.0.0.0", 1));
  CHECK(auth::version_visible(ls, "acme/x", "3.1.0.0", 1000));
  CHECK(auth::version_visible(ls, "other/y", "9.0.0.0", 5000));  // no licence names it
  CHECK_FALSE(auth::make_licence("acme/*", "not a constraint", 0));
  CHECK_FALSE(auth::make_licence("Bad Pattern", "^1.0", 0));
  // A stored licence that no longer parses hides everything it names (fails closed).
  json stored = *parse_json(R"([{"packages":"acme/*","constraint":"??","updates_until":null}])");
  auto read = auth::licences_from_json(stored);
  REQUIRE(read.size() == 1);
  CHECK_FALSE(auth::version_visible(read, "acme/x", "1.0.0.0", 1));
  CHECK(auth::licence_key(ls) != auth::licence_key(read));
  CHECK(auth::licence_key({}).empty());
}
