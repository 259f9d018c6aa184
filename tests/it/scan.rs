//! `bundleguard scan` end to end over real lockfiles in `fixtures/` and a database synced from
//! `advisories/`: findings, paths, ignores (valid, expired, unknown), thresholds, baseline,
//! osv-scanner.toml, bad input, no database, and exit codes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::snapshot::run_snapshot;
use crate::sync::{bundleguard, synced_fixture_db};

fn db() -> PathBuf {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| synced_fixture_db(&tempfile::tempdir().unwrap().keep())).clone()
}

/// `bundleguard scan ARGS` from the repository root, on the database synced from `advisories/`.
fn scan_cmd(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = bundleguard(&db());
    cmd.current_dir(repo_root()).arg("scan").args(args);
    cmd
}

/// Runs a scan from the repository root; returns (exit code, stdout, stderr).
fn scan(args: &[&str]) -> (i32, String, String) {
    let out = scan_cmd(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scan_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = scan(&all);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, doc)
}

fn finding<'a>(doc: &'a Value, bundle_suffix: &str, id: &str) -> Option<&'a Value> {
    let bundle = doc["bundles"].as_array()?.iter().find(|b| b["path"].as_str().unwrap().ends_with(bundle_suffix))?;
    bundle["findings"].as_array()?.iter().find(|f| f["id"] == id)
}

/// A policy folder: copies the example repo and writes the given policy files beside it.
fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("scan/lambda-repo"), dir.path());
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn findings_with_paths_fixes_and_a_failing_verdict() {
    let (code, doc) = scan_json(&["fixtures/scan/lambda-repo"]);
    assert_eq!(code, 1, "high findings fail the default policy");
    assert_eq!(doc["verdict"], "fail");
    assert_eq!(doc["policy"]["fail_on"], "high");
    let paths: Vec<&str> = doc["bundles"].as_array().unwrap().iter().map(|b| b["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "fixtures/scan/lambda-repo/orders-webhook/package-lock.json",
            "fixtures/scan/lambda-repo/report-api/requirements.txt"
        ]
    );
    let minimist = finding(&doc, "package-lock.json", "GHSA-xvch-5gv4-984h").expect("minimist finding");
    assert_eq!(
        minimist["package"],
        serde_json::json!({"ecosystem": "npm", "name": "minimist", "version": "1.2.5", "scope": "prod", "direct": true})
    );
    assert_eq!(minimist["severity"], "critical");
    assert_eq!(minimist["fixed"], serde_json::json!(["1.2.6"]));
    assert_eq!(minimist["paths"], serde_json::json!([["minimist@1.2.5"]]));
    assert_eq!(minimist["status"], "gating");
    assert!(minimist["line"].as_u64().is_some());
    // A transitive package: the path names the direct dependency to upgrade.
    let bundle = &doc["bundles"][0];
    let transitive: Vec<&Value> =
        bundle["findings"].as_array().unwrap().iter().filter(|f| f["paths"][0].as_array().unwrap().len() > 1).collect();
    for f in &transitive {
        assert_eq!(f["upgrade"][0], f["paths"][0][0]);
    }
    let pyyaml = finding(&doc, "requirements.txt", "PYSEC-2021-142").unwrap();
    assert_eq!(pyyaml["aliases"], serde_json::json!(["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"]));
}

