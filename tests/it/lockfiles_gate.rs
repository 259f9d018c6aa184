//! Issue 12, lockfile side: one regression test per item. Unusable versions are kept and
//! marked (6), a 40 KB marker of 20,000 parentheses is an error, not a stack overflow (8),
//! empty files, bogus format versions, missing includes, garbage lines and wrong-typed templates
//! are errors naming the file and key (15), pnpm multi-document files and non-registry entries
//! (18), BOMs, UTF-16, continuations and text that is not a go.mod (19).

use std::path::Path;

use bundleguard::lockfile;
use bundleguard::package::{Package, Source};
use bundleguard::version::{is_exact, version_usable};

use crate::common;

/// `fixtures/<rel>` loaded; its error (with the fixtures folder stripped) or its packages.
fn load(rel: &str) -> Result<Vec<Package>, String> {
    let prefix = format!("{}/", common::repo_root().join("fixtures").display());
    lockfile::load(&common::fixture(rel))
        .map(|lock| lock.graph.nodes().to_vec())
        .map_err(|e| e.to_string().replace(&prefix, ""))
}

fn error_of(rel: &str) -> String {
    match load(rel) {
        Err(e) => e,
        Ok(packages) => panic!("{rel}: expected an error, got {} packages", packages.len()),
    }
}

fn package<'p>(packages: &'p [Package], name: &str) -> &'p Package {
    packages.iter().find(|p| p.name.as_str() == name).unwrap_or_else(|| panic!("{name} not in {packages:?}"))
}

// ---- 6: a version that cannot be used is kept, raw, and marked

#[test]
fn unusable_versions_are_kept_and_marked() {
    let npm = load("npm/invalid-unusable-versions/package-lock.json").expect("parses");
    for (name, raw) in [("empty-version", ""), ("latest-version", "latest")] {
        let p = package(&npm, name);
        assert_eq!(p.version, raw);
        assert!(!version_usable(p), "{name}");
    }
    assert!(version_usable(package(&npm, "ms")));

    let pipfile = load("pypi/invalid-pipfile-range/Pipfile.lock").expect("parses");
    assert_eq!(package(&pipfile, "requests").version, ">=2.0");
    assert!(!version_usable(package(&pipfile, "requests")));
    assert!(!version_usable(package(&pipfile, "idna")));
    assert!(version_usable(package(&pipfile, "urllib3")));

    let berry = load("yarn/invalid-berry-version-list/yarn.lock").expect("parses");
    assert_eq!(package(&berry, "ms").version, "[2.1.2, 2.1.3]");
    assert!(!version_usable(package(&berry, "ms")));

    let lock = lockfile::load(&common::fixture("pypi/requirements-includes/requirements.txt")).expect("parses");
    let boto3 = lock.graph.nodes().iter().find(|p| p.name.as_str() == "boto3").expect("unpinned boto3 is kept");
    assert_eq!(boto3.version, ">=1.28");
    assert!(!is_exact(boto3.ecosystem, &boto3.version));
}

// ---- 8: deep nesting

#[test]
fn deep_marker_is_an_error_not_a_stack_overflow() {
    let err = error_of("pypi/invalid-deep-marker/requirements.txt");
    assert!(err.starts_with("pypi/invalid-deep-marker/requirements.txt:2: invalid requirement"), "{err}");
    assert!(err.ends_with(": longer than 8192 bytes"), "{err}");
    // Short but deep: refused before pep508_rs's recursive marker parser sees it.
    let text = format!("requests==2.31.0 ; {}python_version > '3'{}\n", "(".repeat(2_000), ")".repeat(2_000));
    let input =
        lockfile::ParseInput { path: Path::new("requirements.txt"), bytes: text.as_bytes(), read_sibling: &|_| None };
    let err = lockfile::parse(lockfile::LockfileFormat::Requirements, &input).err().map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|e| e.ends_with("nested more than 32 parentheses deep")), "{err:?}");
    // 32 levels are still read.
    let text = format!("requests==2.31.0 ; {}python_version > '3'{}\n", "(".repeat(32), ")".repeat(32));
    let input =
        lockfile::ParseInput { path: Path::new("requirements.txt"), bytes: text.as_bytes(), read_sibling: &|_| None };
    let parsed = lockfile::parse(lockfile::LockfileFormat::Requirements, &input).expect("32 levels parse");
    assert_eq!(parsed.graph.len(), 1);
}

