//! The GitHub Action (`action.yml`) run the way a runner runs a composite action: each `run:`
//! step in order with `bash --noprofile --norc -eo pipefail`, `${{ }}` expressions substituted in
//! `env:`, `GITHUB_OUTPUT` / `GITHUB_ENV` / `GITHUB_PATH` / `GITHUB_STEP_SUMMARY` as temp files;
//! `uses:` steps (the cache) are skipped. Pass, fail, pull-request mode, workflow-command
//! injection from advisory text, and the pinning rules of the action and example workflows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::sync::{copy_bucket, rewrite_bucket};

/// What a run of the action left behind.
struct Run {
    /// The action's outputs (`outputs.<name>.value` evaluated).
    outputs: BTreeMap<String, String>,
    summary: String,
    /// Everything the steps printed (stdout and stderr), in order.
    log: String,
    /// Exit status of the step that failed (`0` when all passed), and its id or name.
    status: i32,
    failed_step: Option<String>,
}

/// The expression contexts a composite action's steps see.
#[derive(Default)]
struct Contexts {
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    github: BTreeMap<String, String>,
    runner: BTreeMap<String, String>,
}

impl Contexts {
    /// Evaluates the plain property references the action uses; anything else fails the test, so
    /// `action.yml` stays within what this runner understands.
    fn eval(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.trim().split('.').collect();
        let found = match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned(),
            ["steps", id, "outputs", name] => {
                Some(self.steps.get(*id).and_then(|o| o.get(*name)).cloned().unwrap_or_default())
            }
            ["runner", name] => self.runner.get(*name).cloned(),
            ["github", rest @ ..] => Some(self.github.get(&rest.join(".")).cloned().unwrap_or_default()),
            _ => None,
        };
        found.unwrap_or_else(|| panic!("unsupported expression in action.yml: {expr}"))
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.eval(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

fn action() -> Value {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn yaml_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("not a scalar: {other}"),
    }
}

/// Parses a `GITHUB_OUTPUT` / `GITHUB_ENV` file: `name=value` lines and `name<<DELIM` blocks.
fn parse_kv_file(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut map = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            map.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            map.insert(name.to_owned(), value.to_owned());
        } else if !line.is_empty() {
            panic!("malformed line in {}: {line:?}", path.display());
        }
    }
    map
}

/// The `inputs` (defaults, then `with:`), `github` and `runner` contexts of one run.
fn contexts(
    action: &Value,
    workspace: &Path,
    runner_temp: &Path,
    with: &[(&str, &str)],
    github: &[(&str, &str)],
) -> Contexts {
    let mut ctx = Contexts {
        github: github.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..Contexts::default()
    };
    ctx.github.insert("action_path".into(), repo_root().display().to_string());
    ctx.github.insert("workspace".into(), workspace.display().to_string());
    ctx.runner.insert("os".into(), "Linux".into());
    ctx.runner.insert("temp".into(), runner_temp.display().to_string());
    for (name, spec) in action["inputs"].as_object().unwrap() {
        let default = ctx.substitute(&yaml_str(&spec["default"]));
        ctx.inputs.insert(name.clone(), default);
    }
    for (name, value) in with {
        assert!(ctx.inputs.contains_key(*name), "no input {name}");
        ctx.inputs.insert((*name).to_owned(), (*value).to_owned());
    }
    ctx
}

