//! Per-phase wall times of one scan, for benchmarks and profiling (`benches/scan_phases.rs`).
//! Off unless the caller sets [`super::ScanOptions::phases`]; when off, a phase costs one
//! branch and no clock read. Some phases run side by side ([`Phase::overlapped`]): the unused
//! check from the open to the end of the record, the metadata and the stale and takeover checks
//! beside the match. Their times
//! overlap the others', so the phases of one scan add up to more than its wall time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The stages of [`super::run`], in the order they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// The policy file, VEX documents and the baseline.
    Policy,
    /// Discovery: the one walk of the scanned folders and the templates it finds.
    Walk,
    /// Reading and parsing every lockfile and artifact (in parallel).
    Parse,
    /// The unused check: reading each function's code and scanning its imports (in parallel
    /// over units), beside the open, the match and the record.
    Unused,
    /// Opening the advisory database (and syncing what it lacks, when allowed).
    Open,
    /// Store reads of the affected-index rows of every unique package, and their decoding.
    Candidates,
    /// Evaluating the candidates against each package's version (in memory, in parallel).
    Evaluate,
    /// Store reads of the matched advisories' metadata, and grouping by aliases.
    Advisories,
    /// The labels of the matched advisories (malicious, informational) that choose their code.
    Labels,
    /// Attaching the vulnerabilities to every unit, with paths and lockfile lines.
    Attach,
    /// Registry metadata (the cache, or the registries when online), on its own connection,
    /// beside the match.
    Metadata,
    /// The stale and takeover checks (each unique package version judged once, then every
    /// unit's signals), right after the metadata, beside the match.
    Registry,
    /// The hygiene check (beside the match's end) and adding every family's results to the
    /// units.
    Assess,
    /// Recording in the inventory, before the judgement (while the unused check ends).
    Record,
    /// The policy's judgement.
    Judge,
    /// Each unit's fix plan (its target versions matched against the database).
    FixPlan,
}

impl Phase {
    /// Every phase, in the order they run.
    pub const ALL: [Phase; 16] = [
        Phase::Policy,
        Phase::Walk,
        Phase::Parse,
        Phase::Unused,
        Phase::Open,
        Phase::Candidates,
        Phase::Evaluate,
        Phase::Advisories,
        Phase::Labels,
        Phase::Attach,
        Phase::Metadata,
        Phase::Registry,
        Phase::Assess,
        Phase::Record,
        Phase::Judge,
        Phase::FixPlan,
    ];

    /// Whether the phase runs beside others (its time is not on the scan's critical path alone).
    pub fn overlapped(self) -> bool {
        matches!(self, Phase::Unused | Phase::Metadata | Phase::Registry)
    }

    /// A short lowercase name for tables; a phase that runs beside others is marked `(||)`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Policy => "policy",
            Phase::Walk => "walk",
            Phase::Parse => "read+parse",
            Phase::Unused => "unused check (||)",
            Phase::Open => "open db",
            Phase::Candidates => "match: candidates",
            Phase::Evaluate => "match: evaluate",
            Phase::Advisories => "match: advisories",
            Phase::Labels => "match: labels",
            Phase::Attach => "match: attach",
            Phase::Metadata => "metadata (||)",
            Phase::Registry => "stale+takeover (||)",
            Phase::Assess => "assess",
            Phase::Judge => "judge",
            Phase::FixPlan => "fix plan",
            Phase::Record => "record",
        }
    }
}

/// The wall time of each phase of the scans run with it (a phase run twice is summed).
#[derive(Debug, Default)]
pub struct PhaseTimes {
    times: Mutex<Vec<(Phase, Duration)>>,
}

impl PhaseTimes {
    /// The recorded times, in the order the phases ended, leaving none behind.
    pub fn take(&self) -> Vec<(Phase, Duration)> {
        std::mem::take(&mut *self.times.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The total time of one phase among the recorded ones.
    pub fn total(times: &[(Phase, Duration)], phase: Phase) -> Duration {
        times.iter().filter(|(p, _)| *p == phase).map(|(_, d)| *d).sum()
    }

    pub(crate) fn add(&self, phase: Phase, elapsed: Duration) {
        self.times.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((phase, elapsed));
    }
}

/// Runs `f`, recording its wall time as `phase` when `times` is set.
pub(crate) fn timed<T>(times: Option<&PhaseTimes>, phase: Phase, f: impl FnOnce() -> T) -> T {
    match times {
        None => f(),
        Some(times) => {
            let start = Instant::now();
            let out = f();
            times.add(phase, start.elapsed());
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_recorded_only_when_asked() {
        let times = PhaseTimes::default();
        assert_eq!(timed(None, Phase::Walk, || 1), 1);
        assert!(times.take().is_empty());
        assert_eq!(timed(Some(&times), Phase::Walk, || 2), 2);
        timed(Some(&times), Phase::Walk, || ());
        timed(Some(&times), Phase::Judge, || ());
        let taken = times.take();
        assert_eq!(taken.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [Phase::Walk, Phase::Walk, Phase::Judge]);
        assert!(PhaseTimes::total(&taken, Phase::Walk) >= taken[0].1);
        assert!(times.take().is_empty());
    }
}
