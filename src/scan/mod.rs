//! The scan pipeline, owned by the library: discover -> extract -> match -> assess -> judge ->
//! record. [`run`] does all of it; `cli/scan.rs` only turns arguments into [`ScanOptions`] and
//! renders the [`ScanResult`]. Each stage lives in its own module:
//! [`extract`] (discovery and the trees of lockfiles and artifacts), [`vulns`] (matching the
//! unique packages once and attaching vulnerabilities to every unit, with paths), [`assess`] (the
//! risk checks); the policy judges once (`policy::Policy::judge`); [`fixplan`] decides each
//! unit's fix plan against the whole advisory database; the inventory records. Between
//! extraction and judging the stages only read the units and run side by side (`overlapped`).

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};

use crate::advisory::open::{self, OpenError, OpenRequest};
use crate::advisory::store::StoreError;
use crate::advisory::sync::Observer;
use crate::finding::{ScanResult, Verdict};
use crate::policy::{Baseline, Policy, PolicyError};
use crate::vocab::{Diagnostic, Level};
use phases::timed;

pub mod assess;
pub mod extract;
pub mod fixplan;
mod lines;
pub mod phases;
pub mod resync;
pub mod vulns;

pub use extract::{Extracted, collect};
pub use phases::{Phase, PhaseTimes};

/// Everything a scan needs to know, already validated by the caller.
#[derive(Debug, Clone)]
#[expect(clippy::struct_excessive_bools, reason = "independent switches of one scan, mirrored from the command line")]
pub struct ScanOptions {
    /// Folders, lockfiles, templates, zips or binaries.
    pub paths: Vec<PathBuf>,
    /// Files to read as deployment artifacts whatever their name.
    pub artifacts: Vec<PathBuf>,
    /// The advisory database file.
    pub db: PathBuf,
    /// Never use the network.
    pub offline: bool,
    /// Where to sync from when the database lacks an ecosystem.
    pub source: String,
    /// Warn when an ecosystem's last sync is older than this.
    pub max_age: SignedDuration,
    /// The policy file, else `bundleguard.toml` in the first path.
    pub config: Option<PathBuf>,
    /// Overrides of the policy file.
    pub fail_on: Option<Level>,
    pub include_dev: bool,
    /// OpenVEX documents whose `not_affected` statements work as ignores (status `vex`).
    pub vex: Vec<PathBuf>,
    /// An earlier JSON report whose findings do not gate.
    pub baseline: Option<PathBuf>,
    /// Where and as what to record the scanned functions (`None`: not recorded).
    pub record: Option<Recording>,
    /// A scan that read nothing is an error (under GitHub Actions a gate that checked nothing
    /// must say so).
    pub nothing_scanned_is_error: bool,
    /// Use only cached registry metadata (also implied by `offline`).
    pub no_metadata: bool,
    /// Cached registry metadata older than this is fetched again.
    pub metadata_ttl: std::time::Duration,
    /// The clock (`BUNDLEGUARD_NOW` pins it for reproducible reports).
    pub now: Timestamp,
    /// Where to add the wall time of each phase (benchmarks; `None`: not measured).
    pub phases: Option<std::sync::Arc<PhaseTimes>>,
}

