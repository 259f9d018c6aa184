//! `Cargo.lock` (v1 to v4) through the `cargo-lock` crate.
//! <https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html>
//!
//! Decisions:
//! - Packages without a `source` are the workspace's own crates (members, or path dependencies:
//!   Cargo.lock does not tell them apart). They are `Source::Workspace` nodes and the roots;
//!   their dependencies are the roots' children.
//! - crates.io packages are `Source::Registry`; other registries are `Source::Other` (their
//!   crates are not crates.io crates, so crates.io advisories must not match them); git
//!   packages are `Source::Git` with the locked commit.
//! - Every package is production scope: Cargo.lock records dev-dependencies like any other
//!   dependency, so dev-only crates cannot be known from it.

use std::collections::HashMap;

use cargo_lock::{Lockfile, package::SourceKind};
use serde::Deserialize;

use super::{LockfileError, ParseInput, Parsed, cargo_lines};
use crate::graph::{DepGraph, NodeId};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

/// A dependency reference: a name, and the version / source when the lockfile gives them.
struct DepRef {
    name: String,
    version: Option<String>,
    source: Option<Source>,
}

pub(crate) fn parse_cargo_lock(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let text = std::str::from_utf8(input.bytes).map_err(|_| LockfileError::new(input.path, None, "not valid UTF-8"))?;
    if let Some(entries) = fast_entries(text) {
        return Ok(build(entries));
    }
    parse_with_cargo_lock(input, text)
}

/// The file read by the `cargo-lock` crate (the fallback, and the reference in tests).
fn parse_with_cargo_lock(input: &ParseInput<'_>, text: &str) -> Result<Parsed, LockfileError> {
    if !text.is_ascii() || text.contains("\\u") || text.contains("\\U") {
        check_checksums(input, text)?;
    }
    let entries = match text.parse::<Lockfile>() {
        Ok(lockfile) => entries_of(&lockfile),
        Err(err) => {
            let message = err.to_string();
            if !message.contains("couldn't resolve dependency") {
                return Err(LockfileError::new(
                    input.path,
                    toml_location(&message),
                    format!("invalid Cargo.lock: {}", reason(&message)),
                ));
            }
            lenient_entries(input, text)?
        }
    };
    if entries.is_empty() {
        // Cargo always locks the workspace's own crates: a file without any is not a Cargo.lock.
        return Err(LockfileError::new(input.path, None, "no [[package]] entries: not a Cargo.lock"));
    }
    Ok(build(entries))
}

/// The entries read by [`cargo_lines`], resolved the way `cargo-lock` resolves them, or `None`
/// when the file is outside that reader's layout or would need `cargo-lock`'s judgement (an
/// unresolvable dependency, a version that does not print back as written, a bad checksum or
/// source, an unknown format version, no packages).
fn fast_entries(text: &str) -> Option<Vec<(Package, Vec<DepRef>)>> {
    let lines = cargo_lines::read(text)?;
    let any_checksum = lines.packages.iter().any(|p| p.checksum.is_some());
    // cargo-lock: v1 (dependencies fully written, checksums in `[metadata]`) when the version
    // is absent and `[metadata]` has checksums; v2 when absent otherwise; v3/v4 when written.
    let v1 = match lines.version {
        None if lines.metadata_checksums => (!any_checksum).then_some(true)?,
        None => false,
        Some(3 | 4) if !lines.metadata_checksums => false,
        Some(_) => return None,
    };
    if lines.packages.is_empty() {
        return None;
    }
    let mut sources = SourceCache::default();
    let mut packages = Vec::with_capacity(lines.packages.len());
    for p in &lines.packages {
        let (name, version) = (p.name?, p.version?);
        if !canonical_version(version) || !p.checksum.is_none_or(valid_checksum) {
            return None;
        }
        let source = match p.source {
            Some(s) => Some(sources.get(s)?),
            None => None,
        };
        packages.push((name, version, source));
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(packages.len());
    for (i, (name, _, _)) in packages.iter().enumerate() {
        by_name.entry(name).or_default().push(i);
    }
    let mut entries = Vec::with_capacity(packages.len());
    for (p, (name, version, source)) in lines.packages.iter().zip(&packages) {
        let mut deps = Vec::with_capacity(p.dependencies.as_ref().map_or(0, Vec::len));
        for dep in p.dependencies.iter().flatten() {
            let (dep_name, dep_version, dep_source) = split_dependency(dep, &mut sources)?;
            // cargo-lock (v2 on): the first package with that name (and version, when given)
            // unless the dependency names a source; else the dependency as written.
            let found = if v1 || dep_source.is_some() {
                None
            } else {
                by_name.get(dep_name).and_then(|ids| {
                    ids.iter().map(|&i| &packages[i]).find(|(_, v, _)| dep_version.is_none_or(|d| d == *v))
                })
            };
            deps.push(match found {
                Some((n, v, s)) => DepRef { name: (*n).to_owned(), version: Some((*v).to_owned()), source: s.clone() },
                None => {
                    DepRef { name: dep_name.to_owned(), version: Some(dep_version?.to_owned()), source: dep_source }
                }
            });
        }
        let node_source = source.clone().unwrap_or(Source::Workspace);
        entries.push((crate_package(name, version, node_source), deps));
    }
    Some(entries)
}

/// `name`, `name version` or `name version (source)`, as `cargo-lock` splits it.
fn split_dependency<'a>(
    dep: &'a str,
    sources: &mut SourceCache<'a>,
) -> Option<(&'a str, Option<&'a str>, Option<Source>)> {
    let mut parts = dep.split_whitespace();
    let name = parts.next()?;
    let version = parts.next();
    if version.is_some_and(|v| !canonical_version(v)) {
        return None;
    }
    let source = match parts.next() {
        Some(s) => Some(sources.get(s.strip_prefix('(')?.strip_suffix(')')?)?),
        None => None,
    };
    parts.next().is_none().then_some((name, version, source))
}

