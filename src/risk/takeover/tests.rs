//! Unit tests of the takeover check over the facts of real incidents (sources in
//! fixtures/README.md, section "Incident facts"), their benign neighbours, a stripped-mirror
//! variant, and synthetic histories for the guards.

use super::*;
use crate::package::Scope;
use crate::registry::facts::PackageFacts;
use crate::risk::history::FactsMap;
use crate::risk::history::testing::{VersionExt, facts_map, package, t, unit, v};

fn npm(name: &'static str, version: &'static str) -> (Ecosystem, &'static str, &'static str, Scope) {
    (Ecosystem::Npm, name, version, Scope::Prod)
}

fn run(facts: &FactsMap, locked: &[(Ecosystem, &str, &str, Scope)], now: &str) -> (Vec<Signal>, Vec<Coverage>) {
    check(&unit(locked), facts, &TakeoverConfig::default(), t(now))
}

/// The codes raised on `name@version`, sorted.
fn codes(signals: &[Signal], name: &str, version: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = signals
        .iter()
        .filter(|s| s.package.as_ref().is_some_and(|p| p.name.as_str() == name && p.version == version))
        .map(|s| s.code.as_str())
        .collect();
    out.sort_unstable();
    out
}

fn signal<'a>(signals: &'a [Signal], code: Code, name: &str) -> &'a Signal {
    signals
        .iter()
        .find(|s| s.code == code && s.package.as_ref().is_some_and(|p| p.name.as_str() == name))
        .unwrap_or_else(|| panic!("no {code} on {name} in {signals:#?}"))
}

fn evidence<'a>(s: &'a Signal, name: &str) -> &'a str {
    s.evidence.iter().find(|e| e.name == name).map_or_else(|| panic!("no evidence {name} in {s:#?}"), |e| &e.value)
}

fn coverage(list: &[Coverage], code: Code) -> &Coverage {
    list.iter().find(|c| c.code == code).expect("coverage of every code")
}

// ---- incident facts (fixtures/README.md, "Incident facts") ----

/// The dependencies event-stream 3.3.4 declares.
const EVENT_STREAM_DEPS: [&str; 7] =
    ["duplexer", "from", "map-stream", "pause-stream", "split", "stream-combiner", "through"];

fn event_stream() -> PackageFacts {
    let with_flatmap: Vec<&str> = EVENT_STREAM_DEPS.iter().copied().chain(["flatmap-stream"]).collect();
    package(
        Ecosystem::Npm,
        "event-stream",
        vec![
            v("3.3.3", "2016-05-01T00:00:00Z").by("dominictarr").maintainers(&["dominictarr"]).deps(&EVENT_STREAM_DEPS),
            v("3.3.4", "2016-07-17T07:24:09Z").by("dominictarr").maintainers(&["dominictarr"]).deps(&EVENT_STREAM_DEPS),
            v("3.3.5", "2018-09-05T00:00:00Z")
                .by("right9ctrl")
                .maintainers(&["dominictarr", "right9ctrl"])
                .deps(&EVENT_STREAM_DEPS),
            v("3.3.6", "2018-09-09T08:28:59Z")
                .by("right9ctrl")
                .maintainers(&["dominictarr", "right9ctrl"])
                .deps(&with_flatmap),
            v("4.0.0", "2018-09-16T00:00:00Z")
                .by("right9ctrl")
                .maintainers(&["dominictarr", "right9ctrl"])
                .deps(&EVENT_STREAM_DEPS),
        ],
    )
}

fn flatmap_stream() -> PackageFacts {
    package(
        Ecosystem::Npm,
        "flatmap-stream",
        vec![v("0.1.0", "2018-09-05T00:00:00Z").by("right9ctrl"), v("0.1.1", "2018-10-05T00:00:00Z").by("hugeglass")],
    )
}

