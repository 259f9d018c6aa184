//! The one walk that `scan`, `bundles` and `deps` share: its skip list (build output after
//! `sam build`, CDK asset copies, virtualenvs...), the policy's `exclude` patterns, symbolic
//! links, folders and FIFOs named like lockfiles, unreadable folders, "nothing to scan", and
//! the coverage of every declared function. The three commands are compared on the monorepos of
//! the shared corpus.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use bundleguard::bundle::{self, BundleCoverage, Excludes};
use serde_json::Value;

use crate::common::{fixture, shared};

/// Creates empty (or given) files under `root`.
fn files(root: &Path, list: &[(&str, &str)]) {
    for (rel, text) in list {
        let path = root.join(rel);
        fs_err::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs_err::write(&path, text).expect("write");
    }
}

fn relative(root: &Path, paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.strip_prefix(root).expect("under root").display().to_string()).collect()
}

/// Runs `bundleguard ARGS`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("bundleguard")
        .expect("binary")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str, stderr: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}\n{stderr}"))
}

fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().expect("array").iter().map(|v| v.as_str().expect("string").to_owned()).collect()
}

/// (bundle names, lockfiles) that `bundles --format json PATH` lists.
fn bundles_cli(path: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (code, stdout, stderr) = run(&["bundles", "--format", "json", path.to_str().expect("utf-8")]);
    let doc = json(&stdout, &stderr);
    assert!(code == 0 || !doc["errors"].as_array().expect("errors").is_empty(), "exit {code}: {stderr}");
    let bundles = doc["bundles"].as_array().expect("bundles");
    let names = bundles.iter().map(|b| b["name"].as_str().expect("name").to_owned()).collect();
    let lockfiles = bundles.iter().flat_map(|b| strings(&b["lockfiles"])).collect();
    (names, lockfiles)
}

/// The lockfiles `deps --format json PATH` read or failed to read.
fn deps_cli(path: &Path) -> BTreeSet<String> {
    let (_, stdout, stderr) = run(&["deps", "--format", "json", path.to_str().expect("utf-8")]);
    let doc = json(&stdout, &stderr);
    let parsed = doc["lockfiles"].as_array().expect("lockfiles").iter().map(|l| l["path"].as_str().expect("path"));
    let failed = doc["errors"].as_array().expect("errors").iter().map(|e| e["path"].as_str().expect("path"));
    parsed.chain(failed).filter(|p| bundleguard::lockfile::detect(Path::new(p)).is_some()).map(str::to_owned).collect()
}

#[test]
fn sam_after_build_has_no_phantom_functions() {
    let root = fixture("templates/sam-after-build");
    let d = bundle::discover(&root);
    assert_eq!(d.errors, []);
    assert_eq!(d.warnings, []);
    let names: Vec<&str> = d.bundles.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["OrdersFunction", "PaymentsFunction"], "no `.aws-sam/build/<Fn>` folder bundles");
    assert_eq!(relative(&root, &d.unique_lockfiles()), ["orders/package-lock.json", "payments/requirements.txt"]);
    assert!(d.bundles.iter().all(|b| b.coverage == BundleCoverage::Read));
    // The three commands agree.
    let (names, from_bundles) = bundles_cli(&root);
    assert_eq!(names, BTreeSet::from(["OrdersFunction".to_owned(), "PaymentsFunction".to_owned()]));
    assert_eq!(from_bundles, deps_cli(&root));
    let collected = bundleguard::scan::collect(std::slice::from_ref(&root), &[], &Excludes::default());
    let mut from_scan: Vec<String> = collected.units.iter().map(|u| u.path.clone()).collect();
    from_scan.dedup();
    let prefix = format!("{}/", root.display());
    let from_scan: BTreeSet<String> =
        from_scan.iter().map(|p| p.strip_prefix(&prefix).unwrap_or(p).to_owned()).collect();
    assert_eq!(from_scan, from_bundles);
}

/// `scan .` (what the Action runs) and paths through `..` find the functions' lockfiles: template
/// code paths keep the scanned folder as written.
#[test]
fn dot_and_dotdot_paths_find_the_same_lockfiles() {
    let want = ["hello/package-lock.json"];
    let out = Command::cargo_bin("bundleguard")
        .expect("binary")
        .current_dir(fixture("templates/sam-short-tags"))
        .args(["bundles", "--format", "json", "."])
        .output()
        .expect("runs");
    let doc = json(&String::from_utf8_lossy(&out.stdout), &String::from_utf8_lossy(&out.stderr));
    let hello = doc["bundles"].as_array().and_then(|b| b.iter().find(|b| b["name"] == "HelloFunction")).expect("hello");
    assert_eq!(hello["lockfiles"], serde_json::json!(want));
    let through_dotdot = fixture("../fixtures/templates/sam-short-tags");
    let d = bundle::discover(&through_dotdot);
    let hello = d.bundles.iter().find(|b| b.name == "HelloFunction").expect("hello");
    assert_eq!(relative(&through_dotdot, &hello.lockfiles), want);
}

