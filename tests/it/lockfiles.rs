//! Lockfile parsers end to end: snapshots of the trees of small real and hand-written fixtures
//! (one per edge case), and every Python, Go and Cargo lockfile of the shared corpus.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bundleguard::graph::DepGraph;
use bundleguard::lockfile::{self, LockfileFormat, ParseInput};
use bundleguard::package::Scope;

use crate::common;

/// One line per node (`id: name version scope source [root]`), then edges and warnings.
fn render(graph: &DepGraph, warnings: &[String]) -> String {
    let mut out = String::new();
    for (id, p) in graph.nodes().iter().enumerate() {
        let root = if graph.is_root(id) { " root" } else { "" };
        let _ =
            writeln!(out, "{id}: {} {} {} {} {:?}{root}", p.ecosystem, p.name, p.version, p.scope.as_str(), p.source);
    }
    for (a, b) in graph.edges() {
        let _ = writeln!(out, "{a} -> {b}");
    }
    for w in warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// Loads `fixtures/<rel>` and renders it (or its error), with the fixtures folder stripped.
fn load_fixture(rel: &str) -> String {
    let path = common::fixture(rel);
    let text = match lockfile::load(&path) {
        Ok(lock) => render(&lock.graph, &lock.warnings),
        Err(err) => format!("error: {err}\n"),
    };
    let prefix = format!("{}/", common::repo_root().join("fixtures").display());
    text.replace(&prefix, "")
}

macro_rules! fixture_snapshots {
    ($($test:ident => $rel:literal,)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(load_fixture($rel));
        }
    )*};
}

fixture_snapshots! {
    requirements_includes_constraints_hashes_markers => "pypi/requirements-includes/requirements.txt",
    requirements_include_cycle => "pypi/requirements-cycle/requirements.txt",
    requirements_dev_file_includes_prod => "pypi/requirements-dev-file/requirements-dev.txt",
    requirements_invalid_not_utf8 => "pypi/invalid-not-utf8/requirements.txt",
    poetry_v1_category_optional_git => "pypi/poetry-v1-category/poetry.lock",
    poetry_v2_0_scopes_from_pyproject => "pypi/poetry-v2.0-pyproject/poetry.lock",
    poetry_v2_1_groups => "pypi/poetry-v2.1-groups/poetry.lock",
    poetry_invalid_truncated => "pypi/invalid-truncated-poetry/poetry.lock",
    pipfile_default_develop => "pypi/pipfile-default-develop/Pipfile.lock",
    pipfile_invalid_json => "pypi/invalid-pipfile-json/Pipfile.lock",
    uv_extras => "pypi/uv-extras/uv.lock",
    uv_project_pyproject => "pypi/uv-project-pyproject/uv.lock",
    uv_dev_group_git_requested_extra => "pypi/uv-dev-git/uv.lock",
    pdm_dev_group => "pypi/pdm-dev-group/pdm.lock",
    pdm_extras_entries_merged => "pypi/pdm-extras-entries/pdm.lock",
    go_v1_17_indirect => "go/v1.17-indirect/go.mod",
    go_v1_16_go_sum => "go/v1.16-go-sum/go.mod",
    go_toolchain => "go/toolchain/go.mod",
    go_replace_one => "go/replace-one/go.mod",
    go_replace_exclude_local_path => "go/replace-exclude/go.mod",
    go_invalid_unclosed_block => "go/invalid-unclosed-block/go.mod",
    cargo_v3_workspace => "cargo/v3-workspace/Cargo.lock",
    cargo_v4_git_path_duplicates => "cargo/v4-git-path-duplicates/Cargo.lock",
    cargo_invalid_not_toml => "cargo/invalid-not-toml/Cargo.lock",
    // Regressions for panics fuzzing found in pep508_rs and cargo-lock.
    requirements_invalid_name_trailing_dash => "pypi/invalid-name-trailing-dash/requirements.txt",
    cargo_invalid_checksum_non_ascii => "cargo/invalid-checksum-non-ascii/Cargo.lock",
}

