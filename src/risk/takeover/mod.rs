//! The `takeover` check: marks of a maintainer takeover on the locked version of each registry
//! package, read from cached registry metadata ([`PackageFacts`]) before any advisory exists.
//! Pure: the facts, the thresholds and the clock are passed in.
//!
//! | code | default level | fires when (registry fields) | false-positive guard |
//! |---|---|---|---|
//! | `takeover/too-fresh` | medium | the version was published less than `cooldown` (1 day) before `now` (publish time) | none needed: a cooldown, as pnpm's `minimumReleaseAge` |
//! | `takeover/new-publisher` | medium | the publishing account published none of the versions published before (npm `_npmUser`, crates.io `published_by`) | first version exempt; an earlier version with an unknown publisher makes it not evaluated rather than flagged |
//! | `takeover/maintainer-change` | medium | the per-version maintainer list differs from the one of the last version published at least `maintainer_window` (30 days) earlier (npm `maintainers`) | compares sets, not order; first version exempt |
//! | `takeover/dormant-revival` | medium | the previous release (by publish time) is more than `dormancy` (365 days) older | first version exempt |
//! | `takeover/install-script-added` | high | a `preinstall`/`install`/`postinstall` script that the predecessor on the same release line lacked (npm `scripts`) | compared within the release line, by version order |
//! | `takeover/install-script-changed` | medium | such a script present in the predecessor with another command | as above |
//! | `takeover/provenance-downgrade` | high | versions of the same release line published *earlier* had provenance or trusted publishing, this one has none (npm `dist.attestations`, PEP 740, crates.io trusted publishing) | only the same line, only earlier by publish time: a back-ported maintenance release is not compared with newer lines (pnpm's known false positive) |
//! | `takeover/new-dependency` | high | a runtime dependency the predecessor did not have is itself brand new (first published less than `new_dependency_age`, 30 days, before this version) or had at most one version when this version was published (the dependency's facts must be in the map) | only added dependencies; known, established dependencies pass |
//! | `takeover/burst` | low | versions on two or more release lines were published within `burst_window` (1 hour) of this one | low level alone: maintainers do back-port fixes to several lines at once; it matters when it coincides |
//! | `takeover/malicious` | critical | from the advisory database, not from registry facts: see [`malicious::advisory_code`] | an advisory counts as the database holds it |
//!
//! **Coinciding signals raise the level.** On one package version, when `n` distinct signals other
//! than `too-fresh` fire, each of them is raised by `n - 1` levels (at most critical) and carries
//! a `coincides_with` evidence naming the others. `too-fresh` alone says only "young", so it
//! neither raises nor is raised.
//!
//! **Unknown is not clean.** A signal whose inputs are `None` for a package counts the package as
//! not evaluated in its [`Coverage`], with the reason (facts a registry never gives, such as the
//! PyPI uploader, are "by design"). When the policy marks an ecosystem's registry times as
//! untrusted (`untrusted_times`), or a package's times look rewritten by a mirror
//! (releases running backwards within a line, a long history inside one day: checked where the
//! facts enter, [`crate::registry::times::vet`], which drops the times and says why), every
//! time-based signal is not evaluated there: all but the install-script signals. The first version of a new release line is compared, for install scripts and added
//! dependencies, with the nearest lower version published at least `burst_window` before it, so
//! versions of one burst do not hide each other. A package's first version has no history: the signals that need
//! one pass. Allowed packages (`allow`) are skipped and not counted.

pub mod malicious;
mod signals;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::history::{self, AllowList, FactsMap, Histories, Judged, Judgments};
use super::{Coverage, Evidence, Signal};
use crate::bundle::Unit;
use crate::package::Ecosystem;
use crate::vocab::{Code, Level};

pub const TOO_FRESH: Code = Code::new("takeover/too-fresh");
pub const NEW_PUBLISHER: Code = Code::new("takeover/new-publisher");
pub const MAINTAINER_CHANGE: Code = Code::new("takeover/maintainer-change");
pub const DORMANT_REVIVAL: Code = Code::new("takeover/dormant-revival");
pub const INSTALL_SCRIPT_ADDED: Code = Code::new("takeover/install-script-added");
pub const INSTALL_SCRIPT_CHANGED: Code = Code::new("takeover/install-script-changed");
pub const PROVENANCE_DOWNGRADE: Code = Code::new("takeover/provenance-downgrade");
pub const NEW_DEPENDENCY: Code = Code::new("takeover/new-dependency");
pub const BURST: Code = Code::new("takeover/burst");
/// The same code as [`crate::risk::MALICIOUS`] (advisory-backed), listed here with the family.
pub const MALICIOUS: Code = crate::risk::MALICIOUS;

