//! `Policy::judge`, the one place that decides: thresholds, the unknown-severity rule, dev-only
//! packages, ignores by id, alias, package and path, expired and unused ignores, per-code levels
//! (`off`, `info`, a level) on risk signals, the baseline, and the verdict. Built from the
//! public types, so each case shows what goes in and what the policy makes of it.

use std::path::{Path, PathBuf};

use bundleguard::bundle::Unit;
use bundleguard::finding::{AdvisoryInfo, NotEvaluated, ScanResult, Status, Verdict, VulnHit};
use bundleguard::graph::DepGraph;
use bundleguard::package::{Ecosystem, Package, PackageName, Scope, Source};
use bundleguard::policy::{Assessed, AssessedUnit, Baseline, Policy, PolicyError};
use bundleguard::risk::{Signal, VULNERABILITY, hygiene};
use bundleguard::vocab::{AdvisoryId, Diagnostic, Level, LockfileFormat, TreeSource, UnitKind};
use jiff::civil::{Date, date};

const TODAY: Date = date(2026, 6, 1);

fn package(name: &str, scope: Scope) -> Package {
    Package {
        ecosystem: Ecosystem::Npm,
        name: PackageName::new(Ecosystem::Npm, name),
        version: "1.0.0".into(),
        scope,
        source: Source::Registry,
    }
}

/// A unit at `path` holding `packages` (all roots).
fn unit(path: &str, packages: &[Package]) -> Unit {
    let mut graph = DepGraph::new();
    for p in packages {
        let node = graph.add_node(p.clone());
        graph.add_root(node);
    }
    graph.finish();
    Unit {
        name: path.split('/').next().unwrap_or(path).into(),
        kind: UnitKind::Function,
        runtime: None,
        handler: None,
        template: None,
        code_dir: None,
        path: path.into(),
        file: PathBuf::from(path),
        source: TreeSource::Lockfile(LockfileFormat::NpmPackageLock),
        graph,
        artifact: None,
        lockfile_twin: None,
        coverage: None,
        esbuild: None,
    }
}

/// An advisory `id` (with `aliases`) of `severity` on node `node` of `unit`.
fn hit(unit: &Unit, node: usize, id: &str, aliases: &[&str], severity: Option<Level>) -> VulnHit {
    let package = unit.graph.node(node).clone();
    VulnHit {
        code: VULNERABILITY,
        node,
        advisory: AdvisoryInfo {
            id: AdvisoryId::new(id),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            severity,
            cvss_score: None,
            fixed: vec!["2.0.0".into()],
            summary: format!("{id} in {}", package.name),
            notes: Vec::new(),
        },
        paths: vec![vec![format!("{}@{}", package.name, package.version)]],
        upgrade: vec![format!("{}@{}", package.name, package.version)],
        line: Some(1),
        reachable: None,
        package,
    }
}

fn signal(code: bundleguard::vocab::Code, package: Option<Package>) -> Signal {
    Signal {
        code,
        package,
        node: None,
        location: None,
        message: format!("{code} seen"),
        evidence: Vec::new(),
        level: Level::Low,
    }
}

/// One unit `services/api/package-lock.json` with packages a..d and one hit per given severity.
fn assessed(severities: &[Option<Level>]) -> Assessed {
    let names = ["a", "b", "c", "d", "e"];
    let packages: Vec<Package> = severities.iter().zip(names).map(|(_, n)| package(n, Scope::Prod)).collect();
    let u = unit("services/api/package-lock.json", &packages);
    let hits = severities.iter().enumerate().map(|(i, s)| hit(&u, i, &format!("GHSA-000{i}"), &[], *s)).collect();
    Assessed { units: vec![AssessedUnit { unit: u, hits, signals: Vec::new() }], ..Assessed::default() }
}

fn judge(policy: &Policy, assessed: Assessed) -> ScanResult {
    policy.judge(assessed, Vec::new(), &Baseline::default(), TODAY)
}

fn toml(text: &str) -> Policy {
    Policy::from_bundleguard_toml(Path::new("bundleguard.toml"), text).expect("a valid policy")
}