#[test]
fn cargo_v1_metadata_parses() {
    let lock = lockfile::load(&common::fixture("cargo/v1-metadata/Cargo.lock")).expect("parses");
    assert_eq!(lock.graph.len(), 75);
    let roots: Vec<_> = lock.graph.roots().iter().map(|&r| lock.graph.node(r).name.to_string()).collect();
    assert!(roots.contains(&"ripgrep".to_owned()), "{roots:?}");
}

#[test]
fn parsers_never_panic_on_truncations() {
    let files = [
        ("pypi/poetry-v1-category/poetry.lock", LockfileFormat::PoetryLock),
        ("pypi/uv-dev-git/uv.lock", LockfileFormat::UvLock),
        ("pypi/pdm-extras-entries/pdm.lock", LockfileFormat::PdmLock),
        ("pypi/pipfile-default-develop/Pipfile.lock", LockfileFormat::PipfileLock),
        ("pypi/requirements-includes/requirements.txt", LockfileFormat::Requirements),
        ("go/replace-exclude/go.mod", LockfileFormat::GoMod),
        ("cargo/v4-git-path-duplicates/Cargo.lock", LockfileFormat::CargoLock),
    ];
    for (rel, format) in files {
        let bytes = fs_err::read(common::fixture(rel)).expect("fixture");
        for cut in 0..bytes.len() {
            let input = ParseInput { path: Path::new(rel), bytes: &bytes[..cut], read_sibling: &|_| None };
            let _ = lockfile::parse(format, &input);
        }
    }
}

// ---- the shared corpus ----

/// A corpus lockfile of one of this module's formats; `.txt` files under `requirements-txt/`
/// are requirements files whatever their name (they include each other by name).
fn corpus_format(corpus: &Path, path: &Path) -> Option<LockfileFormat> {
    let in_requirements = path.strip_prefix(corpus).is_ok_and(|rel| rel.starts_with("requirements-txt"));
    let format = if in_requirements && path.extension().is_some_and(|e| e == "txt") {
        LockfileFormat::Requirements
    } else {
        lockfile::detect(path)?
    };
    let mine = !matches!(
        format,
        LockfileFormat::NpmPackageLock
            | LockfileFormat::NpmShrinkwrap
            | LockfileFormat::YarnLock
            | LockfileFormat::PnpmLock
    );
    mine.then_some(format)
}

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Requirements files of the corpus that pip refuses too: an error is the right answer.
const PIP_REFUSES: &[(&str, &str)] = &[
    ("osv-scalibr-fixtures-requirements/example.txt", "`-c constraints.txt` names a file that is not there"),
    ("osv-scalibr-fixtures-requirements/invalid.txt", "`asdf==` and other invalid lines"),
    ("osv-scalibr-fixtures-requirements/per_req_options.txt", "text after a version before the options"),
    ("aws-lambda-builders-python-uv/requirements-invalid.txt", "`boto3=1.19.99`: no `=` operator"),
];

/// Files the corpus marks as intentionally malformed, and requirements files pip refuses.
fn expected_to_fail(path: &Path) -> bool {
    let text = path.display().to_string();
    text.contains("fixture-not-toml")
        || text.contains("fixture-not-json")
        || PIP_REFUSES.iter().any(|(file, _)| text.ends_with(file))
}

#[test]
#[ignore = "needs ../shared: the lockfile corpus"]
fn shared_corpus_lockfiles_parse_with_the_right_counts() {
    let shared = common::shared();
    let corpus = shared.join("corpus");
    let mut files = Vec::new();
    walk_files(&corpus, &mut files);
    files.sort();
    let mut checked = 0;
    let mut unexpected = Vec::new();
    for path in &files {
        let Some(format) = corpus_format(&corpus, path) else {
            continue;
        };
        let result = lockfile::load_as(path, format);
        if expected_to_fail(path) {
            assert!(result.is_err(), "{} should fail", path.display());
            continue;
        }
        let lock = match result {
            Ok(lock) => lock,
            Err(e) => {
                unexpected.push(e.to_string());
                continue;
            }
        };
        let text = fs_err::read_to_string(path).expect("utf-8 corpus file");
        check_counts(path, format, &text, &lock.graph, &lock.warnings);
        check_direct(path, format, &lock.graph);
        checked += 1;
    }
    assert!(unexpected.is_empty(), "{} corpus files failed:\n{}", unexpected.len(), unexpected.join("\n"));
    assert!(checked > 300, "only {checked} corpus lockfiles found");
}

