//! The HTML report: escaping and its Content-Security-Policy in the bytes, then the real thing in
//! Debian's headless chromium (`tests/browser/report.mjs` through playwright-core): the README
//! example's report and one of a hostile advisory load without console errors, make no request,
//! run no injected script, and the filters change the visible row count. Skips visibly when node
//! or chromium is missing (`scripts/test.sh` installs chromium).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::repo_root;
use crate::sync::{copy_bucket, rewrite_bucket};

const HOSTILE: &str = "</td></tr></table><script>window.__bundleguard_pwned=true</script>\
<img src=x onerror=\"window.__bundleguard_pwned=true\"><a href=\"javascript:window.__bundleguard_pwned=true\">x</a>\
<link rel=stylesheet href=\"http://127.0.0.1:9/x.css\"><style>body{display:none}</style>' \"&";

/// Scans the README example (advisories from `bucket`) and writes the HTML report.
fn html_report(bucket: &Path, dir: &Path) -> PathBuf {
    html_report_of("fixtures/scan/lambda-repo", bucket, dir)
}

/// Scans `fixture` (advisories from `bucket`; the scan must fail) and writes the HTML report.
fn html_report_of(fixture: &str, bucket: &Path, dir: &Path) -> PathBuf {
    let report = dir.join("report.html");
    let out = assert_cmd::Command::cargo_bin("bundleguard")
        .expect("binary")
        .current_dir(repo_root())
        .arg("--db")
        .arg(dir.join("db.sqlite"))
        .args(["scan", "--no-inventory", "--format", "html", "--source"])
        .arg(bucket)
        .arg(fixture)
        .arg("--output")
        .arg(&report)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    report
}

fn hostile_bucket(dir: &Path) {
    copy_bucket(&repo_root().join("advisories"), dir, &["npm", "PyPI"]);
    rewrite_bucket(dir, "npm", |mut records| {
        for (id, record) in &mut records {
            if id == "GHSA-xvch-5gv4-984h" {
                record["summary"] = Value::from(HOSTILE);
                record["details"] = Value::from(HOSTILE);
            }
        }
        records
    });
}

#[test]
fn html_report_escapes_advisory_text_and_pins_its_script_and_style() {
    let bucket = tempfile::tempdir().unwrap();
    hostile_bucket(bucket.path());
    let dir = tempfile::tempdir().unwrap();
    let html = fs_err::read_to_string(html_report(bucket.path(), dir.path())).unwrap();
    assert!(!html.contains("__bundleguard_pwned=true</script>"), "raw script from advisory text");
    assert!(!html.contains("<img"), "raw HTML from advisory text");
    assert!(!html.contains("href=\"javascript:"), "a javascript: link");
    assert!(html.contains("&lt;script&gt;window.__bundleguard_pwned=true&lt;/script&gt;"), "the text is shown escaped");
    assert_eq!(html.matches("<script>").count(), 1, "one script: ours");
    let csp = html.split("http-equiv=\"Content-Security-Policy\" content=\"").nth(1).and_then(|s| s.split('"').next());
    let csp = csp.expect("a CSP meta tag");
    assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    // Readable without JavaScript: the filter form only appears when the script runs.
    assert!(html.contains("<form id=\"filters\" hidden>"));
    assert!(html.contains("axios 0.21.0 -&gt; 0.21.2 clears 2 findings"), "the fix plan is in the report");
}

/// node, Debian's chromium and the playwright-core package (installed under `target/` when
/// missing, never a browser download), or `None` after one "skipped:" line.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let skip = |why: &str| {
        #[expect(clippy::print_stdout, reason = "the one line that says a test was skipped")]
        {
            println!("skipped: html browser test: {why}");
        }
        None
    };
    let chromium =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|p| p.exists());
    let Some(chromium) = chromium else { return skip("chromium not installed (scripts/test.sh installs it)") };
    if Command::new("node").arg("--version").output().is_err() {
        return skip("node not installed");
    }
    let prefix = repo_root().join("target").join("playwright");
    let package = prefix.join("node_modules").join("playwright-core");
    if !package.join("package.json").exists() {
        let npm = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("playwright-core@1.57.0")
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .status();
        if !npm.is_ok_and(|s| s.success()) {
            return skip("playwright-core could not be installed with npm");
        }
    }
    Some((chromium, package))
}

