//! Python lockfiles: `requirements.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock`.
//! Each format has its own file; this one holds what they share: the scope propagation over
//! scoped edges, the fallback for roots, TOML error locations and PEP 508 name extraction.

mod pdm;
mod pipfile;
mod poetry;
mod pyproject;
mod requirements;
mod uv;

use std::path::Path;

use super::LockfileError;
use crate::graph::{DepGraph, NodeId};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

pub(crate) use pdm::parse as parse_pdm;
pub(crate) use pipfile::parse as parse_pipfile;
pub(crate) use poetry::parse as parse_poetry;
pub(crate) use requirements::parse as parse_requirements;
pub(crate) use uv::parse as parse_uv;

/// A graph under construction whose edges carry the scope they add (an edge to an optional extra,
/// a dev group): node scopes are then the best scope over all paths from the seeds.
#[derive(Default)]
struct ScopedGraph {
    packages: Vec<Package>,
    /// `(parent, child, edge scope)`.
    edges: Vec<(NodeId, NodeId, Scope)>,
}

impl ScopedGraph {
    fn add(&mut self, name: &str, version: &str, source: Source) -> NodeId {
        self.packages.push(Package {
            ecosystem: Ecosystem::PyPI,
            name: PackageName::new(Ecosystem::PyPI, name),
            version: version.to_owned(),
            scope: Scope::Prod,
            source,
        });
        self.packages.len() - 1
    }

    fn edge(&mut self, parent: NodeId, child: NodeId, scope: Scope) {
        self.edges.push((parent, child, scope));
    }

    /// Sets every node's scope to the best scope over the paths from `seeds` (a path's scope is
    /// the worst of its seed's and its edges' scopes). Nodes no seed reaches get `unreached`.
    fn propagate_scopes(&mut self, seeds: &[(NodeId, Scope)], unreached: Scope) {
        let n = self.packages.len();
        let mut adjacency: Vec<Vec<(NodeId, Scope)>> = vec![Vec::new(); n];
        for &(parent, child, scope) in &self.edges {
            adjacency[parent].push((child, scope));
        }
        let mut assigned: Vec<Option<Scope>> = vec![None; n];
        for level in [Scope::Prod, Scope::Optional, Scope::Peer, Scope::Dev] {
            let mut stack: Vec<NodeId> = seeds.iter().filter(|&&(_, s)| s <= level).map(|&(id, _)| id).collect();
            let mut seen = vec![false; n];
            while let Some(id) = stack.pop() {
                if std::mem::replace(&mut seen[id], true) {
                    continue;
                }
                if assigned[id].is_none() {
                    assigned[id] = Some(level);
                }
                for &(child, scope) in &adjacency[id] {
                    if scope <= level && !seen[child] {
                        stack.push(child);
                    }
                }
            }
        }
        for (package, scope) in self.packages.iter_mut().zip(assigned) {
            package.scope = scope.unwrap_or(unreached);
        }
    }

    /// Builds the final graph with the given roots.
    fn into_graph(self, roots: &[NodeId]) -> DepGraph {
        let mut graph = DepGraph::new();
        for package in self.packages {
            graph.add_node(package);
        }
        for (parent, child, _) in self.edges {
            graph.add_edge(parent, child);
        }
        for &root in roots {
            graph.add_root(root);
        }
        graph.finish();
        graph
    }

    /// Nodes no edge points to: the roots when no manifest says which dependencies are direct.
    fn parentless(&self) -> Vec<NodeId> {
        let mut has_parent = vec![false; self.packages.len()];
        for &(parent, child, _) in &self.edges {
            if parent != child {
                has_parent[child] = true;
            }
        }
        (0..self.packages.len()).filter(|&id| !has_parent[id]).collect()
    }

    /// Nodes whose normalized name is `name`.
    fn named<'a>(index: &'a std::collections::HashMap<PackageName, Vec<NodeId>>, name: &str) -> &'a [NodeId] {
        index.get(&PackageName::new(Ecosystem::PyPI, name)).map_or(&[], Vec::as_slice)
    }

    fn name_index(&self) -> std::collections::HashMap<PackageName, Vec<NodeId>> {
        let mut index: std::collections::HashMap<PackageName, Vec<NodeId>> = std::collections::HashMap::new();
        for (id, package) in self.packages.iter().enumerate() {
            index.entry(package.name.clone()).or_default().push(id);
        }
        index
    }
}

