//! One function per takeover signal: each reads the [`History`] of one locked version and
//! returns an [`Outcome`] (pass, flag with evidence, or not evaluated with the reason). The
//! rules and their guards are documented in the module doc of `takeover`.

use std::cell::OnceCell;
use std::collections::BTreeSet;

use jiff::Timestamp;

use super::{
    BURST, DORMANT_REVIVAL, INSTALL_SCRIPT_ADDED, INSTALL_SCRIPT_CHANGED, MAINTAINER_CHANGE, NEW_DEPENDENCY,
    NEW_PUBLISHER, PROVENANCE_DOWNGRADE, TOO_FRESH, TakeoverConfig,
};
use crate::package::PackageName;
use crate::risk::history::{
    Earlier, Entry, Fact, FactsMap, History, Hit, Outcome, fmt_days, fmt_time, missing, truncate,
};
use crate::vocab::Code;

/// How much of an install script's command a signal quotes.
const SCRIPT_QUOTE_LEN: usize = 200;

/// npm lifecycle scripts that run on `npm install`.
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

pub(super) struct Ctx<'a> {
    pub h: &'a History<'a>,
    pub cfg: &'a TakeoverConfig,
    pub now: Timestamp,
    pub facts: &'a FactsMap,
    /// Why this package's publish times cannot be used (policy or detected rewrite), if so.
    pub untrusted: Option<String>,
    /// [`Ctx::predecessor`], found on first use (two signals read it).
    previous: OnceCell<Option<Entry<'a>>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        h: &'a History<'a>,
        cfg: &'a TakeoverConfig,
        now: Timestamp,
        facts: &'a FactsMap,
        untrusted: Option<String>,
    ) -> Ctx<'a> {
        Ctx { h, cfg, now, facts, untrusted, previous: OnceCell::new() }
    }

    /// [`History::published_before`] of this version (a slice of the package's versions sorted
    /// once by time); not evaluated when this version's publish time is unknown.
    fn published_before(&self) -> Result<(Earlier<'a, 'a>, usize), Outcome> {
        self.h.published_before().ok_or_else(|| not(missing(self.h.ecosystem, Fact::Published)))
    }

    /// `name@version` for messages.
    fn subject(&self) -> String {
        format!("{}@{}", self.h.package.name, self.h.this.facts.version)
    }

    /// The predecessor (see [`History::predecessor`]), settled a burst window before this
    /// version when its publish time is known and trusted.
    fn predecessor(&self) -> Option<Entry<'a>> {
        *self.previous.get_or_init(|| {
            let settled = self.published().ok().map(|at| before(at, self.cfg.burst_window));
            self.h.predecessor(settled)
        })
    }

    /// This version's publish time, when known and trusted.
    fn published(&self) -> Result<Timestamp, Outcome> {
        if let Some(reason) = &self.untrusted {
            return Err(Outcome::NotEvaluated(reason.clone()));
        }
        self.h.this.facts.published.ok_or_else(|| Outcome::NotEvaluated(missing(self.h.ecosystem, Fact::Published)))
    }
}

/// Every signal of the check for one version, in `FACT_CODES` order.
pub(super) fn evaluate(ctx: &Ctx<'_>) -> Vec<(Code, Outcome)> {
    let (added, changed) = install_scripts(ctx);
    vec![
        (TOO_FRESH, too_fresh(ctx).unwrap_or_else(|o| o)),
        (NEW_PUBLISHER, new_publisher(ctx).unwrap_or_else(|o| o)),
        (MAINTAINER_CHANGE, maintainer_change(ctx).unwrap_or_else(|o| o)),
        (DORMANT_REVIVAL, dormant_revival(ctx).unwrap_or_else(|o| o)),
        (INSTALL_SCRIPT_ADDED, added),
        (INSTALL_SCRIPT_CHANGED, changed),
        (PROVENANCE_DOWNGRADE, provenance_downgrade(ctx).unwrap_or_else(|o| o)),
        (NEW_DEPENDENCY, new_dependency(ctx).unwrap_or_else(|o| o)),
        (BURST, burst(ctx).unwrap_or_else(|o| o)),
    ]
}

fn too_fresh(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let at = ctx.published()?;
    let age = ctx.now.duration_since(at);
    if age >= ctx.cfg.cooldown {
        return Ok(Outcome::Pass);
    }
    Ok(Outcome::Flag(
        Hit::new(format!(
            "{} was published {} ago, within the {} cooldown",
            ctx.subject(),
            fmt_days(age),
            fmt_days(ctx.cfg.cooldown)
        ))
        .with("published", fmt_time(at))
        .with("now", fmt_time(ctx.now))
        .with("cooldown", fmt_days(ctx.cfg.cooldown)),
    ))
}

