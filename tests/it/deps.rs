//! `bundleguard deps`: exit code, stdout and stderr together, on fixtures of this module's
//! formats (npm formats are tested by their own module).

use assert_cmd::Command;

use crate::common;

/// Runs `bundleguard deps ARGS` from the fixtures folder; returns (exit code, stdout, stderr).
fn deps(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("bundleguard")
        .expect("binary")
        .current_dir(common::fixture(""))
        .arg("deps")
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn transcript(args: &[&str]) -> String {
    let (code, stdout, stderr) = deps(args);
    format!("exit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}")
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
    let (code, stdout, _) = deps(&["pypi/uv-dev-git", "--scope", "prod"]);
    assert_eq!(code, 0);
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
    let (code, stdout, stderr) = deps(&["does/not/exist"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("does/not/exist"), "{stderr}");
}
