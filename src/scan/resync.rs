//! The scheduled job in one call: sync the advisories, refresh (when asked) the cached registry
//! metadata of every recorded package, then re-check every recorded function: against the
//! advisories, and through the scan's own assess and judge stages for stale and takeover signals
//! ([`assess_recorded`]). The `sync` command only turns its arguments into a [`Resync`] and
//! renders the outcome. It lives in `scan` because it runs the pipeline's stages; the inventory
//! only remembers what was reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::advisory::store::{Store, StoreError};
use crate::advisory::sync::{self, Observer, Source, SyncError, SyncOptions, SyncReport};
use crate::bundle::{Unit, UnitKind};
use crate::graph::DepGraph;
use crate::inventory::{self, CurrentRisk, InventoryChange, InventoryError, RecordedFunction, RiskState};
use crate::package::{Ecosystem, Package, PackageName, Source as PackageSource};
use crate::policy::{Assessed, AssessedUnit, Baseline, Policy, PolicyError, Setting};
use crate::registry::{self, FetchMode, FetchOptions, Metadata, RegistryError};
use crate::risk::history::{FactsMap, Histories};
use crate::vocab::{Diagnostic, Level, TreeSource};

/// What to sync and where the inventory is.
pub struct Resync<'a> {
    pub db: &'a Path,
    pub source: &'a Source,
    pub ecosystems: &'a [Ecosystem],
    pub options: SyncOptions,
    /// `postgres://...`, a SQLite file, or `None` for the database file itself.
    pub inventory: Option<&'a str>,
    /// Also revalidate the registry metadata of every recorded package (before the re-check).
    pub metadata: bool,
    /// The policy file (`sync --config`; none: the defaults, since the inventory spans
    /// repositories no bundleguard.toml is discovered): its levels, `off`, ignores, scopes and
    /// `[registries]` judge the stale and takeover signals as a scan would, and its `fail-on`
    /// says at or above which level news alerts.
    pub config: Option<&'a Path>,
    /// `--fail-on`, overriding the policy's.
    pub fail_on: Option<Level>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error("sync from {source_desc} failed; the database was left as it was: {error}")]
    Sync { source_desc: String, error: SyncError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("re-checking the inventory {inventory}: {error}")]
    Recheck { inventory: String, error: InventoryError },
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error("refreshing the registry metadata: {0}")]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// What the job did.
pub struct Resynced {
    pub report: SyncReport,
    pub changes: Vec<InventoryChange>,
    /// With `metadata`: what was fetched, and the registry configuration's diagnostics.
    pub metadata: Option<(Metadata, Vec<Diagnostic>)>,
    /// The policy's `fail-on` (after `--fail-on`): news at or above it alerts.
    pub fail_on: Level,
}

/// The re-check's policy: the file (with the `osv-scanner.toml` ignores beside it), else the
/// defaults; `fail_on` overrides its threshold.
pub fn policy(config: Option<&Path>, fail_on: Option<Level>) -> Result<Policy, PolicyError> {
    let mut policy = match config {
        Some(file) => {
            let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Policy::load(Some(file), dir)?
        }
        None => Policy::default(),
    };
    if let Some(level) = fail_on {
        policy.fail_on = level;
    }
    Ok(policy)
}

