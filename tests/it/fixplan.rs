//! `scan --fix-plan`: the plans for the fixture repositories (snapshot), and each plan applied
//! once, by hand, to a copy of its repository (each lockfile entry edited as the plan says)
//! leaves no gating finding in the planned packages: the plan never moves a package onto a
//! version another advisory hits, so one round is enough.

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

/// The fixture repositories whose plans are snapshot and applied.
const REPOSITORIES: [&str; 4] =
    ["scan/lambda-repo", "yarn/berry-protocols", "yarn/v1-multi-spec-alias", "cargo/v3-workspace"];

#[test]
fn fix_plans_of_the_fixture_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let mut all = String::new();
    for repo in REPOSITORIES {
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

/// Edits the lockfile entry of `package` at `from` to `to`, as a user following the plan would
/// (`npm install`, a requirements pin, `yarn add`/`resolutions`, `cargo update --precise`).
fn apply_change(file: &Path, package: &str, from: &str, to: &str) {
    let text = fs_err::read_to_string(file).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let edited = match name.as_str() {
        "package-lock.json" => edit_package_lock(&text, package, from, to),
        "yarn.lock" => edit_blocks(&text, |header| yarn_header_names(header, package), from, to),
        "Cargo.lock" => edit_blocks(&text, |block_line| block_line == format!("name = \"{package}\""), from, to),
        _ => {
            text.lines()
                .map(|l| match l.split_once("==") {
                    Some((n, v)) if pep503(n) == package && v.trim() == from => format!("{n}=={to}"),
                    _ => l.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        }
    };
    assert_ne!(edited, text, "{package} {from} is in {}", file.display());
    fs_err::write(file, edited).unwrap();
}

fn edit_package_lock(text: &str, package: &str, from: &str, to: &str) -> String {
    let mut lock: Value = serde_json::from_str(text).unwrap();
    for (key, entry) in lock["packages"].as_object_mut().unwrap() {
        let named = key == &format!("node_modules/{package}") || key.ends_with(&format!("/node_modules/{package}"));
        if named && entry["version"] == from {
            entry["version"] = Value::from(to);
        }
    }
    serde_json::to_string_pretty(&lock).unwrap()
}

/// Whether a yarn entry header (`lodash@4.17.15, lodash@^4.17.0:`, `"x@npm:lodash@4.17.4":`)
/// resolves `package`.
fn yarn_header_names(header: &str, package: &str) -> bool {
    header.trim_end_matches(':').split(", ").any(|spec| {
        let spec = spec.trim_matches('"');
        spec.starts_with(&format!("{package}@")) || spec.contains(&format!(":{package}@"))
    })
}

/// In each block (lines up to a blank line) that `is_entry` recognises by one of its lines, the
/// version `from` becomes `to` on every line but the header (yarn `version`/`resolution`, Cargo
/// `version`).
fn edit_blocks(text: &str, is_entry: impl Fn(&str) -> bool, from: &str, to: &str) -> String {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().collect();
        if !lines.iter().any(|l| is_entry(l.trim_end())) {
            out.push(block.to_owned());
            continue;
        }
        let edited: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let header = i == 0 && !l.starts_with(' ') && !l.starts_with('[');
                let version_line = l.trim_start().starts_with("version") || l.trim_start().starts_with("resolution");
                if !header && version_line { l.replace(from, to) } else { (*l).to_owned() }
            })
            .collect();
        out.push(edited.join("\n"));
    }
    let joined = out.join("\n\n");
    if text.ends_with('\n') && !joined.ends_with('\n') { joined + "\n" } else { joined }
}

fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            fs_err::copy(&path, to.join(entry.file_name())).unwrap();
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

