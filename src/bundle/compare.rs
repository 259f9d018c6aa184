//! Lambda-specific findings from an artifact: dev packages shipped and drift against the bundle's
//! lockfile ([`compare`]), packages the runtime already provides ([`provided_by_runtime`]), and a
//! runtime past its deprecation date ([`deprecated_runtime`]).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;

use super::artifact::Artifact;
use super::runtimes::{RuntimeStatus, runtime_status};
use super::{HygieneFinding, HygieneKind};
use crate::graph::DepGraph;
use crate::package::{Ecosystem, PackageName};

/// Compares what the artifact ships with what the lockfile claims (npm and PyPI packages):
/// packages the lockfile marks dev-only (or the zip's own lockfile does), versions that differ,
/// packages absent from the lockfile, and lockfile packages that ship but are not in the zip.
pub fn compare(artifact: &Artifact, lock: &DepGraph) -> Vec<HygieneFinding> {
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
        let finding = |kind, message: String| HygieneFinding {
            kind,
            package: Some(p.clone()),
            location: Some(entry.location.clone()),
            message,
        };
        let versions = locked.get(&(p.ecosystem, &p.name)).map_or(&[][..], Vec::as_slice);
        let same: Vec<bool> = versions.iter().filter(|(v, _)| same_version(v, &p.version)).map(|(_, s)| *s).collect();
        if versions.is_empty() {
            out.push(finding(HygieneKind::Drift, format!("{} {} ships but is not in the lockfile", p.name, p.version)));
        } else if same.is_empty() {
            let want: Vec<&str> = versions.iter().map(|(v, _)| *v).collect();
            let msg = format!("{} {} ships, the lockfile has {}", p.name, p.version, want.join(", "));
            out.push(finding(HygieneKind::Drift, msg));
        } else if entry.dev || !same.iter().any(|ships| *ships) {
            let msg = format!("{} {} is a dev dependency and ships in the artifact", p.name, p.version);
            out.push(finding(HygieneKind::DevShipped, msg));
        }
    }
    let ecosystems: BTreeSet<Ecosystem> = shipped.iter().map(|(e, _)| *e).collect();
    for p in lock.nodes().iter().filter(|p| p.scope.ships() && ecosystems.contains(&p.ecosystem)) {
        if !shipped.contains(&(p.ecosystem, &p.name)) {
            out.push(HygieneFinding {
                kind: HygieneKind::Drift,
                package: Some(p.clone()),
                location: None,
                message: format!("{} {} is in the lockfile but not in the artifact", p.name, p.version),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Dev packages the artifact's own lockfile flags (for an artifact scanned without sources).
pub(crate) fn dev_from_own_lockfile(artifact: &Artifact) -> Vec<HygieneFinding> {
    artifact
        .entries
        .iter()
        .filter(|e| e.dev)
        .map(|e| {
            let p = artifact.package(e);
            HygieneFinding {
                kind: HygieneKind::DevShipped,
                package: Some(p.clone()),
                location: Some(e.location.clone()),
                message: format!(
                    "{} {} is a dev dependency (per the lockfile in the zip) and ships",
                    p.name, p.version
                ),
            }
        })
        .collect()
}

fn same_version(a: &str, b: &str) -> bool {
    let trim = |v: &str| v.trim().trim_start_matches(['=', 'v']).to_owned();
    trim(a) == trim(b)
}

/// Packages the runtime provides: `@aws-sdk/*` on nodejs18.x and later, boto3 / botocore /
/// s3transfer / jmespath on Python runtimes (informational: size, and who applies patches).
/// With no runtime known, nothing is reported.
pub fn provided_by_runtime(artifact: &Artifact, runtime: Option<&str>) -> Vec<HygieneFinding> {
    let Some(runtime) = runtime else { return Vec::new() };
    let node_major =
        runtime.strip_prefix("nodejs").and_then(|r| r.split('.').next()).and_then(|m| m.parse::<u32>().ok());
    let python = runtime.starts_with("python");
    let mut out = Vec::new();
    for entry in &artifact.entries {
        let p = artifact.package(entry);
        let name = p.name.as_str();
        let provided = match p.ecosystem {
            Ecosystem::Npm => node_major.is_some_and(|m| m >= 18) && name.starts_with("@aws-sdk/"),
            Ecosystem::PyPI => python && matches!(name, "boto3" | "botocore" | "s3transfer" | "jmespath"),
            _ => false,
        };
        if provided {
            out.push(HygieneFinding {
                kind: HygieneKind::ProvidedByRuntime,
                package: Some(p.clone()),
                location: Some(entry.location.clone()),
                message: format!(
                    "{name} {} is also provided by the {runtime} runtime: bundling it adds size and makes you \
                     responsible for its patches",
                    p.version
                ),
            });
        }
    }
    out
}

/// A finding when `runtime` is past its deprecation date on `today`.
pub fn deprecated_runtime(runtime: &str, today: Date) -> Option<HygieneFinding> {
    match runtime_status(runtime, today) {
        status @ RuntimeStatus::Deprecated { .. } => Some(HygieneFinding {
            kind: HygieneKind::DeprecatedRuntime,
            package: None,
            location: None,
            message: format!("runtime {runtime}: {}", status.label()),
        }),
        _ => None,
    }
}
