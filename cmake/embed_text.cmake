# Turns a text file into a C++ source defining `const char* <SYMBOL>()`: the file's bytes, kept in raw
# string literals of at most 8000 characters (compilers limit a literal's length) joined at first use.
# Usage: cmake -DIN=docs/openapi.json -DOUT=build/.../openapi_doc.cpp -DSYMBOL=pb_openapi_document -P embed_text.cmake
# A .json file loses its line breaks and indentation (a JSON string holds no raw line break, so only
# whitespace between tokens goes): the same document in 1.2 KiB less of the gzip upload.
file(READ "${IN}" content)
if(IN MATCHES "\\.json$")
  string(REGEX REPLACE "\n[ ]*" "" content "${content}")
endif()
string(LENGTH "${content}" length)
set(parts "")
set(at 0)
while(at LESS length)
  string(SUBSTRING "${content}" ${at} 8000 chunk)
  string(APPEND parts "    R\"pb_embed(${chunk})pb_embed\",\n")
  math(EXPR at "${at} + 8000")
endwhile()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/embed_text.cmake: do not edit.
#include <string>
namespace {
const char* const parts[] = {
${parts}};
}
const char* ${SYMBOL}() {
  static const std::string whole = [] {
    std::string s;
    for (const char* p : parts) s += p;
    return s;
  }();
  return whole.c_str();
}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
