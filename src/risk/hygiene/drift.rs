//! Dev packages shipped and drift: what an artifact ships against what its function's lockfile
//! claims ([`compare`]), and dev packages flagged by the lockfile inside the zip.

use std::collections::{BTreeMap, BTreeSet};

use super::{DEV_SHIPPED, DRIFT, signal};
use crate::bundle::Artifact;
use crate::graph::DepGraph;
use crate::package::{Ecosystem, PackageName};
use crate::risk::Signal;

/// Compares what the artifact ships with what the lockfile claims (npm and PyPI packages):
/// packages the lockfile marks dev-only (or the zip's own lockfile does), versions that differ,
/// packages absent from the lockfile, and lockfile packages that ship but are not in the zip.
pub fn compare(artifact: &Artifact, lock: &DepGraph) -> Vec<Signal> {
    let mut locked: BTreeMap<(Ecosystem, &PackageName), Vec<(&str, bool)>> = BTreeMap::new();
    for p in lock.nodes() {
        locked.entry((p.ecosystem, &p.name)).or_default().push((p.version.as_str(), p.scope.ships()));
    }
    let mut out = Vec::new();
    let mut shipped: BTreeSet<(Ecosystem, &PackageName)> = BTreeSet::new();
    for entry in &artifact.entries {
        let p = artifact.package(entry);
        if !matches!(p.ecosystem, Ecosystem::Npm | Ecosystem::PyPI) {
            continue;
        }
        shipped.insert((p.ecosystem, &p.name));
        let finding = |code, message: String| signal(code, Some(p), Some(entry.location.clone()), message);
        let versions = locked.get(&(p.ecosystem, &p.name)).map_or(&[][..], Vec::as_slice);
        let same: Vec<bool> = versions.iter().filter(|(v, _)| same_version(v, &p.version)).map(|(_, s)| *s).collect();
        if versions.is_empty() {
            out.push(finding(DRIFT, format!("{} {} ships but is not in the lockfile", p.name, p.version)));
        } else if same.is_empty() {
            let want: Vec<&str> = versions.iter().map(|(v, _)| *v).collect();
            let msg = format!("{} {} ships, the lockfile has {}", p.name, p.version, want.join(", "));
            out.push(finding(DRIFT, msg));
        } else if entry.dev || !same.iter().any(|ships| *ships) {
            let msg = format!("{} {} is a dev dependency and ships in the artifact", p.name, p.version);
            out.push(finding(DEV_SHIPPED, msg));
        }
    }
    let ecosystems: BTreeSet<Ecosystem> = shipped.iter().map(|(e, _)| *e).collect();
    for p in lock.nodes().iter().filter(|p| p.scope.ships() && ecosystems.contains(&p.ecosystem)) {
        if !shipped.contains(&(p.ecosystem, &p.name)) {
            let message = format!("{} {} is in the lockfile but not in the artifact", p.name, p.version);
            out.push(signal(DRIFT, Some(p), None, message));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Dev packages the artifact's own lockfile flags (for an artifact scanned without sources).
pub(super) fn dev_from_own_lockfile(artifact: &Artifact) -> Vec<Signal> {
    artifact
        .entries
        .iter()
        .filter(|e| e.dev)
        .map(|e| {
            let p = artifact.package(e);
            let message =
                format!("{} {} is a dev dependency (per the lockfile in the zip) and ships", p.name, p.version);
            signal(DEV_SHIPPED, Some(p), Some(e.location.clone()), message)
        })
        .collect()
}

fn same_version(a: &str, b: &str) -> bool {
    let trim = |v: &str| v.trim().trim_start_matches(['=', 'v']).to_owned();
    trim(a) == trim(b)
}
