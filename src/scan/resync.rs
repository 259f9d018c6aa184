//! The scheduled job in one call: sync the advisories, refresh (when asked) the cached registry
//! metadata of every recorded package, then re-check every recorded function: against the
//! advisories, and through the scan's own assess and judge stages for stale and takeover signals
//! ([`assess_recorded`]). The `sync` command only turns its arguments into a [`Resync`] and
//! renders the outcome. It lives in `scan` because it runs the pipeline's stages; the inventory
//! only remembers what was reported.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::advisory::store::{Store, StoreError};
use crate::advisory::sync::{self, Observer, Source, SyncError, SyncOptions, SyncReport};
use crate::bundle::{Unit, UnitKind};
use crate::graph::DepGraph;
use crate::inventory::{self, CurrentRisk, InventoryChange, InventoryError, RecordedFunction, RiskState};
use crate::package::{Ecosystem, Package, PackageName, Source as PackageSource};
use crate::policy::{Assessed, AssessedUnit, Baseline, Policy};
use crate::registry::{self, FetchMode, FetchOptions, Metadata, RegistryError};
use crate::risk::history::FactsMap;
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
    /// The level at or above which news alerts; the stale and takeover signals are judged by the
    /// default policy with it.
    pub fail_on: Level,
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
}

/// What the job did.
pub struct Resynced {
    pub report: SyncReport,
    pub changes: Vec<InventoryChange>,
    /// With `metadata`: what was fetched, and the registry configuration's diagnostics.
    pub metadata: Option<(Metadata, Vec<Diagnostic>)>,
}

/// Syncs, refreshes the metadata, then re-checks, in that order (the re-check judges the fresh
/// facts); a failed sync leaves everything as it was.
pub fn run(job: &Resync<'_>, observer: &dyn Observer) -> Result<Resynced, ResyncError> {
    let mut store = Store::open(job.db)?;
    let report = sync::sync_with(&mut store, job.source, job.ecosystems, job.options, observer)
        .map_err(|error| ResyncError::Sync { source_desc: job.source.describe(), error })?;
    let mut recorded = inventory::open(job.inventory, job.db)?;
    let packages = recorded_packages(recorded.as_mut())?;
    let (cfg, diagnostics) = registry::config::resolve(Path::new("."), &|k| std::env::var(k).ok(), None);
    let fetched = if job.metadata {
        registry::sync_metadata(&mut store, &cfg, &packages, &FetchOptions::new(FetchMode::CacheOnly))?
    } else {
        registry::facts_for(&mut store, &cfg, &packages, &FetchOptions::new(FetchMode::CacheOnly))?
    };
    drop(store);
    let advisories = Store::open_existing(job.db)?;
    let now = crate::clock::now();
    let policy = Policy { fail_on: job.fail_on, ..Policy::default() };
    let check = |functions: &[RecordedFunction]| assess_recorded(functions, &fetched.facts, &policy, now);
    let changes = inventory::recheck_with(recorded.as_mut(), &advisories, policy.unknown_severity, Some(&check))
        .map_err(|error| ResyncError::Recheck { inventory: recorded.describe(), error })?;
    // The job ends with everything (advisories, metadata cache, inventory) in the database file
    // itself, fsynced: it can be copied or cached alone, or read from a read-only medium.
    advisories.checkpoint()?;
    let metadata = job.metadata.then_some((fetched, diagnostics));
    Ok(Resynced { report, changes, metadata })
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
                    })
                })
                .collect(),
            evaluated: evaluated(r, facts),
        })
        .collect()
}

/// The packages of a function whose registry facts list the recorded version.
fn evaluated(r: &RecordedFunction, facts: &FactsMap) -> HashSet<(Ecosystem, String, String)> {
    r.packages
        .iter()
        .filter(|p| {
            facts
                .get(&(p.ecosystem, PackageName::new(p.ecosystem, &p.name)))
                .is_some_and(|f| f.versions.iter().any(|v| v.version == p.version))
        })
        .map(|p| (p.ecosystem, p.name.clone(), p.version.clone()))
        .collect()
}

/// A unit whose tree is the recorded package list (each package a root: the recorded edges are
/// not kept, and the registry checks need none).
fn unit_of(r: &RecordedFunction) -> Unit {
    let mut graph = DepGraph::new();
    for p in &r.packages {
        let node = graph.add_node(Package {
            ecosystem: p.ecosystem,
            name: PackageName::new(p.ecosystem, &p.name),
            version: p.version.clone(),
            scope: p.scope,
            source: PackageSource::Registry,
        });
        graph.add_root(node);
    }
    graph.finish();
    let path = r.path.split(", ").next().unwrap_or_default().to_owned();
    Unit {
        name: r.name.clone(),
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

/// The level at or above which a new signal or vulnerability makes `sync` exit 1.
pub fn alerts(change: &inventory::NewFinding, threshold: Level) -> bool {
    !change.dev_only && change.severity >= threshold
}
