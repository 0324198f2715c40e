<?php
// Differential test of src/versions/constraint.h against composer/semver 3.3.2 (Debian's copy).
//
//   php tests/versions/constraints_differential.php <path to pb_versions_cli> [--verbose]
//
// 1. Generates a deterministic set of constraint strings (mt_srand seed below): real-world constraints
//    from composer.json files and composer/semver's own tests, every form built from parts (^ ~ ~> * x
//    wildcards, hyphen ranges, operators with and without spaces, dev- branches, N.x-dev, @flags in any
//    case, #refs, " as " aliases), AND lists (spaces, commas) and OR lists (| and ||), chains of
//    contiguous ranges (MultiConstraint's collapse), mutations and junk.
// 2. Builds requests from them: parse_constraints; satisfies with versions near the constraint's own
//    numbers and random ones; matches_version with normalized versions and branches; matches between two
//    constraints; match_specific between single constraints; MultiConstraint::create over parsed lists.
// 3. Runs pb_versions_cli once and compares every answer with Composer\Semver's.
// 4. Fails on any mismatch, and when the run could pass vacuously: too few constraints, too few valid or
//    invalid ones (overall and per form), too few true or false answers per operation.

require '/usr/share/php/Composer/Semver/autoload.php';
require __DIR__ . '/lib.php';

use Composer\Semver\Constraint\Constraint;
use Composer\Semver\Constraint\ConstraintInterface;
use Composer\Semver\Constraint\MultiConstraint;
use Composer\Semver\Semver;
use Composer\Semver\VersionParser;

const SEED = 20240608;
const MIN_CONSTRAINTS = 30000;
const MIN_VALID = 12000;
const MIN_INVALID = 5000;
const MIN_VALID_PER_FORM = 150;
const MIN_INVALID_PER_FORM = 20;
const MIN_PER_ANSWER = 1000;  // each of true / false / ERR where the operation can give it

[$cli, $verbose] = cli_args($argv, 'constraints_differential.php');
mt_srand(SEED, MT_RAND_MT19937);

// ---- constraint strings --------------------------------------------------------------------------------

