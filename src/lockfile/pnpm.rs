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
//!
//! Several YAML documents: pnpm 10/11 write the package manager's own dependencies in a first
//! document; the project's lockfile is the last document with `importers` or `packages` (earlier
//! documents are blanked, so line numbers in messages stay those of the file).
//! `lockfileVersion` must be there and be a number from 5 to 9 (`'9.0'`, `5.4`); a file with no
//! `packages` section is a project without dependencies (0 packages, with a warning).
//! Local and remote entries are classified by their key or version, not only by their
//! `resolution`: `file:`/`link:` are `Source::Path`, tarball URLs `Source::Other`, git hosts
//! `Source::Git`, importers `Source::Workspace`; only the rest are registry packages.
//!
//! Reading: the narrow YAML subset pnpm writes is read by the line-based reader of
//! [`super::pnpm_yaml`] (about 100 MB/s); a file outside it goes to serde-saphyr (about
//! 15 MB/s), which also gives the error messages. Both fill the same wire structures.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::npm::{
    DepKind, EdgeKinds, Pairs, Str, npm_package, orphans, scopes_by_reachability, source_from_resolved, split_name_at,
};
use super::pnpm_yaml::{Entry, Inline, Kind, Reader, Scalar, Unsupported};
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
    let owned = project_document(text);
    let text = owned.as_deref().unwrap_or(text);
    let wire = match fast_wire(text) {
        Some(wire) => wire,
        None => match full_wire(input, text)? {
            Some(wire) => wire,
            None => return Err(LockfileError::new(input.path, None, "no YAML document: not a pnpm-lock.yaml")),
        },
    };
    check_lockfile_version(input, wire.lockfile_version.as_ref())?;
    Ok(build(input, wire))
}

/// A document separator (`---`, `--- # x`) or end marker (`...`) at the start of a line.
fn is_document_marker(line: &str) -> bool {
    let line = line.trim_end_matches('\r');
    line == "---" || line == "..." || line.starts_with("--- ") || line.starts_with("... ")
}

/// With several YAML documents, the text with every line outside the project's document blanked
/// (`None`: one document, use the text as is). The project's document is the last one with a
/// top-level `importers:` or `packages:` key, else the last one.
fn project_document(text: &str) -> Option<String> {
    // The common case, one document and no marker, costs two substring searches.
    let may_have_marker = ["---", "..."].iter().any(|m| text.starts_with(m) || text.contains(&format!("\n{m}")));
    if !may_have_marker {
        return None;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let markers: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| is_document_marker(l)).map(|(i, _)| i).collect();
    if markers.is_empty() {
        return None;
    }
    // Documents as half-open line ranges between markers, non-blank ones only.
    let mut docs = Vec::new();
    let mut start = 0;
    for &m in markers.iter().chain(std::iter::once(&lines.len())) {
        let body = lines.get(start..m).unwrap_or_default();
        if body.iter().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.starts_with('%')) {
            docs.push((start, m));
        }
        start = m + 1;
    }
    let is_project = |&(a, b): &(usize, usize)| {
        lines.get(a..b).unwrap_or_default().iter().any(|l| l.starts_with("importers:") || l.starts_with("packages:"))
    };
    let (a, b) = docs.iter().rev().find(|d| is_project(d)).or_else(|| docs.last()).copied()?;
    if docs.len() == 1 && markers.len() == 1 && markers[0] < a {
        // One document after a leading `---`: the YAML parsers read it as it is.
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        if (a..b).contains(&i) {
            out.push_str(line);
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    Some(out)
}

/// `lockfileVersion` must be a number from 5 to 9 (`5.4`, `'6.0'`, `'9.0'`).
fn check_lockfile_version(input: &ParseInput<'_>, version: Option<&Str<'_>>) -> Result<(), LockfileError> {
    let text = version.map(|v| v.0.trim());
    let well_formed = text
        .is_some_and(|t| !t.is_empty() && t.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    let major = text.and_then(|t| t.split('.').next()).and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(5..=9) if well_formed => Ok(()),
        _ => Err(LockfileError::new(
            input.path,
            Some("lockfileVersion".to_owned()),
            format!(
                "expected a pnpm lockfile version from 5 to 9, found {}",
                text.map_or_else(|| "nothing (the key is missing)".to_owned(), |t| format!("{t:?}"))
            ),
        )),
    }
}

/// The file read by the full YAML parser (the fallback, and the reference in tests).
fn full_wire<'t>(input: &ParseInput<'_>, text: &'t str) -> Result<Option<LockWire<'t>>, LockfileError> {
    if let Some(line) = super::yaml_block_too_deep(text, super::MAX_YAML_BLOCK_COLUMNS) {
        return Err(LockfileError::new(
            input.path,
            Some(format!("{line}:1")),
            format!(
                "block nesting deeper than {} columns of indentation and `- ` items",
                super::MAX_YAML_BLOCK_COLUMNS
            ),
        ));
    }
    serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| yaml_error(input, &e))
}

