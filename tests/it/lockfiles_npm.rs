//! npm-family lockfile parsers (package-lock.json, npm-shrinkwrap.json, yarn.lock,
//! pnpm-lock.yaml): snapshot tests on small fixtures, edge cases, bad input, and a check of
//! every such file in the shared corpus against its PROVENANCE.md package count.
//!
//! Counting rules (how "packages" in PROVENANCE.md relate to our node counts):
//! - npm v2/v3: `packages` entries minus the root, minus `link: true` entries whose target has
//!   an entry (a link shares its target's node).
//! - npm v1: nested `dependencies` entries, one node each.
//! - yarn v1: one node per entry (block). Berry: one per entry minus the root workspace
//!   (`@workspace:.`, the project itself is not a node).
//! - pnpm 5.x/6.x: one node per `packages` key; importers other than `.` are extra
//!   workspace nodes (not counted). 9.x: one node per `snapshots` key (peer variants
//!   separate); the distinct `name@version` of non-workspace nodes equals the `packages` count.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bundleguard::graph::DepGraph;
use bundleguard::lockfile::{LockfileError, LockfileFormat, ParseInput, Parsed, parse};
use bundleguard::package::{Scope, Source};

use crate::common;

fn format_of(path: &Path) -> LockfileFormat {
    match path.file_name().and_then(|n| n.to_str()) {
        Some("npm-shrinkwrap.json") => LockfileFormat::NpmShrinkwrap,
        Some("yarn.lock") => LockfileFormat::YarnLock,
        Some("pnpm-lock.yaml") => LockfileFormat::PnpmLock,
        _ => LockfileFormat::NpmPackageLock,
    }
}

fn parse_file(path: &Path) -> Result<Parsed, LockfileError> {
    let bytes = fs_err::read(path).expect("read lockfile");
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = move |rel: &Path| std::fs::read(dir.join(rel)).ok();
    parse(format_of(path), &ParseInput { path, bytes: &bytes, read_sibling: &read })
}

fn parse_bytes(name: &str, text: &str, siblings: &[(&str, &str)]) -> Result<Parsed, LockfileError> {
    let path = PathBuf::from(name);
    let files: BTreeMap<PathBuf, Vec<u8>> =
        siblings.iter().map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec())).collect();
    let read = move |rel: &Path| files.get(rel).cloned();
    parse(format_of(&path), &ParseInput { path: &path, bytes: text.as_bytes(), read_sibling: &read })
}

/// A stable text rendering of a tree: nodes with scope and source, edges, roots.
fn render(graph: &DepGraph) -> String {
    let label = |id: usize| {
        let p = graph.node(id);
        format!("{}@{}", p.name, p.version)
    };
    let mut out = String::new();
    for (id, p) in graph.nodes().iter().enumerate() {
        let root = if graph.is_root(id) { " (root)" } else { "" };
        let source = match &p.source {
            Source::Registry => "registry".to_owned(),
            Source::Git { url, rev } => format!("git {url} #{}", rev.as_deref().unwrap_or("-")),
            Source::Path(path) => format!("path {path}"),
            Source::Workspace => "workspace".to_owned(),
            Source::Other(o) => format!("other {o}"),
        };
        let _ = writeln!(out, "{}{root} [{}] {source}", label(id), p.scope.as_str());
        for &c in graph.children(id) {
            let _ = writeln!(out, "  -> {}", label(c));
        }
    }
    out
}

fn snapshot_fixture(rel: &str) -> String {
    let path = common::fixture(rel);
    let parsed = parse_file(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out = render(&parsed.graph);
    for w in &parsed.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

macro_rules! tree_snapshots {
    ($($test:ident => $rel:literal,)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(snapshot_fixture($rel));
        }
    )*};
}