impl ScanOptions {
    /// The date of the scan's clock, in UTC (what the date-based checks and the judgement read).
    pub fn today(&self) -> jiff::civil::Date {
        self.now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

/// Runs the whole pipeline. Files that cannot be read become errors in the result (the scan goes
/// on); only a policy that cannot be read or a database that cannot be opened stop it.
pub fn run(options: &ScanOptions, observer: &dyn Observer) -> Result<ScanResult, ScanError> {
    let times = options.phases.as_deref();
    let today = options.today();
    let (policy, baseline) = timed(times, Phase::Policy, || -> Result<_, ScanError> {
        let policy = load_policy(options)?;
        let baseline = match &options.baseline {
            Some(path) => Baseline::load(path)?,
            None => Baseline::default(),
        };
        Ok((policy, baseline))
    })?;
    let (mut extracted, ahead) = beside_read_ahead(&options.db, || {
        extract::collect_timed(&options.paths, &options.artifacts, &policy.exclude, policy.unused_enabled, times)
    });
    let stages = std::mem::take(&mut extracted.stages);
    let ecosystems = extracted.ecosystems();
    let request = OpenRequest {
        db: &options.db,
        ecosystems: &ecosystems,
        offline: options.offline,
        source: &options.source,
        max_age: options.max_age,
        now: options.now,
    };
    let recording = options.record.as_ref().map(|r| with_declared_environment(r, &stages));
    let Overlapped { mut opened, attached, checked, metadata_warnings, metadata_written, recorded } =
        overlapped(options, &policy, &extracted, ahead, &request, recording.as_ref().map(|(r, _)| r), observer)?;
    let mut warnings = std::mem::take(&mut opened.warnings);
    warnings.extend(metadata_warnings);
    let matched = vulns::assemble(extracted, attached);
    let mut assessed = timed(times, Phase::Assess, || assess::combine(matched, checked));
    assessed.metadata_off = options.no_metadata;
    let mut result = timed(times, Phase::Judge, || policy.judge(assessed, warnings, &baseline, today));
    timed(times, Phase::FixPlan, || fixplan::plan(&opened.store, &mut result))?;
    if metadata_written {
        // What the registries answered is a cache every later scan reads: the file alone holds
        // it, as after `sync --metadata` (docs/ARCHITECTURE.md, "Writes, checkpoints and
        // durability"). A reader in another process that blocks the checkpoint leaves it to a
        // later one, and nothing is lost when it fails: the facts stay in the `-wal`.
        let _ = opened.store.checkpoint_if_over(0);
    }
    if options.nothing_scanned_is_error && result.bundles.is_empty() {
        let at = options.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        result.errors.push(Diagnostic::at(
            "discover/nothing-to-scan",
            at,
            "nothing was scanned (no lockfile or artifact read): under GitHub Actions this is an error",
        ));
        if result.verdict == Verdict::Pass {
            result.verdict = Verdict::Incomplete;
        }
    }
    if let Some((recording, warning)) = recording {
        result.warnings.extend(warning);
        if let Some(Err(e)) = recorded {
            result.warnings.push(Diagnostic::new(
                "inventory/record",
                format!("the scanned bundles could not be recorded in the inventory: {e}"),
            ));
            if recording.context.deploy && result.verdict == Verdict::Pass {
                result.verdict = Verdict::Incomplete;
            }
        }
    }
    Ok(result)
}

/// What the stages that run side by side give: the opened database, each unit's
/// vulnerabilities, each check family's results, and the registry metadata's warnings.
struct Overlapped {
    opened: open::Opened,
    attached: vulns::Attached,
    checked: assess::Checked,
    metadata_warnings: Vec<Diagnostic>,
    /// Whether the metadata stage wrote what it fetched to the cache.
    metadata_written: bool,
    /// The record's outcome, when the scan records (`None`: not recorded, or a stage failed).
    recorded: Option<Result<(), crate::inventory::InventoryError>>,
}

/// Everything between extraction and judging that only reads the units, run side by side (CI
/// machines have two cores, and much of it is serial: SQLite reads, the registry judgements,
/// the record):
/// - the unused check starts at once on low-priority threads of its own ([`lower_priority`]),
///   which take its units one at a time ([`assess::UnusedWork`]): they use the core time the
///   other stages leave idle, above all the serial record's;
/// - the database is opened; then the registry metadata is read (and fetched, when online) on
///   its own connection to the same file and the stale and takeover checks judge it;
/// - this thread matches, attaches the vulnerabilities and runs the hygiene check, then records
///   the scan (the record keeps no unused or hygiene result), then helps the unused check with
///   the units left.
///
/// Each result is the one the stage gives alone, in unit order, so reports do not change; a
/// failing stage fails the scan as before (the open first, then the match, then the metadata),
/// and then nothing is recorded.
fn overlapped(
    options: &ScanOptions,
    policy: &Policy,
    extracted: &extract::Extracted,
    ahead: crate::registry::cache::ReadAhead,
    request: &OpenRequest<'_>,
    recording: Option<&Recording>,
    observer: &dyn Observer,
) -> Result<Overlapped, ScanError> {
    let times = options.phases.as_deref();
    let unused = crate::risk::unused::UnusedConfig { disabled: !policy.unused_enabled, ..Default::default() };
    let registry = registry_checks(policy);
    let units: Vec<&crate::bundle::Unit> = extracted.units.iter().collect();
    // One unit has too little to overlap to pay for the threads (and their memory): its stages
    // run one after the other, the same calls in the same order of errors.
    let spawn = units.len() > 1;
    // Timed from its start to this thread's join, only when phases are timed (no clock read else).
    let started = times.map(|_| std::time::Instant::now());
    let unused_work = assess::UnusedWork::new(&units, &unused, &extracted.listing);
    std::thread::scope(|s| {
        let (units, registry, unused_work) = (&units, &registry, &unused_work);
        // As many helpers as the cores the serial record leaves idle; this thread makes one more
        // once its stages are done.
        let helpers: Vec<_> = if spawn {
            (0..rayon::current_num_threads().saturating_sub(1).max(1))
                .filter_map(|_| {
                    std::thread::Builder::new()
                        .name("bundleguard-unused".into())
                        .spawn_scoped(s, move || {
                            lower_priority();
                            unused_work.help();
                        })
                        .ok()
                })
                .collect()
        } else {
            unused_work.help();
            Vec::new()
        };
        let mut opened = timed(times, Phase::Open, || open::for_scan(request, observer))?;
        let db = opened.store.path().to_owned();
        let registry_task = Task::start(s, spawn, move || -> Result<_, ScanError> {
            let (facts, warnings, written) =
                timed(times, Phase::Metadata, || metadata(options, policy, &db, units, ahead))?;
            let signals =
                timed(times, Phase::Registry, || assess::registry_signals(units, &facts, registry, options.now));
            Ok((signals, warnings, written, facts))
        });
        let matched = vulns::match_packages(&extracted.units, &opened.store, times);
        let attached =
            matched.map(|m| timed(times, Phase::Attach, || vulns::attach(&extracted.units, &m, &opened.missing)));
        let hygiene = timed(times, Phase::Assess, || assess::hygiene_checks(units, options.today()));
        let registry_results = registry_task.join();
        // The record keeps no unused or hygiene result: it runs while the unused check ends.
        let recorded = match (recording, &attached, &registry_results) {
            (Some(recording), Ok(attached), Ok((registry, ..))) => {
                let scanned = scanned(&extracted.units, attached, registry, policy);
                Some(timed(times, Phase::Record, || record(&options.db, recording, &mut opened.store, scanned)))
            }
            _ => None,
        };
        // This thread takes the units the helpers have not (all of them when none could start).
        unused_work.help();
        helpers.into_iter().for_each(joined);
        let unused_results = unused_work.finish();
        if let (Some(times), Some(started)) = (times, started) {
            times.add(Phase::Unused, started.elapsed());
        }
        let attached = attached?;
        let (registry, metadata_warnings, metadata_written, facts) = registry_results?;
        // The side-by-side stages are done: the facts are freed beside the serial ones that follow.
        release(spawn, facts);
        let checked = assess::Checked { hygiene, unused: unused_results, registry };
        Ok(Overlapped { opened, attached, checked, metadata_warnings, metadata_written, recorded })
    })
}

/// Runs `extract` (the walk and the parse) while a low-priority thread reads the registry cache
/// ahead ([`crate::registry::cache::read_ahead`]): before the parse the scan does not know its
/// packages, and the walk leaves a core idle (16 ms of the 500-function monorepo's scan), so a
/// warm cache is read there rather than beside the match, the registry stage and the unused
/// check, which keep both cores busy. The read stops where it is when `extract` ends (the
/// registry stage reads the rest by name); a cache with nothing in it costs one probe. Nothing
/// writes the file meanwhile: the database is opened (and synced, when it lacks an ecosystem)
/// after this.
fn beside_read_ahead<T>(db: &std::path::Path, extract: impl FnOnce() -> T) -> (T, crate::registry::cache::ReadAhead) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("bundleguard-cache".into())
            .spawn_scoped(s, || {
                lower_priority();
                crate::registry::cache::read_ahead(db, &stop)
            })
            .ok();
        let out = extract();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (out, reader.map(joined).unwrap_or_default())
    })
}

