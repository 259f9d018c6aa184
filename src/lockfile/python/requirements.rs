//! `requirements.txt` (pip's requirements file format): one requirement per line, with comments,
//! `\` continuations, `-r`/`-c` includes resolved relative to the including file (with cycle
//! detection), `-e` editables, per-requirement options (`--hash`, `-C`) and global options.
//! Exact pins (`==1.2`, `===1.2`, or a pin from a `-c` constraints file) become nodes with
//! their version; a range is kept as a node whose version is the range as written (`>=2.0`, or
//! empty), so it is counted as "not evaluated" ([`crate::version::is_exact`] is false), and
//! reported as "not pinned", never guessed. There are no edges; every node is a root.
//!
//! Like pip, the parser refuses what it cannot read: an invalid requirement line, an include that
//! cannot be read, an include chain deeper than 32 or a requirement nested deeper than 32
//! parentheses are errors naming the file and line (the first one, with a count of the rest).
//! Tolerated with a warning: an include cycle (skipped, its packages are read once), a path or
//! URL requirement that names no package, a file with no requirements at all.
//! Text: UTF-8, with or without a BOM, or UTF-16 with a BOM (pip decodes both).
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

/// Requirements nested deeper than this (markers in parentheses) are refused before `pep508_rs`
/// sees them: its recursive-descent marker parser overflows the stack at a few thousand levels.
const MAX_PAREN_DEPTH: usize = 32;

/// A requirement (options cut off) longer than this is refused: no real one comes close.
const MAX_REQUIREMENT_LEN: usize = 8 * 1024;

/// A requirement that names no exact version, kept until constraints files are all read.
struct Unpinned {
    at: String,
    name: String,
    /// The specifier as written (`>=2.0`), empty when there is none: kept as the node's version.
    range: String,
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
    /// Problems that make the file unreadable as a whole: `(location, message)`.
    errors: Vec<(String, String)>,
}

/// What one logical line holds.
enum Line<'t> {
    Include {
        constraint: bool,
        target: &'t str,
    },
    Editable(&'t str),
    Requirement(&'t str),
    Ignored,
    /// An option pip does not know: pip refuses the file.
    UnknownOption(&'t str),
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = decode(input.path, input.bytes)?;
    let mut state = State {
        input,
        graph: ScopedGraph::default(),
        seen: HashMap::new(),
        constraints: HashMap::new(),
        unpinned: Vec::new(),
        chain: vec![PathBuf::new()],
        includes_read: 0,
        warnings: Vec::new(),
        errors: Vec::new(),
    };
    let own_name = input.path.file_name().map_or(input.path, Path::new);
    let scope = scope_of(own_name);
    state.read_file(None, &text, false, scope);
    if let Some((at, message)) = state.errors.first() {
        let more = match state.errors.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more problem(s) in this file)"),
        };
        let (location, message) = match at.strip_prefix("line ") {
            Some(line) => (Some(line.to_owned()), format!("{message}{more}")),
            None => (None, format!("{at}: {message}{more}")),
        };
        return Err(LockfileError::new(input.path, location, message));
    }
    state.resolve_unpinned();
    let roots: Vec<_> = (0..state.graph.packages.len()).collect();
    Ok(Parsed { graph: state.graph.into_graph(&roots), warnings: state.warnings })
}

/// The text of a requirements file: UTF-8 (a BOM is dropped) or UTF-16 with a BOM, as pip
/// reads them. A NUL byte in the decoded text means it is not a text file.
fn decode(path: &Path, bytes: &[u8]) -> Result<String, LockfileError> {
    let utf16 = |bytes: &[u8], little: bool| -> Result<String, LockfileError> {
        if !bytes.len().is_multiple_of(2) {
            return Err(LockfileError::new(path, None, "UTF-16 text with an odd number of bytes"));
        }
        let units = bytes.chunks_exact(2).map(|p| {
            let pair = [p[0], p[1]];
            if little { u16::from_le_bytes(pair) } else { u16::from_be_bytes(pair) }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| LockfileError::new(path, None, format!("invalid UTF-16 text: {e}")))
    };
    let text = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, true)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, false)?
    } else {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        std::str::from_utf8(bytes)
            .map_err(|e| {
                let (line, col) = super::line_col(bytes, e.valid_up_to());
                LockfileError::new(path, Some(format!("{line}:{col}")), "not valid UTF-8")
            })?
            .to_owned()
    };
    if let Some(at) = text.find('\0') {
        let (line, col) = super::line_col(text.as_bytes(), at);
        return Err(LockfileError::new(path, Some(format!("{line}:{col}")), "not a text file (NUL byte)"));
    }
    Ok(text)
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