/// (advisory id, status) of every finding, in report order.
fn statuses(result: &ScanResult) -> Vec<(String, &'static str)> {
    result.findings().map(|(_, f)| (f.advisory.id.to_string(), f.status.as_str())).collect()
}

fn warnings(result: &ScanResult) -> Vec<String> {
    result.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn the_threshold_decides_gating_and_the_verdict() {
    let levels = [Some(Level::Low), Some(Level::Medium), Some(Level::High), Some(Level::Critical)];
    let result = judge(&Policy::default(), assessed(&levels));
    assert_eq!(
        statuses(&result),
        [
            ("GHSA-0003".to_owned(), "gating"),
            ("GHSA-0002".to_owned(), "gating"),
            ("GHSA-0001".to_owned(), "below-threshold"),
            ("GHSA-0000".to_owned(), "below-threshold"),
        ],
        "sorted by severity, most severe first; the default threshold is high"
    );
    assert_eq!(result.verdict, Verdict::Fail);
    assert_eq!(result.fail_on, Level::High);

    let critical = toml("fail-on = \"critical\"\n");
    let result = judge(&critical, assessed(&levels[..3]));
    assert!(result.findings().all(|(_, f)| f.status == Status::BelowThreshold));
    assert_eq!(result.verdict, Verdict::Pass);
    let low = toml("fail-on = \"low\"\n");
    assert!(judge(&low, assessed(&levels[..1])).findings().all(|(_, f)| f.status == Status::Gating));
}

#[test]
fn unknown_severity_follows_the_documented_rule() {
    let result = judge(&Policy::default(), assessed(&[None]));
    let f = result.findings().next().expect("a finding").1;
    assert_eq!((f.severity, f.advisory.severity), (Level::High, None), "unknown counts as high by default");
    assert_eq!(f.status, Status::Gating);
    let result = judge(&toml("unknown-severity = \"low\"\n"), assessed(&[None]));
    assert_eq!(result.findings().next().expect("a finding").1.severity, Level::Low);
    assert_eq!(result.verdict, Verdict::Pass);

    let mut mal = assessed(&[]);
    let u = unit("fn/package-lock.json", &[package("evil", Scope::Prod)]);
    mal.units = vec![AssessedUnit {
        hits: vec![hit(&u, 0, "MAL-2024-1", &[], Some(Level::Low))],
        unit: u,
        signals: Vec::new(),
    }];
    let result = judge(&toml("unknown-severity = \"low\"\n"), mal);
    assert_eq!(result.findings().next().expect("a finding").1.severity, Level::Critical, "MAL- is critical");
}

#[test]
fn dev_only_packages_do_not_gate_unless_asked() {
    let u = unit("fn/package-lock.json", &[package("jest", Scope::Dev), package("qs", Scope::Prod)]);
    let hits = vec![hit(&u, 0, "GHSA-dev", &[], Some(Level::Critical)), hit(&u, 1, "GHSA-prod", &[], Some(Level::Low))];
    let make = || Assessed {
        units: vec![AssessedUnit { unit: u.clone(), hits: hits.clone(), signals: Vec::new() }],
        ..Assessed::default()
    };
    let result = judge(&Policy::default(), make());
    assert_eq!(statuses(&result), [("GHSA-dev".to_owned(), "dev-only"), ("GHSA-prod".to_owned(), "below-threshold")]);
    assert_eq!(result.verdict, Verdict::Pass);
    let result = judge(&toml("include-dev = true\n"), make());
    assert_eq!(statuses(&result)[0], ("GHSA-dev".to_owned(), "gating"));
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(result.include_dev);
}

/// Two units with the same advisory on packages `qs` and `lodash`.
fn two_units() -> Assessed {
    let mut units = Vec::new();
    for path in ["services/a/package-lock.json", "services/b/package-lock.json"] {
        let u = unit(path, &[package("qs", Scope::Prod), package("lodash", Scope::Prod)]);
        let hits = vec![
            hit(&u, 0, "GHSA-qqqq", &["CVE-2022-1"], Some(Level::High)),
            hit(&u, 1, "GHSA-llll", &["CVE-2022-2"], Some(Level::High)),
        ];
        units.push(AssessedUnit { unit: u, hits, signals: Vec::new() });
    }
    Assessed { units, ..Assessed::default() }
}

fn ignored_pairs(result: &ScanResult) -> Vec<String> {
    result
        .findings()
        .filter(|(_, f)| matches!(f.status, Status::Ignored { .. }))
        .map(|(b, f)| format!("{} {}", b.path, f.package.name))
        .collect()
}

#[test]
fn ignores_match_by_id_alias_package_and_path() {
    let by_id = toml("[[ignore]]\nid = \"ghsa-qqqq\"\nreason = \"r\"\n");
    let result = judge(&by_id, two_units());
    assert_eq!(ignored_pairs(&result), ["services/a/package-lock.json qs", "services/b/package-lock.json qs"]);
    let status = &result.findings().find(|(_, f)| f.package.name.as_str() == "qs").expect("qs").1.status;
    assert_eq!(
        *status,
        Status::Ignored { reason: "r".into(), until: None, source: PathBuf::from("bundleguard.toml") },
        "the id is matched case-insensitively and the reason and source are kept"
    );

    let by_alias = toml("[[ignore]]\nid = \"CVE-2022-2\"\nreason = \"r\"\nuntil = 2026-12-31\n");
    let result = judge(&by_alias, two_units());
    assert_eq!(ignored_pairs(&result), ["services/a/package-lock.json lodash", "services/b/package-lock.json lodash"]);
    assert!(matches!(&result.findings().next().expect("a finding").1.status,
        Status::Ignored { until: Some(u), .. } if u == "2026-12-31"));

    let by_package = toml("[[ignore]]\nid = \"GHSA-qqqq\"\nreason = \"r\"\npackage = \"lodash\"\n");
    let result = judge(&by_package, two_units());
    assert!(ignored_pairs(&result).is_empty(), "the advisory is on qs, the ignore only for lodash");
    assert!(warnings(&result).iter().any(|w| w.ends_with("the ignore of GHSA-qqqq matched no finding")));

    let by_path = toml("[[ignore]]\nid = \"GHSA-qqqq\"\nreason = \"r\"\npath = \"./services/b/\"\n");
    assert_eq!(ignored_pairs(&judge(&by_path, two_units())), ["services/b/package-lock.json qs"]);
    let prefix_only = toml("[[ignore]]\nid = \"GHSA-qqqq\"\nreason = \"r\"\npath = \"services/a/pack\"\n");
    assert!(ignored_pairs(&judge(&prefix_only, two_units())).is_empty(), "a path matches whole components");
}

#[test]
fn expired_and_unused_ignores_are_warnings_naming_the_file() {
    let policy = toml(
        "[[ignore]]\nid = \"GHSA-qqqq\"\nreason = \"r\"\nuntil = 2026-05-31\n\n\
         [[ignore]]\nid = \"GHSA-none\"\nreason = \"typo\"\n\n\
         [[ignore]]\nid = \"GHSA-gone\"\nreason = \"old\"\nuntil = \"2020-01-01\"\n\n\
         [[ignore]]\nid = \"GHSA-llll\"\nreason = \"last day\"\nuntil = 2026-06-01\n",
    );
    let result = judge(&policy, two_units());
    assert!(
        result.findings().filter(|(_, f)| f.package.name.as_str() == "qs").all(|(_, f)| f.status == Status::Gating),
        "an expired ignore no longer applies"
    );
    assert!(
        result
            .findings()
            .filter(|(_, f)| f.package.name.as_str() == "lodash")
            .all(|(_, f)| matches!(f.status, Status::Ignored { .. })),
        "an ignore applies through its `until` day"
    );
    let mut w = warnings(&result);
    w.sort();
    assert_eq!(
        w,
        [
            "bundleguard.toml: the ignore of GHSA-none matched no finding",
            "bundleguard.toml: the ignore of GHSA-qqqq expired on 2026-05-31 and no longer applies",
        ],
        "an expired ignore that matches nothing (GHSA-gone) is neither used nor worth a warning"
    );
    assert_eq!(result.warnings.iter().map(|d| d.code).collect::<std::collections::BTreeSet<_>>().len(), 2);
}

/// One unit with a drift signal on `qs` and a deprecated-runtime signal.
fn with_signals() -> Assessed {
    let qs = package("qs", Scope::Prod);
    let u = unit("fn/package-lock.json", std::slice::from_ref(&qs));
    let signals = vec![signal(hygiene::DRIFT, Some(qs)), signal(hygiene::DEPRECATED_RUNTIME, None)];
    Assessed { units: vec![AssessedUnit { unit: u, hits: Vec::new(), signals }], ..Assessed::default() }
}

fn risks(result: &ScanResult) -> Vec<(String, Level, &'static str)> {
    result.risks().map(|(_, r)| (r.code.to_string(), r.level, r.status.as_str())).collect()
}

#[test]
fn risk_signals_are_judged_per_code() {
    let result = judge(&Policy::default(), with_signals());
    assert_eq!(
        risks(&result),
        [
            ("hygiene/drift".to_owned(), Level::Low, "info"),
            ("hygiene/deprecated-runtime".to_owned(), Level::Low, "info")
        ],
        "hygiene is informational by default"
    );
    assert_eq!(result.verdict, Verdict::Pass);

    let policy = toml("[levels]\n\"hygiene/drift\" = \"off\"\n\"hygiene/deprecated-runtime\" = \"High\"\n");
    let result = judge(&policy, with_signals());
    assert_eq!(risks(&result), [("hygiene/deprecated-runtime".to_owned(), Level::High, "gating")]);
    assert_eq!(result.verdict, Verdict::Fail, "a risk at the threshold gates like a vulnerability");

    let policy = toml(
        "fail-on = \"critical\"\n[levels]\n\"hygiene/drift\" = \"medium\"\n\"hygiene/deprecated-runtime\" = \"info\"\n",
    );
    assert_eq!(
        risks(&judge(&policy, with_signals())),
        [
            ("hygiene/drift".to_owned(), Level::Medium, "below-threshold"),
            ("hygiene/deprecated-runtime".to_owned(), Level::Low, "info")
        ]
    );
}

#[test]
fn risk_signals_are_ignored_by_code_and_package() {
    let policy = toml(
        "[levels]\n\"hygiene/drift\" = \"critical\"\n\"hygiene/deprecated-runtime\" = \"critical\"\n\
         [[ignore]]\nid = \"hygiene/drift\"\nreason = \"known\"\npackage = \"qs\"\n",
    );
    let result = judge(&policy, with_signals());
    assert_eq!(
        risks(&result),
        [
            ("hygiene/drift".to_owned(), Level::Critical, "ignored"),
            ("hygiene/deprecated-runtime".to_owned(), Level::Critical, "gating")
        ]
    );
    let policy = toml("[[ignore]]\nid = \"hygiene/deprecated-runtime\"\nreason = \"known\"\npackage = \"qs\"\n");
    let result = judge(&policy, with_signals());
    assert!(result.risks().all(|(_, r)| r.status == Status::Info), "a package-limited ignore needs a package");
    assert_eq!(warnings(&result), ["bundleguard.toml: the ignore of hygiene/deprecated-runtime matched no finding"]);
}

#[test]
fn the_verdict_is_incomplete_when_something_was_not_evaluated() {
    let mut a = assessed(&[Some(Level::Low)]);
    a.errors.push(Diagnostic::at("lockfile/parse", "broken/package-lock.json", "1:40: EOF"));
    assert_eq!(judge(&Policy::default(), a).verdict, Verdict::Incomplete, "an error makes the scan incomplete");
    let mut a = assessed(&[Some(Level::Low)]);
    a.not_evaluated.push(NotEvaluated {
        bundle: "services/api/package-lock.json".into(),
        package: "x@latest".into(),
        reason: "version \"latest\" is not an exact npm version".into(),
    });
    assert_eq!(judge(&Policy::default(), a).verdict, Verdict::Incomplete, "unknown is not clean");
    let mut a = assessed(&[Some(Level::Critical)]);
    a.errors.push(Diagnostic::at("lockfile/parse", "broken/package-lock.json", "1:40: EOF"));
    assert_eq!(judge(&Policy::default(), a).verdict, Verdict::Fail, "a failure found is reported as a failure");
    assert_eq!(judge(&Policy::default(), Assessed::default()).verdict, Verdict::Pass);
}

#[test]
fn extra_warnings_are_kept_after_the_stage_warnings() {
    let mut a = assessed(&[]);
    a.warnings.push(Diagnostic::new("lockfile/empty", "first"));
    let result = Policy::default().judge(a, vec![Diagnostic::new("db/stale", "second")], &Baseline::default(), TODAY);
    assert_eq!(warnings(&result), ["first", "second"]);
}

fn baseline(text: &str) -> Result<Baseline, PolicyError> {
    Baseline::from_json_report(Path::new("base.json"), text)
}

#[test]
fn the_baseline_marks_known_findings_by_path_package_and_any_id() {
    let base = baseline(
        r#"{"schema_version": 1, "bundles": [
            {"path": "services/a/package-lock.json", "findings": [
                {"id": "GHSA-old", "aliases": ["CVE-2022-1"], "package": {"ecosystem": "npm", "name": "qs"}}]},
            {"path": "services/b/package-lock.json", "findings": [
                {"id": "GHSA-llll", "aliases": [], "package": {"ecosystem": "npm", "name": "lodash"}}]}
        ]}"#,
    )
    .expect("a valid baseline");
    let result = Policy::default().judge(two_units(), Vec::new(), &base, TODAY);
    let known: Vec<String> = result
        .findings()
        .filter(|(_, f)| f.status == Status::Baseline)
        .map(|(b, f)| format!("{} {}", b.path, f.package.name))
        .collect();
    assert_eq!(
        known,
        ["services/a/package-lock.json qs", "services/b/package-lock.json lodash"],
        "by alias, then by id"
    );
    assert_eq!(result.verdict, Verdict::Fail, "the other two are new");
}

