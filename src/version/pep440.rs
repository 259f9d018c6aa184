//! `PyPI` versions: PEP 440 in full (epochs, pre/post/dev releases, local versions, the
//! normalization rules) by `pep440_rs`, which orders `1.0 == 1.0.0` and `1.0+local > 1.0`.
//!
//! Spec: <https://packaging.python.org/en/latest/specifications/version-specifiers/>.

use std::str::FromStr;

/// Parses a PEP 440 version (any spelling PEP 440 normalizes: `V1.0-1`, `1.0.0ALPHA1`, `1.0_rc.2`).
pub(super) fn parse(trimmed: &str) -> Result<pep440_rs::Version, String> {
    let version = pep440_rs::Version::from_str(trimmed).map_err(|e| e.to_string())?;
    // pep440_rs orders a dev release by `dev.unwrap_or(u64::MAX)`, so `.dev18446744073709551615`
    // would be equal to the release without `.dev`, yet hash differently. No real version has it.
    if version.dev() == Some(u64::MAX) {
        return Err(format!("dev release number {} is out of range", u64::MAX));
    }
    Ok(version)
}