/// The distribution name at the start of a PEP 508 string (`"idna>=2.8; python_version..."`).
fn pep508_name(spec: &str) -> &str {
    let spec = spec.trim_start();
    let end = spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(spec.len());
    spec.get(..end).unwrap_or("")
}

/// Checks a lock-format version written as a string `"MAJOR.MINOR"` (poetry's `lock-version`,
/// pdm's `lock_version`): it must be a string whose major number is in `majors`. `None` is a
/// missing key, refused unless `missing_ok`.
fn check_lock_version(
    path: &Path,
    key: &str,
    value: Option<&toml::Value>,
    majors: std::ops::RangeInclusive<u64>,
    missing_ok: bool,
) -> Result<(), LockfileError> {
    let bad = |found: String| {
        LockfileError::new(
            path,
            Some(key.to_owned()),
            format!("expected a lock format version \"{}.x\" to \"{}.x\", found {found}", majors.start(), majors.end()),
        )
    };
    let Some(value) = value else {
        return if missing_ok { Ok(()) } else { Err(bad("nothing (the key is missing)".to_owned())) };
    };
    let Some(text) = value.as_str() else {
        return Err(bad(format!("{value}")));
    };
    let major = text.split('.').next().and_then(|m| m.parse::<u64>().ok());
    let well_formed = text.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    match major {
        Some(m) if well_formed && majors.contains(&m) => Ok(()),
        _ => Err(bad(format!("{text:?}"))),
    }
}

/// Decodes a TOML lockfile into its wire type, with `line:col` on failure.
fn from_toml<T: serde::de::DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, LockfileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, col) = line_col(bytes, e.valid_up_to());
        LockfileError::new(path, Some(format!("{line}:{col}")), "not valid UTF-8")
    })?;
    toml::from_str(text).map_err(|e| toml_error(path, text, &e))
}

fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> LockfileError {
    let location = err.span().map(|span| {
        let (line, col) = line_col(text.as_bytes(), span.start);
        format!("{line}:{col}")
    });
    LockfileError::new(path, location, format!("invalid TOML: {}", err.message()))
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.split(|&b| b == b'\n').count();
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// Reads a sibling manifest (`pyproject.toml`, `Pipfile`) as TOML. A missing file is `None`; a
/// malformed one is `None` plus a warning, since the lockfile alone still gives the tree.
fn sibling_toml<T: serde::de::DeserializeOwned>(
    read_sibling: &dyn Fn(&Path) -> Option<Vec<u8>>,
    name: &str,
    warnings: &mut Vec<String>,
) -> Option<T> {
    let bytes = read_sibling(Path::new(name))?;
    match from_toml::<T>(Path::new(name), &bytes) {
        Ok(value) => Some(value),
        Err(err) => {
            warnings.push(format!("{err}; direct dependencies taken from the lockfile"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep508_pieces() {
        assert_eq!(pep508_name("idna>=2.8"), "idna");
        assert_eq!(pep508_name("  zope.interface ; x"), "zope.interface");
        assert_eq!(pep508_name(""), "");
    }

    #[test]
    fn scopes_take_the_best_path() {
        let mut g = ScopedGraph::default();
        let root = g.add("root", "1", Source::Workspace);
        let a = g.add("a", "1", Source::Registry);
        let b = g.add("b", "1", Source::Registry);
        let c = g.add("c", "1", Source::Registry);
        g.edge(root, a, Scope::Dev);
        g.edge(a, b, Scope::Prod);
        g.edge(root, c, Scope::Optional);
        g.edge(c, b, Scope::Prod);
        g.propagate_scopes(&[(root, Scope::Prod)], Scope::Prod);
        let scopes: Vec<_> = g.packages.iter().map(|p| p.scope).collect();
        assert_eq!(scopes, [Scope::Prod, Scope::Dev, Scope::Optional, Scope::Optional]);
    }
}
