//! `unused/shipped`: packages in a deployment zip that no chain of dependencies from the
//! function's imported direct dependencies reaches, with the bytes each adds to the zip.
//!
//! Which packages the function imports comes from its code (in the zip, or its folder), so the
//! check needs [`Analysis::imported`](super::Analysis::imported). Packages of a zip whose edges
//! are unknown (a Go or Rust binary's modules are all linked in) are not judged here.

use std::collections::BTreeSet;

use super::{Analysis, Reached, SHIPPED, UnusedConfig};
use crate::bundle::Unit;
use crate::package::Ecosystem;
use crate::risk::{Coverage, Evidence, Signal};
use crate::vocab::Level;

/// `unused/shipped` signals for an artifact unit, from what its code imports.
pub fn shipped(unit: &Unit, analysis: &Analysis, cfg: &UnusedConfig) -> (Vec<Signal>, Vec<Coverage>) {
    judge(unit, analysis, cfg, &super::reached(unit, &analysis.imported))
}

/// [`shipped`] with the nodes the imports reach already computed.
pub(super) fn judge(
    unit: &Unit,
    analysis: &Analysis,
    cfg: &UnusedConfig,
    reached: &Reached,
) -> (Vec<Signal>, Vec<Coverage>) {
    let Some(artifact) = unit.artifact.as_deref() else {
        return (Vec::new(), Vec::new());
    };
    let judged: Vec<_> = artifact
        .entries
        .iter()
        .filter(|e| matches!(artifact.package(e).ecosystem, Ecosystem::Npm | Ecosystem::PyPI))
        .collect();
    if judged.is_empty() {
        return (Vec::new(), Vec::new());
    }
    if analysis.files_scanned == 0 {
        let reason = "no code of the function was found to tell what it imports".to_owned();
        return (Vec::new(), vec![Coverage { code: SHIPPED, evaluated: 0, total: judged.len(), reason: Some(reason) }]);
    }
    let mut signals = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in &judged {
        let p = artifact.package(entry);
        if reached.contains(entry.node) || cfg.allow.contains(p.name.as_str()) || !seen.insert(entry.node) {
            continue;
        }
        let bytes = entry.bytes.map_or_else(|| "unknown".to_owned(), |b| b.to_string());
        signals.push(Signal {
            code: SHIPPED,
            package: Some(p.clone()),
            node: Some(entry.node),
            location: Some(entry.location.clone()),
            message: format!(
                "{} {} is in the zip ({} bytes) but no chain of dependencies from what the function imports reaches it",
                p.name, p.version, bytes
            ),
            evidence: vec![Evidence::new("bytes", bytes), Evidence::new("imported", join(&analysis.imported))],
            level: Level::Low,
        });
    }
    signals.sort();
    (signals, vec![Coverage { code: SHIPPED, evaluated: judged.len(), total: judged.len(), reason: None }])
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}
