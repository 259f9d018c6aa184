//! `yarn.lock`: yarn v1 (its own indented text format) and berry, yarn 2+ (YAML written by
//! yarn itself, with a `__metadata:` entry). Both are read by one line-based reader: blocks
//! start at column 0 with a comma-separated list of specifiers (`name@range`), fields sit at
//! indent 2 (`version "1.0.0"` in v1, `version: 1.0.0` in berry), dependency lists at indent 4.
//! Specs: <https://classic.yarnpkg.com/lang/en/docs/yarn-lock/>, <https://yarnpkg.com/advanced/lockfile>.
//!
//! Nodes: one per block (a block is one resolution; yarn merges the specifiers that resolve to
//! the same package). Berry's root workspace (`workspace:.`) is the project, not a node: its
//! dependencies are the roots; other workspace members are `Source::Workspace` roots.
//! For v1, roots come from the sibling `package.json`; packages nobody depends on are roots too
//! (the dependencies of workspace members, which the root manifest does not list).
//! Scope: reachability from the manifest's `dependencies` / `optionalDependencies` /
//! `devDependencies` (see [`super::npm::scopes_by_reachability`]).

use std::borrow::Cow;
use std::collections::HashMap;

use super::npm::{
    DepKind, EdgeKinds, PackageJson, npm_package, orphans, read_package_json, scopes_by_reachability,
    source_from_resolved, split_alias, split_name_at,
};
use super::{LockfileError, ParseInput, Parsed};
use crate::graph::{DepGraph, NodeId};
use crate::package::{Scope, Source};

/// One entry of the lockfile.
#[derive(Debug, Default)]
struct Block<'a> {
    line: usize,
    specs: Vec<Cow<'a, str>>,
    fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    deps: Vec<(Cow<'a, str>, Cow<'a, str>, DepKind)>,
    optional_meta: Vec<Cow<'a, str>>,
}

impl Block<'_> {
    fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_ref())
    }
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes)
        .map_err(|e| LockfileError::new(input.path, None, format!("not UTF-8 text: {e}")))?;
    let blocks =
        read_blocks(text).map_err(|(line, msg)| LockfileError::new(input.path, Some(format!("{line}:1")), msg))?;
    let metadata = blocks.iter().find(|b| b.specs.first().is_some_and(|s| s == "__metadata"));
    if let Some(meta) = metadata {
        check_berry_version(input, meta)?;
    } else if blocks.is_empty() && !text.contains("# yarn lockfile v1") {
        return Err(LockfileError::new(
            input.path,
            None,
            "no entries and no `# yarn lockfile v1` header: not a yarn.lock",
        ));
    }
    Ok(build(input, &blocks, metadata.is_some()))
}

