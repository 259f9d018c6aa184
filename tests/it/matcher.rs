//! `matcher::match_packages` over a store, with OSV records written for each rule of the
//! matching semantics: SEMVER and ECOSYSTEM ranges with introduced / fixed / last_affected /
//! limit, `versions` lists, withdrawn records never matching, GIT ranges not evaluated against
//! versions, records that are aliases of each other grouped into one vulnerability, and
//! versions that do not parse. (`matcher::range` has unit tests of its own for ordering.)

use bundleguard::advisory::osv;
use bundleguard::advisory::store::Store;
use bundleguard::matcher::{self, PackageMatches, PackageQuery};
use bundleguard::package::{Ecosystem, PackageName};
use serde_json::{Value, json};

fn record(id: &str, aliases: &[&str], severity: &str, affected: &Value) -> Value {
    json!({
        "id": id,
        "modified": "2024-01-02T03:04:05Z",
        "aliases": aliases,
        "summary": format!("{id} summary"),
        "database_specific": {"severity": severity},
        "affected": [affected],
    })
}

fn ranges(eco: &str, name: &str, kind: &str, events: &Value) -> Value {
    json!({"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": kind, "events": events}]})
}

/// A store holding `records` (each in its ecosystem's folder).
fn store_with(dir: &tempfile::TempDir, records: &[(Ecosystem, Value)]) -> Store {
    let mut store = Store::open(&dir.path().join("a.db")).expect("open");
    let mut ingest = store.ingest().expect("ingest");
    for (eco, doc) in records {
        let raw = doc.to_string();
        let advisory = osv::parse_record(raw.as_bytes()).expect("a valid record");
        ingest.upsert(*eco, &advisory, &raw).expect("upsert");
    }
    ingest.commit().expect("commit");
    store
}

fn query(eco: Ecosystem, name: &str, version: &str) -> PackageQuery {
    PackageQuery { ecosystem: eco, name: PackageName::new(eco, name), version: version.into() }
}

/// Which versions of `(eco, name)` the store's records affect, as `version: ids`.
fn matched(store: &Store, eco: Ecosystem, name: &str, versions: &[&str]) -> Vec<String> {
    let queries: Vec<PackageQuery> = versions.iter().map(|v| query(eco, name, v)).collect();
    let results = matcher::match_packages(store, &queries).expect("match");
    versions
        .iter()
        .zip(results)
        .map(|(v, r)| format!("{v}: {}", r.vulnerabilities.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(" ")))
        .collect()
}

#[test]
fn semver_ranges_with_introduced_fixed_last_affected_and_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with(
        &dir,
        &[
            (
                Ecosystem::Npm,
                record(
                    "GHSA-fix",
                    &[],
                    "HIGH",
                    &ranges(
                        "npm",
                        "a",
                        "SEMVER",
                        &json!([{"introduced": "1.0.0"}, {"fixed": "1.2.0"}, {"introduced": "2.0.0-beta.1"}, {"fixed": "2.0.1"}]),
                    ),
                ),
            ),
            (
                Ecosystem::Npm,
                record(
                    "GHSA-last",
                    &[],
                    "HIGH",
                    &ranges("npm", "a", "SEMVER", &json!([{"introduced": "0"}, {"last_affected": "0.9.0"}])),
                ),
            ),
            (
                Ecosystem::Npm,
                record(
                    "GHSA-limit",
                    &[],
                    "HIGH",
                    &ranges("npm", "a", "SEMVER", &json!([{"introduced": "3.0.0"}, {"limit": "3.5.0"}])),
                ),
            ),
        ],
    );
    assert_eq!(
        matched(
            &store,
            Ecosystem::Npm,
            "a",
            &[
                "0.9.0",
                "0.9.1",
                "0.9.9",
                "1.0.0",
                "1.1.9",
                "1.2.0",
                "2.0.0-alpha",
                "2.0.0-beta.1",
                "2.0.0",
                "2.0.1",
                "3.4.9",
                "3.5.0"
            ]
        ),
        [
            "0.9.0: GHSA-last",
            "0.9.1: ",
            "0.9.9: ",
            "1.0.0: GHSA-fix",
            "1.1.9: GHSA-fix",
            "1.2.0: ",
            "2.0.0-alpha: ",
            "2.0.0-beta.1: GHSA-fix",
            "2.0.0: GHSA-fix",
            "2.0.1: ",
            "3.4.9: GHSA-limit",
            "3.5.0: ",
        ]
    );
}