/// Frees the registry facts on a detached thread of their own when `detach` (else here), once
/// the side-by-side stages are done. On a warm cache they are tens of thousands of small
/// allocations (every listed version of every package): freed where the registry stage ends,
/// that thread took a core from the unused check, which ends last (3 ms of CPU on the
/// 500-function monorepo); freed after it, this runs beside the serial stages that follow (the
/// judgement and the report use one core). Nothing waits for that thread: a process that exits
/// first leaves the freeing to the system. A thread that cannot be created drops the facts at
/// once.
fn release<T: Send + 'static>(detach: bool, facts: T) {
    if detach {
        // On failure the closure, and the facts with it, are dropped by `spawn`.
        let _ = std::thread::Builder::new().name("bundleguard-free".into()).spawn(move || drop(facts));
    }
}

/// Lowers the calling thread's priority to the lowest (Linux: nice 19; elsewhere nothing): the
/// unused check's helper threads then take only the core time the match, the registry stage and
/// the record leave idle, and never delay them; the scan's thread helps the check at its normal
/// priority once those are done, so a busy machine slows the check down but cannot starve it.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // A thread whose priority cannot be lowered keeps its own: only the overlap suffers.
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
    }
}

/// A stage run on a scoped thread of its own, or at once on this one (`spawn` false).
enum Task<'s, T> {
    Spawned(std::thread::ScopedJoinHandle<'s, T>),
    Done(T),
}