/// Runs the action's `run:` steps in `workspace` with the given inputs (`with:`) and `github`
/// context values, with the freshly built bundleguard on PATH (`version: local`).
fn run_action(workspace: &Path, with: &[(&str, &str)], github: &[(&str, &str)]) -> Run {
    let action = action();
    let temp = tempfile::tempdir().unwrap();
    let files = RunnerFiles::new(temp.path());
    std::fs::create_dir_all(&files.temp).unwrap();
    let mut ctx = contexts(&action, workspace, &files.temp, with, github);
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_bundleguard")).parent().unwrap().to_owned();
    let mut path_dirs = vec![bin_dir.display().to_string()];
    let mut log = String::new();
    for (i, step) in action["runs"]["steps"].as_array().unwrap().iter().enumerate() {
        let Some(script) = step["run"].as_str() else {
            assert!(step["uses"].is_string(), "step {i} neither runs nor uses");
            continue;
        };
        assert_eq!(step["shell"], "bash", "step {i}: shell");
        assert!(step.get("if").is_none(), "step {i}: run steps take no `if:` (this runner does not evaluate it)");
        assert!(!script.contains("${{"), "step {i}: expressions inside run: (script injection)");
        let output_file = temp.path().join(format!("output_{i}"));
        let script_file = temp.path().join(format!("step_{i}.sh"));
        std::fs::write(&script_file, script).unwrap();
        let mut cmd = runner_command(&script_file, workspace, &files, &path_dirs);
        cmd.env("GITHUB_OUTPUT", &output_file);
        cmd.envs(parse_kv_file(&files.env));
        for (name, value) in step["env"].as_object().into_iter().flatten() {
            cmd.env(name, ctx.substitute(&yaml_str(value)));
        }
        let out = cmd.output().unwrap();
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        if let Some(id) = step["id"].as_str() {
            ctx.steps.insert(id.to_owned(), parse_kv_file(&output_file));
        }
        let added = std::fs::read_to_string(&files.path).unwrap_or_default();
        path_dirs = added.lines().rev().map(str::to_owned).chain([bin_dir.display().to_string()]).collect();
        if !out.status.success() {
            let name = step["id"].as_str().or(step["name"].as_str()).map(str::to_owned);
            return finish(&action, &ctx, &files.summary, log, out.status.code().unwrap_or(-1), name);
        }
    }
    finish(&action, &ctx, &files.summary, log, 0, None)
}

/// The files a runner hands every step, and its temp folder.
struct RunnerFiles {
    summary: PathBuf,
    env: PathBuf,
    path: PathBuf,
    temp: PathBuf,
    home: PathBuf,
}

impl RunnerFiles {
    fn new(dir: &Path) -> RunnerFiles {
        RunnerFiles {
            summary: dir.join("step_summary.md"),
            env: dir.join("env"),
            path: dir.join("path"),
            temp: dir.join("_temp"),
            home: dir.to_owned(),
        }
    }
}

/// `bash --noprofile --norc -eo pipefail SCRIPT` in the workspace with a runner's environment.
fn runner_command(script: &Path, workspace: &Path, files: &RunnerFiles, path_dirs: &[String]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"]).arg(script).current_dir(workspace);
    cmd.env_clear()
        .env("PATH", format!("{}:{}", path_dirs.join(":"), std::env::var("PATH").unwrap_or_default()))
        .env("HOME", &files.home)
        .env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ACTION_PATH", repo_root())
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_ENV", &files.env)
        .env("GITHUB_PATH", &files.path)
        .env("GITHUB_STEP_SUMMARY", &files.summary)
        .env("RUNNER_TEMP", &files.temp)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        // Hermetic, as every program cargo runs (.cargo/config.toml): the scans use cached
        // registry metadata only and never reach a real registry.
        .env("BUNDLEGUARD_NO_METADATA", "1");
    cmd
}

fn finish(action: &Value, ctx: &Contexts, summary: &Path, log: String, status: i32, failed: Option<String>) -> Run {
    let outputs = action["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| (name.clone(), ctx.substitute(spec["value"].as_str().unwrap())))
        .collect();
    let summary = std::fs::read_to_string(summary).unwrap_or_default();
    Run { outputs, summary, log, status, failed_step: failed }
}

/// The workflow commands a runner would act on in `log`, honouring `::stop-commands::`: lines
/// whose trimmed start is `::`, and lines holding the legacy `##[` prefix anywhere.
fn processed_commands(log: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut commands = Vec::new();
    for line in log.lines() {
        let trimmed = line.trim_start();
        if let Some(token) = &stopped {
            if trimmed == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        if let Some(token) = trimmed.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_owned());
        } else if trimmed.starts_with("::") || line.contains("##[") {
            commands.push(trimmed.to_owned());
        }
    }
    commands
}

