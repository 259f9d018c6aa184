//! Semantic versions for npm (node-semver's loose grammar, ordered by the `nodejs-semver` crate)
//! and for crates.io (Semantic Versioning 2.0 by the `semver` crate). Build metadata never takes
//! part in ordering.
//!
//! npm: <https://github.com/npm/node-semver#versions> (`semver.clean` + loose mode);
//! crates.io: <https://semver.org/spec/v2.0.0.html>, <https://doc.rust-lang.org/cargo/reference/semver.html>.

use std::borrow::Cow;

/// node-semver's largest major/minor/patch (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Parses an npm version the way `semver.parse(semver.clean(v), { loose: true })` does:
/// leading `=`/`v`, a pre-release without its `-` (`1.2.3beta`), leading zeros. A bare
/// `1` or `1.2` (an OSV `"0"`, a hand-written range bound) is read as `1.0.0` / `1.2.0`; node
/// rejects those, and so do we when anything follows them.
///
/// The version is built from parts we checked rather than by `nodejs_semver::Version::parse`:
/// that parser ignores unparsed suffixes (`1.2.3.4` is `1.2.3`) and caps numbers at
/// 900719925474099 instead of 2^53 - 1. Its ordering is node's, and is what we use.
pub(super) fn parse_npm(trimmed: &str) -> Result<nodejs_semver::Version, String> {
    let rest = trimmed.trim_start_matches(|c: char| c == '=' || c == 'v' || c.is_whitespace());
    // Most versions are a plain `1.2.3`: read at once, as the general path below reads them.
    if let Some([major, minor, patch]) = plain_triple(rest)
        && [major, minor, patch].iter().all(|n| *n <= MAX_SAFE_INTEGER)
    {
        return Ok(nodejs_semver::Version::new(major, minor, patch, Vec::new(), Vec::new()));
    }
    parse_npm_general(rest)
}

/// [`parse_npm`] of any shape, after the leading `=`, `v` and blanks.
fn parse_npm_general(rest: &str) -> Result<nodejs_semver::Version, String> {
    let (core, tail) = split_core(rest);
    let padded = pad_core(core, tail.is_empty())?;
    let [major, minor, patch] = npm_core_numbers(&padded)?;
    let (pre, build) = npm_tail(tail)?;
    let pre = pre.split('.').filter(|id| !id.is_empty()).map(pre_identifier);
    let build = build.split('.').filter(|id| !id.is_empty());
    let build = build.map(|id| nodejs_semver::Identifier::AlphaNumeric(id.to_owned()));
    Ok(nodejs_semver::Version::new(major, minor, patch, pre.collect(), build.collect()))
}

/// The three numbers of `1.2.3` (ASCII digits, leading zeros allowed as npm allows them, and two
/// dots; nothing else); `None` for any other text or a number past `u64`.
fn plain_triple(text: &str) -> Option<[u64; 3]> {
    let mut numbers = [0u64; 3];
    let (mut part, mut digits) = (0, 0);
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {
                numbers[part] = numbers[part].checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                digits += 1;
            }
            b'.' if digits > 0 && part < 2 => (part, digits) = (part + 1, 0),
            _ => return None,
        }
    }
    (part == 2 && digits > 0).then_some(numbers)
}

/// Parses a crates.io version: strict Semantic Versioning 2.0 (no `v`, no leading zeros), except that a bare
/// `0`, `1` or `1.2` is read as `x.0.0` / `x.y.0`.
pub(super) fn parse_crates_io(trimmed: &str) -> Result<semver::Version, String> {
    let (core, tail) = split_core(trimmed);
    let padded = pad_core(core, tail.is_empty())?;
    semver::Version::parse(&format!("{padded}{tail}")).map_err(|e| e.to_string())
}

/// Splits `1.2.3-pre+build` into the leading run of digits and dots and the rest.
pub(super) fn split_core(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    s.split_at(end)
}