#[test]
fn pep508_error_over_a_multibyte_character_is_an_error_not_a_panic() {
    // pep508_rs 0.9 panics while formatting this error (found by the hostile proptest).
    for line in ["a[a \u{e9}a\n", "r[a \u{e9} a\n"] {
        let input = lockfile::ParseInput {
            path: Path::new("requirements.txt"),
            bytes: line.as_bytes(),
            read_sibling: &|_| None,
        };
        let err = lockfile::parse(lockfile::LockfileFormat::Requirements, &input).err().map(|e| e.to_string());
        assert!(err.as_deref().is_some_and(|e| e.contains("invalid requirement")), "{err:?}");
    }
}

// ---- 15: empty files, bogus format versions, includes, garbage lines

#[test]
fn empty_lockfiles_are_errors() {
    for rel in [
        "cargo/invalid-empty/Cargo.lock",
        "pypi/invalid-empty-poetry/poetry.lock",
        "pypi/invalid-empty-pdm/pdm.lock",
        "pnpm/invalid-empty/pnpm-lock.yaml",
        "yarn/invalid-berry-empty/yarn.lock",
    ] {
        let err = error_of(rel);
        assert!(err.starts_with(&format!("{rel}: empty file: not a ")), "{err}");
    }
}

#[test]
fn bogus_format_versions_are_errors_naming_the_key() {
    let cases = [
        ("npm/invalid-lockfile-version/package-lock.json", "lockfileVersion: expected 1, 2 or 3, found \"abc\""),
        (
            "pnpm/invalid-lockfile-version/pnpm-lock.yaml",
            "lockfileVersion: expected a pnpm lockfile version from 5 to 9, found \"abc\"",
        ),
        ("pypi/invalid-uv-version/uv.lock", "version: expected lock format version 1, found 99"),
        (
            "pypi/invalid-poetry-lock-version/poetry.lock",
            "metadata.lock-version: expected a lock format version \"1.x\" to \"2.x\", found 100000000000000000000000000.0",
        ),
    ];
    for (rel, want) in cases {
        assert_eq!(error_of(rel), format!("{rel}:{want}"));
    }
}

#[test]
fn requirements_errors_name_the_line() {
    assert_eq!(
        error_of("pypi/invalid-missing-include/requirements.txt"),
        "pypi/invalid-missing-include/requirements.txt:2: include missing.txt could not be read"
    );
    let err = error_of("pypi/invalid-garbage-line/requirements.txt");
    assert!(
        err.starts_with(
            "pypi/invalid-garbage-line/requirements.txt:2: invalid requirement \"this is not a requirement!\""
        ),
        "{err}"
    );
}

#[test]
fn unknown_pip_options_are_errors_and_known_ones_are_not() {
    let parse = |text: &str| {
        let input = lockfile::ParseInput {
            path: Path::new("requirements.txt"),
            bytes: text.as_bytes(),
            read_sibling: &|_| None,
        };
        lockfile::parse(lockfile::LockfileFormat::Requirements, &input)
            .map(|p| p.graph.len())
            .map_err(|e| e.to_string())
    };
    assert_eq!(parse("six==1.16.0\n--frobnicate\n"), Err("requirements.txt:2: unknown option \"--frobnicate\"".into()));
    let known =
        "-i https://pypi.org/simple\n--extra-index-url=https://x\n-fhttps://x\n--pre\n--require-hashes\nsix==1.16.0\n";
    assert_eq!(parse(known), Ok(1));
}

#[test]
fn wrong_typed_templates_are_errors_naming_the_key() {
    let cases = [
        ("templates/invalid-functions-list", "functions[0]: expected a mapping of functions, found a string"),
        ("templates/invalid-resources-list", "Resources: expected a mapping, found a list"),
        ("templates/invalid-scalar", "expected a mapping (service, provider, functions), found a string"),
    ];
    for (rel, want) in cases {
        let found = bundleguard::bundle::discover(&common::fixture(rel));
        assert!(found.bundles.is_empty(), "{rel}: {:?}", found.bundles);
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 1, "{rel}: {errors:?}");
        assert!(errors[0].contains(want), "{rel}: {errors:?}");
        assert!(errors[0].contains(rel), "{rel}: {errors:?}");
    }
    // A list of mappings is what the framework merges: its functions are found.
    let found = bundleguard::bundle::discover(&common::fixture("templates/serverless-functions-list"));
    let names: Vec<(&str, Option<&str>)> =
        found.bundles.iter().map(|b| (b.name.as_str(), b.runtime.as_deref())).collect();
    assert_eq!(names, [("create", Some("nodejs20.x")), ("list", Some("nodejs22.x"))]);
    assert!(found.errors.is_empty(), "{:?}", found.errors);
}

