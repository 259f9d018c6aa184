//! The inventory: which functions scans recorded (their packages and the vulnerabilities that
//! affected them), so that a later sync can say which of them new advisories hit. One trait,
//! [`Inventory`], over two backends: the local SQLite file ([`sqlite`], the default) and a shared
//! PostgreSQL server ([`postgres`], for an organisation whose CI jobs record their deploys).
//! Recording a scan ([`record_scan`]) and re-checking every recorded function ([`recheck`]) are
//! written once against the trait.
//!
//! A record is identified by (repository, environment, function) and replaces the previous one
//! of the same identity; replaced records are kept as history for a number of days.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use jiff::Timestamp;

use crate::advisory::store::{Store, StoreError};
use crate::finding::AdvisoryInfo;
use crate::graph::DepGraph;
use crate::matcher::{self, PackageMatches, PackageQuery};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};
use crate::vocab::{Code, FindingKind, Level, UnitKind};

pub mod context;
pub mod git;
pub mod postgres;
pub mod sqlite;

pub use context::RecordContext;

/// How many days replaced records are kept when nobody says otherwise.
pub const DEFAULT_HISTORY_DAYS: u32 = 90;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("inventory {url}: {message}")]
    Postgres { url: String, message: String },
    #[error(
        "inventory {url}: the schema is version {found}, newer than this bundleguard knows ({known}); upgrade bundleguard"
    )]
    TooNew { url: String, found: i64, known: i64 },
}

/// One recorded package of a function, with its scope (prod, dev, optional, peer).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordedPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub scope: Scope,
}

/// One recorded (package, vulnerability) pair of a function, or one recorded stale or takeover
/// signal of a package: then `advisory_id` holds the signal's code (`stale/yanked`), which no
/// advisory id can be (they never contain a `/`), and `aliases` is empty. Both live in the same
/// "known findings" rows, so what a re-check reported is remembered the same way for both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InventoryFinding {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub advisory_id: String,
    pub aliases: Vec<String>,
}

impl InventoryFinding {
    /// The code of a recorded stale or takeover signal; `None` for a vulnerability.
    pub fn risk_code(&self) -> Option<&str> {
        self.advisory_id.contains('/').then_some(self.advisory_id.as_str())
    }

    /// The stable id a report gives this entry: the advisory id, or for a signal
    /// `code:ecosystem/name@version` (`stale/yanked:PyPI/requests@2.19.0`), the same every day
    /// for the same signal on the same package version.
    pub fn report_id(&self) -> String {
        match self.risk_code() {
            Some(code) => risk_id(code, self.ecosystem, &self.name, &self.version),
            None => self.advisory_id.clone(),
        }
    }
}

/// `code:ecosystem/name@version`, the stable id of a stale or takeover signal on one package
/// version (what `sync` reports as `new[].id`).
pub fn risk_id(code: &str, ecosystem: Ecosystem, name: &str, version: &str) -> String {
    format!("{code}:{}/{name}@{version}", ecosystem.as_str())
}

/// What one scan records of one function: every tree the scan read for it (lockfile and
/// artifact), merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    pub function: String,
    /// `function`, `layer` or `artifact`.
    pub kind: String,
    pub runtime: Option<String>,
    /// The lockfiles or artifacts read, `/`-separated, joined with `, `.
    pub path: String,
    /// Sorted, without duplicates.
    pub packages: Vec<RecordedPackage>,
    /// The vulnerabilities found at record time, sorted.
    pub findings: Vec<InventoryFinding>,
}

impl FunctionRecord {
    /// A stable digest of what identifies this deploy's content (not the time): a retry of the
    /// same scan finds the same digest and writes no new history.
    pub fn digest(&self, context: &RecordContext) -> String {
        let mut h = Fnv::default();
        for part in [self.kind.as_str(), self.runtime.as_deref().unwrap_or(""), &self.path] {
            h.write(part);
        }
        h.write(context.commit.as_deref().unwrap_or(""));
        for p in &self.packages {
            for part in [p.ecosystem.as_str(), &p.name, &p.version, p.scope.as_str()] {
                h.write(part);
            }
        }
        format!("{:016x}", h.0)
    }
}