const REAL_CONSTRAINTS = [
    // composer.json files in the wild
    '^1.2', '^2.0', '~2.0|^3.0', '>=7.4 <8.3', '1.0.*', 'dev-main as 1.0.x-dev', '^2.0@beta', '^7.4 || ^8.0',
    '>=7.2.5', '^5.4|^6.0|^7.0', '~3.4.0', '^1.0.0', '*', '@dev', '@stable', 'dev-master', '1.x-dev', '2.0.x-dev',
    '^0.3', '~0.1', '^0.0.1', '>=1.0,<2.0', '>=1.0, <2.0', '>= 1.0 < 2.0', '<1.0 || >=2.0', '!=1.5.0', '<>1.5',
    '==1.0.0', '=1.0.0', 'v1.0.0', '~1.2.3-beta', '^1.0-RC1', '^3.0@RC', '5.*', '5.6.*', '>=5.3.3', 'dev-develop',
    'dev-feature/foo-bar', 'dev-master#abcdef', '1.0.x-dev#abc123', '~1.0@dev', '>=1.0@dev', '^7.1.3', '>=8.1',
    '^10.0|^11.0', '^6.4 || ^7.0', '^4.4|^5.0|^6.0', '~1.0||~2.0', '>=5.5.9', '7.4.*|8.0.*', '^1.0.0 | ^2.0.0',
    '<=3.0@dev', '^2.3.1 || ^3.0', '>=2.6.2,<3.0', '^1.10.0 | ^2.0', '~2.8|~3.0', '^3.4|^4.0|^5.0', '>=7.1',
    '^8.0.2', '^0.12.0', '~5.5.0', 'v2.x-dev', '^1.0@alpha', '^2.0-beta.2', '~1.0.0-RC3', '>=1.0.0-beta1 <1.1',
    '1.0.0 - 1.5.0', '>1.2.3 <=2.0', '<2', '>0', 'dev-trunk', 'master', '@beta', '1.*@dev', '5.x',
    // composer/semver's VersionParserTest, SemverTest and MultiConstraintTest inputs
    'v*', '*.*', 'v*.*', '*.x.*', 'x.X.x.*', '<>1.0.0', '!=1.0.0', '>1.0.0', '<1.2.3.4', '<=1.2.3', '>=1.2.3',
    '=1.2.3', '==1.2.3', '1.2.3', '=1.0', '1.2.3b5', '1.2.3a1', '1.2.3p1234', '1.2.3pl1234', '>= 1.2.3', '< 1.2.3',
    '> 1.2.3', '>=dev-master', 'dev-feature-a', 'dev-some-fix', 'dev-CAPS', 'dev-master as 1.0.0',
    '<1.2.3.4-stable', '>=1.2.3.4-stable', 'v2.*', '2.*.*', '20.*', '20.*.*', '2.0.*', '2.x', '2.x.x', '2.2.x',
    '2.10.X', '2.1.3.*', '0.*', '0.*.*', '0.x', '0.x.x', '~v1', '~1.0', '~1.0.0', '~1.2', '~1.2.3', '~1.2.3.4',
    '~1.2-beta', '~1.2-b2', '~1.2-BETA2', '~1.2.2-dev', '~1.2.2-stable', '~201903.0', '~201903.0-beta',
    '~201903.0-stable', '~201903.205830.1-stable', '~2.x-dev', '~2.0.x-dev', '~2.0.3.x-dev', '~0.x-dev', '^v1',
    '^0', '^0.0', '^1.2.3-beta.2', '^1.2.3.4', '^1.2.3', '^0.2.3', '^0.2', '^0.2.0', '^0.0.3', '^0.0.3-alpha',
    '^0.0.3-dev', '^0.0.3-stable', '^201903.0', '^201903.0-beta', '^201903.205830.1-stable', '^2.x-dev',
    '^2.0.*-dev', '^2.0.x-dev', '^2.0.3.x-dev', '^0.x-dev', 'v1 - v2', '1.2.3 - 2.3.4.5', '1.2-beta - 2.3',
    '1.2-beta - 2.3-dev', '1.2-RC - 2.3.1', '1.2.3-alpha - 2.3-RC', '1 - 2.0', '1 - 2.1', '1.2 - 2.1.0',
    '1.3 - 2.1.3', '2.0.3.x-dev - 3.0.3.x-dev', '2.0.x-dev - 3.0.x-dev', '2.x-dev - 3.x-dev', '0.x-dev - 1.x-dev',
    '3.x-dev', '3-dev', 'dev-3.x', 'xsd2php-dev', '3.next-dev', 'foobar-dev', 'dev-xsd2php', 'dev-3.next',
    'dev-foobar', 'dev-1.0.0-dev<1.0.5-dev', 'dev-1.0.0-dev<1.0.5', 'foobar-dev as 2.1.0',
    'foobar-dev as 2.1.0 || 3.5', 'foobar-dev as 2.1.0 || 3.5 as 1.5', '2.1.0 - 2.3-dev', '1.0 - 2.0.x-dev', '^1.',
    '~1.', '1.2.', '1.2..dev', '1.2-.dev', '1.2_-dev', '~2.5.9|~2.6,>=2.6.2', '>2.0,<=3.0', '>2.0 <=3.0',
    '>2.0  <=3.0', '>2.0, <=3.0', '>2.0 ,<=3.0', '>2.0 , <=3.0', '>2.0   , <=3.0', '> 2.0   <=  3.0',
    '> 2.0  ,  <=  3.0', '  > 2.0  ,  <=  3.0 ', '>=1.1.0-alpha4,<1.2.x-dev', '>=1.1.0-alpha4,<1.2-beta2',
    '>2.0,<2.0.5 | >2.0.6', '>2.0,<2.0.5 || >2.0.6', '> 2.0 , <2.0.5 | >  2.0.6', '>2.0@stable,<=3.0@dev',
    '>2.0@stable,@dev', '>2.0@stable || 0@dev', '', '1.0.0-meh', '>2.0,,<=3.0', '>2.0 ,, <=3.0', '>2.0 ||| <=3.0',
    ',^1@dev || ^4@dev', ',^1@dev', '|| ^1@dev', '^1@dev ||', '^1@dev ,', '^2.0.*', '^2.0.x', '^2.0.x-beta', '^2.*',
    '^2.x', '^2.x-beta', '^2.1.2.*', '^2.1.2.x', '^2.1.2.x-beta', '~2.0.*', '~2.0.x', '~2.0.x-beta', '~2.*', '~2.x',
    '~2.x-beta', '~2.1.2.*', '~2.1.2.x', '~2.1.2.x-beta', '1.x - 2.*', '2.x.x.x-dev - 3.x.x.x-dev', '^1.*-beta-dev',
    '^1. *-dev', '~1.*-beta-dev', '1.0.0-dev<1.0.5-dev', '*-dev', '^', '^8 || ^', '~', '~1 ~', '~>1.2',
    '1.0@dev', '>=1.0@beta', 'dev-load-varnish-only-when-used as ^2.0@dev',
    'dev-load-varnish-only-when-used@dev as ^2.0@dev', '1.0.x-dev#abcd123', '1.0.x-dev#trunk/@123', '1.0#abcd123',
    '1.0#trunk/@123', '~0.1 || ~1.0 !=1.0.1', '^2.5 || ^3.0', '^2.5 || ^3.0 || ^4.0', '~2.5.9 || ~2.6, >=2.6.2',
    '^1.0 || ^2.0 !=2.0.1 || ^3.0 || ^4.0', '^1.0 != 1.0.1 || ^2.0 !=2.0.1 || ^3.0 || ^4.0 != 4.0.1',
    '^0.2 || ^1.0', '^0.1 || ^1.0 || ^2.0', '^1.0 || 2.1 || ^3.0', '7.2.* || 7.4.*', '^7.1.15 || ^7.2.3',
    '1.0.0 - 2.0.0', '^1.2.3+build', '1.2.3+asdf - 2.4.3+asdf', '>1.2', '<=1.2.3', '>=  1.0.0', "<\t2.0.0",
    '0.1.20 || 1.2.4', '>=0.2.3 || <0.0.1', '1.2.x || 2.x', '1.2.* || 2.*', '~1.2.1 >=1.2.3', '~1.2.1 =1.2.3',
    '~1.2.1 1.2.3', '~1.2.1 >=1.2.3 1.2.3', '>=1.2.1 >=1.2.3', '^1.2 ^1', '^0.0.1-alpha', '~v0.5.4-beta',
    '>1.0 <3.0 || >=4.0', '^0.2.0',
    // corners of the port: PHP's truthiness of "0", huge numbers, newlines, $ before a final "\n"
    '0', ' ', '||', '|', ',', ' , ', '0 || 0', '00', '^00.1', '^0.00', '~01.02', '01.*', '^99999999999999999999',
    '~9223372036854775807.1', '^9223372036854775806', '^9223372036854775807', '1.99999999999999999999999.*',
    '12345678901234567890 - 2', "1.0\nfoo", "^1.0\n", "1.0 as 2.0\n", "dev-foo#bar\n", "dev-foo#\n", "~1.0\n@dev",
    "1.0\n||\n2.0", "\f1.0", "1.0\f", "1.0@dev\n", '1.0 as', 'as 1.0', '1.0 as 2.0 as 3.0', '1.0 ,as', 'a s',
    '1.0 -2.0', '1.0- 2.0', '1.0 - - 2.0', '1.0 -  2.0', '>= -1', '> ,1', '1.0,-2.0', '1.0, -2.0', '1.0 ,- 2.0',
    'dev-a#b#c', 'dev-a@b#c', 'DEV-foo#bar', '1.X-DEV#abc', 'v1.x-dev#abc', '@DEV', '@Stable', '1.0@STABLE',
    '>=1.0@STABLE', '<1.0@RC', '>1.0@rc', '!=1.0@beta', '<>1.0@alpha', '==1.0@beta', '1.0-rc1', '<1.0-rc1',
    '<1.0-RC1', '>=1.0-RC', '<1.0-', '>=1.0-dev', '<dev-foo', '>=foo-dev', '<1.0.x-dev', '>=v1.x-dev', 'V*', 'V1.*',
    'v1.*', 'X', '*.X', 'x.*.X', 'vx', 'Vx.*', '~v1.0', '~V1.0', '^V1.0', '1.0.0+build', '>=1.0.0+build',
    '1.0+a - 2.0+b', '1.0 - 2.0+b c', '1.0.*+build', '^1.0+', '~1.0+ab', "^1.0+a\tb",
];

