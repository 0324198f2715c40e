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
require __DIR__ . '/lib.php';

use Composer\Semver\Comparator;
use Composer\Semver\Constraint\Constraint;
use Composer\Semver\VersionParser;

const SEED = 20240601;
const MIN_VERSION_STRINGS = 20000;
const MIN_VALID = 5000;
const MIN_INVALID = 5000;

[$cli, $verbose] = cli_args($argv, 'differential.php');
mt_srand(SEED, MT_RAND_MT19937);

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

// ---- run the port and compare --------------------------------------------------------------------------

[$failures, $mismatches, $per_op] = compare_answers($cases, run_cli($cli, $cases));
require_generated($failures, 'version strings', count($versions), MIN_VERSION_STRINGS,
    $stats['normalize_valid'], MIN_VALID, $stats['normalize_invalid'], MIN_INVALID);
foreach (['normalize', 'normalize_full', 'normalize_branch', 'parse_stability', 'parse_numeric_alias_prefix',
    'version_compare', 'compare', 'constraint_version_compare', 'sort'] as $op) {
    if (($per_op[$op] ?? 0) < 1000) {
        $failures[] = "too few '$op' cases: " . ($per_op[$op] ?? 0);
    }
}

$summary = sprintf('versions differential: %d cases from %d version strings (%d valid, %d invalid); %s',
    count($cases), count($versions), $stats['normalize_valid'], $stats['normalize_invalid'],
    implode(', ', array_map(static fn ($k, $v) => "$k $v", array_keys($per_op), $per_op)));
finish($failures, $mismatches, $summary, count($cases), $verbose, SEED);