fn ua_parser_js() -> PackageFacts {
    let preinstall = "start /B node preinstall.js & node preinstall.js";
    package(
        Ecosystem::Npm,
        "ua-parser-js",
        vec![
            v("0.7.27", "2021-03-01T00:00:00Z").by("faisalman"),
            v("0.7.28", "2021-04-12T00:00:00Z").by("faisalman"),
            v("0.7.29", "2021-10-22T12:15:00Z").by("faisalman").script("preinstall", preinstall),
            v("0.8.0", "2021-10-22T12:16:00Z").by("faisalman").script("preinstall", preinstall),
            v("1.0.0", "2021-10-22T12:17:00Z").by("faisalman").script("preinstall", preinstall),
        ],
    )
}

const COA_PREINSTALL: &str = "start /B node compile.js & node compile.js";

fn coa() -> PackageFacts {
    package(
        Ecosystem::Npm,
        "coa",
        vec![
            v("2.0.1", "2018-11-01T00:00:00Z").deps(&["q"]),
            v("2.0.2", "2018-12-10T00:00:00Z").deps(&["@types/q", "chalk", "q"]),
            v("2.0.3", "2021-11-04T13:00:00Z").deps(&["@types/q", "chalk", "q"]).script("preinstall", COA_PREINSTALL),
        ],
    )
}

fn rc() -> PackageFacts {
    package(
        Ecosystem::Npm,
        "rc",
        vec![
            v("1.2.7", "2018-04-01T00:00:00Z").deps(&["deep-extend", "ini", "minimist", "strip-json-comments"]),
            v("1.2.8", "2018-05-26T00:00:00Z").deps(&["deep-extend", "ini", "minimist", "strip-json-comments"]),
            v("1.2.9", "2021-11-04T19:00:00Z")
                .deps(&["deep-extend", "ini", "minimist", "strip-json-comments"])
                .script("preinstall", COA_PREINSTALL),
        ],
    )
}

fn chalk() -> PackageFacts {
    package(
        Ecosystem::Npm,
        "chalk",
        vec![
            v("5.5.0", "2025-08-01T00:00:00Z"),
            v("5.6.0", "2025-08-20T00:00:00Z"),
            v("5.6.1", "2025-09-08T13:00:00Z").by("qix"),
        ],
    )
}

fn debug() -> PackageFacts {
    package(
        Ecosystem::Npm,
        "debug",
        vec![
            v("4.4.0", "2024-12-01T00:00:00Z").by("qix").deps(&["ms"]),
            v("4.4.1", "2025-05-01T00:00:00Z").by("qix").deps(&["ms"]),
            v("4.4.2", "2025-09-08T13:00:00Z").by("qix").deps(&["ms"]),
        ],
    )
}

// ---- incidents ----

#[test]
fn event_stream_3_3_6_adds_a_single_version_dependency_after_a_maintainer_change() {
    let facts = facts_map(vec![event_stream(), flatmap_stream()]);
    let locked = [npm("event-stream", "3.3.6"), npm("flatmap-stream", "0.1.0")];
    let (signals, _) = run(&facts, &locked, "2018-09-09T12:00:00Z");
    assert_eq!(
        codes(&signals, "event-stream", "3.3.6"),
        ["takeover/maintainer-change", "takeover/new-dependency", "takeover/too-fresh"]
    );
    let dep = signal(&signals, NEW_DEPENDENCY, "event-stream");
    assert!(dep.message.contains("flatmap-stream"), "{}", dep.message);
    assert_eq!(evidence(dep, "flatmap-stream.versions_then"), "1");
    assert_eq!(evidence(dep, "previous_version"), "3.3.5");
    // Two signals coincide: each is raised one level.
    assert_eq!(dep.level, Level::Critical);
    assert_eq!(evidence(dep, "coincides_with"), "takeover/maintainer-change");
    let change = signal(&signals, MAINTAINER_CHANGE, "event-stream");
    assert_eq!(change.level, Level::High);
    assert_eq!(evidence(change, "compared_with"), "3.3.4");
    assert!(change.message.contains("added right9ctrl"), "{}", change.message);
    // right9ctrl had published 3.3.5 four days before: not a new publisher on 3.3.6.
    assert!(!codes(&signals, "event-stream", "3.3.6").contains(&"takeover/new-publisher"));
}

