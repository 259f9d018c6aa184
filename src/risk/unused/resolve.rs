//! Which of a function's files are its code (the entry from the handler, then every file its
//! relative imports reach), and what each import names: a file of the function, a builtin, or a
//! package. Pure over the in-memory files.

use std::collections::{BTreeSet, VecDeque};
use std::sync::LazyLock;

use super::{Import, Language};

/// What one import names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A file of the function (by index in the file list), or an unresolved relative import.
    Local(Option<usize>),
    /// Node builtins, the Python standard library, Go's standard library, Rust's `std`.
    Builtin,
    /// A package: npm name (`@scope/name`), Python top-level module path (`google.protobuf.x`),
    /// Go import path, Rust crate name as written in code.
    Package(String),
}

// hashed: looked up for every import (a sorted set compares several names per lookup)
static NODE_BUILTINS: LazyLock<foldhash::HashSet<&'static str>> =
    LazyLock::new(|| data_lines(include_str!("../../../data/node-builtins.txt")));
static PYTHON_STDLIB: LazyLock<foldhash::HashSet<&'static str>> =
    LazyLock::new(|| data_lines(include_str!("../../../data/python-stdlib.txt")));

fn data_lines(text: &'static str) -> foldhash::HashSet<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

const JS_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "jsx", "ts", "tsx", "mts", "cts"];

/// The files a handler names (`src/app.handler` -> `src/app.{js,ts,...}`; Python
/// `pkg.mod.handler` -> `pkg/mod.py`), if one of them is among `files` (the source files'
/// paths relative to the function's root).
pub fn entry_files(language: Language, handler: &str, files: &[&str]) -> Vec<usize> {
    let base = handler.rsplit_once('.').map_or(handler, |(b, _)| b).trim_start_matches("./");
    let index = file_index(files);
    let candidates: Vec<String> = match language {
        Language::JavaScript => JS_EXTENSIONS.iter().map(|e| format!("{base}.{e}")).collect(),
        Language::Python => {
            let dotted = if base.contains('/') { base.to_owned() } else { base.replace('.', "/") };
            vec![format!("{dotted}.py"), format!("{dotted}/__init__.py")]
        }
        Language::Go | Language::Rust => Vec::new(),
    };
    candidates.iter().filter_map(|c| index.get(c.as_str()).copied()).take(1).collect()
}

/// Path -> index in `files` (looked up for every relative import and each name it may have).
pub type FileIndex<'a> = foldhash::HashMap<&'a str, usize>;

/// Path -> index in `files`.
pub fn file_index<'a>(files: &[&'a str]) -> FileIndex<'a> {
    files.iter().enumerate().map(|(i, f)| (*f, i)).collect()
}

/// Joins a relative path onto a folder, resolving `.` and `..`; `None` above the root.
/// Built in one buffer (looked up for every relative import).
fn join(dir: &str, rel: &str) -> Option<String> {
    let mut out = String::with_capacity(dir.len() + rel.len() + 1);
    let mut parts = 0usize;
    let push = |out: &mut String, parts: &mut usize, seg: &str| {
        if *parts > 0 {
            out.push('/');
        }
        out.push_str(seg);
        *parts += 1;
    };
    for seg in dir.split('/').filter(|p| !p.is_empty()) {
        push(&mut out, &mut parts, seg);
    }
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts = parts.checked_sub(1)?;
                // the segments hold no `/`: the last one starts after the last `/`
                out.truncate(out.rfind('/').unwrap_or(0));
            }
            s => push(&mut out, &mut parts, s),
        }
    }
    Some(out)
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// One import of a file with what it names, classified once for both following files and
/// finding packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub line: u32,
    /// TypeScript `import type` / `export type`.
    pub type_only: bool,
    pub target: Target,
}

/// Classifies every import of the file `from` (see [`target`]).
pub fn classify(
    language: Language,
    imports: &[Import],
    from: &str,
    files: &[&str],
    index: &FileIndex<'_>,
) -> Vec<Classified> {
    imports
        .iter()
        .map(|import| Classified {
            line: import.line,
            type_only: import.type_only,
            target: target(language, import, from, files, index),
        })
        .collect()
}

/// Classifies one import of the file `from` (index in `files`).
pub fn target(language: Language, import: &Import, from: &str, files: &[&str], index: &FileIndex<'_>) -> Target {
    let spec = import.spec.as_str();
    match language {
        Language::JavaScript => js_target(spec, from, index),
        Language::Python => python_target(spec, from, files, index),
        Language::Go => {
            if super::go::is_std(spec) {
                Target::Builtin
            } else {
                Target::Package(spec.to_owned())
            }
        }
        Language::Rust => Target::Package(spec.to_owned()),
    }
}