#[test]
fn a_baseline_of_another_schema_version_or_not_a_report_is_refused_naming_the_file() {
    let message = |text: &str| baseline(text).expect_err("refused").to_string();
    assert_eq!(
        message(r#"{"schema_version": 2, "bundles": []}"#),
        "base.json: schema_version: 2; this bundleguard reads baselines of schema version 1: re-run the scan that made it"
    );
    assert!(message(r#"{"bundles": []}"#).starts_with("base.json: schema_version: none;"));
    assert!(message("[1, 2").starts_with("base.json: not a bundleguard JSON report: "));
    assert_eq!(
        message(r#"{"schema_version": 1}"#),
        "base.json: bundles: missing; expected a report written by `bundleguard scan --format json`"
    );
}

#[test]
fn policy_files_are_strict_and_name_the_key() {
    let error = |text: &str| {
        Policy::from_bundleguard_toml(Path::new("p/bundleguard.toml"), text).expect_err("refused").to_string()
    };
    assert!(error("fail-onn = \"low\"\n").contains("fail-onn"));
    assert_eq!(
        error("fail-on = \"severe\"\n"),
        "p/bundleguard.toml: fail-on: unknown severity \"severe\"; expected low, medium, high or critical"
    );
    assert!(
        error("[levels]\n\"hygiene/nope\" = \"off\"\n")
            .starts_with("p/bundleguard.toml: levels.\"hygiene/nope\": unknown finding code; expected one of hygiene/")
    );
    assert_eq!(
        error("[levels]\n\"hygiene/drift\" = \"loud\"\n"),
        "p/bundleguard.toml: levels.\"hygiene/drift\": \"loud\"; expected off, info, low, medium, high or critical"
    );
    assert_eq!(
        error("[[ignore]]\nid = \"X\"\nreason = \" \"\n"),
        "p/bundleguard.toml: ignore[0] (X): `reason` is required: say why this advisory does not apply"
    );
    assert_eq!(
        error("[[ignore]]\nid = \"X\"\nreason = \"r\"\nuntil = 5\n"),
        "p/bundleguard.toml: ignore[0].until: expected a date such as 2026-12-31, found 5"
    );
}

#[test]
fn osv_scanner_ignores_join_the_policy() {
    let mut policy = Policy::default();
    policy
        .add_osv_scanner_toml(
            Path::new("osv-scanner.toml"),
            "[[IgnoredVulns]]\nid = \"CVE-2022-1\"\nignoreUntil = 2099-01-01T00:00:00Z\n\n[[IgnoredVulns]]\nid = \"GHSA-llll\"\n",
        )
        .expect("valid");
    let result = judge(&policy, two_units());
    assert_eq!(ignored_pairs(&result).len(), 4);
    let reasons: Vec<&str> = result
        .findings()
        .filter_map(|(_, f)| match &f.status {
            Status::Ignored { reason, source, .. } if source == Path::new("osv-scanner.toml") => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert!(reasons.contains(&"(no reason given in osv-scanner.toml)"), "{reasons:?}");
}

#[test]
fn advisory_codes_follow_per_code_levels() {
    let levels = [Some(Level::Critical), Some(Level::Low)];
    let off = toml("[levels]\n\"vulnerability/advisory\" = \"off\"\n");
    let result = judge(&off, assessed(&levels));
    assert_eq!(result.findings().count(), 0, "off: not reported");
    assert_eq!(result.verdict, Verdict::Pass);
    let info = toml("[levels]\n\"vulnerability/advisory\" = \"info\"\n");
    let result = judge(&info, assessed(&levels));
    assert_eq!(statuses(&result), [("GHSA-0000".to_owned(), "info"), ("GHSA-0001".to_owned(), "info")]);
    assert_eq!(result.verdict, Verdict::Pass, "info never gates");
    let high = toml("[levels]\n\"vulnerability/advisory\" = \"high\"\n");
    let result = judge(&high, assessed(&levels));
    assert!(result.findings().all(|(_, f)| f.severity == Level::High && f.status == Status::Gating));
}

#[test]
fn unreachable_findings_gate_unless_the_policy_says_report() {
    let with_reach = |reach: [Option<bool>; 3]| {
        let mut a = assessed(&[Some(Level::High), Some(Level::High), Some(Level::Low)]);
        for (h, r) in a.units[0].hits.iter_mut().zip(reach) {
            h.reachable = r;
        }
        a
    };
    let reach = [Some(false), None, Some(false)];
    let result = judge(&Policy::default(), with_reach(reach));
    let by_id: Vec<_> =
        result.findings().map(|(_, f)| (f.advisory.id.to_string(), f.status.as_str(), f.reachable)).collect();
    assert_eq!(
        by_id,
        [
            ("GHSA-0000".to_owned(), "gating", Some(false)),
            ("GHSA-0001".to_owned(), "gating", None),
            ("GHSA-0002".to_owned(), "below-threshold", Some(false)),
        ],
        "by default an unreachable finding gates (a lexical hint, not proof)"
    );
    assert_eq!(result.verdict, Verdict::Fail);
    let report = toml("unreachable = \"report\"\n");
    assert_eq!(report.unreachable, bundleguard::policy::Unreachable::Report);
    let result = judge(&report, with_reach(reach));
    assert_eq!(
        statuses(&result),
        [
            ("GHSA-0000".to_owned(), "unreachable"),
            ("GHSA-0001".to_owned(), "gating"),
            ("GHSA-0002".to_owned(), "below-threshold")
        ],
        "unknown reachability is never taken as unreachable"
    );
    assert_eq!(result.verdict, Verdict::Fail);
    let result = judge(&report, with_reach([Some(false), Some(true), Some(false)]));
    assert_eq!(result.verdict, Verdict::Fail, "a reachable high finding gates");
    let result = judge(&report, with_reach([Some(false), Some(false), None]));
    assert_eq!(result.verdict, Verdict::Pass, "reported, not gating");
    assert_eq!(toml("unreachable = \"gate\"\n").unreachable, bundleguard::policy::Unreachable::Gate);
    let bad = Policy::from_bundleguard_toml(Path::new("p/bundleguard.toml"), "unreachable = \"ignore\"\n")
        .expect_err("unknown value");
    assert_eq!(bad.to_string(), "p/bundleguard.toml: unreachable: \"ignore\"; expected \"gate\" or \"report\"");
}

#[test]
fn the_unused_allow_list_lists_findings_as_allowed_and_names_bad_entries() {
    use bundleguard::risk::unused::{DECLARED, SHIPPED, UNDECLARED_IMPORT};
    let policy = toml("[unused]\nallow = [\"lodash\", \"PyPI:PyYAML\", \"npm:left-pad\", \"crates.io:serde\"]\n");
    let pypi = |name: &str| Package {
        ecosystem: Ecosystem::PyPI,
        name: PackageName::new(Ecosystem::PyPI, name),
        version: "6.0".into(),
        scope: Scope::Prod,
        source: Source::Registry,
    };
    let mut undeclared = signal(UNDECLARED_IMPORT, None);
    undeclared.evidence = vec![bundleguard::vocab::Evidence::new("import", "left-pad")];
    let signals = vec![
        signal(DECLARED, Some(package("lodash", Scope::Prod))),
        signal(SHIPPED, Some(pypi("pyyaml"))),
        undeclared,
        signal(DECLARED, Some(package("pyyaml", Scope::Prod))),
        signal(hygiene::DEV_SHIPPED, Some(package("lodash", Scope::Prod))),
    ];
    let u = unit("fn/package-lock.json", &[]);
    let assessed = Assessed { units: vec![AssessedUnit { unit: u, hits: Vec::new(), signals }], ..Assessed::default() };
    let result = judge(&policy, assessed);
    let got: Vec<(String, String)> = result
        .risks()
        .map(|(_, r)| {
            let name = r.package.as_ref().map_or_else(|| "-".to_owned(), |p| format!("{}:{}", p.ecosystem, p.name));
            let status = match &r.status {
                Status::Ignored { reason, source, .. } => format!("ignored: {reason} ({})", source.display()),
                other => other.as_str().to_owned(),
            };
            (format!("{} {name}", r.code), status)
        })
        .collect();
    let allowed = "ignored: allowed by [unused] allow (bundleguard.toml)".to_owned();
    assert_eq!(
        got,
        [
            ("unused/declared npm:lodash".to_owned(), allowed.clone()),
            ("unused/shipped PyPI:pyyaml".to_owned(), allowed.clone()),
            ("hygiene/undeclared-import -".to_owned(), allowed),
            ("unused/declared npm:pyyaml".to_owned(), "below-threshold".to_owned()),
            ("hygiene/dev-shipped npm:lodash".to_owned(), "info".to_owned()),
        ],
        "ecosystem-qualified entries match only their ecosystem; other checks are not affected"
    );
    assert_eq!(result.verdict, Verdict::Pass);
    assert_eq!(
        warnings(&result),
        ["bundleguard.toml: [unused] allow: serde matched no unused-package finding"],
        "an entry that matched nothing is named"
    );
    for (text, key) in [
        ("[unused]\nallow = [\"ok\", 3]\n", "unused.allow[1]: 3;"),
        ("[unused]\nallow = [\"\"]\n", "unused.allow[0]: \"\";"),
        ("[unused]\nallow = [\"maven:junit\"]\n", "unused.allow[0]: \"maven:junit\";"),
        ("[unused]\nallow = \"lodash\"\n", "invalid type"),
        ("[unused]\ndeny = []\n", "unknown field `deny`"),
    ] {
        let e = Policy::from_bundleguard_toml(Path::new("svc/bundleguard.toml"), text).expect_err(text).to_string();
        assert!(e.starts_with("svc/bundleguard.toml: "), "{e}");
        assert!(e.contains(key), "{text}: {e}");
    }
}
