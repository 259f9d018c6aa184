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

use super::{LockfileError, ParseInput, Parsed};
use crate::graph::{DepGraph, NodeId};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

pub(crate) fn parse_cargo_lock(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes)
        .map_err(|_| LockfileError::new(input.path, None, "not valid UTF-8"))?;
    let lockfile: Lockfile = text.parse().map_err(|e: cargo_lock::Error| {
        let message = e.to_string();
        LockfileError::new(input.path, toml_location(&message), first_line(&message))
    })?;
    let packages: Vec<&cargo_lock::Package> =
        lockfile.packages.iter().chain(lockfile.root.as_ref()).collect();
    let mut graph = DepGraph::new();
    let mut by_key: HashMap<(&str, String), Vec<NodeId>> = HashMap::new();
    for package in &packages {
        let id = graph.add_node(Package {
            ecosystem: Ecosystem::CratesIo,
            name: PackageName::new(Ecosystem::CratesIo, package.name.as_str()),
            version: package.version.to_string(),
            scope: Scope::Prod,
            source: source_of(package.source.as_ref()),
        });
        by_key
            .entry((package.name.as_str(), package.version.to_string()))
            .or_default()
            .push(id);
        if package.source.is_none() {
            graph.add_root(id);
        }
    }
    let mut warnings = Vec::new();
    for (parent, package) in packages.iter().enumerate() {
        for dep in &package.dependencies {
            let candidates = by_key
                .get(&(dep.name.as_str(), dep.version.to_string()))
                .map_or(&[][..], Vec::as_slice);
            let chosen = candidates
                .iter()
                .copied()
                .find(|&id| dep.source.is_none() || packages.get(id).and_then(|p| p.source.as_ref()) == dep.source.as_ref())
                .or_else(|| candidates.first().copied());
            match chosen {
                Some(child) => graph.add_edge(parent, child),
                None => warnings.push(format!(
                    "{} {} depends on {} {}, which the lockfile does not list",
                    package.name, package.version, dep.name, dep.version
                )),
            }
        }
    }
    graph.finish();
    Ok(Parsed { graph, warnings })
}

fn source_of(source: Option<&cargo_lock::SourceId>) -> Source {
    let Some(source) = source else {
        return Source::Workspace;
    };
    match source.kind() {
        SourceKind::Git(_) => Source::Git {
            url: source.url().to_string(),
            rev: source.precise().map(str::to_owned),
        },
        SourceKind::Path => Source::Path(source.url().to_string()),
        _ if source.is_default_registry() => Source::Registry,
        _ => Source::Other(source.to_string()),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_owned()
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
        assert_eq!(
            toml_location("parse error: TOML parse error at line 3, column 7\n  |"),
            Some("3:7".to_owned())
        );
        assert_eq!(toml_location("parse error: other"), None);
    }
}
