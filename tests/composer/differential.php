<?php
// Differential test: src/composer/ (through pb_composer_cli) against Composer's own PHP code.
//   php tests/composer/differential.php path/to/pb_composer_cli [seed]
// Generates a deterministic set of version lists shaped like Packagist's p2 entries (key subsets,
// nested maps that change or stay equal, keys appearing and disappearing, unicode, slashes, numbers)
// plus adversarial lists (key order changes, nulls, "__unset" values, empty versions, {} vs [],
// int vs float) and checks, compared as json_decode($x, true) structures with === (key order included):
//   (a) our minify == MetadataMinifier::minify
//   (b) MetadataMinifier::expand(our minify) == MetadataMinifier::expand(PHP's minify), and == the input
//       up to top-level key order (the minifier appends keys that reappear) unless PHP's own round
//       trip loses values (null values, "__unset" strings); exact round trips are counted separately
//   (c) our expand(PHP's minify) == the same
//   (d) our expand == MetadataMinifier::expand on arbitrary minified-looking lists
//   (e) our packagist_json_encode == json_encode(JSON_UNESCAPED_SLASHES|JSON_UNESCAPED_UNICODE)
//   (f) our php_identical == PHP's === on pairs of near-equal values
// Exits 1 on the first mismatches (up to 5 shown per check) or if too few cases ran.

require '/usr/share/php/Composer/MetadataMinifier/autoload.php';

use Composer\MetadataMinifier\MetadataMinifier;

if ($argc < 2) {
    fwrite(STDERR, "usage: php differential.php <pb_composer_cli> [seed]\n");
    exit(2);
}
$cli = $argv[1];
$seed = isset($argv[2]) ? (int) $argv[2] : 20261129;
mt_srand($seed, MT_RAND_MT19937);

const LISTS = 2400;          // realistic version lists
const ADVERSARIAL = 600;     // lists built to hit PHP quirks
const RAW_MINIFIED = 600;    // arbitrary minified-looking lists for (d)
const IDENTICAL_PAIRS = 1500;

// ------------------------------------------------------------------------------------------------
// Random helpers (mt_rand only, so runs are reproducible)

function chance(float $p): bool { return mt_rand() / mt_getrandmax() < $p; }
function pick(array $a) { return $a[mt_rand(0, count($a) - 1)]; }

const WORDS = ['log', 'http', 'cache', 'psr', 'symfony', 'test', 'orm', 'yaml', 'event', 'console', 'util',
    'Ünïcödé', '日本語', 'emoji😀', 'a/b/c', 'quote"d', 'back\\slash', "tab\tnew\nline", "ls\u{2028}ps\u{2029}",
    'dollar$', '<html>', '', '0', 'ñ', 'Zürich', "\u{7f}del", "bell\x07", "esc\x1b[31m"];
const VENDORS = ['acme', 'psr', 'symfony', 'monolog', 'guzzlehttp', 'doctrine', 'vendor-x', 'Mixed.Case'];
const CONSTRAINTS = ['^1.0', '^2.0 || ^3.0', '>=7.4', '~1.2', '*', 'self.version', '>=1.0,<2.0@dev', '1.0.*', 'dev-main', '^8.1'];

function word(): string { return pick(WORDS); }
function pkgname(): string { return strtolower(pick(VENDORS)) . '/' . pick(['log', 'http', 'core', 'util', 'bridge', 'polyfill-mbstring']); }

function links(int $max): array {
    $out = [];
    $n = mt_rand(0, $max);
    for ($i = 0; $i < $n; $i++) {
        $out[pkgname()] = pick(CONSTRAINTS);
    }
    return $out;
}

// Converts a PHP assoc array into stdClass (recursively) so json_encode keeps it an object even when
// empty or list-like; lists stay arrays.
function obj(array $a): \stdClass {
    $o = new \stdClass();
    foreach ($a as $k => $v) {
        $o->{$k} = $v;
    }
    return $o;
}

function scalar() {
    switch (mt_rand(0, 9)) {
        case 0: return mt_rand(-1000, 1000);
        case 1: return pick([1.5, 1.0, 0.1, -2.25, 1e25, 1.0e-7, 3.0, 100.0, 0.0001, 123456789.125, -0.0, 2.5e-5, 1e16, 1e17]);
        case 2: return chance(0.5);
        case 3: return pick([PHP_INT_MAX, PHP_INT_MIN + 1, 0, -1]);
        default: return word();
    }
}