#[test]
fn event_stream_3_3_5_is_the_handover() {
    let facts = facts_map(vec![event_stream()]);
    let (signals, _) = run(&facts, &[npm("event-stream", "3.3.5")], "2018-11-26T00:00:00Z");
    assert_eq!(
        codes(&signals, "event-stream", "3.3.5"),
        ["takeover/dormant-revival", "takeover/maintainer-change", "takeover/new-publisher"]
    );
    let publisher = signal(&signals, NEW_PUBLISHER, "event-stream");
    assert_eq!(evidence(publisher, "publisher"), "right9ctrl");
    assert_eq!(evidence(publisher, "previous_publishers"), "dominictarr");
    assert_eq!(publisher.level, Level::Critical, "three coinciding signals raise medium by two");
}

#[test]
fn flatmap_stream_0_1_1_is_published_by_a_new_account() {
    let facts = facts_map(vec![flatmap_stream()]);
    let (signals, cov) = run(&facts, &[npm("flatmap-stream", "0.1.1")], "2018-10-05T06:00:00Z");
    assert_eq!(codes(&signals, "flatmap-stream", "0.1.1"), ["takeover/new-publisher", "takeover/too-fresh"]);
    assert_eq!(evidence(signal(&signals, NEW_PUBLISHER, "flatmap-stream"), "publisher"), "hugeglass");
    // No per-version maintainers in the facts: not evaluated, not passed.
    assert_eq!(coverage(&cov, MAINTAINER_CHANGE).evaluated, 0);
}

#[test]
fn ua_parser_js_0_7_29_adds_a_preinstall_script_in_a_burst() {
    let facts = facts_map(vec![ua_parser_js()]);
    let (signals, _) = run(&facts, &[npm("ua-parser-js", "0.7.29")], "2021-10-22T13:00:00Z");
    assert_eq!(
        codes(&signals, "ua-parser-js", "0.7.29"),
        ["takeover/burst", "takeover/install-script-added", "takeover/too-fresh"]
    );
    let script = signal(&signals, INSTALL_SCRIPT_ADDED, "ua-parser-js");
    assert_eq!(evidence(script, "preinstall"), "start /B node preinstall.js & node preinstall.js");
    assert_eq!(evidence(script, "previous_version"), "0.7.28");
    assert_eq!(script.level, Level::Critical);
    let burst = signal(&signals, BURST, "ua-parser-js");
    assert_eq!(evidence(burst, "other_lines"), "0.8.0 (line 0.8), 1.0.0 (line 1)");
    assert_eq!(burst.level, Level::Medium);
    // The same account published every version: no new publisher.
    assert!(!codes(&signals, "ua-parser-js", "0.7.29").contains(&"takeover/new-publisher"));
}

#[test]
fn coa_2_0_3_and_rc_1_2_9_revive_with_an_install_script() {
    let facts = facts_map(vec![coa(), rc()]);
    let (signals, cov) = run(&facts, &[npm("coa", "2.0.3"), npm("rc", "1.2.9")], "2021-11-04T20:00:00Z");
    let want = ["takeover/dormant-revival", "takeover/install-script-added", "takeover/too-fresh"];
    assert_eq!(codes(&signals, "coa", "2.0.3"), want);
    assert_eq!(codes(&signals, "rc", "1.2.9"), want);
    let revival = signal(&signals, DORMANT_REVIVAL, "coa");
    assert_eq!(evidence(revival, "previous_version"), "2.0.2");
    assert_eq!(evidence(revival, "previous_published"), "2018-12-10T00:00:00Z");
    assert_eq!(evidence(signal(&signals, INSTALL_SCRIPT_ADDED, "rc"), "preinstall"), COA_PREINSTALL);
    // The sources do not name the publishing account: not evaluated for both, never passed.
    let publisher = coverage(&cov, NEW_PUBLISHER);
    assert_eq!((publisher.evaluated, publisher.total), (0, 2));
    assert!(publisher.reason.as_deref().unwrap_or_default().contains("stripped"), "{publisher:?}");
}