/// FNV-1a over length-prefixed parts: stable across Rust versions, unlike `DefaultHasher`.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, part: &str) {
        for b in part.len().to_le_bytes().iter().chain(part.as_bytes()) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Everything one scan records, written in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRecord {
    pub context: RecordContext,
    /// Sorted by function name (the order in which rows are locked).
    pub functions: Vec<FunctionRecord>,
    /// Replaced records older than this many days are deleted.
    pub history_days: u32,
}

/// Which recorded functions a listing or a `forget` concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub repository: Option<String>,
    pub environment: Option<String>,
    /// A prefix of the function's name or of its recorded path.
    pub prefix: Option<String>,
}

impl Filter {
    pub fn matches(&self, repository: &str, environment: &str, function: &str, path: &str) -> bool {
        self.repository.as_deref().is_none_or(|r| r == repository)
            && self.environment.as_deref().is_none_or(|e| e == environment)
            && self.prefix.as_deref().is_none_or(|p| function.starts_with(p) || path.starts_with(p))
    }
}

/// A recorded function as listed: its current record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryBundle {
    pub record_id: i64,
    pub repository: String,
    pub environment: String,
    pub name: String,
    pub kind: String,
    pub runtime: Option<String>,
    pub path: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub scanned_at: Timestamp,
    pub tool_version: String,
    pub deploy: bool,
    pub packages: usize,
    /// Replaced records of this function still kept as history.
    pub history: usize,
}

/// A current record with what the re-check needs: its packages and its known findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFunction {
    pub record_id: i64,
    pub repository: String,
    pub environment: String,
    pub name: String,
    pub path: String,
    /// One entry per (ecosystem, name, version): `prod` when any recorded scope of it ships,
    /// else `dev`.
    pub packages: Vec<RecordedPackage>,
    /// What the function was last known to have: vulnerabilities, and stale or takeover
    /// signals (see [`InventoryFinding::risk_code`]).
    pub findings: Vec<InventoryFinding>,
}

/// What a backend stores and returns.
pub trait Inventory {
    /// Where the inventory is (a file path or a URL without its password), for messages.
    fn describe(&self) -> String;
    /// Records one scan in one transaction: each function's record replaces the current one of
    /// the same (repository, environment, function); the same content again only refreshes the
    /// time and findings. Rows are locked in function order, so concurrent writers never deadlock.
    fn record(&mut self, scan: &ScanRecord) -> Result<(), InventoryError>;
    /// The current records matching `filter`, by repository, environment, then name.
    fn list(&mut self, filter: &Filter) -> Result<Vec<InventoryBundle>, InventoryError>;
    /// Every current record with its packages and known findings, read in bulk.
    fn load_all(&mut self) -> Result<Vec<RecordedFunction>, InventoryError>;
    /// Replaces the known findings of records (after a re-check), in one transaction. A record
    /// replaced in the meantime keeps the findings of its own scan.
    fn update_findings(&mut self, updates: &[(&RecordedFunction, Vec<InventoryFinding>)])
    -> Result<(), InventoryError>;
    /// Forgets every function (current record and history) matching `filter`; returns how many.
    fn forget(&mut self, filter: &Filter) -> Result<usize, InventoryError>;
}

/// Opens the inventory named by `--inventory` / `BUNDLEGUARD_INVENTORY`: a `postgres://` or
/// `postgresql://` URL is the shared server, any other value a SQLite file, and none the local
/// database file `db`.
pub fn open(url: Option<&str>, db: &Path) -> Result<Box<dyn Inventory>, InventoryError> {
    match url.filter(|u| !u.is_empty()) {
        Some(u) if postgres::is_url(u) => Ok(Box::new(postgres::PgInventory::connect(u)?)),
        Some(path) => Ok(Box::new(Store::open(Path::new(path))?)),
        None => Ok(Box::new(Store::open(db)?)),
    }
}

/// Records every scanned function under `context`, in one transaction.
pub fn record_scan<'a>(
    inventory: &mut dyn Inventory,
    context: &RecordContext,
    scanned: impl IntoIterator<Item = Scanned<'a>>,
    history_days: u32,
) -> Result<(), InventoryError> {
    inventory.record(&scan_record(context, scanned, history_days))
}

