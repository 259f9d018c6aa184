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
        esbuild: None,
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
    let cfg = UnusedConfig { allow: BTreeSet::from(["uuid".to_owned(), "axios".to_owned()]), disabled: false };
    let (found, _) = run("npm-esm-handler", "package-lock.json", "nodejs20.x", "missing/file.main", &cfg);
    assert_eq!(found, [], "orphan.js counts when the entry is unknown; uuid and axios are allowed");
}

#[test]
fn only_the_files_the_handler_reaches_are_read() {
    let dir = fixture("unused/npm-esm-handler");
    let code = read_function_code(&dir, &[], &CodeLimits::default());
    assert!(code.files.iter().all(|f| !f.is_read()), "listed, not read");
    let unit = lockfile_unit(&dir, "package-lock.json", "nodejs20.x", "src/handler.main");
    let analysis = unused::analyze(&unit, &code, &UnusedConfig::default());
    let read: Vec<&str> = code.files.iter().filter(|f| f.is_read()).map(|f| f.path.as_str()).collect();
    assert_eq!(read, ["src/handler.ts", "src/lib/format.js"]);
    assert_eq!(analysis.files_scanned, 2);
    // The entry unknown: the whole folder is read.
    let unit = lockfile_unit(&dir, "package-lock.json", "nodejs20.x", "missing/file.main");
    unused::analyze(&unit, &code, &UnusedConfig::default());
    assert!(code.files.iter().all(bundleguard::bundle::code::CodeFile::is_read));
}

#[test]
fn code_is_listed_from_what_discovery_walked() {
    use bundleguard::bundle::code::{EntryKind, Listing, read_function_code_in};
    let dir = fixture("unused/npm-esm-handler");
    let paths = |code: &bundleguard::bundle::code::FunctionCode| -> (Vec<String>, Vec<String>) {
        (code.files.iter().map(|f| f.path.clone()).collect(), code.manifests.iter().map(|m| m.path.clone()).collect())
    };
    let from_disk = read_function_code(&dir, &[], &CodeLimits::default());
    let discovery = bundleguard::bundle::discover_listing(&dir, &bundleguard::bundle::Excludes::default(), true);
    assert!(bundleguard::bundle::discover(&dir).listing == Listing::default(), "kept only when asked for");
    let listed = read_function_code_in(&dir, &[], &CodeLimits::default(), &discovery.listing);
    assert_eq!(paths(&listed), paths(&from_disk), "the walk's listing gives what the disk gives");
    assert!(!from_disk.files.is_empty());
    // A listed folder is not listed again: a listing that holds only the handler's file and
    // package.json at the root gives just them (the subfolders are not walked at all).
    let mut listing = Listing::default();
    listing.insert(dir.clone(), vec![("package.json".into(), EntryKind::File), ("src".into(), EntryKind::Symlink)]);
    let partial = read_function_code_in(&dir, &[], &CodeLimits::default(), &listing);
    assert_eq!(paths(&partial), (vec![], vec!["package.json".to_owned()]), "links are not followed");
    // A folder the listing does not hold is listed from disk.
    listing.insert(dir.clone(), vec![("src".into(), EntryKind::Dir)]);
    let below = read_function_code_in(&dir, &[], &CodeLimits::default(), &listing);
    let src: Vec<String> = from_disk.files.iter().map(|f| f.path.clone()).filter(|p| p.starts_with("src/")).collect();
    assert_eq!(paths(&below).0, src);
    // A code folder that is not there (a template naming code not built or not checked out)
    // holds no code; it is no read problem (the check says no source file was found).
    let missing = read_function_code(&dir.join("not-there"), &[], &CodeLimits::default());
    assert!(missing.files.is_empty() && missing.diagnostics.is_empty(), "{:?}", missing.diagnostics);
}

