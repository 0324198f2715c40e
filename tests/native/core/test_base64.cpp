// base64 (RFC 4648 test vectors, padding rules, rejected input) and to_hex.
#include <catch2/catch_test_macros.hpp>

#include <string>

#include "core/base64.h"

using namespace pb;

TEST_CASE("base64 encodes the RFC 4648 vectors with padding", "[base64]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\xfe\x00\x3e\x3f", 5)) == "//4APj8=");
  CHECK(base64_encode("user:pa ss") == "dXNlcjpwYSBzcw==");
}

TEST_CASE("base64 decodes with or without padding", "[base64]") {
  for (const char* plain : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const std::string enc = base64_encode(plain);
    auto padded = base64_decode(enc);
    REQUIRE(padded.ok());
    CHECK(*padded == plain);
    std::string bare = enc;
    while (!bare.empty() && bare.back() == '=') bare.pop_back();
    auto unpadded = base64_decode(bare);
    REQUIRE(unpadded.ok());
    CHECK(*unpadded == plain);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  auto round = base64_decode(base64_encode(all));
  REQUIRE(round.ok());
  CHECK(*round == all);
  auto lenient_bits = base64_decode("Zh==");  // non-zero unused bits are ignored
  REQUIRE(lenient_bits.ok());
  CHECK(*lenient_bits == "f");
}

TEST_CASE("base64 rejects bad characters and bad padding, quoting the input", "[base64]") {
  auto bad = base64_decode("Zm9v!mFy");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == error_code::bad_request);
  CHECK(bad.err().message == "invalid base64 \"Zm9v!mFy\": character \"!\" is not in the alphabet at offset 4");
  for (const char* s : {"Zm9v YmFy", "Zm9v\nYmFy", "Zm9-", "Zm9_", "Z", "Zm9vY", "Zg=", "Zg===", "=Zg=", "Zg==Zg==",
                        "Zm=v", "==", "="}) {
    INFO(s);
    CHECK_FALSE(base64_decode(s).ok());
  }
  auto misplaced = base64_decode("Zm=v");
  REQUIRE_FALSE(misplaced.ok());
  CHECK(misplaced.err().message.find("misplaced padding") != std::string::npos);
  const std::string long_input(100, '!');
  auto quoted = base64_decode(long_input);
  REQUIRE_FALSE(quoted.ok());
  CHECK(quoted.err().message.find(std::string(60, '!') + "...\"") != std::string::npos);
}

TEST_CASE("to_hex is lowercase, two digits per byte", "[base64]") {
  CHECK(to_hex("") == "");
  CHECK(to_hex(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
  CHECK(to_hex("Az") == "417a");
}
