//! npm lockfiles: `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1, 2 and 3.
//! Spec: <https://docs.npmjs.com/cli/configuring-npm/package-lock-json>.
//!
//! - v2/v3 (`packages` map): one node per install location (`node_modules/a/node_modules/b`);
//!   nested copies of the same name and version stay separate nodes because npm installs them
//!   separately and their flags can differ. `link: true` entries are not nodes: they point at
//!   their target's node (a workspace member or a `file:` folder). Edges follow node's module
//!   resolution (look up `<here>/node_modules/<dep>`, then each enclosing `node_modules`).
//!   Roots: the dependencies of the root entry (`""`) plus every workspace member, which is a
//!   `Source::Workspace` node with its own dependencies as children. Scopes come from npm's
//!   `dev` / `optional` / `devOptional` / `peer` flags (`devOptional` ships, as `Optional`).
//! - v1 (nested `dependencies`): one node per nested entry; `requires` are resolved from the
//!   entry's own `dependencies` upward. Roots come from the sibling `package.json`, plus every
//!   package nobody requires (all of them when there is no `package.json`).
//!
//! Also holds the helpers the yarn and pnpm parsers share: resolved-URL classification, alias
//! splitting, `package.json` reading and scope-by-reachability.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use foldhash::HashMapExt;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::{LockfileError, ParseInput, Parsed};
use crate::graph::{DepGraph, NodeId};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

// ---------------------------------------------------------------------------------------------
// Wire types

/// A string borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

impl Str<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// A JSON/YAML object kept as a list of pairs, in file order (cheaper than a map).
#[derive(Debug)]
pub(crate) struct Pairs<'a, V>(pub(crate) Vec<(Str<'a>, V)>);

impl<V> Default for Pairs<'_, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for Pairs<'a, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor<'a, V>(PhantomData<(&'a (), V)>);
        impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<'a, V> {
            type Value = Pairs<'a, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some((k, v)) = map.next_entry::<Str<'a>, V>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
        }
        d.deserialize_map(PairsVisitor(PhantomData))
    }
}

/// One top-level field of a JSON object, read the way `JSON.parse` does: the last of duplicate
/// keys wins (files with merge-conflict leftovers have two `dependencies`), other keys skipped.
pub(super) struct TopField<T> {
    pub(super) value: Option<T>,
    /// Whether the object also has a `dependencies` key (tells v1 from an empty v2 file).
    pub(super) has_dependencies: bool,
    /// The `lockfileVersion` value as written.
    pub(super) lockfile_version: Option<serde_json::Value>,
}

struct TopFieldVisitor<T> {
    key: &'static str,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for TopFieldVisitor<T> {
    type Value = TopField<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a lockfile object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = TopField { value: None, has_dependencies: false, lockfile_version: None };
        while let Some(k) = map.next_key::<Str<'de>>()? {
            out.has_dependencies |= k.as_str() == "dependencies";
            if k.as_str() == "lockfileVersion" && self.key != "lockfileVersion" {
                out.lockfile_version = Some(map.next_value()?);
            } else if k.as_str() == self.key {
                out.value = Some(map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// The serde reader's `packages` answer, `None` for an error (the fast reader's reference).
#[cfg(test)]
pub(super) fn read_top_with_serde(bytes: &[u8]) -> Option<TopField<Pairs<'_, EntryWire<'_>>>> {
    serde_top_field(bytes, "packages").ok()
}

fn top_field<'de, T: Deserialize<'de>>(
    input: &ParseInput<'_>,
    bytes: &'de [u8],
    key: &'static str,
) -> Result<TopField<T>, LockfileError> {
    serde_top_field(bytes, key).map_err(|e| json_error(input.path, &e))
}

fn serde_top_field<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    key: &'static str,
) -> Result<TopField<T>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let visitor = TopFieldVisitor { key, marker: PhantomData };
    de.deserialize_map(visitor).and_then(|v| de.end().map(|()| v))
}

/// One value of the v2/v3 `packages` map.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[expect(clippy::struct_excessive_bools, reason = "mirrors npm's flags")]
pub(super) struct EntryWire<'a> {
    #[serde(borrow)]
    pub(super) name: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) version: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) resolved: Option<Str<'a>>,
    #[serde(default)]
    pub(super) link: bool,
    #[serde(default)]
    pub(super) dev: bool,
    #[serde(default)]
    pub(super) optional: bool,
    #[serde(default)]
    pub(super) dev_optional: bool,
    #[serde(default)]
    pub(super) peer: bool,
    #[serde(borrow, default)]
    pub(super) dependencies: Pairs<'a, Str<'a>>,
    #[serde(borrow, default)]
    pub(super) optional_dependencies: Pairs<'a, Str<'a>>,
    #[serde(borrow, default)]
    pub(super) peer_dependencies: Pairs<'a, Str<'a>>,
    #[serde(borrow, default)]
    pub(super) dev_dependencies: Pairs<'a, Str<'a>>,
    #[serde(default)]
    pub(super) workspaces: Option<serde::de::IgnoredAny>,
}

