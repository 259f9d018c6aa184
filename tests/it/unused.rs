//! Unused packages (issue 11): fixture functions in the four ecosystems, written for these
//! tests, with known used, unused, config-only, type-only, test-only and undeclared
//! dependencies; and `unused/shipped` over real deployment zips.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use bundleguard::bundle::code::{CodeLimits, from_artifact, read_function_code};
use bundleguard::bundle::{Limits, TreeSource, Unit, UnitKind, read_artifact};
use bundleguard::lockfile;
use bundleguard::risk::unused::{self, UnusedConfig};

use crate::common::{fixture, shared};

fn lockfile_unit(dir: &Path, lock: &str, runtime: &str, handler: &str) -> Unit {
    let file = dir.join(lock);
    let parsed = lockfile::load(&file).expect("fixture lockfile parses");
    Unit {
        name: "fn".to_owned(),
        kind: UnitKind::Function,
        runtime: Some(runtime.to_owned()),
        handler: Some(handler.to_owned()),
        template: None,
        code_dir: Some(dir.to_owned()),
        path: lock.to_owned(),
        file,
        source: TreeSource::Lockfile(parsed.format),
        graph: parsed.graph,
        artifact: None,
        lockfile_twin: None,
        coverage: None,
    }
}

/// (code, location, package) of each signal, and (name, reason) of each exemption.
type Outcome = (Vec<(String, String, String)>, Vec<(String, String)>);

fn run(scenario: &str, lock: &str, runtime: &str, handler: &str, cfg: &UnusedConfig) -> Outcome {
    let dir = fixture(&format!("unused/{scenario}"));
    let unit = lockfile_unit(&dir, lock, runtime, handler);
    let code = read_function_code(&dir, &[], &CodeLimits::default());
    assert!(code.diagnostics.is_empty(), "{:?}", code.diagnostics);
    let analysis = unused::analyze(&unit, &code, cfg);
    assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics);
    let (signals, coverage) = unused::check(&unit, &code, cfg);
    assert_eq!(signals, analysis.signals);
    assert!(coverage.iter().all(|c| c.evaluated == c.total && c.reason.is_none()), "{coverage:?}");
    let found = signals
        .iter()
        .map(|s| {
            let package = s.package.as_ref().map_or_else(String::new, |p| format!("{}@{}", p.name, p.version));
            (s.code.as_str().to_owned(), s.location.clone().unwrap_or_default(), package)
        })
        .collect();
    let exempt = analysis.exempt.iter().map(|e| (e.name.clone(), e.reason.clone())).collect();
    (found, exempt)
}

fn owned<const N: usize>(rows: [(&str, &str, &str); N]) -> Vec<(String, String, String)> {
    rows.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect()
}

#[test]
fn npm_function_reached_from_its_handler() {
    let (found, exempt) =
        run("npm-esm-handler", "package-lock.json", "nodejs20.x", "src/handler.main", &UnusedConfig::default());
    // dayjs: only imported by src/orphan.js, which the handler never reaches; uuid: only named in
    // a comment, a regex, a template literal and a test. axios: imported, declared nowhere.
    let want = owned([
        ("hygiene/undeclared-import", "src/lib/format.js:2", "axios@1.6.5"),
        ("unused/declared", "package.json:13", "dayjs@1.11.10"),
        ("unused/declared", "package.json:18", "uuid@9.0.1"),
    ]);
    assert_eq!(found, want);
    let names: Vec<&str> = exempt.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["@types/aws-lambda", "aws-xray-sdk-core", "rimraf", "serverless-esbuild"]);
    assert!(exempt.iter().any(|(n, r)| n == "serverless-esbuild" && r == "named in serverless.yml"), "{exempt:?}");
}

#[test]
fn npm_without_a_known_entry_counts_the_whole_folder_and_the_allow_list_applies() {
    let cfg = UnusedConfig { allow: BTreeSet::from(["uuid".to_owned(), "axios".to_owned()]) };
    let (found, _) = run("npm-esm-handler", "package-lock.json", "nodejs20.x", "missing/file.main", &cfg);
    assert_eq!(found, [], "orphan.js counts when the entry is unknown; uuid and axios are allowed");
}

#[test]
fn python_function_with_import_names_that_differ() {
    let (found, exempt) = run(
        "pypi-requirements",
        "requirements.txt",
        "python3.12",
        "app.handler.lambda_handler",
        &UnusedConfig::default(),
    );
    // yaml <- PyYAML, PIL <- Pillow (inside a try in a function), requests via a relative import;
    // bs4 appears only in a string, attrs only in a comment and a test.
    let want = owned([
        ("hygiene/undeclared-import", "app/handler.py:19", ""),
        ("unused/declared", "requirements.txt:7", "attrs@23.2.0"),
        ("unused/declared", "requirements.txt:4", "beautifulsoup4@4.12.2"),
    ]);
    assert_eq!(found, want);
    assert_eq!(exempt, [("boto3".to_owned(), "an SDK the Lambda runtime provides".to_owned())]);
}