#[test]
fn a_reached_file_over_the_limits_is_not_read_and_reachability_is_unknown() {
    let dir = fixture("unused/npm-esm-handler");
    let unit = lockfile_unit(&dir, "package-lock.json", "nodejs20.x", "src/handler.main");
    let cfg = UnusedConfig::default();
    let full = read_function_code(&dir, &[], &CodeLimits::default());
    let handler = full.files.iter().find(|f| f.path == "src/handler.ts").expect("the handler");
    let size = std::fs::metadata(dir.join(&handler.path)).expect("handler size").len();
    assert!(unused::reachability(&unit, &full, &unused::analyze(&unit, &full, &cfg)).is_some());
    // one byte short of the handler: the handler is not read
    let small = CodeLimits { max_file_bytes: size - 1, ..CodeLimits::default() };
    let code = read_function_code(&dir, &[], &small);
    let analysis = unused::analyze(&unit, &code, &cfg);
    let codes: Vec<(&str, &str)> =
        analysis.diagnostics.iter().map(|d| (d.code, d.path.as_deref().unwrap_or_default())).collect();
    assert_eq!(codes, [("code/too-large", format!("{}/src/handler.ts", code.root).as_str())]);
    assert!(unused::reachability(&unit, &code, &analysis).is_none(), "code not read whole: unknown");
    // the total: the handler fits, the file it imports does not
    let total = CodeLimits { max_total_bytes: size, ..CodeLimits::default() };
    let code = read_function_code(&dir, &[], &total);
    let analysis = unused::analyze(&unit, &code, &cfg);
    let codes: Vec<&str> = analysis.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["code/limit"], "{:?}", analysis.diagnostics);
    assert!(unused::reachability(&unit, &code, &analysis).is_none());
    // each reader has its own total: a second reader of the same (now read) files is refused alike
    let again = unused::analyze(&unit, &code, &cfg);
    assert_eq!(again.diagnostics, analysis.diagnostics);
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
        esbuild: None,
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

/// (code, location, package) of the signals of one function of a discovered template.
fn discovered(root: &Path, function: &str, lock: &str, without_metafile: bool) -> Vec<(String, String, String)> {
    let d = bundleguard::bundle::discover(root);
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let b = d.bundles.iter().find(|b| b.name == function).expect("function discovered");
    let dir = b.code_dir.clone().expect("code folder");
    let mut unit =
        lockfile_unit(&dir, lock, b.runtime.as_deref().unwrap_or_default(), b.handler.as_deref().unwrap_or_default());
    unit.esbuild.clone_from(&b.esbuild);
    let mut code = read_function_code(&dir, &[], &CodeLimits::default());
    assert!(code.diagnostics.is_empty(), "{:?}", code.diagnostics);
    if without_metafile {
        code.bundled = None;
    }
    let analysis = unused::analyze(&unit, &code, &UnusedConfig::default());
    assert!(analysis.entry_known, "the entry comes from EntryPoints or the metafile");
    analysis
        .signals
        .iter()
        .map(|s| {
            let package = s.package.as_ref().map_or_else(String::new, |p| format!("{}@{}", p.name, p.version));
            (s.code.as_str().to_owned(), s.location.clone().unwrap_or_default(), package)
        })
        .collect()
}

/// (package, `esbuild` evidence, message) of the `unused/declared` signals of one function.
fn esbuild_signals(root: &Path, function: &str) -> Vec<(String, String, String)> {
    let d = bundleguard::bundle::discover(root);
    let b = d.bundles.iter().find(|b| b.name == function).expect("function discovered");
    let dir = b.code_dir.clone().expect("code folder");
    let mut unit = lockfile_unit(&dir, "package-lock.json", "nodejs20.x", b.handler.as_deref().unwrap_or_default());
    unit.esbuild.clone_from(&b.esbuild);
    let code = read_function_code(&dir, &[], &CodeLimits::default());
    let analysis = unused::analyze(&unit, &code, &UnusedConfig::default());
    analysis
        .signals
        .iter()
        .filter(|s| s.code.as_str() == "unused/declared")
        .map(|s| {
            let name = s.package.as_ref().map(|p| p.name.as_str().to_owned()).unwrap_or_default();
            let evidence = s.evidence.iter().find(|e| e.name == "esbuild").map(|e| e.value.clone()).unwrap_or_default();
            (name, evidence, s.message.clone())
        })
        .collect()
}