function gen_version_for_constraint(): string
{
    switch (mt_rand(0, 9)) {
        case 0:
        case 1:
        case 2:
        case 3:
            return (chance(10) ? pick(['v', 'V']) : '') . gen_numeric(mt_rand(1, 4));
        case 4:
        case 5:
            return (chance(10) ? 'v' : '') . gen_numeric(mt_rand(1, 4)) . gen_modifier();
        case 6:
            return gen_numeric(mt_rand(1, 3)) . pick(['.x-dev', '.*-dev', '.X-dev', '-dev', '.x', '.*', '.x.x']);
        case 7:
            return gen_numeric(mt_rand(1, 3)) . pick(['-alpha', '-beta2', '-RC1', '-rc.3', '-patch1', '-p2', '-stable', 'b1', '-dev', '-beta.1-dev']);
        case 8:
            return gen_simple();
        default:
            return (string) mt_rand(0, 12) . '.' . mt_rand(0, 12) . (chance(50) ? '.' . mt_rand(0, 12) : '');
    }
}

// A version as people write them in constraints: small numbers, a valid stability now and then.
function gen_clean_version(): string
{
    $s = (string) mt_rand(0, 12);
    $n = mt_rand(0, 2);
    for ($i = 0; $i < $n; $i++) {
        $s .= '.' . mt_rand(0, 20);
    }

    return $s . (chance(15) ? pick(['-dev', '-alpha1', '-beta', '-beta.2', '-RC1', '@dev', '@beta', '.*', '.x-dev']) : '');
}

