//! The registry history of one locked package version, as the `stale` and `takeover` checks read
//! it: which version of [`PackageFacts`] the lockfile pins, the versions published before it, its
//! release line, and the bookkeeping both checks share (per-signal outcomes, "not evaluated"
//! reasons tallied into [`Coverage`], per-package allow-lists). Pure: no I/O, no clock.
//!
//! A *release line* is a major version, or a minor for `0.x` (`0.7.29` is on line `0.7`,
//! `3.3.6` on line `3`), read from the leading numbers of the version (a PEP 440 epoch is part
//! of the line).

#[cfg(test)]
pub(crate) mod testing;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;

use super::{Coverage, Evidence, Signal};
use crate::bundle::Unit;
use crate::graph::NodeId;
use crate::package::{Ecosystem, Package, PackageName, Source};
use crate::registry::facts::{PackageFacts, VersionFacts};
use crate::version::Version;
use crate::vocab::{Code, Level};

/// The facts map every check of registry metadata takes, keyed as the registry clients key it.
pub type FactsMap = HashMap<(Ecosystem, PackageName), PackageFacts>;

/// Packages a check skips (the policy's per-package allow-list), by ecosystem and normalized name.
/// Allowed packages are left out of the signals and out of the coverage counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(BTreeSet<(Ecosystem, PackageName)>);

impl AllowList {
    pub fn new() -> AllowList {
        AllowList::default()
    }

    /// Allows `name` (normalized for `ecosystem` here).
    pub fn insert(&mut self, ecosystem: Ecosystem, name: &str) {
        self.0.insert((ecosystem, PackageName::new(ecosystem, name)));
    }

    pub fn contains(&self, package: &Package) -> bool {
        self.0.contains(&(package.ecosystem, package.name.clone()))
    }
}

/// One locked registry package version that a registry check can judge: its facts, the history
/// around its locked version, and why its publish times are untrusted (if they are).
pub struct Located<'a> {
    pub package: &'a Package,
    pub facts: &'a PackageFacts,
    pub history: History<'a>,
    pub untrusted: Option<String>,
}

/// What one check concluded on one locked package version. Reached once per scan and shared by
/// every unit that ships the version (as the matcher matches each unique package once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// Allow-listed: no signal, not counted.
    Allowed,
    /// No code could be evaluated, for this reason (no facts, version not listed).
    NoneEvaluated(&'static str),
    /// Every code of the check was evaluated but those of `not_evaluated` (each with why not);
    /// and the raised signals with their levels, in order.
    Evaluated { not_evaluated: NotEvaluated, hits: Vec<(Code, Level, Hit)> },
}

/// The codes of a check that could not be evaluated on a package version, each with why, in
/// the check's order. Only these are kept (most versions have every input of most codes): one
/// judged version costs no list when every code was evaluated.
pub type NotEvaluated = Vec<(Code, String)>;

/// The key of a locked package version: (ecosystem, normalized name, raw version), as
/// [`registry_packages`] deduplicates.
type VersionKey<'a> = (Ecosystem, &'a str, &'a str);

/// One check's [`Judged`] for every unique registry package version of a scan's units, and how
/// many units ship each (counted by [`Judgments::signals_of`], for [`Judgments::coverage`]).
#[derive(Debug, Default)]
pub struct Judgments<'a> {
    /// Keyed by the scan's own strings (no untrusted keys to defend against): a fast hash.
    index: foldhash::HashMap<VersionKey<'a>, usize>,
    judged: Vec<Judged>,
    shipped: Vec<AtomicUsize>,
    /// Shipped versions that were not judged (not among the units the judgments were made for).
    unjudged: AtomicUsize,
}