#[test]
fn ecosystem_ranges_use_the_ecosystems_own_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with(
        &dir,
        &[
            (
                Ecosystem::PyPI,
                record(
                    "PYSEC-1",
                    &[],
                    "HIGH",
                    &ranges("PyPI", "Django", "ECOSYSTEM", &json!([{"introduced": "3.0"}, {"fixed": "3.2.2"}])),
                ),
            ),
            (
                Ecosystem::Go,
                record(
                    "GO-1",
                    &[],
                    "HIGH",
                    &ranges("Go", "golang.org/x/text", "SEMVER", &json!([{"introduced": "0"}, {"fixed": "0.3.8"}])),
                ),
            ),
        ],
    );
    assert_eq!(
        matched(&store, Ecosystem::PyPI, "django", &["2.2.28", "3.0", "3.2.2rc1", "3.2.1.post1", "3.2.2", "3.2.10"]),
        ["2.2.28: ", "3.0: PYSEC-1", "3.2.2rc1: PYSEC-1", "3.2.1.post1: PYSEC-1", "3.2.2: ", "3.2.10: "],
        "PEP 440: 3.2.10 > 3.2.2, a release candidate and a post release come before it"
    );
    assert_eq!(
        matched(
            &store,
            Ecosystem::Go,
            "golang.org/x/text",
            &["v0.3.7", "v0.3.8", "v0.0.0-20170915032832-14c0d48ead0c"]
        ),
        ["v0.3.7: GO-1", "v0.3.8: ", "v0.0.0-20170915032832-14c0d48ead0c: GO-1"],
        "Go versions carry a `v`, OSV bounds do not; a pseudo-version is a prerelease"
    );
}

#[test]
fn versions_lists_match_exactly_and_git_ranges_are_not_evaluated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listed = json!({"package": {"ecosystem": "PyPI", "name": "jinja2"}, "versions": ["2.10", "2.10.1"]});
    let git = json!({
        "package": {"ecosystem": "npm", "name": "g"},
        "ranges": [{"type": "GIT", "repo": "https://github.com/x/g", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]
    });
    let store = store_with(
        &dir,
        &[
            (Ecosystem::PyPI, record("PYSEC-2", &[], "HIGH", &listed)),
            (Ecosystem::Npm, record("GHSA-git", &[], "HIGH", &git)),
        ],
    );
    assert_eq!(
        matched(&store, Ecosystem::PyPI, "Jinja2", &["2.10", "2.10.0", "2.10.1", "2.10.2", "2.9"]),
        ["2.10: PYSEC-2", "2.10.0: PYSEC-2", "2.10.1: PYSEC-2", "2.10.2: ", "2.9: "],
        "listed versions compare as versions (2.10 == 2.10.0)"
    );
    assert_eq!(matched(&store, Ecosystem::Npm, "g", &["0.0.1", "1.0.0"]), ["0.0.1: ", "1.0.0: "]);
}

#[test]
fn withdrawn_records_never_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gone = record("GHSA-gone", &[], "CRITICAL", &ranges("npm", "p", "SEMVER", &json!([{"introduced": "0"}])));
    gone["withdrawn"] = "2024-02-01T00:00:00Z".into();
    let live = record(
        "GHSA-live",
        &[],
        "LOW",
        &ranges("npm", "p", "SEMVER", &json!([{"introduced": "0"}, {"fixed": "2.0.0"}])),
    );
    let store = store_with(&dir, &[(Ecosystem::Npm, gone), (Ecosystem::Npm, live)]);
    assert_eq!(matched(&store, Ecosystem::Npm, "p", &["1.0.0", "2.0.0"]), ["1.0.0: GHSA-live", "2.0.0: "]);
}