/** @return array{string, string} a constraint atom that mostly parses */
function gen_clean_atom(): array
{
    switch (mt_rand(0, 6)) {
        case 0: return ['^' . gen_clean_version(), 'caret'];
        case 1: return ['~' . gen_clean_version(), 'tilde'];
        case 2: return [pick(['>=', '<', '<=', '>', '!=', '', '==']) . pick(['', ' ']) . gen_clean_version(), 'comparator'];
        case 3: return [mt_rand(0, 9) . pick(['.*', '.x', '.' . mt_rand(0, 9) . '.*']), 'wildcard'];
        case 4: return [gen_clean_version() . ' - ' . gen_clean_version(), 'hyphen'];
        case 5: return [pick(['dev-main', 'dev-master', '2.x-dev', 'dev-feature/a', '1.0.x-dev']), 'branch'];
        default: return [gen_clean_version(), 'comparator'];
    }
}

const OPERATORS = ['>=', '<', '<=', '>', '!=', '<>', '=', '==', '', '', '', '=>', '=<', '>>', '!', '~=', '==='];

function gen_branch(): string
{
    switch (mt_rand(0, 5)) {
        case 0: return 'dev-' . pick(['main', 'master', 'develop', 'feature/x', 'fix-123', '1.0', '2.x', 'foo_bar', 'CAPS']);
        case 1: return 'dev-' . gen_branch_name();
        case 2: return gen_numeric(mt_rand(1, 3)) . pick(['.x-dev', '-dev', '.*-dev', '.X-DEV']);
        case 3: return pick(['foo', 'bar-baz', 'release/1.0', '3.next', 'xsd2php', 'feature.x']) . '-dev';
        case 4: return pick(['master', 'trunk', 'default', 'main', 'DEV-foo', 'Dev-Bar']);
        default: return gen_wildcard_branch();
    }
}

const FORMS = ['caret', 'tilde', 'wildcard', 'hyphen', 'comparator', 'branch', 'flag', 'ref', 'alias', 'junk'];

