//! The match stage: the unique registry packages of all units are matched once
//! (`matcher::match_unique`), and each vulnerability is attached to every unit that holds the
//! package, with its dependency paths, the direct dependencies to upgrade and its lockfile line.
//! Packages that cannot be checked (ecosystem absent from the database, a version that is not
//! an exact version) are counted as not evaluated.

use std::collections::HashMap;

use rayon::prelude::*;

use super::extract::Extracted;
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

/// Matches every registry package of every unit (each unique package once) and attaches the
/// vulnerabilities. `missing` are the ecosystems the database has no advisories for.
pub fn match_units(extracted: Extracted, store: &Store, missing: &[Ecosystem]) -> Result<Assessed, StoreError> {
    match_units_timed(extracted, store, missing, None)
}

/// [`match_units`], timing each step.
pub(crate) fn match_units_timed(
    extracted: Extracted,
    store: &Store,
    missing: &[Ecosystem],
    times: Option<&PhaseTimes>,
) -> Result<Assessed, StoreError> {
    let queries = matcher::unique(
        extracted
            .units
            .iter()
            .flat_map(|u| u.graph.nodes())
            .filter(|p| p.source == Source::Registry)
            .map(PackageQuery::of),
    );
    let candidates = timed(times, Phase::Candidates, || matcher::load_candidates(store, &queries))?;
    let evaluated = timed(times, Phase::Evaluate, || matcher::evaluate(&queries, &candidates));
    let matches = timed(times, Phase::Advisories, || matcher::group(store, &queries, evaluated))?;
    let matches: HashMap<PackageQuery, PackageMatches> = queries.into_iter().zip(matches).collect();
    let codes = timed(times, Phase::Labels, || advisory_codes(store, &matches))?;
    let (not_evaluated, units) = timed(times, Phase::Attach, || {
        let not_evaluated = not_evaluated(&extracted.units, missing);
        let units = extracted
            .units
            .into_par_iter()
            .map(|unit| {
                let hits = hits(&unit, &matches, &codes);
                AssessedUnit { unit, hits, signals: Vec::new() }
            })
            .collect();
        (not_evaluated, units)
    });
    Ok(Assessed {
        units,
        errors: extracted.errors,
        warnings: extracted.warnings,
        not_evaluated,
        coverage: Vec::new(),
        metadata_off: false,
    })
}

/// Registry packages the match could not evaluate, once per unit and package.
fn not_evaluated(units: &[Unit], missing: &[Ecosystem]) -> Vec<NotEvaluated> {
    let mut out = Vec::new();
    for u in units {
        for p in u.graph.nodes().iter().filter(|p| p.source == Source::Registry) {
            let reason = if missing.contains(&p.ecosystem) {
                format!("no {} advisories in the database", p.ecosystem)
            } else if !crate::version::version_usable(p) {
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
fn advisory_codes(
    store: &Store,
    matches: &HashMap<PackageQuery, PackageMatches>,
) -> Result<HashMap<String, Code>, StoreError> {
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

fn hits(unit: &Unit, matches: &HashMap<PackageQuery, PackageMatches>, codes: &HashMap<String, Code>) -> Vec<VulnHit> {
    let mut found: Vec<(NodeId, &Vulnerability)> = Vec::new();
    for (node, p) in unit.graph.nodes().iter().enumerate() {
        if p.source != Source::Registry {
            continue;
        }
        let Some(of_package) = matches.get(&PackageQuery::of(p)) else { continue };
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
    let reversed = unit.graph.reversed();
    // A package with several vulnerabilities is located once.
    let mut lines: HashMap<NodeId, Option<u32>> = HashMap::new();
    found
        .into_iter()
        .map(|(node, v)| {
            let code = codes.get(&v.id).copied().unwrap_or(VULNERABILITY);
            let line = *lines.entry(node).or_insert_with(|| {
                let p = unit.graph.node(node);
                locate_line(&text, p.name.as_str(), &p.version)
            });
            hit(unit, &reversed, node, v, code, line)
        })
        .collect()
}

fn hit(unit: &Unit, reversed: &Reversed, node: NodeId, v: &Vulnerability, code: Code, line: Option<u32>) -> VulnHit {
    let label = |id: NodeId| {
        let p = unit.graph.node(id);
        format!("{}@{}", p.name, p.version)
    };
    let paths: Vec<Vec<String>> =
        reversed.paths_to(node, MAX_PATHS).into_iter().map(|path| path.into_iter().map(label).collect()).collect();
    let mut upgrade: Vec<String> = paths.iter().filter_map(|p| p.first().cloned()).collect();
    upgrade.sort();
    upgrade.dedup();
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
    VulnHit { code, node, package, advisory, paths, upgrade, line, reachable: None }
}

/// The 1-based line of a package's entry: the first line naming the package (as a whole word)
/// whose next few lines (or itself) carry the version; else the first line naming it. One pass
/// of one substring search over the text.
fn locate_line(text: &str, name: &str, version: &str) -> Option<u32> {
    if name.is_empty() {
        return None;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '.';
    let (mut line, mut counted_to) = (1usize, 0usize);
    let mut first = None;
    for (at, _) in text.match_indices(name) {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            continue;
        }
        line += text[counted_to..at].bytes().filter(|&b| b == b'\n').count();
        counted_to = at;
        first.get_or_insert(line);
        let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let window_end = text[at..].match_indices('\n').nth(3).map_or(text.len(), |(n, _)| at + n);
        if text[start..window_end].contains(version) {
            return u32::try_from(line).ok();
        }
    }
    first.and_then(|l| u32::try_from(l).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_package_entries() {
        let lock = "{\n  \"packages\": {\n    \"node_modules/qs-extra\": {\n      \"version\": \"1.0.0\"\n    },\n    \"node_modules/qs\": {\n      \"version\": \"6.7.0\"\n";
        assert_eq!(locate_line(lock, "qs", "6.7.0"), Some(6));
        let poetry = "[[package]]\nname = \"urllib3\"\nversion = \"1.24.1\"\n";
        assert_eq!(locate_line(poetry, "urllib3", "1.24.1"), Some(2));
        assert_eq!(locate_line("requests==2.19.1\n", "requests", "2.19.1"), Some(1));
        assert_eq!(locate_line("nothing here", "qs", "1"), None);
    }
}