/// What a record keeps of one scanned unit. The scan gives it before the policy's judgement,
/// with what the judgement keeps (a code the policy turns off is not recorded), so recording
/// does not wait for the checks whose results are not recorded (unused, hygiene).
#[derive(Debug, Clone)]
pub struct Scanned<'a> {
    pub name: &'a str,
    pub kind: UnitKind,
    pub runtime: Option<&'a str>,
    pub path: &'a str,
    pub graph: &'a DepGraph,
    /// Its vulnerabilities: (package, advisory).
    pub vulnerabilities: Vec<(&'a Package, &'a AdvisoryInfo)>,
    /// Its risk signals that have a package: (code, package); only the stale and takeover ones
    /// are kept ([`is_recheckable`]).
    pub signals: Vec<(Code, &'a Package)>,
}

/// Groups the scanned units by function name: a function read from its lockfile and from its
/// artifact is one record with both package lists.
pub fn scan_record<'a>(
    context: &RecordContext,
    scanned: impl IntoIterator<Item = Scanned<'a>>,
    history_days: u32,
) -> ScanRecord {
    let mut functions: BTreeMap<&str, FunctionRecord> = BTreeMap::new();
    for b in scanned {
        let f = functions.entry(b.name).or_insert_with(|| FunctionRecord {
            function: b.name.to_owned(),
            kind: b.kind.as_str().to_owned(),
            runtime: None,
            path: String::new(),
            packages: Vec::new(),
            findings: Vec::new(),
        });
        if f.runtime.is_none() {
            f.runtime = b.runtime.map(str::to_owned);
        }
        if !f.path.split(", ").any(|p| p == b.path) {
            if !f.path.is_empty() {
                f.path.push_str(", ");
            }
            f.path.push_str(b.path);
        }
        f.packages.extend(b.graph.nodes().iter().filter(|p| p.source == Source::Registry).map(|p| RecordedPackage {
            ecosystem: p.ecosystem,
            name: p.name.as_str().to_owned(),
            version: p.version.clone(),
            scope: p.scope,
        }));
        f.findings.extend(b.vulnerabilities.iter().map(|(p, advisory)| InventoryFinding {
            ecosystem: p.ecosystem,
            name: p.name.as_str().to_owned(),
            version: p.version.clone(),
            advisory_id: advisory.id.as_str().to_owned(),
            aliases: advisory.aliases.clone(),
        }));
        // The stale and takeover signals the scan saw are known too: a re-check reports only
        // what appears after the deploy.
        f.findings.extend(b.signals.iter().filter(|(code, _)| is_recheckable(code.kind())).map(|(code, p)| {
            InventoryFinding {
                ecosystem: p.ecosystem,
                name: p.name.as_str().to_owned(),
                version: p.version.clone(),
                advisory_id: code.as_str().to_owned(),
                aliases: Vec::new(),
            }
        }));
    }
    let functions = functions
        .into_values()
        .map(|mut f| {
            f.packages.sort();
            f.packages.dedup();
            f.findings.sort();
            f.findings.dedup();
            f
        })
        .collect();
    ScanRecord { context: context.clone(), functions, history_days }
}

/// The kinds of risk signal a re-check evaluates again (registry facts change after a deploy;
/// hygiene and unused signals depend only on what was deployed).
pub fn is_recheckable(kind: FindingKind) -> bool {
    matches!(kind, FindingKind::Stale | FindingKind::Takeover)
}

/// What changed for one recorded function after a sync.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryChange {
    pub repository: String,
    pub environment: String,
    pub name: String,
    pub path: String,
    /// Vulnerabilities that newly affect one of its packages.
    pub new: Vec<NewFinding>,
    /// Recorded vulnerabilities that no longer match (withdrawn or removed advisories), and
    /// remembered stale or takeover signals the checks evaluated again and no longer raise
    /// ([`InventoryFinding::risk_code`] tells them apart). Reported once: the row is forgotten.
    pub gone: Vec<InventoryFinding>,
}