#[test]
fn sam_esbuild_entry_points_and_metafile() {
    let root = fixture("unused/sam-esbuild");
    let d = bundleguard::bundle::discover(&root);
    let orders = d.bundles.iter().find(|b| b.name == "OrdersFunction").expect("orders");
    let build = orders.esbuild.as_ref().expect("BuildMethod: esbuild");
    assert_eq!(build.entry_points, ["src/app.ts"]);
    assert_eq!(build.external, ["@aws-sdk/client-dynamodb", "pino", "sharp"]);
    let reports = d.bundles.iter().find(|b| b.name == "ReportsFunction").expect("reports");
    assert_eq!(reports.esbuild.as_ref().map(|b| b.entry_points.len()), Some(0), "esbuild without EntryPoints");
    // The handler names `app`, the file esbuild writes; the source entry is src/app.ts. Without
    // EntryPoints the whole folder would count and the seed script's dayjs would look used.
    // External: pino is left out of the bundle and imported by db.ts, so used (and shipped in
    // node_modules); sharp is External too but nothing imports it: unused, and shipped all the
    // same, while dayjs is simply not bundled.
    assert_eq!(
        discovered(&root, "OrdersFunction", "package-lock.json", false),
        owned([
            ("unused/declared", "package.json:7", "dayjs@1.11.10"),
            ("unused/declared", "package.json:9", "sharp@0.33.2")
        ])
    );
    let esbuild_evidence: Vec<(String, String)> = esbuild_signals(&root, "OrdersFunction")
        .into_iter()
        .map(|(name, evidence, message)| {
            assert!(message.contains("esbuild"), "{message}");
            (name, evidence)
        })
        .collect();
    assert_eq!(
        esbuild_evidence,
        [("dayjs".to_owned(), "not bundled".to_owned()), ("sharp".to_owned(), "external".to_owned())]
    );
    // The metafile says what esbuild bundled: uuid through the tsconfig alias `@lib/ids`, which a
    // lexical scan cannot follow (it takes `@lib/ids` for an undeclared package).
    let reports_dir = root.join("reports");
    let code = read_function_code(&reports_dir, &[], &CodeLimits::default());
    let bundled = code.bundled.as_ref().expect("meta.json read");
    assert_eq!(bundled.sources, ["index.ts", "lib/ids.ts", "report.ts"]);
    assert_eq!(bundled.packages.iter().map(String::as_str).collect::<Vec<_>>(), ["date-fns", "uuid"]);
    assert_eq!(
        discovered(&root, "ReportsFunction", "package-lock.json", false),
        owned([("unused/declared", "package.json:8", "lodash@4.17.21")])
    );
    assert_eq!(
        discovered(&root, "ReportsFunction", "package-lock.json", true),
        owned([
            ("hygiene/undeclared-import", "report.ts:2", ""),
            ("unused/declared", "package.json:8", "lodash@4.17.21"),
            ("unused/declared", "package.json:9", "uuid@9.0.1"),
        ]),
        "what the lexical scan gives without the metafile"
    );
}

#[test]
fn a_broken_metafile_is_a_diagnostic_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs_err::write(dir.path().join("index.js"), "import x from 'left-pad';\n").expect("write");
    fs_err::write(dir.path().join("meta.json"), "{\"outputs\": {}}").expect("write");
    let code = read_function_code(dir.path(), &[], &CodeLimits::default());
    assert!(code.bundled.is_none());
    assert_eq!(code.diagnostics.len(), 1, "{:?}", code.diagnostics);
    let d = &code.diagnostics[0];
    assert_eq!(d.code, "code/metafile");
    assert!(d.path.as_deref().is_some_and(|p| p.ends_with("/meta.json")), "{d:?}");
    assert!(d.message.contains("inputs"), "{d:?}");
}