impl<'a> Judgments<'a> {
    /// Judges every unique registry package version of `histories` once, in parallel (the
    /// histories are prepared once for several checks): allow-listed ones are
    /// [`Judged::Allowed`], those without facts or whose locked version the registry does not
    /// list are [`Judged::NoneEvaluated`], the others go through `judge`.
    pub fn of<F>(
        histories: &Histories<'a>,
        allow: &AllowList,
        untrusted_times_of: &BTreeSet<Ecosystem>,
        judge: F,
    ) -> Judgments<'a>
    where
        F: Fn(&Located<'_>) -> Judged + Sync,
    {
        use rayon::prelude::*;
        let judged: Vec<Vec<(VersionKey<'a>, Judged)>> = histories
            .groups
            .par_iter()
            .map(|group| {
                let versions = group.versions.iter();
                if allow.contains(group.versions[0].1) {
                    return versions.map(|(k, _)| (*k, Judged::Allowed)).collect();
                }
                let Some(prepared) = &group.prepared else {
                    return versions.map(|(k, _)| (*k, Judged::NoneEvaluated(NO_FACTS))).collect();
                };
                let untrusted = prepared.untrusted(untrusted_times_of);
                versions
                    .map(|&(k, package)| {
                        let judged = match History::find_in(prepared, &package.version) {
                            Some(history) => judge(&Located {
                                package,
                                facts: prepared.facts,
                                history,
                                untrusted: untrusted.clone(),
                            }),
                            None => Judged::NoneEvaluated(NOT_LISTED),
                        };
                        (k, judged)
                    })
                    .collect()
            })
            .collect();
        let mut judgments = Judgments::default();
        for (key, judged) in judged.into_iter().flatten() {
            judgments.index.insert(key, judgments.judged.len());
            judgments.judged.push(judged);
            judgments.shipped.push(AtomicUsize::new(0));
        }
        judgments
    }

    fn get(&self, package: &Package) -> Option<(usize, &Judged)> {
        self.index.get(&key_of(package)).map(|&i| (i, &self.judged[i]))
    }

    /// The signals and coverage of one unit, from the judgments of the package versions it
    /// ships: `codes` in the check's order. A version missing from the judgments (not among the
    /// units they were made for) counts as not evaluated.
    pub fn apply(&self, unit: &Unit, codes: &[Code]) -> (Vec<Signal>, Vec<Coverage>) {
        self.apply_to(&registry_packages(unit), codes)
    }

    /// [`Judgments::apply`] with the unit's [`registry_packages`] already listed (one listing
    /// serves every check).
    pub fn apply_to(&self, packages: &[(NodeId, &Package)], codes: &[Code]) -> (Vec<Signal>, Vec<Coverage>) {
        let mut tally = Tally::new(codes.iter().copied());
        let mut out = Vec::new();
        for &(node, package) in packages {
            match self.get(package).map(|(_, j)| j) {
                None => tally.none_evaluated("not judged", 1),
                Some(judged) => {
                    tally.add(judged, 1);
                    out.extend(judged.signals(node, package));
                }
            }
        }
        (out, tally.coverage())
    }

    /// The signals of one unit's [`registry_packages`]; each version is counted as shipped once
    /// more, for [`Judgments::coverage`] (safe from several threads at once).
    pub fn signals_of(&self, packages: &[(NodeId, &Package)]) -> Vec<Signal> {
        let mut out = Vec::new();
        for &(node, package) in packages {
            match self.get(package) {
                None => _ = self.unjudged.fetch_add(1, Ordering::Relaxed),
                Some((i, judged)) => {
                    self.shipped[i].fetch_add(1, Ordering::Relaxed);
                    out.extend(judged.signals(node, package));
                }
            }
        }
        out
    }

    /// Per code in `codes`, over every unit [`Judgments::signals_of`] was given: how many
    /// shipped package versions were evaluated, of how many, and why the others were not (each
    /// reason with its count over the whole scan).
    pub fn coverage(&self, codes: &[Code]) -> Vec<Coverage> {
        let mut tally = Tally::new(codes.iter().copied());
        for (judged, shipped) in self.judged.iter().zip(&self.shipped) {
            let n = shipped.load(Ordering::Relaxed);
            if n > 0 {
                tally.add(judged, n);
            }
        }
        let unjudged = self.unjudged.load(Ordering::Relaxed);
        if unjudged > 0 {
            tally.none_evaluated("not judged", unjudged);
        }
        tally.coverage()
    }
}

impl Judged {
    /// The signals this judgment raises on `package` at `node`.
    fn signals<'p>(&'p self, node: NodeId, package: &'p Package) -> impl Iterator<Item = Signal> + 'p {
        let hits = match self {
            Judged::Evaluated { hits, .. } => hits.as_slice(),
            Judged::Allowed | Judged::NoneEvaluated(_) => &[],
        };
        hits.iter().map(move |(code, level, hit)| signal(*code, *level, node, package, hit.clone()))
    }
}

fn key_of(package: &Package) -> VersionKey<'_> {
    (package.ecosystem, package.name.as_str(), package.version.as_str())
}

/// Why a locked version is not evaluated when its package's facts do not list it.
const NOT_LISTED: &str = "the registry does not list the locked version";

/// Why a registry package without facts is not evaluated.
const NO_FACTS: &str = "no registry facts for the package";

/// The unique registry package versions of a scan's units grouped by package, each package's
/// facts parsed once ([`Prepared`]): made once per scan and shared by the registry checks.
pub struct Histories<'a> {
    groups: Vec<Group<'a>>,
}

/// The locked versions of one package (first node of each kept) and its prepared facts.
struct Group<'a> {
    versions: Vec<(VersionKey<'a>, &'a Package)>,
    /// `None`: no facts for the package.
    prepared: Option<Prepared<'a>>,
}

