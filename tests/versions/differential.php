<?php
// Differential test of src/versions/ against composer/semver 3.3.2 and PHP itself.
//
//   php tests/versions/differential.php <path to pb_versions_cli> [--verbose]
//
// 1. Generates a deterministic set of version strings (mt_srand seed below): real-world versions and
//    mutations of them (v/V prefixes, . - _ + : separators, stability words in every case and spelling,
//    leading zeros, 1-5 parts, dates, dev- names, x/X/* wildcards, " as " aliases, @flags, #refs, +build,
//    whitespace and control bytes, empty strings, non-ASCII junk), plus pairs and lists built from them.
// 2. Runs pb_versions_cli once (proc_open) with every request (protocol: tests/tools/versions_cli.cpp).
// 3. Computes the same requests with Composer\Semver (Debian's copy), version_compare() and
//    Packagist's Package::sortVersions (packagist_sort.php).
// 4. Prints the first 20 mismatches and exits 1 on any; prints a summary and exits 0 otherwise. It also
//    fails when the run could pass vacuously (too few cases, too few valid or invalid versions, or a
//    different number of answers than requests).

require '/usr/share/php/Composer/Semver/autoload.php';
require __DIR__ . '/packagist_sort.php';

use Composer\Semver\Comparator;
use Composer\Semver\Constraint\Constraint;
use Composer\Semver\VersionParser;

const SEED = 20240601;
const MIN_VERSION_STRINGS = 20000;
const MIN_VALID = 5000;
const MIN_INVALID = 5000;

if ($argc < 2) {
    fwrite(STDERR, "usage: php differential.php <pb_versions_cli> [--verbose]\n");
    exit(2);
}
$cli = $argv[1];
$verbose = in_array('--verbose', $argv, true);
if (!is_file($cli) || !is_executable($cli)) {
    fwrite(STDERR, "not an executable: $cli\n");
    exit(2);
}

// Any PHP warning inside the reference would make its answer meaningless: fail loudly instead.
set_error_handler(static function (int $no, string $str, string $file, int $line): bool {
    throw new ErrorException($str, 0, $no, $file, $line);
});

mt_srand(SEED, MT_RAND_MT19937);

function pick(array $a)
{
    return $a[mt_rand(0, count($a) - 1)];
}

function chance(int $percent): bool
{
    return mt_rand(1, 100) <= $percent;
}

// ---- version strings -------------------------------------------------------------------------------