/** @return array{string, string} [constraint atom, form] */
function gen_atom(?string $form = null): array
{
    $form ??= pick(FORMS);
    switch ($form) {
        case 'caret':
            return [pick(['^', '^', '^', '^ ', '^^']) . gen_version_for_constraint(), $form];
        case 'tilde':
            return [pick(['~', '~', '~', '~>', '~ ']) . gen_version_for_constraint(), $form];
        case 'wildcard':
            $parts = [];
            $n = mt_rand(0, 3);
            for ($i = 0; $i < $n; $i++) {
                $parts[] = gen_number();
            }
            $m = mt_rand($n === 0 ? 1 : 0, 3);
            for ($i = 0; $i < $m; $i++) {
                $parts[] = pick(['*', 'x', 'X']);
            }
            if (chance(10)) {
                shuffle($parts);
            }

            return [pick(['', '', '', 'v', 'V']) . implode('.', $parts) . (chance(10) ? pick(['-dev', '@dev', '.0', '+b']) : ''), $form];
        case 'hyphen':
            $sp = static fn () => pick([' ', ' ', ' ', '  ', '', "\t"]);

            return [gen_version_for_constraint() . $sp() . '-' . $sp() . gen_version_for_constraint(), $form];
        case 'comparator':
            return [pick(OPERATORS) . pick(['', '', '', ' ', '  ', "\t"]) . (chance(85) ? gen_version_for_constraint() : gen_branch()), $form];
        case 'branch':
            return [gen_branch(), $form];
        case 'flag':
            [$atom] = gen_atom(pick(['caret', 'tilde', 'wildcard', 'comparator', 'branch', 'comparator']));
            $word = pick(['stable', 'RC', 'beta', 'alpha', 'dev', 'STABLE', 'rc', 'Beta', 'ALPHA', 'Dev', 'foo', '']);

            return [(chance(90) ? $atom : '') . '@' . $word, $form];
        case 'ref':
            return [pick([gen_branch(), gen_version_for_constraint(), 'dev-' . gen_branch_name()]) . '#' .
                pick(['abc123', 'trunk/@123', '', 'a b', "x\ny", '#', 'deadbeef', '1.0']), $form];
        case 'alias':
            [$atom] = gen_atom(pick(['branch', 'comparator', 'caret', 'flag']));

            return [$atom . str_repeat(' ', mt_rand(0, 2)) . pick(['as', 'as', 'as', 'AS']) . str_repeat(' ', mt_rand(0, 2)) .
                pick([gen_version_for_constraint(), '1.0.x-dev', 'dev-master', '^2.0@dev', '2.0@dev']), $form];
        default:
            [$atom] = gen_atom(pick(['caret', 'tilde', 'wildcard', 'hyphen', 'comparator', 'branch']));

            return [mutate($atom), 'junk'];
    }
}

const AND_SEPARATORS = [' ', ',', ', ', ' ,', '  ', ' , ', ',,', ', ,', ' ,  '];
const OR_SEPARATORS = ['||', ' || ', '|', ' | ', '  ||  ', '|||', "\t||\n", ' || || '];

// A chain of contiguous (or nearly contiguous) ranges, which MultiConstraint::create collapses.
function gen_chain(): string
{
    $start = mt_rand(0, 8);
    $n = mt_rand(2, 5);
    $parts = [];
    for ($i = 0; $i < $n; $i++) {
        $major = $start + $i + (chance(15) ? 1 : 0);
        switch (mt_rand(0, 6)) {
            case 0: $parts[] = "^$major.0"; break;
            case 1: $parts[] = "~$major.0"; break;
            case 2: $parts[] = "$major.*"; break;
            case 3: $parts[] = ">=$major.0 <" . ($major + 1) . '.0'; break;
            case 4: $parts[] = "^$major.0 !=$major.0.1"; break;
            case 5: $parts[] = "0.$major.*"; break;
            default: $parts[] = "^$major." . mt_rand(0, 3); break;
        }
    }

    return implode(pick([' || ', '|', ' | ']), $parts);
}

