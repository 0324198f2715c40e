<?php
// Reference for src/versions/sort.cpp, used by differential.php: App\Entity\Package::sortVersions from
// composer/packagist (src/Entity/Package.php, commit 31ecf359), restated over a plain value class so it
// runs without Doctrine. The body keeps Packagist's statements; only the getters became properties
// (getExtra()['branch-alias'][$normalized] is $branchAlias, set only when that key exists).

final class DumpVersion
{
    public function __construct(
        public int $index,
        public string $version,
        public string $normalizedVersion,
        public ?string $branchAlias,
        public bool $defaultBranch,
        public ?DateTimeImmutable $releasedAt,
    ) {
    }
}

function packagist_sort_versions(DumpVersion $a, DumpVersion $b): int
{
    $aVersion = $a->normalizedVersion;
    $bVersion = $b->normalizedVersion;

    // use branch alias for sorting if one is provided
    if ($a->branchAlias !== null) {
        $aVersion = preg_replace('{(.x)?-dev$}', '.9999999-dev', $a->branchAlias);
    }
    if ($b->branchAlias !== null) {
        $bVersion = preg_replace('{(.x)?-dev$}', '.9999999-dev', $b->branchAlias);
    }

    $aVersion = preg_replace('{^dev-.*}', '0.0.0-alpha', $aVersion);
    $bVersion = preg_replace('{^dev-.*}', '0.0.0-alpha', $bVersion);

    // sort default branch first if it is non numeric
    if ($aVersion === '0.0.0-alpha' && $a->defaultBranch) {
        return -1;
    }
    if ($bVersion === '0.0.0-alpha' && $b->defaultBranch) {
        return 1;
    }

    // equal versions are sorted by date
    if ($aVersion === $bVersion) {
        // make sure sort is stable
        if ($a->releasedAt == $b->releasedAt) {
            return $a->normalizedVersion <=> $b->normalizedVersion;
        }

        return $b->releasedAt > $a->releasedAt ? 1 : -1;
    }

    // the rest is sorted by version
    return version_compare($bVersion, $aVersion);
}

/**
 * usort() as V2Dumper::dumpPackageToV2File runs it; returns the input indices in dump order.
 *
 * @param list<DumpVersion> $versions
 * @return list<int>
 */
function packagist_dump_order(array $versions): array
{
    usort($versions, 'packagist_sort_versions');

    return array_map(static fn (DumpVersion $v): int => $v->index, $versions);
}