impl<'a> Histories<'a> {
    pub fn new(units: &[&'a Unit], facts: &'a FactsMap) -> Histories<'a> {
        use rayon::prelude::*;
        let mut unique: foldhash::HashMap<VersionKey<'a>, &'a Package> = foldhash::HashMap::default();
        for unit in units {
            for package in unit.graph.nodes() {
                if package.source == Source::Registry {
                    unique.entry(key_of(package)).or_insert(package);
                }
            }
        }
        let mut by_package: foldhash::HashMap<(Ecosystem, &'a str), Vec<(VersionKey<'a>, &'a Package)>> =
            foldhash::HashMap::default();
        for (key, package) in unique {
            by_package.entry((key.0, key.1)).or_default().push((key, package));
        }
        let groups = by_package
            .into_par_iter()
            .map(|(_, versions)| {
                let first = versions[0].1;
                // No facts at all (metadata off or nothing cached): no name to clone and look up.
                let prepared = if facts.is_empty() {
                    None
                } else {
                    facts.get(&(first.ecosystem, first.name.clone())).map(Prepared::new)
                };
                Group { versions, prepared }
            })
            .collect();
        Histories { groups }
    }
}

/// What every locked version of one package shares, computed once per package: each listed
/// version parsed, its release line, and its versions in publish-time order.
pub struct Prepared<'a> {
    facts: &'a PackageFacts,
    parsed: Vec<Option<Version>>,
    /// Every listed version, in the order of `facts.versions`.
    entries: Vec<Entry<'a>>,
    /// Where the versions with a publish time are in `entries`, by publish time (then version
    /// string).
    by_time: Vec<u32>,
    newest: Newest,
}

impl<'a> Prepared<'a> {
    pub fn new(facts: &'a PackageFacts) -> Prepared<'a> {
        let (parsed, lines) = parse_all(facts);
        let (entries, by_time) = entries_of(facts, &lines);
        let newest = Newest::of(facts, &parsed);
        Prepared { facts, parsed, entries, by_time, newest }
    }

    /// Why the publish times can't be used: the policy distrusts the registry, or they were
    /// dropped where the facts entered the scan ([`crate::registry::times::vet`], the one check
    /// of rewritten times).
    fn untrusted(&self, untrusted_times_of: &BTreeSet<Ecosystem>) -> Option<String> {
        let eco = self.facts.ecosystem;
        if untrusted_times_of.contains(&eco) { Some(untrusted_times(eco)) } else { self.facts.dropped_times.clone() }
    }
}

/// The outcomes of one package version (one per code of the check) split into the codes not
/// evaluated, with why ([`Judged::Evaluated`]), and the flags, in order.
pub fn split(outcomes: Vec<(Code, Outcome)>) -> (NotEvaluated, Vec<(Code, Hit)>) {
    let mut not_evaluated = Vec::new();
    let mut hits = Vec::new();
    for (code, outcome) in outcomes {
        match outcome {
            Outcome::Pass => {}
            Outcome::NotEvaluated(reason) => not_evaluated.push((code, reason)),
            Outcome::Flag(hit) => hits.push((code, hit)),
        }
    }
    (not_evaluated, hits)
}

/// The registry packages of a unit, one entry per (ecosystem, name, version), first node kept,
/// in a stable order. Dev packages are included (the package's scope tells the policy).
pub fn registry_packages(unit: &Unit) -> Vec<(NodeId, &Package)> {
    let mut out: Vec<(NodeId, &Package)> =
        unit.graph.nodes().iter().enumerate().filter(|(_, p)| p.source == Source::Registry).collect();
    // Sorted with the ecosystem before the node, each (ecosystem, name, version) keeps its first
    // node; then in the order the checks report (name, version, node), which the first sort
    // leaves nearly in place.
    out.sort_unstable_by(|a, b| {
        (&a.1.name, &a.1.version, a.1.ecosystem, a.0).cmp(&(&b.1.name, &b.1.version, b.1.ecosystem, b.0))
    });
    out.dedup_by(|b, a| (a.1.ecosystem, &a.1.name, &a.1.version) == (b.1.ecosystem, &b.1.name, &b.1.version));
    out.sort_by(|a, b| (&a.1.name, &a.1.version, a.0).cmp(&(&b.1.name, &b.1.version, b.0)));
    out
}

/// A release line: `(epoch, major, minor)` with the minor only for `0.x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line {
    pub epoch: u64,
    pub major: u64,
    pub minor: Option<u64>,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.epoch > 0 {
            write!(f, "{}!", self.epoch)?;
        }
        match self.minor {
            Some(minor) => write!(f, "{}.{minor}", self.major),
            None => write!(f, "{}", self.major),
        }
    }
}

/// The release line of a raw version (`v1.2.3`, `0.7.29`, `1!2.0.post1`), `None` when it does
/// not start with a number.
pub fn line_of(ecosystem: Ecosystem, raw: &str) -> Option<Line> {
    let mut rest = raw.trim().trim_start_matches(['v', 'V', '=']);
    let mut epoch = 0;
    if ecosystem == Ecosystem::PyPI
        && let Some((e, tail)) = rest.split_once('!')
    {
        epoch = e.parse().ok()?;
        rest = tail;
    }
    let (major, minor) = major_minor(rest);
    let major = major?;
    Some(Line { epoch, major, minor: (major == 0).then_some(minor) })
}

/// The leading number of the first and of the second part of a version (parts end at `.`, `-`
/// or `+`): `None` for a first part that does not start with a digit (or a number past `u64`),
/// `0` for a second part that is missing or does not.
fn major_minor(rest: &str) -> (Option<u64>, u64) {
    let b = rest.as_bytes();
    let (major, digits) = leading_number(b);
    let Some(sep) = b[digits..].iter().position(|c| matches!(c, b'.' | b'-' | b'+')) else {
        return (major, 0);
    };
    (major, leading_number(&b[digits + sep + 1..]).0.unwrap_or(0))
}

