//! Hostile-input corpus, generated at test time: mutations of one real fixture per lockfile
//! format (empty, whitespace, truncations, binary garbage, wrong top-level types, bogus format
//! versions, deep nesting, a huge line, BOMs, UTF-16) are written under their real file names to
//! a temporary folder and read with `lockfile::load`; a few go through `bundleguard deps`.
//!
//! Every input must give one of: an error whose message names the file, or one of the
//! documented tolerances below. 0 panics, 0 aborts (a stack overflow would kill this test
//! binary), 0 silent successes (0 packages and no warning).
//!
//! Documented tolerances:
//! - `Bom`: a UTF-8 byte-order mark is skipped: the same packages as the original file.
//! - `Utf16` for requirements files: pip decodes UTF-16 with a BOM: the same packages.
//! - Truncations may cut at a point where the rest is still a valid file: a success is fine as
//!   long as it is not silent (packages, or a warning).
//! - `deep-yaml-indent` (2,000 levels of indentation, no `- ` items) is valid YAML: pnpm's line
//!   reader reads it without recursion (0 packages, warned); other formats refuse it.
//! - Requirements files are free text: an empty one is valid for pip (0 packages, with the
//!   `no packages` warning), and `42` / `true` are requirement names (kept, unpinned, warned).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use assert_cmd::Command;
use bundleguard::lockfile::{self, Lockfile, LockfileError};

use crate::common;

/// One real fixture per format, and the format's bogus format-version edits
/// (`(from, to)` replacements applied one at a time).
const SOURCES: &[(&str, &[(&str, &str)])] = &[
    (
        "npm/v3-workspaces/package-lock.json",
        &[
            ("\"lockfileVersion\": 3", "\"lockfileVersion\": \"abc\""),
            ("\"lockfileVersion\": 3", "\"lockfileVersion\": 4"),
            ("\"lockfileVersion\": 3", "\"lockfileVersion\": -1"),
            ("\"lockfileVersion\": 3", "\"lockfileVersion\": 1e400"),
            ("\"lockfileVersion\": 3", "\"lockfileVersion\": null"),
        ],
    ),
    (
        "npm/v1-nested/package-lock.json",
        &[("\"lockfileVersion\": 1", "\"lockfileVersion\": 0"), ("\"lockfileVersion\": 1", "\"lockfileVersion\": [1]")],
    ),
    ("npm/v2-shrinkwrap/npm-shrinkwrap.json", &[("\"lockfileVersion\": 2", "\"lockfileVersion\": 2.5")]),
    ("pnpm/v6-peer-dependencies/pnpm-lock.yaml", &[("lockfileVersion: '6.0'", "lockfileVersion: '6.0.x'")]),
    (
        "pnpm/v9-mixed-groups/pnpm-lock.yaml",
        &[("lockfileVersion: '9.0'", "lockfileVersion: 'abc'"), ("lockfileVersion: '9.0'", "lockfileVersion: '99.0'")],
    ),
    ("pnpm/v5-peer-dependencies/pnpm-lock.yaml", &[("lockfileVersion: 5.", "lockfileVersion: x5.")]),
    ("yarn/v1-with-quotes/yarn.lock", &[]),
    ("yarn/berry-protocols/yarn.lock", &[("  version: 8\n", "  version: abc\n"), ("  version: 8\n", "")]),
    ("pypi/requirements-includes/requirements.txt", &[("==", "=!="), ("==", "== ("), ("==", "=")]),
    (
        "pypi/poetry-v2.1-groups/poetry.lock",
        &[("lock-version = \"2.1\"", "lock-version = 1e26"), ("lock-version = \"2.1\"", "lock-version = \"9.0\"")],
    ),
    ("pypi/pipfile-default-develop/Pipfile.lock", &[("\"pipfile-spec\": 6", "\"pipfile-spec\": \"six\"")]),
    ("pypi/uv-extras/uv.lock", &[("version = 1\n", "version = 99\n"), ("version = 1\n", "version = \"1\"\n")]),
    ("pypi/pdm-dev-group/pdm.lock", &[("lock_version = \"4.", "lock_version = \"x4.")]),
    ("go/v1.17-indirect/go.mod", &[("module ", "modul ")]),
    ("cargo/v3-workspace/Cargo.lock", &[("version = 3\n", "version = 99\n")]),
];

/// What a mutation must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// An error naming the file.
    Error,
    /// The same packages as the unmutated file.
    Same,
    /// Anything but a silent success (an error, packages, or a warning).
    NotSilent,
}