function nested(int $depth) {
    if ($depth <= 0 || chance(0.35)) {
        return scalar();
    }
    $n = mt_rand(0, 4);
    if (chance(0.4)) {
        $l = [];
        for ($i = 0; $i < $n; $i++) {
            $l[] = nested($depth - 1);
        }
        return $l;
    }
    $o = [];
    for ($i = 0; $i < $n; $i++) {
        $o[pick(['a', 'b', 'psr-4', 'classmap', 'branch-alias', '0', '1', '10', 'dev-main', 'x/y', 'ü'])] = nested($depth - 1);
    }
    return obj($o);
}

// ------------------------------------------------------------------------------------------------
// Realistic version lists

function base_version(string $name): array {
    $v = [
        'name' => $name,
        'description' => word() . ' ' . word(),
        'keywords' => array_map(fn () => word(), range(1, mt_rand(0, 3))),
        'homepage' => 'https://example.org/' . word(),
        'version' => 'v1.0.0',
        'version_normalized' => '1.0.0.0',
        'license' => [pick(['MIT', 'BSD-3-Clause', 'GPL-2.0-or-later', 'proprietary'])],
        'authors' => [obj(['name' => word(), 'email' => 'a@b.c'])],
        'source' => obj(['type' => 'git', 'url' => 'https://github.com/' . $name . '.git', 'reference' => bin2hex(random_bytes_det(20))]),
        'dist' => obj(['type' => 'zip', 'url' => 'https://api.github.com/repos/' . $name . '/zipball/x', 'reference' => bin2hex(random_bytes_det(20)), 'shasum' => '']),
        'type' => pick(['library', 'symfony-bundle', 'composer-plugin', 'metapackage']),
        'support' => obj(['issues' => 'https://github.com/' . $name . '/issues', 'source' => 'https://github.com/' . $name]),
        'funding' => [obj(['type' => 'github', 'url' => 'https://github.com/sponsors/x'])],
        'time' => '2020-01-01T00:00:00+00:00',
        'autoload' => obj(['psr-4' => obj([ucfirst(word()) . '\\' => 'src/'])]),
        'extra' => obj(['branch-alias' => obj(['dev-main' => '1.x-dev'])]),
        'require' => obj(links(4) + ['php' => '>=7.2']),
        'require-dev' => obj(links(3)),
        'suggest' => obj([pkgname() => 'For ' . word()]),
        'conflict' => obj(links(1)),
        'provide' => obj(['psr/log-implementation' => '1.0|2.0']),
        'replace' => obj(links(1)),
    ];
    foreach (array_keys($v) as $k) {
        if (!in_array($k, ['name', 'version', 'version_normalized', 'dist'], true) && chance(0.2)) {
            unset($v[$k]);
        }
    }
    return $v;
}

function random_bytes_det(int $n): string {
    $s = '';
    for ($i = 0; $i < $n; $i++) {
        $s .= chr(mt_rand(0, 255));
    }
    return $s;
}

// The keys Packagist emits, in its order: a mutated version re-sorts itself into this order, as
// Version::toArray would.
const ORDER = ['name', 'description', 'keywords', 'homepage', 'version', 'version_normalized', 'license',
    'authors', 'source', 'dist', 'type', 'support', 'php-ext', 'funding', 'time', 'autoload', 'extra', 'target-dir',
    'include-path', 'bin', 'default-branch', 'require', 'require-dev', 'suggest', 'conflict', 'provide', 'replace', 'abandoned'];

function in_order(array $v): array {
    $out = [];
    foreach (ORDER as $k) {
        if (array_key_exists($k, $v)) {
            $out[$k] = $v[$k];
        }
    }
    foreach ($v as $k => $val) {
        if (!array_key_exists($k, $out)) {
            $out[$k] = $val;
        }
    }
    return $out;
}

