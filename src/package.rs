//! The package vocabulary shared by every stage: ecosystems, normalized package names, scopes and
//! sources. Names are normalized once, when a `PackageName` is built, so comparisons cannot forget.

use std::fmt;

/// The four package ecosystems bundleguard understands, spelled as OSV spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ecosystem {
    Npm,
    PyPI,
    Go,
    CratesIo,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 4] = [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::Go, Ecosystem::CratesIo];

    /// The OSV ecosystem name, which is also the bucket folder name.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::CratesIo => "crates.io",
        }
    }

    /// Parses an OSV ecosystem name. A `:suffix` (as in `Debian:11`) is ignored; matching is
    /// case-insensitive so `pypi` and `crates-io` on a command line work too.
    pub fn from_name(name: &str) -> Option<Ecosystem> {
        let base = name.split(':').next().unwrap_or(name).trim();
        match base.to_ascii_lowercase().as_str() {
            "npm" => Some(Ecosystem::Npm),
            "pypi" => Some(Ecosystem::PyPI),
            "go" | "golang" => Some(Ecosystem::Go),
            "crates.io" | "crates-io" | "cargo" => Some(Ecosystem::CratesIo),
            _ => None,
        }
    }

    /// The package-URL type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::CratesIo => "cargo",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A package name normalized for its ecosystem:
/// - PyPI: PEP 503 (lowercase, runs of `-`, `_`, `.` become one `-`);
/// - npm: lowercase is not applied (npm names are lowercase by rule, legacy ones are kept as is),
///   surrounding whitespace trimmed; scoped names `@scope/name` are kept whole;
/// - Go: module paths are case-sensitive and kept exactly;
/// - crates.io: kept as written (crates.io treats `-`/`_` as equal for uniqueness, but
///   advisories and lockfiles use the published spelling).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName(String);

impl PackageName {
    pub fn new(ecosystem: Ecosystem, raw: &str) -> PackageName {
        let raw = raw.trim();
        match ecosystem {
            Ecosystem::PyPI => PackageName(normalize_pep503(raw)),
            Ecosystem::Npm | Ecosystem::Go | Ecosystem::CratesIo => PackageName(raw.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalized name, without a copy.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// PEP 503: `re.sub(r"[-_.]+", "-", name).lower()`.
fn normalize_pep503(raw: &str) -> String {
    if raw.is_ascii() { normalize_pep503_ascii(raw) } else { normalize_pep503_chars(raw) }
}

/// Whether PEP 503 leaves a (trimmed) name as it is ([`normalize_pep503`] would return it
/// unchanged): no uppercase letter, no `_` or `.`, no run of `-` (a name that is not ASCII is not
/// judged here: `false`). Lets a caller compare a name borrowed instead of building it.
pub(crate) fn pep503_keeps(name: &str) -> bool {
    name.is_ascii() && !name.bytes().any(|c| c.is_ascii_uppercase() || matches!(c, b'_' | b'.')) && !name.contains("--")
}

/// [`normalize_pep503`] of any name, `char` by `char` (Unicode lowercasing).
fn normalize_pep503_chars(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_separator_run = false;
    for c in raw.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    out
}

/// [`normalize_pep503`] of an ASCII name, byte by byte (the per-`char` lowercasing costs a
/// thousand instructions a name; names are looked up for every Python import and requirement).
fn normalize_pep503_ascii(raw: &str) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut in_separator_run = false;
    for &c in raw.as_bytes() {
        if matches!(c, b'-' | b'_' | b'.') {
            if !in_separator_run {
                out.push(b'-');
            }
            in_separator_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator_run = false;
        }
    }
    // ASCII in, ASCII out
    String::from_utf8(out).unwrap_or_default()
}

/// Why a package is installed: what ships (`Prod`) versus what only the developer installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Prod,
    Optional,
    Peer,
    Dev,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Prod => "prod",
            Scope::Optional => "optional",
            Scope::Peer => "peer",
            Scope::Dev => "dev",
        }
    }

    /// Whether the package ships in a production install.
    pub fn ships(self) -> bool {
        !matches!(self, Scope::Dev)
    }
}

/// Where a package comes from. Only registry packages are matched against advisories by version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Registry,
    Git { url: String, rev: Option<String> },
    Path(String),
    Workspace,
    Other(String),
}

/// One installed package: the raw version string is kept, and parsed only where it is compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: PackageName,
    pub version: String,
    pub scope: Scope,
    pub source: Source,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalization() {
        for (raw, want) in [
            ("Django", "django"),
            ("zope.interface", "zope-interface"),
            ("typing_extensions", "typing-extensions"),
            ("Foo__Bar--Baz..qux", "foo-bar-baz-qux"),
            ("ruamel.yaml.clib", "ruamel-yaml-clib"),
            ("  PyYAML ", "pyyaml"),
        ] {
            assert_eq!(PackageName::new(Ecosystem::PyPI, raw).as_str(), want, "{raw}");
        }
    }

    proptest::proptest! {
        #[test]
        fn pep503_keeps_exactly_the_names_it_does_not_change(raw in "[-_.a-zA-Z0-9@/]{0,16}") {
            if pep503_keeps(&raw) {
                proptest::prop_assert_eq!(PackageName::new(Ecosystem::PyPI, &raw).into_string(), raw);
            }
        }

        #[test]
        fn pep503_ascii_path_is_the_char_path(raw in "[-_.a-zA-Z0-9 ~!@]{0,24}") {
            proptest::prop_assert_eq!(normalize_pep503_ascii(&raw), normalize_pep503_chars(&raw));
        }
    }

    #[test]
    fn pep503_keeps_names() {
        assert!(pep503_keeps("left-pad"));
        assert!(pep503_keeps("@scope/x"));
        for changed in ["PyYAML", "zope.interface", "a_b", "a--b", "é"] {
            assert!(!pep503_keeps(changed), "{changed}");
        }
    }

    #[test]
    fn npm_and_go_names_are_kept() {
        assert_eq!(PackageName::new(Ecosystem::Npm, "@aws-sdk/client-s3").as_str(), "@aws-sdk/client-s3");
        assert_eq!(
            PackageName::new(Ecosystem::Go, "github.com/BurntSushi/toml").as_str(),
            "github.com/BurntSushi/toml"
        );
        assert_ne!(
            PackageName::new(Ecosystem::Go, "github.com/BurntSushi/toml"),
            PackageName::new(Ecosystem::Go, "github.com/burntsushi/toml")
        );
    }

    #[test]
    fn ecosystem_names_round_trip() {
        for eco in Ecosystem::ALL {
            assert_eq!(Ecosystem::from_name(eco.as_str()), Some(eco));
        }
        assert_eq!(Ecosystem::from_name("Debian:11"), None);
        assert_eq!(Ecosystem::from_name("PyPI:extra"), Some(Ecosystem::PyPI));
    }
}
