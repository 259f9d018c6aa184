//! `requirements.txt` (pip's requirements file format): one requirement per line, with comments,
//! `\` continuations, `-r`/`-c` includes resolved relative to the including file (with cycle
//! detection), `-e` editables, per-requirement options (`--hash`, `-C`) and global options.
//! Only exact pins (`==1.2`, `===1.2`, or a pin from a `-c` constraints file) become nodes: a
//! range is reported as "not pinned", never guessed. There are no edges; every node is a root.
//! Scope: a file whose name has a `dev`/`test`/`lint`/`doc`/`ci` word is dev, else production.
//! <https://pip.pypa.io/en/stable/reference/requirements-file-format/>

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr as _;

use pep440_rs::Operator;
use pep508_rs::{Requirement, VersionOrUrl};

use super::ScopedGraph;
use crate::graph::NodeId;
use crate::lockfile::{LockfileError, ParseInput, Parsed};
use crate::package::{Ecosystem, PackageName, Scope, Source};

/// Includes nested deeper than this are refused (a chain this long is a mistake or an attack).
const MAX_INCLUDE_DEPTH: usize = 32;

/// At most this many includes are read for one lockfile (diamonds of includes could otherwise
/// make the work exponential).
const MAX_INCLUDES: usize = 256;

/// A requirement that names no exact version, kept until constraints files are all read.
struct Unpinned {
    at: String,
    name: String,
    text: String,
    scope: Scope,
}

struct State<'a> {
    input: &'a ParseInput<'a>,
    graph: ScopedGraph,
    seen: HashMap<(PackageName, String), NodeId>,
    /// Pins from `-c` files: normalized name -> version.
    constraints: HashMap<PackageName, String>,
    unpinned: Vec<Unpinned>,
    /// The include chain (normalized paths relative to the lockfile's folder).
    chain: Vec<PathBuf>,
    includes_read: usize,
    warnings: Vec<String>,
}

/// What one logical line holds.
enum Line<'t> {
    Include { constraint: bool, target: &'t str },
    Editable(&'t str),
    Requirement(&'t str),
    Ignored,
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes).map_err(|e| {
        let (line, col) = super::line_col(input.bytes, e.valid_up_to());
        LockfileError::new(input.path, Some(format!("{line}:{col}")), "not valid UTF-8")
    })?;
    if text.contains('\0') {
        return Err(LockfileError::new(input.path, None, "not a text file (NUL byte)"));
    }
    let mut state = State {
        input,
        graph: ScopedGraph::default(),
        seen: HashMap::new(),
        constraints: HashMap::new(),
        unpinned: Vec::new(),
        chain: vec![PathBuf::new()],
        includes_read: 0,
        warnings: Vec::new(),
    };
    let own_name = input.path.file_name().map_or(input.path, Path::new);
    let scope = scope_of(own_name);
    state.read_file(None, text, false, scope);
    state.resolve_unpinned();
    let roots: Vec<_> = (0..state.graph.packages.len()).collect();
    Ok(Parsed { graph: state.graph.into_graph(&roots), warnings: state.warnings })
}

/// `dev`, `test`, ... as a word of the file name (`requirements-dev.txt`, `requirements/test.txt`).
fn scope_of(path: &Path) -> Scope {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let dev_word = stem.split(['-', '_', '.']).any(|word| {
        matches!(
            word,
            "dev"
                | "develop"
                | "development"
                | "test"
                | "tests"
                | "testing"
                | "lint"
                | "doc"
                | "docs"
                | "ci"
                | "typing"
        )
    });
    if dev_word { Scope::Dev } else { Scope::Prod }
}

/// Joins `\`-continued physical lines; yields (first line number, logical line).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = index + 1;
        }
        if let Some(head) = raw.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(raw);
            out.push((start, std::mem::take(&mut current)));
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current));
    }
    out
}

/// Drops a comment: `#` at the start or after whitespace (a URL's `#egg=` fragment stays).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)) {
            return line.get(..i).unwrap_or("");
        }
    }
    line
}

