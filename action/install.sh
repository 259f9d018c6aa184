#!/usr/bin/env bash
# Step 2: puts bundleguard on PATH: `version: local` (or the wanted version already there) uses
# what is installed; else a release binary verified by checksum; else `cargo install --locked`.
set -euo pipefail
# shellcheck source=action/lib.sh
. "$GITHUB_ACTION_PATH/action/lib.sh"

if [ "$VERSION" = local ]; then
  command -v bundleguard >/dev/null || bg_fail "version: local, but bundleguard is not on PATH"
  echo "using $(bundleguard --version) from $(command -v bundleguard)"
  exit 0
fi
# The default is the version of this action's own source (the commit the workflow pinned).
own=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$GITHUB_ACTION_PATH/Cargo.toml" | head -n 1)
want="${VERSION:-$own}"
[[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || bg_fail "input version must be local or a version like 1.2.3"
if command -v bundleguard >/dev/null && [ "$(bundleguard --version)" = "bundleguard $want" ]; then
  echo "bundleguard $want is already installed"
  exit 0
fi

dest="${RUNNER_TEMP:?}/bundleguard-install"
mkdir -p "$dest/bin"
asset="bundleguard-${want}-x86_64-unknown-linux-gnu.tar.gz"

# Downloads the release asset and its .sha256; 0 = verified, 1 = not available, exits on mismatch.
download_release() {
  [ "${RUNNER_OS:-}" = Linux ] && [ "${RUNNER_ARCH:-}" = X64 ] && [ -n "$REPOSITORY" ] || return 1
  [[ "$REPOSITORY" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || return 1
  local base="https://github.com/${REPOSITORY}/releases/download/v${want}" dir="$dest/download"
  mkdir -p "$dir"
  curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$dir/$asset" "$base/$asset" || return 1
  curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$dir/$asset.sha256" "$base/$asset.sha256" || return 1
  local sum
  sum=$(sed -n '1s/^\([0-9a-f]\{64\}\)\( [ *]'"${asset//./\\.}"'\)\{0,1\}$/\1/p' "$dir/$asset.sha256")
  [ -n "$sum" ] || bg_fail "$asset.sha256 is not a SHA-256 line for $asset: refusing to install"
  # A checksum pinned in this action's source (action/checksums.txt) must agree too.
  local pinned
  pinned=$(awk -v a="$asset" '$2 == a { print $1 }' "$GITHUB_ACTION_PATH/action/checksums.txt")
  if [ -n "$pinned" ] && [ "$pinned" != "$sum" ]; then
    bg_fail "the release checksum of $asset differs from the one pinned in the action: refusing to install"
  fi
  printf '%s  %s\n' "$sum" "$asset" >"$dir/SHA256SUMS"
  (cd "$dir" && sha256sum --strict -c SHA256SUMS) || bg_fail "checksum mismatch for $asset: refusing to install"
  tar -xzf "$dir/$asset" --no-same-owner -C "$dir"
  local bin
  bin=$(find "$dir" -type f -name bundleguard | head -n 1)
  [ -n "$bin" ] || bg_fail "$asset has no bundleguard binary"
  install -m 0755 "$bin" "$dest/bin/bundleguard"
}

if download_release; then
  echo "installed the verified release binary $asset"
elif [ "$own" = "$want" ]; then
  echo "no release binary for this runner: building the action's own source"
  cargo install --locked --root "$dest" --path "$GITHUB_ACTION_PATH"
elif [ -n "$REPOSITORY" ]; then
  echo "no release binary for this runner: building v$want from source"
  cargo install --locked --root "$dest" --git "https://github.com/${REPOSITORY}" --tag "v$want" bundleguard
else
  bg_fail "cannot install bundleguard $want: no release binary and no repository to build from"
fi
echo "$dest/bin" >>"$GITHUB_PATH"
