//! Every report format end to end: a crafted hostile OSV advisory (synced from a local folder
//! source) scanned in every format leaves no raw control or invisible character, no workflow
//! command at a line start, no HTML and no autolink in any output; an incomplete scan says
//! `incomplete` in every format and exits 2.

use std::path::Path;

use bundleguard::report::escape::is_invisible;
use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::sync::{bundleguard, copy_bucket, rewrite_bucket, synced_fixture_db};

const HOSTILE_ID: &str = "GHSA-h0st-1le0-t3xt";
/// A folder name that is itself hostile: a workflow command and a bidi override.
const HOSTILE_DIR: &str = "::error::svc\u{202e}cod";

/// The example npm bucket plus the hostile record, its summary grown to 200 KB.
fn hostile_bucket(root: &Path) {
    copy_bucket(&repo_root().join("advisories"), root, &["npm"]);
    let text = std::fs::read_to_string(fixture(&format!("npm/hostile-advisory/{HOSTILE_ID}.json"))).unwrap();
    let mut record: Value = serde_json::from_str(&text).unwrap();
    let summary = format!("{}{}", record["summary"].as_str().unwrap(), "A".repeat(200_000));
    record["summary"] = Value::from(summary);
    rewrite_bucket(root, "npm", |mut records| {
        records.push((HOSTILE_ID.to_owned(), record));
        records
    });
}

/// A repository whose one function folder (with a hostile name) holds `lockfile`.
fn repo(dir: &Path, folders: &[(&str, &str)]) {
    for (folder, lockfile) in folders {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
        std::fs::write(dir.join(folder).join("package-lock.json"), lockfile).unwrap();
    }
}