/// Syncs, refreshes the metadata, then re-checks, in that order (the re-check judges the fresh
/// facts); a failed sync leaves everything as it was.
pub fn run(job: &Resync<'_>, observer: &dyn Observer) -> Result<Resynced, ResyncError> {
    // Read first: a policy file with a mistake fails before anything is downloaded.
    let policy = &policy(job.config, job.fail_on)?;
    let mut store = Store::open(job.db)?;
    let report = sync::sync_with(&mut store, job.source, job.ecosystems, job.options, observer)
        .map_err(|error| ResyncError::Sync { source_desc: job.source.describe(), error })?;
    let mut recorded = inventory::open(job.inventory, job.db)?;
    let packages = recorded_packages(recorded.as_mut())?;
    let (cfg, diagnostics) =
        registry::config::resolve(Path::new("."), &|k| std::env::var(k).ok(), policy.registries.as_ref());
    let fetched = if job.metadata {
        registry::sync_metadata(&mut store, &cfg, &packages, &FetchOptions::new(FetchMode::CacheOnly))?
    } else {
        registry::facts_for(&mut store, &cfg, &packages, &FetchOptions::new(FetchMode::CacheOnly))?
    };
    drop(store);
    let advisories = Store::open_existing(job.db)?;
    let now = crate::clock::now();
    let check = |functions: &[RecordedFunction]| assess_recorded(functions, &fetched.facts, policy, now);
    let changes = inventory::recheck_with(recorded.as_mut(), &advisories, policy.unknown_severity, Some(&check))
        .map_err(|error| ResyncError::Recheck { inventory: recorded.describe(), error })?;
    // The job ends with everything (advisories, metadata cache, inventory) in the database file
    // itself, fsynced: it can be copied or cached alone, or read from a read-only medium.
    advisories.checkpoint()?;
    let metadata = job.metadata.then_some((fetched, diagnostics));
    Ok(Resynced { report, changes, metadata, fail_on: policy.fail_on })
}

/// Every (ecosystem, name) of the inventory, once.
fn recorded_packages(recorded: &mut dyn inventory::Inventory) -> Result<Vec<(Ecosystem, PackageName)>, ResyncError> {
    let mut packages = Vec::new();
    for b in recorded.load_all()? {
        packages.extend(b.packages.into_iter().map(|p| (p.ecosystem, PackageName::new(p.ecosystem, &p.name))));
    }
    packages.sort();
    packages.dedup();
    Ok(packages)
}

/// The stale and takeover signals of each recorded function now, as a scan of the same packages
/// would find and judge them: each function becomes a unit of its recorded packages, which the
/// scan's assess stage checks against `facts` and `policy` judges. One [`RiskState`] per function,
/// in order.
pub fn assess_recorded(
    recorded: &[RecordedFunction],
    facts: &FactsMap,
    policy: &Policy,
    now: Timestamp,
) -> Vec<RiskState> {
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let units = recorded.iter().map(|r| AssessedUnit { unit: unit_of(r), hits: Vec::new(), signals: Vec::new() });
    let assessed = Assessed { units: units.collect(), ..Assessed::default() };
    let checks = super::registry_checks(policy);
    let evaluated = evaluated(recorded, facts, &checks, policy, now);
    let inputs = super::assess::Inputs {
        today,
        now,
        facts,
        registry: &checks,
        unused: &crate::risk::unused::UnusedConfig::default(),
    };
    let judged = policy.judge(super::assess::assess(assessed, &inputs), Vec::new(), &Baseline::default(), today);
    recorded
        .iter()
        .zip(&judged.bundles)
        .map(|(r, b)| RiskState {
            current: b
                .risks
                .iter()
                .filter(|f| inventory::is_recheckable(f.code.kind()))
                .filter_map(|f| {
                    let p = f.package.as_ref()?;
                    Some(CurrentRisk {
                        code: f.code,
                        ecosystem: p.ecosystem,
                        name: p.name.as_str().to_owned(),
                        version: p.version.clone(),
                        level: f.level,
                        message: f.message.clone(),
                        dev_only: !p.scope.ships(),
                        status: f.status.as_str(),
                    })
                })
                .collect(),
            evaluated: r
                .packages
                .iter()
                .flat_map(|p| evaluated.get(&(p.ecosystem, p.name.as_str(), p.version.as_str())).into_iter().flatten())
                .cloned()
                .collect(),
        })
        .collect()
}

