//! Living documentation: the README's example run (JSON and table report, from a fresh
//! database synced from `advisories/`), `--help` of every command, and the `--baseline` input,
//! as transcripts (exit code, stdout, stderr) reviewed like code in `snapshots/`.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::repo_root;
use crate::snapshot::run_snapshot;

/// `bundleguard` with none of the `BUNDLEGUARD_*` settings of the environment it runs in (they
/// would show in `--help` and change defaults), and no colour.
fn bundleguard() -> Command {
    let mut cmd = Command::cargo_bin("bundleguard").expect("binary");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BUNDLEGUARD_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// `bundleguard --db <db> scan fixtures/scan/lambda-repo --source advisories ARGS`, from the
/// repository root, as the README shows it.
fn readme_scan(db: &Path, args: &[&str]) -> Command {
    let mut cmd = bundleguard();
    // Hermetic: registry metadata only from the cache (as `.cargo/config.toml` sets for cargo).
    cmd.env("BUNDLEGUARD_NO_METADATA", "1");
    cmd.current_dir(repo_root())
        .arg("--db")
        .arg(db)
        .args(["scan", "fixtures/scan/lambda-repo", "--source", "advisories"])
        .args(args);
    cmd
}

#[test]
fn readme_example_json_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    insta::assert_snapshot!(run_snapshot(&mut readme_scan(&dir.path().join("demo.db"), &["--format", "json"])));
}

#[test]
fn readme_example_table_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    insta::assert_snapshot!(run_snapshot(&mut readme_scan(&dir.path().join("demo.db"), &[])));
}

/// Every command's `--help`, without the environment that would show in `[env: ...]` and at
/// the width clap uses when it knows none (it reads `COLUMNS` first).
#[test]
fn help_of_every_command() {
    let commands: &[&[&str]] = &[
        &[],
        &["scan"],
        &["sync"],
        &["db"],
        &["db", "status"],
        &["query"],
        &["inventory"],
        &["inventory", "list"],
        &["inventory", "forget"],
        &["deps"],
        &["bundles"],
    ];
    for command in commands {
        let mut cmd = bundleguard();
        cmd.env("COLUMNS", "100");
        cmd.args(*command).arg("--help");
        let name = if command.is_empty() { "help".to_owned() } else { format!("help_{}", command.join("_")) };
        insta::assert_snapshot!(name, run_snapshot(&mut cmd));
    }
}

#[test]
fn a_report_used_as_its_own_baseline_leaves_nothing_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let base = dir.path().join("base.json");
    let out = readme_scan(&db, &["--format", "json", "--output"]).arg(&base).output().expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let before: Value = serde_json::from_str(&fs_err::read_to_string(&base).expect("the report")).expect("JSON");
    assert_eq!(before["summary"]["findings"], 39);

    let baseline = ["--baseline", base.to_str().expect("a UTF-8 temp path")];
    let out = readme_scan(&db, &[&["--format", "json"][..], &baseline].concat()).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let after: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let statuses: Vec<&str> = after["bundles"]
        .as_array()
        .expect("bundles")
        .iter()
        .flat_map(|b| b["findings"].as_array().expect("findings"))
        .map(|f| f["status"].as_str().expect("a status"))
        .collect();
    assert_eq!(statuses.len(), 39);
    assert!(statuses.iter().all(|s| *s == "baseline"), "{statuses:?}");
    assert_eq!(after["verdict"], "pass");
    insta::assert_snapshot!(run_snapshot(&mut readme_scan(&db, &baseline)));
}

#[test]
fn a_baseline_of_an_unknown_schema_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base.json");
    fs_err::write(&base, r#"{"schema_version": 2, "bundles": []}"#).expect("write");
    let mut cmd = readme_scan(&dir.path().join("demo.db"), &["--baseline", base.to_str().expect("UTF-8")]);
    insta::assert_snapshot!(run_snapshot(&mut cmd));
}