/// The number the digits at the start of `b` spell (`None`: no digit, or past `u64`), and how
/// many digits there are.
fn leading_number(b: &[u8]) -> (Option<u64>, usize) {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return (None, 0);
    }
    let value = b[..digits].iter().try_fold(0u64, |n, c| n.checked_mul(10)?.checked_add(u64::from(c - b'0')));
    (value, digits)
}

/// One version of a package with what the checks compare it by.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub facts: &'a VersionFacts,
    /// Index into [`History::parsed`]: the parsed version, when it parses.
    parsed: usize,
    pub line: Option<Line>,
}

/// The history of the locked version of one package.
#[derive(Debug)]
pub struct History<'a> {
    pub ecosystem: Ecosystem,
    pub package: &'a PackageFacts,
    pub this: Entry<'a>,
    /// Where `this` is in `entries`.
    at: usize,
    /// Per listed version, in the order of `package.versions`; shared by every locked version
    /// of the package ([`Prepared`]), as are `by_time` and `parsed`.
    entries: &'a [Entry<'a>],
    /// Where the listed versions with a publish time are in `entries`, by publish time (then
    /// version string).
    by_time: &'a [u32],
    parsed: &'a [Option<Version>],
    newest: Newest,
}

/// Where the newest version ([`History::newest`]) and the last publication
/// ([`History::last_published`]) are among a package's listed versions, found once per package.
#[derive(Debug, Clone, Copy)]
struct Newest {
    /// The first listed version spelled as the registry's `latest` tag (trimmed).
    latest: Option<usize>,
    /// The last of the greatest stable versions, in listed order.
    greatest: Option<usize>,
    /// The last listed of the versions published last, and the one listed before it with the
    /// same time, if any.
    published_last: Option<(usize, Option<usize>)>,
}

impl Newest {
    fn of(facts: &PackageFacts, parsed: &[Option<Version>]) -> Newest {
        let latest = facts.latest.as_deref().map(str::trim);
        let latest = latest.and_then(|l| facts.versions.iter().position(|v| v.version.trim() == l));
        let stable =
            parsed.iter().enumerate().filter_map(|(i, v)| v.as_ref().filter(|v| !v.is_prerelease()).map(|v| (i, v)));
        let greatest = stable.max_by(|a, b| a.1.cmp(b.1)).map(|(i, _)| i);
        let mut published_last: Option<(Timestamp, usize, Option<usize>)> = None;
        for (i, at) in facts.versions.iter().enumerate().filter_map(|(i, v)| v.published.map(|t| (i, t))) {
            published_last = match published_last {
                Some((last, _, _)) if at < last => published_last,
                Some((last, j, _)) if at == last => Some((at, i, Some(j))),
                _ => Some((at, i, None)),
            };
        }
        Newest { latest, greatest, published_last: published_last.map(|(_, i, tie)| (i, tie)) }
    }
}

/// Every listed version of `facts` parsed, and its release line, in the order of
/// `facts.versions`.
fn parse_all(facts: &PackageFacts) -> (Vec<Option<Version>>, Vec<Option<Line>>) {
    let eco = facts.ecosystem;
    let parsed = facts.versions.iter().map(|v| Version::parse(eco, &v.version).ok()).collect();
    let lines = facts.versions.iter().map(|v| line_of(eco, &v.version)).collect();
    (parsed, lines)
}

/// The [`Entry`] of every listed version (in the order of `facts.versions`; `lines` are theirs),
/// and where those with a publish time are, sorted by (publish time, version string): what
/// [`History::published_before`] reads, sorted once per package rather than once per locked
/// version.
fn entries_of<'a>(facts: &'a PackageFacts, lines: &[Option<Line>]) -> (Vec<Entry<'a>>, Vec<u32>) {
    let entries: Vec<Entry<'a>> = facts
        .versions
        .iter()
        .zip(lines)
        .enumerate()
        .map(|(parsed, (facts, line))| Entry { facts, parsed, line: *line })
        .collect();
    // A registry lists far fewer than 2^32 versions (and the cache reads at most what a blob holds).
    let mut by_time: Vec<u32> = (0..entries.len())
        .filter(|&i| entries[i].facts.published.is_some())
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let key = |i: &u32| {
        let v = entries[*i as usize].facts;
        (v.published, &v.version)
    };
    by_time.sort_by(|a, b| key(a).cmp(&key(b)));
    (entries, by_time)
}

