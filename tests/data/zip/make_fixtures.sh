#!/usr/bin/env bash
# Regenerates the zip fixtures for tests/native/composer/test_zip_reader.cpp with the Info-ZIP `zip`
# CLI and PHP's ZipArchive (libzip). The committed .zip files are the test data; this script documents
# how each was made. Usage: tests/data/zip/make_fixtures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export TZ=UTC
stamp() { find "$1" -exec touch -d '2026-01-02 03:04:05' {} +; }
composer='{"name": "acme/pkg", "description": "fixture", "require": {"php": ">=8.1"}}'

# root composer.json, deflated (zip CLI)
mkdir root && cd root
printf '%s\n' "$composer" > composer.json
mkdir src && printf '<?php\n// %s\n' "$(printf 'x%.0s' $(seq 1 200))" > src/A.php
stamp . && rm -f "$here/root.zip" && zip -q -X -r "$here/root.zip" composer.json src
cd ..

# root composer.json, stored (zip -0)
cd root && rm -f "$here/stored.zip" && zip -q -X -0 -r "$here/stored.zip" composer.json src && cd ..

# GitHub-style zipball: one top-level directory with directory records and an archive comment
mkdir -p gh/acme-pkg-1a2b3c4/src
printf '%s\n' "$composer" > gh/acme-pkg-1a2b3c4/composer.json
printf '<?php\n' > gh/acme-pkg-1a2b3c4/src/A.php
printf '# pkg\n' > gh/acme-pkg-1a2b3c4/README.md
stamp gh
(cd gh && rm -f "$here/github.zip" && zip -q -X -r "$here/github.zip" acme-pkg-1a2b3c4 &&
  printf '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b\n' | zip -q -z "$here/github.zip")

# encrypted entry (zip -P): flags bit 0
(cd root && rm -f "$here/encrypted.zip" && zip -q -X -P secret "$here/encrypted.zip" composer.json)

# forced zip64 records (zip -fz): streamed input gets zip64 sizes
rm -f "$here/zip64.zip" && printf '%s\n' "$composer" | zip -q -X -fz "$here/zip64.zip" -

php -d error_reporting=E_ALL -r '
$dir = $argv[1];
$json = $argv[2];
function make(string $path, array $files, array $dirs = [], array $methods = []): void {
    @unlink($path);
    $z = new ZipArchive();
    if ($z->open($path, ZipArchive::CREATE) !== true) { fwrite(STDERR, "cannot create $path\n"); exit(1); }
    foreach ($dirs as $d) { $z->addEmptyDir($d); }
    foreach ($files as $name => $content) {
        $z->addFromString($name, $content);
        $z->setMtimeName($name, 1767323045);
        if (isset($methods[$name])) { $z->setCompressionName($name, $methods[$name]); }
    }
    $z->close();
}
// no directory records (ZipArchive adds none unless asked)
make("$dir/nodirs.zip", ["pkg-main/composer.json" => $json, "pkg-main/src/A.php" => "<?php\n"]);
// two top-level directories, no root composer.json
make("$dir/two_top.zip", ["a/composer.json" => $json, "b/composer.json" => $json]);
// no composer.json anywhere usable (only deeper than the top directory)
make("$dir/no_composer.zip", ["pkg/README.md" => "# pkg\n", "pkg/sub/composer.json" => $json], ["pkg/"]);
// macOS Finder noise next to the package directory
make("$dir/macosx.zip", ["pkg/composer.json" => $json, "__MACOSX/pkg/._composer.json" => "\0\5\26\7",
    "__MACOSX/._pkg" => "\0"], ["pkg/", "__MACOSX/", "__MACOSX/pkg/"]);
// a top-level file next to a directory counts as a second top-level path
make("$dir/file_and_dir.zip", ["LICENSE" => "MIT\n", "pkg/composer.json" => $json]);
// bzip2 (method 12), refused by check_entry_supported
make("$dir/bzip2.zip", ["composer.json" => $json], [], ["composer.json" => ZipArchive::CM_BZIP2]);
// stored via ZipArchive, for the local header / CRC path
make("$dir/php_stored.zip", ["composer.json" => $json, "pkg/x.txt" => "hello"], [],
    ["composer.json" => ZipArchive::CM_STORE, "pkg/x.txt" => ZipArchive::CM_STORE]);
' "$here" "$composer"
ls -l "$here"/*.zip

# What Composer itself (Composer\Util\Zip::getComposerJson, Debian's composer) makes of each fixture:
# the composer.json content or the RuntimeException message. test_zip_reader.cpp checks against it.
php -r '
require "/usr/share/php/Composer/autoload.php";
$out = [];
foreach (glob($argv[1] . "/*.zip") as $f) {
    try {
        $c = Composer\Util\Zip::getComposerJson($f);
        $out[basename($f)] = $c === null ? ["content" => null] : ["content" => $c];
    } catch (\Throwable $e) {
        $out[basename($f)] = ["error" => $e->getMessage()];
    }
}
file_put_contents($argv[1] . "/composer_expected.json",
    json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
' "$here"