function mutate(array $prev, int $i): array {
    $v = $prev;
    $major = intdiv(1000 - $i, 7);
    $v['version'] = 'v' . $major . '.' . ($i % 7) . '.0';
    $v['version_normalized'] = $major . '.' . ($i % 7) . '.0.0';
    if (isset($v['source'])) {
        $v['source'] = obj(['type' => 'git', 'url' => $v['source']->url, 'reference' => bin2hex(random_bytes_det(20))]);
    }
    $v['dist'] = obj(['type' => 'zip', 'url' => $v['dist']->url, 'reference' => bin2hex(random_bytes_det(20)), 'shasum' => '']);
    if (isset($v['time']) || chance(0.5)) {
        $v['time'] = sprintf('20%02d-%02d-01T00:00:00+00:00', 24 - intdiv($i, 12) % 20, $i % 12 + 1);
    }
    // nested maps: usually unchanged (same value, equal by ===), sometimes edited
    foreach (['require', 'require-dev', 'conflict', 'replace', 'suggest', 'autoload', 'extra', 'support'] as $k) {
        if (!isset($v[$k]) || !chance(0.3)) {
            continue;
        }
        $m = (array) $v[$k];
        switch (mt_rand(0, 3)) {
            case 0: $m[pkgname()] = pick(CONSTRAINTS); break;                 // add (or change) a key
            case 1: if ($m) { unset($m[array_rand($m)]); } break;            // remove a key
            case 2: if ($m) { $m[array_rand($m)] = pick(CONSTRAINTS); } break; // change a value
            case 3: $m = array_reverse($m, true); break;                     // same pairs, new order: !==
        }
        $v[$k] = obj($m);
    }
    if (chance(0.15)) {
        $v['description'] = word() . ' ' . word();
    }
    if (chance(0.1)) {
        $v['keywords'] = array_map(fn () => word(), range(1, mt_rand(0, 3)));
    }
    // optional keys appear and disappear
    foreach (['homepage' => fn () => 'https://example.org/' . word(), 'target-dir' => fn () => 'Acme/' . word(),
                 'bin' => fn () => ['bin/' . word()], 'include-path' => fn () => ['lib/'],
                 'default-branch' => fn () => true, 'abandoned' => fn () => chance(0.5) ? true : pkgname(),
                 'php-ext' => fn () => obj(['priority' => mt_rand(0, 90), 'configure-options' => [obj(['name' => 'with-x'])]]),
                 'funding' => fn () => [obj(['type' => 'custom', 'url' => 'https://x/' . word()])],
                 'extra' => fn () => nested(3)] as $k => $make) {
        if (chance(0.08)) {
            if (isset($v[$k])) {
                unset($v[$k]);
            } else {
                $v[$k] = $make();
            }
        }
    }
    return in_order($v);
}

function realistic_list(): array {
    $name = pkgname();
    $n = mt_rand(0, 3) === 0 ? mt_rand(0, 2) : mt_rand(2, 20);
    $list = [];
    $prev = in_order(base_version($name));
    for ($i = 0; $i < $n; $i++) {
        $list[] = obj($prev);
        $prev = mutate($prev, $i + 1);
    }
    return $list;
}

// ------------------------------------------------------------------------------------------------
// Adversarial lists: PHP quirks of isset(), !==, falsy versions and key order

function adversarial_list(): array {
    $n = mt_rand(1, 8);
    $keys = ['a', 'b', 'c', 'd', '0', '1', '__unset', 'x/y'];
    $list = [];
    for ($i = 0; $i < $n; $i++) {
        $v = [];
        $m = mt_rand(0, 5);
        if (chance(0.15)) {
            $m = 0; // empty version: falsy, so the next one restarts complete
        }
        for ($j = 0; $j < $m; $j++) {
            $k = pick($keys);
            $v[$k] = match (mt_rand(0, 9)) {
                0 => null,
                1 => '__unset',
                2 => pick([1, 1.0, '1', true, 0, 0.0, '', '0', false]),
                3 => chance(0.5) ? new \stdClass() : [],
                4 => obj(['k' => 1, 'l' => 2]),
                5 => obj(['l' => 2, 'k' => 1]),
                6 => obj(['0' => 'a', '1' => 'b']),
                7 => ['a', 'b'],
                default => pick(['v1', 'v2', 'ü', 'a/b']),
            };
        }
        if (chance(0.3) && $list) {
            // reuse the previous version with shuffled key order
            $prev = (array) $list[count($list) - 1];
            $ks = array_keys($prev);
            shuffle_det($ks);
            $v = [];
            foreach ($ks as $k) {
                $v[$k] = $prev[$k];
            }
        }
        $list[] = chance(0.05) && !$v ? [] : obj($v);
    }
    return $list;
}

function shuffle_det(array &$a): void {
    for ($i = count($a) - 1; $i > 0; $i--) {
        $j = mt_rand(0, $i);
        [$a[$i], $a[$j]] = [$a[$j], $a[$i]];
    }
}

function raw_minified_list(): array {
    $n = mt_rand(0, 8);
    $list = [];
    for ($i = 0; $i < $n; $i++) {
        $v = [];
        $m = mt_rand(0, 4);
        for ($j = 0; $j < $m; $j++) {
            $v[pick(['a', 'b', 'c', '0', '7'])] = chance(0.3) ? '__unset' : (chance(0.1) ? null : nested(2));
        }
        $list[] = obj($v);
    }
    return $list;
}