/// A vulnerability, or a stale or takeover signal, newly affecting a recorded package.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    /// For a signal, `advisory_id` holds its code ([`InventoryFinding::report_id`] gives the id).
    pub package: InventoryFinding,
    /// The advisory's severity, or the level the policy gives the signal.
    pub severity: Level,
    pub summary: String,
    pub fixed: Vec<String>,
    /// The signal's code; `None` for a vulnerability.
    pub code: Option<Code>,
    /// Only in dev dependencies of the function: reported, never alerts (vulnerabilities are
    /// matched whatever their scope and always alert at their severity, as before).
    pub dev_only: bool,
    /// A signal's status as the policy judged it (`gating`, `below-threshold`, `dev-only`,
    /// `ignored`, `info`): only `gating` alerts. `None` for a vulnerability, which alerts at
    /// its severity.
    pub status: Option<&'static str>,
}

/// A stale or takeover signal a re-check found on a recorded package, as the policy judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentRisk {
    pub code: Code,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub level: Level,
    pub message: String,
    pub dev_only: bool,
    /// The policy's status of the signal ([`crate::finding::Status::as_str`]).
    pub status: &'static str,
}

/// The stale and takeover state of one recorded function now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskState {
    pub current: Vec<CurrentRisk>,
    /// The (ecosystem, name, version, code) the checks could evaluate: registry facts list the
    /// version, every input of the code is known, the package is not allow-listed and the policy
    /// does not turn the code off. A remembered signal evaluated again and not raised is gone;
    /// the others are kept as they were: a registry down for a day (or a mirror stripping a
    /// field) neither clears them nor makes the next day report them again.
    pub evaluated: HashSet<Evaluated>,
}

/// (ecosystem, name, version, code) of one signal evaluated on one package version.
pub type Evaluated = (Ecosystem, String, String, String);

/// The key of a remembered signal in [`RiskState::evaluated`].
fn evaluated_key(f: &InventoryFinding) -> Evaluated {
    (f.ecosystem, f.name.clone(), f.version.clone(), f.advisory_id.clone())
}

/// Evaluates the stale and takeover checks on every recorded function (one [`RiskState`] per
/// function, in the same order). The scan pipeline provides it (`scan::resync`): the inventory
/// only remembers and compares.
pub type RiskCheck<'a> = dyn Fn(&[RecordedFunction]) -> Vec<RiskState> + 'a;

/// Re-matches every recorded function against the advisories (each unique package once, the
/// inventory read in bulk) and returns, per function, the vulnerabilities that appeared or
/// disappeared since it was last checked; the inventory then remembers the new state, so the
/// next re-check does not report the same news again.
pub fn recheck(
    inventory: &mut dyn Inventory,
    advisories: &Store,
    unknown_severity: Level,
) -> Result<Vec<InventoryChange>, InventoryError> {
    recheck_with(inventory, advisories, unknown_severity, None)
}

