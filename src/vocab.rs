//! The shared vocabulary of findings: severity [`Level`], the [`FindingKind`]s and their stable
//! [`Code`]s, advisory ids that know their database ([`AdvisoryId`]), and the one
//! [`Diagnostic`] type for warnings and per-file errors. Imports nothing of ours, so every
//! module may use it.

use std::fmt;

/// Severity level, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// Parses a database label (`HIGH`, GHSA's `MODERATE`, Go's `Critical`, ...).
    pub fn from_label(label: &str) -> Option<Level> {
        match label.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Level::Low),
            "medium" | "moderate" => Some(Level::Medium),
            "high" | "important" => Some(Level::High),
            "critical" => Some(Level::Critical),
            _ => None,
        }
    }

    /// CVSS qualitative rating of a base score (v3.x and v4.0 share the bands).
    pub fn from_score(score: f64) -> Option<Level> {
        match score {
            s if s >= 9.0 => Some(Level::Critical),
            s if s >= 7.0 => Some(Level::High),
            s if s >= 4.0 => Some(Level::Medium),
            s if s > 0.0 => Some(Level::Low),
            _ => None,
        }
    }
}

/// The families of findings; reporters group by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// A known advisory affects the package version.
    Vulnerability,
    /// Lambda-specific packaging problems (dev packages shipped, drift, runtime-provided...).
    Hygiene,
    /// Deprecated, yanked, unmaintained or far-behind packages.
    Stale,
    /// Marks of a maintainer takeover or a malicious package.
    Takeover,
    /// Packages a function ships but never uses.
    Unused,
}

