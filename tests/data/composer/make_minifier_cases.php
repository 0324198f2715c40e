<?php
// Regenerates minifier_cases.json for tests/native/composer/test_minifier.cpp: named inputs (kept as
// JSON text so {} and [] stay distinct for the C++ side) with what Composer's MetadataMinifier
// (Debian's /usr/share/php copy) returns for them. Usage: php tests/data/composer/make_minifier_cases.php
require '/usr/share/php/Composer/MetadataMinifier/autoload.php';

use Composer\MetadataMinifier\MetadataMinifier;

$cases = [
    'empty list' => '[]',
    'one version' => '[{"name":"a/b","version":"1.0.0"}]',
    'upstream example: changed, added and removed keys' => '[
        {"name":"foo/bar","version":"2.0.0","version_normalized":"2.0.0.0","type":"library","scripts":{"foo":"bar"},"license":["MIT"]},
        {"name":"foo/bar","version":"1.2.0","version_normalized":"1.2.0.0","type":"library","license":["GPL"],"homepage":"https://example.org"},
        {"name":"foo/bar","version":"1.0.0","version_normalized":"1.0.0.0","type":"library","license":["GPL"]}]',
    'nested maps are compared wholesale' => '[
        {"v":"2","require":{"php":">=8.1","psr/log":"^3"}},
        {"v":"1","require":{"php":">=8.1","psr/log":"^3"}},
        {"v":"0","require":{"psr/log":"^3","php":">=8.1"}}]',
    'a null value is never isset: emitted, then unset' => '[
        {"a":1,"b":null},
        {"a":1,"b":null},
        {"a":2,"b":null,"c":null}]',
    'an empty version restarts the chain' => '[
        {"a":1,"b":2},
        {},
        {"a":1,"b":2},
        {"a":1}]',
    'empty first versions are taken as they are' => '[{}, [], {"a":1}, {"a":1}]',
    'top-level key order is not kept' => '[
        {"a":1,"b":2,"c":3},
        {"c":3,"a":1,"b":2},
        {"d":4,"a":1}]',
    'int and float differ, {} and [] do not' => '[
        {"n":1,"e":{},"l":[]},
        {"n":1.0,"e":[],"l":{}},
        {"n":1.0,"e":[],"l":{"0":"x"}},
        {"n":1.0,"e":[],"l":["x"]}]',
    'the string "__unset" as a value' => '[
        {"a":"__unset","b":1},
        {"a":"__unset","b":2},
        {"a":"x","b":"__unset"}]',
    'strings compare bytewise, unicode and slashes' => '[
        {"d":"caf\u00e9 a/b","k":["x"]},
        {"d":"café a/b","k":["x"]},
        {"d":"cafe\u0301 a/b","k":["x","y"]}]',
];

$out = [];
foreach ($cases as $name => $text) {
    $in = json_decode($text, true, 512, JSON_THROW_ON_ERROR);
    $min = MetadataMinifier::minify($in);
    $out[] = [
        'name' => $name,
        'input' => json_encode(json_decode($text), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION),
        'minified' => $min,
        'expanded' => MetadataMinifier::expand($min),
        'round_trip_is_exact' => MetadataMinifier::expand($min) === $in,
    ];
}
file_put_contents(__DIR__ . '/minifier_cases.json',
    json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION) . "\n");