/// The value of an option written `-r x`, `-rx`, `--requirement x` or `--requirement=x`.
fn option_value<'t>(line: &'t str, short: &str, long: &str) -> Option<&'t str> {
    let rest = if let Some(rest) = line.strip_prefix(long) {
        if !rest.starts_with([' ', '\t', '=']) {
            return None;
        }
        rest.trim_start_matches([' ', '\t']).strip_prefix('=').unwrap_or(rest)
    } else {
        line.strip_prefix(short)?
    };
    Some(rest.trim())
}

fn classify(line: &str) -> Line<'_> {
    if !line.starts_with('-') {
        return Line::Requirement(strip_requirement_options(line));
    }
    if let Some(target) = option_value(line, "-r", "--requirement") {
        return Line::Include { constraint: false, target };
    }
    if let Some(target) = option_value(line, "-c", "--constraint") {
        return Line::Include { constraint: true, target };
    }
    if let Some(target) = option_value(line, "-e", "--editable") {
        return Line::Editable(strip_requirement_options(target));
    }
    Line::Ignored
}

/// Cuts per-requirement options (`--hash=...`, `-C x`, `--config-settings`) off a line.
fn strip_requirement_options(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'-' && i > 0 && bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace) {
            return line.get(..i).unwrap_or(line).trim();
        }
    }
    line.trim()
}