const REAL_WORLD = [
    '1.0.0', '1.0', '1', '0', '0.1', 'v1.0.0', 'V2.3.4', '1.2.3.4', '10.20.30.40', '00.01.03.04', '0700',
    '1.0.0-beta1', '1.0.0-beta.11', 'v1.13.11-beta.0', '1.0.0-RC2', '1.0.0rc1', '1.0.0-rC15-dev', '3.1.2-p1',
    '3.1.2-pl2', '3.1.2-patch', '1.0pl3', '1.0.0.pl3-dev', '2.0B1', '1.2.0a1', '1.2_a1', '1.0.0-alpha11+cs-1.1.0',
    '1-2_dev', '1.0.0RC1dev', '1.0.0.RC.15-dev', '10.4.13beta.2', '10.4.13-b5', '1.0.0-stable', '1.0.0-STABLE',
    '1.0.0-stable1', '1.0.0-stable-dev', '2010-01-02', '2010.01.02', '20100102', 'v20100102', '2010-01-02.5',
    '20100102-203040', '20100102.x-dev', '20100102203040-10', '20100102-203040-p1', '201903.0', '201903.x-dev',
    '201903.0-p2', '2010.1.555', '2012.06.07', '2019.05', '2019-05-06T10:20:30', '2019-05-06 10:20:30',
    'dev-master', 'master', 'trunk', 'default', 'dev-trunk', 'dev-default', 'DEV-FOOBAR', 'dev-feature/foo',
    'dev-feature+issue-1', 'dev-041.003', 'dev-1.0.0-dev<1.0.5-dev', 'dev-foo bar', '1.x-dev', '2.1.x-dev',
    '1.0.x-dev', '1.0.3.x-dev', '041.x-dev', '2.0.*-dev', '1.X-dev', 'v1.x-dev', '1.0-dev', '1-dev', '1.2-dev',
    '0.x-dev', 'feature-dev', 'foo bar-dev', 'master-dev', '1.0.0+build.1', '1.0.0+foo', '1.0.0+foo bar',
    '1.0.0-alpha.3.1+foo', '1.0.0-alpha-2.1-3+foo', '1.0.0+foo@dev', '1.0.0-beta.5+foo', '1.0.0+foo as 2.0',
    'dev-master as 1.0.0', 'dev-master as 1.0.x-dev', '1.0 as foo', 'foo as 1.0', ' as ', ' as 1.2',
    'dev-load-varnish-only-when-used@dev as ^2.0@dev', '1.0.0+foo as ^2.0', '<2.0@dev as 1.2.3@dev',
    '1.0.0@dev', '1.0.0@beta', '1.0.0@stable', 'dev-foo@stable', '@dev', 'dev-master#abc123',
    '1.0.x-dev#abcd123', 'v2.0.x-dev#trunk/@123', '1.0#abc', '1.0.0.0.0', '1.2.3.4.5', 'a', 'feature-foo',
    '1.0.0-meh', '1.0.1-SNAPSHOT', '1.0.0<1.0.5-dev', '1.0 .2', '^', '~', '~1', '^1', '1.*', '*', 'x', '5.x',
    '5.*', '>=1.0', '1.0 - 2.0', '1.0 || 2.0', '1.0,2.0', '123456', '12345', '1.0.0-', '1.0.0.', '.1.0',
    '1..0', '1.0.0-dev-dev', '1.0.0--dev', '1.0.0-.dev', '1.0.0.-dev', '1.0.0_dev', '1.0-beta-1', '1.0-beta.-1',
    '1.0.0-alpha.beta', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0-a.b.c', 'v', 'vv1.0', 'v.1', '1e3', '0x1F',
    // PCRE corners: `$` also matches before a final "\n", `.` stops at "\n", \s has \f but trim() does not
    "1.0\n@dev", "1.0-dev\n@dev", "1.0+foo\n@dev", "dev-foo\n@dev", "foo\n1.0-dev", "foo\n1.x-dev\n@dev",
    "1.0\n-dev", "\f1.0", "1.0\f", "1.0\x0b", "1.0\0", "1.0#abc\n", "1.0-beta#x\ny", "1.0\nbeta", "1.0-beta+x\ny",
    "1.0-beta+x\n", "1.0#\n", "1.0##", "#", "#1.2", "1.0 as 2.0\n@dev", "1.0@dev as 2.0@dev", "1.0@DEV as 2.0@Dev",
    "1.", "1-", "1_", "1+", "-1", "+1", ".", "-", "_", "+", "1.0.0.0-dev", "1.0.0.0-beta1-dev",
];

function long_versions(): array
{
    return ['1.0.0.0-' . str_repeat('9', 30), str_repeat('1.', 200) . '1', str_repeat('9', 300), str_repeat('dev', 100),
        str_repeat('a1', 150), str_repeat('-dev', 60), '2010' . str_repeat('01', 20), str_repeat(' as ', 20) . '1.0',
        str_repeat('1-', 100) . 'dev', 'dev-' . str_repeat('x', 500), str_repeat('#', 50) . '1', str_repeat("\n", 30) . '1.0'];
}