/** @return array{string, string} [constraint, form] */
function gen_constraint(): array
{
    $r = mt_rand(0, 99);
    if ($r < 10) {
        return [pick(REAL_CONSTRAINTS), 'real'];
    }
    if ($r < 55) {
        return gen_atom();
    }
    if ($r < 65) {
        return [gen_chain(), 'chain'];
    }
    if ($r < 90) {
        $groups = [];
        $n = mt_rand(1, 3);
        for ($g = 0; $g < $n; $g++) {
            $atoms = [];
            $m = mt_rand(1, 3);
            for ($i = 0; $i < $m; $i++) {
                [$atoms[]] = chance(85) ? gen_clean_atom() : gen_atom();
            }
            $groups[] = implode(pick(AND_SEPARATORS), $atoms);
        }

        return [implode(pick(OR_SEPARATORS), $groups), $n > 1 ? 'or' : 'and'];
    }
    [$c] = gen_constraint();

    return [chance(20) ? pick(WHITESPACE) . $c . pick(WHITESPACE) : mutate($c), 'mutated'];
}

// Long inputs: the port must give PHP's answers and stay linear on them.
function long_constraints(): array
{
    return [str_repeat('^1.0 || ', 300) . '^2.0', str_repeat('>=1 ', 400), str_repeat('1 ', 500) . '- 2',
        'dev-' . str_repeat('#', 400) . 'x', 'dev-' . str_repeat('a#', 300), str_repeat('1.', 300) . 'x-dev#abc',
        '<1.0' . str_repeat('-beta1', 200), '<1' . str_repeat('-1', 300), str_repeat(' ', 300) . '1.0' . str_repeat(',', 300),
        '1' . str_repeat(' ', 500) . '2', '1' . str_repeat(' ', 500) . ',', str_repeat('@', 300) . 'dev', '~' . str_repeat('9', 400),
        '^1.0+' . str_repeat('b', 500), str_repeat('x.', 300) . '*', str_repeat('|', 300), '1.0 - ' . str_repeat('2.', 200) . '0'];
}

$constraints = [];
$forms = [];
foreach (array_merge(REAL_CONSTRAINTS, long_constraints()) as $c) {
    $constraints[] = $c;
    $forms[] = 'real';
}
$seen = array_flip($constraints);
while (count($constraints) < MIN_CONSTRAINTS + 5000) {
    [$c, $form] = gen_constraint();
    if (isset($seen[$c])) {
        continue;
    }
    $seen[$c] = true;
    $constraints[] = $c;
    $forms[] = $form;
}

// ---- versions to match ------------------------------------------------------------------------------------

// Versions around a constraint's own numbers, so that both answers come up: the numbers as given, one
// of them moved by one, with and without a stability; the branches it names.
function near_versions(string $constraint, int $count): array
{
    preg_match_all('{\d+}', $constraint, $m);
    $numbers = array_slice($m[0], 0, 8) ?: ['1'];
    $out = [];
    for ($i = 0; $i < $count; $i++) {
        $start = mt_rand(0, count($numbers) - 1);
        $parts = array_slice($numbers, $start, mt_rand(1, 4));
        if (chance(60)) {
            $k = mt_rand(0, count($parts) - 1);
            $parts[$k] = (string) max(0, (int) $parts[$k] + pick([-1, 1, 1, 0]));
        }
        while (count($parts) < 3 && chance(50)) {
            $parts[] = (string) mt_rand(0, 2);
        }
        $out[] = (chance(5) ? 'v' : '') . implode('.', $parts) .
            (chance(30) ? pick(['-dev', '-alpha', '-beta1', '-RC2', '-patch1', 'b2', '-stable', '.x-dev']) : '');
    }
    if (preg_match_all('{dev-[^\s,|@#]+}i', $constraint, $b)) {
        $out[] = pick($b[0]);
    }

    return $out;
}

const BRANCHES = ['dev-master', 'dev-main', 'dev-foo', 'dev-feature/x', '9999999-dev', 'dev-1.0', 'DEV-foo'];

$parser = new VersionParser();

