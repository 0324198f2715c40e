// web_url against what fetch() does: every expected value below is what the WHATWG parser of Node 20
// (`new URL(input)`) gives for the same input, except the inputs this product refuses on purpose
// (a scheme without "//", non-http schemes).
#include <catch2/catch_test_macros.hpp>

#include "http/web_url.h"

using namespace pb;
using namespace pb::http;

namespace {
std::string origin_of(std::string_view in) {
  auto u = parse_web_url(in);
  return u ? u->origin() : "ERR";
}
}  // namespace

TEST_CASE("web_url: the origin is the one fetch connects to", "[url][web_url]") {
  CHECK(origin_of("https://repo.example.com/a.zip") == "https://repo.example.com");
  // The old host check took the host after the first "://" anywhere in the string: repo.example.com.
  CHECK(origin_of("https:evil.example/x://repo.example.com/a.zip") == "ERR");
  CHECK(origin_of("https://REPO.Example.COM:443/a") == "https://repo.example.com");
  CHECK(origin_of("http://repo.example.com:80/a") == "http://repo.example.com");
  CHECK(origin_of("https://repo.example.com:8443/a") == "https://repo.example.com:8443");
  CHECK(origin_of("https://repo.example.com:/a") == "https://repo.example.com");
  CHECK(origin_of("HTTPS://repo.example.com/a") == "https://repo.example.com");
  CHECK(origin_of("https://repo.example.com\\@evil.example/a") == "https://repo.example.com");
  CHECK(origin_of("https://evil.example\\repo.example.com/a") == "https://evil.example");
  CHECK(origin_of("https://%65vil.example/a") == "https://evil.example");
  CHECK(origin_of("https://repo.example.com%2F@evil.example/") == "https://evil.example");
  CHECK(origin_of("https://repo.example.com?x=1@evil.example") == "https://repo.example.com");
  CHECK(origin_of("  https://repo.example.com/a  ") == "https://repo.example.com");
  CHECK(origin_of("ht\ttps://re\npo.example.com/a") == "https://repo.example.com");
  CHECK(origin_of("https://[::1]:8080/x") == "https://[::1]:8080");
  CHECK(origin_of("https://[0:0:0:0:0:ffff:7f00:1]/x") == "https://[::ffff:7f00:1]");
  CHECK(origin_of("http://[::ffff:127.0.0.1]/") == "http://[::ffff:7f00:1]");
  CHECK(origin_of("http://0x7f.1/x") == "http://127.0.0.1");
  CHECK(origin_of("http://2130706433/x") == "http://127.0.0.1");
  CHECK(origin_of("https://repo.example.com./a") == "https://repo.example.com.");
  CHECK(origin_of("https://xn--bcher-kva.example/a") == "https://xn--bcher-kva.example");
  CHECK(origin_of("https:///repo.example.com/a") == "https://repo.example.com");
  CHECK(origin_of("https://127.0.0.1:8787/x") == "https://127.0.0.1:8787");
}

TEST_CASE("web_url: what is refused", "[url][web_url]") {
  // Internationalized host names only in punycode (fetch would map these to xn--bcher-kva.example; the
  // IDNA tables are left out of the build for size, see third_party/ada/README.md).
  CHECK(origin_of("https://b\xC3\xBC" "cher.example/a") == "ERR");
  CHECK(origin_of("https://b%C3%BCcher.example/a") == "ERR");
  // Found by the web_url fuzzer: ada's fast path for lower-case hosts let a raw 0xFF byte through.
  CHECK(origin_of("https://repo.\xFF.example/a") == "ERR");
  CHECK(origin_of("https://a\xFF\xFF" "b.example/") == "ERR");
  CHECK(origin_of("https://REPO.\xFF.example/a") == "ERR");
  CHECK(origin_of("https://repo.example.com:65536/a") == "ERR");
  CHECK(origin_of("https://exa mple.com/") == "ERR");
  CHECK(origin_of("https:/repo.example.com/a") == "ERR");  // fetch would repair it; we refuse
  CHECK(origin_of("https:\\\\repo.example.com\\a") == "ERR");
  CHECK(origin_of("ftp://repo.example.com/a") == "ERR");
  CHECK(origin_of("//repo.example.com/a") == "ERR");
  CHECK(origin_of("/a/b") == "ERR");
  CHECK(origin_of("") == "ERR");
  auto e = parse_web_url("https:evil.example/x");
  REQUIRE_FALSE(e);
  CHECK(e.err().message.find("\"//\"") != std::string::npos);
}