fn new_publisher(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    ctx.published()?;
    let publisher =
        ctx.h.this.facts.publisher.as_deref().ok_or_else(|| not(missing(ctx.h.ecosystem, Fact::Publisher)))?;
    let (earlier, untimed) = ctx.published_before()?;
    if earlier.iter().any(|e| e.facts.publisher.as_deref() == Some(publisher)) {
        return Ok(Outcome::Pass);
    }
    let known: BTreeSet<&str> = earlier.iter().filter_map(|e| e.facts.publisher.as_deref()).collect();
    if earlier.iter().any(|e| e.facts.publisher.is_none()) {
        return Err(not(format!(
            "publisher of an earlier version unknown: {}",
            missing(ctx.h.ecosystem, Fact::Publisher)
        )));
    }
    if untimed > 0 {
        return Err(not("publish time of other versions unknown".into()));
    }
    let Some(previous) = earlier.last() else {
        return Ok(Outcome::Pass); // the first version: no history
    };
    Ok(Outcome::Flag(
        Hit::new(format!(
            "{} was published by {publisher}, who published none of the {} earlier versions",
            ctx.subject(),
            earlier.len()
        ))
        .with("publisher", publisher)
        .with("previous_publishers", known.into_iter().collect::<Vec<_>>().join(", "))
        .with("previous_version", previous.facts.version.clone())
        .with("published", ctx.h.this.facts.published.map(fmt_time).unwrap_or_default()),
    ))
}

fn maintainer_change(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let at = ctx.published()?;
    let current =
        ctx.h.this.facts.maintainers.as_ref().ok_or_else(|| not(missing(ctx.h.ecosystem, Fact::Maintainers)))?;
    let (earlier, _) = ctx.published_before()?;
    let cutoff = before(at, ctx.cfg.maintainer_window);
    let baseline = earlier.iter().rev().find(|e| e.facts.published.is_some_and(|t| t <= cutoff)).or(earlier.first());
    let Some(baseline) = baseline else {
        return Ok(Outcome::Pass); // the first version
    };
    let before = baseline.facts.maintainers.as_ref().ok_or_else(|| not(missing(ctx.h.ecosystem, Fact::Maintainers)))?;
    if current == before {
        return Ok(Outcome::Pass);
    }
    let now_set: BTreeSet<&str> = current.iter().map(String::as_str).collect();
    let before_set: BTreeSet<&str> = before.iter().map(String::as_str).collect();
    let added: Vec<&str> = now_set.difference(&before_set).copied().collect();
    let removed: Vec<&str> = before_set.difference(&now_set).copied().collect();
    if added.is_empty() && removed.is_empty() {
        return Ok(Outcome::Pass);
    }
    let mut what = Vec::new();
    if !added.is_empty() {
        what.push(format!("added {}", added.join(", ")));
    }
    if !removed.is_empty() {
        what.push(format!("removed {}", removed.join(", ")));
    }
    Ok(Outcome::Flag(
        Hit::new(format!(
            "maintainers of {} changed since {}: {}",
            ctx.subject(),
            baseline.facts.version,
            what.join("; ")
        ))
        .with("maintainers", current.join(", "))
        .with("previous_maintainers", before.join(", "))
        .with("compared_with", baseline.facts.version.clone())
        .with("compared_with_published", baseline.facts.published.map(fmt_time).unwrap_or_default())
        .with("published", fmt_time(at)),
    ))
}

fn dormant_revival(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let at = ctx.published()?;
    let (earlier, untimed) = ctx.published_before()?;
    if untimed > 0 {
        return Err(not("publish time of other versions unknown".into()));
    }
    let Some(previous) = earlier.last() else {
        return Ok(Outcome::Pass);
    };
    let Some(previous_at) = previous.facts.published else {
        return Ok(Outcome::Pass);
    };
    let silence = at.duration_since(previous_at);
    if silence < ctx.cfg.dormancy {
        return Ok(Outcome::Pass);
    }
    Ok(Outcome::Flag(
        Hit::new(format!(
            "{} is the first release after {} of silence (previous: {} on {})",
            ctx.subject(),
            fmt_days(silence),
            previous.facts.version,
            fmt_time(previous_at)
        ))
        .with("published", fmt_time(at))
        .with("previous_version", previous.facts.version.clone())
        .with("previous_published", fmt_time(previous_at))
        .with("silence", fmt_days(silence)),
    ))
}