/// Joins `\`-continued physical lines the way pip's `join_lines` does: the backslash is
/// removed and the next line appended as is (no space), so a continuation may split a name or a
/// version anywhere; a comment line ends a continuation. Yields (first line number, line).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let is_comment = raw.trim_start().starts_with('#');
        match raw.strip_suffix('\\') {
            Some(head) if !is_comment => {
                let (_, joined) = current.get_or_insert_with(|| (index + 1, String::new()));
                joined.push_str(head.trim_end_matches('\\'));
            }
            _ => {
                let (start, mut joined) = current.take().unwrap_or((index + 1, String::new()));
                if is_comment && !joined.is_empty() {
                    joined.push(' ');
                }
                joined.push_str(raw);
                out.push((start, joined));
            }
        }
    }
    if let Some((start, joined)) = current
        && !joined.trim().is_empty()
    {
        out.push((start, joined));
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
    let name = line.split(['=', ' ', '\t']).next().unwrap_or(line);
    // `-ihttps://...` and `-f./wheels`: short options glued to their value.
    let known = GLOBAL_OPTIONS.contains(&name) || ["-i", "-f"].iter().any(|short| name.starts_with(short));
    if known { Line::Ignored } else { Line::UnknownOption(name) }
}

/// The options pip accepts on a line of their own (none of them changes which packages install).
const GLOBAL_OPTIONS: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--no-binary",
    "--only-binary",
    "--prefer-binary",
    "--require-hashes",
    "--pre",
    "--trusted-host",
    "--use-feature",
];

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
                Line::UnknownOption(name) => self.error(&at, format!("unknown option {}", quoted(name))),
                Line::Requirement(text) => self.requirement(&at, text, constraint, scope),
            }
        }
    }

    fn include(&mut self, at: &str, target: &str, constraint: bool) {
        let current_dir = self.chain.last().and_then(|p| p.parent()).map(Path::to_path_buf).unwrap_or_default();
        let relative = normalize(&current_dir.join(target));
        if Path::new(target).is_absolute() || target.contains("://") {
            self.error(at, format!("include {target} cannot be read: only relative paths are read"));
            return;
        }
        if self.chain.contains(&relative) {
            self.warnings.push(format!("{at}: include {target} skipped: include cycle"));
            return;
        }
        if self.chain.len() > MAX_INCLUDE_DEPTH {
            self.error(at, format!("include {target} is nested more than {MAX_INCLUDE_DEPTH} includes deep"));
            return;
        }
        if self.includes_read >= MAX_INCLUDES {
            self.error(at, format!("include {target} not read: more than {MAX_INCLUDES} includes"));
            return;
        }
        self.includes_read += 1;
        let Some(bytes) = (self.input.read_sibling)(&relative) else {
            self.error(at, format!("include {target} could not be read"));
            return;
        };
        let text = match decode(&relative, &bytes) {
            Ok(text) => text,
            Err(err) => {
                self.error(at, format!("include {err}"));
                return;
            }
        };
        let scope = scope_of(&relative);
        self.chain.push(relative.clone());
        self.read_file(Some(&relative), &text, constraint, scope);
        self.chain.pop();
    }

    fn error(&mut self, at: &str, message: String) {
        self.errors.push((at.to_owned(), message));
    }

    fn requirement(&mut self, at: &str, text: &str, constraint: bool, scope: Scope) {
        if is_unnamed(text) {
            if !constraint {
                self.add_unnamed(at, text, scope);
            }
            return;
        }
        if let Some((name, version)) = arbitrary_equality(text) {
            if !crate::version::is_exact(Ecosystem::PyPI, version) {
                self.warnings.push(format!("{at}: {name}==={version}: not a PEP 440 version, it cannot be compared"));
            }
            self.add_pinned(constraint, name, version, Source::Registry, scope);
            return;
        }
        // pep508_rs 0.9 panics on a name ending in `.`/`-`/`_` followed by more text (found by
        // fuzzing): such a name is invalid anyway.
        if text.contains("${") {
            self.environment_variable(at, text, constraint, scope);
            return;
        }
        if let Some(problem) = beyond_limits(text) {
            self.error(at, format!("invalid requirement {}: {problem}", quoted(text)));
            return;
        }
        if super::pep508_name(text).ends_with(['.', '-', '_']) {
            self.error(
                at,
                format!("invalid requirement {}: a package name must end with a letter or digit", quoted(text)),
            );
            return;
        }
        if let Some(extra) = extras_of(text).find(|extra| !is_pep508_identifier(extra)) {
            // pep508_rs 0.9 panics on an extra whose leading run of name characters ends in
            // `.`/`-`/`_` (`r[r. `, `a[r- (r`, found by proptest): every extra must be a PEP 508
            // identifier, so anything else is refused here, before the library sees it.
            self.error(
                at,
                format!(
                    "invalid requirement {}: extra {} is not a valid name (letters, digits, `.`, `-`, `_`, starting and ending with a letter or digit)",
                    quoted(text),
                    quoted(extra)
                ),
            );
            return;
        }
        let requirement = match Requirement::<pep508_rs::VerbatimUrl>::from_str(text) {
            Ok(r) => r,
            Err(err) => {
                // pep508_rs 0.9 panics while formatting its error under a multi-byte character
                // (`a[a éa`, found by proptest): its message is only used for ASCII lines.
                let message = if text.is_ascii() { err.to_string() } else { String::new() };
                let first =
                    message.lines().next().filter(|l| !l.is_empty()).unwrap_or("not a valid PEP 508 requirement");
                self.error(at, format!("invalid requirement {}: {first}", quoted(text)));
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
                    None => self.unpinned.push(Unpinned {
                        at: at.to_owned(),
                        name,
                        range: specs.to_string(),
                        text: text.to_owned(),
                        scope,
                    }),
                }
            }
            Some(VersionOrUrl::Url(url)) if !constraint => {
                let url = url.to_string();
                let source = source_of_url(&url);
                self.add_node(&name, &version_from_url(&url), source, scope);
            }
            Some(VersionOrUrl::Url(_)) => {}
            None if constraint => {}
            None => self.unpinned.push(Unpinned {
                at: at.to_owned(),
                name,
                range: String::new(),
                text: text.to_owned(),
                scope,
            }),
        }
    }

    /// pip expands `${VAR}` from the environment when it installs: the version cannot be known
    /// here, so the package is kept with the text as written (not exact: not evaluated).
    fn environment_variable(&mut self, at: &str, text: &str, constraint: bool, scope: Scope) {
        let name = super::pep508_name(text);
        let valid_name = !name.is_empty() && !name.ends_with(['.', '-', '_']) && !name.starts_with(['.', '-', '_']);
        if !valid_name {
            self.error(at, format!("invalid requirement {}: no package name", quoted(text)));
            return;
        }
        if constraint {
            return;
        }
        let rest = text.get(name.len()..).unwrap_or("").split(';').next().unwrap_or("").trim();
        self.add_node(name, rest, Source::Registry, scope);
        self.warnings.push(format!(
            "{at}: {} uses an environment variable: the installed version cannot be known",
            quoted(text)
        ));
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

    /// Unpinned requirements take a pin from a constraints file, or are kept with their range
    /// as the version (not exact, so not evaluated) and reported.
    fn resolve_unpinned(&mut self) {
        for item in std::mem::take(&mut self.unpinned) {
            let key = PackageName::new(Ecosystem::PyPI, &item.name);
            if let Some(version) = self.constraints.get(&key).cloned() {
                self.add_node(&item.name, &version, Source::Registry, item.scope);
            } else {
                self.add_node(&item.name, &item.range, Source::Registry, item.scope);
                self.warnings
                    .push(format!("{}: {} is not pinned: the installed version cannot be known", item.at, item.text));
            }
        }
    }
}