// ---- reference ---------------------------------------------------------------------------------------------

/** @var list<array{string, list<string>, string}> $cases */
$cases = [];
$stats = ['valid' => 0, 'invalid' => 0];
$form_stats = [];
$answers = [];  // op => answer kind => count

function add(array &$cases, array &$answers, string $op, array $args, string $expected): void
{
    $cases[] = [$op, $args, $expected];
    $kind = str_starts_with($expected, 'ERR ') ? 'ERR' : (str_ends_with($expected, 'true') ? 'true' : (str_ends_with($expected, 'false') ? 'false' : 'value'));
    $answers[$op][$kind] = ($answers[$op][$kind] ?? 0) + 1;
}

/** @return ConstraintInterface|string the parsed constraint or "ERR <message>" */
function parse_ref(VersionParser $parser, string $c)
{
    try {
        return $parser->parseConstraints($c);
    } catch (UnexpectedValueException $e) {
        return 'ERR ' . esc($e->getMessage());
    }
}

function bool_string(bool $b): string
{
    return $b ? 'true' : 'false';
}

$valid = [];        // constraint strings that parse
$normalized = [];   // normalized versions met on the way
foreach ($constraints as $i => $c) {
    $parsed = parse_ref($parser, $c);
    $form = $forms[$i];
    if (is_string($parsed)) {
        add($cases, $answers, 'parse_constraints', [$c], $parsed);
        $stats['invalid']++;
        $form_stats[$form]['invalid'] = ($form_stats[$form]['invalid'] ?? 0) + 1;
    } else {
        add($cases, $answers, 'parse_constraints', [$c], esc((string) $parsed) . "\t" . esc($parsed->getPrettyString()));
        $stats['valid']++;
        $form_stats[$form]['valid'] = ($form_stats[$form]['valid'] ?? 0) + 1;
        $valid[] = $c;
    }

    // Semver::satisfies: mostly near versions, some random ones (valid or not)
    $versions = is_string($parsed) ? [gen_version_for_constraint()] : near_versions($c, mt_rand(1, 3));
    if (chance(30)) {
        $versions[] = chance(50) ? gen_realistic() : pick(REAL_WORLD);
    }
    foreach ($versions as $v) {
        try {
            $expected = bool_string(Semver::satisfies($v, $c));
            $normalized[] = $parser->normalize($v);
        } catch (UnexpectedValueException $e) {
            $expected = 'ERR ' . esc($e->getMessage());
        }
        add($cases, $answers, 'satisfies', [$v, $c], $expected);
    }
}
$normalized = array_values(array_unique(array_merge($normalized, BRANCHES)));

// parseConstraints($c)->matches(new Constraint('==', $normalized)), the per-version path
foreach ($valid as $c) {
    $parsed = $parser->parseConstraints($c);
    $pool = [];
    foreach (near_versions($c, 2) as $v) {
        try {
            $pool[] = $parser->normalize($v);
        } catch (UnexpectedValueException $e) {
        }
    }
    $pool[] = pick($normalized);
    foreach ($pool as $n) {
        add($cases, $answers, 'matches_version', [$c, $n], bool_string($parsed->matches(new Constraint('==', $n))));
    }
}

// one parsed constraint against another
for ($i = 0; $i < 15000; $i++) {
    $a = chance(97) ? pick($valid) : pick($constraints);
    $b = chance(97) ? pick($valid) : pick($constraints);
    $pa = parse_ref($parser, $a);
    $pb = is_string($pa) ? null : parse_ref($parser, $b);
    $expected = is_string($pa) ? $pa : (is_string($pb) ? $pb : bool_string($pa->matches($pb)));
    add($cases, $answers, 'matches', [$a, $b], $expected);
}

// Constraint::matchSpecific between singles, with and without comparable branches
$ops = ['==', '=', '<', '<=', '>', '>=', '!=', '<>'];
for ($i = 0; $i < 10000; $i++) {
    $op1 = pick($ops);
    $op2 = pick($ops);
    $v1 = pick($normalized);
    $v2 = chance(20) ? $v1 : pick($normalized);
    $branches = chance(50);
    $expected = bool_string((new Constraint($op1, $v1))->matchSpecific(new Constraint($op2, $v2), $branches));
    add($cases, $answers, 'match_specific', [$op1, $v1, $op2, $v2, $branches ? '1' : '0'], $expected);
}

