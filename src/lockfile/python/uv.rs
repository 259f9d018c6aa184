//! `uv.lock`: `[[package]]` tables with `dependencies`, `optional-dependencies` (extras) and
//! `dev-dependencies` (groups). The project itself is the package whose source is
//! `{ virtual = "." }` or `{ editable = "." }` (plus workspace members listed in `[manifest]`);
//! it is the root, and scopes flow from it along the edges.
//! <https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile>

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::ScopedGraph;
use crate::graph::NodeId;
use crate::lockfile::{LockfileError, ParseInput, Parsed};
use crate::package::{Scope, Source};

#[derive(Deserialize)]
struct LockWire {
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<PackageWire>,
    manifest: Option<ManifestWire>,
}

/// The lock format versions this parser reads (uv writes `version = 1`).
const UV_LOCK_VERSIONS: std::ops::RangeInclusive<i64> = 1..=1;

#[derive(Deserialize)]
struct ManifestWire {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: SourceWire,
    #[serde(default)]
    dependencies: Vec<DepWire>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<DepWire>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<DepWire>>,
}

#[derive(Deserialize, Default)]
struct SourceWire {
    registry: Option<String>,
    git: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct DepWire {
    name: String,
    version: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
}

impl SourceWire {
    /// The project-local folder when the package is a workspace member or the project itself.
    fn project_folder(&self) -> Option<&str> {
        self.editable.as_deref().or(self.virtual_.as_deref())
    }

    fn to_source(&self) -> Source {
        if let Some(git) = &self.git {
            let (url, rev) = git.split_once('#').map_or((git.as_str(), None), |(u, r)| (u, Some(r.to_owned())));
            let url = url.split('?').next().unwrap_or(url);
            return Source::Git { url: url.to_owned(), rev };
        }
        if self.registry.is_some() {
            return Source::Registry;
        }
        if self.project_folder().is_some() {
            return Source::Workspace;
        }
        if let Some(path) = self.path.as_ref().or(self.directory.as_ref()) {
            return Source::Path(path.clone());
        }
        match &self.url {
            Some(url) => Source::Other(url.clone()),
            None => Source::Registry,
        }
    }
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let wire: LockWire = super::from_toml(input.path, input.bytes)?;
    match wire.version.as_ref().map(|v| (v, v.as_integer())) {
        Some((_, Some(n))) if UV_LOCK_VERSIONS.contains(&n) => {}
        found => {
            let found = found.map_or_else(|| "nothing (the key is missing)".to_owned(), |(v, _)| v.to_string());
            return Err(LockfileError::new(
                input.path,
                Some("version".to_owned()),
                format!("expected lock format version 1, found {found}"),
            ));
        }
    }
    let members: BTreeSet<_> = wire.manifest.map(|m| m.members.into_iter().collect()).unwrap_or_default();
    let mut graph = ScopedGraph::default();
    let mut roots = Vec::new();
    for package in &wire.package {
        let id = graph.add(&package.name, package.version.as_deref().unwrap_or(""), package.source.to_source());
        let is_member =
            package.source.project_folder().is_some_and(|dir| dir == "." || members.contains(&package.name));
        if is_member {
            roots.push(id);
        }
    }
    add_edges(&mut graph, &wire.package, &roots);
    let mut warnings = Vec::new();
    if roots.is_empty() {
        warnings.push("no project package (source virtual/editable \".\") found".to_owned());
        roots = graph.parentless();
    }
    let seeds: Vec<_> = roots.iter().map(|&r| (r, Scope::Prod)).collect();
    graph.propagate_scopes(&seeds, Scope::Prod);
    Ok(Parsed { graph: graph.into_graph(&roots), warnings })
}

/// Edges for `dependencies` (prod), dev groups (dev) and extras: an extra's edges are optional
/// unless some package asks for that extra (`{ name = "x", extra = ["y"] }`), in which case
/// they count as the requesting path's scope. Extras a project asks of itself stay optional.
fn add_edges(graph: &mut ScopedGraph, packages: &[PackageWire], roots: &[NodeId]) {
    let index = graph.name_index();
    let resolve = |dep: &DepWire| -> Vec<NodeId> {
        ScopedGraph::named(&index, &dep.name)
            .iter()
            .copied()
            .filter(|&id| {
                dep.version.as_deref().is_none_or(|v| packages.get(id).and_then(|p| p.version.as_deref()) == Some(v))
            })
            .collect()
    };
    let mut requested: BTreeSet<(NodeId, &str)> = BTreeSet::new();
    for package in packages {
        let all = package
            .dependencies
            .iter()
            .chain(package.optional_dependencies.values().flatten())
            .chain(package.dev_dependencies.values().flatten());
        for dep in all {
            for id in resolve(dep) {
                if !roots.contains(&id) {
                    requested.extend(dep.extra.iter().map(|e| (id, e.as_str())));
                }
            }
        }
    }
    for (parent, package) in packages.iter().enumerate() {
        for dep in &package.dependencies {
            for child in resolve(dep) {
                graph.edge(parent, child, Scope::Prod);
            }
        }
        for (extra, deps) in &package.optional_dependencies {
            let scope = if requested.contains(&(parent, extra.as_str())) { Scope::Prod } else { Scope::Optional };
            for child in deps.iter().flat_map(&resolve) {
                graph.edge(parent, child, scope);
            }
        }
        for child in package.dev_dependencies.values().flatten().flat_map(&resolve) {
            graph.edge(parent, child, Scope::Dev);
        }
    }
}
