//! The assess stage: every risk check family runs over the matched units and adds its signals;
//! checks are independent of one another (`risk/`), this module only feeds them their inputs.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::policy::Assessed;
use crate::risk::history::FactsMap;
use crate::risk::stale::{self, StaleConfig};
use crate::risk::takeover::{self, TakeoverConfig};
use crate::risk::{Coverage, hygiene};

/// Runs the risk checks on every unit.
pub fn assess(mut assessed: Assessed, today: Date) -> Assessed {
    let signals: Vec<_> = assessed
        .units
        .iter()
        .map(|a| {
            let twin = a.unit.lockfile_twin.map(|i| &assessed.units[i].unit.graph);
            hygiene::check(&a.unit, twin, today)
        })
        .collect();
    for (a, s) in assessed.units.iter_mut().zip(signals) {
        a.signals.extend(s);
    }
    assessed
}

/// Thresholds and allow-lists of the checks that judge registry metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryChecks {
    pub stale: StaleConfig,
    pub takeover: TakeoverConfig,
}

/// Runs the checks that judge registry metadata (`stale`, `takeover`) on every unit, adding
/// their signals, and their coverage summed over units (a package in two units counts twice).
/// `facts` holds the registry facts of the scanned packages; a package missing from it counts as
/// not evaluated for every code.
pub fn assess_registry(mut assessed: Assessed, facts: &FactsMap, checks: &RegistryChecks, now: Timestamp) -> Assessed {
    let mut coverage: Vec<Coverage> = Vec::new();
    for a in &mut assessed.units {
        let (stale_signals, stale_coverage) = stale::check(&a.unit, facts, &checks.stale, now);
        let (takeover_signals, takeover_coverage) = takeover::check(&a.unit, facts, &checks.takeover, now);
        a.signals.extend(stale_signals);
        a.signals.extend(takeover_signals);
        for c in stale_coverage.into_iter().chain(takeover_coverage) {
            add_coverage(&mut coverage, c);
        }
    }
    assessed.coverage.extend(coverage);
    assessed
}

/// Adds one unit's coverage of a code to the running totals (reasons kept once each).
fn add_coverage(totals: &mut Vec<Coverage>, c: Coverage) {
    let Some(total) = totals.iter_mut().find(|t| t.code == c.code) else {
        totals.push(c);
        return;
    };
    total.evaluated += c.evaluated;
    total.total += c.total;
    total.reason = match (total.reason.take(), c.reason) {
        (Some(a), Some(b)) if a.split("; ").any(|r| r == b) => Some(a),
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    };
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
        let out = assess_registry(assessed, &facts, &RegistryChecks::default(), t("2024-06-01T12:00:00Z"));
        for a in &out.units {
            let codes: Vec<&str> = a.signals.iter().map(|s| s.code.as_str()).collect();
            assert_eq!(codes, ["takeover/too-fresh", "takeover/install-script-added"]);
        }
        let fresh = out.coverage.iter().find(|c| c.code == takeover::TOO_FRESH).expect("coverage");
        assert_eq!((fresh.evaluated, fresh.total), (2, 4));
        assert_eq!(fresh.reason.as_deref(), Some("no registry facts for the package (1)"));
        assert_eq!(out.coverage.len(), stale::CODES.len() + takeover::CODES.len() - 1, "all but malicious");
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
