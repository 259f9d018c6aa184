//! `scan --fix-plan`: the plans for the fixture repositories (snapshot), and the plan applied by
//! hand to a copy of the README example (each lockfile line edited as the plan says) makes the
//! next scan pass.

use std::path::Path;

use serde_json::Value;

use crate::common::repo_root;

fn scan(db: &Path, args: &[&str], path: &Path) -> std::process::Output {
    assert_cmd::Command::cargo_bin("bundleguard")
        .expect("binary")
        .current_dir(repo_root())
        .arg("--db")
        .arg(db)
        .args(["scan", "--no-inventory", "--source", "advisories"])
        .args(args)
        .arg(path)
        .output()
        .expect("runs")
}

#[test]
fn fix_plans_of_the_fixture_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let mut all = String::new();
    for repo in ["scan/lambda-repo", "yarn/berry-protocols", "yarn/v1-multi-spec-alias", "cargo/v3-workspace"] {
        let out = scan(&db, &["--fix-plan"], &Path::new("fixtures").join(repo));
        assert_eq!(out.status.code(), Some(1), "{repo}: {}", String::from_utf8_lossy(&out.stderr));
        all.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    insta::assert_snapshot!(all);
}

/// PEP 503 normalization, enough for the fixture's names.
fn pep503(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

fn apply_change(root: &Path, plan_path: &str, package: &str, to: &str) {
    let rel = plan_path.strip_prefix("fixtures/scan/lambda-repo/").unwrap_or(plan_path);
    let file = root.join(rel);
    let text = fs_err::read_to_string(&file).unwrap();
    let edited = if rel.ends_with("package-lock.json") {
        let mut lock: Value = serde_json::from_str(&text).unwrap();
        let entry = &mut lock["packages"][format!("node_modules/{package}")];
        assert!(entry.is_object(), "{package} is in {rel}");
        entry["version"] = Value::from(to);
        serde_json::to_string_pretty(&lock).unwrap()
    } else {
        let lines: Vec<String> = text
            .lines()
            .map(|l| match l.split_once("==") {
                Some((name, _)) if pep503(name) == package => format!("{name}=={to}"),
                _ => l.to_owned(),
            })
            .collect();
        assert_ne!(lines.join("\n"), text.trim_end(), "{package} is pinned in {rel}");
        lines.join("\n") + "\n"
    };
    fs_err::write(&file, edited).unwrap();
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

/// (package, advisory id) of every gating finding of a JSON report.
fn gating(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in report["bundles"].as_array().unwrap() {
        for f in b["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "gating") {
            out.push((f["package"]["name"].as_str().unwrap().to_owned(), f["id"].as_str().unwrap().to_owned()));
        }
    }
    out
}

/// Applies each plan by hand and rescans. Every finding a plan claims to clear is gone after it.
/// A plan only knows the advisories of the versions scanned, so a target version can fall into
/// another advisory's range (certifi 2023.7.22 is in PYSEC-2024-230): the next scan then plans
/// once more. The README example passes after the second plan.
#[test]
fn applying_the_fix_plan_to_the_readme_example_makes_the_next_scan_pass() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let copy = dir.path().join("lambda-repo");
    copy_example(&copy);
    let mut out = scan(&db, &["--format", "json"], &copy);
    let mut rounds = 0;
    while out.status.code() == Some(1) {
        rounds += 1;
        assert!(rounds <= 2, "still failing after {rounds} plans: {}", String::from_utf8_lossy(&out.stdout));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let plans = report["fix_plan"].as_array().expect("a fix_plan section");
        let mut claimed = Vec::new();
        for plan in plans {
            assert_eq!(plan["no_fix"], Value::Array(vec![]), "{plan}");
            for change in plan["changes"].as_array().unwrap() {
                let (package, to) = (change["package"].as_str().unwrap(), change["to"].as_str().unwrap());
                apply_change(&copy, plan["path"].as_str().unwrap(), package, to);
                claimed.extend(
                    change["clears"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|id| (package.to_owned(), id.as_str().unwrap().to_owned())),
                );
            }
        }
        assert_eq!(claimed.len(), gating(&report).len(), "the plan covers every gating finding");
        out = scan(&db, &["--format", "json"], &copy);
        let after: Value = serde_json::from_slice(&out.stdout).unwrap();
        for (package, id) in gating(&after) {
            assert!(!claimed.contains(&(package.clone(), id.clone())), "{package} {id} was claimed cleared");
        }
    }
    assert_eq!(rounds, 2, "the example needs two plans (see above)");
    let after: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after["verdict"], "pass", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(after["fix_plan"], Value::Array(vec![]));
}
