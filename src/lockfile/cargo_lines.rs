//! A line reader for the exact layout Cargo writes in `Cargo.lock` (v1 to v4): an optional
//! `version = N`, `[[package]]` tables of `key = "string"` lines and a `dependencies` array of
//! strings, and the v1 `[metadata]` table of `"checksum ..." = "..."` lines.
//! Layout: <https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html> and Cargo's
//! `ops/lockfile.rs` (`serialize_resolve`).
//!
//! Anything else, even valid TOML (escapes, literal strings, inline tables, comments after a
//! value, `[root]`, `[patch]`, `replace`, unknown keys, non-ASCII text), makes [`read`] return
//! `None`, and the caller gives the file to the `cargo-lock` crate, which also gives the error
//! messages. So this reader only has to be right on what it accepts: the differential tests in
//! `cargo.rs` compare both on every fixture and corpus file and on mutated copies.

use std::collections::HashSet;

/// The file, as written.
pub(super) struct LockLines<'a> {
    /// `version = N` at the top (Cargo writes it from v3 on).
    pub(super) version: Option<u32>,
    pub(super) packages: Vec<PackageLines<'a>>,
    /// Whether `[metadata]` has a key starting with `checksum ` (how v1 stores checksums).
    pub(super) metadata_checksums: bool,
}

/// One `[[package]]` table.
#[derive(Default)]
pub(super) struct PackageLines<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) version: Option<&'a str>,
    pub(super) source: Option<&'a str>,
    pub(super) checksum: Option<&'a str>,
    /// `None` when the key is absent (an empty list when written `[]`).
    pub(super) dependencies: Option<Vec<&'a str>>,
}

enum Section {
    Top,
    Package,
    Metadata,
}

/// The file read line by line, or `None` when it is outside the layout.
pub(super) fn read(text: &str) -> Option<LockLines<'_>> {
    if !text.is_ascii() {
        return None;
    }
    let mut out = LockLines { version: None, packages: Vec::new(), metadata_checksums: false };
    let mut section = Section::Top;
    let mut seen_metadata = false;
    let mut metadata_keys: HashSet<&str> = HashSet::new();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    while let Some(line) = lines.next() {
        let trimmed = line.trim_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('[') {
            match trimmed {
                "[[package]]" => {
                    out.packages.push(PackageLines::default());
                    section = Section::Package;
                }
                "[metadata]" if !seen_metadata => {
                    seen_metadata = true;
                    section = Section::Metadata;
                }
                _ => return None,
            }
            continue;
        }
        let (key, value) = trimmed.split_once(" = ")?;
        match section {
            Section::Top => {
                if key != "version" || out.version.is_some() || value.is_empty() || value.len() > 2 {
                    return None;
                }
                if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                out.version = Some(value.parse().ok()?);
            }
            Section::Package => {
                let package = out.packages.last_mut()?;
                if key == "dependencies" {
                    if package.dependencies.is_some() {
                        return None;
                    }
                    package.dependencies = Some(read_array(value, &mut lines)?);
                    continue;
                }
                let slot = match key {
                    "name" => &mut package.name,
                    "version" => &mut package.version,
                    "source" => &mut package.source,
                    "checksum" => &mut package.checksum,
                    _ => return None,
                };
                if slot.is_some() {
                    return None;
                }
                *slot = Some(basic_string(value)?);
            }
            Section::Metadata => {
                let key = basic_string(key)?;
                basic_string(value)?;
                if !metadata_keys.insert(key) {
                    return None;
                }
                out.metadata_checksums |= key.starts_with("checksum ");
            }
        }
    }
    Some(out)
}

/// The content of a `"..."` string without escapes or control characters.
fn basic_string(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    inner.bytes().all(|b| b >= b' ' && b != b'"' && b != b'\\' && b != 0x7f).then_some(inner)
}

/// A `[ "a", "b", ]` array of strings, on one line or over the next lines (one item a line, as
/// Cargo writes it, or several).
fn read_array<'a>(first: &'a str, lines: &mut impl Iterator<Item = &'a str>) -> Option<Vec<&'a str>> {
    let mut items = Vec::new();
    let mut rest = first.strip_prefix('[')?;
    // After `[` or `,` an item or `]` may come; after an item, `,` or `]`.
    let mut after_item = false;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            let line = lines.next()?;
            if line.trim_start().starts_with('#') {
                return None;
            }
            rest = line;
            continue;
        }
        if let Some(after) = rest.strip_prefix(']') {
            return after.trim_matches([' ', '\t']).is_empty().then_some(items);
        }
        if after_item {
            rest = rest.strip_prefix(',')?;
            after_item = false;
            continue;
        }
        let body = rest.strip_prefix('"')?;
        let end = body.find('"')?;
        items.push(basic_string(&rest[..end + 2])?);
        rest = &body[end + 1..];
        after_item = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_layout_cargo_writes() {
        let text = "# generated\nversion = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\n \"b\",\n \"c 1.0.0\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"00\"\ndependencies = [\"c\", \"d\"]\n";
        let lock = read(text).expect("in the layout");
        assert_eq!(lock.version, Some(4));
        assert_eq!(lock.packages.len(), 2);
        assert_eq!(lock.packages[0].dependencies.as_deref(), Some(&["b", "c 1.0.0"][..]));
        assert_eq!(lock.packages[1].dependencies.as_deref(), Some(&["c", "d"][..]));
        assert_eq!(lock.packages[1].checksum, Some("00"));
        assert!(!lock.metadata_checksums);
    }

    #[test]
    fn declines_what_it_does_not_know() {
        for text in [
            "[[package]]\nname = 'a'\n",
            "[[package]]\nname = \"a\\u0041\"\n",
            "[[package]]\nname = \"a\" # c\n",
            "[[package]]\nname = \"a\"\nname = \"b\"\n",
            "[[package]]\nreplace = \"a\"\n",
            "[root]\nname = \"a\"\n",
            "[[patch.unused]]\nname = \"a\"\n",
            "version = 3\nversion = 3\n",
            "version = \"3\"\n",
            "version = 03\n",
            "[[package]]\ndependencies = [\n \"a\"\n \"b\",\n]\n",
            "[[package]]\ndependencies = [,]\n",
            "[[package]]\ndependencies = [\n \"a\",\n",
            "[[package]]\ndependencies = [\n# c\n]\n",
            "[[package]]\ndependencies = [] x\n",
            "[[package]]\nname = \"é\"\n",
            "[metadata]\n\"a\" = \"b\"\n\"a\" = \"c\"\n",
            "[metadata]\n[metadata]\n",
            "name = \"a\"\n",
        ] {
            assert!(read(text).is_none(), "accepted {text:?}");
        }
    }
}