impl FindingKind {
    pub const ALL: [FindingKind; 5] = [
        FindingKind::Vulnerability,
        FindingKind::Hygiene,
        FindingKind::Stale,
        FindingKind::Takeover,
        FindingKind::Unused,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Hygiene => "hygiene",
            FindingKind::Stale => "stale",
            FindingKind::Takeover => "takeover",
            FindingKind::Unused => "unused",
        }
    }

    pub fn from_name(name: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A stable finding code, `kind/name` (`hygiene/dev-shipped`, `takeover/install-script-added`).
/// Each check declares its codes as constants; the policy sets a level (or off) per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    /// `text` must be `kind/name` with a known kind; checked by the unit test of every code list.
    pub const fn new(text: &'static str) -> Code {
        Code(text)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The kind named before the `/`.
    pub fn kind(self) -> FindingKind {
        let prefix = self.0.split_once('/').map_or(self.0, |(k, _)| k);
        FindingKind::from_name(prefix).unwrap_or(FindingKind::Hygiene)
    }

    /// The part after the `/` (`dev-shipped`).
    pub fn name(self) -> &'static str {
        self.0.split_once('/').map_or(self.0, |(_, n)| n)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The database an advisory id comes from, read off its prefix once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    Ghsa,
    Cve,
    Pysec,
    Rustsec,
    Go,
    /// OpenSSF malicious-packages records.
    Mal,
    Osv,
    Other,
}

/// An advisory id (`GHSA-...`, `CVE-...`, `RUSTSEC-...`, `MAL-...`) as written in the record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdvisoryId(String);

impl AdvisoryId {
    pub fn new(id: impl Into<String>) -> AdvisoryId {
        AdvisoryId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> IdKind {
        id_kind(&self.0)
    }

    /// Ids compare without case (`ghsa-...` in a policy file names `GHSA-...`).
    pub fn is(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

/// The database an id belongs to, from its prefix.
pub fn id_kind(id: &str) -> IdKind {
    let prefix = id.split('-').next().unwrap_or_default().to_ascii_uppercase();
    match prefix.as_str() {
        "GHSA" => IdKind::Ghsa,
        "CVE" => IdKind::Cve,
        "PYSEC" => IdKind::Pysec,
        "RUSTSEC" => IdKind::Rustsec,
        "GO" => IdKind::Go,
        "MAL" => IdKind::Mal,
        "OSV" => IdKind::Osv,
        _ => IdKind::Other,
    }
}

impl fmt::Display for AdvisoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for AdvisoryId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<AdvisoryId> for &str {
    fn eq(&self, other: &AdvisoryId) -> bool {
        *self == other.0
    }
}

impl AsRef<str> for AdvisoryId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A warning or a per-file error: what (a stable code such as `lockfile/parse`,
/// `db/stale`), where (a path and line when known), and a message for people in a hurry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub code: &'static str,
    /// The file or folder concerned, `/`-separated, when there is one.
    pub path: Option<String>,
    pub line: Option<u32>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, path: None, line: None, message: message.into() }
    }

    pub fn at(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, path: Some(path.into()), line: None, message: message.into() }
    }

    #[must_use]
    pub fn with_line(mut self, line: Option<u32>) -> Diagnostic {
        self.line = line;
        self
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line: message`, or just the message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{p}:{l}: {}", self.message),
            (Some(p), None) => write!(f, "{p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Every lockfile format bundleguard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockfileFormat {
    NpmPackageLock,
    NpmShrinkwrap,
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    PdmLock,
    GoMod,
    CargoLock,
}

impl LockfileFormat {
    /// Stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LockfileFormat::NpmPackageLock => "package-lock.json",
            LockfileFormat::NpmShrinkwrap => "npm-shrinkwrap.json",
            LockfileFormat::YarnLock => "yarn.lock",
            LockfileFormat::PnpmLock => "pnpm-lock.yaml",
            LockfileFormat::Requirements => "requirements.txt",
            LockfileFormat::PoetryLock => "poetry.lock",
            LockfileFormat::PipfileLock => "Pipfile.lock",
            LockfileFormat::UvLock => "uv.lock",
            LockfileFormat::PdmLock => "pdm.lock",
            LockfileFormat::GoMod => "go.mod",
            LockfileFormat::CargoLock => "Cargo.lock",
        }
    }
}

impl fmt::Display for LockfileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a unit deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitKind {
    Function,
    Layer,
    /// A zip or binary scanned on its own, with no template or lockfile around it.
    Artifact,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Function => "function",
            UnitKind::Layer => "layer",
            UnitKind::Artifact => "artifact",
        }
    }
}

/// Where a unit's tree was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TreeSource {
    Lockfile(LockfileFormat),
    Artifact,
    /// A declared function whose tree could not be read (unsupported runtime, no lockfile).
    NotRead,
}

impl TreeSource {
    /// The lockfile's format name (`package-lock.json`, `poetry.lock`), or `artifact`.
    pub fn as_str(self) -> &'static str {
        match self {
            TreeSource::Lockfile(f) => f.as_str(),
            TreeSource::Artifact => "artifact",
            TreeSource::NotRead => "not-read",
        }
    }
}

/// One fact behind a signal (`published_by` = `someone`, `previous_publishers` = `a, b`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    pub name: String,
    pub value: String,
}

impl Evidence {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Evidence {
        Evidence { name: name.into(), value: value.into() }
    }
}

/// For how many packages one signal could be evaluated: "unknown is not clean", so a check
/// whose inputs are missing counts the package as not evaluated, never as passed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Coverage {
    pub code: Code,
    pub evaluated: usize,
    pub total: usize,
    /// Why some were not evaluated (`publisher stripped by the registry mirror`).
    pub reason: Option<String>,
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TreeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_know_their_kind() {
        assert_eq!(Code::new("hygiene/dev-shipped").kind(), FindingKind::Hygiene);
        assert_eq!(Code::new("takeover/too-fresh").kind(), FindingKind::Takeover);
        assert_eq!(Code::new("takeover/too-fresh").name(), "too-fresh");
    }

    #[test]
    fn ids_know_their_database() {
        assert_eq!(AdvisoryId::new("GHSA-xxxx-yyyy-zzzz").kind(), IdKind::Ghsa);
        assert_eq!(AdvisoryId::new("MAL-2025-1234").kind(), IdKind::Mal);
        assert_eq!(AdvisoryId::new("RUSTSEC-2024-0001").kind(), IdKind::Rustsec);
        assert_eq!(AdvisoryId::new("GO-2024-0001").kind(), IdKind::Go);
        assert_eq!(AdvisoryId::new("weird").kind(), IdKind::Other);
        assert!(AdvisoryId::new("GHSA-ab").is("ghsa-AB"));
    }

    #[test]
    fn diagnostics_read_like_compiler_messages() {
        let d = Diagnostic::at("lockfile/parse", "a/package-lock.json", "bad").with_line(Some(3));
        assert_eq!(d.to_string(), "a/package-lock.json:3: bad");
        assert_eq!(Diagnostic::new("db/stale", "old").to_string(), "old");
    }
}
