#!/usr/bin/env bash
# Step 3: which ecosystems the scanned lockfiles use, so that only those are synced (and cached).
set -euo pipefail
# shellcheck source=action/lib.sh
. "$GITHUB_ACTION_PATH/action/lib.sh"

deps=$(mktemp "${RUNNER_TEMP:?}/bundleguard-deps.XXXXXX")
bundleguard --db "$DB" deps --format json -- "$SCAN_PATH" >"$deps" 2>/dev/null || true
ecosystems=""
for eco in npm PyPI Go crates.io; do
  if grep -q "^ *\"ecosystem\": \"${eco}\",\$" "$deps"; then
    ecosystems="${ecosystems:+$ecosystems,}$eco"
  fi
done
rm -f "$deps"
echo "ecosystems to sync: ${ecosystems:-none found}"
bg_output ecosystems "$ecosystems"
