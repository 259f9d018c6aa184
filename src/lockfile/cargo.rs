//! `Cargo.lock` (v1 to v4) through the `cargo-lock` crate.
//! <https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html>
//!
//! Decisions:
//! - Packages without a `source` are the workspace's own crates (members, or path dependencies:
//!   Cargo.lock does not tell them apart). They are `Source::Workspace` nodes and the roots;
//!   their dependencies are the roots' children.
//! - crates.io packages are `Source::Registry`; other registries are `Source::Other` (their
//!   crates are not crates.io crates, so crates.io advisories must not match them); git
//!   packages are `Source::Git` with the locked commit.
//! - Every package is production scope: Cargo.lock records dev-dependencies like any other
//!   dependency, so dev-only crates cannot be known from it.

use std::collections::HashMap;

use cargo_lock::{Lockfile, package::SourceKind};
use serde::Deserialize;

use super::{LockfileError, ParseInput, Parsed};
use crate::graph::{DepGraph, NodeId};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

/// A dependency reference: a name, and the version / source when the lockfile gives them.
struct DepRef {
    name: String,
    version: Option<String>,
    source: Option<Source>,
}

pub(crate) fn parse_cargo_lock(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes).map_err(|_| LockfileError::new(input.path, None, "not valid UTF-8"))?;
    if !text.is_ascii() || text.contains("\\u") || text.contains("\\U") {
        check_checksums(input, text)?;
    }
    let entries = match text.parse::<Lockfile>() {
        Ok(lockfile) => entries_of(&lockfile),
        Err(err) => {
            let message = err.to_string();
            if !message.contains("couldn't resolve dependency") {
                return Err(LockfileError::new(
                    input.path,
                    toml_location(&message),
                    format!("invalid Cargo.lock: {}", reason(&message)),
                ));
            }
            lenient_entries(input, text)?
        }
    };
    if entries.is_empty() {
        // Cargo always locks the workspace's own crates: a file without any is not a Cargo.lock.
        return Err(LockfileError::new(input.path, None, "no [[package]] entries: not a Cargo.lock"));
    }
    Ok(build(entries))
}

fn entries_of(lockfile: &Lockfile) -> Vec<(Package, Vec<DepRef>)> {
    lockfile
        .packages
        .iter()
        .chain(lockfile.root.as_ref())
        .map(|package| {
            let deps = package
                .dependencies
                .iter()
                .map(|dep| DepRef {
                    name: dep.name.as_str().to_owned(),
                    version: Some(dep.version.to_string()),
                    source: dep.source.as_ref().map(|s| source_of(Some(s))),
                })
                .collect();
            (
                crate_package(package.name.as_str(), &package.version.to_string(), source_of(package.source.as_ref())),
                deps,
            )
        })
        .collect()
}

fn crate_package(name: &str, version: &str, source: Source) -> Package {
    Package {
        ecosystem: Ecosystem::CratesIo,
        name: PackageName::new(Ecosystem::CratesIo, name),
        version: version.to_owned(),
        scope: Scope::Prod,
        source,
    }
}

#[derive(Deserialize)]
struct LenientWire {
    #[serde(default)]
    package: Vec<LenientPackageWire>,
}

