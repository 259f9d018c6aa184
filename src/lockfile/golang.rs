//! `go.mod` (with `go.sum` beside it): the module graph of a Go main module.
//! <https://go.dev/ref/mod#go-mod-file>
//!
//! Decisions:
//! - Nodes are the `require`d modules after `replace` (a module replacement renames the node
//!   and changes its version; a local-path replacement keeps name and version and becomes
//!   `Source::Path`) and `exclude` (an excluded `module version` is dropped, with a warning).
//! - Roots are the requires without `// indirect`, plus `stdlib` (the Go standard library, which
//!   has its own advisories): its version is `toolchain goX.Y.Z` when present, else the `go`
//!   directive, written without the `go` prefix (`1.23.6`). With `go` below 1.21 it is only the
//!   language version, a lower bound of the toolchain: a warning says so.
//! - go.mod has no per-module edges, so there are none: indirect modules are nodes that no
//!   root reaches (`paths_to` finds no path; reports call them "indirect").
//! - Since Go 1.17 go.mod lists every module the build needs, so go.sum adds nothing. For an
//!   older (or missing) `go` directive, go.sum modules with a content hash (an `h1:` line not
//!   for `/go.mod`) that go.mod does not list are added as indirect nodes, highest version per
//!   module (what minimal version selection picks among them). go.sum may hold more than the
//!   build uses (e.g. test dependencies of dependencies), so a warning says these may over-report.
//! - All modules are production scope: go.mod does not separate test-only modules.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{LockfileError, ParseInput, Parsed};
use crate::graph::DepGraph;
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

#[derive(Default)]
struct GoMod {
    /// The `module` directive: every go.mod has one (`go mod init` writes it first).
    module: Option<String>,
    /// How many directives the file has (a text with none is not a go.mod).
    directives: usize,
    go: Option<String>,
    toolchain: Option<String>,
    requires: Vec<Require>,
    replaces: Vec<Replace>,
    excludes: BTreeSet<(String, String)>,
}

struct Require {
    path: String,
    version: String,
    indirect: bool,
}

struct Replace {
    old_path: String,
    old_version: Option<String>,
    new_path: String,
    new_version: Option<String>,
}

pub(crate) fn parse_go_mod(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes).map_err(|e| {
        let line = input.bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = line.split(|&b| b == b'\n').count();
        LockfileError::new(input.path, Some(format!("{line}:1")), "not valid UTF-8")
    })?;
    let go_mod =
        parse_text(text).map_err(|(line, msg)| LockfileError::new(input.path, Some(format!("{line}:1")), msg))?;
    let mut warnings = Vec::new();
    if go_mod.module.is_none() {
        if go_mod.directives == 0 {
            return Err(LockfileError::new(input.path, None, "no directives at all: not a go.mod file"));
        }
        warnings.push("no `module` directive (go refuses such a go.mod): read anyway".to_owned());
    }
    let mut graph = DepGraph::new();
    let mut listed: HashSet<String> = HashSet::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for require in &go_mod.requires {
        listed.insert(require.path.clone());
        if go_mod.excludes.contains(&(require.path.clone(), require.version.clone())) {
            warnings.push(format!("{} {} is excluded by go.mod; not listed", require.path, require.version));
            continue;
        }
        let package = go_mod.resolve(&require.path, &require.version);
        if !seen.insert((package.name.to_string(), package.version.clone())) {
            continue;
        }
        let id = graph.add_node(package);
        if !require.indirect {
            graph.add_root(id);
        }
    }
    if let Some(stdlib) = stdlib(&go_mod, &mut warnings) {
        let id = graph.add_node(stdlib);
        graph.add_root(id);
    }
    if pre_pruning(go_mod.go.as_deref())
        && let Some(sum) = (input.read_sibling)(std::path::Path::new("go.sum"))
    {
        add_go_sum_modules(&mut graph, &go_mod, &listed, &sum, &mut warnings);
    }
    graph.finish();
    Ok(Parsed { graph, warnings })
}