/// A template given as the path gets the same lockfiles as its folder does (it used to get none).
#[test]
fn a_template_given_as_the_path_finds_its_functions_lockfiles() {
    let root = fixture("templates/sam-after-build");
    let from_file = bundle::discover(&root.join("template.yaml"));
    let from_folder = bundle::discover(&root);
    assert_eq!(from_file.errors, []);
    assert_eq!(from_file.unique_lockfiles(), from_folder.unique_lockfiles());
    assert_eq!(from_file.bundles, from_folder.bundles);
    let out = Command::cargo_bin("bundleguard")
        .expect("binary")
        .current_dir(&root)
        .args(["bundles", "--format", "json", "template.yaml"])
        .output()
        .expect("runs");
    let doc = json(&String::from_utf8_lossy(&out.stdout), &String::from_utf8_lossy(&out.stderr));
    let lockfiles: BTreeSet<String> =
        doc["bundles"].as_array().expect("bundles").iter().flat_map(|b| strings(&b["lockfiles"])).collect();
    let want: BTreeSet<String> =
        ["orders/package-lock.json", "payments/requirements.txt"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(lockfiles, want);
}

#[test]
fn skip_list_and_shrinkwrap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    files(
        root,
        &[
            ("app/package-lock.json", ""),
            ("app/npm-shrinkwrap.json", ""),
            ("app/node_modules/x/package-lock.json", ""),
            ("py/.venv/lib/requirements.txt", ""),
            ("py/env/pyvenv.cfg", "home = /usr/bin\n"),
            ("py/env/lib/requirements.txt", ""),
            ("py/requirements/prod.txt", ""),
            ("py/requirements-dev.txt", ""),
            ("rs/target/Cargo.lock", ""),
            ("go/vendor/x/go.mod", ""),
            ("go/go.mod", ""),
            (".git/Cargo.lock", ""),
            ("svc/.serverless/package-lock.json", ""),
            ("svc/.aws-sam/build/Fn/package-lock.json", ""),
            ("svc/.esbuild/.build/package-lock.json", ""),
            ("cdk/cdk.out/asset.0123/package-lock.json", ""),
            ("cdk/cdk.out/asset.0123/node_modules/y/package-lock.json", ""),
            ("layer/python/lib/python3.12/site-packages/z/requirements.txt", ""),
            ("web/.open-next/server-functions/default/package-lock.json", ""),
        ],
    );
    let d = bundle::discover(root);
    assert_eq!(
        relative(root, &d.unique_lockfiles()),
        ["app/npm-shrinkwrap.json", "go/go.mod", "py/requirements/prod.txt", "py/requirements-dev.txt"]
    );
}

#[test]
fn cdk_asset_copies_are_read_as_template_code_only() {
    let root = fixture("templates/cdk-out");
    let d = bundle::discover(&root);
    assert_eq!(d.errors, []);
    let names: Vec<&str> = d.bundles.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["Handler886CB40B"], "the asset folder is not a bundle of its own");
    assert_eq!(relative(&root, &d.bundles[0].lockfiles), ["cdk.out/asset.abc123/package-lock.json"]);
    assert_eq!(d.bundles[0].coverage, BundleCoverage::Read);
}

/// CDK stages synthesize nested assemblies (`cdk.out/assembly-<Stage>/`) whose templates point
/// at `../asset.*`: their functions are found, the asset copy is not a bundle of its own.
#[test]
fn cdk_stage_assemblies_are_read() {
    let root = fixture("templates/cdk-out-stage");
    let d = bundle::discover(&root);
    assert_eq!(d.errors, []);
    let found: Vec<(&str, Vec<String>)> =
        d.bundles.iter().map(|b| (b.name.as_str(), relative(&root, &b.lockfiles))).collect();
    assert_eq!(found, [("ApiHandler5E7490E8", vec!["cdk.out/asset.def456/package-lock.json".to_owned()])]);
}

