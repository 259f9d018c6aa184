//! The written dependency direction between the top-level modules of `src/`, checked: every
//! `crate::X` path in the library's code (not in its `#[cfg(test)]` items, whose inputs may come
//! from anywhere) must name a module its own module may import. [`ALLOWED`] is the table; it is
//! Markdown so it can be pasted into the architecture document as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::repo_root;

/// Which top-level modules each top-level module of `src/` may import (`crate::X`). A module
/// may always use itself. Lower rows never import higher ones, except where the table says so.
pub const ALLOWED: &str = "\
| module | may import | what it is |
|---|---|---|
| `vocab` | nothing | severity levels, codes, ids, diagnostics: the shared vocabulary |
| `package` | nothing | ecosystems, package names, packages |
| `zip_limits` | nothing | the bounds every zip read keeps (entries, sizes, ratio) |
| `clock` | nothing | the one clock (`BUNDLEGUARD_NOW` or the system time) |
| `http` | nothing | the one HTTP client setup (TLS roots, gzip, timeouts) |
| `vex` | `package`, `vocab` | OpenVEX documents (policy input, report output) |
| `version` | `package`, `vocab` | per-ecosystem version parsing and ordering |
| `graph` | `package`, `vocab` | dependency graphs of packages |
| `lockfile` | `vocab`, `package`, `version`, `graph` | lockfile parsers |
| `advisory` | `vocab`, `package`, `version`, `graph`, `zip_limits`, `clock`, `http` | OSV records, the SQLite store, sync, opening the store for a scan |
| `registry` | `vocab`, `package`, `version`, `graph`, `clock`, `http`, `advisory` | package metadata clients; their cache lives in the advisory store's file |
| `bundle` | `vocab`, `package`, `version`, `graph`, `zip_limits`, `lockfile` | discovery of functions and layers, artifacts |
| `finding` | `vocab`, `package`, `version`, `graph` | judged findings and the scan result the reports render |
| `matcher` | `vocab`, `package`, `version`, `graph`, `advisory` | OSV range semantics, candidates from the store |
| `risk` | `vocab`, `package`, `version`, `graph`, `zip_limits`, `clock`, `lockfile`, `advisory`, `registry`, `bundle`, `finding` | the assess stage: one module per check family |
| `policy` | `vocab`, `package`, `version`, `graph`, `clock`, `vex`, `registry`, `bundle`, `finding`, `risk` | the judge stage: bundleguard.toml, ignores, baseline, verdict |
| `inventory` | `vocab`, `package`, `version`, `graph`, `clock`, `advisory`, `registry`, `matcher`, `finding`, `policy` | recorded bundles and their re-check (what is new since the last one, remembered) |
| `scan` | `vocab`, `package`, `version`, `graph`, `zip_limits`, `clock`, `vex`, `lockfile`, `advisory`, `registry`, `bundle`, `finding`, `matcher`, `risk`, `policy`, `inventory` | the pipeline: discover, extract, match, assess, judge, record; and the scheduled sync-refresh-recheck job |
| `report` | `vocab`, `package`, `graph`, `vex`, `finding` | formats only: never the store, the scan or the CLI |
| `cli` | anything | arguments to options, results to reports |
";

/// Imports that break [`ALLOWED`] on `main` today, each with where it is and what would fix
/// it. Listed so the test passes while they are visible; an entry that no longer occurs fails
/// the test, so the list only shrinks.
const KNOWN_VIOLATIONS: &[(&str, &str, &str)] = &[(
    "policy",
    "report",
    "src/policy.rs: Baseline::from_json_report checks report::JSON_SCHEMA_VERSION; the schema \
         version of the JSON report could live in `finding` (or the baseline reader in `report`)",
)];

/// The table as module -> allowed imports (`None`: anything).
fn allowed() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let mut out = BTreeMap::new();
    for row in ALLOWED.lines().skip(2) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let [_, module, imports, ..] = cells.as_slice() else { panic!("bad table row {row:?}") };
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split(',').map(|s| s.trim().trim_matches('`').to_owned()).filter(|s| !s.is_empty()).collect()
        };
        let rule = match *imports {
            "anything" => None,
            "nothing" => Some(BTreeSet::new()),
            list => Some(names(list)),
        };
        out.insert(module.trim_matches('`').to_owned(), rule);
    }
    out
}

