//! The direct dependencies a function declares, read from its manifests (pure, over the texts
//! `bundle::code` read): package.json (`dependencies`, `optionalDependencies`,
//! `peerDependencies`, `devDependencies`, `scripts`), requirements*.txt, pyproject.toml
//! (PEP 621 `[project].dependencies`, Poetry), Pipfile, go.mod (`require`, `// indirect`) and
//! Cargo.toml (`[dependencies]`, target tables, `package = "..."` renames).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::bundle::code::SourceFile;
use crate::package::{Ecosystem, PackageName};
use crate::vocab::Diagnostic;

/// Why a declared dependency is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Prod,
    Peer,
    Dev,
    /// go.mod `// indirect`: required for the build list, not imported by the module itself.
    Indirect,
}

/// One declared direct dependency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Declared {
    /// The package's name as the registry knows it (PyPI names PEP 503 normalized).
    pub name: String,
    /// The name code uses for it where that is known from the manifest: a Cargo.toml key with
    /// `-` as `_` (a renamed dependency's key), npm and Go names as they are.
    pub code_name: String,
    pub role: Role,
    pub manifest: String,
    pub line: Option<u32>,
    /// Python: the module names the distribution installs (filled by the check from the vendored
    /// `top_level.txt`s and the table, once per function); empty for the other ecosystems.
    pub import_names: Vec<String>,
}

/// What the manifests of one function say.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub declared: Vec<Declared>,
    /// Words of package.json `scripts` (CLI names called from scripts).
    pub script_words: BTreeSet<String>,
    /// The manifests' texts for the "named in config" rule: (file, text).
    pub config_texts: Vec<(String, std::sync::Arc<str>)>,
    /// go.mod's own module path.
    pub go_module: Option<String>,
    /// The manifest the declarations come from, if any was found.
    pub found: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the declarations of `ecosystem` from the manifests.
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "file names are matched exactly as the tools that write them spell them"
)]
pub fn read(ecosystem: Ecosystem, files: &[SourceFile]) -> Manifests {
    let mut out = Manifests::default();
    for f in files {
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        // only the function's own manifests: those at its root (nested ones belong to other code)
        let at_root = !f.path.contains('/');
        match (ecosystem, name) {
            (Ecosystem::Npm, "package.json") if at_root => package_json(f, &mut out),
            (Ecosystem::PyPI, n) if at_root && n.starts_with("requirements") && n.ends_with(".txt") => {
                requirements(f, &mut out);
            }
            (Ecosystem::PyPI, "pyproject.toml") if at_root => pyproject(f, &mut out),
            (Ecosystem::PyPI, "Pipfile") if at_root => pipfile(f, &mut out),
            (Ecosystem::Go, "go.mod") if at_root => go_mod(f, &mut out),
            (Ecosystem::CratesIo, "Cargo.toml") if at_root => cargo_toml(f, &mut out),
            _ => {}
        }
        if name != "package.json" {
            out.config_texts.push((f.path.clone(), f.text.clone()));
        }
    }
    out.declared.sort();
    out.declared.dedup_by(|a, b| a.name == b.name && a.role == b.role);
    out
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> Option<u32> {
    let at = text.find(needle)?;
    u32::try_from(text.get(..at)?.matches('\n').count() + 1).ok()
}

/// The 1-based line of the first `"name"` in a text, for every wanted `name` at once: the text
/// between each two consecutive `"` (escaped or not) is looked up among the names, and newlines
/// are counted only up to each name's first quote. `"name"` occurs at a quote exactly when the
/// next quote closes `name`, so for a name without `"` this gives what [`line_of`] gives for
/// `"name"`, in one pass instead of one per dependency.
struct QuotedLines<'a> {
    first: foldhash::HashMap<&'a str, u32>,
    text: &'a str,
}

impl<'a> QuotedLines<'a> {
    fn new(text: &'a str, names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut wanted: foldhash::HashSet<&str> = names.into_iter().collect();
        let mut first = foldhash::HashMap::default();
        let mut line: u32 = 1;
        let mut counted = 0; // bytes before this offset are counted in `line`
        let mut quotes = memchr::memchr_iter(b'"', text.as_bytes()).peekable();
        while let Some(open) = quotes.next() {
            if wanted.is_empty() {
                break;
            }
            let Some(&close) = quotes.peek() else { break };
            let Some(inner) = text.get(open + 1..close) else { continue };
            if !wanted.remove(inner) {
                continue;
            }
            let newlines = memchr::memchr_iter(b'\n', text.as_bytes().get(counted..open).unwrap_or_default()).count();
            line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            counted = open;
            first.insert(inner, line);
        }
        QuotedLines { first, text }
    }