// A value and a near copy of it for (f).
function identical_pair(): array {
    $a = nested(3);
    $b = json_decode(json_encode($a, JSON_PRESERVE_ZERO_FRACTION));
    switch (mt_rand(0, 5)) {
        case 0: break; // same
        case 1: $b = nested(3); break;
        case 2: if (is_object($b)) { $b = obj(array_reverse((array) $b, true)); } break;
        case 3: if (is_int($a)) { $b = (float) $a; } elseif (is_float($a) && floor($a) == $a && abs($a) < 1e15) { $b = (int) $a; } break;
        case 4: if (is_array($b)) { $b = obj($b); } elseif (is_object($b) && count((array) $b) === 0) { $b = []; } break;
        case 5: if (is_string($a)) { $b = $a . ' '; } break;
    }
    return [$a, $b];
}

// ------------------------------------------------------------------------------------------------
// Run

const FLAGS = JSON_PRESERVE_ZERO_FRACTION; // what we send: keeps 1.0 a float
const PACKAGIST_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE;

// Top-level keys of each version sorted: equality up to the key order the minifier does not keep.
function canon(array $list): array {
    foreach ($list as &$v) {
        if (is_array($v)) {
            ksort($v, SORT_STRING);
        }
    }
    return $list;
}

function enc($v): string {
    // Alternate escaped and raw unicode/slashes in what we send; both must parse the same.
    static $n = 0;
    $flags = FLAGS | ((++$n % 2) ? JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE : 0);
    $s = json_encode($v, $flags | JSON_THROW_ON_ERROR);
    return $s;
}

$cases = [];     // each: [kind, input text, decoded input]
for ($i = 0; $i < LISTS; $i++) {
    $t = enc(realistic_list());
    $cases[] = ['realistic', $t, json_decode($t, true)];
}
for ($i = 0; $i < ADVERSARIAL; $i++) {
    $t = enc(adversarial_list());
    $cases[] = ['adversarial', $t, json_decode($t, true)];
}

$requests = [];
$expect = [];    // parallel to $requests: [check, case index, expected value or callable]
foreach ($cases as $ci => [$kind, $text, $in]) {
    $phpMin = MetadataMinifier::minify($in);
    $phpRound = MetadataMinifier::expand($phpMin);
    // exact: PHP's round trip gives the input back; reordered: only top-level key order differs (new
    // keys are appended to the running state); lossy: values are lost (nulls, "__unset" strings).
    $cases[$ci][3] = $phpMin;
    $cases[$ci][4] = $phpRound;
    $cases[$ci][5] = $phpRound === $in ? 'exact' : (canon($phpRound) === canon($in) ? 'reordered' : 'lossy');
    $requests[] = "minify\t" . $text;
    $expect[] = ['a+b', $ci];
    $requests[] = "expand\t" . json_encode($phpMin, FLAGS | JSON_THROW_ON_ERROR);
    $expect[] = ['c', $ci];
    if ($kind === 'adversarial' || $ci % 3 === 0) {
        $requests[] = "encode\t" . $text;
        $expect[] = ['e', json_encode($in, PACKAGIST_FLAGS | JSON_THROW_ON_ERROR)];
        $requests[] = "encode\t" . json_encode($phpMin, FLAGS | JSON_THROW_ON_ERROR);
        $expect[] = ['e', json_encode($phpMin, PACKAGIST_FLAGS | JSON_THROW_ON_ERROR)];
    }
}
for ($i = 0; $i < RAW_MINIFIED; $i++) {
    $t = enc(raw_minified_list());
    $requests[] = "expand\t" . $t;
    $expect[] = ['d', MetadataMinifier::expand(json_decode($t, true))];
}
for ($i = 0; $i < IDENTICAL_PAIRS; $i++) {
    [$a, $b] = identical_pair();
    $ta = enc($a);
    $tb = enc($b);
    $requests[] = "identical\t" . $ta . "\t" . $tb;
    $expect[] = ['f', json_decode($ta, true) === json_decode($tb, true) ? 'true' : 'false', $ta, $tb];
}

$in = tempnam(sys_get_temp_dir(), 'pbcomp');
$out = tempnam(sys_get_temp_dir(), 'pbcomp');
file_put_contents($in, implode("\n", $requests) . "\n");
$rc = 0;
passthru(escapeshellarg($cli) . ' < ' . escapeshellarg($in) . ' > ' . escapeshellarg($out), $rc);
$lines = explode("\n", rtrim(file_get_contents($out), "\n"));
unlink($in);
unlink($out);
if ($rc !== 0 || count($lines) !== count($requests)) {
    fwrite(STDERR, "pb_composer_cli failed (exit $rc, " . count($lines) . ' lines for ' . count($requests) . " requests)\n");
    exit(1);
}