#[test]
fn chalk_5_6_1_and_debug_4_4_2_are_only_too_fresh() {
    // The payload was in the package source (chalk/chalk#656, debug-js/debug#1005), published
    // by the maintainer's own (phished) account: the metadata shows only a young version.
    let facts = facts_map(vec![chalk(), debug()]);
    let locked = [npm("chalk", "5.6.1"), npm("debug", "4.4.2")];
    let (signals, cov) = run(&facts, &locked, "2025-09-08T15:00:00Z");
    assert_eq!(codes(&signals, "chalk", "5.6.1"), ["takeover/too-fresh"]);
    assert_eq!(codes(&signals, "debug", "4.4.2"), ["takeover/too-fresh"]);
    let fresh = signal(&signals, TOO_FRESH, "debug");
    assert_eq!(fresh.level, Level::Medium);
    assert_eq!(evidence(fresh, "published"), "2025-09-08T13:00:00Z");
    // Earlier chalk publishers are not in the facts: new-publisher not evaluated for chalk.
    assert_eq!(coverage(&cov, NEW_PUBLISHER).evaluated, 1);
    // A day later the cooldown is over and nothing else is raised.
    let (later, _) = run(&facts, &locked, "2025-09-10T00:00:00Z");
    assert!(later.is_empty(), "{later:#?}");
}

#[test]
fn benign_releases_of_the_same_packages_are_not_flagged() {
    let facts = facts_map(vec![event_stream(), flatmap_stream(), ua_parser_js(), coa(), rc(), chalk(), debug()]);
    let cases = [
        (npm("event-stream", "3.3.4"), "2018-08-01T00:00:00Z"),
        (npm("ua-parser-js", "0.7.28"), "2021-10-22T13:00:00Z"),
        (npm("coa", "2.0.2"), "2021-11-04T20:00:00Z"),
        (npm("rc", "1.2.8"), "2021-11-04T20:00:00Z"),
        (npm("chalk", "5.6.0"), "2025-09-08T15:00:00Z"),
        (npm("debug", "4.4.1"), "2025-09-08T15:00:00Z"),
    ];
    for (locked, now) in cases {
        let (signals, _) = run(&facts, &[locked], now);
        assert!(signals.is_empty(), "{}@{} at {now}: {signals:#?}", locked.1, locked.2);
    }
    // Too-fresh is the only signal a benign release gets, while it is young.
    let (young, _) = run(&facts, &[npm("debug", "4.4.1")], "2025-05-01T12:00:00Z");
    assert_eq!(codes(&young, "debug", "4.4.1"), ["takeover/too-fresh"]);
}

#[test]
fn a_stripped_mirror_yields_not_evaluated_not_clean() {
    let mut stripped = event_stream();
    for version in &mut stripped.versions {
        version.publisher = None;
        version.maintainers = None;
    }
    let facts = facts_map(vec![stripped, flatmap_stream()]);
    let (signals, cov) = run(&facts, &[npm("event-stream", "3.3.5")], "2018-11-26T00:00:00Z");
    // Times are present: the dormant revival is still seen; the publisher signals are not.
    assert_eq!(codes(&signals, "event-stream", "3.3.5"), ["takeover/dormant-revival"]);
    for code in [NEW_PUBLISHER, MAINTAINER_CHANGE] {
        let c = coverage(&cov, code);
        assert_eq!((c.evaluated, c.total), (0, 1), "{c:?}");
        assert!(c.reason.as_deref().is_some_and(|r| r.contains("stripped by the registry mirror")), "{c:?}");
    }
    assert_eq!(coverage(&cov, DORMANT_REVIVAL).evaluated, 1);
}