#[test]
fn go_function_with_module_prefixes() {
    let (found, exempt) = run("go-module", "go.mod", "provided.al2023", "bootstrap", &UnusedConfig::default());
    // s3 and config are modules of their own under aws-sdk-go-v2 (longest prefix); uuid is used by
    // a test only; indirect requirements are not judged.
    assert_eq!(found, owned([("unused/declared", "go.mod:9", "github.com/google/uuid@v1.6.0")]));
    assert!(exempt.is_empty());
}

#[test]
fn rust_function_with_a_renamed_dependency() {
    let (found, exempt) = run("cargo-renamed", "Cargo.lock", "provided.al2023", "bootstrap", &UnusedConfig::default());
    // `json::` is serde_json renamed; `regex::` appears only in a comment and a string.
    assert_eq!(found, owned([("unused/declared", "Cargo.toml:11", "regex@1.10.3")]));
    assert!(exempt.is_empty());
}

#[test]
fn no_manifest_is_not_evaluated_never_clean() {
    let dir = fixture("unused/go-module");
    let unit = lockfile_unit(&dir, "go.mod", "provided.al2023", "bootstrap");
    let mut code = read_function_code(&dir, &[], &CodeLimits::default());
    code.manifests.clear();
    let (signals, coverage) = unused::check(&unit, &code, &UnusedConfig::default());
    assert!(signals.is_empty());
    assert_eq!(coverage.len(), 1);
    assert_eq!((coverage[0].evaluated, coverage[0].total), (0, 1));
    assert!(coverage[0].reason.as_deref().is_some_and(|r| r.starts_with("no manifest")), "{coverage:?}");
}

fn artifact_unit(path: &Path) -> Unit {
    let artifact = read_artifact(path, &Limits::default()).expect("corpus zip reads");
    Unit {
        name: "zip".to_owned(),
        kind: UnitKind::Artifact,
        runtime: None,
        handler: None,
        template: None,
        code_dir: None,
        path: path.display().to_string(),
        file: path.to_owned(),
        source: TreeSource::Artifact,
        graph: artifact.graph.clone(),
        artifact: Some(Arc::new(artifact)),
        lockfile_twin: None,
        coverage: None,
    }
}

/// (package, bytes) of the `unused/shipped` signals of a zip.
fn shipped_of(path: &Path) -> Vec<(String, String)> {
    let unit = artifact_unit(path);
    let artifact = unit.artifact.as_deref().expect("artifact");
    let code = from_artifact(artifact);
    let analysis = unused::analyze(&unit, &code, &UnusedConfig::default());
    let (signals, coverage) = unused::shipped(&unit, &analysis, &UnusedConfig::default());
    assert!(coverage.iter().all(|c| c.evaluated == c.total), "{coverage:?}");
    signals
        .iter()
        .map(|s| {
            let p = s.package.as_ref().expect("package");
            let bytes = s.evidence.iter().find(|e| e.name == "bytes").map(|e| e.value.clone()).unwrap_or_default();
            (format!("{}@{}", p.name, p.version), bytes)
        })
        .collect()
}

#[test]
#[ignore = "needs ../shared: corpus/bundles"]
fn shared_corpus_zips_shipped_but_unused() {
    let shared = shared();
    let node = shipped_of(&shared.join("corpus/bundles/nodejs-lambda-old-deps.zip"));
    let python = shipped_of(&shared.join("corpus/bundles/python-lambda-old-deps.zip"));
    insta::assert_debug_snapshot!("shipped_corpus_zips", (node, python));
}

mod never_panic {
    use bundleguard::risk::unused::{Language, scan_imports};
    use proptest::prelude::*;

    const LANGUAGES: [Language; 4] = [Language::JavaScript, Language::Python, Language::Go, Language::Rust];

    /// Bytes biased towards the characters the lexers branch on.
    fn source() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "import ",
            "from ",
            "require(",
            "export ",
            "use ",
            "extern crate ",
            "::",
            "(",
            ")",
            "{",
            "}",
            "`",
            "${",
            "'",
            "\"",
            "\"\"\"",
            "/",
            "//",
            "/*",
            "*/",
            "\\",
            "\n",
            "#",
            "r#\"",
            "a",
            ".",
            ";",
            ":",
            "é",
            "\r",
            "x::y",
            "[",
        ]);
        prop_oneof![
            prop::collection::vec(pieces, 0..200).prop_map(|v| v.concat()),
            prop::collection::vec(any::<u8>(), 0..400).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn scanners_never_panic_and_lines_stay_in_the_file(src in source()) {
            let lines = u32::try_from(src.matches('\n').count() + 1).unwrap_or(u32::MAX);
            for language in LANGUAGES {
                let imports = scan_imports(language, &src).unwrap_or_default();
                prop_assert!(imports.iter().all(|i| i.line >= 1 && i.line <= lines), "{language:?}: {imports:?}");
            }
        }
    }
}