/// Only the action's own annotations are processed as commands, and nothing at all in the log
/// would be one even without `::stop-commands::`.
fn assert_commands_are_our_own(log: &str) {
    for command in processed_commands(log) {
        assert!(
            command.starts_with("::error title=bundleguard::") || command.starts_with("::warning title=bundleguard::"),
            "workflow command from outside the action's own text: {command:?}\n{log}"
        );
    }
    for line in log.lines() {
        let t = line.trim_start();
        let ours = t.starts_with("::stop-commands::")
            || t.starts_with("::error title=bundleguard::")
            || t.starts_with("::warning title=bundleguard::")
            || (t.starts_with("::") && t.ends_with("::") && t.len() == 36);
        assert!((ours || !t.starts_with("::")) && !line.contains("##["), "command-like line: {line:?}");
    }
}

/// Copies a fixture folder into a fresh workspace.
fn workspace(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(from, dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn offline_inputs<'a>(db: &'a str, source: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("version", "local"), ("db", db), ("source", source)]
}

fn advisories() -> String {
    repo_root().join("advisories").display().to_string()
}

fn assert_sarif(path: &Path) {
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn action_passes_on_a_bundle_without_advisories() {
    let ws = workspace(&fixture("action/pass-repo"));
    let db = ws.path().join("../bg-pass.db").display().to_string();
    let src = advisories();
    let run = run_action(ws.path(), &offline_inputs(&db, &src), &[]);
    assert_eq!((run.status, run.failed_step.as_deref()), (0, None), "{}", run.log);
    assert_eq!(run.outputs["verdict"], "pass");
    assert_eq!(run.outputs["findings"], "0");
    assert_eq!(run.outputs["sarif"], "bundleguard.sarif");
    assert_sarif(&ws.path().join("bundleguard.sarif"));
    assert!(run.summary.contains("bundleguard: passed"), "{}", run.summary);
    assert!(run.log.contains("ecosystems to sync: npm"), "{}", run.log);
    assert_commands_are_our_own(&run.log);
    let _ = std::fs::remove_file(&db);
}

#[test]
fn action_reports_an_incomplete_scan_as_incomplete_never_pass() {
    let ws = workspace(&fixture("action/pass-repo"));
    let broken = ws.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("package-lock.json"), "{\"lockfileVersion\": 3, \"packages\": {").unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("db.sqlite").display().to_string();
    let src = advisories();
    let run = run_action(ws.path(), &offline_inputs(&db, &src), &[]);
    assert_eq!((run.status, run.failed_step.as_deref()), (2, Some("scan")), "{}", run.log);
    assert_eq!(run.outputs["verdict"], "incomplete");
    assert!(run.summary.contains("bundleguard: incomplete"), "{}", run.summary);
    assert!(run.log.contains("::error title=bundleguard::incomplete scan"), "{}", run.log);
}

