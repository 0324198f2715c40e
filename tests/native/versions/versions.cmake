# src/versions/ differential tests: pb_versions_cli answers the requests that tests/versions/differential.php
# (versions, comparison, dump order) and tests/versions/constraints_differential.php (constraints, matching,
# satisfies) generate, and the scripts check every answer against composer/semver 3.3.2 running in PHP
# (Debian's php-composer-semver, /usr/share/php/Composer/Semver). Included by the root CMakeLists (native builds).
add_executable(pb_versions_cli ${CMAKE_SOURCE_DIR}/tests/tools/versions_cli.cpp)
target_link_libraries(pb_versions_cli PRIVATE pb_core)
target_compile_options(pb_versions_cli PRIVATE ${PB_WARNINGS} -fno-exceptions)

add_test(NAME versions_differential
         COMMAND php ${CMAKE_SOURCE_DIR}/tests/versions/differential.php $<TARGET_FILE:pb_versions_cli>)
add_test(NAME versions_constraints_differential
         COMMAND php ${CMAKE_SOURCE_DIR}/tests/versions/constraints_differential.php $<TARGET_FILE:pb_versions_cli>)

# What matching costs: `pb_versions_bench` prints ratios; CTest checks that matching allocates nothing.
add_executable(pb_versions_bench ${CMAKE_SOURCE_DIR}/tests/tools/versions_bench.cpp)
target_link_libraries(pb_versions_bench PRIVATE pb_core)
target_compile_options(pb_versions_bench PRIVATE ${PB_WARNINGS} -fno-exceptions)
add_test(NAME versions_match_allocations COMMAND $<TARGET_FILE:pb_versions_bench> --check)
