//! `bundleguard deps PATH`: print the dependency trees of the lockfiles under PATH.
//!
//! Lockfiles are parsed in parallel (rayon); output is in path order. A lockfile that fails
//! is reported on stderr (naming the file and, where known, the line or key) and the others are
//! still printed. Manifests with no lockfile are reported on stderr ("no lockfile: the tree
//! cannot be known"). The lockfiles are those `scan` and `bundles` find (one walk, one skip list,
//! the `exclude` patterns of PATH's `bundleguard.toml`). Exit code: 0 when every lockfile parsed,
//! 2 when any failed or a folder could not be walked (after printing everything else), as in
//! `scan`, or PATH cannot be read.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rayon::prelude::*;
use serde::Serialize;

use super::Outcome;
use crate::bundle;
use crate::graph::{DepGraph, NodeId};
use crate::lockfile::{self, Lockfile, LockfileError};
use crate::package::{Package, Scope, Source};
use crate::report::escape;

#[derive(Debug, clap::Args)]
pub struct DepsArgs {
    /// Folder (or lockfile) to read.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Tree)]
    pub format: Format,
    /// Which packages to show: `prod` drops dev-only packages.
    #[arg(long, value_enum, default_value_t = ScopeFilter::All)]
    pub scope: ScopeFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Indented trees with scope markers.
    Tree,
    /// One JSON document.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScopeFilter {
    /// Every package.
    All,
    /// Packages that ship (everything but dev-only).
    Prod,
}

pub fn run(args: &DepsArgs) -> anyhow::Result<Outcome> {
    fs_err::metadata(&args.path).context("deps: cannot read PATH")?;
    // A file is read as a lockfile (whatever its name, which `load` then checks).
    let (discovery, lockfiles) = if args.path.is_file() {
        (bundle::Discovery::default(), vec![args.path.clone()])
    } else {
        let discovery = bundle::discover_with(&args.path, &super::bundles::policy_excludes(&args.path)?);
        let lockfiles = discovery.unique_lockfiles();
        (discovery, lockfiles)
    };
    let results: Vec<Result<Lockfile, LockfileError>> = lockfiles.par_iter().map(|path| lockfile::load(path)).collect();
    let shown = |path: &Path| display_path(&args.path, path);
    let mut stderr = std::io::stderr().lock();
    // Walk errors (an unreadable folder, a link out of PATH) are per-file errors, as in `scan`.
    let mut errors: Vec<ErrorOut> = discovery
        .errors
        .iter()
        .map(|e| ErrorOut { path: shown(&e.path), location: None, message: escape::terminal(&e.message) })
        .collect();
    let walk_errors = errors.len();
    for error in &errors {
        writeln!(stderr, "error: {}: {}", error.path, error.message)?;
    }
    for warning in &discovery.warnings {
        writeln!(stderr, "warning: {}: {}", shown(&warning.path), escape::terminal(&warning.message))?;
    }
    if let Some(message) = discovery.excluded_message(&shown) {
        writeln!(stderr, "note: {}", escape::terminal(&message))?;
    }
    for manifest in &discovery.unlocked_manifests {
        writeln!(stderr, "warning: {}: no lockfile: the tree cannot be known", shown(manifest))?;
    }
    let mut parsed = Vec::new();
    for result in results {
        match result {
            Ok(mut lock) => {
                for warning in &lock.warnings {
                    writeln!(stderr, "warning: {}: {}", shown(&lock.path), escape::terminal(warning))?;
                }
                lock.graph = filter_scope(&lock.graph, args.scope);
                parsed.push(lock);
            }
            Err(mut err) => {
                err.path = PathBuf::from(shown(&err.path));
                writeln!(stderr, "error: {}", escape::terminal(&err.to_string()))?;
                errors.push(ErrorOut {
                    path: err.path.to_string_lossy().into_owned(),
                    location: err.location.as_deref().map(escape::terminal),
                    message: escape::terminal(&err.message),
                });
            }
        }
    }
    if lockfiles.is_empty() {
        writeln!(stderr, "no lockfiles found under {}", args.path.display())?;
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Tree => write_trees(&mut out, &parsed, &shown)?,
        Format::Json => write_json(&mut out, &parsed, &discovery.unlocked_manifests, &errors, &shown)?,
    }
    out.flush()?;
    if walk_errors > 0 {
        anyhow::bail!("{walk_errors} files or folders under {} could not be read", args.path.display());
    }
    if errors.len() > walk_errors {
        anyhow::bail!("{} of {} lockfiles could not be parsed", errors.len() - walk_errors, lockfiles.len());
    }
    Ok(Outcome::Pass)
}

/// A path as shown: relative to the folder given on the command line, with `/` separators.
fn display_path(root: &Path, path: &Path) -> String {
    let relative = match path.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel,
        _ => path,
    };
    escape::terminal(&relative.to_string_lossy().replace('\\', "/"))
}