#[test]
fn action_fails_the_step_exactly_when_the_policy_fails() {
    let ws = workspace(&fixture("scan/lambda-repo"));
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("db.sqlite").display().to_string();
    let src = advisories();
    let mut with = offline_inputs(&db, &src);
    with.push(("sarif", "out/results.sarif")); // its folder is created
    let run = run_action(ws.path(), &with, &[]);
    assert_eq!((run.status, run.failed_step.as_deref()), (1, Some("scan")), "{}", run.log);
    assert_eq!(run.outputs["verdict"], "fail");
    assert_eq!(run.outputs["findings"], "39");
    assert_eq!(run.outputs["sarif"], "out/results.sarif");
    assert_sarif(&ws.path().join("out/results.sarif"));
    assert!(run.summary.contains("bundleguard: failed"), "{}", run.summary);
    assert!(run.log.contains("::error title=bundleguard::policy failed: 21 findings at or above high"), "{}", run.log);
    assert!(run.log.contains("ecosystems to sync: npm,PyPI"), "{}", run.log);
    assert_commands_are_our_own(&run.log);

    // The same findings at `critical` only: 3 gate. At a level nothing reaches, it passes.
    let with_critical: Vec<_> = with.iter().copied().chain([("fail-on", "critical")]).collect();
    let run = run_action(ws.path(), &with_critical, &[]);
    assert_eq!(run.status, 1, "{}", run.log);
    assert!(run.log.contains("policy failed: 3 findings at or above critical"), "{}", run.log);
    let ws = workspace(&fixture("scan/lambda-repo/orders-webhook"));
    let run = run_action(ws.path(), &[with_critical.as_slice(), &[("path", "package-lock.json")]].concat(), &[]);
    assert_eq!(run.status, 1, "minimist is critical: {}", run.log);
}

