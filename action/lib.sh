# shellcheck shell=bash
# Helpers shared by the steps of the bundleguard action (sourced, never run on its own).
#
# Advisory text and package names are attacker controlled. Everything that prints them goes through
# `bg_untrusted`, which stops workflow-command processing with a fresh random token for the
# duration and also defangs any line that would otherwise read as a workflow command.

# Prints a fresh random token (32 hex digits) for `::stop-commands::`.
bg_token() {
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# Filter: a line whose first non-blank characters are `::` gets `: :` instead, and `##[` (the
# legacy command prefix, honoured anywhere in a line) becomes `# #[`.
bg_defang() {
  sed -e 's/^\([[:space:]]*\)::/\1: :/' -e 's/##\[/# #[/g'
}

# Runs "$@" with its stdout and stderr printed under `::stop-commands::`; returns its exit status.
bg_untrusted() {
  local token log rc=0
  token=$(bg_token)
  log=$(mktemp "${RUNNER_TEMP:-/tmp}/bundleguard-log.XXXXXX")
  "$@" >"$log" 2>&1 || rc=$?
  echo "::stop-commands::${token}"
  bg_defang <"$log"
  echo "::${token}::"
  rm -f "$log"
  return "$rc"
}

# Prints a workflow error naming the action; the message must be our own text, never input.
bg_fail() {
  echo "::error title=bundleguard::$1"
  exit "${2:-2}"
}

# Appends `name=value` to $GITHUB_OUTPUT; refuses values with line breaks.
bg_output() {
  case "$2" in
    *$'\n'* | *$'\r'*) bg_fail "output $1 would span lines" ;;
  esac
  printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
}

# `true` or `false`, else fails naming the input.
bg_bool() {
  case "$2" in
    true | false) ;;
    *) bg_fail "input $1 must be true or false" ;;
  esac
}