/// One value of the v1 nested `dependencies` map.
#[derive(serde::Deserialize)]
struct V1Wire<'a> {
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow)]
    resolved: Option<Str<'a>>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(borrow, default)]
    requires: Option<Pairs<'a, serde::de::IgnoredAny>>,
    #[serde(borrow, default)]
    dependencies: Option<Pairs<'a, V1Wire<'a>>>,
}

/// The parts of a `package.json` the parsers need.
#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PackageJson {
    #[serde(default)]
    pub(crate) dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub(crate) dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub(crate) optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub(crate) peer_dependencies: BTreeMap<String, serde_json::Value>,
}

impl PackageJson {
    /// `(name, range, kind)` for every declared dependency; a name in `dependencies` and
    /// `devDependencies` counts as prod.
    pub(crate) fn declared(&self) -> Vec<(&str, &str, DepKind)> {
        let mut out = Vec::new();
        let lists = [
            (&self.dependencies, DepKind::Prod),
            (&self.optional_dependencies, DepKind::Optional),
            (&self.peer_dependencies, DepKind::Peer),
            (&self.dev_dependencies, DepKind::Dev),
        ];
        for (list, kind) in lists {
            for (name, range) in list {
                let dup = out.iter().any(|(n, _, _)| *n == name.as_str());
                if !dup {
                    out.push((name.as_str(), range.as_str().unwrap_or(""), kind));
                }
            }
        }
        out
    }
}