impl<'a> History<'a> {
    /// The history of `raw_version` among its package's versions (parsed and sorted once for
    /// the package); `None` when the registry does not list that version (compared as parsed
    /// versions, so `1.0` finds `1.0.0` on PyPI).
    pub fn find_in(prepared: &'a Prepared<'_>, raw_version: &str) -> Option<History<'a>> {
        let Prepared { facts, parsed, entries, by_time, newest } = prepared;
        let ecosystem = facts.ecosystem;
        // A listed version spelled exactly as the locked one parses as it does: no second parse.
        let exact = facts.versions.iter().position(|v| v.version == raw_version);
        let wanted = match exact {
            Some(i) => parsed[i].clone(),
            None => Version::parse(ecosystem, raw_version).ok(),
        };
        let same = |i: usize| match (&wanted, &parsed[i]) {
            (Some(a), Some(b)) => a == b,
            _ => facts.versions[i].version.trim() == raw_version.trim(),
        };
        // The first listed version that is the same: the exact spelling is, so none after it.
        let at = match exact {
            Some(i) => (0..i).find(|&j| same(j)).unwrap_or(i),
            None => (0..facts.versions.len()).find(|&j| same(j))?,
        };
        let this = entries[at];
        Some(History { ecosystem, package: facts, this, at, entries, by_time, parsed, newest: *newest })
    }

    pub fn version(&self, entry: &Entry<'_>) -> Option<&Version> {
        self.parsed[entry.parsed].as_ref()
    }

    /// Every other version the registry lists, in no particular order.
    pub fn others(&self) -> impl Iterator<Item = &Entry<'a>> + Clone + '_ {
        self.entries[..self.at].iter().chain(&self.entries[self.at + 1..])
    }

    /// The versions published strictly before this one, oldest first. `None` when this
    /// version's publish time is unknown. Versions without a publish time are counted in the
    /// second value (they may or may not be earlier).
    pub fn published_before(&self) -> Option<(Earlier<'_, 'a>, usize)> {
        let at = self.this.facts.published?;
        // This version is not among them: its time is not before its own.
        let earlier =
            self.by_time.partition_point(|&i| self.entries[i as usize].facts.published.is_some_and(|t| t < at));
        let earlier = Earlier { order: &self.by_time[..earlier], entries: self.entries };
        Some((earlier, self.entries.len() - self.by_time.len()))
    }

    /// Whether `entry` is on this version's release line.
    pub fn same_line(&self, entry: &Entry<'_>) -> bool {
        self.this.line.is_some() && entry.line == self.this.line
    }

    /// The version this one follows by version order: the nearest lower version on the same
    /// release line, else (first of its line) the nearest lower version overall, skipping those
    /// published after `settled_by` when it is given (so the first version of a new line is not
    /// compared with a sibling released in the same burst); `None` for the lowest version, or
    /// when this version does not parse. Pre-releases of other versions are skipped unless this
    /// one is a pre-release.
    pub fn predecessor(&self, settled_by: Option<Timestamp>) -> Option<Entry<'a>> {
        let this = self.version(&self.this)?;
        let stable_only = !this.is_prerelease();
        // The cheap tests (line, publish time) before the version comparisons.
        let lower = |e: &Entry<'a>| {
            self.version(e).filter(|v| *v < this && !(stable_only && v.is_prerelease())).map(|v| (*e, v))
        };
        let same_line = self.others().filter(|e| self.same_line(e)).filter_map(lower).max_by(|a, b| a.1.cmp(b.1));
        let settled = |e: &&Entry<'_>| match (settled_by, e.facts.published) {
            (Some(limit), Some(at)) => at <= limit,
            _ => true,
        };
        same_line
            .or_else(|| self.others().filter(settled).filter_map(lower).max_by(|a, b| a.1.cmp(b.1)))
            .map(|(e, _)| e)
    }

    /// The newest stable version the registry lists (its own `latest` tag when given and listed).
    pub fn newest(&self) -> Option<Entry<'a>> {
        if let Some(first) = self.newest.latest {
            // this version when it is spelled as the tag, else the first that is
            let is_latest = self.package.latest.as_deref().is_some_and(|l| self.this.facts.version.trim() == l.trim());
            return Some(if is_latest { self.this } else { self.entries[first] });
        }
        // Where several stable versions are the greatest (PEP 440 `1.0` is `1.0.0`), this
        // version is the first of them when it is one (`find_in`): the last listed is the newest.
        self.newest.greatest.map(|i| self.entries[i])
    }

    /// The version published last, with its time (`None`: no publish time is known). Where
    /// several share that time, the last listed other than this version.
    pub fn last_published(&self) -> Option<(Timestamp, Entry<'a>)> {
        let i = match self.newest.published_last? {
            (last, Some(tie)) if last == self.at => tie,
            (last, _) => last,
        };
        let entry = self.entries[i];
        entry.facts.published.map(|t| (t, entry))
    }

    /// The listed versions published within `span` of `at` (either side), this one included
    /// when it is: a slice of the versions in publish-time order, not a pass over all of them.
    pub fn published_within(&self, at: Timestamp, span: jiff::SignedDuration) -> impl Iterator<Item = &Entry<'a>> {
        let time = |i: &u32| self.entries[*i as usize].facts.published;
        let from = self.by_time.partition_point(|i| time(i).is_some_and(|t| at.duration_since(t) > span));
        let to = self.by_time.partition_point(|i| time(i).is_some_and(|t| t.duration_since(at) <= span));
        self.by_time[from..to.max(from)].iter().map(|&i| &self.entries[i as usize])
    }
}