fn build(input: &ParseInput<'_>, wire: LockWire<'_>) -> Parsed {
    let version = wire.lockfile_version.as_ref().map_or("", |v| v.0.as_ref());
    let major: u32 = version.split('.').next().and_then(|m| m.trim().parse().ok()).unwrap_or(5);
    let style = match major {
        0..=5 => KeyStyle::Slash,
        6..=8 => KeyStyle::SlashAt,
        _ => KeyStyle::At,
    };
    Builder::new(input, style).run(wire)
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
        let mut source = entry.resolution.as_ref().map_or(Source::Registry, resolution_source);
        if source == Source::Registry
            && let Some(local) = non_registry_source(key).or_else(|| non_registry_source(key_version))
        {
            source = local;
        }
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

/// The source a key or version names when it is not a registry one: `file:`/`link:` paths,
/// tarball URLs, git references (`github.com/o/r/<sha>`, `git+https://...`).
fn non_registry_source(text: &str) -> Option<Source> {
    let text = text.strip_prefix('/').unwrap_or(text);
    let text = text.split('(').next().unwrap_or(text);
    // `name@file:...` (9.x keys) -> `file:...`.
    let reference = match split_name_at(text) {
        (_, rest) if !rest.is_empty() => rest,
        _ => text,
    };
    for candidate in [text, reference] {
        if candidate.starts_with("file:")
            || candidate.starts_with("link:")
            || candidate.starts_with("http://")
            || candidate.starts_with("https://")
            || candidate.starts_with("git+")
            || candidate.starts_with("git@")
            || candidate.starts_with("github:")
        {
            return Some(source_from_resolved(candidate));
        }
    }
    let host = ["github.com/", "gitlab.com/", "bitbucket.org/", "codeload.github.com/"];
    if host.iter().any(|h| text.starts_with(h)) {
        return Some(Source::Git { url: format!("https://{text}"), rev: None });
    }
    None
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

// ---------------------------------------------------------------------------------------------
// The fast path: the same wire structures, read by the subset reader of `pnpm_yaml`. Every
// position follows what serde-saphyr does for that field's type (a `Str` takes any non-null
// scalar as written, `DepVersion` and the flattened top-level lists read untyped and so only
// take string scalars, `bool` only `true` / `false`); anything else is `Unsupported`.

type Fast<T> = Result<T, Unsupported>;

/// The wire structures, when the file is inside the subset the fast reader understands.
fn fast_wire(text: &str) -> Option<LockWire<'_>> {
    let mut reader = Reader::new(text).ok()?;
    read_lock(&mut reader).ok()
}

fn read_lock<'a>(r: &mut Reader<'a>) -> Fast<LockWire<'a>> {
    let mut wire = LockWire {
        lockfile_version: None,
        importers: Pairs::default(),
        top: ImporterWire::default(),
        packages: Pairs::default(),
        snapshots: None,
    };
    let mut seen = Seen::default();
    let mut any = false;
    while let Some(e) = r.entry(0)? {
        any = true;
        match e.key.text() {
            "lockfileVersion" => {
                seen.once(0)?;
                wire.lockfile_version = opt_str(r, &e)?;
            }
            "importers" => {
                seen.once(1)?;
                wire.importers = pairs(r, &e, false, opt_importer)?.ok_or(Unsupported)?;
            }
            "packages" => {
                seen.once(2)?;
                wire.packages = pairs(r, &e, false, opt_package)?.ok_or(Unsupported)?;
            }
            "snapshots" => {
                seen.once(3)?;
                wire.snapshots = pairs(r, &e, false, opt_snapshot)?;
            }
            _ => {
                // 5.x/6.x top-level lists, flattened: serde buffers them untyped.
                if !importer_field(r, &e, &mut wire.top, &mut seen, true)? {
                    r.skip(&e)?;
                }
            }
        }
    }
    if any && r.at_end() { Ok(wire) } else { Err(Unsupported) }
}