const STABILITY_WORDS = [
    'alpha', 'ALPHA', 'Alpha', 'aLpHa', 'a', 'A', 'beta', 'BETA', 'Beta', 'b', 'B', 'RC', 'rc', 'Rc', 'rC',
    'patch', 'PATCH', 'Patch', 'pl', 'PL', 'Pl', 'p', 'P', 'stable', 'STABLE', 'Stable', 'dev', 'DEV', 'Dev',
    'snapshot', 'final', 'ga', 'pre', 'preview', 'r', 'c', 'alph', 'bet', 'pat', 'stab', 'devel', 'rcx', 'ab',
];
const SEPARATORS = ['.', '-', '_', '', '+', ':', '..', '-.', '.-', ' ', '/'];
const WORD_NUMBERS = ['', '', '1', '2', '10', '0', '01', '.1', '-1', '1.2', '.0', '1-3', '.1.2', '-.1', '1..2', '1a'];
const DEV_SUFFIXES = ['-dev', '.dev', 'dev', '_dev', '-DEV', '.Dev', '-.dev', '.-dev', '--dev', ' dev', '-devx', '-de'];
const JUNK = ["\xc3\xa9", "\xef\xbc\x91", "\xff", "\xe2\x80\x8b", "\xf0\x9f\x98\x80", "\0", "\x0b", "\f", "\r", "\n", "\t",
    '#', '@', '!', '?', '<', '>', '=', '~', '^', '|', ',', '(', ')', '[', ']', '{', '}', '"', "'", '\\', '%', '$',
    '&', '*', ';', '`', ' ', 'x', 'X', 'as', 'AS', '..', '--', '++'];
const WHITESPACE = [' ', '  ', "\t", "\n", "\r", "\0", "\x0b", "\f", "\r\n", " \n"];

function gen_number(): string
{
    switch (mt_rand(0, 9)) {
        case 0: return '0';
        case 1: return (string) mt_rand(1, 9);
        case 2: return (string) mt_rand(10, 99);
        case 3: return str_pad((string) mt_rand(0, 99), mt_rand(2, 4), '0', STR_PAD_LEFT);
        case 4: return (string) mt_rand(100, 99999);
        case 5: return (string) mt_rand(100000, 99999999);
        case 6: return pick(['9999999', '2010', '20100102', '000', '00', '12345', '123456']);
        case 7: return (string) mt_rand(0, 3);
        case 8: return str_repeat('9', mt_rand(15, 25));
        default: return (string) mt_rand(0, 20);
    }
}

function gen_numeric(int $parts, string $sep = '.'): string
{
    $p = [];
    for ($i = 0; $i < $parts; $i++) {
        $p[] = gen_number();
    }

    return implode($sep, $p);
}

function gen_modifier(): string
{
    $s = '';
    if (chance(75)) {
        $s .= pick(SEPARATORS) . pick(STABILITY_WORDS) . pick(WORD_NUMBERS);
    }
    if (chance(25)) {
        $s .= pick(DEV_SUFFIXES);
    }

    return $s;
}

function gen_date(): string
{
    $seps = ['', '.', '-', ':', '', '.', '-', ' ', '/', '_'];
    $s = (string) mt_rand(1990, 2030);
    $n = mt_rand(1, 7);
    for ($i = 0; $i < $n; $i++) {
        $s .= pick($seps) . str_pad((string) mt_rand(0, 99), chance(85) ? 2 : mt_rand(1, 4), '0', STR_PAD_LEFT);
    }

    return $s;
}

function gen_branch_name(): string
{
    $chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+#@ ';
    $n = mt_rand(0, 14);
    $s = '';
    for ($i = 0; $i < $n; $i++) {
        $s .= $chars[mt_rand(0, strlen($chars) - 1)];
    }

    return pick(['feature', 'master', 'main', 'fix', 'release-1.0', '1.0', '2.x', 'v3', 'foo', '']) . $s;
}

function gen_wildcard_branch(): string
{
    $parts = [gen_number()];
    $n = mt_rand(0, 4);
    for ($i = 0; $i < $n; $i++) {
        $parts[] = chance(50) ? pick(['x', 'X', '*']) : gen_number();
    }

    return (chance(30) ? pick(['v', 'V']) : '') . implode('.', $parts) . (chance(70) ? pick(DEV_SUFFIXES) : '');
}

