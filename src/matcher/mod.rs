//! Matching: the unique packages of a scan are looked up once in the store (indexed by
//! ecosystem and normalized name; SQLite connections are not shared between threads, so lookups
//! are sequential), evaluated in memory in parallel with rayon, and the advisories that are
//! aliases of one another are grouped into one vulnerability listing every id.

pub mod range;

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;

use crate::advisory::osv::{Affected, Severity};
use crate::advisory::store::{AdvisoryMeta, Store, StoreError};
use crate::package::{Ecosystem, Package, PackageName};
use crate::version::Version;

/// A package to match: ecosystem, normalized name and the raw version string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageQuery {
    pub ecosystem: Ecosystem,
    pub name: PackageName,
    pub version: String,
}

impl PackageQuery {
    /// The query for an installed package.
    pub fn of(package: &Package) -> PackageQuery {
        PackageQuery { ecosystem: package.ecosystem, name: package.name.clone(), version: package.version.clone() }
    }
}

/// One vulnerability affecting a package: every record that describes it, grouped by aliases.
#[derive(Debug, Clone, PartialEq)]
pub struct Vulnerability {
    /// The preferred id (the package ecosystem's own database first: RUSTSEC, GO, PYSEC, GHSA).
    pub id: String,
    /// All other ids: matched records and their aliases (CVEs, GHSAs, ...), sorted.
    pub aliases: Vec<String>,
    pub severity: Severity,
    /// Lowest fixed version of each affecting range, sorted by version where they parse.
    pub fixed: Vec<String>,
    pub summary: String,
    /// Remarks on how the match was made (an unreadable bound in the record, ...).
    pub notes: Vec<String>,
}

/// The result for one query, in the order of the queries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PackageMatches {
    pub vulnerabilities: Vec<Vulnerability>,
    /// Set when the package's own version did not parse (only exact `versions` entries match).
    pub version_warning: Option<String>,
}

/// A matched advisory record before grouping.
pub struct Hit {
    id: String,
    fixed: Vec<String>,
    unreadable: Vec<String>,
}

/// Matches every query against the store. Withdrawn records never match.
pub fn match_packages(store: &Store, queries: &[PackageQuery]) -> Result<Vec<PackageMatches>, StoreError> {
    let candidates = load_candidates(store, queries)?;
    let evaluated = evaluate(queries, &candidates);
    group(store, queries, evaluated)
}

/// Matches each distinct query once; the result is keyed by query.
pub fn match_unique(
    store: &Store,
    queries: impl IntoIterator<Item = PackageQuery>,
) -> Result<HashMap<PackageQuery, PackageMatches>, StoreError> {
    let unique = unique(queries);
    let matches = match_packages(store, &unique)?;
    Ok(unique.into_iter().zip(matches).collect())
}

/// The distinct queries among `queries`.
pub fn unique(queries: impl IntoIterator<Item = PackageQuery>) -> Vec<PackageQuery> {
    queries.into_iter().collect::<std::collections::HashSet<_>>().into_iter().collect()
}

/// The affected entries of every queried package, read from the store: the first step of
/// [`match_packages`] (its steps are public so that a scan can time each).
pub struct Candidates(HashMap<(Ecosystem, PackageName), Vec<(String, Affected)>>);

/// The matched records of each query, in the order of the queries, before grouping.
pub struct Evaluated(Vec<(Vec<Hit>, Option<String>)>);

/// Reads the candidates of every query from the store: one statement per ecosystem.
pub fn load_candidates(store: &Store, queries: &[PackageQuery]) -> Result<Candidates, StoreError> {
    // In key order, so the index is read front to back.
    let keys: BTreeSet<(Ecosystem, &PackageName)> = queries.iter().map(|q| (q.ecosystem, &q.name)).collect();
    let mut out: HashMap<(Ecosystem, PackageName), Vec<(String, Affected)>> = HashMap::with_capacity(keys.len());
    for eco in Ecosystem::ALL {
        let names: Vec<&PackageName> = keys.iter().filter(|(e, _)| *e == eco).map(|&(_, name)| name).collect();
        if names.is_empty() {
            continue;
        }
        let mut lists: Vec<Vec<(String, Affected)>> = names.iter().map(|_| Vec::new()).collect();
        for (at, id, affected) in store.candidates_of(eco, &names)? {
            lists[at].push((id, affected));
        }
        out.extend(names.into_iter().map(|name| (eco, name.clone())).zip(lists));
    }
    Ok(Candidates(out))
}

/// Evaluates each query's candidates against its version, in parallel.
pub fn evaluate(queries: &[PackageQuery], candidates: &Candidates) -> Evaluated {
    Evaluated(
        queries
            .par_iter()
            .map(|q| evaluate_query(q, candidates.0.get(&(q.ecosystem, q.name.clone())).map_or(&[], Vec::as_slice)))
            .collect(),
    )
}