/// Lexically normalizes `a/./b/../c` to `a/c` (the include chain compares these).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl State<'_> {
    /// Reads one file; `include` is its path relative to the lockfile's folder (`None` for the
    /// lockfile itself, whose lines are located as `line N`).
    fn read_file(&mut self, include: Option<&Path>, text: &str, constraint: bool, scope: Scope) {
        for (number, raw) in logical_lines(text) {
            let line = strip_comment(&raw).trim();
            if line.is_empty() {
                continue;
            }
            let at = match include {
                Some(path) => format!("{}:{number}", path.display()),
                None => format!("line {number}"),
            };
            match classify(line) {
                Line::Include { constraint: c, target } => {
                    self.include(&at, target, constraint || c);
                }
                Line::Editable(target) if !constraint => self.add_unnamed(&at, target, scope),
                Line::Ignored | Line::Editable(_) => {}
                Line::Requirement(text) => self.requirement(&at, text, constraint, scope),
            }
        }
    }

    fn include(&mut self, at: &str, target: &str, constraint: bool) {
        let current_dir = self.chain.last().and_then(|p| p.parent()).map(Path::to_path_buf).unwrap_or_default();
        let relative = normalize(&current_dir.join(target));
        if Path::new(target).is_absolute() || target.contains("://") {
            self.warnings.push(format!("{at}: include {target} skipped: only relative paths are read"));
            return;
        }
        if self.chain.contains(&relative) || self.chain.len() > MAX_INCLUDE_DEPTH {
            self.warnings.push(format!("{at}: include {target} skipped: include cycle"));
            return;
        }
        if self.includes_read >= MAX_INCLUDES {
            self.warnings.push(format!("{at}: include {target} skipped: more than {MAX_INCLUDES} includes"));
            return;
        }
        self.includes_read += 1;
        let Some(bytes) = (self.input.read_sibling)(&relative) else {
            self.warnings.push(format!("{at}: include {target} could not be read"));
            return;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            self.warnings.push(format!("{at}: include {target} is not valid UTF-8"));
            return;
        };
        let scope = scope_of(&relative);
        self.chain.push(relative.clone());
        self.read_file(Some(&relative), text, constraint, scope);
        self.chain.pop();
    }

    fn requirement(&mut self, at: &str, text: &str, constraint: bool, scope: Scope) {
        if is_unnamed(text) {
            if !constraint {
                self.add_unnamed(at, text, scope);
            }
            return;
        }
        if let Some((name, version)) = arbitrary_equality(text) {
            self.add_pinned(constraint, name, version, Source::Registry, scope);
            return;
        }
        // pep508_rs 0.9 panics on a name ending in `.`/`-`/`_` followed by more text (found by
        // fuzzing): such a name is invalid anyway.
        if super::pep508_name(text).ends_with(['.', '-', '_']) {
            self.warnings
                .push(format!("{at}: invalid requirement {text:?}: a package name must end with a letter or digit"));
            return;
        }
        let requirement = match Requirement::<pep508_rs::VerbatimUrl>::from_str(text) {
            Ok(r) => r,
            Err(err) => {
                let first = err.to_string();
                let first = first.lines().next().unwrap_or("");
                self.warnings.push(format!("{at}: invalid requirement {text:?}: {first}"));
                return;
            }
        };
        let name = requirement.name.to_string();
        match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) => {
                let pin = match specs.iter().collect::<Vec<_>>().as_slice() {
                    [only] if *only.operator() == Operator::Equal => raw_pin(text),
                    _ => None,
                };
                match pin {
                    Some(version) => {
                        self.add_pinned(constraint, &name, version, Source::Registry, scope);
                    }
                    None if constraint => {}
                    None => self.unpinned.push(Unpinned { at: at.to_owned(), name, text: text.to_owned(), scope }),
                }
            }
            Some(VersionOrUrl::Url(url)) if !constraint => {
                let url = url.to_string();
                let source = source_of_url(&url);
                self.add_node(&name, &version_from_url(&url), source, scope);
            }
            Some(VersionOrUrl::Url(_)) => {}
            None if constraint => {}
            None => self.unpinned.push(Unpinned { at: at.to_owned(), name, text: text.to_owned(), scope }),
        }
    }

    fn add_pinned(&mut self, constraint: bool, name: &str, version: &str, source: Source, scope: Scope) {
        if constraint {
            self.constraints.insert(PackageName::new(Ecosystem::PyPI, name), version.to_owned());
        } else {
            self.add_node(name, version, source, scope);
        }
    }

    fn add_node(&mut self, name: &str, version: &str, source: Source, scope: Scope) {
        let key = (PackageName::new(Ecosystem::PyPI, name), version.to_owned());
        if let Some(&id) = self.seen.get(&key) {
            let package = &mut self.graph.packages[id];
            package.scope = package.scope.min(scope);
            return;
        }
        let id = self.graph.add(name, version, source);
        self.graph.packages[id].scope = scope;
        self.seen.insert(key, id);
    }

    /// A path, URL or VCS reference without a `name @` prefix (`-e .`, `./pkg.whl`, `git+https://...#egg=x`).
    fn add_unnamed(&mut self, at: &str, target: &str, scope: Scope) {
        if let Some((name, url)) = target.split_once(" @ ") {
            let url = url.split(';').next().unwrap_or(url).trim();
            let name = super::pep508_name(name);
            self.add_node(name, &version_from_url(url), source_of_url(url), scope);
            return;
        }
        let target = target.split(';').next().unwrap_or(target).trim();
        let name = name_of_unnamed(target);
        if name.is_empty() {
            self.warnings.push(format!("{at}: {target:?} names no package; skipped"));
            return;
        }
        self.add_node(&name, &version_from_url(target), source_of_url(target), scope);
    }

    /// Unpinned requirements take a pin from a constraints file, or are reported.
    fn resolve_unpinned(&mut self) {
        for item in std::mem::take(&mut self.unpinned) {
            let key = PackageName::new(Ecosystem::PyPI, &item.name);
            match self.constraints.get(&key).cloned() {
                Some(version) => self.add_node(&item.name, &version, Source::Registry, item.scope),
                None => self
                    .warnings
                    .push(format!("{}: {} is not pinned: the installed version cannot be known", item.at, item.text)),
            }
        }
    }
}

fn is_unnamed(text: &str) -> bool {
    text.starts_with(['.', '/', '~'])
        || (text.contains("://") && !text.contains(" @ "))
        || ["git+", "hg+", "svn+", "bzr+"].iter().any(|p| text.starts_with(p))
}

/// `name===version` (arbitrary equality: the version need not be PEP 440).
fn arbitrary_equality(text: &str) -> Option<(&str, &str)> {
    let head = text.split(';').next().unwrap_or(text);
    let (name_part, version) = head.split_once("===")?;
    let name = super::pep508_name(name_part);
    let version = version.trim();
    (!name.is_empty() && !version.is_empty() && !version.contains([',', ' '])).then_some((name, version))
}

