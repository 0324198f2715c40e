# Turns every file under a folder into a C++ source defining
#   const std::vector<std::pair<std::string_view, std::string_view>>& <SYMBOL>()
# (path relative to the folder, with '/' separators -> the file's bytes), so the server binary carries the
# web UI (ui/) the way a Worker deployment carries its static assets. Any file (text or binary) embeds
# unchanged.
# Usage: cmake -DDIR=ui -DOUT=build/.../ui_files.cpp -DSYMBOL=pb_ui_files -P embed_files.cmake
file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(body "")
set(index 0)
foreach(rel IN LISTS files)
  file(READ "${DIR}/${rel}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # Byte arrays, not string literals: compilers bound a literal's length, not an array's. 16 bytes a line.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 line)
  string(REGEX REPLACE "(${line})" "\\1\n    " bytes "${bytes}")
  if(size EQUAL 0)
    set(bytes "0")  # an array has at least one element; the size below stays 0
  endif()
  string(APPEND body "const unsigned char file_${index}[] = {\n    ${bytes}};\n")
  string(APPEND entries "      {\"${rel}\", std::string_view(reinterpret_cast<const char*>(file_${index}), ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from ${DIR} by cmake/embed_files.cmake: do not edit.
#include <string_view>
#include <utility>
#include <vector>
namespace {
${body}}  // namespace
const std::vector<std::pair<std::string_view, std::string_view>>& ${SYMBOL}() {
  static const std::vector<std::pair<std::string_view, std::string_view>> all = {
${entries}  };
  return all;
}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