    fn line(&self, name: &str) -> Option<u32> {
        if name.contains('"') {
            return line_of(self.text, &format!("\"{name}\""));
        }
        self.first.get(name).copied()
    }
}

#[derive(Deserialize)]
#[expect(
    clippy::zero_sized_map_values,
    reason = "serde reads a JSON object as a map; its values (version ranges) are skipped, never built"
)]
struct PackageJsonWire {
    // only the names count: the version ranges are skipped, never built
    #[serde(default)]
    dependencies: BTreeMap<String, IgnoredAny>,
    #[serde(default, rename = "optionalDependencies")]
    optional: BTreeMap<String, IgnoredAny>,
    #[serde(default, rename = "peerDependencies")]
    peer: BTreeMap<String, IgnoredAny>,
    #[serde(default, rename = "devDependencies")]
    dev: BTreeMap<String, IgnoredAny>,
    #[serde(default)]
    scripts: BTreeMap<String, serde_json::Value>,
}

fn package_json(f: &SourceFile, out: &mut Manifests) {
    let wire: PackageJsonWire = match serde_json::from_str(&f.text) {
        Ok(w) => w,
        Err(e) => {
            let d = Diagnostic::at("unused/manifest", &f.path, format!("not a valid package.json: {e}"));
            out.diagnostics.push(d.with_line(u32::try_from(e.line()).ok()));
            return;
        }
    };
    out.found.push(f.path.clone());
    let groups = [
        (&wire.dependencies, Role::Prod),
        (&wire.optional, Role::Prod),
        (&wire.peer, Role::Peer),
        (&wire.dev, Role::Dev),
    ];
    let names = groups.iter().flat_map(|(deps, _)| deps.keys()).map(String::as_str);
    let lines = QuotedLines::new(&f.text, names);
    for (deps, role) in groups {
        for name in deps.keys() {
            let line = lines.line(name);
            out.declared.push(Declared {
                name: name.clone(),
                code_name: name.clone(),
                role,
                manifest: f.path.clone(),
                line,
                import_names: Vec::new(),
            });
        }
    }
    for script in wire.scripts.values().filter_map(serde_json::Value::as_str) {
        let words = script.split(|c: char| c.is_whitespace() || matches!(c, '&' | '|' | ';' | '(' | ')' | '"' | '\''));
        out.script_words.extend(words.filter(|w| !w.is_empty()).map(str::to_owned));
    }
}

/// The distribution name at the front of a PEP 508 requirement (`PyYAML>=6; python_version...`).
fn pep508_name(spec: &str) -> Option<&str> {
    let spec = spec.trim();
    let end = spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(spec.len());
    let name = spec.get(..end)?;
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric())).then_some(name)
}

fn push_pypi(out: &mut Manifests, f: &SourceFile, raw: &str, role: Role, line: Option<u32>) {
    let name = PackageName::new(Ecosystem::PyPI, raw).into_string();
    out.declared.push(Declared {
        code_name: name.clone(),
        name,
        role,
        manifest: f.path.clone(),
        line,
        import_names: Vec::new(),
    });
}

fn requirements(f: &SourceFile, out: &mut Manifests) {
    let file = f.path.rsplit('/').next().unwrap_or(&f.path);
    let role = if ["dev", "test", "lint", "doc"].iter().any(|w| file.contains(w)) { Role::Dev } else { Role::Prod };
    out.found.push(f.path.clone());
    for (i, raw) in f.text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or_default().trim();
        let line_no = u32::try_from(i + 1).ok();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('-') || line.contains("://") || line.starts_with('.') || line.starts_with('/') {
            // options, includes, URLs and paths: an `#egg=` name is all they can tell
            if let Some(egg) = line.split("#egg=").nth(1).and_then(pep508_name) {
                push_pypi(out, f, egg, role, line_no);
            }
            continue;
        }
        if let Some(name) = pep508_name(line) {
            push_pypi(out, f, name, role, line_no);
        }
    }
}

