//! The `stale` check: locked versions that are deprecated, yanked, unmaintained or far behind,
//! read from cached registry metadata ([`PackageFacts`]). Pure: facts, thresholds and the clock
//! are passed in. RustSec informational `unmaintained` advisories reach `stale/unmaintained`
//! from the advisory side (see `takeover::malicious::advisory_code`).
//!
//! | code | default level | fires when (registry fields) | false-positive guard |
//! |---|---|---|---|
//! | `stale/deprecated` | low | npm `deprecated` on the version; PEP 792 `deprecated` project status; Go module `// Deprecated:` | an un-deprecated version (npm clears the message) passes |
//! | `stale/yanked` | medium | PyPI file `yanked`, crates.io index `yanked`, Go `retract` | npm has no yank (unpublished versions vanish): not evaluated there, by design |
//! | `stale/unmaintained` | low | PEP 792 `archived` (or `quarantined`) status, or no release of the package for `unmaintained_after` (2 years) | the newest release of *any* line counts as activity |
//! | `stale/outdated` | low | the newest stable version is `max_lines_behind` (2) or more release lines ahead, or `max_libyears` (2 years) or more newer (libyears: publish time of the newest minus that of the locked version) | pre-releases are never "newest"; the registry's own `latest` tag wins |
//!
//! Unknown is not clean: a package whose inputs are missing counts as not evaluated in the
//! [`Coverage`] of that code, with the reason. When the policy marks an ecosystem's registry
//! times as untrusted, or a package's times look rewritten by a mirror (checked where the facts
//! enter, [`crate::registry::times::vet`], which drops the times and says why in
//! [`PackageFacts::dropped_times`](crate::registry::facts::PackageFacts)), the time-based parts
//! (no release for N years, libyears) are not evaluated there. Allowed packages (`allow`) are skipped and not counted.

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::history::{
    self, AllowList, FactsMap, Histories, History, Hit, Judged, Judgments, Outcome, fmt_days, fmt_time, truncate,
};
use super::{Coverage, Signal};
use crate::bundle::Unit;
use crate::package::Ecosystem;
use crate::registry::facts::ProjectStatus;
use crate::vocab::{Code, Level};

pub const DEPRECATED: Code = Code::new("stale/deprecated");
pub const YANKED: Code = Code::new("stale/yanked");
pub const UNMAINTAINED: Code = Code::new("stale/unmaintained");
pub const OUTDATED: Code = Code::new("stale/outdated");

/// Every code of this check with its default level and a one-line doc.
pub const CODES: &[(Code, Level, &str)] = &[
    (DEPRECATED, Level::Low, "the version or the project is deprecated (npm, PEP 792, Go // Deprecated:)"),
    (YANKED, Level::Medium, "the version is yanked (PyPI, crates.io) or retracted (Go)"),
    (UNMAINTAINED, Level::Low, "archived project, RustSec unmaintained advisory, or no release for 2 years"),
    (OUTDATED, Level::Low, "2 or more release lines or 2 or more libyears behind the newest version"),
];

/// How much of a registry message (deprecation, yank reason) a signal quotes.
const MESSAGE_QUOTE_LEN: usize = 200;

/// Thresholds and exceptions; [`Default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleConfig {
    /// `unmaintained`: no release of the package for this long.
    pub unmaintained_after: SignedDuration,
    /// `outdated`: libyears (as a duration) between the locked and the newest version.
    pub max_libyears: SignedDuration,
    /// `outdated`: release lines between the locked and the newest version.
    pub max_lines_behind: usize,
    /// Ecosystems whose registry publish times the policy does not trust.
    pub untrusted_times: BTreeSet<Ecosystem>,
    pub allow: AllowList,
}

impl Default for StaleConfig {
    fn default() -> StaleConfig {
        StaleConfig {
            unmaintained_after: SignedDuration::from_hours(2 * 365 * 24),
            max_libyears: SignedDuration::from_hours(2 * 365 * 24),
            max_lines_behind: 2,
            untrusted_times: BTreeSet::new(),
            allow: AllowList::new(),
        }
    }
}

