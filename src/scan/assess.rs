//! The assess stage: every risk check family runs over the matched units and adds its signals;
//! checks are independent of one another (`risk/`), this module only feeds them their inputs.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;
use jiff::civil::Date;
use rayon::prelude::*;

use crate::bundle::Unit;
use crate::bundle::code::{CodeCache, CodeLimits, Listing};
use crate::policy::Assessed;
use crate::risk::history::{FactsMap, Histories, registry_packages};
use crate::risk::stale::{self, StaleConfig};
use crate::risk::takeover::{self, TakeoverConfig};
use crate::risk::unused::{self, UnusedConfig};
use crate::risk::{Coverage, Signal, hygiene};
use crate::vocab::Code;

/// What the checks are given besides the units: the clock, the registry facts of the scanned
/// packages (empty when metadata was not fetched: every registry signal is then not evaluated)
/// and each family's thresholds and allow-lists.
pub struct Inputs<'a> {
    pub today: Date,
    pub now: Timestamp,
    pub facts: &'a FactsMap,
    pub registry: &'a RegistryChecks,
    pub unused: &'a UnusedConfig,
}

/// Runs every risk check family on every unit: hygiene, unused, stale, takeover. Coverage is
/// summed per code over units.
pub fn assess(assessed: Assessed, inputs: &Inputs<'_>) -> Assessed {
    let units: Vec<&Unit> = assessed.units.iter().map(|a| &a.unit).collect();
    let hygiene = hygiene_checks(&units, inputs.today);
    let unused = unused_checks(&units, inputs.unused, &Listing::default());
    let registry = registry_signals(&units, inputs.facts, inputs.registry, inputs.now);
    drop(units);
    combine(assessed, Checked { hygiene, unused, registry })
}

/// The unused check's results of each unit, in unit order ([`unused_checks`]).
pub struct UnusedResults(Vec<unused::UnitResult>);

/// The stale and takeover signals of each unit, in unit order, and their coverage over all units
/// ([`registry_signals`]).
pub struct RegistryResults {
    signals: Vec<Vec<Signal>>,
    coverage: Vec<Coverage>,
}

impl RegistryResults {
    /// The stale and takeover signals of each unit, in unit order.
    pub fn signals(&self) -> &[Vec<Signal>] {
        &self.signals
    }
}

/// Each check family's results over the same units, in unit order: what [`combine`] adds to
/// them. The families need only the units (and the registry facts), not the match, and not one
/// another, so the scan runs them beside the match and each other, borrowing the units.
pub struct Checked {
    pub hygiene: Vec<Vec<Signal>>,
    pub unused: UnusedResults,
    pub registry: RegistryResults,
}

/// The hygiene check of every unit (with its lockfile twin's tree, by index into `units`), in
/// parallel, results in unit order.
pub fn hygiene_checks(units: &[&Unit], today: Date) -> Vec<Vec<Signal>> {
    units
        .par_iter()
        .map(|u| hygiene::check(u, u.lockfile_twin.and_then(|i| units.get(i)).map(|t| &t.graph), today))
        .collect()
}

/// The unused check of every unit, in parallel over the current rayon pool, results in unit
/// order ([`UnusedWork`]).
pub fn unused_checks(units: &[&Unit], cfg: &UnusedConfig, listing: &Listing) -> UnusedResults {
    let work = UnusedWork::new(units, cfg, listing);
    rayon::broadcast(|_| work.help());
    work.finish()
}

/// The unused check of a set of units, handed out one unit at a time to every thread that helps
/// ([`UnusedWork::help`]), so that a thread can join in late: the scan starts its own
/// low-priority threads on it at once, and its main thread helps once its own stages are done.
/// Each function's code is read once per folder ([`CodeCache`]; the folders `listing` holds are
/// not listed again) and its imports scanned.
pub struct UnusedWork<'a> {
    units: &'a [&'a Unit],
    cfg: &'a UnusedConfig,
    codes: CodeCache<'a>,
    /// The next unit no helper has taken.
    next: AtomicUsize,
    /// Each unit's result, once checked.
    results: Mutex<Vec<Option<unused::UnitResult>>>,
}