#[test]
fn use_crate_paths_follow_the_written_direction() {
    let rules = allowed();
    let src = repo_root().join("src");
    let modules = top_level_modules(&src);
    let unlisted: Vec<&String> = modules.iter().filter(|m| !rules.contains_key(m.as_str())).collect();
    assert!(unlisted.is_empty(), "top-level modules missing from the ALLOWED table: {unlisted:?}");
    let gone: Vec<&String> = rules.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(gone.is_empty(), "modules in the ALLOWED table that src/ no longer has: {gone:?}");
    let imports = crate_imports(&src);
    let mut broken = Vec::new();
    let mut known_seen = BTreeSet::new();
    for ((from, to), wheres) in &imports {
        if from == to || !modules.contains(to) {
            continue;
        }
        let ok = rules[from].as_ref().is_none_or(|set| set.contains(to));
        if ok {
            continue;
        }
        if KNOWN_VIOLATIONS.iter().any(|(f, t, _)| f == from && t == to) {
            known_seen.insert((from.as_str(), to.as_str()));
            continue;
        }
        broken.push(format!("{from} imports {to}: {}", wheres.iter().cloned().collect::<Vec<_>>().join(", ")));
    }
    assert!(broken.is_empty(), "imports against the written direction:\n{}", broken.join("\n"));
    for (from, to, why) in KNOWN_VIOLATIONS {
        assert!(
            known_seen.contains(&(*from, *to)),
            "{from} -> {to} no longer occurs: remove it from KNOWN_VIOLATIONS ({why})"
        );
    }
}

/// Issue 9: the `scan` and `sync` handlers only turn arguments into options and render the
/// result; the store, the policy and the inventory's backends are the library's business.
const CLI_EDGE: &[(&str, &[&str])] = &[
    ("cli/scan.rs", &["advisory::store", "policy", "inventory::sqlite"]),
    ("cli/sync.rs", &["advisory::store", "policy", "inventory::sqlite"]),
];

/// Uses against [`CLI_EDGE`] on `main` today (file, path prefix, what would fix it); an entry
/// that no longer occurs fails the test.
const CLI_EDGE_KNOWN: &[(&str, &str, &str)] = &[];