/// Reachability of vulnerability findings (issue 11 item 6): one scan of a function whose handler
/// reaches axios and lodash but not minimist or node-fetch (only in `src/cli.js`).
mod reachability {
    use std::path::Path;

    use serde_json::Value;

    use super::{lockfile_unit, read_function_code};
    use crate::common::{fixture, repo_root};
    use crate::sync::{bundleguard, sync_json};
    use bundleguard::bundle::code::CodeLimits;
    use bundleguard::risk::unused::{self, UnusedConfig};

    fn npm_db(dir: &Path) -> std::path::PathBuf {
        let db = dir.join("npm.db");
        sync_json(&db, &repo_root().join("advisories").display().to_string(), &["--ecosystem", "npm"]);
        db
    }

    fn scan(db: &Path, target: &str, args: &[&str]) -> (i32, String) {
        let out = bundleguard(db)
            .current_dir(repo_root())
            .args(["scan", "--offline", "--no-inventory", target])
            .args(args)
            .output()
            .expect("bundleguard runs");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// (package, status, reachable) of every vulnerability finding of a JSON report.
    fn findings(json: &str) -> Vec<(String, String, Option<bool>)> {
        let doc: Value = serde_json::from_str(json).expect("JSON report");
        let mut rows: Vec<_> = doc["bundles"]
            .as_array()
            .expect("bundles")
            .iter()
            .flat_map(|b| b["findings"].as_array().expect("findings").iter())
            .map(|f| {
                let name = f["package"]["name"].as_str().unwrap_or_default().to_owned();
                (name, f["status"].as_str().unwrap_or_default().to_owned(), f.get("reachable").and_then(Value::as_bool))
            })
            .collect();
        rows.sort();
        rows.dedup();
        rows
    }

    fn row(name: &str, status: &str, reachable: Option<bool>) -> (String, String, Option<bool>) {
        (name.to_owned(), status.to_owned(), reachable)
    }

    #[test]
    fn unreachable_findings_are_marked_in_every_format_and_gate_by_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = npm_db(dir.path());
        let target = "fixtures/unused/npm-reachability";
        let (code, json) = scan(&db, target, &["--format", "json", "--fail-on", "critical"]);
        assert_eq!(code, 1, "minimist's critical advisory gates although no import reaches it: {json}");
        assert_eq!(
            findings(&json),
            [
                row("axios", "below-threshold", Some(true)),
                row("lodash", "below-threshold", Some(true)),
                row("minimist", "gating", Some(false)),
                row("node-fetch", "below-threshold", Some(false)),
            ]
        );
        let (_, table) = scan(&db, target, &["--format", "table"]);
        let marked: Vec<&str> = table.lines().filter(|l| l.contains("(unreachable: no import leads to it)")).collect();
        assert_eq!(marked.len(), 3, "minimist once, node-fetch twice: {table}");
        assert!(marked.iter().all(|l| l.contains("minimist@1.2.5") || l.contains("node-fetch@2.6.0")), "{marked:?}");
        let (_, markdown) = scan(&db, target, &["--format", "markdown"]);
        assert!(markdown.contains("`minimist@1.2.5` (unreachable)"), "{markdown}");
        assert!(!markdown.contains("`axios@0.21.0` (unreachable)"), "{markdown}");
        let (_, html) = scan(&db, target, &["--format", "html"]);
        assert_eq!(html.matches(">unreachable</span>").count(), 3, "one mark per unreachable finding");
        let (_, sarif) = scan(&db, target, &["--format", "sarif"]);
        let sarif: Value = serde_json::from_str(&sarif).expect("SARIF");
        let results = sarif["runs"][0]["results"].as_array().expect("results");
        let reach = |id: &str| {
            let r = results.iter().find(|r| r["ruleId"] == id).expect("result");
            r["properties"]["reachable"].clone()
        };
        assert_eq!(reach("GHSA-xvch-5gv4-984h"), Value::Bool(false), "minimist");
        assert_eq!(reach("GHSA-35jh-r3h4-6jhm"), Value::Bool(true), "lodash");
    }