/// The versions published before a locked one, oldest first ([`History::published_before`]).
#[derive(Debug, Clone, Copy)]
pub struct Earlier<'h, 'a> {
    order: &'h [u32],
    entries: &'h [Entry<'a>],
}

impl<'h, 'a> Earlier<'h, 'a> {
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &'h Entry<'a>> + ExactSizeIterator + Clone + use<'h, 'a> {
        let entries = self.entries;
        self.order.iter().map(move |&i| &entries[i as usize])
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn first(&self) -> Option<&'h Entry<'a>> {
        self.iter().next()
    }

    pub fn last(&self) -> Option<&'h Entry<'a>> {
        self.iter().next_back()
    }
}

/// What one signal concluded for one package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Evaluated, nothing to report.
    Pass,
    /// Evaluated and raised.
    Flag(Hit),
    /// An input is unknown: the package counts as not evaluated, with why.
    NotEvaluated(String),
}

/// A raised signal before it is attached to its package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub message: String,
    pub evidence: Vec<Evidence>,
}

impl Hit {
    pub fn new(message: impl Into<String>) -> Hit {
        Hit { message: message.into(), evidence: Vec::new() }
    }

    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Hit {
        self.evidence.push(Evidence::new(name, value));
        self
    }
}

/// Per-code counts of evaluated packages and the reasons of the others. Codes and reasons are
/// few per unit (a dozen codes, a handful of reasons), so they are kept in small vectors: one
/// count is a short scan, not a map lookup.
#[derive(Debug, Clone)]
pub struct Tally {
    counts: Vec<CodeCount>,
}

#[derive(Debug, Clone)]
struct CodeCount {
    code: Code,
    evaluated: usize,
    total: usize,
    /// Each distinct "not evaluated" reason with its count, in first-seen order.
    reasons: Vec<(String, usize)>,
}

impl Tally {
    pub fn new(codes: impl IntoIterator<Item = Code>) -> Tally {
        let mut counts: Vec<CodeCount> = Vec::new();
        for code in codes {
            if !counts.iter().any(|c| c.code == code) {
                counts.push(CodeCount { code, evaluated: 0, total: 0, reasons: Vec::new() });
            }
        }
        Tally { counts }
    }

    pub fn record(&mut self, code: Code, outcome: &Outcome) {
        match outcome {
            Outcome::NotEvaluated(reason) => self.count(code, Some(reason), 1),
            Outcome::Pass | Outcome::Flag(_) => self.count(code, None, 1),
        }
    }

    /// Counts `n` package versions for `code`: evaluated (`None`) or not, with the reason. A
    /// code not given to [`Tally::new`] is not reported.
    pub fn count(&mut self, code: Code, not_evaluated: Option<&str>, n: usize) {
        if let Some(entry) = self.counts.iter_mut().find(|c| c.code == code) {
            entry.add(not_evaluated, n);
        }
    }

    /// Counts `n` package versions as not evaluated for every code, for `reason`.
    pub fn none_evaluated(&mut self, reason: &str, n: usize) {
        for entry in &mut self.counts {
            entry.add(Some(reason), n);
        }
    }

    /// Counts `n` units' shipping of one judged package version: a code of the tally is
    /// evaluated there unless the judgement says why not (the tally counts one check's codes,
    /// all of which its judgements cover).
    fn add(&mut self, judged: &Judged, n: usize) {
        match judged {
            Judged::Allowed => {}
            Judged::NoneEvaluated(reason) => self.none_evaluated(reason, n),
            Judged::Evaluated { not_evaluated, .. } => {
                for entry in &mut self.counts {
                    let reason = not_evaluated.iter().find(|(code, _)| *code == entry.code).map(|(_, r)| r.as_str());
                    entry.add(reason, n);
                }
            }
        }
    }

    /// One [`Coverage`] per code, in the order the codes were given; the reason lists each
    /// distinct reason with its count, most frequent first.
    pub fn coverage(self) -> Vec<Coverage> {
        self.counts
            .into_iter()
            .map(|CodeCount { code, evaluated, total, mut reasons }| {
                reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let reason = (!reasons.is_empty())
                    .then(|| reasons.iter().map(|(r, n)| format!("{r} ({n})")).collect::<Vec<_>>().join("; "));
                Coverage { code, evaluated, total, reason }
            })
            .collect()
    }
}

impl CodeCount {
    fn add(&mut self, not_evaluated: Option<&str>, n: usize) {
        self.total += n;
        let Some(reason) = not_evaluated else {
            self.evaluated += n;
            return;
        };
        match self.reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, count)) => *count += n,
            None => self.reasons.push((reason.to_owned(), n)),
        }
    }
}

/// Builds the signal of one hit on one package.
pub fn signal(code: Code, level: Level, node: NodeId, package: &Package, hit: Hit) -> Signal {
    Signal {
        code,
        package: Some(package.clone()),
        node: Some(node),
        location: None,
        message: hit.message,
        evidence: hit.evidence,
        level,
    }
}