#[test]
fn untrusted_times_leave_only_the_install_script_signals() {
    let facts = facts_map(vec![ua_parser_js()]);
    let cfg = TakeoverConfig { untrusted_times: [Ecosystem::Npm].into(), ..TakeoverConfig::default() };
    let (signals, cov) = check(&unit(&[npm("ua-parser-js", "0.7.29")]), &facts, &cfg, t("2021-10-22T13:00:00Z"));
    assert_eq!(codes(&signals, "ua-parser-js", "0.7.29"), ["takeover/install-script-added"]);
    for c in &cov {
        let time_based = !matches!(c.code, INSTALL_SCRIPT_ADDED | INSTALL_SCRIPT_CHANGED);
        assert_eq!(c.evaluated, usize::from(!time_based), "{c:?}");
        if time_based {
            assert!(c.reason.as_deref().unwrap_or_default().contains("untrusted"), "{c:?}");
        }
    }
}

/// event-stream's `time` as the npm mirror reachable from the development machine served it on
/// 2026-12-06 (`npm view event-stream time --json`): ingest times, not publish times.
const MIRROR_EVENT_STREAM_TIMES: [(&str, &str); 12] = [
    ("3.0.0", "2026-02-13T12:30:15Z"),
    ("3.0.2", "2024-12-12T22:46:49Z"),
    ("3.0.4", "2025-10-03T23:28:52Z"),
    ("3.0.7", "2025-10-02T00:13:08Z"),
    ("3.0.8", "2025-10-04T12:30:18Z"),
    ("3.1.0", "2024-12-13T02:37:12Z"),
    ("3.3.0", "2024-12-13T08:16:58Z"),
    ("3.3.1", "2024-12-13T02:21:23Z"),
    ("3.3.2", "2024-12-04T22:45:46Z"),
    ("3.3.3", "2024-12-13T09:39:24Z"),
    ("3.3.4", "2024-11-22T23:13:18Z"),
    ("3.3.5", "2024-12-02T18:34:58Z"),
];

#[test]
fn times_rewritten_by_a_mirror_are_not_used() {
    let versions = MIRROR_EVENT_STREAM_TIMES.iter().map(|(ver, at)| v(ver, at).by("dominictarr")).collect();
    let mut mirrored = package(Ecosystem::Npm, "event-stream", versions);
    // Vetted where facts enter a scan (`registry::keep`): the times are dropped, with the reason.
    assert!(crate::registry::times::vet(&mut mirrored, false), "detected");
    let reason = mirrored.dropped_times.clone().unwrap_or_default();
    assert!(reason.contains("run backwards in"), "{reason}");
    let facts = facts_map(vec![mirrored]);
    let (signals, cov) = run(&facts, &[npm("event-stream", "3.3.5")], "2024-12-02T20:00:00Z");
    assert!(signals.is_empty(), "no too-fresh, no revival from ingest times: {signals:#?}");
    assert_eq!(coverage(&cov, TOO_FRESH).evaluated, 0);
    let burst = coverage(&cov, BURST).reason.clone().unwrap_or_default();
    assert!(burst.contains("rewritten by a mirror") && burst.contains(&reason), "{burst}");
    assert_eq!(coverage(&cov, INSTALL_SCRIPT_ADDED).evaluated, 1, "not time-based");

    // A long history ingested within one day.
    let day: Vec<_> =
        (0..12).map(|i| v(&format!("{}.{}.0", i / 4, i % 4), &format!("2026-01-01T{i:02}:00:00Z"))).collect();
    let ingested = package(Ecosystem::Npm, "lib", day);
    assert!(crate::registry::times::untrusted(&ingested).is_some_and(|r| r.contains("published within")));
    // The incident histories are real publish times.
    for mut p in [event_stream(), flatmap_stream(), ua_parser_js(), coa(), rc(), chalk(), debug()] {
        assert!(!crate::registry::times::vet(&mut p, false), "{}", p.name);
        assert!(p.versions.iter().any(|v| v.published.is_some()), "{}: times kept", p.name);
    }
}