/// Applies each repository's plan once, by hand, and rescans: no gating finding is left in a
/// package the plan moved, the plan covered every gating finding, and the README example passes.
/// (Before the plan checked its targets against the whole database, certifi went to 2023.7.22,
/// which PYSEC-2024-230 hits, and the README example needed a second round.)
#[test]
fn applying_the_fix_plan_once_clears_every_planned_package() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    for repo in REPOSITORIES {
        let copy = dir.path().join(repo.replace('/', "-"));
        copy_tree(&repo_root().join("fixtures").join(repo), &copy);
        let out = scan(&db, &["--format", "json"], &copy);
        assert_eq!(out.status.code(), Some(1), "{repo}: {}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut claimed = Vec::new();
        for plan in report["fix_plan"].as_array().expect("a fix_plan section") {
            assert_eq!(plan["no_fix"], Value::Array(vec![]), "{repo}: {plan}");
            let file = copy.join(plan["path"].as_str().unwrap());
            for change in plan["changes"].as_array().unwrap() {
                let [package, from, to] = ["package", "from", "to"].map(|k| change[k].as_str().unwrap());
                apply_change(&file, package, from, to);
                let ids = change["clears"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned());
                claimed.extend(ids.map(|id| (package.to_owned(), id)));
            }
        }
        claimed.sort();
        let mut before = gating(&report);
        before.sort();
        before.dedup();
        claimed.dedup();
        assert_eq!(claimed, before, "{repo}: the plan covers every gating finding");
        let out = scan(&db, &["--format", "json"], &copy);
        let after: Value = serde_json::from_slice(&out.stdout).unwrap();
        let planned: Vec<&String> = claimed.iter().map(|(p, _)| p).collect();
        let left: Vec<(String, String)> = gating(&after).into_iter().filter(|(p, _)| planned.contains(&p)).collect();
        assert!(left.is_empty(), "{repo}: gating after one round of the plan: {left:?}");
        assert_eq!(after["fix_plan"], Value::Array(vec![]), "{repo}");
        assert_eq!(after["verdict"], "pass", "{repo}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{repo}");
    }
}

/// An npm record for a made-up package: one range `[introduced, fixed)` (open when `fixed` is
/// `None`), critical.
fn record(id: &str, package: &str, introduced: &str, fixed: Option<&str>) -> (String, Value) {
    let mut events = vec![serde_json::json!({ "introduced": introduced })];
    events.extend(fixed.map(|f| serde_json::json!({ "fixed": f })));
    let v = serde_json::json!({
        "schema_version": "1.4.0",
        "id": id,
        "modified": "2024-01-01T00:00:00Z",
        "published": "2024-01-01T00:00:00Z",
        "summary": format!("made-up advisory {id} for the fix-plan test"),
        "severity": [{ "type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
        "affected": [{
            "package": { "ecosystem": "npm", "name": package },
            "ranges": [{ "type": "ECOSYSTEM", "events": events }]
        }]
    });
    (id.to_owned(), v)
}

/// A bucket with the pinned npm records plus five made-up ones, and a repository with the two
/// packages they hit: chain-demo (1.1.0 fixes A but B hits [1.1.0, 1.2.0): the plan goes to
/// 1.2.0) and blocked-demo (1.1.0 fixes D but E hits everything from 1.1.0 on: no fix).
fn crafted(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let bucket = dir.join("bucket");
    crate::sync::copy_bucket(&repo_root().join("advisories"), &bucket, &["npm"]);
    crate::sync::rewrite_bucket(&bucket, "npm", |mut records| {
        records.extend([
            // chain-demo: 1.1.0 fixes A but B hits [1.1.0, 1.2.0); C hits [1.3.0, 1.4.0) only.
            record("GHSA-fpla-0000-000a", "chain-demo", "0", Some("1.1.0")),
            record("GHSA-fpla-0000-000b", "chain-demo", "1.1.0", Some("1.2.0")),
            record("GHSA-fpla-0000-000c", "chain-demo", "1.3.0", Some("1.4.0")),
            // blocked-demo: 1.1.0 fixes D but E hits everything from 1.1.0 on, with no fix.
            record("GHSA-fpla-0000-000d", "blocked-demo", "0", Some("1.1.0")),
            record("GHSA-fpla-0000-000e", "blocked-demo", "1.1.0", None),
        ]);
        records
    });
    let repo = dir.join("repo");
    fs_err::create_dir_all(&repo).unwrap();
    let lock = serde_json::json!({
        "name": "fixplan-demo", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": { "name": "fixplan-demo", "version": "1.0.0",
                  "dependencies": { "chain-demo": "1.0.0", "blocked-demo": "1.0.0" } },
            "node_modules/chain-demo": { "version": "1.0.0" },
            "node_modules/blocked-demo": { "version": "1.0.0" }
        }
    });
    fs_err::write(repo.join("package-lock.json"), lock.to_string()).unwrap();
    (bucket, repo)
}

fn scan_crafted(dir: &Path, format: &str) -> std::process::Output {
    let (bucket, repo) = crafted(dir);
    assert_cmd::Command::cargo_bin("bundleguard")
        .expect("binary")
        .arg("--db")
        .arg(dir.join("db.sqlite"))
        .args(["scan", "--no-inventory", "--source"])
        .arg(&bucket)
        .args(["--format", format])
        .arg(&repo)
        .output()
        .expect("runs")
}