/// The version text after `==` as written (`==2018.08.24` stays `2018.08.24`).
fn raw_pin(text: &str) -> Option<&str> {
    let head = text.split(';').next().unwrap_or(text);
    let (_, after) = head.split_once("==")?;
    let version = after.trim_start().split(|c: char| c.is_whitespace() || c == ',' || c == ')').next().unwrap_or("");
    (!version.is_empty() && !version.contains('*')).then_some(version)
}

fn source_of_url(url: &str) -> Source {
    if let Some(rest) = url.strip_prefix("git+") {
        let rest = rest.split('#').next().unwrap_or(rest);
        let (url, rev) = match rest.rsplit_once('@') {
            Some((u, r)) if !r.contains('/') => (u, Some(r.to_owned())),
            _ => (rest, None),
        };
        return Source::Git { url: url.to_owned(), rev };
    }
    if let Some(path) = url.strip_prefix("file://") {
        return Source::Path(path.to_owned());
    }
    if url.contains("://") { Source::Other(url.to_owned()) } else { Source::Path(url.to_owned()) }
}

/// The distribution's name: `#egg=name`, or the wheel / sdist file name, or the folder name.
fn name_of_unnamed(target: &str) -> String {
    if let Some((_, fragment)) = target.split_once("#egg=") {
        return super::pep508_name(fragment).to_owned();
    }
    let file = file_name_of(target);
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').next().unwrap_or("").to_owned();
    }
    if let Some((name, _)) = archive_stem(file).and_then(|s| s.rsplit_once('-')) {
        return name.to_owned();
    }
    if target.contains("://") || target.starts_with("git+") {
        return String::new();
    }
    file.to_owned()
}

fn file_name_of(target: &str) -> &str {
    let path = target.split(['#', '?']).next().unwrap_or(target);
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

fn archive_stem(file: &str) -> Option<&str> {
    [".tar.gz", ".zip", ".tar.bz2", ".tgz"].iter().find_map(|ext| file.strip_suffix(ext))
}

/// The version in a wheel or sdist file name, or the VCS revision; empty when unknown.
fn version_from_url(target: &str) -> String {
    let file = file_name_of(target);
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').nth(1).unwrap_or("").to_owned();
    }
    if let Some((_, version)) = archive_stem(file).and_then(|s| s.rsplit_once('-')) {
        return version.to_owned();
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_layer() {
        assert_eq!(strip_comment("a==1 # c"), "a==1 ");
        assert_eq!(strip_comment("git+https://x#egg=a"), "git+https://x#egg=a");
        assert_eq!(strip_requirement_options("foo==1.0 --hash=sha256:1 -C x"), "foo==1.0");
        assert_eq!(option_value("--requirement=base.txt", "-r", "--requirement"), Some("base.txt"));
        assert_eq!(option_value("-rbase.txt", "-r", "--requirement"), Some("base.txt"));
        assert_eq!(option_value("--requirements x", "-r", "--requirement"), None);
        assert_eq!(raw_pin("certifi == 2018.08.24 ; x"), Some("2018.08.24"));
        assert_eq!(raw_pin("a==1.*"), None);
        assert_eq!(arbitrary_equality("yolo===1.0"), Some(("yolo", "1.0")));
        assert_eq!(normalize(Path::new("a/./b/../../../c.txt")), Path::new("../c.txt"));
        assert_eq!(scope_of(Path::new("requirements-dev.txt")), Scope::Dev);
        assert_eq!(scope_of(Path::new("requirements/test.txt")), Scope::Dev);
        assert_eq!(scope_of(Path::new("device-requirements.txt")), Scope::Prod);
    }

    #[test]
    fn unnamed_targets() {
        assert_eq!(name_of_unnamed("./downloads/numpy-1.9.2-cp34-none-win32.whl"), "numpy");
        assert_eq!(version_from_url("./downloads/numpy-1.9.2-cp34-none-win32.whl"), "1.9.2");
        assert_eq!(name_of_unnamed("git+https://github.com/a/b@v1#egg=b"), "b");
        assert_eq!(
            source_of_url("git+https://github.com/a/b@v1#egg=b"),
            Source::Git { url: "https://github.com/a/b".into(), rev: Some("v1".into()) }
        );
        assert_eq!(name_of_unnamed("./src/mypkg"), "mypkg");
        assert_eq!(name_of_unnamed("https://x.org/archive/1.26.8.zip"), "");
    }
}
