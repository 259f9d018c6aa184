//! The match stage: the unique registry packages of all units are matched once
//! (`matcher::match_unique`), and each vulnerability is attached to every unit that holds the
//! package, with its dependency paths, the direct dependencies to upgrade and its lockfile line.
//! Packages that cannot be checked (ecosystem absent from the database, a version that is not
//! an exact version) are counted as not evaluated.

use std::collections::HashMap;

use rayon::prelude::*;

use super::extract::Extracted;
use super::lines::Lines;
use super::phases::{Phase, PhaseTimes, timed};
use crate::advisory::osv::Labels;
use crate::advisory::store::{Store, StoreError};
use crate::bundle::{TreeSource, Unit};
use crate::finding::{AdvisoryInfo, NotEvaluated, VulnHit};
use crate::graph::{NodeId, Reversed};
use crate::matcher::{self, PackageMatches, PackageQuery, Vulnerability};
use crate::package::{Ecosystem, Package, Source};
use crate::policy::{Assessed, AssessedUnit};
use crate::risk::VULNERABILITY;
use crate::risk::takeover::malicious::classify;
use crate::vocab::AdvisoryId;
use crate::vocab::Code;

/// Most dependency paths reported per finding.
pub const MAX_PATHS: usize = 5;

/// The match of every unique registry package of the units, with the code of each matched
/// vulnerability: everything of the match stage that reads the store. It only borrows the units,
/// so that work which needs the units but not the match (the registry metadata, the unused
/// check) can run beside it; [`attach`] then moves the units into the result.
pub(crate) struct Matched {
    queries: Vec<PackageQuery>,
    grouped: Vec<PackageMatches>,
    codes: HashMap<String, Code>,
}

/// Matches every unique registry package of `units` against the store (timing each step).
pub(crate) fn match_packages(units: &[Unit], store: &Store, times: Option<&PhaseTimes>) -> Result<Matched, StoreError> {
    let queries = matcher::unique(
        units.iter().flat_map(|u| u.graph.nodes()).filter(|p| p.source == Source::Registry).map(PackageQuery::of),
    );
    let candidates = timed(times, Phase::Candidates, || matcher::load_candidates(store, &queries))?;
    let evaluated = timed(times, Phase::Evaluate, || matcher::evaluate(&queries, &candidates));
    let grouped = timed(times, Phase::Advisories, || matcher::group(store, &queries, evaluated))?;
    let codes = timed(times, Phase::Labels, || advisory_codes(store, &by_package(&queries, &grouped)))?;
    Ok(Matched { queries, grouped, codes })
}

/// The vulnerabilities of each unit (with paths and lockfile lines), in unit order, and the
/// packages that could not be evaluated ([`attach`]).
pub(crate) struct Attached {
    not_evaluated: Vec<NotEvaluated>,
    hits: Vec<Vec<VulnHit>>,
}

impl Attached {
    /// The vulnerabilities of each unit, in unit order.
    pub(crate) fn hits(&self) -> &[Vec<VulnHit>] {
        &self.hits
    }
}

/// Attaches the matched vulnerabilities to every unit (with paths and lockfile lines, in
/// parallel) and counts the packages that could not be evaluated; `missing` are the ecosystems
/// the database has no advisories for. Borrows the units: [`assemble`] moves them.
pub(crate) fn attach(units: &[Unit], found: &Matched, missing: &[Ecosystem]) -> Attached {
    let matches = by_package(&found.queries, &found.grouped);
    let not_evaluated = not_evaluated(units, missing, &matches);
    let hits = units.par_iter().map(|unit| hits(unit, &matches, &found.codes)).collect();
    Attached { not_evaluated, hits }
}

/// The matched units: each unit with the vulnerabilities [`attach`] found for it (computed on
/// the same units, in the same order).
pub(crate) fn assemble(extracted: Extracted, attached: Attached) -> Assessed {
    let units = extracted
        .units
        .into_iter()
        .zip(attached.hits)
        .map(|(unit, hits)| AssessedUnit { unit, hits, signals: Vec::new() })
        .collect();
    Assessed {
        units,
        errors: extracted.errors,
        warnings: extracted.warnings,
        not_evaluated: attached.not_evaluated,
        coverage: Vec::new(),
        metadata_off: false,
    }
}

fn by_package<'a>(queries: &'a [PackageQuery], grouped: &'a [PackageMatches]) -> ByPackage<'a> {
    queries.iter().zip(grouped).map(|(q, m)| ((q.ecosystem, q.name.as_str(), q.version.as_str()), m)).collect()
}

/// The match of each unique registry package, by ecosystem, name and version.
type ByPackage<'a> = HashMap<(Ecosystem, &'a str, &'a str), &'a PackageMatches>;

fn matches_of<'a>(matches: &ByPackage<'a>, p: &Package) -> Option<&'a PackageMatches> {
    matches.get(&(p.ecosystem, p.name.as_str(), p.version.as_str())).copied()
}

