#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs the Debian packages some tests drive
# when they are missing and we can (root with apt-get), then runs `cargo test --locked` with the
# arguments given. chromium: the HTML report's browser test (tests/it/html.rs, which also
# installs playwright-core under target/ with npm; no browser is ever downloaded). postgresql:
# the inventory tests, which start their own server on 127.0.0.1 (initdb + pg_ctl, as `nobody`
# when root; Debian keeps both in /usr/lib/postgresql/<version>/bin). openssl: the inventory's TLS
# test makes its CA and server certificate with the openssl CLI. Without a package, its tests
# print one "skipped:" line.
set -euo pipefail
cd "$(dirname "$0")/.."

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
have_postgres || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing for the tests: ${missing[*]} (apt-get install)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "not installed and cannot be installed here (needs root and apt-get): ${missing[*]};" \
      "their tests will be skipped"
  fi
fi

exec cargo test --locked "$@"