/// `level` raised by `steps`, at most critical.
pub fn raise(level: Level, steps: usize) -> Level {
    const ORDER: [Level; 4] = [Level::Low, Level::Medium, Level::High, Level::Critical];
    let at = ORDER.iter().position(|l| *l == level).unwrap_or(0);
    ORDER[(at + steps).min(ORDER.len() - 1)]
}

/// A time as evidence: RFC 3339, whole seconds, UTC.
pub fn fmt_time(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).map_or_else(|_| t.to_string(), |r| r.to_string())
}

/// A duration for people: `1 day`, `412.5 days`, `3 hours`, `45 minutes`.
pub fn fmt_days(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs_f64();
    let (value, unit) = if secs.abs() >= 86_400.0 {
        (secs / 86_400.0, "day")
    } else if secs.abs() >= 3_600.0 {
        (secs / 3_600.0, "hour")
    } else {
        (secs / 60.0, "minute")
    };
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    if text == "1" { format!("1 {unit}") } else { format!("{text} {unit}s") }
}

/// Untrusted text (install scripts, deprecation messages) cut to `max` characters, with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Why a fact is missing, by ecosystem: what a registry never gives is "by design".
pub fn missing(ecosystem: Ecosystem, fact: Fact) -> String {
    use Ecosystem::{CratesIo, Go, Npm, PyPI};
    match (fact, ecosystem) {
        (Fact::Publisher, PyPI) => "PyPI gives no per-file uploader (by design)".into(),
        (Fact::Publisher, Go) => "the Go module proxy records no publisher (by design)".into(),
        (Fact::Publisher, CratesIo) => "crates.io gives the publisher only in its web API (not fetched)".into(),
        (Fact::Maintainers, PyPI | Go | CratesIo) => {
            format!("{ecosystem} lists no maintainers per version (by design)")
        }
        (Fact::InstallScripts, PyPI | Go | CratesIo) => {
            format!("{ecosystem} metadata has no install scripts (by design)")
        }
        (Fact::Provenance, Go) => "the Go module proxy records no provenance (by design)".into(),
        (Fact::Publisher, Npm) => "publisher (_npmUser) missing: stripped by the registry mirror".into(),
        (Fact::Maintainers, Npm) => "per-version maintainers missing: stripped by the registry mirror".into(),
        (Fact::InstallScripts, Npm) => "scripts missing from the version metadata".into(),
        (Fact::Provenance, _) => "provenance unknown".into(),
        (Fact::Published, _) => "publish time unknown".into(),
        (Fact::Dependencies, _) => "dependency list unknown".into(),
    }
}

/// The facts [`missing`] explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    Publisher,
    Maintainers,
    InstallScripts,
    Provenance,
    Published,
    Dependencies,
}

