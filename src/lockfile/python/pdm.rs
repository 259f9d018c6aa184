//! `pdm.lock`: `[[package]]` tables with PEP 508 `dependencies` and the `groups` each package
//! belongs to (`default` ships; other groups are extras or dev groups, told apart with a
//! sibling `pyproject.toml`; without one they are taken as dev). An entry with `extras = [...]`
//! repeats a package to list its extra's dependencies: it is merged into the package's node.
//! <https://pdm-project.org/latest/usage/lockfile/>

use std::collections::HashMap;

use serde::Deserialize;

use super::{ScopedGraph, pep508_name, pyproject};
use crate::graph::NodeId;
use crate::lockfile::{LockfileError, ParseInput, Parsed};
use crate::package::{Ecosystem, PackageName, Scope, Source};

#[derive(Deserialize)]
struct LockWire {
    #[serde(default)]
    package: Vec<PackageWire>,
    metadata: Option<MetadataWire>,
}

#[derive(Deserialize)]
struct MetadataWire {
    lock_version: Option<toml::Value>,
}

#[derive(Deserialize)]
struct PackageWire {
    name: String,
    #[serde(default)]
    version: String,
    groups: Option<Vec<String>>,
    #[serde(default)]
    dependencies: Vec<String>,
    git: Option<String>,
    revision: Option<String>,
    path: Option<String>,
    url: Option<String>,
}

impl PackageWire {
    fn source(&self) -> Source {
        if let Some(url) = &self.git {
            Source::Git { url: url.clone(), rev: self.revision.clone() }
        } else if let Some(path) = &self.path {
            Source::Path(path.clone())
        } else if let Some(url) = &self.url {
            Source::Other(url.clone())
        } else {
            Source::Registry
        }
    }

    fn scope(&self, manifest: Option<&pyproject::Manifest>) -> Scope {
        let Some(groups) = &self.groups else {
            return Scope::Prod;
        };
        groups
            .iter()
            .map(|group| match group.as_str() {
                "default" => Scope::Prod,
                g if manifest.is_some_and(|m| m.extras.contains(g)) => Scope::Optional,
                _ => Scope::Dev,
            })
            .min()
            .unwrap_or(Scope::Prod)
    }
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let wire: LockWire = super::from_toml(input.path, input.bytes)?;
    let Some(metadata) = &wire.metadata else {
        return Err(LockfileError::new(input.path, None, "no [metadata] table: not a pdm.lock"));
    };
    super::check_lock_version(input.path, "metadata.lock_version", metadata.lock_version.as_ref(), 3..=4, false)?;
    let mut warnings = Vec::new();
    let manifest = pyproject::read(input.read_sibling, &mut warnings);
    let mut graph = ScopedGraph::default();
    let mut by_key: HashMap<(PackageName, &str), NodeId> = HashMap::new();
    let mut deps: Vec<Vec<&str>> = Vec::new();
    for package in &wire.package {
        let key = (PackageName::new(Ecosystem::PyPI, &package.name), package.version.as_str());
        let scope = package.scope(manifest.as_ref());
        let id = *by_key.entry(key).or_insert_with(|| {
            let id = graph.add(&package.name, &package.version, package.source());
            graph.packages[id].scope = scope;
            deps.push(Vec::new());
            id
        });
        graph.packages[id].scope = graph.packages[id].scope.min(scope);
        if let Some(list) = deps.get_mut(id) {
            list.extend(package.dependencies.iter().map(|d| pep508_name(d)));
        }
    }
    let index = graph.name_index();
    for (parent, names) in deps.iter().enumerate() {
        for name in names {
            for &child in ScopedGraph::named(&index, name) {
                graph.edge(parent, child, Scope::Prod);
            }
        }
    }
    let roots: Vec<_> = match &manifest {
        Some(m) => m.direct.keys().flat_map(|name| ScopedGraph::named(&index, name.as_str()).iter().copied()).collect(),
        None => graph.parentless(),
    };
    Ok(Parsed { graph: graph.into_graph(&roots), warnings })
}
