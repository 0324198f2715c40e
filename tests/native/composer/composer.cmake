# Differential test of src/composer/ against Composer's PHP code (Debian's php-composer-metadata-minifier
# under /usr/share/php): tests/composer/differential.php drives pb_composer_cli over stdin.
add_executable(pb_composer_cli tests/tools/composer_cli.cpp)
target_link_libraries(pb_composer_cli PRIVATE pb_core)
target_compile_options(pb_composer_cli PRIVATE ${PB_WARNINGS})
add_test(NAME composer_minifier_differential
         COMMAND php ${CMAKE_SOURCE_DIR}/tests/composer/differential.php $<TARGET_FILE:pb_composer_cli>)