/// Registry packages the match could not evaluate, once per unit and package. A version is
/// usable when the match parsed it (no version warning).
fn not_evaluated(units: &[Unit], missing: &[Ecosystem], matches: &ByPackage<'_>) -> Vec<NotEvaluated> {
    let mut out = Vec::new();
    for u in units {
        for p in u.graph.nodes().iter().filter(|p| p.source == Source::Registry) {
            let reason = if missing.contains(&p.ecosystem) {
                format!("no {} advisories in the database", p.ecosystem)
            } else if !matches_of(matches, p)
                .map_or_else(|| crate::version::version_usable(p), |m| m.version_warning.is_none())
            {
                format!("version {:?} is not an exact {} version", p.version, p.ecosystem)
            } else {
                continue;
            };
            out.push(NotEvaluated { bundle: u.path.clone(), package: format!("{}@{}", p.name, p.version), reason });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The code of every matched vulnerability, from the labels of its records (MAL- ids and
/// CWE-506 are `takeover/malicious`; RustSec informational records are `stale/unmaintained`,
/// `vulnerability/unsound` or `vulnerability/notice`): the labels the store keeps per record.
fn advisory_codes(store: &Store, matches: &ByPackage<'_>) -> Result<HashMap<String, Code>, StoreError> {
    let mut out = HashMap::new();
    for v in matches.values().flat_map(|m| &m.vulnerabilities) {
        if out.contains_key(&v.id) {
            continue;
        }
        let mut labels = Labels::default();
        for id in std::iter::once(&v.id).chain(&v.aliases) {
            let Some(record) = store.labels(id)? else { continue };
            labels.cwe_ids.extend(record.cwe_ids);
            labels.informational = labels.informational.or(record.informational);
        }
        out.insert(v.id.clone(), classify(&v.id, &v.aliases, &labels));
    }
    Ok(out)
}

fn hits(unit: &Unit, matches: &ByPackage<'_>, codes: &HashMap<String, Code>) -> Vec<VulnHit> {
    let mut found: Vec<(NodeId, &Vulnerability)> = Vec::new();
    for (node, p) in unit.graph.nodes().iter().enumerate() {
        if p.source != Source::Registry {
            continue;
        }
        let Some(of_package) = matches_of(matches, p) else { continue };
        found.extend(of_package.vulnerabilities.iter().map(|v| (node, v)));
    }
    if found.is_empty() {
        return Vec::new();
    }
    // Read again only for the lines of its hits (most units have none).
    let text = match unit.source {
        TreeSource::Artifact | TreeSource::NotRead => String::new(),
        TreeSource::Lockfile(_) => fs_err::read_to_string(&unit.file).unwrap_or_default(),
    };
    let lines = Lines::new(
        &text,
        found.iter().map(|&(node, _)| {
            let p = unit.graph.node(node);
            (p.name.as_str(), p.version.as_str())
        }),
    );
    let reversed = unit.graph.reversed();
    // A package with several vulnerabilities is located once, and its paths computed once.
    let mut located: HashMap<NodeId, Located> = HashMap::new();
    found
        .into_iter()
        .map(|(node, v)| {
            let code = codes.get(&v.id).copied().unwrap_or(VULNERABILITY);
            let at = located.entry(node).or_insert_with(|| locate(unit, &reversed, &lines, node));
            hit(unit, node, v, code, at)
        })
        .collect()
}

/// Where a vulnerable package sits: its lockfile line, its dependency paths and the direct
/// dependencies to upgrade (the same for each of its vulnerabilities).
struct Located {
    line: Option<u32>,
    paths: Vec<Vec<String>>,
    upgrade: Vec<String>,
}

fn locate(unit: &Unit, reversed: &Reversed, lines: &Lines<'_>, node: NodeId) -> Located {
    let label = |id: NodeId| {
        let p = unit.graph.node(id);
        format!("{}@{}", p.name, p.version)
    };
    let paths: Vec<Vec<String>> =
        reversed.paths_to(node, MAX_PATHS).into_iter().map(|path| path.into_iter().map(label).collect()).collect();
    let mut upgrade: Vec<String> = paths.iter().filter_map(|p| p.first().cloned()).collect();
    upgrade.sort();
    upgrade.dedup();
    let p = unit.graph.node(node);
    Located { line: lines.locate(p.name.as_str(), &p.version), paths, upgrade }
}

fn hit(unit: &Unit, node: NodeId, v: &Vulnerability, code: Code, at: &Located) -> VulnHit {
    let package: Package = unit.graph.node(node).clone();
    let advisory = AdvisoryInfo {
        id: AdvisoryId::new(v.id.clone()),
        aliases: v.aliases.clone(),
        severity: v.severity.level,
        cvss_score: v.severity.score,
        fixed: v.fixed.clone(),
        summary: v.summary.clone(),
        notes: v.notes.clone(),
    };
    VulnHit {
        code,
        node,
        package,
        advisory,
        paths: at.paths.clone(),
        upgrade: at.upgrade.clone(),
        line: at.line,
        reachable: None,
    }
}