tree_snapshots! {
    npm_v1_nested => "npm/v1-nested/package-lock.json",
    npm_v2_one_package_dev => "npm/v2-one-package-dev/package-lock.json",
    npm_v3_workspaces_links => "npm/v3-workspaces/package-lock.json",
    npm_v3_alias_bundled_flags => "npm/v3-alias-bundled-flags/package-lock.json",
    npm_v3_real_lambda => "npm/v3-lambda-old-deps/package-lock.json",
    npm_shrinkwrap_v2 => "npm/v2-shrinkwrap/npm-shrinkwrap.json",
    npm_v1_git_and_manifest => "npm/v1-git-manifest/package-lock.json",
    yarn_v1_multi_spec_alias => "yarn/v1-multi-spec-alias/yarn.lock",
    yarn_v1_quotes => "yarn/v1-with-quotes/yarn.lock",
    yarn_berry_protocols => "yarn/berry-protocols/yarn.lock",
    yarn_berry_git => "yarn/berry-git/yarn.lock",
    pnpm_v5_peers => "pnpm/v5-peer-dependencies/pnpm-lock.yaml",
    pnpm_v54_mixed_groups => "pnpm/v5.4-mixed-groups/pnpm-lock.yaml",
    pnpm_v6_peers => "pnpm/v6-peer-dependencies/pnpm-lock.yaml",
    pnpm_v9_mixed_groups => "pnpm/v9-mixed-groups/pnpm-lock.yaml",
    pnpm_v9_workspace_links => "pnpm/v9-workspace-links/pnpm-lock.yaml",
}

fn error_text(name: &str, text: &str) -> String {
    match parse_bytes(name, text, &[]) {
        Ok(p) => panic!("{name}: expected an error, parsed {} nodes", p.graph.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_inputs_name_file_and_location() {
    let mut out = String::new();
    for rel in [
        "npm/invalid-truncated/package-lock.json",
        "npm/invalid-wrong-type/package-lock.json",
        "yarn/invalid-truncated/yarn.lock",
        "yarn/invalid-berry-bad-yaml/yarn.lock",
        "pnpm/invalid-truncated/pnpm-lock.yaml",
        "pnpm/invalid-wrong-type/pnpm-lock.yaml",
    ] {
        let path = common::fixture(rel);
        let text = fs_err::read_to_string(&path).expect("fixture");
        let _ = writeln!(out, "{}", error_text(rel, &text));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "",
        "{",
        "[]",
        "null",
        "\u{0}",
        "{\"packages\": []}",
        "{\"packages\": {\"\": 1}}",
        "{\"dependencies\": {\"a\": {\"dependencies\": {\"b\": {\"requires\": {\"a\": \"1\"}}}}}}",
        "a:\n  version",
        "\"a@1\":\n    deps\n",
        "__metadata:\n  version: 6\n\"x\":\n  resolution: \"@\"\n",
        "lockfileVersion: 9\nsnapshots:\n  x: {}\n",
        "lockfileVersion: '6.0'\npackages:\n  /: {}\n",
        "lockfileVersion: 5\npackages:\n  /@/:\n    dev: true\n",
    ];
    for name in ["package-lock.json", "yarn.lock", "pnpm-lock.yaml"] {
        for s in samples {
            let _ = parse_bytes(name, s, &[]);
        }
    }
}

#[test]
fn npm_alias_uses_registry_name() {
    let lock = r#"{"lockfileVersion": 3, "packages": {
        "": {"dependencies": {"old-qs": "npm:qs@6.5.2"}},
        "node_modules/old-qs": {"name": "qs", "version": "6.5.2",
            "resolved": "https://registry.npmjs.org/qs/-/qs-6.5.2.tgz"}}}"#;
    let parsed = parse_bytes("package-lock.json", lock, &[]).expect("parses");
    let names: Vec<_> = parsed.graph.nodes().iter().map(|p| p.name.to_string()).collect();
    assert_eq!(names, ["qs"]);
    assert_eq!(parsed.graph.roots(), [0]);
}

#[test]
fn yarn_scope_from_package_json() {
    let lock = "# yarn lockfile v1\n\nleft-pad@^1.0.0:\n  version \"1.3.0\"\n\njest@^29:\n  version \"29.0.0\"\n  dependencies:\n    left-pad \"^1.0.0\"\n    pretty \"^1\"\n\npretty@^1:\n  version \"1.0.0\"\n";
    let pj = r#"{"dependencies": {"left-pad": "^1.0.0"}, "devDependencies": {"jest": "^29"}}"#;
    let parsed = parse_bytes("yarn.lock", lock, &[("package.json", pj)]).expect("parses");
    let scopes: BTreeMap<String, Scope> = parsed.graph.nodes().iter().map(|p| (p.name.to_string(), p.scope)).collect();
    assert_eq!(scopes["left-pad"], Scope::Prod);
    assert_eq!(scopes["jest"], Scope::Dev);
    assert_eq!(scopes["pretty"], Scope::Dev);
}

// ------------------------------------------------------------------------------------------
// The corpus

/// `file -> packages` from every table of PROVENANCE.md that has a `packages` column.
fn provenance_counts(corpus: &Path) -> BTreeMap<String, Option<usize>> {
    let text = fs_err::read_to_string(corpus.join("PROVENANCE.md")).expect("PROVENANCE.md");
    let mut out = BTreeMap::new();
    let mut column = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            column = None;
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.first() == Some(&"file") {
            column = cells.iter().position(|c| *c == "packages");
            continue;
        }
        if let (Some(col), Some(file)) = (column, cells.first())
            && let Some(count) = cells.get(col)
        {
            out.insert((*file).to_owned(), count.parse().ok());
        }
    }
    out
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            corpus_files(&p, out);
        } else if matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml")
        ) {
            out.push(p);
        }
    }
}

