//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//! Spec: <https://github.com/pnpm/spec/tree/master/lockfile>.
//!
//! Keys: 5.x `/name/1.0.0_peer@1.0.0`, 6.x `/name@1.0.0(peer@1.0.0)`, 9.x `name@1.0.0(peer@1.0.0)`
//! (9.x splits `packages`, metadata per name@version, from `snapshots`, one per peer variant).
//! Nodes: one per `packages` key (5.x/6.x) or per `snapshots` key (9.x), so peer variants are
//! separate nodes. Every importer other than `.` is a `Source::Workspace` node and a root (its
//! name and version read from its `package.json` when present, else its path); the `.`
//! importer's dependencies are roots. Scope: 5.x/6.x carry `dev` / `optional` flags; 9.x has
//! none, so scope comes from reachability through the importers' `dependencies`,
//! `optionalDependencies` and `devDependencies`.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::npm::{
    DepKind, EdgeKinds, Pairs, Str, npm_package, orphans, scopes_by_reachability, source_from_resolved, split_name_at,
};
use super::{LockfileError, ParseInput, Parsed};
use crate::graph::{DepGraph, NodeId};
use crate::package::{Package, Scope, Source};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockWire<'a> {
    #[serde(borrow)]
    lockfile_version: Option<Str<'a>>,
    #[serde(borrow, default)]
    importers: Pairs<'a, Option<ImporterWire<'a>>>,
    /// 5.x/6.x single-project files keep the root importer's lists at the top level.
    #[serde(borrow, flatten)]
    top: ImporterWire<'a>,
    #[serde(borrow, default)]
    packages: Pairs<'a, Option<PackageWire<'a>>>,
    #[serde(borrow, default)]
    snapshots: Option<Pairs<'a, Option<SnapshotWire<'a>>>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ImporterWire<'a> {
    #[serde(borrow, default)]
    dependencies: Pairs<'a, DepVersion<'a>>,
    #[serde(borrow, default)]
    optional_dependencies: Pairs<'a, DepVersion<'a>>,
    #[serde(borrow, default)]
    dev_dependencies: Pairs<'a, DepVersion<'a>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PackageWire<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow, default)]
    resolution: Option<ResolutionWire<'a>>,
    dev: Option<bool>,
    #[serde(default)]
    optional: bool,
    #[serde(borrow, default)]
    dependencies: Pairs<'a, Str<'a>>,
    #[serde(borrow, default)]
    optional_dependencies: Pairs<'a, Str<'a>>,
}

#[derive(serde::Deserialize, Default)]
struct SnapshotWire<'a> {
    #[serde(borrow, default)]
    dependencies: Pairs<'a, Str<'a>>,
    #[serde(borrow, default, rename = "optionalDependencies")]
    optional_dependencies: Pairs<'a, Str<'a>>,
}

#[derive(serde::Deserialize, Default)]
struct ResolutionWire<'a> {
    #[serde(borrow)]
    tarball: Option<Str<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    repo: Option<Str<'a>>,
    #[serde(borrow)]
    commit: Option<Str<'a>>,
    #[serde(borrow)]
    directory: Option<Str<'a>>,
}

/// An importer dependency: `1.0.0` (5.x) or `{specifier: ^1, version: 1.0.0}` (6.x, 9.x).
struct DepVersion<'a>(Str<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for DepVersion<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = DepVersion<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version or a {specifier, version} map")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(DepVersion(Str(v.into())))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DepVersion(Str(v.to_owned().into())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut version = None;
                while let Some(k) = map.next_key::<Str<'a>>()? {
                    if k.0 == "version" {
                        version = Some(map.next_value::<Str<'a>>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                version.map(DepVersion).ok_or_else(|| serde::de::Error::missing_field("version"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Key syntax by lockfile version.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    /// 5.x: `/name/1.0.0_peers`.
    Slash,
    /// 6.x: `/name@1.0.0(peers)`.
    SlashAt,
    /// 9.x: `name@1.0.0(peers)`.
    At,
}

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Big monorepo lockfiles exceed the default 250k nodes / 1M events.
    budget.max_nodes = 50_000_000;
    budget.max_events = 200_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options
}