/// Reads `rel` (a `package.json`) next to the lockfile; a missing or unreadable file is `None`
/// (unreadable adds a warning).
pub(crate) fn read_package_json(input: &ParseInput<'_>, rel: &str, warnings: &mut Vec<String>) -> Option<PackageJson> {
    let bytes = (input.read_sibling)(Path::new(rel))?;
    // npm reads a package.json with a UTF-8 byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match serde_json::from_slice::<PackageJson>(bytes) {
        Ok(pj) => Some(pj),
        Err(e) => {
            warnings.push(format!("{rel}: ignored, not a readable package.json: {e}"));
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// How a dependency is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    Prod,
    Optional,
    Peer,
    Dev,
}

/// Where a package comes from, told by its `resolved` URL or version spec.
pub(crate) fn source_from_resolved(resolved: &str) -> Source {
    let r = resolved.trim();
    let git_prefixes = ["git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:"];
    if git_prefixes.iter().any(|p| r.starts_with(p)) {
        return git_source(r);
    }
    for prefix in ["file:", "link:"] {
        if let Some(rest) = r.strip_prefix(prefix) {
            return Source::Path(rest.to_owned());
        }
    }
    if r.starts_with("http://") || r.starts_with("https://") {
        if r.contains("/-/") {
            return Source::Registry;
        }
        if let Some(rest) = r.strip_prefix("https://codeload.github.com/") {
            return codeload_source(rest);
        }
        let git_host =
            ["https://github.com/", "https://gitlab.com/", "https://bitbucket.org/"].iter().any(|h| r.starts_with(h));
        let dot_git = r.len() > 4 && r.get(r.len() - 4..).is_some_and(|e| e.eq_ignore_ascii_case(".git"));
        if r.contains(".git#") || dot_git || (git_host && r.contains('#')) {
            return git_source(r);
        }
        return Source::Other(r.to_owned());
    }
    if r.is_empty() {
        return Source::Registry;
    }
    if looks_like_github_shorthand(r) {
        return git_source(r);
    }
    Source::Path(r.to_owned())
}

/// `user/repo#ref`: npm's and yarn's GitHub shorthand.
fn looks_like_github_shorthand(r: &str) -> bool {
    let head = r.split('#').next().unwrap_or(r);
    r.contains('#') && !head.starts_with('.') && !head.starts_with('/') && head.contains('/')
}

/// `owner/repo/tar.gz/<sha>` (GitHub's tarball host) -> the repository and commit.
fn codeload_source(rest: &str) -> Source {
    let mut parts = rest.split('/');
    let (owner, repo) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    Source::Git { url: format!("https://github.com/{owner}/{repo}"), rev: parts.nth(1).map(str::to_owned) }
}

fn git_source(r: &str) -> Source {
    match r.split_once('#') {
        Some((url, rev)) => {
            let rev = rev.strip_prefix("commit=").unwrap_or(rev);
            let rev = rev.strip_prefix("commit:").unwrap_or(rev);
            Source::Git { url: url.to_owned(), rev: (!rev.is_empty()).then(|| rev.to_owned()) }
        }
        None => Source::Git { url: r.to_owned(), rev: None },
    }
}

/// `npm:real-name@version` -> `(real-name, version)`.
pub(crate) fn split_alias(spec: &str) -> Option<(&str, &str)> {
    let rest = spec.strip_prefix("npm:")?;
    Some(split_name_at(rest))
}

/// `name@rest` -> `(name, rest)`, scoped names included (`@s/n@1` -> `("@s/n", "1")`). With no
/// `@` after the name, the whole text is the name.
pub(crate) fn split_name_at(s: &str) -> (&str, &str) {
    let from = usize::from(s.starts_with('@'));
    match s.get(from..).and_then(|t| t.find('@')) {
        Some(i) => (&s[..from + i], &s[from + i + 1..]),
        None => (s, ""),
    }
}

pub(crate) fn npm_package(name: &str, version: &str, scope: Scope, source: Source) -> Package {
    Package {
        ecosystem: Ecosystem::Npm,
        name: PackageName::new(Ecosystem::Npm, name),
        version: version.to_owned(),
        scope,
        source,
    }
}

/// Which edges are dev-only or optional, for [`scopes_by_reachability`].
#[derive(Default)]
pub(crate) struct EdgeKinds {
    pub(crate) dev: HashSet<(NodeId, NodeId)>,
    pub(crate) optional: HashSet<(NodeId, NodeId)>,
}

/// Scope of every node from where it is reachable: `Prod` when reachable from a prod root
/// through prod edges, `Optional` when reachable from a prod or optional root through non-dev
/// edges, `Dev` when only dev roots or dev edges reach it. Nodes no declared root reaches
/// are `Prod` (unknown, so assumed to ship).
pub(crate) fn scopes_by_reachability(graph: &DepGraph, roots: &[(NodeId, DepKind)], kinds: &EdgeKinds) -> Vec<Scope> {
    let prod_starts: Vec<NodeId> =
        roots.iter().filter(|(_, k)| matches!(k, DepKind::Prod | DepKind::Peer)).map(|(n, _)| *n).collect();
    let opt_starts: Vec<NodeId> = roots.iter().filter(|(_, k)| *k != DepKind::Dev).map(|(n, _)| *n).collect();
    let all_starts: Vec<NodeId> = roots.iter().map(|(n, _)| *n).collect();
    let prod = reach(graph, &prod_starts, |p, c| !kinds.dev.contains(&(p, c)) && !kinds.optional.contains(&(p, c)));
    let opt = reach(graph, &opt_starts, |p, c| !kinds.dev.contains(&(p, c)));
    let any = reach(graph, &all_starts, |_, _| true);
    (0..graph.len())
        .map(|n| {
            if prod[n] || !any[n] {
                Scope::Prod
            } else if opt[n] {
                Scope::Optional
            } else {
                Scope::Dev
            }
        })
        .collect()
}

fn reach(graph: &DepGraph, starts: &[NodeId], follow: impl Fn(NodeId, NodeId) -> bool) -> Vec<bool> {
    let mut seen = vec![false; graph.len()];
    let mut stack: Vec<NodeId> = starts.to_vec();
    while let Some(n) = stack.pop() {
        if seen[n] {
            continue;
        }
        seen[n] = true;
        for &c in graph.children(n) {
            if !seen[c] && follow(n, c) {
                stack.push(c);
            }
        }
    }
    seen
}

/// Nodes with no parent.
pub(crate) fn orphans(graph: &DepGraph) -> Vec<NodeId> {
    let mut has_parent = vec![false; graph.len()];
    for (_, c) in graph.edges() {
        has_parent[c] = true;
    }
    (0..graph.len()).filter(|&n| !has_parent[n]).collect()
}

/// A JSON syntax or type error as a `LockfileError` at `line:col`.
pub(crate) fn json_error(path: &Path, e: &serde_json::Error) -> LockfileError {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    LockfileError::new(path, Some(format!("{}:{}", e.line(), e.column())), msg)
}

// ---------------------------------------------------------------------------------------------
// Entry point

/// The `lockfileVersion` values npm has written (1: npm 5-6, 2: npm 7-8, 3: npm 9+).
const LOCKFILE_VERSIONS: std::ops::RangeInclusive<u64> = 1..=3;

pub(crate) fn parse_package_lock(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    // The fast reader answers for well-formed files; serde reads (and names the error of) the rest.
    let wire = match super::npm_scan::read(input.bytes) {
        Some(wire) => wire,
        None => top_field(input, input.bytes, "packages")?,
    };
    match &wire.lockfile_version {
        Some(v) if v.as_u64().is_some_and(|n| LOCKFILE_VERSIONS.contains(&n)) => {}
        found => {
            let found = found.as_ref().map_or_else(|| "nothing (the key is missing)".to_owned(), ToString::to_string);
            return Err(LockfileError::new(
                input.path,
                Some("lockfileVersion".to_owned()),
                format!("expected 1, 2 or 3, found {found}"),
            ));
        }
    }
    match (wire.value, wire.has_dependencies) {
        (Some(packages), _) => Ok(parse_packages(input, packages.0)),
        (None, true) => {
            let v1: TopField<Pairs<'_, V1Wire<'_>>> = top_field(input, input.bytes, "dependencies")?;
            Ok(parse_v1(input, &v1.value.unwrap_or_default().0))
        }
        (None, false) => Ok(Parsed { graph: DepGraph::new(), warnings: Vec::new() }),
    }
}

// ---------------------------------------------------------------------------------------------
// v2 / v3

type Entries<'a> = [(Str<'a>, EntryWire<'a>)];

/// Entry index by install location (keys are the lockfile's own, so a fast hash will do).
type Index<'a> = foldhash::HashMap<&'a str, usize>;

/// Where the last `node_modules/` of a location starts (`nested`: the last `/node_modules/`,
/// at its slash). Every occurrence ends at a slash, so the slashes are tried from the right:
/// `str::rfind` builds a substring searcher on each call, and every entry asks several times.
fn last_node_modules_at(loc: &str, nested: bool) -> Option<usize> {
    const WORD: &[u8] = b"node_modules/";
    let b = loc.as_bytes();
    let mut end = b.len();
    while let Some(slash) = memchr::memrchr(b'/', &b[..end]) {
        let start = (slash + 1).checked_sub(WORD.len());
        if let Some(start) = start.filter(|&s| &b[s..=slash] == WORD) {
            match start.checked_sub(1) {
                _ if !nested => return Some(start),
                Some(before) if b[before] == b'/' => return Some(before),
                _ => {}
            }
        }
        end = slash;
    }
    None
}

fn last_node_modules(loc: &str) -> Option<usize> {
    last_node_modules_at(loc, false)
}

fn parse_packages(input: &ParseInput<'_>, mut entries: Vec<(Str<'_>, EntryWire<'_>)>) -> Parsed {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut index = Index::with_capacity(entries.len());
    index.extend(entries.iter().enumerate().map(|(i, (k, _))| (k.as_str(), i)));
    let root = index.get("").map(|&i| &entries[i].1);
    let has_workspaces = root.is_some_and(|r| r.workspaces.is_some());
    let mut graph = DepGraph::new();
    let node_of = create_v2_nodes(&entries, &index, &mut graph, has_workspaces);
    let mut warnings = Vec::new();
    let mut roots = Vec::new();
    let mut buf = String::new();
    for (i, (key, entry)) in entries.iter().enumerate() {
        let loc = key.as_str();
        let parent = if loc.is_empty() { None } else { node_of[i] };
        if entry.link || (!loc.is_empty() && parent.is_none()) {
            continue;
        }
        let at_project = last_node_modules(loc).is_none();
        for (list, kind) in dep_lists(entry, at_project) {
            for (dep, _) in &list.0 {
                let child = resolve_v2(&index, loc, dep.as_str(), &mut buf).and_then(|j| node_of[j]);
                match (child, parent) {
                    (Some(c), Some(p)) => graph.add_edge(p, c),
                    (Some(c), None) => roots.push(c),
                    (None, _) if kind == DepKind::Prod => warnings
                        .push(format!("packages[\"{loc}\"]: dependency {} is not in the lockfile", dep.as_str())),
                    (None, _) => {}
                }
            }
        }
        if let Some(p) = parent
            && at_project
        {
            roots.push(p);
        }
    }
    let _ = input;
    let no_roots = roots.is_empty();
    finish_roots(&mut graph, roots, no_roots);
    Parsed { graph, warnings }
}

/// One node per non-link entry; link entries share their target's node (or get a `Path` node
/// when the target has no entry).
fn create_v2_nodes(
    entries: &Entries<'_>,
    index: &Index<'_>,
    graph: &mut DepGraph,
    has_workspaces: bool,
) -> Vec<Option<NodeId>> {
    let mut node_of = vec![None; entries.len()];
    for (i, (key, entry)) in entries.iter().enumerate() {
        let loc = key.as_str();
        if loc.is_empty() || entry.link {
            continue;
        }
        node_of[i] = Some(graph.add_node(v2_package(loc, entry, has_workspaces)));
    }
    for (i, (key, entry)) in entries.iter().enumerate() {
        if !entry.link || key.as_str().is_empty() {
            continue;
        }
        let target = entry.resolved.as_ref().map_or("", Str::as_str);
        node_of[i] = if let Some(n) = index.get(target).and_then(|&j| node_of[j]) {
            Some(n)
        } else {
            let name = location_name(key.as_str());
            let version = entry.version.as_ref().map_or("", Str::as_str);
            let source = Source::Path(target.to_owned());
            Some(graph.add_node(npm_package(name, version, Scope::Prod, source)))
        };
    }
    node_of
}

fn v2_package(loc: &str, entry: &EntryWire<'_>, has_workspaces: bool) -> Package {
    let under_node_modules = loc.starts_with("node_modules/") || last_node_modules_at(loc, true).is_some();
    let name = match &entry.name {
        Some(n) if !n.as_str().is_empty() => n.as_str(),
        _ => location_name(loc),
    };
    let version = entry.version.as_ref().map_or("", Str::as_str);
    let (source, scope) = if under_node_modules {
        let source = entry.resolved.as_ref().map_or(Source::Registry, |r| source_from_resolved(r.as_str()));
        (source, scope_from_flags(entry))
    } else if has_workspaces {
        (Source::Workspace, Scope::Prod)
    } else {
        (Source::Path(loc.to_owned()), Scope::Prod)
    };
    // npm writes aliases as `version: "npm:real@1.2.3"` in some v2 files' `packages`.
    let (name, version) = split_alias(version).unwrap_or((name, version));
    npm_package(name, version, scope, source)
}

fn scope_from_flags(entry: &EntryWire<'_>) -> Scope {
    if entry.dev {
        Scope::Dev
    } else if entry.optional || entry.dev_optional {
        Scope::Optional
    } else if entry.peer {
        Scope::Peer
    } else {
        Scope::Prod
    }
}

/// The package name of an install location: what follows the last `node_modules/`, or the
/// folder name of a workspace.
fn location_name(loc: &str) -> &str {
    match last_node_modules(loc) {
        Some(i) => &loc[i + "node_modules/".len()..],
        None => loc.rsplit('/').next().unwrap_or(loc),
    }
}

fn dep_lists<'e, 'a>(entry: &'e EntryWire<'a>, at_project: bool) -> Vec<(&'e Pairs<'a, Str<'a>>, DepKind)> {
    let mut lists = vec![
        (&entry.dependencies, DepKind::Prod),
        (&entry.optional_dependencies, DepKind::Optional),
        (&entry.peer_dependencies, DepKind::Peer),
    ];
    if at_project {
        lists.push((&entry.dev_dependencies, DepKind::Dev));
    }
    lists
}

/// node's module resolution over install locations: `<from>/node_modules/<dep>`, then the same
/// from each enclosing location, up to the project root.
fn resolve_v2(index: &Index<'_>, from: &str, dep: &str, buf: &mut String) -> Option<usize> {
    let mut base = from;
    loop {
        buf.clear();
        if !base.is_empty() {
            buf.push_str(base);
            buf.push('/');
        }
        buf.push_str("node_modules/");
        buf.push_str(dep);
        if let Some(&i) = index.get(buf.as_str()) {
            return Some(i);
        }
        if base.is_empty() {
            return None;
        }
        base = match last_node_modules_at(base, true) {
            Some(i) => &base[..i],
            None => "",
        };
    }
}

#[cfg(test)]
#[test]
fn last_node_modules_is_rfind() {
    let locs = [
        "",
        "node_modules/a",
        "a/node_modules/b/node_modules/@s/c",
        "xnode_modules/a",
        "node_modules/node_modules/",
        "/node_modules/",
        "a/b",
        "packages/x",
        "node_modules",
        "a/xnode_modules/b",
        "node_modules/a/node_modules",
    ];
    for loc in locs {
        assert_eq!(last_node_modules(loc), loc.rfind("node_modules/"), "{loc}");
        assert_eq!(last_node_modules_at(loc, true), loc.rfind("/node_modules/"), "{loc}");
    }
}

fn finish_roots(graph: &mut DepGraph, roots: Vec<NodeId>, orphans_are_roots: bool) {
    for r in roots {
        graph.add_root(r);
    }
    if orphans_are_roots {
        for r in orphans(graph) {
            graph.add_root(r);
        }
    }
    graph.finish();
}

// ---------------------------------------------------------------------------------------------
// v1

/// A name scope of the v1 tree: the packages one `dependencies` object declares.
struct V1Scope<'a> {
    parent: Option<usize>,
    names: HashMap<&'a str, NodeId>,
}

