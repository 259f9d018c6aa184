//! `bundleguard deps`: exit code, stdout and stderr together, on fixtures of this module's
//! formats (npm formats are tested by their own module).

use assert_cmd::Command;

use crate::common;
use crate::snapshot::run_snapshot;

/// `bundleguard deps ARGS`, run from the fixtures folder.
fn deps(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("bundleguard").expect("binary");
    cmd.current_dir(common::fixture("")).arg("deps").args(args);
    cmd
}

fn transcript(args: &[&str]) -> String {
    run_snapshot(&mut deps(args))
}

#[test]
fn tree_with_scope_markers() {
    insta::assert_snapshot!(transcript(&["pypi/poetry-v1-category"]));
}

#[test]
fn tree_of_uv_project_with_dev_group() {
    insta::assert_snapshot!(transcript(&["pypi/uv-dev-git"]));
}

#[test]
fn json_layout() {
    insta::assert_snapshot!(transcript(&["go/replace-exclude", "--format", "json"]));
}

#[test]
fn scope_prod_drops_dev_only_packages() {
    let out = deps(&["pypi/uv-dev-git", "--scope", "prod"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("pytest") && !stdout.contains("iniconfig"), "{stdout}");
    assert!(stdout.contains("requests 2.31.0"), "{stdout}");
}

#[test]
fn one_bad_lockfile_does_not_stop_the_others() {
    insta::assert_snapshot!(transcript(&["go"]));
}

#[test]
fn manifest_without_lockfile_is_reported() {
    insta::assert_snapshot!(transcript(&["cargo/no-lockfile"]));
}

#[test]
fn requirements_warnings_name_the_line() {
    insta::assert_snapshot!(transcript(&["pypi/requirements-includes"]));
}

#[test]
fn missing_path_exits_2() {
    insta::assert_snapshot!(transcript(&["does/not/exist"]));
}