/// The stale signals of one unit and, per code, how many registry packages could be evaluated.
/// Over many units, [`judge`] once and [`Judgments::apply`] per unit.
pub fn check(unit: &Unit, facts: &FactsMap, cfg: &StaleConfig, now: Timestamp) -> (Vec<Signal>, Vec<Coverage>) {
    judge(&[unit], facts, cfg, now).apply(unit, &codes())
}

/// The codes of this check, in report order.
pub fn codes() -> Vec<Code> {
    CODES.iter().map(|(c, _, _)| *c).collect()
}

/// Judges every unique registry package version of `units` once.
pub fn judge<'a>(units: &[&'a Unit], facts: &'a FactsMap, cfg: &StaleConfig, now: Timestamp) -> Judgments<'a> {
    judge_in(&Histories::new(units, facts), cfg, now)
}

/// [`judge`] over histories prepared once for all registry checks.
pub fn judge_in<'a>(histories: &Histories<'a>, cfg: &StaleConfig, now: Timestamp) -> Judgments<'a> {
    Judgments::of(histories, &cfg.allow, &cfg.untrusted_times, |located| judge_one(located, cfg, now))
}

/// The stale outcomes of one locked package version.
fn judge_one(located: &history::Located<'_>, cfg: &StaleConfig, now: Timestamp) -> Judged {
    let (h, untrusted) = (&located.history, located.untrusted.as_deref());
    let (not_evaluated, hits) = history::split(vec![
        (DEPRECATED, deprecated(h)),
        (YANKED, yanked(h)),
        (UNMAINTAINED, unmaintained(h, cfg, now, untrusted)),
        (OUTDATED, outdated(h, cfg, untrusted)),
    ]);
    let hits = hits.into_iter().map(|(code, hit)| (code, default_level(code), hit)).collect();
    Judged::Evaluated { not_evaluated, hits }
}

/// The default level of a code of this check.
pub fn default_level(code: Code) -> Level {
    CODES.iter().find(|(c, _, _)| *c == code).map_or(Level::Low, |(_, l, _)| *l)
}

fn subject(h: &History<'_>) -> String {
    format!("{}@{}", h.package.name, h.this.facts.version)
}

fn deprecated(h: &History<'_>) -> Outcome {
    let this = h.this.facts;
    if let Some(message) = &this.deprecated {
        return Outcome::Flag(
            Hit::new(format!("{} is deprecated: {}", subject(h), truncate(message, MESSAGE_QUOTE_LEN)))
                .with("deprecated", truncate(message, MESSAGE_QUOTE_LEN)),
        );
    }
    if let Some(ProjectStatus::Deprecated { message }) = &h.package.status {
        let text = message.as_deref().map(|m| truncate(m, MESSAGE_QUOTE_LEN)).unwrap_or_default();
        return Outcome::Flag(
            Hit::new(format!(
                "the project {} is deprecated{}",
                h.package.name,
                if text.is_empty() { String::new() } else { format!(": {text}") }
            ))
            .with("project_status", "deprecated")
            .with("message", text),
        );
    }
    if this.deprecation_known || h.package.status.is_some() {
        return Outcome::Pass;
    }
    Outcome::NotEvaluated(match h.ecosystem {
        Ecosystem::CratesIo => "crates.io has no deprecation (by design)".into(),
        eco => format!("{eco} deprecation status unknown"),
    })
}