/// Berry's `__metadata.version` (the lockfile format: 4 to 8 so far) must be a small number.
fn check_berry_version(input: &ParseInput<'_>, meta: &Block<'_>) -> Result<(), LockfileError> {
    let version = meta.field("version");
    match version.map(|v| v.trim().parse::<u32>()) {
        Some(Ok(1..=99)) => Ok(()),
        _ => Err(LockfileError::new(
            input.path,
            Some(format!("{}:1", meta.line)),
            format!(
                "__metadata.version: expected the lockfile format number, found {}",
                version.map_or_else(|| "nothing (the key is missing)".to_owned(), |v| format!("{v:?}"))
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Which indent-2 section the following indent-4 lines belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Deps(DepKind),
    OptionalMeta,
    Other,
}

fn read_blocks(text: &str) -> Result<Vec<Block<'_>>, (usize, String)> {
    let mut blocks: Vec<Block<'_>> = Vec::new();
    let mut section = Section::Other;
    let mut meta_name: Option<Cow<'_, str>> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if indent == 0 {
            let specs = read_key_line(body).map_err(|m| (line_no, m))?;
            blocks.push(Block { line: line_no, specs, ..Block::default() });
            section = Section::Other;
            continue;
        }
        let Some(block) = blocks.last_mut() else {
            return Err((line_no, "indented line before the first entry".to_owned()));
        };
        let (key, value) = split_kv(body).map_err(|m| (line_no, m))?;
        match indent {
            2 if value.is_empty() => section = section_of(&key),
            2 => block.fields.push((key, value)),
            4 => match section {
                Section::Deps(kind) => block.deps.push((key, value, kind)),
                Section::OptionalMeta => meta_name = Some(key),
                Section::Other => {}
            },
            6 if section == Section::OptionalMeta && key == "optional" && value == "true" => {
                if let Some(name) = meta_name.take() {
                    block.optional_meta.push(name);
                }
            }
            1 | 3 | 5 => return Err((line_no, format!("unexpected indentation of {indent}"))),
            _ => {}
        }
    }
    Ok(blocks)
}

fn section_of(key: &str) -> Section {
    match key {
        "dependencies" => Section::Deps(DepKind::Prod),
        "optionalDependencies" => Section::Deps(DepKind::Optional),
        "peerDependencies" => Section::Deps(DepKind::Peer),
        "dependenciesMeta" => Section::OptionalMeta,
        _ => Section::Other,
    }
}

/// `"a@^1", a@^2:` (v1) or `"a@npm:^1, a@npm:^2":` (berry) -> the specifiers.
fn read_key_line(body: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let Some(content) = body.strip_suffix(':') else {
        return Err(format!("expected an entry like `name@range:`, found `{body}`"));
    };
    let mut specs = Vec::new();
    let mut rest = content.trim();
    while !rest.is_empty() {
        let (piece, after) = if rest.starts_with('"') || rest.starts_with('\'') {
            read_quoted(rest)?
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (Cow::Borrowed(rest[..end].trim()), &rest[end..])
        };
        match piece {
            Cow::Borrowed(p) => specs.extend(p.split(", ").map(|s| Cow::Borrowed(s.trim()))),
            Cow::Owned(p) => specs.extend(p.split(", ").map(|s| Cow::Owned(s.trim().to_owned()))),
        }
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    specs.retain(|s| !s.is_empty());
    if specs.is_empty() {
        return Err("empty entry key".to_owned());
    }
    Ok(specs)
}

/// Reads a quoted string at the start of `s`; returns it unescaped and the text after it.
fn read_quoted(s: &str) -> Result<(Cow<'_, str>, &str), String> {
    let quote = s.chars().next().unwrap_or('"');
    let body = &s[1..];
    let mut escaped = false;
    let mut has_escape = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
            has_escape = true;
        } else if c == quote {
            let inner = &body[..i];
            let rest = &body[i + 1..];
            if !has_escape {
                return Ok((Cow::Borrowed(inner), rest));
            }
            return Ok((Cow::Owned(unescape(inner)), rest));
        }
    }
    Err(format!("unterminated quoted string: {s}"))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `key value`, `"key" "value"`, `key: value` or `key:` -> (key, value); value may be empty.
fn split_kv(body: &str) -> Result<(Cow<'_, str>, Cow<'_, str>), String> {
    let (key, rest) = if body.starts_with('"') || body.starts_with('\'') {
        read_quoted(body)?
    } else {
        let end = body.find([' ', ':']).unwrap_or(body.len());
        (Cow::Borrowed(&body[..end]), &body[end..])
    };
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    let value =
        if rest.starts_with('"') || rest.starts_with('\'') { read_quoted(rest)?.0 } else { Cow::Borrowed(rest) };
    Ok((key, value))
}

// ---------------------------------------------------------------------------------------------
// Building the graph

/// What a block turned into.
enum Resolved {
    Node(NodeId),
    /// Berry's root workspace: the project itself.
    Project,
    Metadata,
}

struct Build<'b, 'a> {
    graph: DepGraph,
    warnings: Vec<String>,
    blocks: &'b [Block<'a>],
    resolved: Vec<Resolved>,
    by_spec: HashMap<&'b str, NodeId>,
    /// Name -> the only node of that name (`None` when several), for dependencies that
    /// `resolutions` in package.json redirected to a spec the lockfile does not list.
    by_name: HashMap<String, Option<NodeId>>,
    /// Workspace members (path, node), berry only.
    workspaces: Vec<(String, NodeId)>,
}

fn build(input: &ParseInput<'_>, blocks: &[Block<'_>], berry: bool) -> Parsed {
    let mut b = Build {
        graph: DepGraph::new(),
        warnings: Vec::new(),
        blocks,
        resolved: Vec::with_capacity(blocks.len()),
        by_spec: HashMap::new(),
        by_name: HashMap::new(),
        workspaces: Vec::new(),
    };
    for block in blocks {
        let r = b.add_block(block, berry);
        b.resolved.push(r);
    }
    let mut kinds = EdgeKinds::default();
    let project_deps = b.add_edges(&mut kinds);
    let manifest = read_package_json(input, "package.json", &mut b.warnings);
    let mut roots = b.roots(manifest.as_ref(), project_deps);
    b.workspace_roots(input, &mut roots, &mut kinds);
    let scopes = scopes_by_reachability(&b.graph, &roots, &kinds);
    let mut graph = b.graph;
    for (id, scope) in scopes.into_iter().enumerate() {
        if !matches!(graph.node(id).source, Source::Workspace) {
            graph.node_mut(id).scope = scope;
        }
    }
    for (r, _) in roots {
        graph.add_root(r);
    }
    graph.finish();
    Parsed { graph, warnings: b.warnings }
}