/// Reads the metadata of the matched records and groups the records of each query that are
/// aliases of one another into one vulnerability.
pub fn group(store: &Store, queries: &[PackageQuery], evaluated: Evaluated) -> Result<Vec<PackageMatches>, StoreError> {
    let hits = evaluated.0;
    let mut metas: HashMap<String, AdvisoryMeta> = HashMap::new();
    for (package_hits, _) in &hits {
        for hit in package_hits {
            if !metas.contains_key(&hit.id)
                && let Some(meta) = store.meta(&hit.id)?
            {
                metas.insert(hit.id.clone(), meta);
            }
        }
    }
    Ok(queries
        .iter()
        .zip(hits)
        .map(|(q, (package_hits, version_warning))| PackageMatches {
            vulnerabilities: group_aliases(q, &package_hits, &metas),
            version_warning,
        })
        .collect())
}

fn evaluate_query(q: &PackageQuery, candidates: &[(String, Affected)]) -> (Vec<Hit>, Option<String>) {
    let parsed = Version::parse(q.ecosystem, &q.version);
    let warning = parsed.as_ref().err().map(ToString::to_string);
    let version = parsed.ok();
    let mut hits: Vec<Hit> = Vec::new();
    for (id, entry) in candidates {
        let eval = range::evaluate(q.ecosystem, &q.version, version.as_ref(), entry);
        if !eval.affected {
            continue;
        }
        match hits.iter_mut().find(|h| &h.id == id) {
            Some(hit) => {
                hit.fixed.extend(eval.fixed);
                hit.unreadable.extend(eval.unreadable_bounds);
            }
            None => hits.push(Hit { id: id.clone(), fixed: eval.fixed, unreadable: eval.unreadable_bounds }),
        }
    }
    (hits, warning)
}

/// Groups records whose id/alias sets overlap into one vulnerability.
fn group_aliases(q: &PackageQuery, hits: &[Hit], metas: &HashMap<String, AdvisoryMeta>) -> Vec<Vulnerability> {
    let hits: Vec<(&Hit, &AdvisoryMeta)> = hits.iter().filter_map(|h| metas.get(&h.id).map(|m| (h, m))).collect();
    let mut group_of: Vec<usize> = (0..hits.len()).collect();
    for i in 0..hits.len() {
        for j in (i + 1)..hits.len() {
            if same_vulnerability(hits[i].1, hits[j].1) {
                let (from, to) = (find(&mut group_of, j), find(&mut group_of, i));
                group_of[from] = to;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..hits.len() {
        let root = find(&mut group_of, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vulnerability> = groups
        .into_values()
        .map(|members| merge_group(q.ecosystem, &members.iter().map(|&i| hits[i]).collect::<Vec<_>>()))
        .collect();
    out.sort_by(|a, b| b.severity.level.cmp(&a.severity.level).then_with(|| a.id.cmp(&b.id)));
    out
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn same_vulnerability(a: &AdvisoryMeta, b: &AdvisoryMeta) -> bool {
    let ids_a: BTreeSet<&str> = std::iter::once(a.id.as_str()).chain(a.aliases.iter().map(String::as_str)).collect();
    std::iter::once(b.id.as_str()).chain(b.aliases.iter().map(String::as_str)).any(|id| ids_a.contains(id))
}

fn merge_group(eco: Ecosystem, members: &[(&Hit, &AdvisoryMeta)]) -> Vulnerability {
    let primary = members
        .iter()
        .map(|(_, m)| m)
        .min_by(|a, b| id_rank(eco, &a.id).cmp(&id_rank(eco, &b.id)).then_with(|| a.id.cmp(&b.id)))
        .map_or_else(String::new, |m| m.id.clone());
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    let mut fixed: BTreeSet<String> = BTreeSet::new();
    let mut notes: BTreeSet<String> = BTreeSet::new();
    let mut severity = Severity::UNKNOWN;
    let mut summary = String::new();
    for (hit, meta) in members {
        aliases.insert(meta.id.clone());
        aliases.extend(meta.aliases.iter().cloned());
        fixed.extend(hit.fixed.iter().cloned());
        for bound in &hit.unreadable {
            notes.insert(format!("{} has an unreadable version bound {bound:?}; matched conservatively", meta.id));
        }
        if meta.severity.level > severity.level
            || (meta.severity.level == severity.level && meta.severity.score > severity.score)
        {
            severity = meta.severity;
        }
        if meta.id == primary || summary.is_empty() {
            summary.clone_from(&meta.summary);
        }
    }
    aliases.remove(&primary);
    let mut fixed: Vec<String> = fixed.into_iter().collect();
    fixed.sort_by(|a, b| match (Version::parse(eco, a), Version::parse(eco, b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    });
    Vulnerability {
        id: primary,
        aliases: aliases.into_iter().collect(),
        severity,
        fixed,
        summary,
        notes: notes.into_iter().collect(),
    }
}

/// Lower is preferred: the ecosystem's own database, then GHSA, then malicious-package records.
fn id_rank(eco: Ecosystem, id: &str) -> u8 {
    let native = match eco {
        Ecosystem::CratesIo => "RUSTSEC-",
        Ecosystem::Go => "GO-",
        Ecosystem::PyPI => "PYSEC-",
        Ecosystem::Npm => "GHSA-",
    };
    if id.starts_with(native) {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("MAL-") {
        2
    } else {
        3
    }
}