TEST_CASE("web_url: userinfo, href, ports", "[url][web_url]") {
  auto u = parse_web_url("https://user:pw@repo.example.com/a");
  REQUIRE(u);
  CHECK(u->has_userinfo);
  CHECK(u->origin() == "https://repo.example.com");
  auto h = parse_web_url("https://repo.example.com#frag");
  REQUIRE(h);
  CHECK(h->href == "https://repo.example.com/#frag");
  CHECK(h->port == 443);
  CHECK_FALSE(h->has_userinfo);
  CHECK(parse_web_url("http://a.test:8080/")->port == 8080);
  CHECK(parse_web_url("http://a.test/")->same_origin(*parse_web_url("http://A.test:80/x")));
  CHECK_FALSE(parse_web_url("http://a.test/")->same_origin(*parse_web_url("https://a.test/")));
}

TEST_CASE("web_url: relative references resolve as links and Location headers do", "[url][web_url]") {
  auto base = parse_web_url("https://a.test/p/q");
  REQUIRE(base);
  auto href = [&](std::string_view ref) {
    auto r = resolve_web_url(*base, ref);
    return r ? r->href : "ERR";
  };
  CHECK(href("/x/y") == "https://a.test/x/y");
  CHECK(href("z") == "https://a.test/p/z");
  CHECK(href("//b.test/z") == "https://b.test/z");
  CHECK(href("https://c.test/") == "https://c.test/");
  CHECK(href("http://a.test/") == "http://a.test/");
  CHECK(href("?q=1") == "https://a.test/p/q?q=1");
  CHECK(href("https:evil.example/x") == "ERR");
  CHECK(href("ftp://c.test/") == "ERR");
}