impl<'s, T: Send + 's> Task<'s, T> {
    fn start<'e>(s: &'s std::thread::Scope<'s, 'e>, spawn: bool, f: impl FnOnce() -> T + Send + 's) -> Task<'s, T> {
        if spawn { Task::Spawned(s.spawn(f)) } else { Task::Done(f()) }
    }

    fn join(self) -> T {
        match self {
            Task::Spawned(handle) => joined(handle),
            Task::Done(value) => value,
        }
    }
}

/// The result of a scoped thread; its panic goes on in this thread.
fn joined<T>(task: std::thread::ScopedJoinHandle<'_, T>) -> T {
    task.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Where and as what a scan is recorded.
#[derive(Debug, Clone)]
pub struct Recording {
    /// `postgres://...`, a SQLite file, or `None` for the advisory database file.
    pub inventory: Option<String>,
    /// Repository, ref, commit, environment, and whether this is a deploy.
    pub context: crate::inventory::RecordContext,
    /// How long replaced records are kept.
    pub history_days: u32,
}

/// The recording, with the environment the scanned templates declare when none was given: one
/// stage for all (Serverless `provider.stage`, SAM's `samconfig.toml` environment) is used;
/// templates that disagree leave it unknown (empty), with the warning naming them.
fn with_declared_environment(
    recording: &Recording,
    stages: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> (Recording, Option<Diagnostic>) {
    let mut recording = recording.clone();
    if !recording.context.environment.is_empty() || stages.is_empty() {
        return (recording, None);
    }
    if let [(stage, _)] = stages.iter().collect::<Vec<_>>()[..] {
        recording.context.environment.clone_from(stage);
        return (recording, None);
    }
    let each: Vec<String> = stages
        .iter()
        .map(|(stage, from)| format!("{stage} ({})", from.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    let warning = Diagnostic::new(
        "inventory/environment",
        format!(
            "the templates deploy to different stages: {}; recorded without an environment (pass --environment)",
            each.join(", ")
        ),
    );
    (recording, Some(warning))
}

/// What the record keeps of each unit: its packages, and the vulnerabilities and stale and
/// takeover signals the policy's judgement keeps. The judgement has not run yet: it waits for
/// the unused check, which the record does not.
fn scanned<'a>(
    units: &'a [crate::bundle::Unit],
    attached: &'a vulns::Attached,
    registry: &'a assess::RegistryResults,
    policy: &Policy,
) -> Vec<crate::inventory::Scanned<'a>> {
    units
        .iter()
        .zip(attached.hits())
        .zip(registry.signals())
        .map(|((u, hits), signals)| crate::inventory::Scanned {
            name: &u.name,
            kind: u.kind,
            runtime: u.runtime.as_deref(),
            path: &u.path,
            graph: &u.graph,
            vulnerabilities: hits.iter().filter(|h| policy.keeps_hit(h)).map(|h| (&h.package, &h.advisory)).collect(),
            signals: signals
                .iter()
                .filter(|s| policy.keeps_signal(s))
                .filter_map(|s| Some((s.code, s.package.as_ref()?)))
                .collect(),
        })
        .collect()
}

/// Records the scanned units. Reporting never depends on recording: the caller turns a failure
/// into a warning, and a deploy that could not be recorded leaves the inventory wrong, so it is
/// never a pass. The local inventory is written through the scan's own connection to the
/// database file (one open, one WAL checkpoint on close), unless that connection is read-only.
fn record(
    db: &std::path::Path,
    recording: &Recording,
    store: &mut crate::advisory::store::Store,
    scanned: Vec<crate::inventory::Scanned<'_>>,
) -> Result<(), crate::inventory::InventoryError> {
    let history = recording.history_days;
    match recording.inventory.as_deref().filter(|i| !i.is_empty()) {
        None if !store.is_read_only() => crate::inventory::record_scan(store, &recording.context, scanned, history),
        url => crate::inventory::open(url, db).and_then(|mut inventory| {
            crate::inventory::record_scan(inventory.as_mut(), &recording.context, scanned, history)
        }),
    }
}

/// The registry facts of every scanned registry package: from the cache where fresh, else from
/// the registries the user's configuration names (cache only when offline or `no_metadata`),
/// with the warnings to add and whether what was fetched was written to the cache. Per-package
/// failures are warnings; those packages are not evaluated by the registry checks. It runs beside the match stage, on its own connection to the database
/// file `db`: read-only when only the cache is used; when online, read-write, and what it
/// fetches is written in one transaction as before (an interrupted write leaves the cache as it
/// was).
fn metadata(
    options: &ScanOptions,
    policy: &Policy,
    db: &std::path::Path,
    units: &[&crate::bundle::Unit],
    ahead: crate::registry::cache::ReadAhead,
) -> Result<(crate::risk::history::FactsMap, Vec<Diagnostic>, bool), ScanError> {
    use crate::advisory::store::Store;
    use crate::registry::{FetchMode, FetchOptions, config};
    // Unique names first (borrowed: a monorepo ships the same packages many times), then copied;
    // `facts_for` puts them in order.
    let unique: foldhash::HashSet<(crate::package::Ecosystem, &crate::package::PackageName)> = units
        .iter()
        .flat_map(|u| u.graph.nodes())
        .filter(|p| p.source == crate::package::Source::Registry)
        .map(|p| (p.ecosystem, &p.name))
        .collect();
    let packages: Vec<_> = unique.into_iter().map(|(eco, name)| (eco, name.clone())).collect();
    if packages.is_empty() {
        return Ok((crate::risk::history::FactsMap::new(), Vec::new(), false));
    }
    let root = options.paths.first().map_or_else(|| PathBuf::from("."), |p| policy_root(p));
    let (cfg, mut warnings) = config::resolve(&root, &|k| std::env::var(k).ok(), policy.registries.as_ref());
    let mode = if options.offline || options.no_metadata {
        FetchMode::CacheOnly
    } else {
        FetchMode::Online { ttl: options.metadata_ttl }
    };
    let mut store = match mode {
        FetchMode::CacheOnly => Store::open_read_only(db)?,
        FetchMode::Online { .. } => Store::open_existing(db)?,
    };
    let fetched = crate::registry::facts_read_ahead(&mut store, &cfg, &packages, &FetchOptions::new(mode), ahead)?;
    warnings.extend(fetched.diagnostics);
    Ok((fetched.facts, warnings, fetched.stats.written > 0))
}

/// The stale and takeover thresholds, with the registries the policy says rewrite times.
pub(crate) fn registry_checks(policy: &Policy) -> assess::RegistryChecks {
    let mut checks = assess::RegistryChecks::default();
    let untrusted: std::collections::BTreeSet<crate::package::Ecosystem> = policy
        .registries
        .iter()
        .flat_map(|r| &r.untrusted_times)
        .filter_map(|e| crate::package::Ecosystem::from_name(e))
        .collect();
    checks.stale.untrusted_times.clone_from(&untrusted);
    checks.takeover.untrusted_times = untrusted;
    checks
}

fn load_policy(options: &ScanOptions) -> Result<Policy, PolicyError> {
    let root = options.paths.first().map_or_else(|| PathBuf::from("."), |p| policy_root(p));
    let mut policy = Policy::load(options.config.as_deref(), &root)?;
    if let Some(level) = options.fail_on {
        policy.fail_on = level;
    }
    policy.include_dev |= options.include_dev;
    for file in &options.vex {
        policy.vex.extend(crate::vex::load(file)?);
    }
    Ok(policy)
}

/// Where `bundleguard.toml` / `osv-scanner.toml` are looked for: the first path (or its folder).
fn policy_root(path: &std::path::Path) -> PathBuf {
    if path.is_dir() {
        path.to_owned()
    } else {
        path.parent().map_or_else(|| PathBuf::from("."), std::path::Path::to_owned)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::getpriority_process;
    use rustix::thread::gettid;

    /// The unused check's helpers run at the lowest priority; the thread that starts them (the
    /// scan's, which helps later at its own priority) keeps its own.
    #[test]
    fn lower_priority_lowers_only_the_calling_thread() {
        let before = getpriority_process(Some(gettid())).expect("own priority");
        let helper = std::thread::spawn(|| {
            super::lower_priority();
            getpriority_process(Some(gettid())).expect("helper's priority")
        });
        assert_eq!(helper.join().expect("helper"), 19);
        assert_eq!(getpriority_process(Some(gettid())).expect("own priority"), before);
    }
}