#[test]
fn the_scan_and_sync_handlers_stay_at_the_edge() {
    let src = repo_root().join("src");
    let mut broken = Vec::new();
    let mut known_seen = BTreeSet::new();
    for (file, forbidden) in CLI_EDGE {
        let text = fs_err::read_to_string(src.join(file)).expect("a handler");
        for (path, line) in paths_in(&text) {
            for prefix in *forbidden {
                if path != *prefix && !path.starts_with(&format!("{prefix}::")) {
                    continue;
                }
                if CLI_EDGE_KNOWN.iter().any(|(f, p, _)| f == file && p == prefix) {
                    known_seen.insert((*file, *prefix));
                } else {
                    broken.push(format!("src/{file}:{line}: crate::{path}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "the CLI edge reaches into the library:\n{}", broken.join("\n"));
    for (file, prefix, why) in CLI_EDGE_KNOWN {
        assert!(
            known_seen.contains(&(*file, *prefix)),
            "{file} no longer uses {prefix}: remove it from CLI_EDGE_KNOWN ({why})"
        );
    }
}

#[test]
fn the_checker_sees_through_comments_strings_groups_and_tests() {
    let code = r##"
//! Uses [`crate::cli`] in a doc comment only.
use crate::{package::Package, graph::{self, DepGraph}};
use crate::vocab::Level;
/* crate::scan in a block comment */
fn f() -> &'static str { let _ = crate::version::Version::parse; "crate::report" }
const C: char = '{';
const R: &str = r#"crate::store" { "#;
#[cfg(test)]
mod tests {
    use crate::cli;
    fn g() { let _ = "}"; }
}
fn h() { crate::lockfile::detect(); }
"##;
    let got: BTreeSet<String> = paths_in(code).into_iter().map(|(path, _)| path).collect();
    let want = [
        "graph::DepGraph",
        "graph::self",
        "lockfile::detect",
        "package::Package",
        "version::Version::parse",
        "vocab::Level",
    ];
    assert_eq!(got, want.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>());
    let mut nested = Vec::new();
    use_tree("a::{b, c::{d, e::*}, f,}; x", "", &mut nested);
    assert_eq!(nested, ["a::b", "a::c::d", "a::c::e::*", "a::f"]);
}

/// The top-level modules: `src/<name>.rs` and `src/<name>/`, without the crate roots.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    fs_err::read_dir(src)
        .expect("src/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|name| name != "lib" && name != "main")
        .collect()
}

/// (importing module, imported module) -> the `file:line`s where it happens.
fn crate_imports(src: &Path) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).expect("under src").to_path_buf();
        let first = rel.components().next().expect("a path").as_os_str().to_string_lossy().into_owned();
        if first == "lib.rs" || first == "main.rs" {
            continue;
        }
        let from = first.trim_end_matches(".rs").to_owned();
        let text = fs_err::read_to_string(&file).expect("a source file");
        for (path, line) in paths_in(&text) {
            out.entry((from.clone(), head(&path).to_owned()))
                .or_default()
                .insert(format!("src/{}:{line}", rel.display()));
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs_err::read_dir(dir).expect("src/").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Every `crate::` path outside comments, strings and `#[cfg(test)]` items, `use` groups
/// flattened (`crate::a::{b, c::d}` gives `a::b` and `a::c::d`), with its line.
fn paths_in(text: &str) -> Vec<(String, usize)> {
    let code = without_test_items(&code_only(text));
    let bytes = code.as_bytes();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find("crate::") {
        let at = from + found;
        from = at + "crate::".len();
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || matches!(bytes[at - 1], b'_' | b'$')) {
            continue;
        }
        let mut paths = Vec::new();
        use_tree(&code[from..], "", &mut paths);
        out.extend(paths.into_iter().map(|p| (p, line_of(at))));
    }
    out.retain(|(path, _)| !path.is_empty() && path != "self");
    out
}

/// The top-level module a path starts with.
fn head(path: &str) -> &str {
    path.split("::").next().unwrap_or(path)
}

/// Reads one use tree (`a::b`, `a::{b, c::{d}}`, `a::*`) at the start of `text`, pushing the
/// full paths under `prefix`; returns the length read.
fn use_tree(text: &str, prefix: &str, out: &mut Vec<String>) -> usize {
    let skip = |i: usize| i + text[i..].len() - text[i..].trim_start().len();
    let mut path = prefix.to_owned();
    let mut i = skip(0);
    loop {
        if text[i..].starts_with('{') {
            i += 1;
            loop {
                i = skip(i);
                if text[i..].starts_with('}') {
                    return i + 1;
                }
                i += use_tree(&text[i..], &path, out);
                i = skip(i);
                if text[i..].starts_with(',') {
                    i += 1;
                } else {
                    return if text[i..].starts_with('}') { i + 1 } else { i };
                }
            }
        }
        let name = if text[i..].starts_with('*') { "*" } else { identifier(&text[i..]) };
        if name.is_empty() {
            out.push(path);
            return i;
        }
        path = if path.is_empty() { name.to_owned() } else { format!("{path}::{name}") };
        i += name.len();
        if text[i..].starts_with("::") {
            i = skip(i + 2);
        } else {
            out.push(path);
            return i;
        }
    }
}

fn identifier(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// `text` with comments and the contents of string and char literals blanked (newlines kept),
/// so braces and `crate::` can be found by plain search.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, s: &[u8]| out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }));
    while i < b.len() {
        let rest = &b[i..];
        let len = if rest.starts_with(b"//") {
            rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())
        } else if rest.starts_with(b"/*") {
            block_comment_len(rest)
        } else if let Some(len) = raw_string_len(rest, i > 0 && is_ident(b[i - 1])) {
            len
        } else if rest[0] == b'"' {
            quoted_len(rest, b'"')
        } else if rest[0] == b'\'' {
            char_literal_len(rest).unwrap_or(0)
        } else {
            0
        };
        if len == 0 {
            out.push(rest[0]);
            i += 1;
        } else {
            blank(&mut out, &rest[..len]);
            i += len;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: only whole literals and comments become spaces")
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn block_comment_len(b: &[u8]) -> usize {
    let (mut depth, mut i) = (0, 0);
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// `r"..."`, `r#"..."#`, `br"..."` (not when the `r` ends an identifier).
fn raw_string_len(b: &[u8], after_ident: bool) -> Option<usize> {
    if after_ident {
        return None;
    }
    let start = if b.starts_with(b"br") {
        2
    } else if b.starts_with(b"r") {
        1
    } else {
        return None;
    };
    let hashes = b[start..].iter().take_while(|&&c| c == b'#').count();
    if b.get(start + hashes) != Some(&b'"') {
        return None;
    }
    let body = start + hashes + 1;
    let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
    let end =
        b[body..].windows(close.len()).position(|w| w == close.as_slice()).map_or(b.len(), |p| body + p + close.len());
    Some(end)
}

/// A `"..."` string with escapes, from its opening quote.
fn quoted_len(b: &[u8], quote: u8) -> usize {
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// A char literal (`'x'`, `'\n'`, `'\u{7f}'`, `'{'`); `None` for a lifetime.
fn char_literal_len(b: &[u8]) -> Option<usize> {
    if b.get(1) == Some(&b'\\') {
        return b[2..].iter().position(|&c| c == b'\'').map(|p| p + 3);
    }
    let text = std::str::from_utf8(&b[1..b.len().min(6)])
        .unwrap_or_else(|e| std::str::from_utf8(&b[1..=e.valid_up_to()]).expect("valid prefix"));
    let c = text.chars().next()?;
    (text[c.len_utf8()..].starts_with('\'')).then_some(1 + c.len_utf8() + 1)
}

/// `code` without the items that follow a `#[cfg(test)]` attribute.
fn without_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let len = item_len(item);
        out.extend(item[..len].chars().filter(|&c| c == '\n'));
        rest = &item[len..];
    }
    out.push_str(rest);
    out
}

/// Length of the item starting at an attribute: up to its `;` or its matching `}`.
fn item_len(item: &str) -> usize {
    let mut depth = 0usize;
    let mut brackets = 0usize;
    for (i, c) in item.char_indices() {
        match c {
            '[' => brackets += 1,
            ']' => brackets = brackets.saturating_sub(1),
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            ';' if depth == 0 && brackets == 0 => return i + 1,
            _ => {}
        }
    }
    item.len()
}
