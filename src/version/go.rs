//! Go versions, all mapped to semver and compared by precedence (build metadata such as
//! `+incompatible` ignored): module versions with or without the `v` prefix (OSV Go ranges omit
//! it), pseudo-versions (valid semver pre-releases), the `vX` / `vX.Y` shorthands, and toolchain
//! versions of the `stdlib` and `toolchain` packages (`go1.21.3`, `go1.22rc1`, `1.21`).
//!
//! Specs: <https://go.dev/ref/mod#versions>, <https://go.dev/ref/mod#pseudo-versions>,
//! <https://go.dev/doc/toolchain#version>.

use super::semver::{pad_core, split_core};

/// Parses a Go module or toolchain version.
///
/// Toolchain versions map as the Go vulnerability database writes them: `go1.21` and `1.21` are
/// `1.21.0` (Go itself orders the language version `go1.21` before `go1.21rc1`; the database
/// never uses it as a bound), `go1.22rc1` is `1.22.0-rc.1`, `go1.9beta2` is `1.9.0-beta.2`.
pub(super) fn parse(trimmed: &str) -> Result<semver::Version, String> {
    if let Some(rest) = trimmed.strip_prefix("go") {
        return parse_toolchain(rest);
    }
    if let Some(rest) = trimmed.strip_prefix('v') {
        return parse_module(rest);
    }
    let (_, tail) = split_core(trimmed);
    if toolchain_prerelease(tail).is_some() { parse_toolchain(trimmed) } else { parse_module(trimmed) }
}

/// `1.2.3`, `1.2.3-pre+build`, and the shorthands `1` / `1.2` (`v1` == `v1.0.0` in Go).
fn parse_module(rest: &str) -> Result<semver::Version, String> {
    let (core, tail) = split_core(rest);
    let padded = pad_core(core, tail.is_empty())?;
    semver::Version::parse(&format!("{padded}{tail}")).map_err(|e| e.to_string())
}

/// `1`, `1.21`, `1.21.3`, optionally followed by `alphaN`, `betaN` or `rcN`.
fn parse_toolchain(rest: &str) -> Result<semver::Version, String> {
    let (core, tail) = split_core(rest);
    let padded = pad_core(core, true)?;
    let text = if tail.is_empty() {
        padded.into_owned()
    } else {
        let (kind, number) = toolchain_prerelease(tail).ok_or_else(|| {
            format!("expected a Go toolchain version like go1.21.3 or go1.22rc1, found suffix {tail:?}")
        })?;
        format!("{padded}-{kind}.{number}")
    };
    semver::Version::parse(&text).map_err(|e| e.to_string())
}

/// Splits `rc1` into (`rc`, `1`); `None` unless the whole suffix has that shape.
fn toolchain_prerelease(tail: &str) -> Option<(&str, &str)> {
    ["alpha", "beta", "rc"].into_iter().find_map(|kind| {
        let number = tail.strip_prefix(kind)?;
        let digits = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
        digits.then_some((kind, number))
    })
}
