//! The assess stage: every risk check family runs over the matched units and adds its signals;
//! checks are independent of one another (`risk/`), this module only feeds them their inputs.

use jiff::civil::Date;

use crate::bundle::code::{self, CodeLimits};
use crate::bundle::{Unit, UnitKind};
use crate::policy::Assessed;
use crate::risk::unused::{self, UnusedConfig};
use crate::risk::{Signal, hygiene};
use crate::vocab::Coverage;

/// Runs the risk checks on every unit.
pub fn assess(mut assessed: Assessed, today: Date) -> Assessed {
    let unused_cfg = UnusedConfig::default();
    let signals: Vec<_> = assessed
        .units
        .iter()
        .map(|a| {
            let twin = a.unit.lockfile_twin.map(|i| &assessed.units[i].unit.graph);
            let mut signals = hygiene::check(&a.unit, twin, today);
            let (unused_signals, coverage) = unused_of(&a.unit, &unused_cfg);
            signals.extend(unused_signals);
            (signals, coverage)
        })
        .collect();
    for (a, (s, coverage)) in assessed.units.iter_mut().zip(signals) {
        a.signals.extend(s);
        merge_coverage(&mut assessed.coverage, coverage);
    }
    assessed
}

/// The unused-package check: `unused/declared` and `hygiene/undeclared-import` from a
/// function's code folder; `unused/shipped` from the code a zip holds.
fn unused_of(unit: &Unit, cfg: &UnusedConfig) -> (Vec<Signal>, Vec<Coverage>) {
    if let Some(artifact) = unit.artifact.as_deref() {
        let code = code::from_artifact(artifact);
        let analysis = unused::analyze(unit, &code, cfg);
        return unused::shipped(unit, &analysis, cfg);
    }
    match unit.code_dir.as_deref() {
        Some(dir) if unit.kind == UnitKind::Function => {
            let extra: Vec<_> = unit
                .file
                .parent()
                .filter(|p| !p.starts_with(dir))
                .map(std::path::Path::to_path_buf)
                .into_iter()
                .collect();
            let code = code::read_function_code(dir, &extra, &CodeLimits::default());
            unused::check(unit, &code, cfg)
        }
        _ => (Vec::new(), Vec::new()),
    }
}

/// One coverage line per code over all units.
fn merge_coverage(all: &mut Vec<Coverage>, more: Vec<Coverage>) {
    for c in more {
        match all.iter_mut().find(|a| a.code == c.code) {
            Some(a) => {
                a.evaluated += c.evaluated;
                a.total += c.total;
                a.reason = a.reason.take().or(c.reason);
            }
            None => all.push(c),
        }
    }
}