#[test]
fn bad_inputs_fail_before_anything_runs() {
    let ws = workspace(&fixture("action/pass-repo"));
    let src = advisories();
    for (input, value) in [("fail-on", "severe"), ("include-dev", "yes"), ("path", "--help"), ("base", "main;rm")] {
        let run = run_action(ws.path(), &[("version", "local"), ("source", &src), (input, value)], &[]);
        assert_eq!((run.status, run.failed_step.as_deref()), (2, Some("setup")), "{input}: {}", run.log);
        assert!(run.log.contains(&format!("::error title=bundleguard::input {input} must")), "{}", run.log);
        assert!(!run.log.contains(value), "the bad value is not echoed: {}", run.log);
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn pull_request_mode_gates_only_findings_the_change_introduces() {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    git(dir, &["init", "-q", "-b", "main"]);
    copy_tree(&fixture("scan/lambda-repo/report-api"), &dir.join("report-api"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("db.sqlite").display().to_string();
    let src = advisories();
    let pr = [("event.pull_request.base.sha", base.as_str())];

    // The change adds a clean function: the base's findings are known, nothing new gates.
    copy_tree(&fixture("action/pass-repo/hello-fn"), &dir.join("hello-fn"));
    let run = run_action(dir, &offline_inputs(&db, &src), &pr);
    assert_eq!(run.status, 0, "{}", run.log);
    assert_eq!(run.outputs["verdict"], "pass");
    assert_eq!(run.outputs["findings"], "30", "the base's findings are still reported");
    assert!(run.summary.contains(&format!("new against `{base}` gate")), "{}", run.summary);

    // The change adds a vulnerable function: its findings gate.
    copy_tree(&fixture("scan/lambda-repo/orders-webhook"), &dir.join("orders-webhook"));
    let run = run_action(dir, &offline_inputs(&db, &src), &pr);
    assert_eq!(run.status, 1, "{}", run.log);
    assert!(run.log.contains("policy failed: 6 findings at or above high"), "{}", run.log);

    // Without a base (a push), everything gates.
    let run = run_action(dir, &[offline_inputs(&db, &src).as_slice(), &[("base", "")]].concat(), &pr);
    assert!(run.log.contains("policy failed: 21 findings at or above high"), "{}", run.log);
    let worktrees = git(dir, &["worktree", "list"]);
    assert_eq!(worktrees.lines().count(), 1, "the base worktree is removed: {worktrees}");
}

const PAYLOAD: &str = "Evil\n::set-output name=verdict::pass\n  ::add-mask::secret\r\n::warning::pwned | <img src=x onerror=alert(1)> ##[set-output name=x;]y\n| --- |";

#[test]
fn advisory_text_cannot_inject_workflow_commands_or_break_the_summary() {
    let bucket = tempfile::tempdir().unwrap();
    copy_bucket(&repo_root().join("advisories"), bucket.path(), &["npm", "PyPI"]);
    rewrite_bucket(bucket.path(), "npm", |mut records| {
        for (id, record) in &mut records {
            if id == "GHSA-xvch-5gv4-984h" {
                record["summary"] = Value::from(PAYLOAD);
                record["details"] = Value::from(PAYLOAD);
            }
        }
        records
    });
    let ws = workspace(&fixture("scan/lambda-repo"));
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("db.sqlite").display().to_string();
    let src = bucket.path().display().to_string();
    for format in ["table", "json", "markdown"] {
        let with: Vec<_> = offline_inputs(&db, &src).into_iter().chain([("format", format)]).collect();
        let run = run_action(ws.path(), &with, &[]);
        assert_eq!(run.status, 1, "{}", run.log);
        assert_eq!(run.outputs["verdict"], "fail", "the verdict output cannot be overwritten");
        assert!(run.log.contains("::stop-commands::"), "{}", run.log);
        assert_commands_are_our_own(&run.log);
        assert_summary_intact(&run.summary);
    }
}

/// No line of the summary is a workflow command, no raw HTML from advisory text, and each table
/// row has as many cells as its header.
fn assert_summary_intact(summary: &str) {
    assert!(summary.contains("GHSA-xvch-5gv4-984h"), "{summary}");
    assert!(!summary.contains("<img"), "raw HTML from advisory text: {summary}");
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut header: Option<usize> = None;
    for line in summary.lines() {
        assert!(!line.trim_start().starts_with("::"), "command-like summary line: {line:?}");
        if line.starts_with('|') {
            let n = cells(line);
            assert_eq!(*header.get_or_insert(n), n, "table row with a different cell count: {line:?}");
        } else {
            header = None;
        }
    }
}

/// Every `uses:` of a third-party action is pinned by a full commit SHA with a version comment;
/// no `${{ }}` inside `run:`; checkouts do not persist credentials; workflows reduce permissions.
#[test]
fn action_and_example_workflows_follow_the_pinning_rules() {
    let mut files = vec![repo_root().join("action.yml")];
    for entry in std::fs::read_dir(repo_root().join("examples/workflows")).unwrap() {
        files.push(entry.unwrap().path());
    }
    assert!(files.len() >= 3, "the action and two example workflows");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for line in text.lines().filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:")) {
            let target = line.split_once("uses:").unwrap().1.trim();
            assert!(pinned(target), "{}: not pinned by SHA with a version comment: {line}", file.display());
        }
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let steps: Vec<&Value> = if name == "action.yml" {
            doc["runs"]["steps"].as_array().unwrap().iter().collect()
        } else {
            assert!(doc["permissions"].is_object(), "{name}: top-level permissions");
            let jobs = doc["jobs"].as_object().unwrap();
            jobs.values().flat_map(|j| j["steps"].as_array().unwrap()).collect()
        };
        for step in steps {
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("${{"), "{name}: expression inside run: {run}");
            }
            if step["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")) {
                assert_eq!(step["with"]["persist-credentials"], Value::Bool(false), "{name}: checkout");
            }
        }
    }
}

/// `owner/repo[/path]@<40 hex> # v...`, or the action under test itself.
fn pinned(target: &str) -> bool {
    let Some((action, rest)) = target.split_once('@') else {
        return false;
    };
    let (sha, comment) = rest.split_once(" # v").unwrap_or((rest, ""));
    !action.is_empty() && sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) && !comment.trim().is_empty()
}