struct Case {
    label: String,
    bytes: Vec<u8>,
    expect: Expect,
}

/// Deterministic pseudo-random bytes (xorshift), with NULs and invalid UTF-8 among them.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// Deeply nested input in the file's own syntax (and, for all, in the other syntaxes).
fn deep(name: &str) -> Vec<(String, Vec<u8>)> {
    const DEPTH: usize = 100_000;
    let open = |c: &str| c.repeat(DEPTH);
    let mut out = vec![
        ("deep-json".to_owned(), format!("{{\"lockfileVersion\": 3, \"packages\": {}", open("[")).into_bytes()),
        ("deep-toml".to_owned(), format!("version = 1\na = {}", open("[")).into_bytes()),
        ("deep-yaml-flow".to_owned(), format!("lockfileVersion: '9.0'\npackages: {}", open("[")).into_bytes()),
        ("deep-yaml-block".to_owned(), format!("lockfileVersion: '9.0'\npackages:\n  {}x\n", open("- ")).into_bytes()),
        // Under a key no wire type names: read as `IgnoredAny`, which descends all the way.
        (
            "deep-yaml-ignored".to_owned(),
            format!("lockfileVersion: '9.0'\nsettings:\n  {}x\n", open("- ")).into_bytes(),
        ),
        (
            "deep-yaml-indent".to_owned(),
            deep_indentation("lockfileVersion: '9.0'\nsettings:\n".to_owned()).into_bytes(),
        ),
        ("deep-parens".to_owned(), format!("a; {}python_version > '3'{}\n", open("("), open(")")).into_bytes()),
    ];
    if name == "requirements.txt" {
        // Issue 12's case: 20,000 parentheses in a marker, one 40 KB line.
        let parens = format!("requests==2.0 ; {}python_version > '3'{}\n", "(".repeat(20_000), ")".repeat(20_000));
        out.push(("deep-parens-marker".to_owned(), parens.into_bytes()));
    }
    out
}

/// `head` followed by 2,000 mappings, each indented one column more than the last.
fn deep_indentation(mut head: String) -> String {
    for level in 1..2_000 {
        head.push_str(&" ".repeat(level));
        head.push_str("k:\n");
    }
    head
}

fn cases(name: &str, original: &[u8], bogus: &[(&str, &str)]) -> Vec<Case> {
    let requirements = name == "requirements.txt";
    let text = String::from_utf8_lossy(original).into_owned();
    let structured = if requirements { Expect::NotSilent } else { Expect::Error };
    let mut out = vec![
        Case { label: "empty".into(), bytes: Vec::new(), expect: structured },
        Case { label: "whitespace".into(), bytes: b"\n  \n\t\n".to_vec(), expect: structured },
        Case { label: "garbage".into(), bytes: garbage(4096, 7), expect: Expect::Error },
        Case { label: "garbage-after-nul".into(), bytes: [b"\0".as_slice(), original].concat(), expect: Expect::Error },
        Case { label: "bom".into(), bytes: [b"\xEF\xBB\xBF".as_slice(), original].concat(), expect: Expect::Same },
        Case {
            label: "utf16".into(),
            bytes: utf16le_with_bom(&text),
            expect: if requirements { Expect::Same } else { Expect::Error },
        },
        Case {
            label: "huge-line".into(),
            bytes: [original, b"\n", "x".repeat(2 << 20).as_bytes(), b"\n"].concat(),
            expect: Expect::Error,
        },
    ];
    for (i, wrong) in ["[]", "42", "\"x\"", "true", "{}", "null"].iter().enumerate() {
        let expect = if requirements { Expect::NotSilent } else { Expect::Error };
        out.push(Case { label: format!("wrong-type-{i}"), bytes: wrong.as_bytes().to_vec(), expect });
    }
    for percent in [1, 10, 33, 50, 66, 90, 99] {
        let cut = original.len() * percent / 100;
        out.push(Case {
            label: format!("truncated-{percent}%"),
            bytes: original[..cut].to_vec(),
            expect: Expect::NotSilent,
        });
    }
    for (i, (from, to)) in bogus.iter().enumerate() {
        assert!(text.contains(from), "{name}: the fixture no longer has {from:?}");
        out.push(Case {
            label: format!("bogus-version-{i}"),
            bytes: text.replacen(from, to, 1).into_bytes(),
            expect: Expect::Error,
        });
    }
    for (label, bytes) in deep(name) {
        // Deep indentation alone is valid YAML that pnpm's line reader reads without recursion.
        let expect = if label == "deep-yaml-indent" { Expect::NotSilent } else { Expect::Error };
        out.push(Case { label, bytes, expect });
    }
    out
}