/// [`recheck`], and with `risk` the stale and takeover signals too: a signal not known for the
/// function before is news (reported once, then remembered like a vulnerability). Without
/// `risk` the remembered signals are kept as they are.
pub fn recheck_with(
    inventory: &mut dyn Inventory,
    advisories: &Store,
    unknown_severity: Level,
    risk: Option<&RiskCheck<'_>>,
) -> Result<Vec<InventoryChange>, InventoryError> {
    let recorded = inventory.load_all()?;
    let matches = matcher::match_unique(
        advisories,
        recorded.iter().flat_map(|r| &r.packages).map(|p| query(p.ecosystem, &p.name, &p.version)),
    )?;
    let risks = risk.map(|check| check(&recorded));
    let mut changes = Vec::new();
    let mut updates = Vec::new();
    for (i, r) in recorded.iter().enumerate() {
        let known_vulns: Vec<InventoryFinding> =
            r.findings.iter().filter(|f| f.risk_code().is_none()).cloned().collect();
        let (mut current, mut new) = compare(&known_vulns, &r.packages, &matches, unknown_severity);
        let gone: Vec<InventoryFinding> =
            known_vulns.iter().filter(|k| !current.iter().any(|c| same_finding(k, c))).cloned().collect();
        let known_risks: Vec<&InventoryFinding> = r.findings.iter().filter(|f| f.risk_code().is_some()).collect();
        let (risk_rows, new_risks, gone_risks) = match risks.as_ref().and_then(|all| all.get(i)) {
            Some(state) => compare_risks(&known_risks, state),
            None => (known_risks.iter().map(|f| (*f).clone()).collect(), Vec::new(), Vec::new()),
        };
        let risks_changed = risk_rows.len() != known_risks.len() || !new_risks.is_empty();
        new.extend(new_risks);
        let mut gone = gone;
        gone.extend(gone_risks);
        current.extend(risk_rows);
        current.sort();
        if !new.is_empty() || !gone.is_empty() || risks_changed {
            new.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.package.cmp(&b.package)));
            if !new.is_empty() || !gone.is_empty() {
                changes.push(InventoryChange {
                    repository: r.repository.clone(),
                    environment: r.environment.clone(),
                    name: r.name.clone(),
                    path: r.path.clone(),
                    new,
                    gone,
                });
            }
            updates.push((r, current));
        }
    }
    // Locked in the order writers lock: (repository, environment, function).
    updates.sort_by(|a, b| {
        (&a.0.repository, &a.0.environment, &a.0.name).cmp(&(&b.0.repository, &b.0.environment, &b.0.name))
    });
    inventory.update_findings(&updates)?;
    changes.sort_by(|a, b| (&a.repository, &a.environment, &a.name).cmp(&(&b.repository, &b.environment, &b.name)));
    Ok(changes)
}

/// The signals to remember for a function (those found now, plus the remembered ones that could
/// not be evaluated), those among them not known before, and the remembered ones evaluated again
/// and no longer raised (gone: unknown is not clean, so a signal that could not be evaluated is
/// never gone).
fn compare_risks(
    known: &[&InventoryFinding],
    state: &RiskState,
) -> (Vec<InventoryFinding>, Vec<NewFinding>, Vec<InventoryFinding>) {
    let raised = |k: &InventoryFinding| {
        state.current.iter().any(|c| {
            c.ecosystem == k.ecosystem && c.name == k.name && c.version == k.version && c.code.as_str() == k.advisory_id
        })
    };
    let (mut keep, mut gone) = (Vec::new(), Vec::new());
    for k in known {
        if !state.evaluated.contains(&evaluated_key(k)) {
            keep.push((*k).clone());
        } else if !raised(k) {
            gone.push((*k).clone());
        }
    }
    let mut new = Vec::new();
    for c in &state.current {
        let row = InventoryFinding {
            ecosystem: c.ecosystem,
            name: c.name.clone(),
            version: c.version.clone(),
            advisory_id: c.code.as_str().to_owned(),
            aliases: Vec::new(),
        };
        if keep.contains(&row) {
            continue;
        }
        if !known.contains(&&row) {
            new.push(NewFinding {
                package: row.clone(),
                severity: c.level,
                summary: c.message.clone(),
                fixed: Vec::new(),
                code: Some(c.code),
                dev_only: c.dev_only,
                status: Some(c.status),
            });
        }
        keep.push(row);
    }
    gone.sort();
    (keep, new, gone)
}

fn query(eco: Ecosystem, name: &str, version: &str) -> PackageQuery {
    PackageQuery { ecosystem: eco, name: PackageName::new(eco, name), version: version.to_owned() }
}

/// The current findings of a function's packages, and those among them not known before.
fn compare(
    known: &[InventoryFinding],
    packages: &[RecordedPackage],
    matches: &HashMap<PackageQuery, PackageMatches>,
    unknown_severity: Level,
) -> (Vec<InventoryFinding>, Vec<NewFinding>) {
    let mut current = Vec::new();
    let mut new = Vec::new();
    for RecordedPackage { ecosystem, name, version, .. } in packages {
        let Some(found) = matches.get(&query(*ecosystem, name, version)) else { continue };
        for v in &found.vulnerabilities {
            let f = InventoryFinding {
                ecosystem: *ecosystem,
                name: name.clone(),
                version: version.clone(),
                advisory_id: v.id.clone(),
                aliases: v.aliases.clone(),
            };
            if current.iter().any(|c| same_finding(c, &f)) {
                continue;
            }
            if !known.iter().any(|r| same_finding(r, &f)) {
                let malicious = crate::finding::is_malicious(&v.id, &v.aliases);
                let severity = crate::policy::effective_severity(v.severity.level, malicious, unknown_severity);
                new.push(NewFinding {
                    package: f.clone(),
                    severity,
                    summary: v.summary.clone(),
                    fixed: v.fixed.clone(),
                    code: None,
                    dev_only: false,
                    status: None,
                });
            }
            current.push(f);
        }
    }
    current.sort();
    (current, new)
}

