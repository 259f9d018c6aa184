#!/usr/bin/env bash
# Are two bundleguard binaries' reports byte-identical? Scans every ../shared/corpus/* folder and
# the README example with both, in json, sarif, cyclonedx, markdown and table, `--offline
# --no-inventory`, and compares each report, the exit code and stderr with `cmp`.
#
# Usage: scripts/compare-reports.sh BEFORE_BIN AFTER_BIN [SHARED_DIR]   (from the repository root)
#
# Three rounds over one database path (so messages that name the file match):
#   before  the database synced by BEFORE_BIN, scanned by BEFORE_BIN;
#   after   the same file scanned by AFTER_BIN (which may migrate it: the upgrade path);
#   fresh   the database synced again by AFTER_BIN, scanned by AFTER_BIN (the ingest path).
# `after` and `fresh` are each compared with `before`. Exit 1 when anything differs.
set -euo pipefail

before=$(realpath "${1:?usage: $0 BEFORE_BIN AFTER_BIN [SHARED_DIR]}")
after=$(realpath "${2:?usage: $0 BEFORE_BIN AFTER_BIN [SHARED_DIR]}")
shared=$(realpath "${3:-../shared}")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export BUNDLEGUARD_NOW=2026-12-01T00:00:00Z BUNDLEGUARD_NO_METADATA=1 NO_COLOR=1
unset BUNDLEGUARD_DB BUNDLEGUARD_SOURCE BUNDLEGUARD_INVENTORY GITHUB_ACTIONS || true
formats=(json sarif cyclonedx markdown table)

# scan ROUND BIN: every target in every format, into $work/ROUND/.
scan() {
    local round=$1 bin=$2 name target db format
    mkdir -p "$work/$round"
    for target in "$shared"/corpus/*/ "$root/fixtures/scan/lambda-repo"; do
        name=$(basename "$target")
        db="$work/db/advisories.db"
        [ "$name" = lambda-repo ] && db="$work/db/demo.db"
        for format in "${formats[@]}"; do
            set +e
            (cd "$root" && "$bin" --db "$db" scan "$target" --offline --no-inventory --format "$format") \
                >"$work/$round/$name.$format" 2>"$work/$round/$name.$format.stderr"
            echo $? >"$work/$round/$name.$format.exit"
            set -e
        done
    done
}

sync_with() {
    rm -rf "$work/db" && mkdir -p "$work/db"
    "$1" --db "$work/db/advisories.db" sync --quiet --source "$shared/osv" >/dev/null
    (cd "$root" && "$1" --db "$work/db/demo.db" sync --quiet --source advisories >/dev/null)
}

sync_with "$before"
scan before "$before"
scan after "$after"
sync_with "$after"
scan fresh "$after"

status=0
for round in after fresh; do
    files=0 differ=0
    for file in "$work/before"/*; do
        files=$((files + 1))
        if ! cmp -s "$file" "$work/$round/$(basename "$file")"; then
            differ=$((differ + 1))
            echo "DIFFERS ($round): $(basename "$file")"
            status=1
        fi
    done
    echo "$round vs before: $files files compared, $differ differ"
done
exit $status