// MultiConstraint::create over parsed lists, mostly ranges so that the collapse comes up
$collapsed = 0;
for ($i = 0; $i < 4000; $i++) {
    $parts = [];
    $n = mt_rand(1, 5);
    $major = mt_rand(0, 6);
    for ($k = 0; $k < $n; $k++) {
        $major += chance(75) ? 1 : mt_rand(0, 2);
        $parts[] = chance(80) ? pick(['^', '~', '^', '>=']) . $major . '.' . (chance(70) ? '0' : mt_rand(1, 3)) : pick($valid);
    }
    $conjunctive = chance(20);
    $objects = array_map(static fn ($p) => $parser->parseConstraints($p), $parts);
    $multi = MultiConstraint::create($objects, $conjunctive);
    $size = $multi instanceof MultiConstraint ? count($multi->getConstraints()) : 1;
    if (!$conjunctive && $size < $n) {
        $collapsed++;
    }
    try {
        $v = chance(70) ? $parser->normalize(pick(near_versions(implode(' ', $parts), 1))) : pick($normalized);
    } catch (UnexpectedValueException $e) {
        $v = pick($normalized);
    }
    add($cases, $answers, 'create', array_merge([$conjunctive ? '1' : '0', $v], $parts),
        esc((string) $multi) . "\t" . bool_string($multi->matches(new Constraint('==', $v))));
}

// ---- run the port and compare --------------------------------------------------------------------------

[$failures, $mismatches, $per_op] = compare_answers($cases, run_cli($cli, $cases));
require_generated($failures, 'constraint strings', count($constraints), MIN_CONSTRAINTS,
    $stats['valid'], MIN_VALID, $stats['invalid'], MIN_INVALID);
foreach (array_merge(FORMS, ['chain', 'and', 'or', 'mutated', 'real']) as $form) {
    $v = $form_stats[$form]['valid'] ?? 0;
    $x = $form_stats[$form]['invalid'] ?? 0;
    if ($v < MIN_VALID_PER_FORM && $form !== 'junk') {
        $failures[] = "too few valid '$form' constraints: $v";
    }
    if ($x < MIN_INVALID_PER_FORM && !in_array($form, ['chain', 'wildcard'], true)) {
        $failures[] = "too few invalid '$form' constraints: $x";
    }
}
$expected_kinds = [
    'satisfies' => ['true', 'false', 'ERR'], 'matches_version' => ['true', 'false'], 'matches' => ['true', 'false'],
    'match_specific' => ['true', 'false'], 'create' => ['true', 'false'],
];
foreach ($expected_kinds as $op => $kinds) {
    foreach ($kinds as $kind) {
        if (($answers[$op][$kind] ?? 0) < MIN_PER_ANSWER) {
            $failures[] = sprintf("too few '%s' answers of %s: %d", $kind, $op, $answers[$op][$kind] ?? 0);
        }
    }
}
if ($collapsed < 500) {
    $failures[] = "MultiConstraint::create collapsed ranges only $collapsed times";
}

$summary = sprintf('constraints differential: %d cases from %d constraint strings (%d valid, %d invalid; %d collapsed creates); %s',
    count($cases), count($constraints), $stats['valid'], $stats['invalid'], $collapsed,
    implode(', ', array_map(static fn ($op, $kinds) => $op . ' ' . implode('/', array_map(static fn ($k, $n) => "$k $n",
        array_keys($kinds), $kinds)), array_keys($answers), $answers)));
if ($verbose) {
    ksort($form_stats);
    foreach ($form_stats as $form => $counts) {
        printf("  %-10s valid %5d  invalid %5d\n", $form, $counts['valid'] ?? 0, $counts['invalid'] ?? 0);
    }
}
finish($failures, $mismatches, $summary, count($cases), $verbose, SEED);