/// The reason given when the policy marks an ecosystem's registry times as untrusted.
pub fn untrusted_times(ecosystem: Ecosystem) -> String {
    format!("publish times of the {ecosystem} registry marked untrusted by the policy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_lines() {
        let l = |raw| line_of(Ecosystem::Npm, raw).map(|l| l.to_string());
        assert_eq!(l("0.7.29").as_deref(), Some("0.7"));
        assert_eq!(l("3.3.6").as_deref(), Some("3"));
        assert_eq!(l("v1.22.0-rc.1").as_deref(), Some("1"));
        assert_eq!(l("0.0.3").as_deref(), Some("0.0"));
        assert_eq!(l("latest"), None);
        assert_eq!(line_of(Ecosystem::PyPI, "1!2.0.post1").map(|l| l.to_string()).as_deref(), Some("1!2"));
        assert_eq!(line_of(Ecosystem::PyPI, "2024.1").map(|l| l.to_string()).as_deref(), Some("2024"));
    }

    proptest::proptest! {
        /// The first two numbers read as splitting at `.`, `-` and `+` reads them (the reference
        /// the byte reader replaced).
        #[test]
        fn major_and_minor_read_as_the_parts_say(raw in "[0-9a-z.+!-]{0,12}") {
            let number = |part: &str| {
                let end = part.find(|c: char| !c.is_ascii_digit()).unwrap_or(part.len());
                part[..end].parse::<u64>().ok()
            };
            let mut parts = raw.split(['.', '-', '+']);
            let major = parts.next().and_then(number);
            let minor = parts.next().and_then(number).unwrap_or(0);
            proptest::prop_assert_eq!(major_minor(&raw), (major, minor), "{:?}", raw);
        }
    }

    /// The newest version, found once per package: the registry's tag first (this version when
    /// it is spelled so, else its first listing), else the greatest stable version, the last
    /// listed where several are equal (PEP 440 `1.0` is `1.0.0`), whichever is locked.
    #[test]
    fn the_newest_version_is_the_tag_or_the_last_greatest() {
        use testing::{package, v};
        let newest = |facts: &PackageFacts, locked: &str| {
            let prepared = Prepared::new(facts);
            let history = History::find_in(&prepared, locked).expect("listed");
            history.newest().map(|e| e.facts.version.clone())
        };
        let at = "2024-01-01T00:00:00Z";
        let mut tied = package(Ecosystem::PyPI, "p", vec![v("0.9", at), v("1.0", at), v("2.0rc1", at), v("1.0.0", at)]);
        assert_eq!(newest(&tied, "0.9").as_deref(), Some("1.0.0"));
        assert_eq!(newest(&tied, "1.0.0").as_deref(), Some("1.0.0"), "found as 1.0, the first of the equal ones");
        assert_eq!(newest(&tied, "1.0").as_deref(), Some("1.0.0"));
        tied.latest = Some(" 0.9 ".into());
        assert_eq!(newest(&tied, "1.0").as_deref(), Some("0.9"), "the tag wins");
        tied.latest = Some("3.0".into());
        assert_eq!(newest(&tied, "0.9").as_deref(), Some("1.0.0"), "a tag that is not listed is not used");
        let npm = package(Ecosystem::Npm, "n", vec![v("1.0.0", at), v("2.0.0-beta.1", at), v("1.5.0", at), v("x", at)]);
        assert_eq!(newest(&npm, "1.0.0").as_deref(), Some("1.5.0"));
        assert_eq!(newest(&npm, "1.5.0").as_deref(), Some("1.5.0"));
        let none = package(Ecosystem::Npm, "m", vec![v("1.0.0-rc.1", at)]);
        assert_eq!(newest(&none, "1.0.0-rc.1"), None, "pre-releases are never the newest");
    }

    /// The last publication, found once per package, is the one each locked version found by
    /// scanning itself first and then the others: of versions published at the same time, the
    /// last listed other than the locked one. The versions near a time are a slice by time.
    #[test]
    fn the_last_publication_and_the_versions_near_a_time() {
        use testing::{package, t, v};
        let facts = package(
            Ecosystem::Npm,
            "p",
            vec![
                v("1.0.0", "2024-01-01T00:00:00Z"),
                v("1.1.0", "2024-03-01T00:00:00Z"),
                v("2.0.0", "2024-03-01T00:00:00Z"),
                v("1.2.0", "2024-02-01T00:00:00Z"),
                v("1.3.0", "2024-02-01T00:40:00Z"),
            ],
        );
        let prepared = Prepared::new(&facts);
        let last = |locked: &str| {
            let history = History::find_in(&prepared, locked).expect("listed");
            history.last_published().map(|(at, e)| (at, e.facts.version.clone()))
        };
        let march = t("2024-03-01T00:00:00Z");
        assert_eq!(last("1.0.0"), Some((march, "2.0.0".into())));
        assert_eq!(last("1.1.0"), Some((march, "2.0.0".into())));
        assert_eq!(last("2.0.0"), Some((march, "1.1.0".into())), "the other one of the tie");
        let history = History::find_in(&prepared, "1.2.0").expect("listed");
        let near = |at: &str, minutes: i64| {
            let mut near: Vec<String> = history
                .published_within(t(at), jiff::SignedDuration::from_mins(minutes))
                .map(|e| e.facts.version.clone())
                .collect();
            near.sort();
            near
        };
        assert_eq!(near("2024-02-01T00:20:00Z", 20), ["1.2.0", "1.3.0"], "both ends included");
        assert_eq!(near("2024-02-01T00:20:00Z", 19), Vec::<String>::new());
        assert_eq!(near("2024-03-01T00:00:00Z", 0), ["1.1.0", "2.0.0"]);
        assert_eq!(near("2024-02-01T00:00:00Z", -5), Vec::<String>::new(), "a negative span holds nothing");
        let none =
            package(Ecosystem::Npm, "q", vec![VersionFacts { version: "1.0.0".into(), ..VersionFacts::default() }]);
        let prepared = Prepared::new(&none);
        assert!(History::find_in(&prepared, "1.0.0").expect("listed").last_published().is_none());
    }

    #[test]
    fn raise_stops_at_critical() {
        assert_eq!(raise(Level::Low, 1), Level::Medium);
        assert_eq!(raise(Level::High, 5), Level::Critical);
        assert_eq!(raise(Level::Medium, 0), Level::Medium);
    }

    #[test]
    fn durations_read_well() {
        let h = jiff::SignedDuration::from_hours;
        assert_eq!(fmt_days(h(24)), "1 day");
        assert_eq!(fmt_days(h(365 * 24)), "365 days");
        assert_eq!(fmt_days(h(36)), "1.5 days");
        assert_eq!(fmt_days(h(1)), "1 hour");
        assert_eq!(fmt_days(jiff::SignedDuration::from_mins(45)), "45 minutes");
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("ok", 2), "ok");
    }

    #[test]
    fn tally_counts_unknown_as_not_evaluated() {
        let a = Code::new("takeover/a");
        let mut t = Tally::new([a]);
        t.record(a, &Outcome::Pass);
        t.record(a, &Outcome::NotEvaluated("x".into()));
        t.record(a, &Outcome::NotEvaluated("x".into()));
        t.record(a, &Outcome::NotEvaluated("y".into()));
        let c = t.coverage();
        assert_eq!((c[0].evaluated, c[0].total), (1, 4));
        assert_eq!(c[0].reason.as_deref(), Some("x (2); y (1)"));
    }
}