impl<'a> UnusedWork<'a> {
    pub fn new(units: &'a [&'a Unit], cfg: &'a UnusedConfig, listing: &'a Listing) -> UnusedWork<'a> {
        let keys = units.iter().filter_map(|u| unused::code_key(u, cfg));
        UnusedWork {
            units,
            cfg,
            codes: CodeCache::new(keys, CodeLimits::default(), listing),
            next: AtomicUsize::new(0),
            results: Mutex::new(units.iter().map(|_| None).collect()),
        }
    }

    /// Checks the units no helper has taken, one at a time, until none is left.
    pub fn help(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(unit) = self.units.get(i) else { return };
            let result = unused::check_unit(unit, self.cfg, &self.codes);
            if let Some(slot) = self.results.lock().unwrap_or_else(PoisonError::into_inner).get_mut(i) {
                *slot = Some(result);
            }
        }
    }

    /// Every unit's result, in unit order, once every helper has returned.
    ///
    /// # Panics
    /// When a unit was not checked: a helper panicked (its panic is resumed before this is
    /// called), or this was called before the helpers returned (a caller's bug).
    pub fn finish(&self) -> UnusedResults {
        let results = std::mem::take(&mut *self.results.lock().unwrap_or_else(PoisonError::into_inner));
        UnusedResults(results.into_iter().map(|r| r.expect("every unit was checked before finish")).collect())
    }
}

/// The stale and takeover signals of every unit: each unique package version is judged once for
/// the whole scan, then every unit that ships it gets its signals (in parallel, results in unit
/// order); coverage counts each unit's shipping of a version once, reasons summed over the scan.
pub fn registry_signals(units: &[&Unit], facts: &FactsMap, checks: &RegistryChecks, now: Timestamp) -> RegistryResults {
    let histories = Histories::new(units, facts);
    let stale_judged = stale::judge_in(&histories, &checks.stale, now);
    let takeover_judged = takeover::judge_in(&histories, facts, &checks.takeover, now);
    drop(histories);
    let signals = units
        .par_iter()
        .map(|u| {
            let packages = registry_packages(u);
            let mut signals = stale_judged.signals_of(&packages);
            signals.extend(takeover_judged.signals_of(&packages));
            signals
        })
        .collect();
    let mut coverage = stale_judged.coverage(&stale::codes());
    coverage.extend(takeover_judged.coverage(&takeover::FACT_CODES));
    RegistryResults { signals, coverage }
}

/// Adds each family's results to the units they were computed on (the same units, in the same
/// order): signals in the order hygiene, unused, stale, takeover; each vulnerability marked
/// reachable or not by the unused check; coverage summed per code over units; what the unused
/// check could not read, as warnings (once each).
///
/// # Panics
/// When a family does not hold one result per unit (a caller's bug).
pub fn combine(mut assessed: Assessed, checked: Checked) -> Assessed {
    let Checked { hygiene, unused, registry } = checked;
    let n = assessed.units.len();
    assert!(hygiene.len() == n && unused.0.len() == n && registry.signals.len() == n, "one result per unit and family");
    let mut totals = Totals::default();
    let per_unit = hygiene.into_iter().zip(unused.0).zip(registry.signals);
    // units reading one folder share its code, and its problems: each is warned once
    let mut warned = std::collections::BTreeSet::new();
    for (a, ((hygiene, unused), registry_signals)) in assessed.units.iter_mut().zip(per_unit) {
        a.signals.extend(hygiene);
        a.signals.extend(unused.signals);
        a.signals.extend(registry_signals);
        if let Some(reach) = unused.reachability {
            for h in &mut a.hits {
                h.reachable = reach.of(&a.unit, h.node);
            }
        }
        for c in unused.coverage {
            totals.add(c);
        }
        for d in unused.diagnostics {
            if warned.insert(d.clone()) {
                assessed.warnings.push(d);
            }
        }
    }
    for c in registry.coverage {
        totals.add(c);
    }
    let mut totals = totals.finish();
    totals.sort();
    assessed.coverage.extend(totals);
    assessed
}

/// Thresholds and allow-lists of the checks that judge registry metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryChecks {
    pub stale: StaleConfig,
    pub takeover: TakeoverConfig,
}

/// The coverage of each code summed over units, in first-seen order: counts added, each unit's
/// reason appended once (`"; "`-joined, skipped when it equals a reason already there).
#[derive(Default)]
struct Totals {
    codes: Vec<(Coverage, HashSet<String>)>,
    at: HashMap<Code, usize>,
}

impl Totals {
    /// Adds one unit's coverage of a code. The reasons already joined are kept as a set, so a
    /// repeated reason costs one lookup, not a scan of the joined text.
    fn add(&mut self, c: Coverage) {
        let Some(&i) = self.at.get(&c.code) else {
            self.at.insert(c.code, self.codes.len());
            let seen = c.reason.as_deref().map(pieces).unwrap_or_default();
            self.codes.push((c, seen));
            return;
        };
        let (total, seen) = &mut self.codes[i];
        total.evaluated += c.evaluated;
        total.total += c.total;
        let Some(reason) = c.reason else { return };
        match &mut total.reason {
            Some(_) if seen.contains(&reason) => {}
            Some(joined) => {
                joined.push_str("; ");
                joined.push_str(&reason);
                seen.extend(pieces(&reason));
            }
            None => {
                *seen = pieces(&reason);
                total.reason = Some(reason);
            }
        }
    }