/// Pads a one- or two-part numeric core with `.0` when nothing follows it (`alone`). Anything
/// else is returned as is (not copied), to be judged by the full parser.
pub(super) fn pad_core(core: &str, alone: bool) -> Result<Cow<'_, str>, String> {
    if core.is_empty() {
        return Err("expected a version number MAJOR.MINOR.PATCH at the start".to_owned());
    }
    let parts = core.split('.').count();
    if core.split('.').any(str::is_empty) {
        return Err(format!("expected MAJOR.MINOR.PATCH numbers, found {core:?}"));
    }
    match parts {
        1 | 2 if alone => Ok(Cow::Owned(format!("{core}{}", ".0".repeat(3 - parts)))),
        1 | 2 => Err(format!("expected MAJOR.MINOR.PATCH before a pre-release or build, found {core:?}")),
        3 => Ok(Cow::Borrowed(core)),
        _ => Err(format!("expected three numbers MAJOR.MINOR.PATCH, found {parts} in {core:?}")),
    }
}

fn npm_core_numbers(core: &str) -> Result<[u64; 3], String> {
    let mut numbers = [0; 3];
    for (slot, part) in numbers.iter_mut().zip(core.split('.')) {
        *slot = part
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_SAFE_INTEGER)
            .ok_or_else(|| format!("version number {part} is larger than {MAX_SAFE_INTEGER}"))?;
    }
    Ok(numbers)
}

/// node turns an all-digit pre-release identifier into a number (`01` is `1`).
fn pre_identifier(id: &str) -> nodejs_semver::Identifier {
    match id.parse::<u64>() {
        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => nodejs_semver::Identifier::Numeric(n),
        _ => nodejs_semver::Identifier::AlphaNumeric(id.to_owned()),
    }
}

/// Checks `[-]pre.release[+build.meta]` (the `-` is optional in node's loose mode) and returns
/// the pre-release and build parts, each empty when absent.
fn npm_tail(tail: &str) -> Result<(&str, &str), String> {
    let (pre, build) = match tail.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (tail, None),
    };
    let pre = pre.strip_prefix('-').unwrap_or(pre);
    if !(tail.starts_with('+') || tail.is_empty()) {
        check_identifiers(pre, "pre-release")?;
        check_numeric_identifiers_fit(pre)?;
    }
    if let Some(build) = build {
        check_identifiers(build, "build metadata")?;
    }
    Ok((pre, build.unwrap_or_default()))
}

/// node compares an all-digit identifier as a number even past 2^64, the crate as text: refuse
/// those rather than order them differently from npm (no published version has one).
fn check_numeric_identifiers_fit(pre: &str) -> Result<(), String> {
    match pre.split('.').find(|id| id.bytes().all(|b| b.is_ascii_digit()) && id.parse::<u64>().is_err()) {
        Some(id) => Err(format!("numeric pre-release identifier {id} is too large")),
        None => Ok(()),
    }
}

fn check_identifiers(s: &str, what: &str) -> Result<(), String> {
    for ident in s.split('.') {
        if ident.is_empty() {
            return Err(format!("empty {what} identifier in {s:?}"));
        }
        if let Some(bad) = ident.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
            return Err(format!("{what} {s:?} contains {bad:?}; only ASCII letters, digits, '-' and '.' are allowed"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain `1.2.3` path reads exactly what the general path reads (and refuses what it
    /// refuses).
    fn same_as_general(raw: &str) {
        let rest = raw.trim_start_matches(|c: char| c == '=' || c == 'v' || c.is_whitespace());
        assert_eq!(parse_npm(raw), parse_npm_general(rest), "{raw:?}");
    }

    #[test]
    fn plain_versions_read_as_the_general_path_reads_them() {
        for raw in [
            "1.2.3",
            "0.0.0",
            "v1.2.3",
            "=1.2.3",
            "01.002.3",
            "1.2",
            "1",
            "1.2.3.4",
            "1..3",
            ".1.2",
            "1.2.",
            "9007199254740991.0.0",
            "9007199254740992.0.0",
            "99999999999999999999.0.0",
            "1.2.3-rc.1",
            "1.2.3+b",
        ] {
            same_as_general(raw);
        }
    }

    proptest! {
        #[test]
        fn digits_and_dots_read_as_the_general_path_reads_them(raw in "[v=]?[0-9.]{0,24}") {
            same_as_general(&raw);
        }
    }
}