/// A version `cargo-lock` reads and prints back unchanged (so comparing the text compares the
/// versions).
fn canonical_version(text: &str) -> bool {
    let plain = {
        let mut parts = text.split('.');
        let numeric = |p: Option<&str>| {
            p.is_some_and(|p| {
                (1..20).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
            })
        };
        numeric(parts.next()) && numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none()
    };
    plain || semver::Version::parse(text).is_ok_and(|v| v.to_string() == text)
}

fn valid_checksum(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Source strings parsed once each (a lockfile has a handful of distinct ones).
#[derive(Default)]
struct SourceCache<'a>(Vec<(&'a str, Source)>);

impl<'a> SourceCache<'a> {
    fn get(&mut self, text: &'a str) -> Option<Source> {
        if let Some((_, source)) = self.0.iter().find(|(t, _)| *t == text) {
            return Some(source.clone());
        }
        let source = source_of(Some(&cargo_lock::SourceId::from_url(text).ok()?));
        self.0.push((text, source.clone()));
        Some(source)
    }
}

fn entries_of(lockfile: &Lockfile) -> Vec<(Package, Vec<DepRef>)> {
    lockfile
        .packages
        .iter()
        .chain(lockfile.root.as_ref())
        .map(|package| {
            let deps = package
                .dependencies
                .iter()
                .map(|dep| DepRef {
                    name: dep.name.as_str().to_owned(),
                    version: Some(dep.version.to_string()),
                    source: dep.source.as_ref().map(|s| source_of(Some(s))),
                })
                .collect();
            (
                crate_package(package.name.as_str(), &package.version.to_string(), source_of(package.source.as_ref())),
                deps,
            )
        })
        .collect()
}

fn crate_package(name: &str, version: &str, source: Source) -> Package {
    Package {
        ecosystem: Ecosystem::CratesIo,
        name: PackageName::new(Ecosystem::CratesIo, name),
        version: version.to_owned(),
        scope: Scope::Prod,
        source,
    }
}

#[derive(Deserialize)]
struct LenientWire {
    #[serde(default)]
    package: Vec<LenientPackageWire>,
}

