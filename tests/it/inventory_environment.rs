//! The environment of a record read from what discovery parsed when `--environment` is not
//! given: Serverless `provider.stage` (`${opt:stage, 'dev'}` read as the framework does without
//! `--stage`), SAM's `samconfig.toml` environment (`SAM_CONFIG_ENV` or `default`, when it has
//! deploy parameters); an explicit `--environment` / `--stage` wins; templates that disagree
//! record no environment and say so.

use std::path::Path;

use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::sync::{bundleguard, copy_bucket};

/// An advisory database synced from the pinned advisories, in a folder of its own.
fn synced() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let bucket = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &bucket, &["npm", "PyPI", "Go", "crates.io"]);
    let out = bundleguard(&tmp.path().join("db.sqlite"))
        .args(["sync", "--quiet", "--source", bucket.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tmp
}

/// Records `paths` as a deploy into a fresh SQLite inventory; returns the environments recorded
/// and the scan's JSON report.
fn recorded(dir: &Path, paths: &[&Path], extra: &[&str], sam_config_env: Option<&str>) -> (Vec<String>, Value) {
    let db = dir.join("db.sqlite");
    let inventory = tempfile::NamedTempFile::new_in(dir).unwrap().into_temp_path();
    fs_err::remove_file(&inventory).unwrap();
    let inventory = inventory.to_str().unwrap();
    let mut scan = bundleguard(&db);
    scan.env_remove("BUNDLEGUARD_ENVIRONMENT")
        .env_remove("SAM_CONFIG_ENV")
        .args(["scan", "--offline", "--format", "json", "--record", "deploy", "--repository", "org/svc"])
        .args(["--inventory", inventory])
        .args(extra)
        .args(paths);
    if let Some(env) = sam_config_env {
        scan.env("SAM_CONFIG_ENV", env);
    }
    let out = scan.output().unwrap();
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let listed =
        bundleguard(&db).args(["inventory", "list", "--format", "json", "--inventory", inventory]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mut envs: Vec<String> =
        listed["bundles"].as_array().unwrap().iter().map(|b| b["environment"].as_str().unwrap().to_owned()).collect();
    assert!(!envs.is_empty(), "nothing recorded: {}", String::from_utf8_lossy(&out.stderr));
    envs.dedup();
    (envs, report)
}

fn warns_of_stages(report: &Value) -> bool {
    report["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("different stages"))
}

#[test]
fn serverless_provider_stage_is_the_environment_unless_one_is_given() {
    let dir = synced();
    let service = fixture("templates/serverless-variables");
    // `stage: ${opt:stage, 'dev'}`: without the deploy's --stage, the framework deploys `dev`.
    assert_eq!(recorded(dir.path(), &[&service], &[], None).0, ["dev"]);
    assert_eq!(recorded(dir.path(), &[&service], &["--stage", "prod"], None).0, ["prod"]);
    assert_eq!(recorded(dir.path(), &[&service], &["--environment", "qa"], None).0, ["qa"]);
}

#[test]
fn sam_config_env_with_deploy_parameters_is_the_environment() {
    let dir = synced();
    let project = fixture("templates/sam-samconfig");
    assert_eq!(recorded(dir.path(), &[&project], &[], None).0, ["default"]);
    assert_eq!(recorded(dir.path(), &[&project], &[], Some("prod")).0, ["prod"]);
    // `staging` has build parameters only: `sam deploy --config-env staging` has no deploy
    // settings there, so the environment is not known.
    assert_eq!(recorded(dir.path(), &[&project], &[], Some("staging")).0, [""]);
    assert_eq!(recorded(dir.path(), &[&project], &["--environment", "eu-prod"], Some("prod")).0, ["eu-prod"]);
}

#[test]
fn templates_that_disagree_record_no_environment_and_say_so() {
    let dir = synced();
    let (envs, report) = recorded(
        dir.path(),
        &[&fixture("templates/serverless-variables"), &fixture("templates/sam-samconfig")],
        &[],
        None,
    );
    assert_eq!(envs, [""]);
    assert!(warns_of_stages(&report), "{}", report["warnings"]);
    let (envs, report) = recorded(
        dir.path(),
        &[&fixture("templates/serverless-variables"), &fixture("templates/sam-samconfig")],
        &["--stage", "prod"],
        None,
    );
    assert_eq!(envs, ["prod"]);
    assert!(!warns_of_stages(&report));
}