function gen_realistic(): string
{
    switch (mt_rand(0, 11)) {
        case 0:
        case 1:
        case 2:
            return (chance(25) ? pick(['v', 'V']) : '') . gen_numeric(mt_rand(1, 5)) . (chance(60) ? gen_modifier() : '');
        case 3:
            return gen_date() . (chance(30) ? gen_modifier() : '');
        case 4:
            return pick(['dev-', 'DEV-', 'Dev-', 'dev-', 'dev-']) . gen_branch_name();
        case 5:
            return gen_wildcard_branch();
        case 6:
            return gen_numeric(mt_rand(1, 4)) . '+' . pick(['build.1', 'foo', 'sha.5114f85', '', 'foo bar', '001', '+', 'a+b']);
        case 7:
            return gen_simple() . str_repeat(' ', mt_rand(0, 3)) . pick(['as', 'as', 'AS', 'As']) . str_repeat(' ', mt_rand(0, 3)) . gen_simple();
        case 8:
            return gen_simple() . '@' . pick(['dev', 'stable', 'RC', 'rc', 'beta', 'alpha', 'DEV', 'Beta', 'foo', '']);
        case 9:
            return gen_simple() . '#' . pick(['abc123', 'trunk/@123', '', 'a b', "x\ny"]);
        case 10:
            return pick(REAL_WORLD);
        default:
            return gen_numeric(mt_rand(1, 5), pick(SEPARATORS)) . (chance(50) ? gen_modifier() : '');
    }
}

function gen_simple(): string
{
    return chance(80) ? pick(REAL_WORLD) : gen_numeric(mt_rand(1, 4)) . (chance(40) ? gen_modifier() : '');
}

function mutate(string $s): string
{
    $rounds = mt_rand(1, 3);
    for ($r = 0; $r < $rounds; $r++) {
        $len = strlen($s);
        switch (mt_rand(0, 9)) {
            case 0: // insert junk
                $p = mt_rand(0, $len);
                $s = substr($s, 0, $p) . pick(JUNK) . substr($s, $p);
                break;
            case 1: // delete a byte
                if ($len > 0) {
                    $p = mt_rand(0, $len - 1);
                    $s = substr($s, 0, $p) . substr($s, $p + 1);
                }
                break;
            case 2: // duplicate a slice
                if ($len > 0) {
                    $p = mt_rand(0, $len - 1);
                    $s = substr($s, 0, $p) . substr($s, $p, mt_rand(1, 4)) . substr($s, $p);
                }
                break;
            case 3: // surround with whitespace
                $s = (chance(50) ? pick(WHITESPACE) : '') . $s . (chance(50) ? pick(WHITESPACE) : '');
                break;
            case 4: // swap case of one byte
                if ($len > 0) {
                    $p = mt_rand(0, $len - 1);
                    $c = $s[$p];
                    $s[$p] = ctype_upper($c) ? strtolower($c) : strtoupper($c);
                }
                break;
            case 5: // replace a separator
                $s = preg_replace_callback('{[._+-]}', static fn () => chance(30) ? pick(SEPARATORS) : '.', $s, 1);
                break;
            case 6: // prefix
                $s = pick(['v', 'V', 'vv', '=', ' ', 'dev-', 'DEV-', '^', '~', 'x', '0', '00']) . $s;
                break;
            case 7: // suffix
                $s .= pick(array_merge(DEV_SUFFIXES, ['@dev', '@stable', '@RC', '@Beta', '#ref', '+meta', ' as 1.0', ' as dev-master', '.x', '.*', '.0', '-', '.', "\n", ' ']));
                break;
            case 8: // truncate
                $s = substr($s, 0, mt_rand(0, $len));
                break;
            default: // replace a digit run
                $s = preg_replace_callback('{\d+}', static fn () => gen_number(), $s, 1);
                break;
        }
    }

    return $s;
}

$versions = array_merge(['', ' ', "\n", "\0"], long_versions());
$seen = array_flip($versions);
while (count($versions) < MIN_VERSION_STRINGS + 4000) {
    $v = chance(45) ? gen_realistic() : mutate(chance(70) ? gen_realistic() : pick(REAL_WORLD));
    if (isset($seen[$v])) {
        continue;
    }
    $seen[$v] = true;
    $versions[] = $v;
}
foreach (REAL_WORLD as $v) {
    if (!isset($seen[$v])) {
        $seen[$v] = true;
        $versions[] = $v;
    }
}

// ---- reference ---------------------------------------------------------------------------------------

$parser = new VersionParser();