/// The graph without dev-only packages (and their edges) when `--scope prod`.
fn filter_scope(graph: &DepGraph, filter: ScopeFilter) -> DepGraph {
    if filter == ScopeFilter::All {
        return graph.clone();
    }
    let mut kept = DepGraph::new();
    let mut remap: Vec<Option<NodeId>> = vec![None; graph.len()];
    for (id, package) in graph.nodes().iter().enumerate() {
        if package.scope.ships() {
            remap[id] = Some(kept.add_node(package.clone()));
        }
    }
    for (parent, child) in graph.edges() {
        if let (Some(p), Some(c)) = (remap[parent], remap[child]) {
            kept.add_edge(p, c);
        }
    }
    for &root in graph.roots() {
        if let Some(r) = remap[root] {
            kept.add_root(r);
        }
    }
    kept.finish();
    kept
}

fn scope_marker(scope: Scope) -> &'static str {
    match scope {
        Scope::Prod => "",
        Scope::Optional => " [optional]",
        Scope::Peer => " [peer]",
        Scope::Dev => " [dev]",
    }
}

fn source_text(source: &Source) -> String {
    match source {
        Source::Registry => String::new(),
        Source::Git { url, rev: Some(rev) } => format!("git+{url}#{rev}"),
        Source::Git { url, rev: None } => format!("git+{url}"),
        Source::Path(path) => format!("path:{path}"),
        Source::Workspace => "workspace".to_owned(),
        Source::Other(other) => other.clone(),
    }
}

fn package_line(package: &Package) -> String {
    let source = source_text(&package.source);
    let source = if source.is_empty() { source } else { format!(" ({source})") };
    escape::terminal(&format!("{} {}{}{}", package.name, package.version, scope_marker(package.scope), source))
}

fn write_trees(out: &mut dyn Write, locks: &[Lockfile], shown: &dyn Fn(&Path) -> String) -> std::io::Result<()> {
    for lock in locks {
        let graph = &lock.graph;
        let plural = if graph.len() == 1 { "" } else { "s" };
        writeln!(out, "{} ({}, {} package{plural})", shown(&lock.path), lock.format, graph.len())?;
        let mut expanded = vec![false; graph.len()];
        for &root in graph.roots() {
            write_subtree(out, graph, root, 1, &mut expanded)?;
        }
        let unreached: Vec<NodeId> = (0..graph.len()).filter(|&id| !expanded[id]).collect();
        if !unreached.is_empty() {
            writeln!(out, "  (not reached from a direct dependency)")?;
            for id in unreached {
                writeln!(out, "    {}", package_line(graph.node(id)))?;
            }
        }
    }
    Ok(())
}

/// Prints a node and, the first time it is met, its children; later meetings end in `(*)`.
fn write_subtree(
    out: &mut dyn Write,
    graph: &DepGraph,
    root: NodeId,
    depth: usize,
    expanded: &mut [bool],
) -> std::io::Result<()> {
    let mut stack = vec![(root, depth)];
    while let Some((id, depth)) = stack.pop() {
        let indent = "  ".repeat(depth);
        let line = package_line(graph.node(id));
        if expanded[id] {
            let more = if graph.children(id).is_empty() { "" } else { " (*)" };
            writeln!(out, "{indent}{line}{more}")?;
            continue;
        }
        expanded[id] = true;
        writeln!(out, "{indent}{line}")?;
        for &child in graph.children(id).iter().rev() {
            stack.push((child, depth + 1));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonOut<'a> {
    lockfiles: Vec<JsonLockfile>,
    no_lockfile: Vec<String>,
    /// Files and folders that could not be read or parsed.
    errors: &'a [ErrorOut],
}

#[derive(Serialize)]
struct ErrorOut {
    path: String,
    /// `line:col` or a key path, when the parser knows it.
    location: Option<String>,
    message: String,
}

#[derive(Serialize)]
struct JsonLockfile {
    path: String,
    format: &'static str,
    packages: Vec<JsonPackage>,
    edges: Vec<[NodeId; 2]>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct JsonPackage {
    ecosystem: &'static str,
    name: String,
    version: String,
    scope: &'static str,
    direct: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    source: String,
}

fn write_json(
    out: &mut dyn Write,
    locks: &[Lockfile],
    unlocked: &[PathBuf],
    errors: &[ErrorOut],
    shown: &dyn Fn(&Path) -> String,
) -> anyhow::Result<()> {
    let doc = JsonOut {
        lockfiles: locks
            .iter()
            .map(|lock| JsonLockfile {
                path: shown(&lock.path),
                format: lock.format.as_str(),
                packages: lock
                    .graph
                    .nodes()
                    .iter()
                    .enumerate()
                    .map(|(id, p)| JsonPackage {
                        ecosystem: p.ecosystem.as_str(),
                        name: p.name.to_string(),
                        version: p.version.clone(),
                        scope: p.scope.as_str(),
                        direct: lock.graph.is_root(id),
                        source: source_text(&p.source),
                    })
                    .collect(),
                edges: lock.graph.edges().map(|(a, b)| [a, b]).collect(),
                warnings: lock.warnings.clone(),
            })
            .collect(),
        no_lockfile: unlocked.iter().map(|p| shown(p)).collect(),
        errors,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}
