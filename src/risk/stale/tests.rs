//! Unit tests of the stale check: real deprecations and silences where the facts are public
//! (fixtures/README.md, "Incident facts"), synthetic histories for the thresholds and guards.

use super::*;
use crate::package::Scope;
use crate::registry::facts::{PackageFacts, VersionFacts};
use crate::risk::history::testing::{facts_map, package, t, unit, v};

fn run(facts: Vec<PackageFacts>, locked: (Ecosystem, &str, &str), now: &str) -> (Vec<Signal>, Vec<Coverage>) {
    run_with(facts, locked, now, &StaleConfig::default())
}

fn run_with(
    facts: Vec<PackageFacts>,
    locked: (Ecosystem, &str, &str),
    now: &str,
    cfg: &StaleConfig,
) -> (Vec<Signal>, Vec<Coverage>) {
    let u = unit(&[(locked.0, locked.1, locked.2, Scope::Prod)]);
    check(&u, &facts_map(facts), cfg, t(now))
}

fn codes(signals: &[Signal]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = signals.iter().map(|s| s.code.as_str()).collect();
    out.sort_unstable();
    out
}

fn evidence<'a>(s: &'a Signal, name: &str) -> &'a str {
    s.evidence.iter().find(|e| e.name == name).map_or_else(|| panic!("no evidence {name} in {s:#?}"), |e| &e.value)
}

fn coverage(list: &[Coverage], code: Code) -> &Coverage {
    list.iter().find(|c| c.code == code).expect("coverage of every code")
}

fn yanked(mut version: VersionFacts, reason: Option<&str>) -> VersionFacts {
    version.yank_known = true;
    version.yanked = reason.map(str::to_owned);
    version
}

const REQUEST_DEPRECATION: &str = "request has been deprecated, see https://github.com/request/request/issues/3142";

#[test]
fn npm_deprecated_version() {
    let mut last = v("2.88.2", "2020-02-11T00:00:00Z");
    last.deprecated = Some(REQUEST_DEPRECATION.into());
    let facts = vec![package(Ecosystem::Npm, "request", vec![v("2.88.0", "2018-07-17T00:00:00Z"), last])];
    let (signals, cov) = run(facts, (Ecosystem::Npm, "request", "2.88.2"), "2021-01-01T00:00:00Z");
    assert_eq!(codes(&signals), ["stale/deprecated"]);
    assert_eq!(evidence(&signals[0], "deprecated"), REQUEST_DEPRECATION);
    assert_eq!(signals[0].level, Level::Low);
    // npm has no yank: not evaluated, by design.
    let y = coverage(&cov, YANKED);
    assert_eq!(y.evaluated, 0);
    assert!(y.reason.as_deref().unwrap_or_default().contains("by design"), "{y:?}");
}

#[test]
fn project_status_deprecated_and_archived() {
    let mut deprecated =
        package(Ecosystem::Go, "github.com/golang/protobuf", vec![v("v1.5.4", "2024-03-06T00:00:00Z")]);
    deprecated.status = Some(ProjectStatus::Deprecated {
        message: Some("Use the \"google.golang.org/protobuf\" module instead.".into()),
    });
    let (signals, _) =
        run(vec![deprecated], (Ecosystem::Go, "github.com/golang/protobuf", "v1.5.4"), "2024-06-01T00:00:00Z");
    assert_eq!(codes(&signals), ["stale/deprecated"]);
    assert!(signals[0].message.contains("google.golang.org/protobuf"), "{}", signals[0].message);

    let mut archived = package(Ecosystem::PyPI, "old-lib", vec![yanked(v("1.0", "2024-01-01T00:00:00Z"), None)]);
    archived.status = Some(ProjectStatus::Archived);
    let (signals, _) = run(vec![archived], (Ecosystem::PyPI, "old_lib", "1.0.0"), "2024-06-01T00:00:00Z");
    assert_eq!(codes(&signals), ["stale/unmaintained"], "PEP 503 name and PEP 440 version are normalized");
    assert_eq!(evidence(&signals[0], "project_status"), "archived");
}