function esc(string $s): string
{
    static $map = null;
    if ($map === null) {
        $map = ['\\' => '\\\\', "\n" => '\n', "\t" => '\t', "\r" => '\r'];
        for ($i = 0; $i < 0x20; $i++) {
            $map[chr($i)] ??= sprintf('\x%02x', $i);
        }
        $map["\x7f"] = '\x7f';
    }

    return strtr($s, $map);
}

/** @var list<array{string, list<string>, string}> $cases  [op, args, expected output line] */
$cases = [];
$stats = ['normalize_valid' => 0, 'normalize_invalid' => 0];

function add(array &$cases, string $op, array $args, string $expected): void
{
    $cases[] = [$op, $args, $expected];
}

function normalize_ref(VersionParser $parser, string $v, ?string $full = null): string
{
    try {
        return esc($parser->normalize($v, $full));
    } catch (UnexpectedValueException $e) {
        return 'ERR ' . esc($e->getMessage());
    }
}

$normalized = [];
foreach ($versions as $v) {
    $n = normalize_ref($parser, $v);
    add($cases, 'normalize', [$v], $n);
    if (strncmp($n, 'ERR ', 4) === 0) {
        $stats['normalize_invalid']++;
    } else {
        $stats['normalize_valid']++;
        $normalized[] = $parser->normalize($v);
    }
    add($cases, 'normalize_branch', [$v], esc($parser->normalizeBranch($v)));
    add($cases, 'parse_stability', [$v], VersionParser::parseStability($v));
    $prefix = $parser->parseNumericAliasPrefix($v);
    add($cases, 'parse_numeric_alias_prefix', [$v], $prefix === false ? 'FALSE' : esc($prefix));
}
foreach (array_slice($versions, 0, 2000) as $v) {
    add($cases, 'normalize_default_branch', [$v], esc($parser->normalizeDefaultBranch($v)));
    add($cases, 'normalize_stability', [$v], esc(VersionParser::normalizeStability($v)));
}
foreach (['dev-master', 'dev-default', 'dev-trunk', 'dev-main', 'master', '9999999-dev'] as $v) {
    add($cases, 'normalize_default_branch', [$v], esc($parser->normalizeDefaultBranch($v)));
}
$normalized = array_values(array_unique($normalized));

// normalize($part, $full) as Composer's alias handling calls it, and with unrelated full versions
for ($i = 0; $i < 4000; $i++) {
    $x = chance(50) ? pick($versions) : gen_simple();
    $y = chance(50) ? pick($versions) : gen_simple();
    $full = $x . str_repeat(' ', mt_rand(0, 2)) . pick(['as', 'as', 'AS']) . str_repeat(' ', mt_rand(0, 2)) . $y;
    if (chance(15)) {
        $full = pick($versions);
    }
    $part = pick([$x, $y, $x, $y, trim($x), pick($versions)]);
    add($cases, 'normalize_full', [$part, $full], normalize_ref($parser, $part, $full));
}

// version_compare on raw strings, on normalized versions, and mixed
$branches = ['dev-master', 'dev-foo', 'dev-bar', 'dev-1.0', 'dev-', 'dev-master#abc', 'DEV-foo'];
$norm_pool = array_merge($normalized, $branches);
$compare_pool = static fn () => chance(70) ? pick($norm_pool) : pick($versions);
for ($i = 0; $i < 25000; $i++) {
    $a = $compare_pool();
    $b = chance(20) ? $a : $compare_pool();
    add($cases, 'version_compare', [$a, $b], (string) version_compare($a, $b));
}

// Comparator::compare with every operator, valid or not
$ops = ['<', '<=', '>', '>=', '==', '=', '!=', '<>'];
$bad_ops = ['', '~', '=>', '!', '===', 'lt', 'eq', ' <', '<<'];
for ($i = 0; $i < 20000; $i++) {
    $a = $compare_pool();
    $b = chance(15) ? $a : $compare_pool();
    $op = chance(97) ? pick($ops) : pick($bad_ops);
    try {
        $expected = Comparator::compare($a, $op, $b) ? 'true' : 'false';
    } catch (InvalidArgumentException $e) {
        $expected = 'ERR ' . esc($e->getMessage());
    }
    add($cases, 'compare', [$a, $op, $b], $expected);
}