#[derive(Deserialize)]
struct LenientPackageWire {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// When `cargo-lock` refuses a lockfile because a dependency is not listed in it (an excerpt of
/// a lockfile, or one edited by hand), its packages are still read, without that edge.
fn lenient_entries(input: &ParseInput<'_>, text: &str) -> Result<Vec<(Package, Vec<DepRef>)>, LockfileError> {
    let wire: LenientWire = toml::from_str(text)
        .map_err(|e| LockfileError::new(input.path, None, format!("invalid Cargo.lock: {}", e.message())))?;
    Ok(wire
        .package
        .into_iter()
        .map(|p| {
            let source = p.source.as_deref().map_or(Source::Workspace, |s| {
                cargo_lock::SourceId::from_url(s)
                    .map_or_else(|_| Source::Other(s.to_owned()), |id| source_of(Some(&id)))
            });
            let deps = p
                .dependencies
                .iter()
                .map(|d| {
                    let mut parts = d.split_whitespace();
                    DepRef {
                        name: parts.next().unwrap_or("").to_owned(),
                        version: parts.next().map(str::to_owned),
                        source: None,
                    }
                })
                .collect();
            (crate_package(&p.name, &p.version, source), deps)
        })
        .collect())
}

#[derive(Deserialize)]
struct ChecksumsWire {
    #[serde(default)]
    package: Vec<ChecksumWire>,
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct ChecksumWire {
    checksum: Option<toml::Value>,
}

/// cargo-lock 11 panics on a 64-byte checksum that is not ASCII (it slices it by bytes; found
/// by fuzzing). Only a lockfile with non-ASCII text or `\u` escapes can hold one, so only those
/// pay for this extra read.
fn check_checksums(input: &ParseInput<'_>, text: &str) -> Result<(), LockfileError> {
    let Ok(wire) = toml::from_str::<ChecksumsWire>(text) else {
        return Ok(()); // cargo-lock reports the syntax error itself
    };
    let values = wire.package.iter().filter_map(|p| p.checksum.as_ref()).chain(wire.metadata.values());
    for value in values {
        if value.as_str().is_some_and(|s| !s.is_ascii()) {
            return Err(LockfileError::new(
                input.path,
                None,
                format!("invalid Cargo.lock: checksum {value} is not 64 hexadecimal digits"),
            ));
        }
    }
    Ok(())
}

/// Nodes, roots (the packages without a source) and edges resolved by name, version, source.
fn build(entries: Vec<(Package, Vec<DepRef>)>) -> Parsed {
    let mut graph = DepGraph::new();
    let mut by_name: HashMap<String, Vec<NodeId>> = HashMap::new();
    let mut all_deps = Vec::with_capacity(entries.len());
    for (package, deps) in entries {
        let workspace = package.source == Source::Workspace;
        let name = package.name.to_string();
        let id = graph.add_node(package);
        by_name.entry(name).or_default().push(id);
        if workspace {
            graph.add_root(id);
        }
        all_deps.push(deps);
    }
    let mut warnings = Vec::new();
    for (parent, deps) in all_deps.iter().enumerate() {
        for dep in deps {
            let chosen = by_name.get(&dep.name).and_then(|ids| {
                ids.iter().copied().find(|&id| {
                    let node = graph.node(id);
                    dep.version.as_ref().is_none_or(|v| &node.version == v)
                        && dep.source.as_ref().is_none_or(|s| &node.source == s)
                })
            });
            if let Some(child) = chosen {
                graph.add_edge(parent, child);
            } else {
                let from = graph.node(parent);
                warnings.push(format!(
                    "{} {} depends on {} {}, which the lockfile does not list",
                    from.name,
                    from.version,
                    dep.name,
                    dep.version.as_deref().unwrap_or("")
                ));
            }
        }
    }
    graph.finish();
    Parsed { graph, warnings }
}

fn source_of(source: Option<&cargo_lock::SourceId>) -> Source {
    let Some(source) = source else {
        return Source::Workspace;
    };
    match source.kind() {
        SourceKind::Git(_) => Source::Git { url: source.url().to_string(), rev: source.precise().map(str::to_owned) },
        SourceKind::Path => Source::Path(source.url().to_string()),
        _ if source.is_default_registry() => Source::Registry,
        _ => Source::Other(source.to_string()),
    }
}

/// The reason in a TOML error message: its last non-empty line (the first one says where, the
/// middle ones quote the input).
fn reason(message: &str) -> String {
    message.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(message).trim().to_owned()
}

/// `line:col` from a TOML error message ("TOML parse error at line 3, column 7").
fn toml_location(message: &str) -> Option<String> {
    let rest = message.split("at line ").nth(1)?;
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (line.parse::<usize>().is_ok() && !col.is_empty()).then(|| format!("{line}:{col}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_from_message() {
        assert_eq!(toml_location("parse error: TOML parse error at line 3, column 7\n  |"), Some("3:7".to_owned()));
        assert_eq!(toml_location("parse error: other"), None);
    }
}