// parse_web_url takes the common canonical form without ada; every input here, on both sides of each
// of that form's conditions, must get ada's answer (href, origin parts, user info; the same error).
TEST_CASE("web_url: the canonical form's short cut gives ada's answers", "[url][web_url]") {
  const std::string_view inputs[] = {
      // the form itself
      "https://repo.example.com/a.zip", "http://a.test/x", "https://api.github.com/repos/acme/sdk/zipball/0123abcdef",
      "https://a-b.c0.example/p;q=1/x:y@z/(1)!$&'*+,=~_-.zip", "https://h.example//double//slash/",
      "https://h.example/.hidden/..dots/a..b/.../x.", "https://1.2.3.example/x", "https://h.example/A.ZIP",
      "https://host-.example/x", "https://-host.example/x", "https://a--b.example/x", "https://h.example/",
      // scheme
      "HTTPS://repo.example.com/a", "Https://repo.example.com/a", "hTTp://repo.example.com/a", "https:/repo.example.com/a",
      "https:repo.example.com/a", "ftp://repo.example.com/a", "https:///repo.example.com/a",
      // host: case, IPv4 numbers, empty labels, IDN and punycode, other bytes
      "https://Repo.example.com/a", "https://repo.EXAMPLE.com/a", "http://127.0.0.1/x", "http://1.2.3.4.5/x",
      "http://example.123/x", "http://example.0x1f/x", "http://a.0x/x", "http://0x7f.1/x", "http://2130706433/x",
      "https://127.0.0.1/x", "https://1.2.3.4.5/x", "https://example.123/x", "https://example.0x1f/x", "https://a.0x/x",
      "https://0x7f.1/x", "https://2130706433/x", "https://a.b.09/x",
      "https://repo.example.com./a", "https://repo..example.com/a", "https://.repo.example.com/a", "https:///a",
      "https://xn--bcher-kva.example/a", "https://xn--a.example/a", "https://xn--.example/a", "https://xn--zz.example/a",
      "https://xn---.example/a", "https://a.xn--0.example/a", "https://xn--abc-.example/a", "https://xn--ls8h.example/a", "https://XN--bcher-kva.example/a",
      "https://abxn-c.example/a", "https://b\xC3\xBC" "cher.example/a", "https://b%C3%BCcher.example/a",
      "https://%72epo.example.com/a", "https://a_b.example/x", "https://[::1]/x", "https://repo.\xFF.example/a",
      // user info and ports
      "https://user@repo.example.com/a", "https://user:pw@repo.example.com/a", "https://@repo.example.com/a",
      "https://:@repo.example.com/a", "https://repo.example.com:443/a", "https://repo.example.com:8443/a",
      "https://repo.example.com:/a", "http://repo.example.com:80/a", "https://repo.example.com:65536/a",
      // no path, query, fragment
      "https://repo.example.com", "https://repo.example.com?x=1", "https://repo.example.com/a?x=1",
      "https://repo.example.com/a#f", "https://repo.example.com/a#", "https://repo.example.com/a?",
      // percent-escapes, backslashes, spaces and other bytes in the path
      "https://repo.example.com/a%20b", "https://repo.example.com/%2e%2e/a", "https://repo.example.com/a/%2E/b",
      "https://repo.example.com/a%zz", "https://repo.example.com/a%", "https://repo.example.com\\a",
      "https://repo.example.com/a\\b", "https://repo.example.com/a b", " https://repo.example.com/a",
      "https://repo.example.com/a ", "https://repo.example.com/a\tb", "https://repo.example.com/a\nb",
      "https://a.test/a\"b", "https://a.test/a`b", "https://a.test/{x}", "https://a.test/a<b>", "https://a.test/a|b",
      "https://a.test/a^b", "https://a.test/[x]", "https://a.test/a\\b\\c", "https://a.test/\xC3\xA9", "https://a.test/a\x01" "b",
      "https://a.test/a\x7F" "b", std::string_view("https://a.test/a\0b", 18),
      // dot segments
      "https://repo.example.com/a/../b", "https://repo.example.com/./b", "https://repo.example.com/a/..",
      "https://repo.example.com/a/.", "https://repo.example.com/..", "https://repo.example.com/.",
      "https://repo.example.com/a/./", "https://repo.example.com/a/../",
  };
  for (std::string_view in : inputs) {
    INFO(in);
    auto fast = parse_web_url(in);
    auto ada = parse_web_url(in, false);
    REQUIRE(fast.ok() == ada.ok());
    if (!ada) {
      CHECK(fast.err().message == ada.err().message);
      continue;
    }
    CHECK(fast->href == ada->href);
    CHECK(fast->scheme == ada->scheme);
    CHECK(fast->host == ada->host);
    CHECK(fast->port == ada->port);
    CHECK(fast->has_userinfo == ada->has_userinfo);
  }
  // What those hold (by ada, as Node's URL): the short cut must not take these as they are.
  CHECK(parse_web_url("HTTPS://repo.example.com/a")->href == "https://repo.example.com/a");
  CHECK(parse_web_url("https://Repo.example.com/a")->href == "https://repo.example.com/a");
  CHECK(parse_web_url("https://repo.example.com/a/../b")->href == "https://repo.example.com/b");
  CHECK(parse_web_url("https://repo.example.com")->href == "https://repo.example.com/");
  CHECK(parse_web_url("https://example.0x1f/x").ok() == false);
  CHECK(parse_web_url("https://2130706433/x")->host == "127.0.0.1");
  CHECK(parse_web_url("https://user@repo.example.com/a")->has_userinfo);
  CHECK(parse_web_url("https://repo.example.com/a b")->href == "https://repo.example.com/a%20b");
}