fn yanked(h: &History<'_>) -> Outcome {
    let this = h.this.facts;
    if let Some(reason) = &this.yanked {
        let word = if h.ecosystem == Ecosystem::Go { "retracted" } else { "yanked" };
        let mut hit = Hit::new(format!("{} is {word}", subject(h))).with("status", word);
        if !reason.trim().is_empty() {
            hit = Hit::new(format!("{} is {word}: {}", subject(h), truncate(reason, MESSAGE_QUOTE_LEN)))
                .with("status", word)
                .with("reason", truncate(reason, MESSAGE_QUOTE_LEN));
        }
        return Outcome::Flag(hit);
    }
    if this.yank_known {
        return Outcome::Pass;
    }
    Outcome::NotEvaluated(match h.ecosystem {
        Ecosystem::Npm => "npm has no yank: unpublished versions disappear (by design)".into(),
        eco => format!("{eco} yank status unknown"),
    })
}

fn unmaintained(h: &History<'_>, cfg: &StaleConfig, now: Timestamp, untrusted: Option<&str>) -> Outcome {
    match &h.package.status {
        Some(ProjectStatus::Archived) => {
            return Outcome::Flag(
                Hit::new(format!("the project {} is archived", h.package.name)).with("project_status", "archived"),
            );
        }
        Some(ProjectStatus::Quarantined) => {
            return Outcome::Flag(
                Hit::new(format!("the project {} is quarantined by the index", h.package.name))
                    .with("project_status", "quarantined"),
            );
        }
        _ => {}
    }
    if let Some(reason) = untrusted {
        return Outcome::NotEvaluated(reason.to_owned());
    }
    let Some(last) = h.last_published() else {
        return Outcome::NotEvaluated("publish times unknown".into());
    };
    let silence = now.duration_since(last.0);
    if silence < cfg.unmaintained_after {
        return Outcome::Pass;
    }
    Outcome::Flag(
        Hit::new(format!(
            "{} has had no release for {} (last: {} on {})",
            h.package.name,
            fmt_days(silence),
            last.1.facts.version,
            fmt_time(last.0)
        ))
        .with("last_release", last.1.facts.version.clone())
        .with("last_published", fmt_time(last.0))
        .with("threshold", fmt_days(cfg.unmaintained_after)),
    )
}

fn outdated(h: &History<'_>, cfg: &StaleConfig, untrusted: Option<&str>) -> Outcome {
    let (Some(newest), Some(this_version)) = (h.newest(), h.version(&h.this)) else {
        return Outcome::NotEvaluated("no comparable newest version".into());
    };
    let Some(newest_version) = h.version(&newest) else {
        return Outcome::NotEvaluated("the newest version does not parse".into());
    };
    if newest_version <= this_version {
        return Outcome::Pass;
    }
    let lines_behind: BTreeSet<_> = std::iter::once(&newest)
        .chain(h.others())
        .filter(|e| h.version(e).is_some_and(|v| v > this_version && v <= newest_version && !v.is_prerelease()))
        .filter_map(|e| e.line)
        .filter(|l| Some(*l) != h.this.line)
        .collect();
    let libyears = match (untrusted, h.this.facts.published, newest.facts.published) {
        (None, Some(a), Some(b)) => Some(b.duration_since(a)),
        _ => None,
    };
    let too_many_lines = lines_behind.len() >= cfg.max_lines_behind;
    let too_old = libyears.is_some_and(|d| d >= cfg.max_libyears);
    if !too_many_lines && !too_old {
        return match libyears {
            Some(_) => Outcome::Pass,
            None => Outcome::NotEvaluated(
                untrusted.map_or_else(|| "publish time of the locked or newest version unknown".into(), str::to_owned),
            ),
        };
    }
    let years = libyears.map(|d| d.as_secs_f64() / (365.25 * 86_400.0));
    let mut hit = Hit::new(format!(
        "{} is {} release line(s){} behind {}",
        subject(h),
        lines_behind.len(),
        years.map(|y| format!(" and {y:.1} libyears")).unwrap_or_default(),
        newest.facts.version
    ))
    .with("newest", newest.facts.version.clone())
    .with("lines_behind", lines_behind.len().to_string());
    if let Some(y) = years {
        hit = hit.with("libyears", format!("{y:.1}"));
    }
    Outcome::Flag(hit)
}