/// What our node count should be for a file whose PROVENANCE count is `listed`.
fn expected_count(path: &Path, text: &str, listed: usize) -> usize {
    match format_of(path) {
        LockfileFormat::NpmPackageLock | LockfileFormat::NpmShrinkwrap => {
            let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            let Some(packages) = v.get("packages").and_then(|p| p.as_object()) else {
                return listed;
            };
            let shared_links = packages
                .values()
                .filter(|e| e.get("link").and_then(serde_json::Value::as_bool) == Some(true))
                .filter(|e| e.get("resolved").and_then(|r| r.as_str()).is_some_and(|r| packages.contains_key(r)))
                .count();
            listed - shared_links
        }
        LockfileFormat::YarnLock => listed - usize::from(text.contains("@workspace:.\"")),
        _ => listed,
    }
}

fn counted_nodes(path: &Path, text: &str, graph: &DepGraph) -> usize {
    if format_of(path) != LockfileFormat::PnpmLock {
        return graph.len();
    }
    let packages = graph.nodes().iter().filter(|p| !matches!(p.source, Source::Workspace) && !text_is_link(p));
    if text.starts_with("lockfileVersion: '9") {
        packages.map(|p| (p.name.as_str(), p.version.as_str())).collect::<BTreeSet<_>>().len()
    } else {
        packages.count()
    }
}

fn text_is_link(p: &bundleguard::package::Package) -> bool {
    matches!(&p.source, Source::Path(_)) && p.version.is_empty()
}

/// Names the sibling package.json declares that are not among the roots' names.
fn missing_roots(path: &Path, graph: &DepGraph) -> Vec<String> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(dir.join("package.json")) else {
        return Vec::new();
    };
    let Ok(pj) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let roots: BTreeSet<&str> = graph.roots().iter().map(|&r| graph.node(r).name.as_str()).collect();
    let mut missing = Vec::new();
    for key in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(deps) = pj.get(key).and_then(|d| d.as_object()) else {
            continue;
        };
        for (name, range) in deps {
            let range = range.as_str().unwrap_or("");
            let real = range.strip_prefix("npm:").map_or(name.as_str(), |r| r.rsplit_once('@').map_or(r, |(n, _)| n));
            // `catalog:` ranges resolve through pnpm's catalog, often to an alias.
            let indirect = range.starts_with("workspace:") || range.starts_with("catalog:");
            if !roots.contains(real) && !indirect {
                missing.push(format!("{key}.{name}"));
            }
        }
    }
    missing
}

/// Files whose package.json and lockfile disagree in the corpus itself, with the reason.
const STALE_MANIFESTS: &[(&str, &str)] = &[(
    "npm-shrinkwrap/powertools-lambda-typescript-2021-12-logger/npm-shrinkwrap.json",
    "merge-conflict leftover: @aws-lambda-powertools/commons is only in the second, legacy \
     `dependencies` section; the `packages` map (what npm installs from) lacks it",
)];