$counts = ['a' => 0, 'b' => 0, 'c' => 0, 'd' => 0, 'e' => 0, 'f' => 0];
$failures = [];
$fail = function (string $check, string $what) use (&$failures) {
    $failures[$check] ??= [];
    if (count($failures[$check]) < 5) {
        $failures[$check][] = $what;
    } else {
        $failures[$check][] = null;
    }
};
$classes = ['exact' => 0, 'reordered' => 0, 'lossy' => 0];
$nonTrivial = 0;

foreach ($lines as $i => $line) {
    $e = $expect[$i];
    $req = substr($requests[$i], 0, 400);
    switch ($e[0]) {
        case 'a+b':
            [$kind, $text, $input, $phpMin, $target, $class] = $cases[$e[1]];
            $ours = json_decode($line, true);
            $counts['a']++;
            if ($ours !== $phpMin) {
                $fail('a', "minify of $req\n  ours: $line\n  php:  " . json_encode($phpMin, FLAGS));
            }
            $counts['b']++;
            $round = MetadataMinifier::expand((array) $ours);
            if ($round !== $target || ($class !== 'lossy' && canon($round) !== canon($input))) {
                $fail('b', "expand(our minify) of $req\n  ours minified: $line");
            }
            $classes[$class]++;
            if (count($input) > 1 && count(array_filter($phpMin, fn ($v) => $v === [])) < count($phpMin) - 1) {
                $nonTrivial++;
            }
            break;
        case 'c':
            [, , $input, , $target, $class] = $cases[$e[1]];
            $counts['c']++;
            $ours = json_decode($line, true);
            if ($ours !== $target || ($class !== 'lossy' && canon($ours) !== canon($input))) {
                $fail('c', "our expand of $req\n  ours: $line\n  want: " . json_encode($target, FLAGS));
            }
            break;
        case 'd':
            $counts['d']++;
            if (json_decode($line, true) !== $e[1]) {
                $fail('d', "our expand of $req\n  ours: $line\n  php:  " . json_encode($e[1], FLAGS));
            }
            break;
        case 'e':
            $counts['e']++;
            if ($line !== $e[1]) {
                $fail('e', "encode of $req\n  ours: $line\n  php:  {$e[1]}");
            }
            break;
        case 'f':
            $counts['f']++;
            if ($line !== $e[1]) {
                $fail('f', "identical {$e[2]} vs {$e[3]}: ours $line, php {$e[1]}");
            }
            break;
    }
}

printf("composer differential (seed %d): %d version lists (%d realistic, %d adversarial)\n", $seed, count($cases), LISTS, ADVERSARIAL);
printf("  PHP's own expand(minify): %d exact, %d equal up to top-level key order, %d lossy (nulls, \"__unset\")\n",
    $classes['exact'], $classes['reordered'], $classes['lossy']);
printf("  (a) minify == MetadataMinifier::minify:        %d\n", $counts['a']);
printf("  (b) PHP expand(our minify) == input:           %d\n", $counts['b']);
printf("  (c) our expand(PHP minify) == input:           %d\n", $counts['c']);
printf("  (d) our expand == PHP expand (raw lists):      %d\n", $counts['d']);
printf("  (e) packagist_json_encode == json_encode:      %d\n", $counts['e']);
printf("  (f) php_identical == ===:                      %d\n", $counts['f']);
printf("  lists whose minified form has real diffs:      %d\n", $nonTrivial);

$ok = true;
foreach ($failures as $check => $list) {
    $ok = false;
    $shown = array_filter($list, fn ($x) => $x !== null);
    fprintf(STDERR, "FAIL (%s): %d mismatches, first %d:\n", $check, count($list), count($shown));
    foreach ($shown as $s) {
        fwrite(STDERR, '  ' . $s . "\n");
    }
}
// Must not pass vacuously.
if ($counts['a'] < 2000 || $counts['c'] < 2000 || $counts['d'] < 500 || $counts['e'] < 2500 || $counts['f'] < 1000
    || $classes['exact'] < 500 || $classes['reordered'] < 500 || $classes['lossy'] < 50 || $nonTrivial < 1000) {
    fwrite(STDERR, "FAIL: too few cases ran\n");
    $ok = false;
}
exit($ok ? 0 : 1);