// Constraint::versionCompare with and without comparable branches (operators as Constraint passes them)
$constraint = new Constraint('==', '1.0.0.0');
for ($i = 0; $i < 5000; $i++) {
    $a = $compare_pool();
    $b = chance(15) ? $a : $compare_pool();
    $op = pick(['<', '<=', '>', '>=', '==', '!=']);
    $with_branches = chance(50);
    $expected = $constraint->versionCompare($a, $b, $op, $with_branches) ? 'true' : 'false';
    add($cases, 'constraint_version_compare', [$a, $b, $op, $with_branches ? "1" : "0"], $expected);
}

// Packagist's dump order
$aliases = ['2.x-dev', '1.0.x-dev', '1.0-dev', '3-dev', '2.1.x-dev', 'foo-dev', 'dev-bar', '0.0.0-alpha', '1.xx-dev',
    '2.0.0', '4.x-dev', '10.x-dev', '1.0.x-dev' . "\n", '9999999-dev', '2.x-DEV', 'ax-dev', '', 'dev-'];
$dates = [null, null, 1500000000, 1500000000, 1600000000, 1600000001, 1700000000, 1];
$sort_pool = array_merge($normalized, $branches, $branches, ['dev-main', 'dev-develop', 'dev-2.x', 'dev-feature/x']);
$sort_count = 0;
for ($i = 0; $i < 2500; $i++) {
    $n = match (true) {
        $i < 5 => mt_rand(1025, 1500),  // zend_sort's five-point pivot
        chance(20) => mt_rand(17, 200),  // its quicksort
        default => mt_rand(1, 16),       // its insertion sorts
    };
    $items = [];
    $has_default = false;
    for ($k = 0; $k < $n; $k++) {
        $norm = pick($sort_pool);
        $alias = chance(15) ? pick($aliases) : null;
        // normally one default branch at most; sometimes more (an inconsistent comparator, see sort.h)
        $default = (!$has_default || chance(3)) && chance(10);
        $has_default = $has_default || $default;
        $released = pick($dates);
        $items[] = new DumpVersion($k, 'v' . $k, $norm, $alias, $default,
            $released === null ? null : new DateTimeImmutable('@' . $released));
    }
    $args = array_map(static fn (DumpVersion $d) => implode("\x1f", [
        esc($d->version), esc($d->normalizedVersion), $d->branchAlias === null ? '' : esc('=' . $d->branchAlias),
        $d->defaultBranch ? '1' : '0', $d->releasedAt === null ? '' : (string) $d->releasedAt->getTimestamp(),
    ]), $items);
    $cases[] = ['sort', $args, implode(' ', packagist_dump_order($items)), true];
    $sort_count++;
}

// ties broken by `$a->normalizedVersion <=> $b->normalizedVersion`, which compares numeric strings as numbers
$numeric_pool = ['1', '01', '1.0', '1e1', '10', ' 1', '1 ', "1\n", '0x1', '9223372036854775807', '9223372036854775808',
    '-9223372036854775808', '-9223372036854775809', '99999999999999999999', '99999999999999999998', '-1', '+1', '.5',
    '5.', '.', 'abc', '1a', '1.0.0.0', '20100102', '20100102.5', '1e400', '-1e400', '-0', '0', '0.0', '1E+2', '100',
    '1e', '1e+', ' ', '', 'dev-1', '2010.01.02', '00', '0.10', '0.1', '0009223372036854775808', '-0009223372036854775808',
    '9223372036854775807 ', '-9223372036854775808 ', '123456789012345678901.5', '1.5e', '1e5', '1e-5', '-.5', '+.5',
    "\t5", "5\t", '1e+5', '00.5', '9223372036854775807.0', '18446744073709551616', '2e400', '1e-400', '-1e-400'];