#[test]
fn thresholds_decide_the_exit_code() {
    assert_eq!(scan_json(&["fixtures/scan/lambda-repo", "--fail-on", "critical"]).0, 1);
    let (code, doc) =
        scan_json(&["fixtures/scan/lambda-repo/orders-webhook", "--fail-on", "critical", "--config", "/dev/null"]);
    assert_eq!(code, 1, "minimist is critical");
    assert_eq!(doc["summary"]["gating"], 1);
    let dir = repo_with(&[("bundleguard.toml", "fail-on = \"critical\"\n")]);
    let (code, doc) = scan_json(&[
        dir.path().join("report-api").to_str().unwrap(),
        "--config",
        dir.path().join("bundleguard.toml").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "pyyaml is critical: {}", doc["summary"]);
    let below: Vec<&Value> =
        doc["bundles"][0]["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "high").collect();
    assert!(below.iter().all(|f| f["status"] == "below-threshold"));
}

#[test]
fn ignores_valid_expired_and_unknown() {
    let policy = r#"
fail-on = "critical"

[[ignore]]
id = "CVE-2021-44906"          # an alias of GHSA-xvch-5gv4-984h (minimist)
reason = "minimist is only used by the build script"
until = "2099-01-01"

[[ignore]]
id = "PYSEC-2020-96"
reason = "full_load is never called"
until = "2020-01-01"

[[ignore]]
id = "GHSA-0000-0000-0000"
reason = "typo"

[[ignore]]
id = "PYSEC-2021-142"
reason = "only for the other function"
path = "orders-webhook"
"#;
    let dir = repo_with(&[("bundleguard.toml", policy)]);
    let out = bundleguard(&db()).current_dir(dir.path()).args(["scan", ".", "--format", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let minimist = finding(&doc, "package-lock.json", "GHSA-xvch-5gv4-984h").unwrap();
    assert_eq!(minimist["status"], "ignored");
    assert_eq!(
        minimist["ignore"],
        serde_json::json!({"reason": "minimist is only used by the build script", "until": "2099-01-01"})
    );
    assert_eq!(finding(&doc, "requirements.txt", "PYSEC-2020-96").unwrap()["status"], "gating", "expired ignore");
    assert_eq!(
        finding(&doc, "requirements.txt", "PYSEC-2021-142").unwrap()["status"],
        "gating",
        "ignore limited to another path"
    );
    let warnings: Vec<&str> = doc["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(
        warnings.iter().any(|w| w.ends_with("the ignore of PYSEC-2020-96 expired on 2020-01-01 and no longer applies")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.ends_with("the ignore of GHSA-0000-0000-0000 matched no finding")),
        "{warnings:?}"
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("expired on 2020-01-01"), "warnings reach stderr too: {stderr}");
}

#[test]
fn policy_errors_name_the_file_and_key() {
    let dir = repo_with(&[("bundleguard.toml", "fail-on = \"high\"\nfail-onn = \"low\"\n")]);
    insta::assert_snapshot!(
        "unknown_key",
        run_snapshot(bundleguard(&db()).current_dir(dir.path()).args(["scan", "."]))
    );
    let dir = repo_with(&[("bundleguard.toml", "[[ignore]]\nid = \"GHSA-x\"\n")]);
    insta::assert_snapshot!(
        "ignore_without_reason",
        run_snapshot(bundleguard(&db()).current_dir(dir.path()).args(["scan", "."]))
    );
}

#[test]
fn osv_scanner_toml_ignores_are_honoured() {
    let osv = "[[IgnoredVulns]]\nid = \"GHSA-xvch-5gv4-984h\"\nignoreUntil = 2099-12-31\nreason = \"build only\"\n";
    let dir = repo_with(&[("osv-scanner.toml", osv)]);
    let out = bundleguard(&db())
        .current_dir(dir.path())
        .args(["scan", "orders-webhook", "--format", "json", "--fail-on", "critical"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    // osv-scanner.toml is looked up in the first PATH; here PATH is a subfolder, so copy it there.
    assert_eq!(out.status.code(), Some(1), "not found in orders-webhook/: {}", doc["summary"]);
    std::fs::copy(dir.path().join("osv-scanner.toml"), dir.path().join("orders-webhook/osv-scanner.toml")).unwrap();
    let out = bundleguard(&db())
        .current_dir(dir.path())
        .args(["scan", "orders-webhook", "--format", "json", "--fail-on", "critical"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(finding(&doc, "package-lock.json", "GHSA-xvch-5gv4-984h").unwrap()["ignore"]["reason"], "build only");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_baseline_gates_only_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let (_, stdout, _) = scan(&["fixtures/scan/lambda-repo/orders-webhook", "--format", "json"]);
    std::fs::write(&base, stdout).unwrap();
    let (code, doc) = scan_json(&["fixtures/scan/lambda-repo", "--baseline", base.to_str().unwrap()]);
    assert_eq!(code, 1, "the Python bundle is new against the baseline");
    assert!(doc["bundles"][0]["findings"].as_array().unwrap().iter().all(|f| f["status"] == "baseline"));
    assert_eq!(finding(&doc, "requirements.txt", "PYSEC-2021-142").unwrap()["status"], "gating");
    let (code, _) = scan_json(&["fixtures/scan/lambda-repo/orders-webhook", "--baseline", base.to_str().unwrap()]);
    assert_eq!(code, 0);
}

/// The example's npm function with minimist moved to `devDependencies` (and marked `dev` in the
/// lockfile, as npm writes it): its critical advisory is reported as dev-only and does not gate.
#[test]
fn dev_only_findings_do_not_gate_unless_asked() {
    let dir = repo_with(&[]);
    let lock_path = dir.path().join("orders-webhook/package-lock.json");
    let mut lock: Value = serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    let root = &mut lock["packages"][""];
    let version = root["dependencies"].as_object_mut().unwrap().remove("minimist").unwrap();
    root["devDependencies"] = serde_json::json!({"minimist": version});
    lock["packages"]["node_modules/minimist"]["dev"] = Value::Bool(true);
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    let webhook = dir.path().join("orders-webhook");
    let args = ["--fail-on", "critical", "--config", "/dev/null"];
    let (code, doc) = scan_json(&[&[webhook.to_str().unwrap()][..], &args].concat());
    let minimist = finding(&doc, "package-lock.json", "GHSA-xvch-5gv4-984h").expect("minimist is still reported");
    assert_eq!(minimist["package"]["scope"], "dev");
    assert_eq!(minimist["status"], "dev-only");
    assert_eq!(code, 0, "nothing else is critical: {}", doc["summary"]);
    let (code, doc) = scan_json(&[&[webhook.to_str().unwrap()][..], &args, &["--include-dev"]].concat());
    assert_eq!(finding(&doc, "package-lock.json", "GHSA-xvch-5gv4-984h").unwrap()["status"], "gating");
    assert_eq!(code, 1);
}

#[test]
fn a_broken_lockfile_is_named_and_the_rest_is_scanned() {
    let dir = repo_with(&[]);
    std::fs::create_dir_all(dir.path().join("broken")).unwrap();
    std::fs::write(dir.path().join("broken/package-lock.json"), "{\"lockfileVersion\": 3, \"packages\": {").unwrap();
    let out = bundleguard(&db())
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "--fail-on", "critical"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["errors"][0]["path"], "broken/package-lock.json");
    assert!(doc["errors"][0]["message"].as_str().unwrap().starts_with("1:"), "{}", doc["errors"]);
    assert_eq!(doc["bundles"].as_array().unwrap().len(), 2);
    assert_eq!(out.status.code(), Some(1), "the policy failed on what could be scanned");
}

#[test]
fn no_database_offline_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bundleguard(&dir.path().join("none.db"));
    cmd.current_dir(repo_root()).args(["scan", "fixtures/scan/lambda-repo", "--offline"]);
    insta::assert_snapshot!(run_snapshot(&mut cmd));
    assert!(!dir.path().join("none.db").exists(), "an offline scan creates no database");
}

#[test]
fn no_database_syncs_what_the_scan_needs_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let out = bundleguard(&db)
        .current_dir(repo_root())
        .args(["scan", "fixtures/scan/lambda-repo/orders-webhook", "--format", "json", "--source", "advisories"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let status = crate::sync::status_json(&db);
    assert!(status["ecosystems"][0]["advisories"].as_u64().unwrap() > 0, "npm synced");
    assert_eq!(status["ecosystems"][1]["advisories"], 0, "PyPI not needed, not synced");
}

#[test]
fn reports_are_deterministic_and_escape_control_characters() {
    let (_, a, _) = scan(&["fixtures/scan/lambda-repo", "--format", "json"]);
    let (_, b, _) = scan(&["fixtures/scan/lambda-repo", "--format", "json"]);
    assert_eq!(a, b);
    let (_, table, _) = scan(&["fixtures/scan/lambda-repo"]);
    assert!(!table.contains('\x1b'), "no colour when piped");
    assert!(table.contains("FAIL: 39 findings in 2 bundles"), "{table}");
}

/// One scan of the example, every format written with `--report`: SARIF and CycloneDX from a real
/// scan are valid against the official schemas, and the Markdown names the verdict.
#[test]
fn reports_from_a_real_scan_are_schema_valid() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let (code, _, stderr) = scan(&[
        "fixtures/scan/lambda-repo",
        "--format",
        "json",
        "--output",
        &file("report.json"),
        "--report",
        &format!("sarif={}", file("report.sarif")),
        "--report",
        &format!("cyclonedx={}", file("sbom.json")),
        "--report",
        &format!("markdown={}", file("summary.md")),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };
    let sarif = read("report.sarif");
    let errors = crate::schema::schema_errors("sarif-2.1.0-rtm.5.json", &[], &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 39);
    let minimist = results.iter().find(|r| r["ruleId"] == "GHSA-xvch-5gv4-984h").unwrap();
    let location = &minimist["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "fixtures/scan/lambda-repo/orders-webhook/package-lock.json");
    assert!(location["region"]["startLine"].as_u64().is_some());
    let bom = read("sbom.json");
    let resources = [
        ("http://cyclonedx.org/schema/spdx.schema.json", "spdx.schema.json"),
        ("http://cyclonedx.org/schema/jsf-0.82.schema.json", "jsf-0.82.schema.json"),
    ];
    let errors = crate::schema::schema_errors("bom-1.6.schema.json", &resources, &bom);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(bom["components"].as_array().unwrap().iter().any(|c| c["purl"] == "pkg:npm/minimist@1.2.5"));
    assert!(!bom["vulnerabilities"].as_array().unwrap().is_empty());
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.starts_with("## ❌ bundleguard: failed"), "{md}");
}