/// Same package and version, and the two vulnerabilities share an id or alias.
fn same_finding(a: &InventoryFinding, b: &InventoryFinding) -> bool {
    a.ecosystem == b.ecosystem
        && a.name == b.name
        && a.version == b.version
        && std::iter::once(&a.advisory_id).chain(&a.aliases).any(|id| *id == b.advisory_id || b.aliases.contains(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, code: &str) -> InventoryFinding {
        InventoryFinding {
            ecosystem: Ecosystem::Npm,
            name: name.into(),
            version: "1.0.0".into(),
            advisory_id: code.into(),
            aliases: Vec::new(),
        }
    }

    fn now(name: &str, code: Code) -> CurrentRisk {
        CurrentRisk {
            code,
            ecosystem: Ecosystem::Npm,
            name: name.into(),
            version: "1.0.0".into(),
            level: Level::Medium,
            message: "m".into(),
            dev_only: false,
            status: "gating",
        }
    }

    const YANKED: Code = Code::new("stale/yanked");
    const FRESH: Code = Code::new("takeover/too-fresh");

    #[test]
    fn risk_news_is_what_was_not_known_gone_is_what_was_evaluated_and_unknown_keeps_its_signal() {
        let known = [
            row("a", "stale/yanked"),
            row("b", "takeover/too-fresh"),
            row("c", "stale/deprecated"),
            row("d", "stale/deprecated"),
        ];
        let known: Vec<&InventoryFinding> = known.iter().collect();
        let at = |n: &str, code: &str| (Ecosystem::Npm, n.to_owned(), "1.0.0".to_owned(), code.to_owned());
        // a: evaluated for both codes; b: too-fresh evaluated; c: nothing (no facts today);
        // d: only yanked evaluated (the deprecation field was stripped by a mirror).
        let evaluated = [
            at("a", "stale/yanked"),
            at("a", "takeover/too-fresh"),
            at("b", "takeover/too-fresh"),
            at("d", "stale/yanked"),
        ]
        .into_iter()
        .collect();
        // a: still yanked and now too fresh; b: no longer too fresh.
        let state = RiskState { current: vec![now("a", YANKED), now("a", FRESH)], evaluated };
        let (rows, new, gone) = compare_risks(&known, &state);
        let ids: Vec<String> = new.iter().map(|n| n.package.report_id()).collect();
        assert_eq!(ids, ["takeover/too-fresh:npm/a@1.0.0"]);
        assert_eq!((new[0].code, new[0].status), (Some(FRESH), Some("gating")));
        let gone: Vec<String> = gone.iter().map(InventoryFinding::report_id).collect();
        assert_eq!(gone, ["takeover/too-fresh:npm/b@1.0.0"]);
        let mut kept: Vec<(String, String)> = rows.iter().map(|r| (r.name.clone(), r.advisory_id.clone())).collect();
        kept.sort();
        let want =
            [("a", "stale/yanked"), ("a", "takeover/too-fresh"), ("c", "stale/deprecated"), ("d", "stale/deprecated")];
        assert_eq!(kept, want.map(|(n, c)| (n.to_owned(), c.to_owned())));
        assert!(rows.iter().all(|r| r.risk_code().is_some()));
        assert_eq!(row("a", "GHSA-xxxx-yyyy-zzzz").risk_code(), None);
        assert_eq!(row("a", "GHSA-xxxx-yyyy-zzzz").report_id(), "GHSA-xxxx-yyyy-zzzz");
    }
}