for ($i = 0; $i < 400; $i++) {
    $n = mt_rand(2, chance(20) ? 40 : 12);
    $items = [];
    for ($k = 0; $k < $n; $k++) {
        $items[] = new DumpVersion($k, 'v' . $k, pick($numeric_pool), '2.0.0', false, null);
    }
    $args = array_map(static fn (DumpVersion $d) => implode("\x1f", [esc($d->version), esc($d->normalizedVersion), '=2.0.0', '0', '']), $items);
    $cases[] = ['sort', $args, implode(' ', packagist_dump_order($items)), true];
}

// ---- run the port --------------------------------------------------------------------------------------

$input = '';
foreach ($cases as $case) {
    $raw = $case[3] ?? false;  // sort items are escaped field by field already
    $input .= $case[0];
    foreach ($case[1] as $arg) {
        $input .= "\t" . ($raw ? $arg : esc($arg));
    }
    $input .= "\n";
}
$tmp = tempnam(sys_get_temp_dir(), 'pbv');
file_put_contents($tmp, $input);
$proc = proc_open([$cli], [0 => ['file', $tmp, 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
if (!is_resource($proc)) {
    fwrite(STDERR, "could not start $cli\n");
    exit(2);
}
$output = stream_get_contents($pipes[1]);
$stderr = stream_get_contents($pipes[2]);
fclose($pipes[1]);
fclose($pipes[2]);
$status = proc_close($proc);
unlink($tmp);
if ($status !== 0) {
    fwrite(STDERR, "$cli exited with status $status\n$stderr");
    exit(1);
}

$lines = explode("\n", $output);
if (end($lines) === '') {
    array_pop($lines);
}

// ---- compare -----------------------------------------------------------------------------------------------

$failures = [];
if (count($lines) !== count($cases)) {
    $failures[] = sprintf('the CLI answered %d lines for %d requests', count($lines), count($cases));
}
$per_op = [];
$mismatches = 0;
foreach ($cases as $i => $case) {
    $per_op[$case[0]] = ($per_op[$case[0]] ?? 0) + 1;
    $got = $lines[$i] ?? '<missing>';
    if ($got !== $case[2]) {
        $mismatches++;
        if ($mismatches <= 20) {
            $shown = ($case[3] ?? false) ? str_replace("\x1f", '|', $case[1]) : array_map('esc', $case[1]);
            $failures[] = sprintf("%s(%s)\n    php: %s\n    c++: %s", $case[0],
                implode(', ', array_map(static fn ($a) => '"' . $a . '"', $shown)), $case[2], $got);
        }
    }
}
if ($mismatches > 20) {
    $failures[] = sprintf('... and %d more mismatches', $mismatches - 20);
}
if (count($versions) < MIN_VERSION_STRINGS) {
    $failures[] = sprintf('only %d version strings generated (< %d)', count($versions), MIN_VERSION_STRINGS);
}
if ($stats['normalize_valid'] < MIN_VALID || $stats['normalize_invalid'] < MIN_INVALID) {
    $failures[] = sprintf('not enough valid (%d, need %d) or invalid (%d, need %d) versions',
        $stats['normalize_valid'], MIN_VALID, $stats['normalize_invalid'], MIN_INVALID);
}
foreach (['normalize', 'normalize_full', 'normalize_branch', 'parse_stability', 'parse_numeric_alias_prefix',
    'version_compare', 'compare', 'constraint_version_compare', 'sort'] as $op) {
    if (($per_op[$op] ?? 0) < 1000) {
        $failures[] = "too few '$op' cases: " . ($per_op[$op] ?? 0);
    }
}

ksort($per_op);
$summary = sprintf('versions differential: %d cases from %d version strings (%d valid, %d invalid); %s',
    count($cases), count($versions), $stats['normalize_valid'], $stats['normalize_invalid'],
    implode(', ', array_map(static fn ($k, $v) => "$k $v", array_keys($per_op), $per_op)));

if ($failures) {
    echo implode("\n", $failures), "\n";
    echo $summary, "\n";
    echo "FAILED: $mismatches mismatches\n";
    exit(1);
}
echo $summary, "\n";
echo 'OK: all ', count($cases), " results match\n";
if ($verbose) {
    echo "seed ", SEED, "\n";
}
exit(0);