#[test]
fn records_that_alias_each_other_are_one_vulnerability() {
    let dir = tempfile::tempdir().expect("tempdir");
    let affected = || ranges("PyPI", "PyYAML", "ECOSYSTEM", &json!([{"introduced": "0"}, {"fixed": "5.4"}]));
    let older = ranges("PyPI", "PyYAML", "ECOSYSTEM", &json!([{"introduced": "0"}, {"fixed": "5.3.1"}]));
    let store = store_with(
        &dir,
        &[
            (Ecosystem::PyPI, record("GHSA-8q59-q68h-6hv4", &["CVE-2020-14343"], "CRITICAL", &affected())),
            (Ecosystem::PyPI, record("PYSEC-2021-142", &["CVE-2020-14343"], "HIGH", &affected())),
            // Chained: aliases the GHSA record only, through its id.
            (Ecosystem::PyPI, record("OSV-2021-1", &["GHSA-8q59-q68h-6hv4"], "LOW", &older)),
            (Ecosystem::PyPI, record("PYSEC-2020-96", &["CVE-2020-1747"], "MEDIUM", &affected())),
        ],
    );
    let [found]: [PackageMatches; 1] = matcher::match_packages(&store, &[query(Ecosystem::PyPI, "pyyaml", "5.3")])
        .expect("match")
        .try_into()
        .expect("one");
    let summary: Vec<String> = found
        .vulnerabilities
        .iter()
        .map(|v| format!("{} aliases {:?}, {:?}, fixed in {:?}", v.id, v.aliases, v.severity.level, v.fixed))
        .collect();
    assert_eq!(
        summary,
        [
            r#"PYSEC-2021-142 aliases ["CVE-2020-14343", "GHSA-8q59-q68h-6hv4", "OSV-2021-1"], Some(Critical), fixed in ["5.3.1", "5.4"]"#,
            r#"PYSEC-2020-96 aliases ["CVE-2020-1747"], Some(Medium), fixed in ["5.4"]"#,
        ],
        "the ecosystem's own id first, every other id an alias, the worst severity, every fixed version in order"
    );
}

#[test]
fn a_version_that_does_not_parse_is_reported_and_matches_only_listed_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let affected = json!({
        "package": {"ecosystem": "npm", "name": "q"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
        "versions": ["not-a-version"]
    });
    let store = store_with(&dir, &[(Ecosystem::Npm, record("GHSA-q", &[], "HIGH", &affected))]);
    let results = matcher::match_packages(
        &store,
        &[query(Ecosystem::Npm, "q", "not-a-version"), query(Ecosystem::Npm, "q", "latest")],
    )
    .expect("match");
    assert_eq!(results[0].vulnerabilities.len(), 1, "an exact listed version still matches");
    assert!(results[1].vulnerabilities.is_empty(), "a range cannot be evaluated against it");
    assert!(results.iter().all(|r| r.version_warning.is_some()), "and it is said");
}

#[test]
fn each_distinct_package_is_matched_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with(
        &dir,
        &[(
            Ecosystem::Npm,
            record("GHSA-x", &[], "HIGH", &ranges("npm", "x", "SEMVER", &json!([{"introduced": "0"}]))),
        )],
    );
    let repeated =
        vec![query(Ecosystem::Npm, "x", "1.0.0"); 3].into_iter().chain([query(Ecosystem::Npm, "y", "1.0.0")]);
    let unique = matcher::match_unique(&store, repeated).expect("match");
    assert_eq!(unique.len(), 2);
    assert_eq!(unique[&query(Ecosystem::Npm, "x", "1.0.0")].vulnerabilities[0].id, "GHSA-x");
    assert!(unique[&query(Ecosystem::Npm, "y", "1.0.0")].vulnerabilities.is_empty());
}