struct V1Walk<'w, 'a> {
    graph: DepGraph,
    scopes: Vec<V1Scope<'w>>,
    /// `(node, scope to resolve its requires from, requires)`.
    pending: Vec<(NodeId, usize, &'w Pairs<'a, serde::de::IgnoredAny>)>,
}

fn parse_v1(input: &ParseInput<'_>, deps: &[(Str<'_>, V1Wire<'_>)]) -> Parsed {
    let mut warnings = Vec::new();
    let mut walk = V1Walk {
        graph: DepGraph::new(),
        scopes: vec![V1Scope { parent: None, names: HashMap::new() }],
        pending: Vec::new(),
    };
    walk.add_level(deps, 0);
    for (node, scope, requires) in std::mem::take(&mut walk.pending) {
        for (dep, _) in &requires.0 {
            if let Some(child) = walk.lookup(scope, dep.as_str()) {
                walk.graph.add_edge(node, child);
            } else {
                warnings.push(format!(
                    "dependencies: {} requires {}, which is not in the lockfile",
                    walk.graph.node(node).name,
                    dep.as_str()
                ));
            }
        }
    }
    let mut graph = walk.graph;
    let mut roots = Vec::new();
    let manifest = read_package_json(input, "package.json", &mut warnings);
    if let Some(pj) = &manifest {
        for (name, _, _) in pj.declared() {
            if let Some(&n) = walk.scopes[0].names.get(name) {
                roots.push(n);
            }
        }
    }
    finish_roots(&mut graph, roots, true);
    Parsed { graph, warnings }
}