/// Known fields seen so far in one mapping (a repeated field is left to the full parser).
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn once(&mut self, bit: usize) -> Fast<()> {
        let mask = u32::try_from(bit).ok().and_then(|b| 1u32.checked_shl(b)).ok_or(Unsupported)?;
        if self.0 & mask != 0 {
            return Err(Unsupported);
        }
        self.0 |= mask;
        Ok(())
    }
}

/// The entries of a mapping value (block or flow), each given to `field`; `false` when the
/// value is null. Keys must be non-null scalars, strings when read `untyped`.
fn fields<'a>(
    r: &mut Reader<'a>,
    e: &Entry<'a>,
    untyped: bool,
    mut field: impl FnMut(&mut Reader<'a>, &Entry<'a>) -> Fast<()>,
) -> Fast<bool> {
    if r.is_null(e) {
        return Ok(false);
    }
    let check_key = |k: Kind| if k == Kind::Null || (untyped && k != Kind::Str) { Err(Unsupported) } else { Ok(()) };
    match &e.value {
        Inline::Empty => {
            let indent = r.block_of(e).ok_or(Unsupported)?;
            while let Some(child) = r.entry(indent)? {
                check_key(child.key.kind())?;
                field(r, &child)?;
            }
        }
        Inline::Map(flow) => {
            for (k, v) in flow {
                check_key(k.kind())?;
                field(r, &Entry::inline(k.clone(), v.clone()))?;
            }
        }
        Inline::Scalar(_) | Inline::Seq(_) => return Err(Unsupported),
    }
    Ok(true)
}

/// A mapping read as pairs in file order; `None` when null (an error for `Pairs`, which
/// does not take null; `None` for an `Option<Pairs>`). Repeated keys are left to the full
/// parser.
fn pairs<'a, V>(
    r: &mut Reader<'a>,
    e: &Entry<'a>,
    untyped: bool,
    mut value: impl FnMut(&mut Reader<'a>, &Entry<'a>) -> Fast<V>,
) -> Fast<Option<Pairs<'a, V>>> {
    let mut out = Vec::new();
    let present = fields(r, e, untyped, |r, f| {
        let v = value(r, f)?;
        out.push((Str(f.key.clone().into_cow()), v));
        Ok(())
    })?;
    if has_duplicate_keys(&out) {
        return Err(Unsupported);
    }
    Ok(present.then_some(Pairs(out)))
}

fn has_duplicate_keys<V>(pairs: &[(Str<'_>, V)]) -> bool {
    if pairs.len() <= 8 {
        return pairs.iter().enumerate().any(|(i, (k, _))| pairs[..i].iter().any(|(other, _)| other.0 == k.0));
    }
    let mut keys = std::collections::HashSet::with_capacity(pairs.len());
    !pairs.iter().all(|(k, _)| keys.insert(k.0.as_ref()))
}

/// A `Str`: any non-null scalar, as written (only strings when read untyped).
fn str_value<'a>(e: &Entry<'a>, untyped: bool) -> Fast<Str<'a>> {
    match &e.value {
        Inline::Scalar(s) if s.kind() == Kind::Str || (!untyped && s.kind() != Kind::Null) => {
            Ok(Str(s.clone().into_cow()))
        }
        _ => Err(Unsupported),
    }
}

/// An `Option<Str>`: null is `None`.
fn opt_str<'a>(r: &Reader<'a>, e: &Entry<'a>) -> Fast<Option<Str<'a>>> {
    if r.is_null(e) || matches!(&e.value, Inline::Scalar(s) if s.kind() == Kind::Null) {
        return Ok(None);
    }
    str_value(e, false).map(Some)
}