/// How each format's package count is made, independently of the parser:
/// - poetry.lock, uv.lock, Cargo.lock: `[[package]]` tables;
/// - pdm.lock: `[[package]]` tables minus the `extras = [...]` repeats of a package;
/// - Pipfile.lock: distinct (name, version) over `default` and `develop`;
/// - go.mod: `require` entries (lines inside `require (` blocks and `require x v` lines), plus
///   `stdlib` when there is a `go` directive, minus excluded ones, plus go.sum-only modules for
///   go < 1.17 (which the parser announces in a warning);
/// - requirements: distinct requirement lines (not options) of a file without includes equal
///   the nodes (unpinned ones are nodes too, with their range as the version) plus the lines
///   reported as naming no package (an invalid line makes the whole file an error).
fn check_counts(path: &Path, format: LockfileFormat, text: &str, graph: &DepGraph, warnings: &[String]) {
    let tables = text.lines().filter(|l| l.trim() == "[[package]]").count();
    let want = match format {
        LockfileFormat::PoetryLock | LockfileFormat::UvLock | LockfileFormat::CargoLock => tables,
        LockfileFormat::PdmLock => tables - text.lines().filter(|l| l.starts_with("extras = [")).count(),
        LockfileFormat::PipfileLock => pipfile_count(text),
        LockfileFormat::GoMod => go_count(text, warnings),
        LockfileFormat::Requirements => {
            let Some(lines) = requirement_lines(text) else {
                return;
            };
            // Distinct problems: the same unpinned line twice is one line of the set.
            let problems = warnings
                .iter()
                .filter(|w| w.contains("names no package"))
                .filter_map(|w| w.split_once(": ").map(|(_, rest)| rest))
                .collect::<BTreeSet<_>>()
                .len();
            assert_eq!(graph.len() + problems, lines, "{}", path.display());
            return;
        }
        _ => return,
    };
    assert_eq!(graph.len(), want, "{}", path.display());
}

fn pipfile_count(text: &str) -> usize {
    let json: serde_json::Value = serde_json::from_str(text).expect("json");
    let mut set = BTreeSet::new();
    for section in ["default", "develop"] {
        if let Some(map) = json.get(section).and_then(|v| v.as_object()) {
            for (name, entry) in map {
                let version = entry.get("version").and_then(|v| v.as_str()).unwrap_or("");
                set.insert((name.to_lowercase().replace('_', "-"), version.to_owned()));
            }
        }
    }
    set.len()
}

fn go_count(text: &str, warnings: &[String]) -> usize {
    let mut in_block = false;
    let mut requires = 0;
    let mut go_directive = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if line.starts_with("go ") {
            go_directive = true;
        }
        if line == "require (" {
            in_block = true;
        } else if in_block && line == ")" {
            in_block = false;
        } else if (in_block && !line.is_empty()) || line.starts_with("require ") {
            requires += 1;
        }
    }
    let from_sum: usize = warnings
        .iter()
        .filter_map(|w| w.split(" module(s) taken from go.sum").next()?.rsplit(": ").next()?.parse::<usize>().ok())
        .sum();
    let excluded = warnings.iter().filter(|w| w.contains("is excluded")).count();
    requires + usize::from(go_directive) + from_sum - excluded
}

/// Distinct requirements (text before any `;` marker) of a file with no include or continuation.
fn requirement_lines(text: &str) -> Option<usize> {
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.starts_with("-r") || line.starts_with("-c") || line.ends_with('\\') {
            return None;
        }
        if line.is_empty() || line.starts_with('#') || (line.starts_with('-') && !line.starts_with("-e")) {
            continue;
        }
        // Markers split one pin into lines that install the same version: one node.
        let key: String = line.split(';').next().unwrap_or("").split_whitespace().collect();
        set.insert(key.to_lowercase());
    }
    Some(set.len())
}