/// Per unique recorded package version, the codes the registry checks could evaluate on it (each
/// input known, not allow-listed) and the policy does not turn off: a remembered signal of such a
/// code that is not raised now is gone. Each version is judged as a one-package unit, whose
/// coverage then says exactly which codes were evaluated for it.
fn evaluated<'r>(
    recorded: &'r [RecordedFunction],
    facts: &FactsMap,
    checks: &super::assess::RegistryChecks,
    policy: &Policy,
    now: Timestamp,
) -> HashMap<(Ecosystem, &'r str, &'r str), Vec<inventory::Evaluated>> {
    let mut unique: Vec<&inventory::RecordedPackage> = recorded.iter().flat_map(|r| &r.packages).collect();
    unique.sort_by(|a, b| (a.ecosystem, &a.name, &a.version).cmp(&(b.ecosystem, &b.name, &b.version)));
    unique.dedup_by(|a, b| (a.ecosystem, &a.name, &a.version) == (b.ecosystem, &b.name, &b.version));
    let units: Vec<Unit> = unique.iter().map(|p| package_unit(p)).collect();
    let refs: Vec<&Unit> = units.iter().collect();
    // Each recorded version's history is prepared once for both families, as the scan does.
    let histories = Histories::new(&refs, facts);
    let stale_judged = crate::risk::stale::judge_in(&histories, &checks.stale, now);
    let takeover_judged = crate::risk::takeover::judge_in(&histories, facts, &checks.takeover, now);
    drop(histories);
    let (stale_codes, takeover_codes) = (crate::risk::stale::codes(), crate::risk::takeover::FACT_CODES);
    unique
        .iter()
        .zip(&units)
        .map(|(p, unit)| {
            let (_, mut coverage) = stale_judged.apply(unit, &stale_codes);
            coverage.extend(takeover_judged.apply(unit, &takeover_codes).1);
            let codes = coverage
                .into_iter()
                .filter(|c| c.evaluated > 0 && policy.setting(c.code, Level::Low) != Setting::Off)
                .map(|c| (p.ecosystem, p.name.clone(), p.version.clone(), c.code.as_str().to_owned()))
                .collect();
            ((p.ecosystem, p.name.as_str(), p.version.as_str()), codes)
        })
        .collect()
}

/// A unit of one recorded package.
fn package_unit(p: &inventory::RecordedPackage) -> Unit {
    let mut graph = DepGraph::new();
    let node = graph.add_node(package_of(p));
    graph.add_root(node);
    graph.finish();
    bare_unit(String::new(), String::new(), graph)
}

fn package_of(p: &inventory::RecordedPackage) -> Package {
    Package {
        ecosystem: p.ecosystem,
        name: PackageName::new(p.ecosystem, &p.name),
        version: p.version.clone(),
        scope: p.scope,
        source: PackageSource::Registry,
    }
}

/// A unit whose tree is the recorded package list (each package a root: the recorded edges are
/// not kept, and the registry checks need none).
fn unit_of(r: &RecordedFunction) -> Unit {
    let mut graph = DepGraph::new();
    for p in &r.packages {
        let node = graph.add_node(package_of(p));
        graph.add_root(node);
    }
    graph.finish();
    let path = r.path.split(", ").next().unwrap_or_default().to_owned();
    bare_unit(r.name.clone(), path, graph)
}

/// A function unit of `graph` with nothing else known (no runtime, code or artifact).
fn bare_unit(name: String, path: String, graph: DepGraph) -> Unit {
    Unit {
        name,
        kind: UnitKind::Function,
        runtime: None,
        handler: None,
        template: None,
        code_dir: None,
        file: PathBuf::from(&path),
        path,
        source: TreeSource::NotRead,
        graph,
        artifact: None,
        lockfile_twin: None,
        coverage: None,
        esbuild: None,
    }
}

/// Whether news makes `sync` exit 1: a signal the policy judged gating, or a vulnerability at or
/// above `threshold`.
pub fn alerts(change: &inventory::NewFinding, threshold: Level) -> bool {
    match change.status {
        Some(status) => status == crate::finding::Status::Gating.as_str(),
        None => !change.dev_only && change.severity >= threshold,
    }
}