/// `Ok(message)` when the outcome meets the expectation, `Err(why)` when not.
fn judge(
    path: &Path,
    expect: Expect,
    result: &Result<Lockfile, LockfileError>,
    original: &Lockfile,
) -> Result<String, String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    match (result, expect) {
        (Err(err), Expect::Error | Expect::NotSilent) => {
            let shown = err.to_string();
            if shown.contains(name) { Ok(shown) } else { Err(format!("error does not name the file: {shown}")) }
        }
        (Err(err), Expect::Same) => Err(format!("expected the original packages, got {err}")),
        (Ok(lock), Expect::Error) => {
            Err(format!("accepted ({} packages, warnings {:?})", lock.graph.len(), lock.warnings))
        }
        (Ok(lock), Expect::Same) => {
            let same = lock.graph.nodes() == original.graph.nodes();
            if same { Ok("same packages".into()) } else { Err("packages differ from the original".into()) }
        }
        (Ok(lock), Expect::NotSilent) => {
            if lock.graph.is_empty() && lock.warnings.is_empty() {
                Err("silent success: 0 packages and no warning".into())
            } else {
                Ok(format!("{} packages, {} warnings", lock.graph.len(), lock.warnings.len()))
            }
        }
    }
}

/// Copies a fixture folder (the lockfile's siblings: `package.json`, includes, `go.sum`).
fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).expect("mkdir");
    for entry in fs_err::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs_err::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn hostile_inputs_give_errors_naming_the_file_or_documented_tolerances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (rel, bogus) in SOURCES {
        let source = common::fixture(rel);
        let original_bytes = fs_err::read(&source).expect("fixture");
        let original = lockfile::load(&source).unwrap_or_else(|e| panic!("{rel}: the fixture must parse: {e}"));
        let name = source.file_name().and_then(|n| n.to_str()).expect("name");
        for case in cases(name, &original_bytes, bogus) {
            let folder = dir.path().join(format!("{}-{}", rel.replace('/', "_"), case.label));
            copy_tree(source.parent().expect("folder"), &folder);
            let path = folder.join(name);
            fs_err::write(&path, &case.bytes).expect("write");
            let result = catch_unwind(AssertUnwindSafe(|| lockfile::load(&path)));
            checked += 1;
            let Ok(result) = result else {
                failures.push(format!("{rel} [{}]: PANIC", case.label));
                continue;
            };
            if let Err(why) = judge(&path, case.expect, &result, &original) {
                failures.push(format!("{rel} [{}] expected {:?}: {why}", case.label, case.expect));
            }
        }
    }
    assert!(checked > 300, "only {checked} hostile inputs generated");
    assert!(failures.is_empty(), "{} of {checked} hostile inputs failed:\n{}", failures.len(), failures.join("\n"));
}

/// `bundleguard deps` on the worst of them: exit 2 (not an abort), the file named on stderr.
#[test]
fn deps_reports_hostile_lockfiles_instead_of_aborting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parens = format!("requests==2.0 ; {}python_version > '3'{}\n", "(".repeat(20_000), ")".repeat(20_000));
    let inputs: [(&str, Vec<u8>); 4] = [
        ("requirements.txt", parens.into_bytes()),
        ("pnpm-lock.yaml", format!("lockfileVersion: '9.0'\npackages: {}", "[".repeat(100_000)).into_bytes()),
        ("poetry.lock", format!("[metadata]\nlock-version = \"2.1\"\na = {}", "[".repeat(100_000)).into_bytes()),
        ("package-lock.json", format!("{{\"lockfileVersion\": 3, \"packages\": {}", "[".repeat(100_000)).into_bytes()),
    ];
    for (name, bytes) in inputs {
        let folder = dir.path().join(name.replace('.', "-"));
        fs_err::create_dir_all(&folder).expect("mkdir");
        let path = folder.join(name);
        fs_err::write(&path, bytes).expect("write");
        let output = Command::cargo_bin("bundleguard").expect("binary").arg("deps").arg(&path).output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

/// Templates: deep nesting, wrong types and garbage are discovery errors naming the file.
#[test]
fn hostile_templates_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deep = 100_000;
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("serverless.yml", format!("functions: {}", "[".repeat(deep)).into_bytes()),
        ("serverless.yml", format!("functions:\n  {}x\n", "- ".repeat(deep)).into_bytes()),
        ("template.json", format!("{{\"Resources\": {}", "[".repeat(deep)).into_bytes()),
        ("template.yaml", b"Resources: 42\n".to_vec()),
        ("template.yaml", b"- Resources\n".to_vec()),
        ("serverless.yml", b"functions: true\n".to_vec()),
        ("serverless.yml", b"functions:\n  hello: just-a-string\n".to_vec()),
        ("serverless.yml", garbage(2048, 11)),
        ("template.yaml", deep_indentation(String::new()).into_bytes()),
    ];
    for (i, (name, bytes)) in inputs.into_iter().enumerate() {
        let folder = dir.path().join(format!("case-{i}"));
        fs_err::create_dir_all(&folder).expect("mkdir");
        fs_err::write(folder.join(name), bytes).expect("write");
        let found =
            catch_unwind(|| bundleguard::bundle::discover(&folder)).unwrap_or_else(|_| panic!("case {i}: panic"));
        assert!(found.bundles.is_empty(), "case {i}: {:?}", found.bundles);
        assert_eq!(found.errors.len(), 1, "case {i}: {:?}", found.errors);
        let shown = found.errors[0].to_string();
        assert!(shown.contains(name), "case {i}: {shown}");
    }
}

