#!/usr/bin/env bash
# Step 1: validates the inputs and works out the database path and the cache day.
set -euo pipefail
# shellcheck source=action/lib.sh
. "$GITHUB_ACTION_PATH/action/lib.sh"

case "$FAIL_ON" in low | medium | high | critical) ;; *) bg_fail "input fail-on must be low, medium, high or critical" ;; esac
case "$FORMAT" in table | json | markdown) ;; *) bg_fail "input format must be table, json or markdown" ;; esac
bg_bool include-dev "$INCLUDE_DEV"
bg_bool summary "$SUMMARY"
bg_bool db-cache "$DB_CACHE"
case "$SARIF" in "" | -*) bg_fail "input sarif must be a file path" ;; esac
case "$SCAN_PATH" in "" | -*) bg_fail "input path must be a path" ;; esac
case "$BASE" in
  "") ;;
  -* | *..* | *[!A-Za-z0-9._/-]*) bg_fail "input base must be a commit SHA or a branch name" ;;
esac

db="${DB:-${RUNNER_TEMP:?}/bundleguard/advisories.db}"
mkdir -p "$(dirname "$db")"
bg_output db "$db"
bg_output db-dir "$(dirname "$db")"
bg_output day "$(date -u +%Y-%m-%d)"