#[test]
fn crates_io_has_no_deprecation_by_design() {
    let mut version = yanked(v("1.0.0", "2024-01-01T00:00:00Z"), None);
    version.deprecation_known = false;
    let facts = vec![package(Ecosystem::CratesIo, "c", vec![version])];
    let (signals, cov) = run(facts, (Ecosystem::CratesIo, "c", "1.0.0"), "2024-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    let d = coverage(&cov, DEPRECATED);
    assert_eq!((d.evaluated, d.total), (0, 1));
    assert_eq!(d.reason.as_deref(), Some("crates.io has no deprecation (by design) (1)"));
}

#[test]
fn yanked_and_retracted_versions() {
    let crate_facts = vec![package(
        Ecosystem::CratesIo,
        "c",
        vec![yanked(v("1.0.0", "2024-01-01T00:00:00Z"), Some("")), yanked(v("1.0.1", "2024-01-02T00:00:00Z"), None)],
    )];
    let (signals, _) = run(crate_facts, (Ecosystem::CratesIo, "c", "1.0.0"), "2024-06-01T00:00:00Z");
    assert_eq!(codes(&signals), ["stale/yanked"]);
    assert_eq!(signals[0].message, "c@1.0.0 is yanked");
    assert_eq!(signals[0].level, Level::Medium);

    let go = vec![package(
        Ecosystem::Go,
        "example.com/m",
        vec![yanked(v("v1.2.0", "2024-01-01T00:00:00Z"), Some("published with a broken go.mod"))],
    )];
    let (signals, _) = run(go, (Ecosystem::Go, "example.com/m", "v1.2.0"), "2024-06-01T00:00:00Z");
    assert_eq!(evidence(&signals[0], "status"), "retracted");
    assert_eq!(evidence(&signals[0], "reason"), "published with a broken go.mod");

    // A PyPI mirror without yank data: not evaluated, not clean.
    let pypi = vec![package(Ecosystem::PyPI, "p", vec![v("1.0", "2024-01-01T00:00:00Z")])];
    let (signals, cov) = run(pypi, (Ecosystem::PyPI, "p", "1.0"), "2024-06-01T00:00:00Z");
    assert!(signals.is_empty());
    assert_eq!(coverage(&cov, YANKED).reason.as_deref(), Some("PyPI yank status unknown (1)"));
}

#[test]
fn no_release_for_two_years_is_unmaintained() {
    // coa: 2.0.2 on 2018-12-10 was the last release before the 2021-11-04 compromise.
    let coa = || {
        vec![package(
            Ecosystem::Npm,
            "coa",
            vec![v("2.0.1", "2018-11-01T00:00:00Z"), v("2.0.2", "2018-12-10T00:00:00Z")],
        )]
    };
    let (signals, _) = run(coa(), (Ecosystem::Npm, "coa", "2.0.2"), "2021-10-01T00:00:00Z");
    assert_eq!(codes(&signals), ["stale/unmaintained"]);
    assert_eq!(evidence(&signals[0], "last_release"), "2.0.2");
    let (signals, _) = run(coa(), (Ecosystem::Npm, "coa", "2.0.2"), "2019-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    // A newer release of any line is activity, even if the locked version is old.
    let (signals, _) = run(coa(), (Ecosystem::Npm, "coa", "2.0.1"), "2020-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    // Untrusted registry times: the silence cannot be measured.
    let cfg = StaleConfig { untrusted_times: [Ecosystem::Npm].into(), ..StaleConfig::default() };
    let (signals, cov) = run_with(coa(), (Ecosystem::Npm, "coa", "2.0.2"), "2021-10-01T00:00:00Z", &cfg);
    assert!(signals.is_empty());
    assert!(coverage(&cov, UNMAINTAINED).reason.as_deref().unwrap_or_default().contains("untrusted"));
}

fn lib(versions: &[(&str, &str)]) -> Vec<PackageFacts> {
    vec![package(Ecosystem::Npm, "lib", versions.iter().map(|(ver, at)| v(ver, at)).collect())]
}

#[test]
fn outdated_by_release_lines_and_libyears() {
    let now = "2025-01-01T00:00:00Z";
    let lines =
        lib(&[("1.0.0", "2024-01-01T00:00:00Z"), ("2.0.0", "2024-02-01T00:00:00Z"), ("3.0.0", "2024-03-01T00:00:00Z")]);
    let (signals, _) = run(lines.clone(), (Ecosystem::Npm, "lib", "1.0.0"), now);
    assert_eq!(codes(&signals), ["stale/outdated"]);
    assert_eq!(evidence(&signals[0], "lines_behind"), "2");
    assert_eq!(evidence(&signals[0], "newest"), "3.0.0");
    let (signals, _) = run(lines, (Ecosystem::Npm, "lib", "2.0.0"), now);
    assert!(signals.is_empty(), "one line behind, 0.1 libyears: {signals:#?}");

    // 0.x: each minor is a line (ua-parser-js 0.7.28 -> 0.8.0, 1.0.0).
    let zero = lib(&[
        ("0.7.28", "2021-04-12T00:00:00Z"),
        ("0.8.0", "2021-10-22T12:16:00Z"),
        ("1.0.0", "2021-10-22T12:17:00Z"),
    ]);
    let (signals, _) = run(zero, (Ecosystem::Npm, "lib", "0.7.28"), "2022-01-01T00:00:00Z");
    assert_eq!(evidence(&signals[0], "lines_behind"), "2");

    let old = lib(&[("1.0.0", "2020-01-01T00:00:00Z"), ("1.5.0", "2023-01-01T00:00:00Z")]);
    let (signals, _) = run(old, (Ecosystem::Npm, "lib", "1.0.0"), "2024-01-01T00:00:00Z");
    assert_eq!(codes(&signals), ["stale/outdated"]);
    assert_eq!(evidence(&signals[0], "libyears"), "3.0");
}

#[test]
fn outdated_guards() {
    let now = "2025-01-01T00:00:00Z";
    // A pre-release is never the newest.
    let pre = lib(&[("1.0.0", "2020-01-01T00:00:00Z"), ("4.0.0-rc.1", "2024-01-01T00:00:00Z")]);
    let (signals, _) = run(pre, (Ecosystem::Npm, "lib", "1.0.0"), "2020-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    // The registry's latest tag wins over a higher version (a tag moved back after a bad release).
    let mut tagged =
        lib(&[("1.0.0", "2020-01-01T00:00:00Z"), ("1.0.1", "2020-02-01T00:00:00Z"), ("3.0.0", "2020-03-01T00:00:00Z")]);
    tagged[0].latest = Some("1.0.1".into());
    let (signals, _) = run(tagged, (Ecosystem::Npm, "lib", "1.0.0"), "2020-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    // Times unknown and few lines behind: not evaluated rather than passed.
    let mut untimed = lib(&[("1.0.0", "2020-01-01T00:00:00Z"), ("1.1.0", "2024-01-01T00:00:00Z")]);
    untimed[0].versions[0].published = None;
    let (signals, cov) = run(untimed, (Ecosystem::Npm, "lib", "1.0.0"), now);
    assert!(signals.is_empty());
    assert_eq!(coverage(&cov, OUTDATED).evaluated, 0);
}

#[test]
fn code_table_is_well_formed() {
    for (code, _, doc) in CODES {
        assert_eq!(code.kind(), crate::vocab::FindingKind::Stale, "{code}");
        assert!(!doc.is_empty());
    }
}
