# src/versions/ differential test: pb_versions_cli answers the requests tests/versions/differential.php
# generates, and the script checks every answer against composer/semver 3.3.2 running in PHP (Debian's
# php-composer-semver, /usr/share/php/Composer/Semver). Included by the root CMakeLists (native builds).
add_executable(pb_versions_cli ${CMAKE_SOURCE_DIR}/tests/tools/versions_cli.cpp)
target_link_libraries(pb_versions_cli PRIVATE pb_core)
target_compile_options(pb_versions_cli PRIVATE ${PB_WARNINGS} -fno-exceptions)

add_test(NAME versions_differential
         COMMAND php ${CMAKE_SOURCE_DIR}/tests/versions/differential.php $<TARGET_FILE:pb_versions_cli>)