#[test]
fn a_burst_on_new_lines_is_compared_with_the_release_before_the_burst() {
    // ua-parser-js 0.8.0 and 1.0.0 are the first of their lines; 0.7.29, one minute older, has
    // the same script: the comparison is with 0.7.28.
    let facts = facts_map(vec![ua_parser_js()]);
    for version in ["0.8.0", "1.0.0"] {
        let (signals, _) = run(&facts, &[npm("ua-parser-js", version)], "2021-10-22T13:00:00Z");
        let script = signal(&signals, INSTALL_SCRIPT_ADDED, "ua-parser-js");
        assert_eq!(evidence(script, "previous_version"), "0.7.28", "{version}");
        assert!(codes(&signals, "ua-parser-js", version).contains(&"takeover/burst"));
    }
}

// ---- guards and edge cases (synthetic histories) ----

#[test]
fn provenance_downgrade_compares_within_the_line_by_publish_time() {
    let facts = facts_map(vec![package(
        Ecosystem::Npm,
        "lib",
        vec![
            v("1.9.0", "2024-01-01T00:00:00Z").by("a").provenance(false),
            v("2.0.0", "2024-02-01T00:00:00Z").by("a").provenance(true),
            v("2.1.0", "2024-03-01T00:00:00Z").by("a").provenance(true),
            // A back-port on the old line, published locally: the 1.x line never had provenance.
            v("1.9.1", "2024-04-01T00:00:00Z").by("a").provenance(false),
            v("2.1.1", "2024-05-01T00:00:00Z").by("a").provenance(false),
        ],
    )]);
    let now = "2025-01-01T00:00:00Z";
    let (backport, _) = run(&facts, &[npm("lib", "1.9.1")], now);
    assert!(backport.is_empty(), "{backport:#?}");
    let (downgrade, _) = run(&facts, &[npm("lib", "2.1.1")], now);
    assert_eq!(codes(&downgrade, "lib", "2.1.1"), ["takeover/provenance-downgrade"]);
    assert_eq!(evidence(&downgrade[0], "last_with_provenance"), "2.1.0");
}

#[test]
fn install_script_changed_quotes_both_commands_truncated() {
    let long = format!("node {}", "x".repeat(500));
    let facts = facts_map(vec![package(
        Ecosystem::Npm,
        "native",
        vec![
            v("1.0.0", "2024-01-01T00:00:00Z").by("a").script("install", "node-gyp rebuild"),
            v("1.0.1", "2024-02-01T00:00:00Z").by("a").script("install", &long),
        ],
    )]);
    let (signals, _) = run(&facts, &[npm("native", "1.0.1")], "2025-01-01T00:00:00Z");
    assert_eq!(codes(&signals, "native", "1.0.1"), ["takeover/install-script-changed"]);
    let s = &signals[0];
    assert_eq!(evidence(s, "previous_install"), "node-gyp rebuild");
    assert_eq!(evidence(s, "install").chars().count(), 201, "200 characters and an ellipsis");
}

#[test]
fn first_versions_and_missing_facts() {
    let facts = facts_map(vec![package(
        Ecosystem::Npm,
        "fresh",
        vec![
            v("1.0.0", "2024-01-01T00:00:00Z")
                .by("a")
                .maintainers(&["a"])
                .provenance(true)
                .script("postinstall", "node x.js"),
        ],
    )]);
    let locked = [npm("fresh", "1.0.0"), npm("absent", "1.0.0"), npm("fresh", "9.9.9")];
    let (signals, cov) = run(&facts, &locked, "2025-01-01T00:00:00Z");
    assert!(signals.is_empty(), "a first version has no history: {signals:#?}");
    for c in &cov {
        assert_eq!((c.evaluated, c.total), (1, 3), "{c:?}");
        let reason = c.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("no registry facts for the package (1)"), "{reason}");
        assert!(reason.contains("does not list the locked version (1)"), "{reason}");
    }
}

#[test]
fn new_dependency_without_its_facts_is_not_evaluated() {
    let facts = facts_map(vec![event_stream()]);
    let (signals, cov) = run(&facts, &[npm("event-stream", "3.3.6")], "2019-01-01T00:00:00Z");
    assert!(!codes(&signals, "event-stream", "3.3.6").contains(&"takeover/new-dependency"));
    let c = coverage(&cov, NEW_DEPENDENCY);
    assert_eq!(c.evaluated, 0);
    assert!(c.reason.as_deref().unwrap_or_default().contains("flatmap-stream"), "{c:?}");
}