fn js_target(spec: &str, from: &str, index: &FileIndex<'_>) -> Target {
    if spec.starts_with('.') || spec.starts_with('/') {
        return Target::Local(join(dir_of(from), spec).and_then(|p| resolve_js(&p, index)));
    }
    // subpath imports (`#x`) and the usual path aliases (`@/x`, `~/x`) are the project's own files
    if spec.starts_with('#') || spec.starts_with("@/") || spec.starts_with('~') {
        return Target::Local(None);
    }
    if spec.starts_with("node:") || spec.starts_with("bun:") {
        return Target::Builtin;
    }
    let mut segs = spec.split('/');
    let first = segs.next().unwrap_or_default();
    let name = if first.starts_with('@') {
        segs.next().map_or_else(|| first.to_owned(), |s| format!("{first}/{s}"))
    } else {
        first.to_owned()
    };
    if NODE_BUILTINS.contains(spec) || NODE_BUILTINS.contains(first) {
        return Target::Builtin;
    }
    Target::Package(name)
}

/// The npm package a bare specifier names (`@scope/name/sub` -> `@scope/name`); `None` for a
/// builtin or a path.
pub fn package_of_spec(spec: &str) -> Option<String> {
    match js_target(spec, "", &FileIndex::default()) {
        Target::Package(name) => Some(name),
        Target::Local(_) | Target::Builtin => None,
    }
}

/// `./x` -> `x`, `x.js`, `x.ts`, ..., `x/index.js`, ...; a `.js` written for a `.ts` file too.
fn resolve_js(path: &str, index: &FileIndex<'_>) -> Option<usize> {
    if let Some(&i) = index.get(path) {
        return Some(i);
    }
    let stem = path
        .rsplit_once('.')
        .filter(|(_, ext)| ["js", "mjs", "cjs", "jsx"].contains(ext))
        .map_or(path, |(stem, _)| stem);
    // one buffer for every candidate name
    let mut candidate = String::with_capacity(path.len() + 12);
    let mut find = |base: &str, middle: &str| {
        JS_EXTENSIONS.iter().find_map(|e| {
            candidate.clear();
            candidate.push_str(base);
            candidate.push_str(middle);
            candidate.push_str(e);
            index.get(candidate.as_str()).copied()
        })
    };
    find(stem, ".").or_else(|| find(path, "/index."))
}

fn python_target(spec: &str, from: &str, files: &[&str], index: &FileIndex<'_>) -> Target {
    let dots = spec.len() - spec.trim_start_matches('.').len();
    if dots > 0 {
        let mut dir = dir_of(from).to_owned();
        for _ in 1..dots {
            dir = dir_of(&dir).to_owned();
        }
        return Target::Local(resolve_python(&dir, spec.trim_start_matches('.'), index));
    }
    let top = spec.split('.').next().unwrap_or_default();
    if PYTHON_STDLIB.contains(top) {
        return Target::Builtin;
    }
    // the code root and the importing file's folder are on sys.path (Lambda puts the code root there)
    for dir in ["", dir_of(from)] {
        // every file `resolve_python` could find is `top.py` or under `top/`: without one, it is
        // not asked
        let is_local_top = files.iter().any(|f| {
            let rest = if dir.is_empty() { Some(*f) } else { f.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) };
            rest.and_then(|r| r.strip_prefix(top)).is_some_and(|after| after == ".py" || after.starts_with('/'))
        });
        if (is_local_top || top.is_empty())
            && let Some(i) = resolve_python(dir, spec, index)
        {
            return Target::Local(Some(i));
        }
        if is_local_top {
            return Target::Local(None);
        }
    }
    Target::Package(spec.to_owned())
}

/// `a.b.c` under `dir`: `a/b/c.py`, `a/b/c/__init__.py`, else the longest existing prefix
/// (`c` may be a name defined in `a/b.py`). `""` is the package itself (`dir/__init__.py`).
fn resolve_python(dir: &str, dotted: &str, index: &FileIndex<'_>) -> Option<usize> {
    let parts: Vec<&str> = dotted.split('.').filter(|p| !p.is_empty()).collect();
    // `n = 0` is the package itself, only for a bare relative import (`from . import x`)
    let least = usize::from(!parts.is_empty());
    for n in (least..=parts.len()).rev() {
        let rel = parts.get(..n).unwrap_or_default().join("/");
        let base = match (dir.is_empty(), rel.is_empty()) {
            (true, _) => rel,
            (false, true) => dir.to_owned(),
            (false, false) => format!("{dir}/{rel}"),
        };
        let init = if base.is_empty() { "__init__.py".to_owned() } else { format!("{base}/__init__.py") };
        if let Some(&i) = index.get(format!("{base}.py").as_str()).or_else(|| index.get(init.as_str())) {
            return Some(i);
        }
    }
    None
}