/// Runs `scan .` in `dir` writing every format; returns (exit code, table on stdout, stderr of
/// a second run in JSON, and each file by format name).
fn scan_every_format(db: &Path, dir: &Path, extra: &[&str]) -> (i32, String, String, Vec<(&'static str, String)>) {
    let formats = ["json", "sarif", "cyclonedx", "markdown"];
    let out_dir = tempfile::tempdir().unwrap();
    let mut cmd = bundleguard(db);
    cmd.current_dir(dir).args(["scan", "."]).args(extra);
    for f in formats {
        cmd.arg("--report").arg(format!("{f}={}", out_dir.path().join(f).display()));
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let table = String::from_utf8(out.stdout).unwrap();
    let again = bundleguard(db).current_dir(dir).args(["scan", ".", "--format", "json"]).args(extra).output().unwrap();
    assert_eq!(again.status.code(), Some(code));
    let stderr = format!("{}{}", String::from_utf8(out.stderr).unwrap(), String::from_utf8(again.stderr).unwrap());
    let files = formats.iter().map(|f| (*f, std::fs::read_to_string(out_dir.path().join(f)).unwrap())).collect();
    (code, table, stderr, files)
}

/// No raw control (other than newlines) or invisible character, no workflow command at the
/// start of any line even once the runner trims the indentation, no legacy `##[` anywhere.
fn assert_inert(name: &str, text: &str) {
    for c in text.chars() {
        assert!(!is_invisible(c) && (c == '\n' || !c.is_control()), "{name}: raw {c:?}");
    }
    assert!(!text.contains("\n::") && !text.starts_with("::"), "{name}");
    assert!(!text.contains("##["), "{name}: the runner honours the legacy prefix anywhere in a line");
    for line in text.lines() {
        let line = line.trim_start();
        assert!(!line.starts_with("::") && !line.starts_with("##["), "{name}: {line}");
    }
}

#[test]
fn a_hostile_advisory_is_inert_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let bucket = tmp.path().join("bucket");
    hostile_bucket(&bucket);
    let lockfile = std::fs::read_to_string(fixture("npm/hostile-advisory/package-lock.json")).unwrap();
    let dir = tmp.path().join("repo");
    repo(&dir, &[(HOSTILE_DIR, &lockfile)]);
    let db = tmp.path().join("db.sqlite");
    let source = bucket.display().to_string();
    let (code, table, stderr, files) = scan_every_format(&db, &dir, &["--source", &source]);
    assert_eq!(code, 1, "the hostile advisory is high and gates: {stderr}");

    assert_inert("table", &table);
    assert_inert("stderr", &stderr);
    assert!(table.lines().all(|l| l.chars().count() < 1_100), "a 200 KB summary is capped in the table");
    assert!(table.contains("           <script>x</script> https://evil.example/x www.evil.example @admin"), "{table}");
    assert!(table.contains("\\u{202e}gnp.exe\\u{200b}\\n::error file=x,line=1::pwned\\r\\n\\u{23}#[error]"), "{table}");
    assert!(table.contains("\\u{feff}\\u{2066}iso\\u{2069}"), "{table}");
    assert!(table.contains("\\u{1b}[2J"), "{table}");

    for (name, text) in &files {
        assert_inert(name, text);
    }
    let file = |name: &str| &files.iter().find(|(n, _)| *n == name).unwrap().1;
    let json: Value = serde_json::from_str(file("json")).unwrap();
    let finding = json["bundles"][0]["findings"].as_array().unwrap().iter().find(|f| f["id"] == HOSTILE_ID).unwrap();
    let summary = finding["summary"].as_str().unwrap();
    assert!(summary.contains("\u{202e}gnp.exe") && summary.len() > 200_000, "the JSON keeps the exact text");
    assert!(file("json").contains("\\u202egnp.exe"), "written as an escape");
    assert!(summary.contains("\r\n##[error]") && file("json").contains("\\r\\n\\u0023#[error]"));

    let md = file("markdown");
    assert!(!md.contains("<script") && !md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    let without_our_links = md.replace("(https://osv.dev/vulnerability/", "");
    assert!(!without_our_links.contains("://"), "no autolink-able URL: {md}");
    assert!(!without_our_links.to_ascii_lowercase().contains("www."), "{md}");
    assert!(!md.contains("@admin") && md.contains("`@`admin"), "no mention: {md}");
    assert!(
        md.contains("https`:`//evil.example/x www`.`evil.example `@`admin \\u{202e}gnp.exe\\u{200b} \\:\\:error"),
        "{md}"
    );
    assert!(md.lines().all(|l| l.chars().count() < 2_000), "long text is capped in Markdown");

    let sarif: Value = serde_json::from_str(file("sarif")).unwrap();
    let rule = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().iter().find(|r| r["id"] == HOSTILE_ID);
    let help = rule.unwrap()["help"]["markdown"].as_str().unwrap();
    assert!(!help.contains("<script") && !help.contains("https://evil"), "{help}");
    let result = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == HOSTILE_ID).unwrap();
    let message = result["message"]["text"].as_str().unwrap();
    assert!(message.contains("\\u{202e}gnp.exe") && !message.contains('\n'), "{message}");

    let bom: Value = serde_json::from_str(file("cyclonedx")).unwrap();
    let vuln = bom["vulnerabilities"].as_array().unwrap().iter().find(|v| v["id"] == HOSTILE_ID).unwrap();
    assert!(!vuln["description"].as_str().unwrap().contains('\n'));
}

#[test]
fn an_incomplete_scan_says_so_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let db = synced_fixture_db(tmp.path());
    let lockfile = std::fs::read_to_string(fixture("npm/hostile-advisory/package-lock.json")).unwrap();
    let dir = tmp.path().join("repo");
    repo(&dir, &[("good", &lockfile), ("broken", "{\"lockfileVersion\": 3, \"packages\": {")]);
    let (code, table, stderr, files) = scan_every_format(&db, &dir, &["--offline"]);
    assert_eq!(code, 2, "nothing gates, one lockfile unreadable: {table}{stderr}");
    let file = |name: &str| &files.iter().find(|(n, _)| *n == name).unwrap().1;

    assert!(table.lines().last().unwrap().starts_with("INCOMPLETE: 0 findings in 1 bundles"), "{table}");
    assert!(table.contains("error: broken/package-lock.json: "), "{table}");
    let json: Value = serde_json::from_str(file("json")).unwrap();
    assert_eq!(json["verdict"], "incomplete");
    assert_eq!(json["errors"][0]["path"], "broken/package-lock.json");
    assert!(file("markdown").starts_with("## ⚠️ bundleguard: incomplete"), "{}", file("markdown"));
    assert!(file("markdown").contains("#### Files that could not be read\n\n- `broken/package-lock.json`: "));
    let sarif: Value = serde_json::from_str(file("sarif")).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["properties"]["verdict"], "incomplete");
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    let note = &run["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert!(note["message"]["text"].as_str().unwrap().starts_with("broken/package-lock.json: "), "{note}");
    let bom: Value = serde_json::from_str(file("cyclonedx")).unwrap();
    assert!(bom["components"].as_array().unwrap().iter().any(|c| c["name"] == "left-pad"), "what was read is listed");
}