fn parse_toml(f: &SourceFile, out: &mut Manifests) -> Option<toml::Table> {
    match f.text.parse::<toml::Table>() {
        Ok(t) => Some(t),
        Err(e) => {
            out.diagnostics.push(Diagnostic::at("unused/manifest", &f.path, format!("not valid TOML: {e}")));
            None
        }
    }
}

fn pyproject(f: &SourceFile, out: &mut Manifests) {
    let Some(doc) = parse_toml(f, out) else { return };
    let project_deps = doc.get("project").and_then(|p| p.get("dependencies")).and_then(toml::Value::as_array);
    let poetry_deps = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(toml::Value::as_table);
    if project_deps.is_none() && poetry_deps.is_none() {
        return;
    }
    out.found.push(f.path.clone());
    for spec in project_deps.into_iter().flatten().filter_map(toml::Value::as_str) {
        if let Some(name) = pep508_name(spec) {
            push_pypi(out, f, name, Role::Prod, line_of(&f.text, spec));
        }
    }
    for name in poetry_deps.into_iter().flat_map(toml::Table::keys).filter(|k| *k != "python") {
        push_pypi(out, f, name, Role::Prod, line_of(&f.text, &format!("\n{name}")).map(|l| l + 1));
    }
}

fn pipfile(f: &SourceFile, out: &mut Manifests) {
    let Some(doc) = parse_toml(f, out) else { return };
    out.found.push(f.path.clone());
    for (table, role) in [("packages", Role::Prod), ("dev-packages", Role::Dev)] {
        for name in doc.get(table).and_then(toml::Value::as_table).into_iter().flat_map(toml::Table::keys) {
            push_pypi(out, f, name, role, line_of(&f.text, &format!("\n{name}")).map(|l| l + 1));
        }
    }
}