/// The shell sanitizer on raw (unescaped) attacker text: the simulated runner sees commands in the
/// raw text, none once it went through `bg_untrusted`.
#[test]
fn untrusted_output_is_printed_with_commands_stopped_and_defanged() {
    assert_eq!(processed_commands(PAYLOAD).len(), 3, "the simulator sees the raw injections");
    let out = Command::new("bash")
        .args(["-c", r#". "$1/action/lib.sh"; bg_untrusted printf '%s\n' "$2"; echo "rc=$?""#, "-"])
        .arg(repo_root())
        .arg(PAYLOAD)
        .env("RUNNER_TEMP", std::env::temp_dir())
        .output()
        .unwrap();
    let log = String::from_utf8(out.stdout).unwrap();
    assert!(log.ends_with("rc=0\n"), "{log}");
    assert!(processed_commands(&log).is_empty(), "{log}");
    assert_commands_are_our_own(&log);
    assert!(log.contains(": :set-output name=verdict::pass") && log.contains("# #[set-output"), "{log}");
}

/// Runs `action/install.sh` for version 0.1.0 from repository `o/r`, with a `curl` on PATH that
/// serves files from `release` (no network); returns (exit status, log, what the installed
/// binary printed, empty when nothing was added to GITHUB_PATH).
fn install_from(release: &Path) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let curl = "#!/bin/sh\nout=\nwhile [ $# -gt 1 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n\
                cp \"$RELEASE/$(basename \"$1\")\" \"$out\"\n";
    std::fs::write(fake.join("curl"), curl).unwrap();
    // An older bundleguard on PATH (so one installed on the machine cannot short-cut the test).
    std::fs::write(fake.join("bundleguard"), "#!/bin/sh\necho bundleguard 0.0.1\n").unwrap();
    Command::new("chmod").arg("+x").arg(fake.join("curl")).arg(fake.join("bundleguard")).status().unwrap();
    let files = RunnerFiles::new(dir.path());
    std::fs::create_dir_all(&files.temp).unwrap();
    let mut cmd =
        runner_command(&repo_root().join("action/install.sh"), dir.path(), &files, &[fake.display().to_string()]);
    let out = cmd.env("VERSION", "0.1.0").env("REPOSITORY", "o/r").env("RELEASE", release).output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let added = std::fs::read_to_string(&files.path).unwrap_or_default();
    let installed = match added.lines().next() {
        Some(bin) => {
            String::from_utf8_lossy(&Command::new(Path::new(bin).join("bundleguard")).output().unwrap().stdout)
                .into_owned()
        }
        None => String::new(),
    };
    (out.status.code().unwrap_or(-1), log, installed)
}

#[test]
fn install_uses_a_release_binary_only_when_its_checksum_verifies() {
    let release = tempfile::tempdir().unwrap();
    let asset = "bundleguard-0.1.0-x86_64-unknown-linux-gnu.tar.gz";
    let stage = release.path().join("bundleguard-0.1.0");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(stage.join("bundleguard"), "#!/bin/sh\necho bundleguard 0.1.0\n").unwrap();
    let tar = Command::new("tar").args(["-czf", asset, "bundleguard-0.1.0"]).current_dir(release.path()).status();
    assert!(tar.unwrap().success());
    let sum = Command::new("sha256sum").arg(asset).current_dir(release.path()).output().unwrap();
    let sha256 = release.path().join(format!("{asset}.sha256"));
    std::fs::write(&sha256, &sum.stdout).unwrap();

    let (status, log, installed) = install_from(release.path());
    assert_eq!(status, 0, "{log}");
    assert!(log.contains("installed the verified release binary"), "{log}");
    assert_eq!(installed, "bundleguard 0.1.0\n");

    // A tampered binary (or a .sha256 for something else) is refused, with no fallback.
    let other = format!("{}  {asset}\n", "0".repeat(64));
    std::fs::write(&sha256, other).unwrap();
    let (status, log, installed) = install_from(release.path());
    assert_eq!(status, 2, "{log}");
    assert!(log.contains("::error title=bundleguard::checksum mismatch"), "{log}");
    assert!(installed.is_empty() && !log.contains("cargo install"), "{log}");
    std::fs::write(&sha256, "not a checksum\n").unwrap();
    let (status, log, _) = install_from(release.path());
    assert_eq!(status, 2, "{log}");
    assert!(log.contains("refusing to install"), "{log}");
}