#[derive(Deserialize)]
struct LenientPackageWire {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// When `cargo-lock` refuses a lockfile because a dependency is not listed in it (an excerpt of
/// a lockfile, or one edited by hand), its packages are still read, without that edge.
fn lenient_entries(input: &ParseInput<'_>, text: &str) -> Result<Vec<(Package, Vec<DepRef>)>, LockfileError> {
    let wire: LenientWire = toml::from_str(text)
        .map_err(|e| LockfileError::new(input.path, None, format!("invalid Cargo.lock: {}", e.message())))?;
    Ok(wire
        .package
        .into_iter()
        .map(|p| {
            let source = p.source.as_deref().map_or(Source::Workspace, |s| {
                cargo_lock::SourceId::from_url(s)
                    .map_or_else(|_| Source::Other(s.to_owned()), |id| source_of(Some(&id)))
            });
            let deps = p
                .dependencies
                .iter()
                .map(|d| {
                    let mut parts = d.split_whitespace();
                    DepRef {
                        name: parts.next().unwrap_or("").to_owned(),
                        version: parts.next().map(str::to_owned),
                        source: None,
                    }
                })
                .collect();
            (crate_package(&p.name, &p.version, source), deps)
        })
        .collect())
}

#[derive(Deserialize)]
struct ChecksumsWire {
    #[serde(default)]
    package: Vec<ChecksumWire>,
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct ChecksumWire {
    checksum: Option<toml::Value>,
}

/// cargo-lock 11 panics on a 64-byte checksum that is not ASCII (it slices it by bytes; found
/// by fuzzing). Only a lockfile with non-ASCII text or `\u` escapes can hold one, so only those
/// pay for this extra read.
fn check_checksums(input: &ParseInput<'_>, text: &str) -> Result<(), LockfileError> {
    let Ok(wire) = toml::from_str::<ChecksumsWire>(text) else {
        return Ok(()); // cargo-lock reports the syntax error itself
    };
    let values = wire.package.iter().filter_map(|p| p.checksum.as_ref()).chain(wire.metadata.values());
    for value in values {
        if value.as_str().is_some_and(|s| !s.is_ascii()) {
            return Err(LockfileError::new(
                input.path,
                None,
                format!("invalid Cargo.lock: checksum {value} is not 64 hexadecimal digits"),
            ));
        }
    }
    Ok(())
}

/// Nodes, roots (the packages without a source) and edges resolved by name, version, source.
fn build(entries: Vec<(Package, Vec<DepRef>)>) -> Parsed {
    let mut graph = DepGraph::new();
    let mut by_name: HashMap<String, Vec<NodeId>> = HashMap::new();
    let mut all_deps = Vec::with_capacity(entries.len());
    for (package, deps) in entries {
        let workspace = package.source == Source::Workspace;
        let name = package.name.to_string();
        let id = graph.add_node(package);
        by_name.entry(name).or_default().push(id);
        if workspace {
            graph.add_root(id);
        }
        all_deps.push(deps);
    }
    let mut warnings = Vec::new();
    for (parent, deps) in all_deps.iter().enumerate() {
        for dep in deps {
            let chosen = by_name.get(&dep.name).and_then(|ids| {
                ids.iter().copied().find(|&id| {
                    let node = graph.node(id);
                    dep.version.as_ref().is_none_or(|v| &node.version == v)
                        && dep.source.as_ref().is_none_or(|s| &node.source == s)
                })
            });
            if let Some(child) = chosen {
                graph.add_edge(parent, child);
            } else {
                let from = graph.node(parent);
                warnings.push(format!(
                    "{} {} depends on {} {}, which the lockfile does not list",
                    from.name,
                    from.version,
                    dep.name,
                    dep.version.as_deref().unwrap_or("")
                ));
            }
        }
    }
    graph.finish();
    Parsed { graph, warnings }
}

fn source_of(source: Option<&cargo_lock::SourceId>) -> Source {
    let Some(source) = source else {
        return Source::Workspace;
    };
    match source.kind() {
        SourceKind::Git(_) => Source::Git { url: source.url().to_string(), rev: source.precise().map(str::to_owned) },
        SourceKind::Path => Source::Path(source.url().to_string()),
        _ if source.is_default_registry() => Source::Registry,
        _ => Source::Other(source.to_string()),
    }
}

/// The reason in a TOML error message: its last non-empty line (the first one says where, the
/// middle ones quote the input).
fn reason(message: &str) -> String {
    message.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(message).trim().to_owned()
}

/// `line:col` from a TOML error message ("TOML parse error at line 3, column 7").
fn toml_location(message: &str) -> Option<String> {
    let rest = message.split("at line ").nth(1)?;
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (line.parse::<usize>().is_ok() && !col.is_empty()).then(|| format!("{line}:{col}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::test_paths as common;
    use super::*;

    /// The fast reader and `cargo-lock` on the same text: `None` when the fast reader declined,
    /// else whether they agree (`cargo-lock` must then succeed with the same graph and warnings).
    fn compare(path: &Path, text: &str) -> Option<Result<(), String>> {
        let fast = build(fast_entries(text)?);
        let read = |_: &Path| None;
        let input = ParseInput { path, bytes: text.as_bytes(), read_sibling: &read };
        let reference = match parse_with_cargo_lock(&input, text) {
            Ok(parsed) => parsed,
            Err(e) => return Some(Err(format!("cargo-lock failed where the fast reader did not: {e}"))),
        };
        if fast.graph != reference.graph {
            return Some(Err(format!("graphs differ:\nfast {:?}\ncargo-lock {:?}", fast.graph, reference.graph)));
        }
        if fast.warnings != reference.warnings {
            return Some(Err(format!("warnings differ: {:?} vs {:?}", fast.warnings, reference.warnings)));
        }
        Some(Ok(()))
    }

    #[test]
    fn fast_reader_matches_cargo_lock_on_fixtures() {
        let mut files = Vec::new();
        common::files_named(&common::fixture("cargo"), "Cargo.lock", &mut files);
        common::files_named(&common::fixture("unused"), "Cargo.lock", &mut files);
        assert!(files.len() >= 7, "found {} fixtures", files.len());
        let (failures, declined) = common::differential(&files, compare);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Only the invalid fixtures are left to cargo-lock.
        assert!(declined.iter().all(|d| d.contains("invalid-")), "declined: {declined:?}");
    }

    #[test]
    #[ignore = "needs ../shared: the Cargo.lock files of the corpus"]
    fn shared_corpus_cargo_fast_reader_matches_cargo_lock() {
        let mut files = Vec::new();
        common::files_named(&common::shared().join("corpus"), "Cargo.lock", &mut files);
        assert!(files.len() >= 12, "found only {} Cargo.lock files", files.len());
        let (failures, declined) = common::differential(&files, compare);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Left to cargo-lock: the sample that is not TOML, and two excerpts whose dependencies
        // are not listed (cargo-lock refuses them, the lenient reader reads them).
        let expected = ["-not-toml/", "-one-package/", "-two-packages/"];
        assert!(declined.iter().all(|d| expected.iter().any(|e| d.contains(e))), "declined: {declined:?}");
    }

    /// Prefixes of fixtures (every one of a small file, those ending next to a line break of a
    /// large one): no panic, and where the fast reader accepts the prefix, cargo-lock gives the
    /// same result.
    #[test]
    fn truncated_input_never_panics_and_agrees() {
        for (rel, every) in [("cargo/v4-git-path-duplicates/Cargo.lock", true), ("cargo/v1-metadata/Cargo.lock", false)]
        {
            let path = common::fixture(rel);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let near_break =
                |i: usize| text.as_bytes().get(i.saturating_sub(1)..=i).is_some_and(|w| w.contains(&b'\n'));
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i) && (every || near_break(i))) {
                let prefix = &text[..end];
                if let Some(Err(e)) = compare(&path, prefix) {
                    panic!("{rel} cut at {end}: {e}\n---\n{prefix}");
                }
            }
        }
    }

    /// One byte replaced by a TOML-significant character, at every position.
    #[test]
    fn mutated_input_agrees() {
        let rel = "cargo/v4-git-path-duplicates/Cargo.lock";
        let path = common::fixture(rel);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for i in (0..text.len()).filter(|&i| text.is_char_boundary(i) && text.is_char_boundary(i + 1)) {
            for c in ["=", " ", "'", "\"", "\n", "[", "]", ",", "#", "0", "a", "(", "+", ".", "\\"] {
                let mut mutated = text.clone();
                mutated.replace_range(i..=i, c);
                if let Some(Err(e)) = compare(&path, &mutated) {
                    panic!("{rel} with {c:?} at {i}: {e}\n---\n{mutated}");
                }
            }
        }
    }

    /// Small files on the edges of the layout: dependency spellings and resolution, versions
    /// and sources that cargo-lock normalizes or refuses.
    #[test]
    fn small_documents_agree() {
        let crates_io = "registry+https://github.com/rust-lang/crates.io-index";
        let docs = [
            format!("version = 3\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\"b\", \"b 2.0.0\"]\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"{crates_io}\"\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n"),
            format!("[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"b 1.0.0 ({crates_io})\",\n \"c 3.0.0\",\n]\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"{crates_io}\"\n[metadata]\n\"checksum b 1.0.0 ({crates_io})\" = \"x\"\n"),
            "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\"b\"]\n".to_owned(),
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"01.0.0\"\n".to_owned(),
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0-rc.1+build.5\"\ndependencies = [\"a 1.0.0-rc.1+build.5\"]\n".to_owned(),
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"git+https://github.com/o/r?branch=main#0123abc\"\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\ndependencies = [\"a 1.0.0 (git+https://github.com/o/r?branch=main)\"]\n".to_owned(),
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"sparse+https://index.crates.io/\"\nchecksum = \"+f26201604c87b1e01bd3d98f8d5d9a8fcbb815e8cedb41ffccbeb4bf593a35f\"\n".to_owned(),
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://example.com/index\"\n".to_owned(),
            "version = 5\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n".to_owned(),
            "version = 3\n".to_owned(),
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"\"]\n".to_owned(),
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b 1.0.0 (nope)\"]\n".to_owned(),
        ];
        let mut accepted = Vec::new();
        for (i, doc) in docs.iter().enumerate() {
            match compare(Path::new("Cargo.lock"), doc) {
                Some(Err(e)) => panic!("{doc}\n{e}"),
                Some(Ok(())) => accepted.push(i),
                None => {}
            }
        }
        // The others need cargo-lock: an unresolvable dependency, a non-canonical version, a
        // checksum cargo-lock reads but we do not, an unknown version, no packages, a bad
        // dependency string or source.
        assert_eq!(accepted, [0, 1, 4, 5, 7]);
    }

    #[test]
    fn location_from_message() {
        assert_eq!(toml_location("parse error: TOML parse error at line 3, column 7\n  |"), Some("3:7".to_owned()));
        assert_eq!(toml_location("parse error: other"), None);
    }
}
