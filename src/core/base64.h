// Byte encodings for the core: base64 (RFC 4648 §4, standard alphabet) and lowercase hex.
// Used for HTTP Basic credentials, digests handed over by the host (SHA-1/SHA-256 as bytes) and opaque
// ids. Not here: base64url and streaming; these work on whole strings in memory.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace pb {

// Padded base64 of the bytes ("" -> "", "f" -> "Zg==").
[[nodiscard]] std::string base64_encode(std::string_view bytes);

// Decodes padded or unpadded base64. Rejects characters outside the standard alphabet (including
// whitespace and the url-safe '-' '_'), padding anywhere but the end, a padded input whose length is
// not a multiple of 4, and a length that leaves a single dangling character. Unused trailing bits are
// ignored (as most decoders do). Errors are bad_request and quote the input.
[[nodiscard]] result<std::string> base64_decode(std::string_view text);

// Lowercase hexadecimal, two characters per byte ("\x01\xab" -> "01ab").
[[nodiscard]] std::string to_hex(std::string_view bytes);

}  // namespace pb