/// Why a requirement is refused before `pep508_rs` sees it: too long or nested too deep.
fn beyond_limits(text: &str) -> Option<String> {
    if text.len() > MAX_REQUIREMENT_LEN {
        return Some(format!("longer than {MAX_REQUIREMENT_LEN} bytes"));
    }
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_PAREN_DEPTH {
                    return Some(format!("nested more than {MAX_PAREN_DEPTH} parentheses deep"));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A requirement quoted for a message, cut to its first 120 characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
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

/// A PEP 508 identifier: ASCII letters and digits, with `.`, `-`, `_` inside.
fn is_pep508_identifier(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The extra names written after a requirement's name (`name[a, b]`), trimmed; a missing `]`
/// ends them at the end of the text.
fn extras_of(text: &str) -> impl Iterator<Item = &str> {
    let text = text.trim_start();
    let rest = text.get(super::pep508_name(text).len()..).unwrap_or("").trim_start();
    let inside = rest.strip_prefix('[').map_or("", |r| r.split(']').next().unwrap_or(""));
    inside.split(',').map(str::trim).filter(|e| !e.is_empty())
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
        assert!(matches!(classify("-é"), Line::UnknownOption("-é")));
        assert!(matches!(classify("-ihttps://pypi.org/simple"), Line::Ignored));
        assert_eq!(raw_pin("certifi == 2018.08.24 ; x"), Some("2018.08.24"));
        assert_eq!(raw_pin("a==1.*"), None);
        assert_eq!(arbitrary_equality("yolo===1.0"), Some(("yolo", "1.0")));
        assert_eq!(extras_of("r[r. ").collect::<Vec<_>>(), ["r."]);
        assert_eq!(extras_of("a[r- (r").collect::<Vec<_>>(), ["r- (r"]);
        assert!(is_pep508_identifier("socks") && is_pep508_identifier("a.b-c_d") && is_pep508_identifier("x"));
        assert!(!is_pep508_identifier("r.") && !is_pep508_identifier("r- (r") && !is_pep508_identifier("-a"));
        assert!(!is_pep508_identifier("é") && !is_pep508_identifier(""));
        assert_eq!(extras_of("requests [socks, security] ==2.0").collect::<Vec<_>>(), ["socks", "security"]);
        assert_eq!(extras_of("requests==2.0").count(), 0);
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