fn module(path: &str, version: &str, source: Source) -> Package {
    Package {
        ecosystem: Ecosystem::Go,
        name: PackageName::new(Ecosystem::Go, path),
        version: version.to_owned(),
        scope: Scope::Prod,
        source,
    }
}

impl GoMod {
    /// The package a `require path version` resolves to after `replace` directives.
    fn resolve(&self, path: &str, version: &str) -> Package {
        let exact = self.replaces.iter().find(|r| r.old_path == path && r.old_version.as_deref() == Some(version));
        let any = || self.replaces.iter().find(|r| r.old_path == path && r.old_version.is_none());
        match exact.or_else(any) {
            None => module(path, version, Source::Registry),
            Some(r) => match &r.new_version {
                Some(new_version) => module(&r.new_path, new_version, Source::Registry),
                None => module(path, version, Source::Path(r.new_path.clone())),
            },
        }
    }
}

fn stdlib(go_mod: &GoMod, warnings: &mut Vec<String>) -> Option<Package> {
    let from_toolchain = go_mod.toolchain.as_deref().and_then(|t| t.strip_prefix("go")).map(str::to_owned);
    let version = match (from_toolchain, &go_mod.go) {
        (Some(v), _) => v,
        (None, Some(go)) => {
            if !go_version_at_least(go, 1, 21) {
                warnings.push(format!(
                    "stdlib: `go {go}` is a language version; the toolchain that builds \
                     the module may be newer"
                ));
            }
            go.clone()
        }
        (None, None) => {
            warnings.push("no `go` directive: the standard library version is unknown".into());
            return None;
        }
    };
    Some(module("stdlib", &version, Source::Registry))
}

/// Whether a `go` directive names at least `major.minor`.
fn go_version_at_least(go: &str, major: u64, minor: u64) -> bool {
    let mut parts = go
        .split('.')
        .map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u64>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have >= (major, minor)
}

/// Before Go 1.17 (module graph pruning) go.mod need not list every module the build uses.
fn pre_pruning(go: Option<&str>) -> bool {
    go.is_none_or(|go| !go_version_at_least(go, 1, 17))
}

fn add_go_sum_modules(
    graph: &mut DepGraph,
    go_mod: &GoMod,
    listed: &HashSet<String>,
    sum: &[u8],
    warnings: &mut Vec<String>,
) {
    let text = String::from_utf8_lossy(sum);
    let replaced: HashSet<&str> = go_mod.replaces.iter().map(|r| r.old_path.as_str()).collect();
    let mut best: BTreeMap<&str, &str> = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(path), Some(version), Some(_hash)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if version.ends_with("/go.mod") || listed.contains(path) || replaced.contains(path) {
            continue;
        }
        if go_mod.excludes.contains(&(path.to_owned(), version.to_owned())) {
            continue;
        }
        let entry = best.entry(path).or_insert(version);
        if compare_go_versions(version, entry).is_gt() {
            *entry = version;
        }
    }
    if best.is_empty() {
        return;
    }
    warnings.push(format!(
        "go.mod predates Go 1.17 and does not list every module: {} module(s) taken from \
         go.sum, which may list more than the build uses",
        best.len()
    ));
    for (path, version) in best {
        graph.add_node(module(path, version, Source::Registry));
    }
}

/// Orders Go module versions by semver precedence (`v` stripped, build metadata such as
/// `+incompatible` ignored); unparsable versions sort by text.
fn compare_go_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        _ => a.cmp(b),
    }
}

/// Splits a line into tokens and its `//` comment. Quoted tokens (`"x"`, `` `x` ``) are unquoted.
fn tokens(line: &str) -> (Vec<String>, &str) {
    let (code, comment) = match line.find("//") {
        Some(at) => (line.get(..at).unwrap_or(""), line.get(at + 2..).unwrap_or("")),
        None => (line, ""),
    };
    let words = code.split_whitespace().map(|w| w.trim_matches(|c| c == '"' || c == '`').to_owned()).collect();
    (words, comment.trim())
}

type LineError = (usize, String);

