<?php
// Shared by the differential tests of src/versions/ (differential.php, constraints_differential.php):
// deterministic generators of version strings (real-world ones and mutations), the escaping of the
// pb_versions_cli protocol (tests/tools/versions_cli.cpp), running the CLI once over every request, and
// comparing its answers with the reference's.

// Any PHP warning inside the reference would make its answer meaningless: fail loudly instead.
set_error_handler(static function (int $no, string $str, string $file, int $line): bool {
    throw new ErrorException($str, 0, $no, $file, $line);
});

/** @return array{string, bool} the CLI's path and --verbose; exits 2 on bad usage */
function cli_args(array $argv, string $script): array
{
    if (count($argv) < 2) {
        fwrite(STDERR, "usage: php $script <pb_versions_cli> [--verbose]\n");
        exit(2);
    }
    $cli = $argv[1];
    if (!is_file($cli) || !is_executable($cli)) {
        fwrite(STDERR, "not an executable: $cli\n");
        exit(2);
    }

    return [$cli, in_array('--verbose', $argv, true)];
}

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

// ---- run the port and compare ------------------------------------------------------------------------
// A case is [op, args, expected output line] plus an optional `true` when the args are escaped already.

/** @return list<string> one answer line per case; exits when the CLI cannot run */
function run_cli(string $cli, array $cases): array
{
    $input = '';
    foreach ($cases as $case) {
        $raw = $case[3] ?? false;
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

    return $lines;
}

/** @return array{list<string>, int, array<string, int>} failures (the first 20 mismatches), mismatches, cases per op */
function compare_answers(array $cases, array $lines): array
{
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
    ksort($per_op);

    return [$failures, $mismatches, $per_op];
}

/** Adds a failure when fewer $what were generated, or fewer of them were valid or invalid, than required. */
function require_generated(array &$failures, string $what, int $count, int $min, int $valid, int $min_valid,
    int $invalid, int $min_invalid): void
{
    if ($count < $min) {
        $failures[] = sprintf('only %d %s generated (< %d)', $count, $what, $min);
    }
    if ($valid < $min_valid || $invalid < $min_invalid) {
        $failures[] = sprintf('not enough valid (%d, need %d) or invalid (%d, need %d) %s',
            $valid, $min_valid, $invalid, $min_invalid, $what);
    }
}

/** Prints the outcome and exits: 1 on any failure, 0 otherwise. */
function finish(array $failures, int $mismatches, string $summary, int $count, bool $verbose, int $seed): never
{
    if ($failures) {
        echo implode("\n", $failures), "\n";
        echo $summary, "\n";
        echo "FAILED: $mismatches mismatches\n";
        exit(1);
    }
    echo $summary, "\n";
    echo 'OK: all ', $count, " results match\n";
    if ($verbose) {
        echo "seed ", $seed, "\n";
    }
    exit(0);
}