    #[test]
    fn the_policy_can_report_unreachable_findings_without_gating() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = npm_db(dir.path());
        let config = dir.path().join("bundleguard.toml");
        fs_err::write(&config, "unreachable = \"report\"\nfail-on = \"critical\"\n").expect("write policy");
        let config = config.display().to_string();
        let (code, json) = scan(&db, "fixtures/unused/npm-reachability", &["--format", "json", "--config", &config]);
        assert_eq!(code, 0, "only an unreachable finding was at or above critical: {json}");
        let (_, markdown) =
            scan(&db, "fixtures/unused/npm-reachability", &["--format", "markdown", "--config", &config]);
        assert!(markdown.contains(" · 1 unreachable"), "counted in the summary line: {markdown}");
        let rows = findings(&json);
        assert!(rows.contains(&row("minimist", "unreachable", Some(false))), "{rows:?}");
        assert!(rows.contains(&row("node-fetch", "below-threshold", Some(false))), "below the threshold stays so");
        let (code, json) = scan(
            &db,
            "fixtures/unused/npm-reachability",
            &["--format", "json", "--config", &config, "--fail-on", "high"],
        );
        assert_eq!(code, 1, "reachable findings still gate under unreachable = \"report\"");
        let rows = findings(&json);
        assert!(rows.contains(&row("lodash", "gating", Some(true))), "{rows:?}");
        assert!(rows.contains(&row("node-fetch", "unreachable", Some(false))), "{rows:?}");
    }

    #[test]
    fn the_unused_check_can_be_switched_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = npm_db(dir.path());
        let config = dir.path().join("bundleguard.toml");
        fs_err::write(&config, "[unused]\nenabled = false\n").expect("write policy");
        let config = config.display().to_string();
        let (code, json) = scan(&db, "fixtures/unused/npm-reachability", &["--format", "json", "--config", &config]);
        assert_eq!(code, 1, "{json}");
        let doc: Value = serde_json::from_str(&json).expect("JSON report");
        let risks = doc["bundles"][0]["risks"].as_array().expect("risks");
        assert!(risks.iter().all(|r| !r["code"].as_str().unwrap_or_default().starts_with("unused/")), "{risks:?}");
        assert!(findings(&json).iter().all(|(_, _, r)| r.is_none()), "no code read: reachability unknown");
        let (_, on) = scan(&db, "fixtures/unused/npm-reachability", &["--format", "json"]);
        assert!(on.contains("\"unused/declared\""), "on by default");
    }

    #[test]
    fn a_reached_file_that_is_not_read_is_a_warning_and_leaves_the_check_not_evaluated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = npm_db(dir.path());
        let function = dir.path().join("fn");
        let source = fixture("unused/npm-reachability");
        for rel in
            ["package.json", "package-lock.json", "serverless.yml", "src/handler.js", "src/forward.js", "src/cli.js"]
        {
            let to = function.join(rel);
            std::fs::create_dir_all(to.parent().expect("a folder")).expect("folder");
            std::fs::copy(source.join(rel), &to).expect("copy");
        }
        // the handler also loads a file over the 4 MiB a source file may have
        let handler = function.join("src/handler.js");
        let text = std::fs::read_to_string(&handler).expect("handler");
        std::fs::write(&handler, format!("require('./generated');\n{text}")).expect("handler");
        std::fs::write(function.join("src/generated.js"), " ".repeat(4 * 1024 * 1024 + 1)).expect("big file");
        let (_, json) = scan(&db, &function.display().to_string(), &["--format", "json"]);
        let doc: Value = serde_json::from_str(&json).expect("JSON report");
        let warnings: Vec<&str> =
            doc["warnings"].as_array().expect("warnings").iter().filter_map(Value::as_str).collect();
        let named: Vec<&&str> = warnings.iter().filter(|w| w.contains("src/generated.js")).collect();
        assert_eq!(named.len(), 1, "one warning names the file: {warnings:?}");
        assert!(named[0].contains("more than the 4194304-byte limit"), "{named:?}");
        let coverage = doc["coverage"].as_array().expect("coverage");
        for code in ["unused/declared", "hygiene/undeclared-import"] {
            let c = coverage.iter().find(|c| c["code"] == code).expect(code);
            assert_eq!(c["evaluated"], 0, "{code}: {c}");
            assert!(c["total"].as_u64().is_some_and(|t| t > 0), "{code}: {c}");
            assert_eq!(c["reason"], "the function's code was not read whole (see the warnings)", "{code}");
        }
        assert!(findings(&json).iter().all(|(_, _, r)| r.is_none()), "reachability unknown: {json}");
    }

    #[test]
    fn reachability_is_unknown_without_code_or_dependency_edges() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("all.db");
        sync_json(&db, &repo_root().join("advisories").display().to_string(), &[]);
        // The README example: lockfiles, requirements.txt and no code at all.
        let (_, json) = scan(&db, "fixtures/scan/lambda-repo", &["--format", "json"]);
        let rows = findings(&json);
        assert!(rows.len() > 5, "{rows:?}");
        assert!(rows.iter().all(|(_, _, r)| r.is_none()), "absent, never false: {rows:?}");
        assert!(!json.contains("\"reachable\""), "the field is absent when unknown");
        // Code, but a requirements.txt: no edges to follow from the imported packages.
        let fixture_dir = fixture("unused/pypi-requirements");
        let unit = lockfile_unit(&fixture_dir, "requirements.txt", "python3.12", "app.handler.lambda_handler");
        let code = read_function_code(&fixture_dir, &[], &CodeLimits::default());
        let analysis = unused::analyze(&unit, &code, &UnusedConfig::default());
        assert!(analysis.files_scanned > 0);
        assert!(unused::reachability(&unit, &code, &analysis).is_none(), "requirements.txt has no edges");
        // The npm function: edges and code, so known; a file the scanners could not read makes it unknown.
        let fixture_dir = fixture("unused/npm-reachability");
        let unit = lockfile_unit(&fixture_dir, "package-lock.json", "nodejs20.x", "src/handler.main");
        let mut code = read_function_code(&fixture_dir, &[], &CodeLimits::default());
        let analysis = unused::analyze(&unit, &code, &UnusedConfig::default());
        let reach = unused::reachability(&unit, &code, &analysis).expect("known");
        let by_name =
            |name: &str| (0..unit.graph.len()).find(|&i| unit.graph.node(i).name.as_str() == name).expect(name);
        assert_eq!(reach.of(&unit, by_name("follow-redirects")), Some(true), "through axios");
        assert_eq!(reach.of(&unit, by_name("minimist")), Some(false));
        // An import of a package that is no direct dependency still reaches it.
        let mut imports_it = analysis.clone();
        imports_it.imported.insert("follow-redirects".to_owned());
        imports_it.imported.remove("axios");
        let reach = unused::reachability(&unit, &code, &imports_it).expect("known");
        assert_eq!(reach.of(&unit, by_name("follow-redirects")), Some(true), "imported although not direct");
        assert_eq!(reach.of(&unit, by_name("axios")), Some(false));
        code.diagnostics.push(bundleguard::vocab::Diagnostic::at("code/limit", "src", "too many files"));
        assert!(unused::reachability(&unit, &code, &analysis).is_none(), "code not read whole");
    }
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