fn parse_text(text: &str) -> Result<GoMod, LineError> {
    let mut go_mod = GoMod::default();
    let mut block: Option<(String, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let (words, comment) = tokens(line);
        let Some(first) = words.first() else {
            continue;
        };
        if let Some((verb, _)) = &block {
            if first == ")" {
                block = None;
                continue;
            }
            let verb = verb.clone();
            go_mod.directive(&verb, &words, comment, number)?;
            continue;
        }
        if words.get(1).map(String::as_str) == Some("(") {
            block = Some((first.clone(), number));
            continue;
        }
        let args = words.get(1..).unwrap_or_default().to_vec();
        go_mod.directive(first, &args, comment, number)?;
    }
    if let Some((verb, opened)) = block {
        return Err((opened, format!("`{verb} (` block is not closed before the end of the file")));
    }
    Ok(go_mod)
}

impl GoMod {
    fn directive(&mut self, verb: &str, args: &[String], comment: &str, line: usize) -> Result<(), LineError> {
        self.directives += 1;
        match verb {
            "module" => self.module = Some(one_arg(verb, args, line)?),
            "go" => self.go = Some(one_arg(verb, args, line)?),
            "toolchain" => self.toolchain = Some(one_arg(verb, args, line)?),
            "require" => {
                let [path, version] = args else {
                    return Err((line, format!("require: expected `path version`, found {args:?}")));
                };
                self.requires.push(Require {
                    path: path.clone(),
                    version: version.clone(),
                    indirect: comment.split([';', ' ']).next() == Some("indirect"),
                });
            }
            "exclude" => {
                let [path, version] = args else {
                    return Err((line, format!("exclude: expected `path version`, found {args:?}")));
                };
                self.excludes.insert((path.clone(), version.clone()));
            }
            "replace" => self.replaces.push(parse_replace(args, line)?),
            // These do not change the set of modules.
            "retract" | "godebug" | "tool" | "ignore" => {}
            // `go` refuses unknown directives in the main module's go.mod, and so do we.
            other => return Err((line, format!("unknown directive {other:?}"))),
        }
        Ok(())
    }
}

fn one_arg(verb: &str, args: &[String], line: usize) -> Result<String, LineError> {
    match args {
        [value] => Ok(value.clone()),
        _ => Err((line, format!("{verb}: expected one value, found {args:?}"))),
    }
}

fn parse_replace(args: &[String], line: usize) -> Result<Replace, LineError> {
    let arrow = args.iter().position(|a| a == "=>");
    let (left, right) = match arrow {
        Some(at) => (args.get(..at).unwrap_or_default(), args.get(at + 1..).unwrap_or_default()),
        None => return Err((line, "replace: expected `=>`".to_owned())),
    };
    let (old_path, old_version) = match left {
        [path] => (path.clone(), None),
        [path, version] => (path.clone(), Some(version.clone())),
        _ => return Err((line, format!("replace: bad left side {left:?}"))),
    };
    let (new_path, new_version) = match right {
        [path] => (path.clone(), None),
        [path, version] => (path.clone(), Some(version.clone())),
        _ => return Err((line, format!("replace: bad right side {right:?}"))),
    };
    Ok(Replace { old_path, old_version, new_path, new_version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_directives() {
        assert!(go_version_at_least("1.21.3", 1, 21));
        assert!(!go_version_at_least("1.16", 1, 17));
        assert!(pre_pruning(None));
        assert!(compare_go_versions("v1.10.0", "v1.9.0").is_gt());
        assert!(compare_go_versions("v2.0.0+incompatible", "v2.0.0").is_eq());
        let (words, comment) = tokens(r#"  "example.com/a" v1.0.0 // indirect; x"#);
        assert_eq!(words, ["example.com/a", "v1.0.0"]);
        assert_eq!(comment, "indirect; x");
    }

    #[test]
    fn unclosed_block_names_its_line() {
        let err = parse_text("module m\n\nrequire (\n a v1\n").err();
        assert_eq!(err.map(|e| e.0), Some(3));
    }
}