#[test]
#[ignore = "needs ../shared: the npm, yarn and pnpm lockfiles of the corpus"]
#[expect(clippy::print_stdout, reason = "the per-file report is the test's useful output")]
fn shared_corpus_parses_with_expected_counts() {
    let shared = common::shared();
    let corpus = shared.join("corpus");
    let listed = provenance_counts(&corpus);
    let mut files = Vec::new();
    corpus_files(&corpus, &mut files);
    let mut failures = Vec::new();
    let mut report = String::new();
    for path in &files {
        let rel = path.strip_prefix(&corpus).unwrap_or(path).to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // `pnpm/osv-scalibr-fixture-empty` holds only a comment: no YAML document, an error.
        let malformed = rel.contains("-not-json/")
            || rel.contains("-not-yaml/")
            || rel.starts_with("pnpm/osv-scalibr-fixture-empty/");
        match (parse_file(path), malformed) {
            (Err(e), true) => {
                let _ = writeln!(report, "{rel}: clean error: {e}");
            }
            (Ok(_), true) => failures.push(format!("{rel}: malformed file parsed")),
            (Err(e), false) => failures.push(format!("{rel}: {e}")),
            (Ok(parsed), false) => {
                let graph = &parsed.graph;
                let got = counted_nodes(path, &text, graph);
                let want = listed.get(&rel).copied().flatten().map(|n| expected_count(path, &text, n));
                let dev = graph.nodes().iter().filter(|p| p.scope == Scope::Dev).count();
                let _ = writeln!(
                    report,
                    "{rel}: nodes {} counted {got} want {want:?} roots {} dev {dev} warnings {}",
                    graph.len(),
                    graph.roots().len(),
                    parsed.warnings.len()
                );
                if want.is_some_and(|w| w != got) {
                    failures.push(format!("{rel}: counted {got}, PROVENANCE says {want:?}"));
                }
                let missing = missing_roots(path, graph);
                if !missing.is_empty() && !STALE_MANIFESTS.iter().any(|(f, _)| *f == rel) {
                    failures.push(format!("{rel}: declared but not roots: {missing:?}"));
                }
            }
        }
    }
    println!("{report}");
    assert!(files.len() >= 89, "found only {} corpus lockfiles", files.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture in release mode"]
#[expect(clippy::print_stdout, reason = "a benchmark prints its figures")]
fn bench_largest_lockfiles() {
    let shared = common::shared();
    let corpus = shared.join("corpus");
    for rel in [
        "npm-shrinkwrap/powertools-lambda-typescript-2021-12-root/npm-shrinkwrap.json",
        "monorepos/aws-samples-serverless-test-samples/typescript-test-samples/step-functions-local/src/package-lock.json",
        "yarn-berry/serverless-nextjs-root-workspaces/yarn.lock",
        "yarn-v1/serverless-nextjs-serverless-plugin-app-basic/yarn.lock",
        "pnpm/pnpm-monorepo-2022-05-v5.4/pnpm-lock.yaml",
        "pnpm/guardian-support-service-lambdas-v9/pnpm-lock.yaml",
    ] {
        let path = corpus.join(rel);
        let bytes = fs_err::read(&path).expect("read");
        let read = |_: &Path| None;
        let input = ParseInput { path: &path, bytes: &bytes, read_sibling: &read };
        let rounds = 20;
        let start = std::time::Instant::now();
        let mut nodes = 0;
        for _ in 0..rounds {
            nodes = parse(format_of(&path), &input).expect("parses").graph.len();
        }
        let secs = start.elapsed().as_secs_f64() / f64::from(rounds);
        #[expect(clippy::cast_precision_loss, reason = "sizes are small")]
        let mbps = bytes.len() as f64 / 1e6 / secs;
        println!("{rel}: {} bytes, {nodes} nodes, {:.2} ms, {mbps:.0} MB/s", bytes.len(), secs * 1e3);
    }
}