fn bool_value(e: &Entry<'_>) -> Fast<bool> {
    match &e.value {
        Inline::Scalar(s) if *s == Scalar::Plain("true") => Ok(true),
        Inline::Scalar(s) if *s == Scalar::Plain("false") => Ok(false),
        _ => Err(Unsupported),
    }
}

fn opt_bool(r: &Reader<'_>, e: &Entry<'_>) -> Fast<Option<bool>> {
    if r.is_null(e) || matches!(&e.value, Inline::Scalar(s) if s.kind() == Kind::Null) {
        return Ok(None);
    }
    bool_value(e).map(Some)
}

/// `1.0.0` or `{specifier: ^1, version: 1.0.0}`: read untyped, so scalars must be strings.
fn dep_version<'a>(r: &mut Reader<'a>, e: &Entry<'a>, untyped: bool) -> Fast<DepVersion<'a>> {
    if let Inline::Scalar(_) = &e.value {
        return str_value(e, true).map(DepVersion);
    }
    let mut version = None;
    fields(r, e, untyped, |r, f| {
        if f.key.text() == "version" {
            version = Some(str_value(f, untyped)?);
            Ok(())
        } else {
            r.skip(f)
        }
    })?;
    version.map(DepVersion).ok_or(Unsupported)
}

/// A dependency list of an importer; `false` when `e` is not one.
fn importer_field<'a>(
    r: &mut Reader<'a>,
    e: &Entry<'a>,
    w: &mut ImporterWire<'a>,
    seen: &mut Seen,
    untyped: bool,
) -> Fast<bool> {
    let (bit, list) = match e.key.text() {
        "dependencies" => (10, &mut w.dependencies),
        "optionalDependencies" => (11, &mut w.optional_dependencies),
        "devDependencies" => (12, &mut w.dev_dependencies),
        _ => return Ok(false),
    };
    seen.once(bit)?;
    *list = pairs(r, e, untyped, |r, v| dep_version(r, v, untyped))?.ok_or(Unsupported)?;
    Ok(true)
}

fn opt_importer<'a>(r: &mut Reader<'a>, e: &Entry<'a>) -> Fast<Option<ImporterWire<'a>>> {
    let mut w = ImporterWire::default();
    let mut seen = Seen::default();
    let present =
        fields(r, e, false, |r, f| if importer_field(r, f, &mut w, &mut seen, false)? { Ok(()) } else { r.skip(f) })?;
    Ok(present.then_some(w))
}

fn opt_package<'a>(r: &mut Reader<'a>, e: &Entry<'a>) -> Fast<Option<PackageWire<'a>>> {
    const FIELDS: [&str; 7] =
        ["name", "version", "resolution", "dev", "optional", "dependencies", "optionalDependencies"];
    let mut w = PackageWire::default();
    let mut seen = Seen::default();
    let present = fields(r, e, false, |r, f| {
        let Some(i) = FIELDS.iter().position(|k| *k == f.key.text()) else {
            return r.skip(f);
        };
        seen.once(i)?;
        match i {
            0 => w.name = opt_str(r, f)?,
            1 => w.version = opt_str(r, f)?,
            2 => w.resolution = opt_resolution(r, f)?,
            3 => w.dev = opt_bool(r, f)?,
            4 => w.optional = bool_value(f)?,
            5 => w.dependencies = str_pairs(r, f)?,
            _ => w.optional_dependencies = str_pairs(r, f)?,
        }
        Ok(())
    })?;
    Ok(present.then_some(w))
}

fn str_pairs<'a>(r: &mut Reader<'a>, e: &Entry<'a>) -> Fast<Pairs<'a, Str<'a>>> {
    pairs(r, e, false, |_, v| str_value(v, false))?.ok_or(Unsupported)
}

fn opt_resolution<'a>(r: &mut Reader<'a>, e: &Entry<'a>) -> Fast<Option<ResolutionWire<'a>>> {
    let mut w = ResolutionWire::default();
    let mut seen = Seen::default();
    let present = fields(r, e, false, |r, f| {
        let (bit, slot) = match f.key.text() {
            "tarball" => (0, &mut w.tarball),
            "type" => (1, &mut w.kind),
            "repo" => (2, &mut w.repo),
            "commit" => (3, &mut w.commit),
            "directory" => (4, &mut w.directory),
            _ => return r.skip(f),
        };
        seen.once(bit)?;
        *slot = opt_str(r, f)?;
        Ok(())
    })?;
    Ok(present.then_some(w))
}