#[test]
fn manifests_without_lockfile_are_reported() {
    let root = fixture("");
    let d = bundle::discover(&root);
    assert_eq!(
        relative(&root, &d.unlocked_manifests),
        ["cargo/no-lockfile/Cargo.toml", "pypi/no-lockfile-pyproject/pyproject.toml"]
    );
}

#[test]
fn every_declared_function_is_a_bundle_with_its_coverage() {
    let d = bundle::discover(&fixture("templates/sam-unsupported-runtimes"));
    assert_eq!(d.errors, []);
    let coverage: Vec<(&str, &str, Option<&str>)> =
        d.bundles.iter().map(|b| (b.name.as_str(), b.coverage.as_str(), b.coverage.reason())).collect();
    assert_eq!(
        coverage,
        [
            (
                "CustomFunction",
                "unsupported",
                Some(
                    "runtime provided.al2023 with no go.mod, Cargo.lock or built binary found: dependency tree not read"
                )
            ),
            ("DotnetFunction", "unsupported", Some("unsupported runtime dotnet8: dependency tree not read")),
            (
                "GoDepFunction",
                "unsupported",
                Some("only a legacy Gopkg.lock (dep), which bundleguard does not read: dependency tree not read")
            ),
            ("JavaFunction", "unsupported", Some("unsupported runtime java21: dependency tree not read")),
            ("NodeFunction", "read", None),
            ("RubyFunction", "unsupported", Some("unsupported runtime ruby3.3: dependency tree not read")),
        ]
    );
    assert_eq!(d.coverage_counts(), (1, 5));
    assert!(!d.nothing_to_scan());
    // `bundles` shows every one of them, with its coverage and the counts.
    let (code, stdout, stderr) =
        run(&["bundles", "--format", "json", fixture("templates/sam-unsupported-runtimes").to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stderr}");
    let doc = json(&stdout, &stderr);
    assert_eq!(doc["bundles"].as_array().expect("bundles").len(), 6);
    assert_eq!(doc["coverage"], serde_json::json!({"read": 1, "not_read": 5}));
    let java = doc["bundles"].as_array().and_then(|b| b.iter().find(|b| b["name"] == "JavaFunction")).expect("java");
    assert_eq!(java["coverage"], "unsupported");
    assert_eq!(java["coverage_reason"], "unsupported runtime java21: dependency tree not read");
    // A function with a supported runtime and nothing to read is "no dependency files".
    let dir = tempfile::tempdir().expect("tempdir");
    files(
        dir.path(),
        &[(
            "template.yaml",
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      CodeUri: src/\n",
        )],
    );
    let d = bundle::discover(dir.path());
    assert_eq!(d.bundles[0].coverage, BundleCoverage::NoDependencyFiles);
    assert!(d.nothing_to_scan());
    assert_eq!(
        d.nothing_to_scan_message().as_deref(),
        Some("nothing to scan: no lockfile or artifact found for the 1 bundles found")
    );
}

#[test]
fn excludes_from_the_policy_apply_to_bundles_deps_and_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let lock = r#"{"name":"x","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"x"}}}"#;
    files(
        root,
        &[
            ("bundleguard.toml", "exclude = [\"examples/*\", \"!examples/keep\", \"/legacy\", \"*.zip\"]\n"),
            ("app/package-lock.json", lock),
            ("examples/a/package-lock.json", lock),
            ("examples/keep/package-lock.json", lock),
            ("legacy/package-lock.json", lock),
            ("nested/legacy/package-lock.json", lock),
            ("dist/app.zip", "not read"),
        ],
    );
    let policy = bundleguard::policy::Policy::load(None, root).expect("policy");
    let d = bundle::discover_with(root, &policy.exclude);
    assert_eq!(d.errors, []);
    let want = ["app/package-lock.json", "examples/keep/package-lock.json", "nested/legacy/package-lock.json"];
    assert_eq!(relative(root, &d.unique_lockfiles()), want);
    assert!(d.bundles.iter().all(|b| b.artifacts.is_empty()), "*.zip excluded");
    assert_eq!(relative(root, &d.excluded), ["dist/app.zip", "examples/a", "legacy"]);
    let want: BTreeSet<String> = want.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(bundles_cli(root).1, want);
    assert_eq!(deps_cli(root), want);
    let collected = bundleguard::scan::collect(&[root.to_owned()], &[], &policy.exclude);
    let units: BTreeSet<String> = collected
        .units
        .iter()
        .map(|u| Path::new(&u.path).strip_prefix(root).expect("under root").display().to_string())
        .collect();
    assert_eq!(units, want);
    let note = "3 paths left out by the policy's exclude patterns: ";
    assert!(
        collected
            .warnings
            .iter()
            .any(|w| w.code == "discover/excluded" && w.message.starts_with(note) && w.message.ends_with("/legacy")),
        "{:?}",
        collected.warnings
    );
}