/// The files reachable from `entries` by relative (local) imports; `imports[i]` holds the
/// classified imports of `files[i]`, filled from `scan(i)` when first needed (files never reached
/// are never scanned). `index` is [`file_index`] of `files`. Every `__init__.py` above a reached
/// Python file runs too.
pub fn reachable<'a>(
    language: Language,
    entries: &[usize],
    files: &[&str],
    index: &FileIndex<'_>,
    imports: &mut [Option<Vec<Classified>>],
    mut scan: impl FnMut(usize) -> &'a [Import],
) -> BTreeSet<usize> {
    let mut seen: BTreeSet<usize> = BTreeSet::new();
    let mut queue: VecDeque<usize> = entries.iter().copied().collect();
    while let Some(i) = queue.pop_front() {
        if !seen.insert(i) {
            continue;
        }
        let Some(&file) = files.get(i) else { continue };
        let list: &[Classified] = match imports.get_mut(i) {
            Some(slot) => slot.get_or_insert_with(|| classify(language, scan(i), file, files, index)),
            None => &[],
        };
        let mut next: Vec<usize> = list
            .iter()
            .filter_map(|c| match c.target {
                Target::Local(Some(j)) => Some(j),
                _ => None,
            })
            .collect();
        if language == Language::Python {
            let mut dir = dir_of(file);
            while !dir.is_empty() {
                next.extend(index.get(format!("{dir}/__init__.py").as_str()));
                dir = dir_of(dir);
            }
        }
        queue.extend(next.into_iter().filter(|j| !seen.contains(j)));
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`join`] as a list of segments (the reference).
    fn join_by_segments(dir: &str, rel: &str) -> Option<String> {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for seg in rel.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                s => parts.push(s),
            }
        }
        Some(parts.join("/"))
    }

    proptest::proptest! {
        #[test]
        fn join_is_the_segment_join(dir in "(a|bc|/|x\\.js){0,4}", rel in "(\\.|\\.\\.|/|a|d\\.ts){0,8}") {
            proptest::prop_assert_eq!(join(&dir, &rel), join_by_segments(&dir, &rel));
        }
    }

    #[test]
    fn join_resolves_dots() {
        assert_eq!(join("src/lib", "../x").as_deref(), Some("src/x"));
        assert_eq!(join("src", "./a/./b").as_deref(), Some("src/a/b"));
        assert_eq!(join("src", "../../x"), None);
        assert_eq!(join("", "./x").as_deref(), Some("x"));
        assert_eq!(join("a", "..").as_deref(), Some(""));
    }

    fn files<'a>(paths: &[&'a str]) -> Vec<&'a str> {
        paths.to_vec()
    }

    fn imp(spec: &str) -> Import {
        Import { spec: spec.to_owned(), line: 1, type_only: false }
    }

    #[test]
    fn js_targets() {
        let fs = files(&["src/app.ts", "src/lib/index.js", "src/util.ts"]);
        let index = file_index(&fs);
        let t = |s: &str| target(Language::JavaScript, &imp(s), "src/app.ts", &fs, &index);
        assert_eq!(t("./lib"), Target::Local(Some(1)));
        assert_eq!(t("./util.js"), Target::Local(Some(2)));
        assert_eq!(t("../nope"), Target::Local(None));
        assert_eq!(t("fs/promises"), Target::Builtin);
        assert_eq!(t("node:test"), Target::Builtin);
        assert_eq!(t("@aws-sdk/client-s3/dist"), Target::Package("@aws-sdk/client-s3".to_owned()));
        assert_eq!(t("lodash/get"), Target::Package("lodash".to_owned()));
        assert_eq!(entry_files(Language::JavaScript, "src/app.handler", &fs), [0]);
    }

    #[test]
    fn python_targets_and_reach() {
        let fs = files(&["app.py", "pkg/__init__.py", "pkg/mod.py", "pkg/sub/x.py", "other.py"]);
        let index = file_index(&fs);
        let t = |s: &str, from: &str| target(Language::Python, &imp(s), from, &fs, &index);
        assert_eq!(t("pkg.mod", "app.py"), Target::Local(Some(2)));
        assert_eq!(t("pkg.mod.name", "app.py"), Target::Local(Some(2)));
        assert_eq!(t(".mod", "pkg/sub/x.py"), Target::Local(None));
        assert_eq!(t("..mod", "pkg/sub/x.py"), Target::Local(Some(2)));
        assert_eq!(t("os.path", "app.py"), Target::Builtin);
        assert_eq!(t("yaml", "app.py"), Target::Package("yaml".to_owned()));
        let imports = [vec![imp("pkg.sub.x")], vec![], vec![], vec![], vec![]];
        let entries = entry_files(Language::Python, "app.lambda_handler", &fs);
        let mut slots = vec![None; imports.len()];
        let mut scanned = Vec::new();
        let scan = |i: usize| -> &[Import] {
            scanned.push(i);
            imports.get(i).map_or(&[], Vec::as_slice)
        };
        assert_eq!(reachable(Language::Python, &entries, &fs, &index, &mut slots, scan), BTreeSet::from([0, 1, 3]));
        assert_eq!(scanned, [0, 3, 1], "only the reached files are scanned, once each");
    }
}