impl<'b, 'a> Build<'b, 'a> {
    fn add_block(&mut self, block: &'b Block<'a>, berry: bool) -> Resolved {
        let first = block.specs.first().map_or("", AsRef::as_ref);
        if first == "__metadata" {
            return Resolved::Metadata;
        }
        let (name, version, source) = if berry {
            match berry_identity(block) {
                Some(id) => id,
                None => return Resolved::Project,
            }
        } else {
            v1_identity(block)
        };
        if version.is_empty() {
            self.warnings.push(format!("line {}: entry `{first}` has no version", block.line));
        }
        if let Source::Workspace = source
            && let Some(path) = block.field("resolution").and_then(|r| r.split("@workspace:").nth(1))
        {
            self.workspaces.push((path.to_owned(), self.graph.len()));
        }
        let node = self.graph.add_node(npm_package(&name, &version, Scope::Prod, source));
        self.by_name.entry(name).and_modify(|n| *n = None).or_insert(Some(node));
        for spec in &block.specs {
            self.by_spec.entry(spec.as_ref()).or_insert(node);
            if let Some((before, _)) = spec.split_once("::") {
                self.by_spec.entry(before).or_insert(node);
            }
        }
        Resolved::Node(node)
    }

    /// Adds every block's edges; returns the root workspace's dependencies (berry).
    fn add_edges(&mut self, kinds: &mut EdgeKinds) -> Vec<(NodeId, &'b str)> {
        let mut project = Vec::new();
        let blocks = self.blocks;
        for (i, block) in blocks.iter().enumerate() {
            for (name, range, kind) in &block.deps {
                if *kind == DepKind::Peer {
                    continue;
                }
                let Some(child) = self.lookup(name, range) else {
                    self.warnings
                        .push(format!("line {}: dependency {name}@{range} is not in the lockfile", block.line));
                    continue;
                };
                let optional = *kind == DepKind::Optional || block.optional_meta.contains(name);
                match self.resolved[i] {
                    Resolved::Node(parent) => {
                        self.graph.add_edge(parent, child);
                        if optional {
                            kinds.optional.insert((parent, child));
                        }
                    }
                    Resolved::Project => project.push((child, name.as_ref())),
                    Resolved::Metadata => {}
                }
            }
            if let Some(base) = patch_base(block)
                && let (Resolved::Node(parent), Some(&child)) = (&self.resolved[i], self.by_spec.get(base.as_str()))
            {
                self.graph.add_edge(*parent, child);
            }
        }
        project
    }

    fn lookup(&self, name: &str, range: &str) -> Option<NodeId> {
        let spec = format!("{name}@{range}");
        if let Some(&n) = self.by_spec.get(spec.as_str()) {
            return Some(n);
        }
        let spec = format!("{name}@npm:{range}");
        if let Some(&n) = self.by_spec.get(spec.as_str()) {
            return Some(n);
        }
        self.by_name.get(name).copied().flatten()
    }

    /// Roots with their kind: berry's project dependencies or the manifest's, then orphans.
    fn roots(&self, manifest: Option<&PackageJson>, project_deps: Vec<(NodeId, &str)>) -> Vec<(NodeId, DepKind)> {
        let declared: Vec<(&str, &str, DepKind)> = manifest.map(PackageJson::declared).unwrap_or_default();
        let kind_of = |name: &str| declared.iter().find(|(n, _, _)| *n == name).map_or(DepKind::Prod, |(_, _, k)| *k);
        let mut roots: Vec<(NodeId, DepKind)> =
            project_deps.into_iter().map(|(node, name)| (node, kind_of(name))).collect();
        let has_project = self.resolved.iter().any(|r| matches!(r, Resolved::Project));
        if !has_project {
            for (name, range, kind) in &declared {
                if let Some(node) = self.lookup(name, range) {
                    roots.push((node, *kind));
                }
            }
        }
        for node in orphans(&self.graph) {
            if !roots.iter().any(|(r, _)| *r == node) {
                roots.push((node, DepKind::Prod));
            }
        }
        roots
    }

    /// Marks the dev dependencies of workspace members (read from their `package.json`) as dev
    /// edges; members are prod roots (already added as orphans or children).
    fn workspace_roots(&mut self, input: &ParseInput<'_>, roots: &mut Vec<(NodeId, DepKind)>, kinds: &mut EdgeKinds) {
        for (path, node) in &self.workspaces {
            if !roots.iter().any(|(r, _)| r == node) {
                roots.push((*node, DepKind::Prod));
            }
            let rel = format!("{path}/package.json");
            let Some(pj) = read_package_json(input, &rel, &mut self.warnings) else {
                continue;
            };
            let children: Vec<NodeId> = self.graph.children(*node).to_vec();
            for (name, _, kind) in pj.declared() {
                if kind != DepKind::Dev {
                    continue;
                }
                for &c in &children {
                    if self.graph.node(c).name.as_str() == name {
                        kinds.dev.insert((*node, c));
                    }
                }
            }
        }
    }
}