// ---- 18: pnpm documents and non-registry entries, yarn v1 local entries

#[test]
fn pnpm_multi_document_takes_the_project_document() {
    let packages = load("pnpm/v9-multi-document/pnpm-lock.yaml").expect("parses");
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["is-number", "ms"], "the package manager's own @pnpm/exe is not the project's");
}

#[test]
fn pnpm_without_packages_is_a_warned_empty_project() {
    let lock = lockfile::load(&common::fixture("pnpm/v9-no-packages/pnpm-lock.yaml")).expect("parses");
    assert!(lock.graph.is_empty());
    assert_eq!(lock.warnings, ["no packages in this lockfile"]);
}

#[test]
fn pnpm_local_tarball_and_workspace_entries_are_not_registry_packages() {
    let packages = load("pnpm/v9-local-tarball-workspace/pnpm-lock.yaml").expect("parses");
    let source = |name: &str| package(&packages, name).source.clone();
    assert_eq!(source("@acme/foo"), Source::Workspace);
    assert_eq!(source("helper"), Source::Path("helper".into()));
    assert_eq!(source("local-lib"), Source::Path("local-lib".into()));
    assert_eq!(source("remote-tar"), Source::Other("https://example.com/downloads/remote-tar-1.0.0.tgz".into()));
    assert_eq!(source("ms"), Source::Registry);
    assert!(packages.iter().all(|p| !p.name.as_str().is_empty() && !p.name.as_str().contains(':')), "{packages:?}");
}

#[test]
fn yarn_v1_local_entries_are_paths() {
    let packages = load("yarn/v1-file-link-tarball/yarn.lock").expect("parses");
    let source = |name: &str| package(&packages, name).source.clone();
    assert_eq!(source("bare-path"), Source::Path("./vendor/bare-path".into()));
    assert_eq!(source("local-lib"), Source::Path("./local-lib".into()));
    assert_eq!(source("packed"), Source::Path("./vendor/packed-2.0.0.tgz".into()));
    assert!(matches!(source("remote"), Source::Other(url) if url.starts_with("https://example.com/")));
    assert_eq!(source("ms"), Source::Registry);
}

// ---- 19: encodings, continuations, not a go.mod

fn name_versions(packages: &[Package]) -> Vec<(String, String)> {
    let mut out: Vec<_> = packages.iter().map(|p| (p.name.to_string(), p.version.clone())).collect();
    out.sort();
    out
}

#[test]
fn utf16_requirements_and_bom_package_lock_are_read() {
    let utf16 = load("pypi/requirements-utf16-bom/requirements.txt").expect("pip reads UTF-16 with a BOM");
    assert_eq!(name_versions(&utf16), [("requests".into(), "2.31.0".into()), ("six".into(), "1.16.0".into())]);
    let bom = load("npm/v3-utf8-bom/package-lock.json").expect("npm skips a UTF-8 BOM");
    assert_eq!(bom.len(), 3);
}

#[test]
fn continuations_join_like_pip() {
    let lock = lockfile::load(&common::fixture("pypi/requirements-continuations/requirements.txt")).expect("parses");
    assert_eq!(
        name_versions(lock.graph.nodes()),
        [
            ("idna".into(), "3.7".into()),
            ("requests".into(), "2.31.0".into()),
            ("six".into(), "1.16.0".into()),
            ("urllib3".into(), "2.2.1".into()),
        ]
    );
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
}

#[test]
fn text_that_is_not_a_go_mod_is_an_error() {
    assert_eq!(
        error_of("go/invalid-not-go-mod/go.mod"),
        "go/invalid-not-go-mod/go.mod:1:1: unknown directive \"Hello,\""
    );
    let parsed = lockfile::parse(
        lockfile::LockfileFormat::GoMod,
        &lockfile::ParseInput { path: Path::new("go.mod"), bytes: b"// only a comment\n", read_sibling: &|_| None },
    );
    assert_eq!(parsed.err().map(|e| e.to_string()).as_deref(), Some("go.mod: no directives at all: not a go.mod file"));
}