/// Direct dependencies against the manifest beside the lockfile, where there is one.
fn check_direct(path: &Path, format: LockfileFormat, graph: &DepGraph) {
    let dir = path.parent().expect("parent");
    let root_names: BTreeSet<String> = graph.roots().iter().map(|&r| graph.node(r).name.to_string()).collect();
    match format {
        LockfileFormat::CargoLock => {
            let Ok(text) = fs_err::read_to_string(dir.join("Cargo.toml")) else {
                return;
            };
            let toml: toml::Table = toml::from_str(&text).expect("Cargo.toml");
            if let Some(name) = toml.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
                assert!(root_names.contains(name), "{}: {name} not a root", path.display());
            }
        }
        LockfileFormat::GoMod => {
            let text = fs_err::read_to_string(path).expect("go.mod");
            let direct = text
                .lines()
                .filter(|l| {
                    let l = l.trim();
                    l.contains(" v")
                        && !l.contains("// indirect")
                        && !l.starts_with("replace")
                        && !l.starts_with("//")
                        && !l.starts_with("module")
                        && !l.starts_with("exclude")
                        && !l.contains("=>")
                })
                .count();
            // stdlib is a root too when a `go` directive gives its version.
            let stdlib = usize::from(text.lines().any(|l| l.starts_with("go ")));
            assert_eq!(graph.roots().len(), direct + stdlib, "{}", path.display());
        }
        LockfileFormat::PipfileLock => {
            let Ok(text) = fs_err::read_to_string(dir.join("Pipfile")) else {
                return;
            };
            let toml: toml::Table = toml::from_str(&text).expect("Pipfile");
            let mut declared = BTreeSet::new();
            for section in ["packages", "dev-packages"] {
                if let Some(t) = toml.get(section).and_then(|v| v.as_table()) {
                    declared.extend(t.keys().map(|k| k.to_lowercase().replace('_', "-")));
                }
            }
            assert_eq!(root_names, declared, "{}", path.display());
        }
        LockfileFormat::PoetryLock | LockfileFormat::PdmLock => {
            if !dir.join("pyproject.toml").exists() {
                return;
            }
            assert!(!root_names.is_empty(), "{}", path.display());
        }
        _ => {}
    }
}

#[test]
#[ignore = "needs ../shared: the lockfile corpus"]
fn shared_corpus_dev_packages_are_marked() {
    let shared = common::shared();
    let corpus = shared.join("corpus");
    let count = |rel: &str, scope: Scope| {
        let lock = lockfile::load(&corpus.join(rel)).expect("parses");
        lock.graph.nodes().iter().filter(|p| p.scope == scope).count()
    };
    // poetry lock 1.1: 91 `category = "dev"` packages.
    assert_eq!(count("poetry-lock/powertools-lambda-python-2022-07-lock-1.1/poetry.lock", Scope::Dev), 91);
    // Pipfile.lock: `develop` entries not also in `default` with the same version.
    let pipenv = "pipfile-lock/pipenv-root/Pipfile.lock";
    let text = fs_err::read_to_string(corpus.join(pipenv)).expect("read");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let default = json["default"].as_object().expect("default");
    let dev_only = json["develop"]
        .as_object()
        .expect("develop")
        .iter()
        .filter(|(k, v)| default.get(*k).is_none_or(|d| d["version"] != v["version"]))
        .count();
    assert_eq!(count(pipenv, Scope::Dev), dev_only);
    // poetry lock 2.0 (no groups recorded): pytest is dev, jmespath prod, via pyproject.toml.
    let lock = lockfile::load(&corpus.join("poetry-lock/powertools-lambda-python/poetry.lock")).expect("parses");
    let scope_of = |name: &str| lock.graph.nodes().iter().find(|p| p.name.as_str() == name).map(|p| p.scope);
    assert_eq!(scope_of("pytest"), Some(Scope::Dev));
    assert_eq!(scope_of("jmespath"), Some(Scope::Prod));
    assert_eq!(scope_of("pydantic"), Some(Scope::Optional));
    // pdm: packages in no `default` group are not production.
    let lock = lockfile::load(&corpus.join("pdm-lock/pdm-root/pdm.lock")).expect("parses");
    assert!(lock.graph.nodes().iter().any(|p| p.name.as_str() == "pytest" && p.scope != Scope::Prod));
}