/// The spec of the package a berry `patch:` resolution patches (`name@npm:1.2.3`).
fn patch_base(block: &Block<'_>) -> Option<String> {
    let resolution = block.field("resolution")?;
    let (name, reference) = split_name_at(resolution);
    let inner = reference.strip_prefix("patch:")?;
    let inner = inner.split('#').next()?;
    let decoded = inner.replace("%3A", ":").replace("%40", "@");
    let (_, base_ref) = split_name_at(&decoded);
    Some(format!("{name}@{base_ref}"))
}

/// Name, version and source of a v1 block.
fn v1_identity(block: &Block<'_>) -> (String, String, Source) {
    let first = block.specs.first().map_or("", AsRef::as_ref);
    let (name, range) = split_name_at(first);
    let name = split_alias(range).map_or(name, |(real, _)| real);
    let version = block.field("version").unwrap_or("").to_owned();
    let source = match block.field("resolved") {
        Some(r) if r.starts_with("file:") => Source::Path(local_path(r)),
        Some(r) => source_from_resolved(r),
        None => range_source(range).unwrap_or(Source::Registry),
    };
    (name.to_owned(), version, source)
}

/// The source a v1 specifier's range names when it is not a registry range: `file:`/`link:`
/// and bare paths (`./lib`, `../lib`, `/abs`, `~/lib`), URLs, git references. `None` for a
/// registry range (`^1.2.3`, `latest`, `npm:x@1`).
fn range_source(range: &str) -> Option<Source> {
    let local = ["file:", "link:", "portal:"].iter().find_map(|p| range.strip_prefix(p));
    if let Some(path) = local {
        return Some(Source::Path(local_path(path)));
    }
    if ["./", "../", "/", "~/"].iter().any(|p| range.starts_with(p)) || range == "." || range == ".." {
        return Some(Source::Path(range.to_owned()));
    }
    let remote = ["http://", "https://", "git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:"];
    if remote.iter().any(|p| range.starts_with(p)) {
        return Some(source_from_resolved(range));
    }
    None
}

/// A `file:` path without its scheme and `#hash` fragment.
fn local_path(text: &str) -> String {
    let text = text.strip_prefix("file:").unwrap_or(text);
    text.split('#').next().unwrap_or(text).to_owned()
}

/// Name, version and source of a berry block; `None` for the root workspace (the project).
fn berry_identity(block: &Block<'_>) -> Option<(String, String, Source)> {
    let Some(resolution) = block.field("resolution") else {
        let (name, version, _) = v1_identity(block);
        return Some((name, version, Source::Registry));
    };
    let (name, reference) = split_name_at(resolution);
    let version = block.field("version").unwrap_or("").to_owned();
    let source = if let Some(path) = reference.strip_prefix("workspace:") {
        if path == "." {
            return None;
        }
        Source::Workspace
    } else if reference.starts_with("npm:") {
        Source::Registry
    } else if let Some(inner) = reference.strip_prefix("patch:") {
        // A patched registry package still holds the registry code (and its advisories).
        if inner.contains("@npm%3A") { Source::Registry } else { Source::Other(reference.to_owned()) }
    } else if let Some(rest) = ["link:", "portal:", "file:"].iter().find_map(|p| reference.strip_prefix(p)) {
        let path = rest.split("::").next().unwrap_or(rest);
        Source::Path(path.split('#').next().unwrap_or(path).to_owned())
    } else if reference.starts_with("exec:") {
        Source::Other(reference.to_owned())
    } else {
        berry_remote_source(reference)
    };
    let (name, version) = match split_alias(reference) {
        Some((real, v)) if version.is_empty() => (real, v.to_owned()),
        _ => (name, version),
    };
    Some((name.to_owned(), version, source))
}

/// A berry URL or git reference: git when it names a commit or a `.git` repository.
fn berry_remote_source(reference: &str) -> Source {
    let is_git = reference.contains("#commit=")
        || reference.contains(".git#")
        || reference.get(reference.len().saturating_sub(4)..).is_some_and(|e| e.eq_ignore_ascii_case(".git"))
        || reference.starts_with("git");
    if is_git {
        let s = source_from_resolved(&format!("git+{reference}"));
        if let Source::Git { url, rev } = s {
            let url = url.strip_prefix("git+").unwrap_or(&url).to_owned();
            return Source::Git { url, rev };
        }
        return s;
    }
    source_from_resolved(reference)
}