/// `install-script-added` and `install-script-changed`, against the predecessor on the line.
fn install_scripts(ctx: &Ctx<'_>) -> (Outcome, Outcome) {
    let both = |o: Outcome| (o.clone(), o);
    let Some(scripts) = &ctx.h.this.facts.install_scripts else {
        return both(not(missing(ctx.h.ecosystem, Fact::InstallScripts)));
    };
    if ctx.h.version(&ctx.h.this).is_none() {
        return both(not("the locked version does not parse".into()));
    }
    let Some(previous) = ctx.predecessor() else {
        return both(Outcome::Pass); // the first version
    };
    let Some(before) = &previous.facts.install_scripts else {
        return both(not(format!(
            "scripts of the previous version unknown: {}",
            missing(ctx.h.ecosystem, Fact::InstallScripts)
        )));
    };
    if scripts == before {
        return both(Outcome::Pass); // nothing added, nothing changed
    }
    let (added, changed) = diff_scripts(scripts, before);
    let previous_version = previous.facts.version.as_str();
    (added_hit(ctx, previous_version, &added), changed_hit(ctx, previous_version, &changed))
}

/// A lifecycle script as (name, command).
type Script<'s> = (&'s str, &'s str);

/// The install-time scripts added to, and changed from, `before`.
fn diff_scripts<'s>(
    now: &'s [(String, String)],
    before: &'s [(String, String)],
) -> (Vec<Script<'s>>, Vec<(Script<'s>, &'s str)>) {
    let lifecycle = |list: &'s [(String, String)]| {
        list.iter().filter(|(n, _)| INSTALL_SCRIPTS.contains(&n.as_str())).map(|(n, c)| (n.as_str(), c.as_str()))
    };
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for (name, command) in lifecycle(now) {
        match lifecycle(before).find(|(n, _)| *n == name) {
            None => added.push((name, command)),
            Some((_, old)) if old != command => changed.push(((name, command), old)),
            Some(_) => {}
        }
    }
    (added, changed)
}

fn added_hit(ctx: &Ctx<'_>, previous_version: &str, added: &[Script<'_>]) -> Outcome {
    if added.is_empty() {
        return Outcome::Pass;
    }
    let names: Vec<&str> = added.iter().map(|(n, _)| *n).collect();
    let mut hit =
        Hit::new(format!("{} runs {} at install, which {previous_version} did not", ctx.subject(), names.join(", ")))
            .with("previous_version", previous_version);
    for (name, command) in added {
        hit = hit.with(name, truncate(command, SCRIPT_QUOTE_LEN));
    }
    Outcome::Flag(hit)
}

fn changed_hit(ctx: &Ctx<'_>, previous_version: &str, changed: &[(Script<'_>, &str)]) -> Outcome {
    if changed.is_empty() {
        return Outcome::Pass;
    }
    let names: Vec<&str> = changed.iter().map(|((n, _), _)| *n).collect();
    let mut hit =
        Hit::new(format!("{} changes its {} script(s) from {previous_version}", ctx.subject(), names.join(", ")))
            .with("previous_version", previous_version);
    for ((name, command), old) in changed {
        hit = hit.with(name, truncate(command, SCRIPT_QUOTE_LEN));
        hit = hit.with(&format!("previous_{name}"), truncate(old, SCRIPT_QUOTE_LEN));
    }
    Outcome::Flag(hit)
}

fn provenance_downgrade(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let at = ctx.published()?;
    let has = ctx.h.this.facts.provenance.ok_or_else(|| not(missing(ctx.h.ecosystem, Fact::Provenance)))?;
    if has {
        return Ok(Outcome::Pass);
    }
    let (earlier, _) = ctx.published_before()?;
    let line: Vec<_> = earlier.iter().filter(|e| ctx.h.same_line(e)).collect();
    if let Some(last) = line.iter().rev().find(|e| e.facts.provenance == Some(true)) {
        return Ok(Outcome::Flag(
            Hit::new(format!(
                "{} has no provenance, but {} of the same release line, published before it, had",
                ctx.subject(),
                last.facts.version
            ))
            .with("published", fmt_time(at))
            .with("last_with_provenance", last.facts.version.clone())
            .with("last_with_provenance_published", last.facts.published.map(fmt_time).unwrap_or_default())
            .with("release_line", ctx.h.this.line.map(|l| l.to_string()).unwrap_or_default()),
        ));
    }
    if line.iter().any(|e| e.facts.provenance.is_none()) {
        return Err(not(format!(
            "provenance of earlier versions of the line unknown: {}",
            missing(ctx.h.ecosystem, Fact::Provenance)
        )));
    }
    Ok(Outcome::Pass)
}