fn opt_snapshot<'a>(r: &mut Reader<'a>, e: &Entry<'a>) -> Fast<Option<SnapshotWire<'a>>> {
    let mut w = SnapshotWire::default();
    let mut seen = Seen::default();
    let present = fields(r, e, false, |r, f| {
        let (bit, list) = match f.key.text() {
            "dependencies" => (0, &mut w.dependencies),
            "optionalDependencies" => (1, &mut w.optional_dependencies),
            _ => return r.skip(f),
        };
        seen.once(bit)?;
        *list = str_pairs(r, f)?;
        Ok(())
    })?;
    Ok(present.then_some(w))
}

#[cfg(test)]
use super::test_paths as common;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Fast path and full parser on the same text: `None` when the fast path declined,
    /// else whether they agree (the full parser must then succeed with the same result).
    fn compare(path: &Path, text: &str) -> Option<Result<(), String>> {
        let owned = project_document(text);
        let text = owned.as_deref().unwrap_or(text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let read = move |rel: &Path| std::fs::read(dir.join(rel)).ok();
        let input = ParseInput { path, bytes: text.as_bytes(), read_sibling: &read };
        let fast = build(&input, fast_wire(text)?);
        let full = match full_wire(&input, text) {
            Ok(Some(wire)) => build(&input, wire),
            Ok(None) => return Some(Err("the full parser found no document".to_owned())),
            Err(e) => return Some(Err(format!("the full parser failed: {e}"))),
        };
        if fast.graph != full.graph {
            return Some(Err(format!("graphs differ:\nfast {:?}\nfull {:?}", fast.graph, full.graph)));
        }
        if fast.warnings != full.warnings {
            return Some(Err(format!("warnings differ: {:?} vs {:?}", fast.warnings, full.warnings)));
        }
        Some(Ok(()))
    }

    #[test]
    fn fast_path_matches_full_parser_on_fixtures() {
        let mut files = Vec::new();
        common::files_named(&common::fixture("pnpm"), "pnpm-lock.yaml", &mut files);
        assert!(files.len() >= 7, "found {} fixtures", files.len());
        let (failures, declined) = common::differential(&files, compare);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Only the invalid fixtures are outside the subset.
        assert!(declined.iter().all(|d| d.contains("invalid-")), "declined: {declined:?}");
    }

    #[test]
    #[ignore = "needs ../shared: the pnpm lockfiles of the corpus"]
    fn shared_corpus_fast_path_matches_full_parser() {
        let shared = common::shared();
        let mut files = Vec::new();
        common::files_named(&shared.join("corpus"), "pnpm-lock.yaml", &mut files);
        assert!(files.len() >= 20, "found only {} pnpm lockfiles", files.len());
        let (failures, declined) = common::differential(&files, compare);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Only the malformed and the empty samples are left to the full parser.
        assert!(declined.iter().all(|d| d.contains("-not-yaml/") || d.contains("-empty/")), "declined: {declined:?}");
    }

    /// Every prefix of the fixtures: no panic, and where the fast path accepts the prefix
    /// the full parser gives the same result.
    #[test]
    fn truncated_input_never_panics_and_agrees() {
        for rel in ["pnpm/v6-peer-dependencies/pnpm-lock.yaml", "pnpm/v9-workspace-links/pnpm-lock.yaml"] {
            let path = common::fixture(rel);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let prefix = &text[..end];
                if let Some(Err(e)) = compare(&path, prefix) {
                    panic!("{rel} cut at {end}: {e}\n---\n{prefix}");
                }
                let read = |_: &Path| None;
                let _ = parse(&ParseInput { path: &path, bytes: prefix.as_bytes(), read_sibling: &read });
            }
        }
    }

    /// One byte replaced by a YAML-significant character, at every position.
    #[test]
    fn mutated_input_agrees() {
        let rel = "pnpm/v9-mixed-groups/pnpm-lock.yaml";
        let path = common::fixture(rel);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for i in (0..text.len()).filter(|&i| text.is_char_boundary(i) && text.is_char_boundary(i + 1)) {
            for c in [":", " ", "'", "\n", "-", "#", "{", "~", "&"] {
                let mut mutated = text.clone();
                mutated.replace_range(i..=i, c);
                if let Some(Err(e)) = compare(&path, &mutated) {
                    panic!("{rel} with {c:?} at {i}: {e}\n---\n{mutated}");
                }
            }
        }
    }

    /// Random one-byte mutations of every corpus pnpm lockfile (slow: run in release).
    #[test]
    #[ignore = "slow, needs ../shared: cargo test --release --lib mutated_corpus -- --ignored"]
    fn mutated_corpus_agrees() {
        let shared = common::shared();
        let mut files = Vec::new();
        common::files_named(&shared.join("corpus"), "pnpm-lock.yaml", &mut files);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            for _ in 0..100 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let i = usize::try_from(seed >> 33).unwrap_or(0) % text.len().max(1);
                if !(text.is_char_boundary(i) && text.is_char_boundary(i + 1)) {
                    continue;
                }
                let c = [":", " ", "'", "\n", "-", "#", "{", "~", "&", "\\"][usize::try_from(seed % 10).unwrap_or(0)];
                let mut mutated = text.clone();
                mutated.replace_range(i..=i, c);
                if let Some(Err(e)) = compare(path, &mutated) {
                    panic!("{} with {c:?} at {i}: {e}", path.display());
                }
            }
        }
    }

    #[test]
    fn small_documents_agree() {
        let docs = [
            "lockfileVersion: 5.4\nspecifiers:\n  a: ^1\ndependencies:\n  a: 1.0.0\npackages:\n  /a/1.0.0:\n    resolution: {integrity: x}\n    dev: false\n",
            "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1\n        version: 1.0.0\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\nsnapshots:\n  a@1.0.0: {}\n",
            "lockfileVersion: '9.0'\nimporters:\n  .: {}\n  x:\npackages:\nsnapshots:\n",
            "lockfileVersion: '9.0'\nsnapshots: {}\n",
            "lockfileVersion:\npackages:\n  /a/1.0.0:\n  /b/1.0.0: {}\n",
            "lockfileVersion: 6.0\ndependencies:\n  a: {specifier: ^1, version: 1.0.0}\npackages:\n  /a@1.0.0:\n    optional: true\n    dev: false\n    transitivePeerDependencies:\n      - supports-color\n",
            "packages:\n  /a/1.0.0:\n    resolution:\n      type: git\n      repo: https://x/y.git\n      commit: abc\n    name: a\n    version: 1.0.0\n",
            "packages:\n  /a/1.0.0:\n    dependencies:\n      b: 2.0.0\n      c: 5\n  /b/2.0.0:\n    dev: ~\n",
            "importers:\n  .:\n    dependencies:\n      a: 5\n",
            "dependencies:\n  '123': 1.0.0\n",
            "dependencies:\n  yes: 1.0.0\n",
            "dependencies: {}\n",
            "dependencies:\n",
            "time:\n  /a/1.0.0: 2020-01-01T00:00:00.000Z\n",
            "settings:\n  x: 1e999\n",
            "importers:\n  .:\n    dependencies:\n      123: 1.0.0\n      'on': 1.0.0\n",
            "packages:\n  /a/1.0.0:\n    dependencies:\n      yes: 1.0.0\n      0x1: '2'\n      b: 0x1\n",
            "packages:\n  /a/1.0.0:\n    resolution: ~\n    version: null\n  /b/1.0.0: ~\n",
            "packages:\n  /a/1.0.0:\n    resolution: {tarball: 'file:a.tgz'}\n    cpu: [x64, arm]\n    os: []\n",
        ];
        let mut accepted = Vec::new();
        for (i, doc) in docs.iter().enumerate() {
            match compare(Path::new("pnpm-lock.yaml"), doc) {
                Some(Err(e)) => panic!("{doc}\n{e}"),
                Some(Ok(())) => accepted.push(i),
                None => {}
            }
        }
        // The others are outside the subset (null lists, untyped numbers and booleans).
        assert_eq!(accepted, [0, 1, 3, 4, 5, 6, 7, 9, 11, 13, 15, 16, 17, 18]);
    }
}