impl<'w, 'a> V1Walk<'w, 'a> {
    fn add_level(&mut self, deps: &'w [(Str<'a>, V1Wire<'a>)], scope: usize) {
        for (key, dep) in deps {
            let node = self.graph.add_node(v1_package(key.as_str(), dep));
            self.scopes[scope].names.insert(key.as_str(), node);
            let mut resolve_scope = scope;
            if let Some(children) = &dep.dependencies {
                self.scopes.push(V1Scope { parent: Some(scope), names: HashMap::new() });
                resolve_scope = self.scopes.len() - 1;
                self.add_level(&children.0, resolve_scope);
            }
            if let Some(requires) = &dep.requires {
                self.pending.push((node, resolve_scope, requires));
            }
        }
    }

    fn lookup(&self, mut scope: usize, name: &str) -> Option<NodeId> {
        loop {
            let s = self.scopes.get(scope)?;
            if let Some(&n) = s.names.get(name) {
                return Some(n);
            }
            scope = s.parent?;
        }
    }
}

fn v1_package(key: &str, dep: &V1Wire<'_>) -> Package {
    let version = dep.version.as_ref().map_or("", Str::as_str);
    let scope = if dep.dev {
        Scope::Dev
    } else if dep.optional {
        Scope::Optional
    } else {
        Scope::Prod
    };
    if let Some((real, v)) = split_alias(version) {
        return npm_package(real, v, scope, Source::Registry);
    }
    let version_source = source_from_resolved(version);
    if !matches!(version_source, Source::Path(_) | Source::Registry) || version.starts_with("file:") {
        let shown = match &version_source {
            Source::Git { rev: Some(rev), .. } => rev.clone(),
            _ => version.to_owned(),
        };
        return npm_package(key, &shown, scope, version_source);
    }
    let source = dep.resolved.as_ref().map_or(Source::Registry, |r| source_from_resolved(r.as_str()));
    npm_package(key, version, scope, source)
}
