//! OpenVEX in and out: the ignores of a policy written with `--format openvex` validate against
//! the OpenVEX schema and, read back with `--vex` (or `vex = [...]` in the policy), give the same
//! statuses, shown as `vex`; a hand-written statement with a justification works the same way.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::repo_root;
use crate::schema as validate;

fn scan(db: &Path, root: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = assert_cmd::Command::cargo_bin("bundleguard")
        .expect("binary")
        .current_dir(repo_root())
        .arg("--db")
        .arg(db)
        .args(["scan", "--no-inventory", "--source", "advisories", "--format", "json"])
        .args(args)
        .arg(root)
        .output()
        .expect("runs");
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

/// (bundle, package, advisory id) -> status.
fn statuses(report: &Value) -> BTreeMap<(String, String, String), String> {
    let mut out = BTreeMap::new();
    for b in report["bundles"].as_array().unwrap() {
        for f in b["findings"].as_array().unwrap() {
            let key = (b["name"].to_string(), f["package"]["name"].to_string(), f["id"].to_string());
            out.insert(key, f["status"].as_str().unwrap().to_owned());
        }
    }
    out
}

fn copy_example(to: &Path) {
    for sub in ["orders-webhook", "report-api"] {
        fs_err::create_dir_all(to.join(sub)).unwrap();
        for entry in fs_err::read_dir(repo_root().join("fixtures/scan/lambda-repo").join(sub)).unwrap() {
            let entry = entry.unwrap();
            fs_err::copy(entry.path(), to.join(sub).join(entry.file_name())).unwrap();
        }
    }
}

fn assert_valid_openvex(doc: &Value) {
    let errors = validate::schema_errors("openvex_json_schema.json", &[], doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn ignores_to_openvex_and_back_give_the_same_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let root = dir.path().join("repo");
    copy_example(&root);
    fs_err::write(
        root.join("bundleguard.toml"),
        "[[ignore]]\nid = \"GHSA-xvch-5gv4-984h\"\nreason = \"minimist only parses our own constant argv\"\n\n\
         [[ignore]]\nid = \"CVE-2020-14343\"\nreason = \"yaml.safe_load only\"\n",
    )
    .unwrap();
    let vex_file = dir.path().join("vex.json");
    let (code, ignored) = scan(&db, &root, &["--report", &format!("openvex={}", vex_file.display())]);
    assert_eq!(code, Some(1));
    let doc: Value = serde_json::from_str(&fs_err::read_to_string(&vex_file).unwrap()).unwrap();
    assert_valid_openvex(&doc);
    assert_eq!(doc["statements"].as_array().unwrap().len(), 2, "{doc:#}");
    let before = statuses(&ignored);
    assert_eq!(before.values().filter(|s| *s == "ignored").count(), 2, "{before:#?}");

    fs_err::remove_file(root.join("bundleguard.toml")).unwrap();
    let (code, vexed) = scan(&db, &root, &["--vex", &vex_file.display().to_string()]);
    assert_eq!(code, Some(1));
    let after: BTreeMap<_, _> =
        statuses(&vexed).into_iter().map(|(k, s)| (k, if s == "vex" { "ignored".to_owned() } else { s })).collect();
    assert_eq!(after, before, "ignored -> vex, everything else the same");
    assert_eq!(vexed["summary"]["gating"], ignored["summary"]["gating"]);

    // The statuses written again as OpenVEX are still valid, and name the same decisions.
    let again = dir.path().join("again.json");
    scan(&db, &root, &["--vex", &vex_file.display().to_string(), "--report", &format!("openvex={}", again.display())]);
    let again: Value = serde_json::from_str(&fs_err::read_to_string(&again).unwrap()).unwrap();
    assert_valid_openvex(&again);
    assert_eq!(again["statements"], doc["statements"]);
}

#[test]
fn a_hand_written_not_affected_statement_in_the_policy_is_status_vex() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let root = dir.path().join("repo");
    copy_example(&root);
    let doc = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://openvex.dev/docs/example/vex-1",
        "author": "Orders team",
        "timestamp": "2026-11-30T10:00:00Z",
        "version": 1,
        "statements": [
            {"vulnerability": {"name": "CVE-2020-28168"}, "products": [{"@id": "pkg:npm/axios@0.21.0"}],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
            {"vulnerability": {"name": "GHSA-cph5-m8f7-6c5x"}, "products": [{"@id": "pkg:npm/axios@0.21.0"}],
             "status": "affected", "action_statement": "upgrade"}
        ]
    });
    assert_valid_openvex(&doc);
    fs_err::write(root.join("team.vex.json"), doc.to_string()).unwrap();
    fs_err::write(root.join("bundleguard.toml"), "vex = [\"team.vex.json\"]\n").unwrap();
    let (_, report) = scan(&db, &root, &[]);
    let s = statuses(&report);
    let status = |id: &str| s.iter().find(|((_, _, i), _)| i.contains(id)).map(|(_, v)| v.as_str());
    assert_eq!(status("GHSA-4w2v-q235-vp99"), Some("vex"), "named by its CVE alias");
    assert_eq!(status("GHSA-cph5-m8f7-6c5x"), Some("gating"), "an affected statement changes nothing");

    // A not_affected statement with neither justification nor impact statement is an error
    // naming the file.
    fs_err::write(
        root.join("team.vex.json"),
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"status":"not_affected"}]}"#,
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("bundleguard")
        .unwrap()
        .arg("--db")
        .arg(&db)
        .args(["scan", "--no-inventory", "--source", "advisories"])
        .arg(&root)
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("team.vex.json") && stderr.contains("justification or an impact_statement"), "{stderr}");
}

/// With nothing ignored there is no valid OpenVEX document (`statements` has `minItems: 1`, as
/// the schema check below shows): `--format openvex` and `--report openvex=FILE` write nothing,
/// not even an empty file, say so on stderr, and leave the exit status as the verdict set it.
#[test]
fn nothing_to_state_writes_no_openvex_document() {
    let empty = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://openvex.dev/docs/bundleguard/vex-0",
        "author": "bundleguard",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": []
    });
    assert!(!validate::schema_errors("openvex_json_schema.json", &[], &empty).is_empty(), "the schema refuses it");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let file = dir.path().join("out.vex.json");
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("bundleguard")
            .expect("binary")
            .current_dir(repo_root())
            .arg("--db")
            .arg(&db)
            .args(["scan", "--no-inventory", "--source", "advisories"])
            .args(args)
            .arg("fixtures/scan/lambda-repo")
            .output()
            .expect("runs")
    };
    let report_arg = format!("openvex={}", file.display());
    for args in [
        &["--format", "openvex"][..],
        &["--report", &report_arg],
        &["--format", "openvex", "--output", &report_arg[8..]],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: the README example fails, as without openvex");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no OpenVEX document was written"), "{args:?}: {stderr}");
        if args[0] == "--format" && args.len() == 2 {
            assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
        } else if args[0] == "--report" {
            assert!(!out.stdout.is_empty(), "the table still goes to stdout");
        }
        assert!(!file.exists(), "{args:?}: no file written");
    }
}