/// Every code of this check with its default level and a one-line doc.
pub const CODES: &[(Code, Level, &str)] = &[
    (TOO_FRESH, Level::Medium, "the locked version is younger than the cooldown (default 1 day)"),
    (NEW_PUBLISHER, Level::Medium, "published by an account that published no earlier version"),
    (MAINTAINER_CHANGE, Level::Medium, "maintainers added or removed shortly before this version (default 30 days)"),
    (DORMANT_REVIVAL, Level::Medium, "first release after a silence (default 1 year)"),
    (INSTALL_SCRIPT_ADDED, Level::High, "an install script absent from the previous version of the same release line"),
    (INSTALL_SCRIPT_CHANGED, Level::Medium, "an install script that differs from the previous version's"),
    (PROVENANCE_DOWNGRADE, Level::High, "earlier versions of the same release line had provenance, this one has none"),
    (NEW_DEPENDENCY, Level::High, "adds a dependency that is itself brand new or single-version"),
    (BURST, Level::Low, "versions on two or more release lines published within an hour"),
    (MALICIOUS, Level::Critical, "an advisory classifies the package as malicious (OSV MAL- record, CWE-506)"),
];

/// Thresholds and exceptions; [`Default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeoverConfig {
    /// `too-fresh`: minimum age of the locked version.
    pub cooldown: SignedDuration,
    /// `new-publisher` has no threshold. `maintainer-change`: how far back "shortly before" reaches.
    pub maintainer_window: SignedDuration,
    /// `dormant-revival`: the silence that makes a release a revival.
    pub dormancy: SignedDuration,
    /// `new-dependency`: a dependency first published less than this before the version is new.
    pub new_dependency_age: SignedDuration,
    /// `burst`: versions on several lines within this span.
    pub burst_window: SignedDuration,
    /// Ecosystems whose registry publish times the policy does not trust.
    pub untrusted_times: BTreeSet<Ecosystem>,
    pub allow: AllowList,
}

impl Default for TakeoverConfig {
    fn default() -> TakeoverConfig {
        TakeoverConfig {
            cooldown: SignedDuration::from_hours(24),
            maintainer_window: SignedDuration::from_hours(30 * 24),
            dormancy: SignedDuration::from_hours(365 * 24),
            new_dependency_age: SignedDuration::from_hours(30 * 24),
            burst_window: SignedDuration::from_hours(1),
            untrusted_times: BTreeSet::new(),
            allow: AllowList::new(),
        }
    }
}

/// The codes judged from registry facts (all but `malicious`), in report order.
pub const FACT_CODES: [Code; 9] = [
    TOO_FRESH,
    NEW_PUBLISHER,
    MAINTAINER_CHANGE,
    DORMANT_REVIVAL,
    INSTALL_SCRIPT_ADDED,
    INSTALL_SCRIPT_CHANGED,
    PROVENANCE_DOWNGRADE,
    NEW_DEPENDENCY,
    BURST,
];

/// The takeover signals of one unit and, per code, how many of its registry packages could be
/// evaluated. Over many units, [`judge`] once and [`Judgments::apply`] per unit with
/// [`FACT_CODES`].
pub fn check(unit: &Unit, facts: &FactsMap, cfg: &TakeoverConfig, now: Timestamp) -> (Vec<Signal>, Vec<Coverage>) {
    judge(&[unit], facts, cfg, now).apply(unit, &FACT_CODES)
}

/// Judges every unique registry package version of `units` once.
pub fn judge<'a>(units: &[&'a Unit], facts: &'a FactsMap, cfg: &TakeoverConfig, now: Timestamp) -> Judgments<'a> {
    judge_in(&Histories::new(units, facts), facts, cfg, now)
}

/// [`judge`] over histories prepared once for all registry checks (`facts` holds those of the
/// added dependencies).
pub fn judge_in<'a>(
    histories: &Histories<'a>,
    facts: &FactsMap,
    cfg: &TakeoverConfig,
    now: Timestamp,
) -> Judgments<'a> {
    Judgments::of(histories, &cfg.allow, &cfg.untrusted_times, |located| {
        let ctx = signals::Ctx::new(&located.history, cfg, now, facts, located.untrusted.clone());
        let (not_evaluated, hits) = history::split(signals::evaluate(&ctx));
        Judged::Evaluated { not_evaluated, hits: coincide(hits) }
    })
}

/// The default level of a code of this check.
pub fn default_level(code: Code) -> Level {
    CODES.iter().find(|(c, _, _)| *c == code).map_or(Level::Medium, |(_, l, _)| *l)
}

/// Applies the coincidence rule (module doc) to the hits of one package version.
fn coincide(hits: Vec<(Code, history::Hit)>) -> Vec<(Code, Level, history::Hit)> {
    let strong: Vec<Code> = hits.iter().map(|(c, _)| *c).filter(|c| *c != TOO_FRESH).collect();
    hits.into_iter()
        .map(|(code, mut hit)| {
            let level = default_level(code);
            if code == TOO_FRESH || strong.len() < 2 {
                return (code, level, hit);
            }
            let others: Vec<&str> = strong.iter().filter(|c| **c != code).map(|c| c.as_str()).collect();
            hit.evidence.push(Evidence::new("coincides_with", others.join(", ")));
            (code, history::raise(level, strong.len() - 1), hit)
        })
        .collect()
}