#[test]
fn a_bad_exclude_pattern_names_the_file_and_pattern() {
    let dir = tempfile::tempdir().expect("tempdir");
    files(dir.path(), &[("bundleguard.toml", "exclude = [\"ok/\", \"a/../b\"]\n")]);
    let err = bundleguard::policy::Policy::load(None, dir.path()).expect_err("invalid");
    let msg = err.to_string();
    assert!(msg.contains("bundleguard.toml") && msg.contains("\"a/../b\"") && msg.contains("`..`"), "{msg}");
    let (code, _, stderr) = run(&["deps", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("a/../b"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn symlinked_lockfiles_are_followed_inside_the_root_only() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().expect("tempdir");
    files(outside.path(), &[("secret/package-lock.json", "{}")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let lock = r#"{"name":"x","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"x"}}}"#;
    files(root, &[("shared/package-lock.json", lock), ("fn/app.js", "")]);
    symlink(root.join("shared/package-lock.json"), root.join("fn/package-lock.json")).expect("link");
    fs_err::create_dir_all(root.join("evil")).expect("mkdir");
    symlink(outside.path().join("secret/package-lock.json"), root.join("evil/package-lock.json")).expect("link");
    symlink(outside.path().join("secret"), root.join("linked-folder")).expect("link");
    symlink(root.join("missing.txt"), root.join("requirements.txt")).expect("link");
    let d = bundle::discover(root);
    assert_eq!(relative(root, &d.unique_lockfiles()), ["fn/package-lock.json", "shared/package-lock.json"]);
    let errors: Vec<(String, &str)> = d
        .errors
        .iter()
        .map(|e| (e.path.strip_prefix(root).expect("under").display().to_string(), e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "evil/package-lock.json");
    assert!(errors[0].1.contains("outside the scanned folder: not read"), "{errors:?}");
    assert_eq!(errors[1].0, "requirements.txt");
    assert!(errors[1].1.starts_with("broken symbolic link"), "{errors:?}");
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert_eq!(d.warnings[0].path, root.join("linked-folder"));
    assert_eq!(d.warnings[0].message, "symbolic link to a folder: not followed");
    // `deps` applies the same rule as `scan`: a walk error is a per-file error, exit 2.
    let (code, stdout, stderr) = run(&["deps", root.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.contains("fn/package-lock.json") && stdout.contains("shared/package-lock.json"), "{stdout}");
    assert!(stderr.contains("error: evil/package-lock.json: symbolic link to "), "{stderr}");
}

#[cfg(unix)]
#[test]
fn folders_and_fifos_named_like_lockfiles_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs_err::create_dir_all(root.join("svc/package-lock.json")).expect("mkdir");
    let fifo = std::process::Command::new("mkfifo").arg(root.join("svc/yarn.lock")).status();
    let have_fifo = fifo.is_ok_and(|s| s.success());
    let d = bundle::discover(root);
    let mut want = vec![(root.join("svc/package-lock.json"), "is a folder, not a file: not read as one")];
    if have_fifo {
        want.push((root.join("svc/yarn.lock"), "not a regular file (a FIFO, socket or device): not read"));
    } else {
        #[expect(clippy::print_stdout, reason = "the one line that says part of a test was skipped")]
        {
            println!("skipped: mkfifo not available (folders_and_fifos_named_like_lockfiles_are_errors, FIFO part)");
        }
    }
    let got: Vec<(PathBuf, &str)> = d.errors.iter().map(|e| (e.path.clone(), e.message.as_str())).collect();
    assert_eq!(got, want);
    assert!(d.nothing_to_scan());
    assert_eq!(d.warnings, []);
}

/// An unreadable folder is a per-file error in `deps` as in `scan` (exit 2). Permissions do not
/// bind root: then the commands run as `nobody` through `setpriv` (util-linux), and the test says
/// so when it cannot.
#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_an_error_in_deps_as_in_scan() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs_err::set_permissions(root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let lock = r#"{"name":"x","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"x"}}}"#;
    files(root, &[("ok/package-lock.json", lock), ("locked/package-lock.json", lock)]);
    let locked = root.join("locked");
    fs_err::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let as_root = fs_err::read_dir(&locked).is_ok();
    let binary = assert_cmd::cargo::cargo_bin("bundleguard");
    let mut cmd = if as_root {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(&binary);
        cmd
    } else {
        std::process::Command::new(&binary)
    };
    let out = cmd.env_remove("GITHUB_ACTIONS").arg("deps").arg(root).output();
    let in_process = (!as_root).then(|| bundle::discover(root));
    fs_err::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    let Ok(out) = out.as_ref().map_err(ToString::to_string).and_then(|o| {
        let stderr = String::from_utf8_lossy(&o.stderr);
        if stderr.contains("setpriv") { Err(stderr.into_owned()) } else { Ok(o) }
    }) else {
        #[expect(clippy::print_stdout, reason = "the one line that says a test was skipped")]
        {
            println!(
                "skipped: root and no usable setpriv (an_unreadable_folder_is_an_error_in_deps_as_in_scan): {out:?}"
            );
        }
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok/package-lock.json"));
    assert!(stderr.contains("error: locked: folder cannot be read: permission denied"), "{stderr}");
    if let Some(d) = in_process {
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert_eq!(d.errors[0].path, locked);
    }
}

#[test]
fn nothing_to_scan_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    files(dir.path(), &[("README.md", "no code here")]);
    let d = bundle::discover(dir.path());
    assert!(d.bundles.is_empty());
    assert!(d.nothing_to_scan());
    assert_eq!(
        d.nothing_to_scan_message().as_deref(),
        Some("nothing to scan: no template, lockfile or artifact found")
    );
    let (code, stdout, stderr) = run(&["bundles", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "no functions, layers or dependency folders found\n");
    assert!(stderr.ends_with(": nothing to scan: no template, lockfile or artifact found\n"), "{stderr}");
}

/// `bundles`, `deps` and the scan's collection find the same functions and lockfiles on every
/// folder of the monorepos corpus.
#[test]
#[ignore = "needs ../shared: corpus/monorepos"]
fn shared_corpus_bundles_deps_and_scan_agree_on_the_monorepos() {
    let shared = shared();
    let monorepos = shared.join("corpus/monorepos");
    let mut folders: Vec<PathBuf> =
        fs_err::read_dir(&monorepos).expect("corpus").filter_map(Result::ok).map(|e| e.path()).collect();
    folders.sort();
    assert!(!folders.is_empty());
    for folder in folders.iter().filter(|f| f.is_dir()) {
        let (names, from_bundles) = bundles_cli(folder);
        let from_deps = deps_cli(folder);
        assert_eq!(from_bundles, from_deps, "{}", folder.display());
        let collected = bundleguard::scan::collect(std::slice::from_ref(folder), &[], &Excludes::default());
        let prefix = format!("{}/", folder.display());
        let strip = |p: &str| p.strip_prefix(&prefix).unwrap_or(p).to_owned();
        let scanned: BTreeSet<String> = collected
            .units
            .iter()
            .filter(|u| u.source != bundleguard::bundle::TreeSource::Artifact)
            .map(|u| strip(&u.path))
            .chain(collected.errors.iter().filter_map(|e| e.path.as_deref().map(strip)))
            .filter(|p| bundleguard::lockfile::detect(Path::new(p)).is_some())
            .collect();
        assert_eq!(scanned, from_bundles, "{}", folder.display());
        let unit_names: BTreeSet<String> = collected.units.iter().map(|u| u.name.clone()).collect();
        assert!(unit_names.is_subset(&names), "{}: {:?}", folder.display(), unit_names.difference(&names));
        // Every bundle with a lockfile that parses is a unit of the scan.
        let failed: BTreeSet<String> = collected.errors.iter().filter_map(|e| e.path.as_deref().map(strip)).collect();
        let d = bundle::discover(folder);
        for b in
            d.bundles.iter().filter(|b| b.lockfiles.iter().any(|l| !failed.contains(&strip(&l.display().to_string()))))
        {
            assert!(unit_names.contains(&b.name), "{}: {} is not scanned", folder.display(), b.name);
        }
        let (read, not_read) = d.coverage_counts();
        #[expect(clippy::print_stdout, reason = "the measured counts, shown with --nocapture")]
        {
            println!(
                "{}: {} bundles ({read} read, {not_read} not read), {} lockfiles, {} errors, {} warnings",
                folder.file_name().expect("name").to_string_lossy(),
                d.bundles.len(),
                from_bundles.len(),
                d.errors.len(),
                d.warnings.len()
            );
        }
    }
}