/// A target is matched against every advisory of the package, not only the ones found: a fixed
/// version that another advisory hits is skipped for the next named one, and when every named
/// fixed version is hit the plan says which fixes what and what hits it.
#[test]
fn a_plan_skips_fixed_versions_other_advisories_hit_and_says_when_none_clears() {
    let dir = tempfile::tempdir().unwrap();
    let out = scan_crafted(dir.path(), "json");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plan = &report["fix_plan"][0];
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan}");
    assert_eq!(changes[0]["package"], "chain-demo");
    assert_eq!(changes[0]["to"], "1.2.0", "1.1.0 is hit by GHSA-fpla-0000-000b: {plan}");
    assert_eq!(changes[0]["clears"], serde_json::json!(["GHSA-fpla-0000-000a"]));
    assert_eq!(
        plan["no_fix"],
        serde_json::json!([{
            "package": "blocked-demo",
            "version": "1.0.0",
            "ids": ["GHSA-fpla-0000-000d"],
            "reason": "no fixed version clears all advisories: 1.1.0 fixes GHSA-fpla-0000-000d but is hit by GHSA-fpla-0000-000e"
        }])
    );
}

fn scan_example(db: &Path, format: &str) -> String {
    let out = scan(db, &["--format", format], Path::new("fixtures/scan/lambda-repo"));
    assert_eq!(out.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The plan decided by the scan is in every format: SARIF (run `properties.fixPlan`, and each
/// result's `properties.fix`), CycloneDX (`vulnerabilities[].recommendation`), Markdown (a
/// section), each still valid against its schema; the unfixable case says why in each.
#[test]
fn the_plan_is_in_sarif_cyclonedx_and_markdown() {
    use crate::report_schemas::{CYCLONEDX, CYCLONEDX_RESOURCES, SARIF};
    use crate::schema::schema_errors;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let certifi = "certifi 2018.8.24 -> 2024.7.4 clears 2 findings (PYSEC-2022-42986, PYSEC-2023-135): requirements: certifi==2024.7.4";

    let sarif: Value = serde_json::from_str(&scan_example(&db, "sarif")).unwrap();
    assert_eq!(schema_errors(SARIF, &[], &sarif), Vec::<String>::new());
    let plans = sarif["runs"][0]["properties"]["fixPlan"].as_array().expect("fixPlan in the run properties");
    assert_eq!(plans.len(), 2, "{plans:#?}");
    let report_api = plans.iter().find(|p| p["bundle"] == "report-api").expect("report-api's plan");
    let change = report_api["changes"].as_array().unwrap().iter().find(|c| c["package"] == "certifi").unwrap();
    assert_eq!((change["from"].as_str(), change["to"].as_str()), (Some("2018.8.24"), Some("2024.7.4")));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let certifi_result = results.iter().find(|r| r["ruleId"] == "PYSEC-2023-135").expect("a certifi result");
    assert_eq!(certifi_result["properties"]["fix"], serde_json::json!([certifi]));

    let bom: Value = serde_json::from_str(&scan_example(&db, "cyclonedx")).unwrap();
    assert_eq!(schema_errors(CYCLONEDX, &CYCLONEDX_RESOURCES, &bom), Vec::<String>::new());
    let vuln = bom["vulnerabilities"].as_array().unwrap().iter().find(|v| v["id"] == "PYSEC-2023-135").unwrap();
    let recommendation = vuln["recommendation"].as_str().unwrap();
    assert!(recommendation.contains(&format!("Fix plan: report-api: {certifi}.")), "{recommendation}");

    let markdown = scan_example(&db, "markdown");
    let section = &markdown[markdown.find("### 🔧 Fix plan").expect("a fix plan section")..];
    assert!(
        section.contains("- `certifi 2018.8.24 -> 2024.7.4` clears 2 findings (PYSEC-2022-42986, PYSEC-2023-135): `requirements: certifi==2024.7.4`"),
        "{section}"
    );

    let reason =
        "no fixed version clears all advisories: 1.1.0 fixes GHSA-fpla-0000-000d but is hit by GHSA-fpla-0000-000e";
    let crafted = dir.path().join("crafted");
    for format in ["sarif", "cyclonedx", "markdown", "table", "html"] {
        let out = scan_crafted(&crafted.join(format), format);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(reason), "{format} says why blocked-demo has no fix:\n{text}");
        if format == "sarif" {
            assert_eq!(schema_errors(SARIF, &[], &serde_json::from_str(&text).unwrap()), Vec::<String>::new());
        } else if format == "cyclonedx" {
            let bom = serde_json::from_str(&text).unwrap();
            assert_eq!(schema_errors(CYCLONEDX, &CYCLONEDX_RESOURCES, &bom), Vec::<String>::new());
        }
    }
}
