//! `DepGraph`: the dependency tree of one lockfile (or artifact) as nodes, parent -> child edges
//! and roots (the dependencies the manifest declares directly).

use crate::package::Package;

/// Index of a node in a [`DepGraph`].
pub type NodeId = usize;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepGraph {
    nodes: Vec<Package>,
    /// `children[n]`: the nodes `n` depends on, sorted, without duplicates once `finish` ran.
    children: Vec<Vec<NodeId>>,
    roots: Vec<NodeId>,
}

impl DepGraph {
    pub fn new() -> DepGraph {
        DepGraph::default()
    }

    /// Adds a node and returns its id. Deduplication is the parser's job (it knows its keys).
    pub fn add_node(&mut self, package: Package) -> NodeId {
        self.nodes.push(package);
        self.children.push(Vec::new());
        self.nodes.len() - 1
    }

    pub fn add_edge(&mut self, parent: NodeId, child: NodeId) {
        if parent != child {
            self.children[parent].push(child);
        }
    }

    /// Marks a node as a direct dependency of the project.
    pub fn add_root(&mut self, node: NodeId) {
        self.roots.push(node);
    }

    /// Sorts and deduplicates edges and roots so that output is deterministic.
    pub fn finish(&mut self) {
        for list in &mut self.children {
            list.sort_unstable();
            list.dedup();
        }
        self.roots.sort_unstable();
        self.roots.dedup();
    }

    pub fn nodes(&self) -> &[Package] {
        &self.nodes
    }

    pub fn node(&self, id: NodeId) -> &Package {
        &self.nodes[id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Package {
        &mut self.nodes[id]
    }

    pub fn children(&self, id: NodeId) -> &[NodeId] {
        &self.children[id]
    }

    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    pub fn is_root(&self, id: NodeId) -> bool {
        self.roots.contains(&id)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// All edges as `(parent, child)` pairs, in node order.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.children.iter().enumerate().flat_map(|(parent, kids)| kids.iter().map(move |&child| (parent, child)))
    }

    /// Shortest paths from a root to `target` (each path starts at a root, ends at `target`),
    /// at most `limit` of them: one shortest path per root that reaches the target, so a user
    /// sees every direct dependency to upgrade. For many targets, build [`DepGraph::reversed`]
    /// once and ask it.
    pub fn paths_to(&self, target: NodeId, limit: usize) -> Vec<Vec<NodeId>> {
        self.reversed().paths_to(target, limit)
    }

    /// The parent lists and root marks, computed once, for path queries.
    pub fn reversed(&self) -> Reversed {
        let mut parents = vec![Vec::new(); self.nodes.len()];
        for (parent, child) in self.edges() {
            parents[child].push(parent);
        }
        let mut is_root = vec![false; self.nodes.len()];
        for &r in &self.roots {
            is_root[r] = true;
        }
        Reversed { parents, is_root }
    }
}

/// A graph's edges reversed, for breadth-first searches from a package up to the roots.
#[derive(Debug, Clone)]
pub struct Reversed {
    parents: Vec<Vec<NodeId>>,
    is_root: Vec<bool>,
}

impl Reversed {
    /// See [`DepGraph::paths_to`].
    pub fn paths_to(&self, target: NodeId, limit: usize) -> Vec<Vec<NodeId>> {
        // BFS from target towards roots; `next_hop[x]` is the node one step closer to target,
        // `UNSEEN` before x is reached, and the target itself for the target.
        const UNSEEN: NodeId = NodeId::MAX;
        let mut next_hop: Vec<NodeId> = vec![UNSEEN; self.parents.len()];
        next_hop[target] = target;
        let mut queue = std::collections::VecDeque::from([target]);
        let mut found_roots = Vec::new();
        while let Some(x) = queue.pop_front() {
            if self.is_root[x] {
                found_roots.push(x);
            }
            for &p in &self.parents[x] {
                if next_hop[p] == UNSEEN {
                    next_hop[p] = x;
                    queue.push_back(p);
                }
            }
        }
        found_roots.sort_unstable();
        found_roots
            .into_iter()
            .take(limit)
            .map(|root| {
                let mut path = vec![root];
                let mut at = root;
                while at != target {
                    at = next_hop[at];
                    path.push(at);
                }
                path
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Ecosystem, PackageName, Scope, Source};

    fn pkg(name: &str) -> Package {
        Package {
            ecosystem: Ecosystem::Npm,
            name: PackageName::new(Ecosystem::Npm, name),
            version: "1.0.0".into(),
            scope: Scope::Prod,
            source: Source::Registry,
        }
    }

    #[test]
    fn paths_from_each_root() {
        let mut g = DepGraph::new();
        let express = g.add_node(pkg("express"));
        let body = g.add_node(pkg("body-parser"));
        let qs = g.add_node(pkg("qs"));
        let request = g.add_node(pkg("request"));
        g.add_edge(express, body);
        g.add_edge(body, qs);
        g.add_edge(express, qs);
        g.add_edge(request, qs);
        g.add_root(express);
        g.add_root(request);
        g.finish();
        assert_eq!(g.paths_to(qs, 10), vec![vec![express, qs], vec![request, qs]]);
        assert_eq!(g.paths_to(express, 10), vec![vec![express]]);
        assert_eq!(g.paths_to(qs, 1).len(), 1);
    }

    #[test]
    fn cycles_terminate() {
        let mut g = DepGraph::new();
        let a = g.add_node(pkg("a"));
        let b = g.add_node(pkg("b"));
        g.add_edge(a, b);
        g.add_edge(b, a);
        g.add_root(a);
        g.finish();
        assert_eq!(g.paths_to(b, 10), vec![vec![a, b]]);
    }
}
