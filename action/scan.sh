#!/usr/bin/env bash
# Step 6: scans (against the base revision's findings in pull-request mode), writes the SARIF file
# and the step summary, sets the outputs, and exits with the scan's status: 1 exactly when the
# policy fails, 2 when the scan could not be done.
set -euo pipefail
# shellcheck source=action/lib.sh
. "$GITHUB_ACTION_PATH/action/lib.sh"

work="${RUNNER_TEMP:?}/bundleguard-scan"
rm -rf "$work"
mkdir -p "$work" "$(dirname "$SARIF")"
common=(--source "$SOURCE" --fail-on "$FAIL_ON")
[ "$INCLUDE_DEV" = true ] && common+=(--include-dev)
[ -n "$CONFIG" ] && common+=(--config "$CONFIG")

# Scans the base revision ($BASE) in a detached worktree into "$1/base.json" (exit status of
# that scan 0-2 is fine: a partial base report still lists known findings).
scan_base() {
  local dir="$1/base-tree" rev brc=0
  rev=$(git rev-parse -q --verify "${BASE}^{commit}") || {
    git fetch -q --no-tags --depth=1 origin "$BASE" && rev=$(git rev-parse -q --verify "FETCH_HEAD^{commit}")
  } || return 1
  git worktree add -q --detach "$dir" "$rev" || return 1
  (cd "$dir" && bg_untrusted bundleguard --db "$DB" scan "${common[@]}" --no-inventory \
    --format json --output "$1/base.json" -- "$SCAN_PATH") || brc=$?
  git worktree remove --force "$dir" || true
  [ "$brc" -le 2 ] && [ -f "$1/base.json" ]
}

# Pull-request mode: the findings of the base revision, from the same relative path.
baseline=()
if [ -n "$BASE" ]; then
  if scan_base "$work"; then
    baseline=(--baseline "$work/base.json")
  else
    echo "::warning title=bundleguard::could not scan the base revision: every finding gates"
  fi
fi

# A deploy record in the shared inventory (input `inventory`; the secret URL stays in the
# environment, off the command line).
record=()
[ -z "${BUNDLEGUARD_INVENTORY:-}" ] || record=(--record deploy)

rc=0
bg_untrusted bundleguard --db "$DB" scan "${common[@]}" "${baseline[@]}" "${record[@]}" --format "$FORMAT" \
  --report "json=$work/report.json" --report "sarif=$SARIF" --report "markdown=$work/summary.md" \
  -- "$SCAN_PATH" || rc=$?

# The outputs come from the JSON report's top-level keys, matched with their exact indentation
# (a JSON string cannot hold a raw line break, so report text cannot fake these lines).
verdict=$(sed -n 's/^  "verdict": "\(pass\|fail\|incomplete\)",\{0,1\}$/\1/p' "$work/report.json" 2>/dev/null | head -n 1)
findings=$(sed -n 's/^    "findings": \([0-9]\{1,\}\),\{0,1\}$/\1/p' "$work/report.json" 2>/dev/null | head -n 1)
gating=$(sed -n 's/^    "gating": \([0-9]\{1,\}\),\{0,1\}$/\1/p' "$work/report.json" 2>/dev/null | head -n 1)
# An incomplete scan (exit 2 with a report) keeps its own verdict; no report at all is an error.
[ -n "$verdict" ] && { [ "$rc" -le 1 ] || [ "$verdict" = incomplete ]; } || verdict=error
bg_output verdict "$verdict"
bg_output findings "${findings:-0}"
bg_output sarif "$SARIF"

if [ "$SUMMARY" = true ]; then
  if [ -f "$work/summary.md" ]; then
    [ -z "${baseline[*]}" ] || printf '_Pull-request mode: only findings that are new against `%s` gate._\n\n' "$BASE" >>"$GITHUB_STEP_SUMMARY"
    cat "$work/summary.md" >>"$GITHUB_STEP_SUMMARY"
  else
    printf '## bundleguard: could not scan\n\nSee the step log.\n' >>"$GITHUB_STEP_SUMMARY"
  fi
fi
case "$rc" in
  0) ;;
  1) echo "::error title=bundleguard::policy failed: ${gating:-some} findings at or above ${FAIL_ON} gate the deploy" ;;
  *) if [ "$verdict" = incomplete ]; then
       echo "::error title=bundleguard::incomplete scan: files could not be read or packages could not be checked (see the summary); an incomplete scan never passes"
     else
       echo "::error title=bundleguard::the scan could not be completed (exit ${rc}): see the log"
     fi ;;
esac
exit "$rc"