fn go_mod(f: &SourceFile, out: &mut Manifests) {
    out.found.push(f.path.clone());
    out.go_module = super::go::module_path(&f.text).map(str::to_owned);
    let mut in_block = false;
    for (i, raw) in f.text.lines().enumerate() {
        let indirect = raw.contains("// indirect");
        let line = raw.split("//").next().unwrap_or_default().trim();
        let spec = if in_block {
            if line.starts_with(')') {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        let mut words = spec.split_whitespace();
        if let (Some(path), Some(_version)) = (words.next(), words.next()) {
            let role = if indirect { Role::Indirect } else { Role::Prod };
            let path = path.trim_matches('"').to_owned();
            out.declared.push(Declared {
                name: path.clone(),
                code_name: path,
                role,
                manifest: f.path.clone(),
                line: u32::try_from(i + 1).ok(),
                import_names: Vec::new(),
            });
        }
    }
}

fn cargo_toml(f: &SourceFile, out: &mut Manifests) {
    let Some(doc) = parse_toml(f, out) else { return };
    out.found.push(f.path.clone());
    let mut tables: Vec<(&toml::Table, Role)> = Vec::new();
    for (key, role) in
        [("dependencies", Role::Prod), ("dev-dependencies", Role::Dev), ("build-dependencies", Role::Dev)]
    {
        tables.extend(doc.get(key).and_then(toml::Value::as_table).map(|t| (t, role)));
        let targets = doc.get("target").and_then(toml::Value::as_table).into_iter().flat_map(toml::Table::values);
        tables.extend(targets.filter_map(|t| t.get(key)).filter_map(toml::Value::as_table).map(|t| (t, role)));
    }
    for (table, role) in tables {
        for (key, value) in table {
            let package = value.get("package").and_then(toml::Value::as_str).unwrap_or(key);
            out.declared.push(Declared {
                name: package.to_owned(),
                code_name: key.replace('-', "_"),
                role,
                manifest: f.path.clone(),
                line: line_of(&f.text, &format!("\n{key}")).map(|l| l + 1),
                import_names: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.to_owned(), text: text.into() }
    }

    fn names(m: &Manifests, role: Role) -> Vec<(String, String, Option<u32>)> {
        m.declared.iter().filter(|d| d.role == role).map(|d| (d.name.clone(), d.code_name.clone(), d.line)).collect()
    }

    #[test]
    fn quoted_lines_agree_with_line_of() {
        let text = "{\n  \"name\": \"a\",\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"@s/b\": \"^2\"\n  },\n  \"x\": \"say \\\"c\\\" \\\"d\\\"\",\n  \"c\": \"\",\n  \"\": 1\n}";
        let names = ["name", "a", "@s/b", "dependencies", "c", "d", "", " ", "missing", "say \\", "1", ": "];
        let lines = QuotedLines::new(text, names);
        for name in names {
            assert_eq!(lines.line(name), line_of(text, &format!("\"{name}\"")), "{name:?}");
        }
        // one name at a time, and names given twice
        for name in names {
            assert_eq!(QuotedLines::new(text, [name, name]).line(name), line_of(text, &format!("\"{name}\"")));
        }
        for name in ["a\"b", "\"", "\\\"c\\"] {
            assert_eq!(lines.line(name), line_of(text, &format!("\"{name}\"")), "{name:?}");
        }
        assert_eq!(lines.line("a"), Some(2), "the first `\"a\"`, the value of name");
        assert_eq!(QuotedLines::new("", ["a"]).line("a"), None);
        assert_eq!(QuotedLines::new("\"a", ["a"]).line("a"), None);
    }

    #[test]
    fn go_mod_direct_and_indirect() {
        let m = read(
            Ecosystem::Go,
            &[file(
                "go.mod",
                "module example.com/fn\n\ngo 1.22\n\nrequire github.com/a/b v1.0.0\nrequire (\n\tgithub.com/c/d v1.2.0\n\tgithub.com/e/f v0.1.0 // indirect\n)\n",
            )],
        );
        assert_eq!(m.go_module.as_deref(), Some("example.com/fn"));
        let direct: Vec<_> = names(&m, Role::Prod).into_iter().map(|(n, _, l)| (n, l)).collect();
        assert_eq!(direct, [("github.com/a/b".to_owned(), Some(5)), ("github.com/c/d".to_owned(), Some(7))]);
        assert_eq!(names(&m, Role::Indirect).len(), 1);
    }

    #[test]
    fn cargo_renames_and_targets() {
        let text = "[package]\nname = \"f\"\n\n[dependencies]\nlambda_runtime = \"0.13\"\nserde-json = { package = \"serde_json\", version = \"1\" }\n\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n\n[dev-dependencies]\nproptest = \"1\"\n";
        let m = read(Ecosystem::CratesIo, &[file("Cargo.toml", text)]);
        let prod = names(&m, Role::Prod);
        assert_eq!(
            prod,
            [
                ("lambda_runtime".to_owned(), "lambda_runtime".to_owned(), Some(5)),
                ("libc".to_owned(), "libc".to_owned(), Some(9)),
                ("serde_json".to_owned(), "serde_json".to_owned(), Some(6)),
            ]
        );
    }

    #[test]
    fn requirements_and_pyproject() {
        let req = "# c\nPyYAML>=6\nrequests[socks]==2.31 ; python_version > '3.8'\n-r other.txt\ngit+https://x/y.git#egg=Some_Pkg\n";
        let py = "[project]\nname = \"x\"\ndependencies = [\"boto3>=1\", \"attrs\"]\n";
        let m = read(
            Ecosystem::PyPI,
            &[file("pyproject.toml", py), file("requirements.txt", req), file("requirements-dev.txt", "pytest\n")],
        );
        let prod: Vec<_> = names(&m, Role::Prod).into_iter().map(|(n, _, l)| (n, l)).collect();
        let want =
            [("attrs", Some(3)), ("boto3", Some(3)), ("pyyaml", Some(2)), ("requests", Some(3)), ("some-pkg", Some(5))];
        assert_eq!(prod, want.map(|(n, l)| (n.to_owned(), l)));
        assert_eq!(names(&m, Role::Dev).len(), 1);
    }

    #[test]
    fn bad_package_json_is_a_diagnostic_with_its_line() {
        let m = read(Ecosystem::Npm, &[file("package.json", "{\n\"dependencies\": {\"a\": }\n}")]);
        assert!(m.declared.is_empty());
        assert_eq!(m.diagnostics.len(), 1);
        assert_eq!(m.diagnostics[0].line, Some(2));
    }
}