/// Random texts built from each format's structural characters (and multi-byte ones) never
/// panic, and every success with no packages is warned.
mod random {
    use std::path::Path;

    use bundleguard::lockfile::{self, LockfileFormat, ParseInput};
    use proptest::prelude::*;

    fn text(alphabet: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(alphabet), 0..200).prop_map(|parts| parts.concat())
    }

    const REQUIREMENTS: &[&str] = &[
        "a", "-", "r", "=", "==", "1.0", " ", "\\", "\n", "\r\n", "#", "(", ")", ";", "${X}", "é", "\u{FEFF}", "-e ",
        "-i", "[", "]", "@", "://", ".",
    ];
    const YAML: &[&str] = &[
        "---\n",
        "...\n",
        "- ",
        "  ",
        "\n",
        ":",
        " ",
        "lockfileVersion: '9.0'\n",
        "importers:\n",
        "packages:\n",
        "snapshots:\n",
        "a@1.0.0",
        "'",
        "\"",
        "{",
        "}",
        "[",
        "]",
        "link:",
        "file:",
        "é",
        "#",
        ",",
        "/",
    ];
    const YARN: &[&str] = &[
        "__metadata:\n",
        "  version: 8\n",
        "a@^1:\n",
        "\"a@npm:1\":\n",
        "  ",
        "    ",
        "version \"1.0.0\"\n",
        "\n",
        ":",
        "\"",
        "file:",
        "./",
        "é",
        "# yarn lockfile v1\n",
        "dependencies:\n",
        ",",
        " ",
    ];

    fn check(format: LockfileFormat, name: &str, text: &str) -> Result<(), TestCaseError> {
        let input = ParseInput { path: Path::new(name), bytes: text.as_bytes(), read_sibling: &|_| None };
        if let Ok(parsed) = lockfile::parse(format, &input) {
            prop_assert!(!parsed.graph.is_empty() || !parsed.warnings.is_empty(), "silent success on {text:?}");
        }
        Ok(())
    }

    /// Inputs proptest once found to panic inside pep508_rs, replayed every run (its saved seeds
    /// replay only under the same strategy): each must be refused with an error naming the file and line.
    #[test]
    fn requirements_found_panics_are_refused() {
        for t in ["r[r. ", "a[r- (r", "a[b_ c]==1", "a[a éa", "r- x", "a[x.,y]"] {
            let input =
                ParseInput { path: Path::new("requirements.txt"), bytes: t.as_bytes(), read_sibling: &|_| None };
            let message = match lockfile::parse(LockfileFormat::Requirements, &input) {
                Ok(parsed) => {
                    assert!(parsed.graph.is_empty(), "{t:?} gave packages");
                    parsed.warnings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
                }
                Err(err) => err.to_string(),
            };
            assert!(message.contains("requirements.txt:1"), "{t:?}: {message}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        #[test]
        fn requirements_never_panic(t in text(REQUIREMENTS)) {
            check(LockfileFormat::Requirements, "requirements.txt", &t)?;
        }

        #[test]
        fn pnpm_never_panics(t in text(YAML)) {
            check(LockfileFormat::PnpmLock, "pnpm-lock.yaml", &t)?;
        }

        #[test]
        fn yarn_never_panics(t in text(YARN)) {
            check(LockfileFormat::YarnLock, "yarn.lock", &t)?;
        }
    }
}