#[test]
fn new_dependency_passes_established_packages_and_doubts_incomplete_histories() {
    // coa 2.0.2 added @types/q and chalk to 2.0.1's q (npm view coa@2.0.1 / @2.0.2 dependencies).
    let established = |name: &str, first: &str| {
        package(Ecosystem::Npm, name, vec![v("1.0.0", first), v("1.1.0", "2017-01-01T00:00:00Z")])
    };
    let facts = facts_map(vec![
        coa(),
        established("chalk", "2013-08-03T00:00:00Z"),
        established("@types/q", "2016-05-17T00:00:00Z"),
    ]);
    let (signals, cov) = run(&facts, &[npm("coa", "2.0.2")], "2019-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    assert_eq!(coverage(&cov, NEW_DEPENDENCY).evaluated, 1);
    // Facts whose every version is younger than the dependent version: incomplete, not "new".
    let facts = facts_map(vec![coa(), chalk(), established("@types/q", "2016-05-17T00:00:00Z")]);
    let (signals, cov) = run(&facts, &[npm("coa", "2.0.2")], "2019-06-01T00:00:00Z");
    assert!(signals.is_empty(), "{signals:#?}");
    let c = coverage(&cov, NEW_DEPENDENCY);
    assert_eq!(c.evaluated, 0);
    assert!(c.reason.as_deref().unwrap_or_default().contains("chalk"), "{c:?}");
}

#[test]
fn pypi_publisher_is_not_evaluated_by_design() {
    let mut facts = package(Ecosystem::PyPI, "requests", vec![v("2.31.0", "2023-05-22T00:00:00Z")]);
    for version in &mut facts.versions {
        version.install_scripts = None;
    }
    let facts = facts_map(vec![facts]);
    let (_, cov) = run(&facts, &[(Ecosystem::PyPI, "requests", "2.31.0", Scope::Prod)], "2025-01-01T00:00:00Z");
    let reason = |code| coverage(&cov, code).reason.clone().unwrap_or_default();
    assert!(reason(NEW_PUBLISHER).contains("PyPI gives no per-file uploader (by design)"));
    assert!(reason(INSTALL_SCRIPT_ADDED).contains("by design"));
    assert_eq!(coverage(&cov, TOO_FRESH).evaluated, 1);
}

#[test]
fn dev_packages_are_reported_and_allowed_packages_skipped() {
    let facts = facts_map(vec![ua_parser_js(), chalk()]);
    let locked = [(Ecosystem::Npm, "ua-parser-js", "0.7.29", Scope::Dev), npm("chalk", "5.6.1")];
    let mut cfg = TakeoverConfig::default();
    cfg.allow.insert(Ecosystem::Npm, "chalk");
    let (signals, cov) = check(&unit(&locked), &facts, &cfg, t("2021-10-22T13:00:00Z"));
    let script = signal(&signals, INSTALL_SCRIPT_ADDED, "ua-parser-js");
    assert_eq!(script.package.as_ref().map(|p| p.scope), Some(Scope::Dev));
    assert!(signals.iter().all(|s| s.package.as_ref().is_some_and(|p| p.name.as_str() != "chalk")));
    assert!(cov.iter().all(|c| c.total == 1), "{cov:?}");
}

#[test]
fn code_table_is_well_formed() {
    for (code, _, doc) in CODES {
        assert_eq!(code.kind(), crate::vocab::FindingKind::Takeover, "{code}");
        assert!(!doc.is_empty());
    }
    for code in FACT_CODES {
        assert!(CODES.iter().any(|(c, _, _)| *c == code), "{code}");
    }
}

// ---- untrusted input: arbitrary facts never panic, coverage stays consistent ----

mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::registry::facts::VersionFacts;
    use crate::risk::stale::{self, StaleConfig};

    fn time() -> impl Strategy<Value = Option<Timestamp>> {
        let min = Timestamp::MIN.as_second();
        let max = Timestamp::MAX.as_second();
        prop_oneof![
            Just(None),
            Just(Some(Timestamp::MIN)),
            Just(Some(Timestamp::MAX)),
            (1_500_000_000i64..1_800_000_000).prop_map(|s| Timestamp::from_second(s).ok()),
            (min..=max).prop_map(|s| Timestamp::from_second(s).ok()),
        ]
    }

    fn version_text() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u8..3, 0u8..3, 0u8..3).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
            Just("1.0.0-rc.1".to_owned()),
            Just("v99999999999999999999.0".to_owned()),
            Just(String::new()),
            "[0-9a-z.!+-]{0,12}",
        ]
    }

    fn list(items: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<String>>> {
        proptest::option::of(proptest::sample::subsequence(items, 0..=items.len()))
            .prop_map(|l| l.map(|l| l.into_iter().map(str::to_owned).collect()))
    }

    prop_compose! {
        fn version_facts()(
            version in version_text(),
            published in time(),
            publisher in proptest::option::of(proptest::sample::select(vec!["a", "b", "c"])),
            provenance in proptest::option::of(any::<bool>()),
            script in proptest::option::of(proptest::option::of(("(pre|post)?install", ".{0,300}"))),
            deprecated in proptest::option::of(".{0,10}"),
            yanked in proptest::option::of(".{0,10}"),
            flags in any::<(bool, bool)>(),
            dependencies in list(&["p0", "p1", "p2"]),
            maintainers in list(&["a", "b", "c"]),
        ) -> VersionFacts {
            VersionFacts {
                version,
                published,
                publisher: publisher.map(str::to_owned),
                provenance,
                install_scripts: script.map(|s| s.into_iter().collect()),
                deprecated,
                deprecation_known: flags.0,
                yanked,
                yank_known: flags.1,
                dependencies: dependencies.map(Into::into),
                maintainers: maintainers.map(Into::into),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn checks_never_panic_and_count_every_package(
            histories in proptest::collection::vec(proptest::collection::vec(version_facts(), 0..8), 3),
            locked in proptest::collection::vec((0usize..3, version_text()), 0..6),
            now in time(),
            untrusted in any::<bool>(),
        ) {
            let facts = facts_map(
                histories
                    .into_iter()
                    .enumerate()
                    .map(|(i, versions)| package(Ecosystem::Npm, &format!("p{i}"), versions))
                    .collect(),
            );
            let names = ["p0", "p1", "p2"];
            let packages: Vec<_> =
                locked.iter().map(|(i, version)| (Ecosystem::Npm, names[*i], version.as_str(), Scope::Prod)).collect();
            let u = unit(&packages);
            let unique: std::collections::BTreeSet<_> = locked.iter().collect();
            let now = now.unwrap_or(Timestamp::UNIX_EPOCH);
            let mut cfg = TakeoverConfig::default();
            let mut stale_cfg = StaleConfig::default();
            if untrusted {
                cfg.untrusted_times.insert(Ecosystem::Npm);
                stale_cfg.untrusted_times.insert(Ecosystem::Npm);
            }
            let (signals, cov) = check(&u, &facts, &cfg, now);
            prop_assert_eq!((signals.clone(), cov.clone()), check(&u, &facts, &cfg, now), "deterministic");
            prop_assert_eq!(cov.len(), FACT_CODES.len());
            let (stale_signals, stale_cov) = stale::check(&u, &facts, &stale_cfg, now);
            for c in cov.iter().chain(&stale_cov) {
                prop_assert_eq!(c.total, unique.len(), "{:?}", c);
                prop_assert!(c.evaluated <= c.total);
                prop_assert_eq!(c.reason.is_some(), c.evaluated < c.total, "{:?}", c);
            }
            for s in signals.iter().chain(&stale_signals) {
                prop_assert!(s.node.is_some_and(|n| n < u.graph.len()));
            }
        }
    }
}