fn load_in_browser(report: &Path, chromium: &Path, package: &Path, shots: Option<&Path>) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(repo_root().join("tests/browser/report.mjs")).arg(report);
    if let Some(s) = shots {
        cmd.arg(s);
    }
    let out = cmd.env("CHROMIUM", chromium).env("PLAYWRIGHT_CORE", package).output().expect("node runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn assert_clean_load(run: &Value) {
    assert_eq!(run["console_errors"], Value::Array(vec![]), "{run}");
    assert_eq!(run["page_errors"], Value::Array(vec![]), "{run}");
    assert_eq!(run["requests"], Value::Array(vec![]), "no network request: {run}");
    assert_eq!(run["injected"], Value::Bool(false), "{run}");
    assert_eq!(run["filters_visible"], Value::Bool(true), "the script ran under the CSP: {run}");
}

/// Rows left after unticking `high`, then `vulnerability`, as counted from the data attributes.
fn assert_filters_work(run: &Value) {
    let by = &run["before"]["by_severity"];
    let total: u64 = by.as_object().expect("counts").values().filter_map(Value::as_u64).sum();
    let high = by["high"].as_u64().unwrap_or(0);
    assert!(high > 0, "{run}");
    assert_eq!(run["before"]["rows"].as_u64(), Some(total), "{run}");
    assert_eq!(run["after_high_off"]["rows"].as_u64(), Some(total - high), "{run}");
    assert_eq!(run["after_high_off"]["counter"].as_u64(), Some(total - high), "{run}");
    assert_eq!(run["after_vulnerability_off"]["rows"].as_u64(), Some(0), "{run}");
}

/// The summary's not-evaluated counts and every function's coverage line are on screen; `read`
/// lines say how many registry packages were checked, `not-read` lines say why.
fn assert_coverage_visible(run: &Value, not_read: &[(&str, &str)], not_evaluated: &str) {
    let c = &run["coverage"];
    assert_eq!(c["summary_visible"], Value::Bool(true), "{c}");
    assert_eq!(c["not_evaluated_packages"].as_str(), Some(not_evaluated), "{c}");
    assert_eq!(c["not_read_functions"].as_str(), Some(not_read.len().to_string().as_str()), "{c}");
    let units = c["units"].as_array().expect("units");
    assert!(!units.is_empty(), "{c}");
    for u in units {
        assert_eq!(u["visible"], Value::Bool(true), "{u}");
        let text = u["text"].as_str().unwrap_or_default();
        if let Some((_, why)) = not_read.iter().find(|(name, _)| u["name"] == *name) {
            assert_eq!(u["coverage"], "not-read", "{u}");
            assert!(text.contains(why), "{u}");
        } else {
            assert_eq!(u["coverage"], "read", "{u}");
            assert!(text.contains("registry packages checked against the advisories"), "{u}");
        }
    }
}

#[test]
fn html_report_in_chromium_loads_cleanly_and_filters() {
    let Some((chromium, package)) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = html_report(&repo_root().join("advisories"), dir.path());
    let shots = std::env::var_os("BUNDLEGUARD_SCREENSHOTS").map(PathBuf::from);
    let run = load_in_browser(&report, &chromium, &package, shots.as_deref());
    assert_clean_load(&run);
    assert_filters_work(&run);
    assert_coverage_visible(&run, &[], "0");

    // Five functions whose trees cannot be read: each says why, and the summary counts them.
    let sam_dir = tempfile::tempdir().unwrap();
    let report =
        html_report_of("fixtures/templates/sam-unsupported-runtimes", &repo_root().join("advisories"), sam_dir.path());
    let run = load_in_browser(&report, &chromium, &package, None);
    assert_clean_load(&run);
    let not_read = [
        ("CustomFunction", "runtime provided.al2023 with no go.mod, Cargo.lock or built binary found"),
        ("DotnetFunction", "unsupported runtime dotnet8: dependency tree not read"),
        ("GoDepFunction", "only a legacy Gopkg.lock (dep), which bundleguard does not read"),
        ("JavaFunction", "unsupported runtime java21: dependency tree not read"),
        ("RubyFunction", "unsupported runtime ruby3.3: dependency tree not read"),
    ];
    assert_coverage_visible(&run, &not_read, "0");

    let bucket = tempfile::tempdir().unwrap();
    hostile_bucket(bucket.path());
    let hostile_dir = tempfile::tempdir().unwrap();
    let report = html_report(bucket.path(), hostile_dir.path());
    let run = load_in_browser(&report, &chromium, &package, None);
    assert_clean_load(&run);
    assert_filters_work(&run);
}
