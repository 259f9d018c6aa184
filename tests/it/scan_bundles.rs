//! `scan` with Lambda bundles as the unit of the report: functions from templates with their
//! runtimes and handlers, deployment zips read without extraction (findings equal to those of the
//! folder they were built from), dev packages shipped, and broken zips named.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::common::{repo_root, shared};
use crate::sync::{bundleguard, synced_fixture_db};

fn scan_json(db: &Path, args: &[&str]) -> (i32, Value) {
    let out = bundleguard(db)
        .current_dir(repo_root())
        .args(["scan", "--format", "json", "--offline"])
        .args(args)
        .output()
        .unwrap();
    let doc =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

/// `(package, version, advisory id)` of every finding of a report.
fn finding_keys(doc: &Value) -> Vec<(String, String, String)> {
    let mut keys: Vec<(String, String, String)> = doc["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["findings"].as_array().unwrap().iter())
        .map(|f| {
            let p = &f["package"];
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn functions_from_a_sam_template_are_the_units_of_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let (_, doc) = scan_json(&db, &["fixtures/templates/sam-short-tags"]);
    let hello =
        doc["bundles"].as_array().unwrap().iter().find(|b| b["name"] == "HelloFunction").expect("HelloFunction");
    assert_eq!(hello["kind"], "function");
    assert_eq!(hello["runtime"], "nodejs16.x");
    assert_eq!(hello["handler"], "app.handler");
    assert_eq!(hello["template"], "fixtures/templates/sam-short-tags/template.yaml");
    assert_eq!(hello["hygiene"][0]["kind"], "deprecated-runtime");
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().contains("function PyFunction: no lockfile or artifact found")),
        "{warnings:?}"
    );
}

/// `BUNDLEGUARD_NOW` is the scan's clock: `nodejs16.x` (deprecated on 2024-06-12) is not yet
/// deprecated on a day before that, and is on a day after.
#[test]
fn the_pinned_clock_decides_what_is_deprecated() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let hygiene_on = |day: &str| {
        let out = bundleguard(&db)
            .current_dir(repo_root())
            .env("BUNDLEGUARD_NOW", day)
            .args(["scan", "--format", "json", "--offline", "fixtures/templates/sam-short-tags"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let hello = doc["bundles"].as_array().unwrap().iter().find(|b| b["name"] == "HelloFunction").cloned();
        let kinds = hello.expect("HelloFunction")["hygiene"].as_array().unwrap().clone();
        kinds.iter().map(|h| h["kind"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(!hygiene_on("2024-06-01T00:00:00Z").contains(&"deprecated-runtime".to_owned()));
    assert!(hygiene_on("2024-07-01T00:00:00Z").contains(&"deprecated-runtime".to_owned()));
}

#[test]
#[ignore = "needs ../shared: corpus/bundles"]
fn shared_corpus_deployment_zip_gives_the_findings_of_the_folder_it_was_built_from() {
    let shared = shared();
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    for name in ["nodejs-lambda-old-deps", "python-lambda-old-deps"] {
        let folder = shared.join("corpus/bundles").join(name);
        let zip = shared.join("corpus/bundles").join(format!("{name}.zip"));
        let (_, from_folder) = scan_json(&db, &[folder.to_str().unwrap()]);
        let (code, from_zip) = scan_json(&db, &[zip.to_str().unwrap()]);
        assert_eq!(code, 1, "{name}");
        assert_eq!(from_zip["bundles"][0]["format"], "artifact");
        let keys = finding_keys(&from_zip);
        assert!(!keys.is_empty(), "{name}");
        assert_eq!(keys, finding_keys(&from_folder), "{name}: zip and folder disagree");
        assert_eq!(from_zip["bundles"][0]["hygiene"], serde_json::json!([]), "{name}: no drift, nothing dev shipped");
    }
}

fn write_zip(path: &Path, files: &[(&str, &str)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, text) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn dev_packages_shipped_in_a_zip_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let zip = dir.path().join("function.zip");
    let lock = r#"{"name": "fn", "lockfileVersion": 3, "packages": {
        "": {"name": "fn", "dependencies": {"lodash": "4.17.15"}, "devDependencies": {"minimist": "1.2.5"}},
        "node_modules/lodash": {"version": "4.17.15"},
        "node_modules/minimist": {"version": "1.2.5", "dev": true}}}"#;
    write_zip(
        &zip,
        &[
            ("index.js", "exports.handler = async () => 1;"),
            ("package-lock.json", lock),
            ("node_modules/lodash/package.json", r#"{"name": "lodash", "version": "4.17.15"}"#),
            ("node_modules/minimist/package.json", r#"{"name": "minimist", "version": "1.2.5"}"#),
        ],
    );
    let (code, doc) = scan_json(&db, &["--artifact", zip.to_str().unwrap()]);
    assert_eq!(code, 1);
    let bundle = &doc["bundles"][0];
    let dev: Vec<&Value> =
        bundle["hygiene"].as_array().unwrap().iter().filter(|h| h["kind"] == "dev-shipped").collect();
    assert_eq!(dev.len(), 1, "{}", bundle["hygiene"]);
    assert_eq!(dev[0]["package"], "minimist@1.2.5");
    assert!(
        finding_keys(&doc).iter().any(|(name, _, id)| name == "minimist" && id == "GHSA-xvch-5gv4-984h"),
        "what ships is judged"
    );
}

#[test]
fn a_truncated_zip_and_a_zip_bomb_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let good = dir.path().join("good.zip");
    write_zip(&good, &[("node_modules/lodash/package.json", r#"{"name": "lodash", "version": "4.17.21"}"#)]);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() - 30]).unwrap();
    let (code, doc) = scan_json(&db, &[truncated.to_str().unwrap()]);
    assert_eq!(code, 2, "an unreadable artifact means an incomplete scan");
    assert!(doc["errors"][0]["path"].as_str().unwrap().ends_with("truncated.zip"));

    let bomb = dir.path().join("bomb.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("node_modules/x/package.json", options).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    let (code, doc) = scan_json(&db, &[bomb.to_str().unwrap()]);
    assert_eq!(code, 2);
    let message = doc["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("ratio") || message.contains("bomb") || message.contains("large"), "{message}");
}

#[test]
fn lockfiles_outside_template_functions_are_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let repo = dir.path().join("repo");
    let lock = std::fs::read_to_string(repo_root().join("fixtures/scan/lambda-repo/orders-webhook/package-lock.json"))
        .unwrap();
    for sub in ["fn", "tools"] {
        std::fs::create_dir_all(repo.join(sub)).unwrap();
        std::fs::write(repo.join(sub).join("package-lock.json"), &lock).unwrap();
    }
    std::fs::write(
        repo.join("template.yaml"),
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Orders:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn/\n      Handler: index.handler\n      Runtime: nodejs22.x\n",
    )
    .unwrap();
    let (_, doc) = scan_json(&db, &[repo.to_str().unwrap()]);
    let names: Vec<&str> = doc["bundles"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Orders", "tools"], "{}", doc["warnings"]);
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .ends_with("tools: not the code of any function or layer in the templates found")),
        "{warnings:?}"
    );
}

/// Runs `scan --format json --offline PATH` with or without `GITHUB_ACTIONS=true`.
fn scan_json_env(db: &Path, path: &Path, github_actions: bool) -> (i32, Value) {
    let mut cmd = bundleguard(db);
    cmd.env_remove("GITHUB_ACTIONS");
    if github_actions {
        cmd.env("GITHUB_ACTIONS", "true");
    }
    let out = cmd.args(["scan", "--format", "json", "--offline", "--no-inventory"]).arg(path).output().unwrap();
    let doc =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

#[test]
fn nothing_to_scan_is_a_warning_and_an_error_under_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let empty = dir.path().join("empty");
    fs_err::create_dir_all(empty.join("docs")).unwrap();
    fs_err::write(empty.join("docs/README.md"), "no code").unwrap();
    let (code, doc) = scan_json_env(&db, &empty, false);
    assert_eq!(code, 0);
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().ends_with("empty: nothing to scan: no template, lockfile or artifact found")),
        "{warnings:?}"
    );
    let (code, doc) = scan_json_env(&db, &empty, true);
    assert_eq!(code, 2, "{doc}");
    assert!(doc["errors"][0]["message"].as_str().unwrap().starts_with("nothing was scanned"), "{doc}");
}

#[test]
fn functions_of_unsupported_runtimes_are_named_with_their_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(dir.path());
    let (_, doc) = scan_json_env(&db, &repo_root().join("fixtures/templates/sam-unsupported-runtimes"), false);
    // Every declared function is a bundle of the report, read or not, with its coverage.
    let mut coverage: Vec<(&str, &str)> = doc["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["name"].as_str().unwrap(), b["coverage"].as_str().unwrap()))
        .collect();
    coverage.sort_unstable();
    let names: Vec<&str> = coverage.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["CustomFunction", "DotnetFunction", "GoDepFunction", "JavaFunction", "NodeFunction", "RubyFunction"]
    );
    assert!(coverage.contains(&("NodeFunction", "read")), "{coverage:?}");
    assert!(
        coverage.contains(&("JavaFunction", "unsupported runtime java21: dependency tree not read")),
        "{coverage:?}"
    );
    assert_eq!(doc["summary"]["not_read"], 5);
    let warnings: Vec<&str> = doc["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    for want in [
        "function JavaFunction: unsupported runtime java21: dependency tree not read",
        "function DotnetFunction: unsupported runtime dotnet8: dependency tree not read",
        "function RubyFunction: unsupported runtime ruby3.3: dependency tree not read",
        "function CustomFunction: runtime provided.al2023 with no go.mod, Cargo.lock or built binary found",
        "function GoDepFunction: only a legacy Gopkg.lock (dep)",
    ] {
        assert!(warnings.iter().any(|w| w.contains(want)), "{want}: {warnings:?}");
    }
}