fn new_dependency(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let at = ctx.published()?;
    let eco = ctx.h.ecosystem;
    let deps = ctx.h.this.facts.dependencies.as_ref().ok_or_else(|| not(missing(eco, Fact::Dependencies)))?;
    if ctx.h.version(&ctx.h.this).is_none() {
        return Err(not("the locked version does not parse".into()));
    }
    let Some(previous) = ctx.predecessor() else {
        return Ok(Outcome::Pass);
    };
    let before = previous.facts.dependencies.as_ref().ok_or_else(|| not(missing(eco, Fact::Dependencies)))?;
    if deps == before {
        return Ok(Outcome::Pass); // no dependency added
    }
    let mut flagged = Vec::new();
    let mut unknown = Vec::new();
    for dep in deps.iter().filter(|d| !before.contains(d)) {
        match dependency_age(ctx, dep, at) {
            DependencyAge::New { first, versions_then } => flagged.push((dep.as_str(), first, versions_then)),
            DependencyAge::Established => {}
            DependencyAge::Unknown => unknown.push(dep.as_str()),
        }
    }
    if flagged.is_empty() {
        if unknown.is_empty() {
            return Ok(Outcome::Pass);
        }
        return Err(not(format!("registry facts of added dependency {} not available", unknown.join(", "))));
    }
    let names: Vec<&str> = flagged.iter().map(|(n, _, _)| *n).collect();
    let mut hit = Hit::new(format!(
        "{} adds {} (not in {}), itself new or with a single version when {} was published",
        ctx.subject(),
        names.join(", "),
        previous.facts.version,
        ctx.h.this.facts.version
    ))
    .with("previous_version", previous.facts.version.clone())
    .with("published", fmt_time(at));
    for (name, first, count) in flagged {
        hit = hit.with(&format!("{name}.first_published"), fmt_time(first));
        hit = hit.with(&format!("{name}.versions_then"), count.to_string());
    }
    Ok(Outcome::Flag(hit))
}

/// What the facts say of an added dependency when the dependent version was published.
enum DependencyAge {
    /// First published less than `new_dependency_age` before, or with a single version then.
    New {
        first: Timestamp,
        versions_then: usize,
    },
    Established,
    /// No facts, no usable times, or a history that starts after the dependent version
    /// (unpublished versions): not evaluated.
    Unknown,
}

fn dependency_age(ctx: &Ctx<'_>, dep: &str, at: Timestamp) -> DependencyAge {
    let eco = ctx.h.ecosystem;
    let Some(dep_facts) = ctx.facts.get(&(eco, PackageName::new(eco, dep))) else {
        return DependencyAge::Unknown;
    };
    if dep_facts.dropped_times.is_some() {
        return DependencyAge::Unknown;
    }
    let times: Vec<Timestamp> = dep_facts.versions.iter().filter_map(|v| v.published).collect();
    let untimed = dep_facts.versions.len() - times.len();
    let versions_then = times.iter().filter(|t| **t <= at).count();
    let Some(first) = times.iter().min().copied() else {
        return DependencyAge::Unknown;
    };
    if versions_then == 0 {
        return DependencyAge::Unknown;
    }
    if at.duration_since(first) < ctx.cfg.new_dependency_age || (versions_then <= 1 && untimed == 0) {
        DependencyAge::New { first, versions_then }
    } else {
        DependencyAge::Established
    }
}

fn burst(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let at = ctx.published()?;
    let line = ctx.h.this.line.ok_or_else(|| not("the locked version has no release line".into()))?;
    // this version is on its own line: only the others can be near it
    let mut near: Vec<(String, String)> = ctx
        .h
        .published_within(at, ctx.cfg.burst_window)
        .filter(|e| e.line.is_some_and(|l| l != line))
        .map(|e| (e.facts.version.clone(), e.line.map(|l| l.to_string()).unwrap_or_default()))
        .collect();
    if near.is_empty() {
        return Ok(Outcome::Pass);
    }
    near.sort();
    let list: Vec<String> = near.iter().map(|(v, l)| format!("{v} (line {l})")).collect();
    Ok(Outcome::Flag(
        Hit::new(format!(
            "{} was published within {} of versions on other release lines: {}",
            ctx.subject(),
            fmt_days(ctx.cfg.burst_window),
            list.join(", ")
        ))
        .with("published", fmt_time(at))
        .with("release_line", line.to_string())
        .with("other_lines", list.join(", ")),
    ))
}

/// `at - span`, saturating at the earliest time (registry times are untrusted input).
fn before(at: Timestamp, span: jiff::SignedDuration) -> Timestamp {
    at.saturating_sub(span).unwrap_or(Timestamp::MIN)
}

fn not(reason: String) -> Outcome {
    Outcome::NotEvaluated(reason)
}