fn yaml_error(input: &ParseInput<'_>, e: &serde_saphyr::Error) -> LockfileError {
    let location = e.location().map(|l| format!("{}:{}", l.line(), l.column()));
    let msg = e.to_string();
    let first = msg.lines().next().unwrap_or(&msg);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // Drop saphyr's own "line N column M: " prefix; the location is kept separately.
    let first = match first.split_once(": ") {
        Some((head, tail)) if head.starts_with("line ") => tail,
        _ => first,
    };
    let msg = first.to_owned();
    LockfileError::new(input.path, location, msg)
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes)
        .map_err(|e| LockfileError::new(input.path, None, format!("not UTF-8 text: {e}")))?;
    if text.trim().is_empty() {
        return Ok(empty());
    }
    let wire: Option<LockWire<'_>> =
        serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| yaml_error(input, &e))?;
    let Some(wire) = wire else { return Ok(empty()) };
    let version = wire.lockfile_version.as_ref().map_or("", |v| v.0.as_ref());
    let major: u32 = version.split('.').next().and_then(|m| m.trim().parse().ok()).unwrap_or(5);
    let style = match major {
        0..=5 => KeyStyle::Slash,
        6..=8 => KeyStyle::SlashAt,
        _ => KeyStyle::At,
    };
    Ok(Builder::new(input, style).run(wire))
}

fn empty() -> Parsed {
    Parsed { graph: DepGraph::new(), warnings: Vec::new() }
}

struct Builder<'i, 'p> {
    input: &'i ParseInput<'p>,
    style: KeyStyle,
    graph: DepGraph,
    warnings: Vec<String>,
    by_key: HashMap<String, NodeId>,
    /// Importer path ("" for `.`) -> workspace node.
    importers: HashMap<String, NodeId>,
    kinds: EdgeKinds,
    /// Scope from 5.x/6.x flags, when the entry has them.
    flagged: Vec<Option<Scope>>,
}

impl<'i, 'p> Builder<'i, 'p> {
    fn new(input: &'i ParseInput<'p>, style: KeyStyle) -> Self {
        Builder {
            input,
            style,
            graph: DepGraph::new(),
            warnings: Vec::new(),
            by_key: HashMap::new(),
            importers: HashMap::new(),
            kinds: EdgeKinds::default(),
            flagged: Vec::new(),
        }
    }