    fn finish(self) -> Vec<Coverage> {
        self.codes.into_iter().map(|(c, _)| c).collect()
    }
}

/// The `"; "`-separated parts of a reason.
fn pieces(reason: &str) -> HashSet<String> {
    reason.split("; ").map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Ecosystem, Scope};
    use crate::policy::AssessedUnit;
    use crate::risk::history::testing::{VersionExt, facts_map, package, t, unit, v};

    #[test]
    fn registry_checks_add_signals_and_summed_coverage() {
        let facts = facts_map(vec![package(
            Ecosystem::Npm,
            "lib",
            vec![
                v("1.0.0", "2024-01-01T00:00:00Z"),
                v("1.0.1", "2024-06-01T00:00:00Z").script("postinstall", "node x"),
            ],
        )]);
        let locked = [(Ecosystem::Npm, "lib", "1.0.1", Scope::Prod), (Ecosystem::Npm, "other", "2.0.0", Scope::Prod)];
        let units = (0..2).map(|_| AssessedUnit { unit: unit(&locked), hits: Vec::new(), signals: Vec::new() });
        let assessed = Assessed { units: units.collect(), ..Assessed::default() };
        let now = t("2024-06-01T12:00:00Z");
        let inputs = Inputs {
            today: now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
            now,
            facts: &facts,
            registry: &RegistryChecks::default(),
            unused: &UnusedConfig::default(),
        };
        let out = assess(assessed, &inputs);
        for a in &out.units {
            let codes: Vec<&str> = a.signals.iter().map(|s| s.code.as_str()).collect();
            assert_eq!(codes, ["takeover/too-fresh", "takeover/install-script-added"]);
        }
        let fresh = out.coverage.iter().find(|c| c.code == takeover::TOO_FRESH).expect("coverage");
        assert_eq!((fresh.evaluated, fresh.total), (2, 4));
        // Counted over the scan: the reason's count is the number not evaluated (once per unit).
        assert_eq!(fresh.reason.as_deref(), Some("no registry facts for the package (2)"));
        assert_eq!(out.coverage.len(), stale::CODES.len() + takeover::CODES.len() - 1, "all but malicious");
    }

    /// Units handed out one at a time: however many threads help, and when they join, each unit
    /// gets the result the check gives it alone, in unit order.
    #[test]
    fn unused_work_gives_each_unit_its_own_result_whoever_helps() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/unused");
        let extracted =
            crate::scan::extract::collect_timed(&[root], &[], &crate::bundle::Excludes::default(), true, None);
        let units: Vec<&Unit> = extracted.units.iter().collect();
        assert!(units.len() >= 4, "the fixture has functions in four ecosystems");
        let cfg = UnusedConfig::default();
        let alone: Vec<String> = {
            let codes = CodeCache::new(
                units.iter().filter_map(|u| unused::code_key(u, &cfg)),
                CodeLimits::default(),
                &extracted.listing,
            );
            units.iter().map(|u| format!("{:?}", unused::check_unit(u, &cfg, &codes))).collect()
        };
        assert!(alone.iter().any(|r| r.contains("unused/declared")), "the fixture has unused packages");
        let work = UnusedWork::new(&units, &cfg, &extracted.listing);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| work.help());
            }
            work.help();
        });
        let helped: Vec<String> = work.finish().0.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(helped, alone);
        // a thread that helps after every unit was taken finds nothing left
        let late = UnusedWork::new(&units, &cfg, &extracted.listing);
        late.help();
        late.help();
        let late: Vec<String> = late.finish().0.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(late, alone);
    }

    #[test]
    fn the_policy_knows_the_registry_codes() {
        let text = "[levels]\n\"takeover/burst\" = \"off\"\n\"stale/outdated\" = \"info\"\n\"takeover/new-publisher\" = \"high\"\n";
        let policy = crate::policy::Policy::from_bundleguard_toml(std::path::Path::new("bundleguard.toml"), text)
            .expect("stale and takeover codes are known");
        assert_eq!(policy.setting(takeover::BURST, crate::vocab::Level::Low), crate::policy::Setting::Off);
        assert_eq!(policy.setting(stale::OUTDATED, crate::vocab::Level::Low), crate::policy::Setting::Info);
        let bad = crate::policy::Policy::from_bundleguard_toml(
            std::path::Path::new("bundleguard.toml"),
            "[levels]\n\"takeover/nope\" = \"off\"\n",
        )
        .expect_err("unknown code");
        assert!(bad.to_string().contains("takeover/too-fresh"), "{bad}");
    }
}
