#!/usr/bin/env bash
# Step 5 (after the cache restore): brings the database up to date for the needed ecosystems.
# A restored database syncs incrementally; the sync also re-checks the bundles earlier scans
# recorded (exit 1 = one is newly affected: reported, the scan below gates). A failed sync with a
# database at hand goes on with it (the scan warns when it is stale); without one it fails.
set -euo pipefail
# shellcheck source=action/lib.sh
. "$GITHUB_ACTION_PATH/action/lib.sh"

if [ -z "$ECOSYSTEMS" ]; then
  echo "no lockfiles found under the path: nothing to sync"
  exit 0
fi
rc=0
bg_untrusted bundleguard --db "$DB" sync --source "$SOURCE" --ecosystem "$ECOSYSTEMS" \
  --fail-on "$FAIL_ON" --format markdown --quiet || rc=$?
case "$rc" in
  0) ;;
  1)
    echo "::warning title=bundleguard::newly published advisories affect bundles recorded by earlier scans (see the log)"
    ;;
  *)
    [ -f "$DB" ] || bg_fail "the advisory sync failed and there is no database to scan with" 2
    echo "::warning title=bundleguard::the advisory sync failed: scanning with the database restored from the cache"
    ;;
esac