    fn run(mut self, wire: LockWire<'_>) -> Parsed {
        let mut importers: Vec<(String, ImporterWire<'_>)> =
            wire.importers.0.into_iter().map(|(k, v)| (normalize_importer(&k.0), v.unwrap_or_default())).collect();
        if importers.is_empty() {
            importers.push((String::new(), wire.top));
        }
        for (path, _) in &importers {
            if !path.is_empty() {
                let node = self.add_workspace(path);
                self.importers.insert(path.clone(), node);
            }
        }
        let metadata: HashMap<&str, &PackageWire<'_>> =
            wire.packages.0.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.0.as_ref(), v))).collect();
        let edges = match &wire.snapshots {
            Some(snapshots) if self.style == KeyStyle::At => self.add_snapshots(snapshots, &metadata),
            _ => self.add_packages(&wire.packages),
        };
        for (parent, deps, optional) in edges {
            for (name, value) in deps {
                if let Some(child) = self.resolve_dep(&name, &value, "") {
                    self.graph.add_edge(parent, child);
                    if optional {
                        self.kinds.optional.insert((parent, child));
                    }
                }
            }
        }
        let roots = self.importer_edges(&importers);
        self.finish(roots)
    }

    fn add_workspace(&mut self, path: &str) -> NodeId {
        let rel = format!("{path}/package.json");
        let pj_name = (self.input.read_sibling)(std::path::Path::new(&rel))
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|v| {
                let field = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_owned);
                (field("name"), field("version"))
            });
        let (name, version) = pj_name.unwrap_or_default();
        let name = name.unwrap_or_else(|| path.to_owned());
        let node =
            self.graph.add_node(npm_package(&name, version.as_deref().unwrap_or(""), Scope::Prod, Source::Workspace));
        self.flagged.push(Some(Scope::Prod));
        node
    }

    fn add_node(&mut self, key: &str, package: Package, flag: Option<Scope>) -> NodeId {
        let node = self.graph.add_node(package);
        self.flagged.push(flag);
        self.by_key.insert(key.to_owned(), node);
        node
    }

    /// 5.x/6.x: one node per `packages` key; returns each node's dependency lists.
    fn add_packages(&mut self, packages: &Pairs<'_, Option<PackageWire<'_>>>) -> Vec<PendingEdges> {
        let mut pending = Vec::new();
        let empty = PackageWire::default();
        for (key, entry) in &packages.0 {
            let entry = entry.as_ref().unwrap_or(&empty);
            let package = self.package_of(&key.0, entry);
            let flag = entry.dev.map(|dev| match (dev, entry.optional) {
                (true, _) => Scope::Dev,
                (false, true) => Scope::Optional,
                (false, false) => Scope::Prod,
            });
            let node = self.add_node(&key.0, package, flag);
            pending.push((node, owned_pairs(&entry.dependencies), false));
            pending.push((node, owned_pairs(&entry.optional_dependencies), true));
        }
        pending
    }

    /// 9.x: one node per `snapshots` key, with metadata from `packages[name@version]`.
    fn add_snapshots(
        &mut self,
        snapshots: &Pairs<'_, Option<SnapshotWire<'_>>>,
        metadata: &HashMap<&str, &PackageWire<'_>>,
    ) -> Vec<PendingEdges> {
        let mut pending = Vec::new();
        let empty = PackageWire::default();
        for (key, snap) in &snapshots.0 {
            let base = key.0.split('(').next().unwrap_or(&key.0);
            let entry = metadata.get(base).copied().unwrap_or(&empty);
            let package = self.package_of(&key.0, entry);
            let node = self.add_node(&key.0, package, None);
            if let Some(snap) = snap {
                pending.push((node, owned_pairs(&snap.dependencies), false));
                pending.push((node, owned_pairs(&snap.optional_dependencies), true));
            }
        }
        pending
    }

    fn package_of(&self, key: &str, entry: &PackageWire<'_>) -> Package {
        let (key_name, key_version) = split_key(key, self.style);
        let name = entry.name.as_ref().map_or(key_name, |n| n.0.as_ref());
        let version = entry.version.as_ref().map_or(key_version, |v| v.0.as_ref());
        let source = entry.resolution.as_ref().map_or(Source::Registry, resolution_source);
        npm_package(name, version, Scope::Prod, source)
    }

    /// The node a dependency value points at: a `link:` to an importer, an alias key, or the
    /// key built from name and version.
    fn resolve_dep(&mut self, name: &str, value: &str, importer: &str) -> Option<NodeId> {
        if let Some(target) = value.strip_prefix("link:") {
            return Some(self.link_node(name, importer, target));
        }
        let candidates = dep_keys(name, value, self.style);
        for key in &candidates {
            if let Some(&n) = self.by_key.get(key.as_str()) {
                return Some(n);
            }
        }
        self.warnings.push(format!("dependency {name}: {value} is not in the lockfile"));
        None
    }

    fn link_node(&mut self, name: &str, importer: &str, target: &str) -> NodeId {
        let path = join_relative(importer, target);
        if let Some(&n) = self.importers.get(&path) {
            return n;
        }
        let key = format!("link:{path}");
        if let Some(&n) = self.by_key.get(&key) {
            return n;
        }
        let package = npm_package(name, "", Scope::Prod, Source::Path(path));
        self.add_node(&key, package, Some(Scope::Prod))
    }

    /// Importer dependencies: `.`'s become roots, other importers' become their node's edges.
    fn importer_edges(&mut self, importers: &[(String, ImporterWire<'_>)]) -> Vec<(NodeId, DepKind)> {
        let mut roots: Vec<(NodeId, DepKind)> = Vec::new();
        for (path, importer) in importers {
            let parent = self.importers.get(path).copied();
            if let Some(p) = parent {
                roots.push((p, DepKind::Prod));
            }
            let lists = [
                (&importer.dependencies, DepKind::Prod),
                (&importer.optional_dependencies, DepKind::Optional),
                (&importer.dev_dependencies, DepKind::Dev),
            ];
            for (list, kind) in lists {
                for (name, value) in &list.0 {
                    let Some(child) = self.resolve_dep(&name.0, &(value.0).0, path) else {
                        continue;
                    };
                    match parent {
                        Some(p) => {
                            self.graph.add_edge(p, child);
                            match kind {
                                DepKind::Dev => self.kinds.dev.insert((p, child)),
                                DepKind::Optional => self.kinds.optional.insert((p, child)),
                                _ => false,
                            };
                        }
                        None => roots.push((child, kind)),
                    }
                }
            }
        }
        roots
    }

    fn finish(mut self, mut roots: Vec<(NodeId, DepKind)>) -> Parsed {
        if roots.is_empty() {
            roots = orphans(&self.graph).into_iter().map(|n| (n, DepKind::Prod)).collect();
        }
        let scopes = scopes_by_reachability(&self.graph, &roots, &self.kinds);
        for (id, scope) in scopes.into_iter().enumerate() {
            let flag = self.flagged.get(id).copied().flatten();
            self.graph.node_mut(id).scope = flag.unwrap_or(scope);
        }
        for (r, _) in roots {
            self.graph.add_root(r);
        }
        self.graph.finish();
        Parsed { graph: self.graph, warnings: self.warnings }
    }
}

/// `(parent, [(name, value)], optional)`.
type PendingEdges = (NodeId, Vec<(String, String)>, bool);

fn owned_pairs(pairs: &Pairs<'_, Str<'_>>) -> Vec<(String, String)> {
    pairs.0.iter().map(|(k, v)| (k.0.clone().into_owned(), v.0.clone().into_owned())).collect()
}

/// Keys to try for dependency `name` at `value`, most likely first.
fn dep_keys(name: &str, value: &str, style: KeyStyle) -> Vec<String> {
    let bare = value.split('(').next().unwrap_or(value);
    match style {
        KeyStyle::Slash | KeyStyle::SlashAt if value.starts_with('/') => vec![value.to_owned()],
        KeyStyle::Slash => vec![format!("/{name}/{value}"), value.to_owned()],
        KeyStyle::SlashAt => vec![format!("/{name}@{value}"), value.to_owned()],
        KeyStyle::At if bare.contains('@') => vec![value.to_owned(), format!("{name}@{value}")],
        KeyStyle::At => vec![format!("{name}@{value}"), value.to_owned()],
    }
}

/// Name and version from a package key (peer suffix dropped). Keys that are not
/// `name@version` (git, tarball) give the whole key as the name.
fn split_key(key: &str, style: KeyStyle) -> (&str, &str) {
    let k = key.strip_prefix('/').unwrap_or(key);
    if style == KeyStyle::Slash && key.starts_with('/') {
        let name_segments = if k.starts_with('@') { 2 } else { 1 };
        let mut split_at = None;
        let mut seen = 0;
        for (i, c) in k.char_indices() {
            if c == '/' {
                seen += 1;
                if seen == name_segments {
                    split_at = Some(i);
                    break;
                }
            }
        }
        let Some(i) = split_at else { return (k, "") };
        let rest = &k[i + 1..];
        let version = rest.split('_').next().unwrap_or(rest);
        return (&k[..i], version);
    }
    let bare = k.split('(').next().unwrap_or(k);
    split_name_at(bare)
}

fn resolution_source(r: &ResolutionWire<'_>) -> Source {
    if r.kind.as_ref().is_some_and(|k| k.0 == "git") || r.commit.is_some() {
        return Source::Git {
            url: r.repo.as_ref().map_or_else(String::new, |s| s.0.clone().into_owned()),
            rev: r.commit.as_ref().map(|s| s.0.clone().into_owned()),
        };
    }
    if let Some(dir) = &r.directory {
        return Source::Path(dir.0.clone().into_owned());
    }
    match &r.tarball {
        Some(t) if t.0.starts_with("file:") => source_from_resolved(&t.0),
        Some(t) if t.0.contains("/-/") => Source::Registry,
        Some(t) => source_from_resolved(&t.0),
        None => Source::Registry,
    }
}

fn normalize_importer(path: &str) -> String {
    if path == "." { String::new() } else { join_relative("", path) }
}

/// `base` joined with relative `rel`, `.` and `..` resolved, `/`-separated, no leading `./`.
fn join_relative(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}
