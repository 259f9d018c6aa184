//! `poetry.lock`: `[[package]]` tables with `[package.dependencies]` edges. The scope comes from
//! `category` (lock 1.x), `groups` (lock 2.1, Poetry 2), or, for lock 2.0 which records neither,
//! from the groups of a sibling `pyproject.toml` propagated along the edges.
//! <https://python-poetry.org/docs/basic-usage/#installing-with-poetrylock>

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ScopedGraph, pyproject};
use crate::lockfile::{LockfileError, ParseInput, Parsed};
use crate::package::{Scope, Source};

#[derive(Deserialize)]
struct LockWire {
    #[serde(default)]
    package: Vec<PackageWire>,
    metadata: Option<MetadataWire>,
}

#[derive(Deserialize)]
struct MetadataWire {
    #[serde(rename = "lock-version")]
    lock_version: Option<toml::Value>,
}

#[derive(Deserialize)]
struct PackageWire {
    name: String,
    version: String,
    category: Option<String>,
    groups: Option<Vec<String>>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    source: Option<SourceWire>,
}

#[derive(Deserialize)]
struct SourceWire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

impl From<SourceWire> for Source {
    fn from(wire: SourceWire) -> Source {
        match wire.kind.as_str() {
            "legacy" => Source::Registry,
            "git" => Source::Git { url: wire.url, rev: wire.resolved_reference.or(wire.reference) },
            "directory" | "file" => Source::Path(wire.url),
            other => Source::Other(format!("{other}+{}", wire.url)),
        }
    }
}

/// The scope a lock-1.x `category` or a lock-2.1 `groups` list gives, if any.
fn recorded_scope(package: &PackageWire) -> Option<Scope> {
    let main = match (&package.groups, &package.category) {
        (Some(groups), _) => groups.iter().any(|g| g == "main"),
        (None, Some(category)) => category == "main",
        (None, None) => return None,
    };
    Some(match (main, package.optional) {
        (true, false) => Scope::Prod,
        (true, true) => Scope::Optional,
        (false, _) => Scope::Dev,
    })
}

/// An edge is optional when every constraint for it says `optional = true`.
fn edge_scope(spec: &toml::Value) -> Scope {
    let optional = |v: &toml::Value| v.get("optional").and_then(toml::Value::as_bool).unwrap_or(false);
    let all_optional = match spec {
        toml::Value::Array(items) => !items.is_empty() && items.iter().all(optional),
        other => optional(other),
    };
    if all_optional { Scope::Optional } else { Scope::Prod }
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let wire: LockWire = super::from_toml(input.path, input.bytes)?;
    // Poetry always writes `[metadata]`; before 1.1 it had no `lock-version` (read as 1.0).
    let Some(metadata) = &wire.metadata else {
        return Err(LockfileError::new(input.path, None, "no [metadata] table: not a poetry.lock"));
    };
    super::check_lock_version(input.path, "metadata.lock-version", metadata.lock_version.as_ref(), 1..=2, true)?;
    let mut warnings = Vec::new();
    let manifest = pyproject::read(input.read_sibling, &mut warnings);
    let mut graph = ScopedGraph::default();
    let mut recorded = Vec::with_capacity(wire.package.len());
    let mut deps = Vec::with_capacity(wire.package.len());
    for package in wire.package {
        recorded.push(recorded_scope(&package));
        let source = package.source.map_or(Source::Registry, Source::from);
        graph.add(&package.name, &package.version, source);
        deps.push(package.dependencies);
    }
    let index = graph.name_index();
    for (parent, list) in deps.iter().enumerate() {
        for (name, spec) in list {
            for &child in ScopedGraph::named(&index, name) {
                graph.edge(parent, child, edge_scope(spec));
            }
        }
    }
    let roots: Vec<_> = match &manifest {
        Some(m) => m.direct.keys().flat_map(|name| ScopedGraph::named(&index, name.as_str()).iter().copied()).collect(),
        None => graph.parentless(),
    };
    assign_scopes(&mut graph, &recorded, manifest.as_ref(), &mut warnings);
    Ok(Parsed { graph: graph.into_graph(&roots), warnings })
}

fn assign_scopes(
    graph: &mut ScopedGraph,
    recorded: &[Option<Scope>],
    manifest: Option<&pyproject::Manifest>,
    warnings: &mut Vec<String>,
) {
    if recorded.iter().all(Option::is_some) {
        for (package, scope) in graph.packages.iter_mut().zip(recorded) {
            package.scope = scope.unwrap_or(Scope::Prod);
        }
        return;
    }
    let Some(manifest) = manifest else {
        warnings.push(
            "poetry.lock records no groups and there is no pyproject.toml beside it: \
             every package is taken as production"
                .to_owned(),
        );
        return;
    };
    let index = graph.name_index();
    let seeds: Vec<_> = manifest
        .direct
        .iter()
        .flat_map(|(name, &scope)| ScopedGraph::named(&index, name.as_str()).iter().map(move |&id| (id, scope)))
        .collect();
    graph.propagate_scopes(&seeds, Scope::Prod);
    for (package, scope) in graph.packages.iter_mut().zip(recorded) {
        if let Some(scope) = scope {
            package.scope = *scope;
        }
    }
}
