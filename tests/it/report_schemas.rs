//! The SARIF and CycloneDX reports are valid against the official schemas (`tests/schemas/`),
//! rendered through the public `report::render` from a result the policy judged: several
//! bundles, every ecosystem, transitive paths, dev-only, ignored, unknown-severity and malicious
//! findings, risk findings of every family (hygiene, stale, takeover, unused), git and workspace
//! sources, hostile text; and SARIF's two compact
//! forms past GitHub's 25,000-result limit.

use std::path::PathBuf;

use bundleguard::bundle::Unit;
use bundleguard::finding::{AdvisoryInfo, ScanResult, VulnHit};
use bundleguard::graph::DepGraph;
use bundleguard::package::{Ecosystem, Package, PackageName, Scope, Source};
use bundleguard::policy::{Assessed, AssessedUnit, Baseline, Policy};
use bundleguard::report::{self, RenderOptions, ReportFormat};
use bundleguard::risk::{self, MALICIOUS, Signal, VULNERABILITY, hygiene};
use bundleguard::vocab::{AdvisoryId, Diagnostic, Evidence, Level, LockfileFormat, TreeSource, UnitKind};
use serde_json::Value;

use crate::schema::schema_errors;

pub const SARIF: &str = "sarif-2.1.0-rtm.5.json";
pub const CYCLONEDX: &str = "bom-1.6.schema.json";
pub const CYCLONEDX_RESOURCES: [(&str, &str); 2] = [
    ("http://cyclonedx.org/schema/spdx.schema.json", "spdx.schema.json"),
    ("http://cyclonedx.org/schema/jsf-0.82.schema.json", "jsf-0.82.schema.json"),
];

fn package(ecosystem: Ecosystem, name: &str, version: &str, scope: Scope, source: Source) -> Package {
    Package { ecosystem, name: PackageName::new(ecosystem, name), version: version.into(), scope, source }
}

fn registry(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
    package(ecosystem, name, version, Scope::Prod, Source::Registry)
}

/// A unit of `packages`, with `edges` (parent, child) and the nodes no edge reaches as roots.
fn unit(path: &str, format: LockfileFormat, packages: Vec<Package>, edges: &[(usize, usize)]) -> Unit {
    let mut graph = DepGraph::new();
    let nodes: Vec<usize> = packages.into_iter().map(|p| graph.add_node(p)).collect();
    for &(parent, child) in edges {
        graph.add_edge(nodes[parent], nodes[child]);
    }
    for &n in &nodes {
        if !edges.iter().any(|&(_, child)| child == n) {
            graph.add_root(n);
        }
    }
    graph.finish();
    Unit {
        name: path.rsplit('/').nth(1).unwrap_or(path).into(),
        kind: UnitKind::Function,
        runtime: Some("nodejs16.x".into()),
        handler: Some("index.handler".into()),
        template: Some("template.yaml".into()),
        code_dir: None,
        path: path.into(),
        file: PathBuf::from(path),
        source: TreeSource::Lockfile(format),
        graph,
        artifact: None,
        lockfile_twin: None,
        coverage: None,
        esbuild: None,
    }
}

fn hit(unit: &Unit, node: usize, id: &str, aliases: &[&str], severity: Option<Level>, summary: &str) -> VulnHit {
    let g = &unit.graph;
    let label = |n: usize| format!("{}@{}", g.node(n).name, g.node(n).version);
    let paths: Vec<Vec<String>> = g.paths_to(node, 5).into_iter().map(|p| p.into_iter().map(label).collect()).collect();
    let id = AdvisoryId::new(id);
    let code = if id.as_str().starts_with("MAL-") { MALICIOUS } else { VULNERABILITY };
    VulnHit {
        code,
        node,
        package: g.node(node).clone(),
        advisory: AdvisoryInfo {
            id,
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            severity,
            cvss_score: severity.map(|_| 7.5),
            fixed: vec!["9.9.9".into()],
            summary: summary.into(),
            notes: Vec::new(),
        },
        upgrade: paths.iter().filter_map(|p| p.first().cloned()).collect(),
        paths,
        line: u32::try_from(node * 7 + 3).ok(),
        reachable: None,
    }
}

const HOSTILE: &str =
    "<script>alert(1)</script> | pipe\n::error::injected\u{1b}[31m `code` [link](http://x) *bold* _it_ & @admin";

fn npm_unit() -> AssessedUnit {
    let u = unit(
        "services/api/package-lock.json",
        LockfileFormat::NpmPackageLock,
        vec![
            registry(Ecosystem::Npm, "express", "4.17.1"),
            registry(Ecosystem::Npm, "qs", "6.7.0"),
            registry(Ecosystem::Npm, "@aws-sdk/client-s3", "3.0.0"),
            package(Ecosystem::Npm, "jest", "29.0.0", Scope::Dev, Source::Registry),
            package(Ecosystem::Npm, "minimist", "1.2.5", Scope::Dev, Source::Registry),
        ],
        &[(0, 1), (3, 4)],
    );
    let hits = vec![
        hit(&u, 1, "GHSA-hrpp-h998-j3pp", &["CVE-2022-24999"], Some(Level::High), "qs Prototype Pollution"),
        hit(&u, 2, "GHSA-<script>|x", &[], Some(Level::Medium), HOSTILE),
        hit(&u, 4, "MAL-2024-1234", &[], None, "Malicious code in minimist (npm)"),
    ];
    let qs = u.graph.node(1).clone();
    let signals = vec![
        Signal {
            code: hygiene::DRIFT,
            package: Some(qs),
            node: Some(1),
            location: Some("node_modules/qs/package.json".into()),
            message: "the artifact ships qs 6.7.1, the lockfile says 6.7.0 | <b>".into(),
            evidence: vec![Evidence::new("artifact", "6.7.1"), Evidence::new("lockfile", "6.7.0")],
            level: Level::Low,
        },
        risk_signal(risk::stale::DEPRECATED, "qs is deprecated: use something else <b>"),
        risk_signal(risk::takeover::TOO_FRESH, "qs 6.7.0 was published 2 hours ago"),
        risk_signal(risk::takeover::INSTALL_SCRIPT_ADDED, "a postinstall script appeared: `curl | sh`"),
        risk_signal(risk::unused::DECLARED, "express is declared but never imported"),
        Signal {
            code: hygiene::DEPRECATED_RUNTIME,
            package: None,
            node: None,
            location: None,
            message: "nodejs16.x is deprecated".into(),
            evidence: Vec::new(),
            level: Level::Low,
        },
    ];
    AssessedUnit { unit: u, hits, signals }
}

/// A signal of `code` on no package, at the check's default level.
fn risk_signal(code: bundleguard::vocab::Code, message: &str) -> Signal {
    Signal {
        code,
        package: None,
        node: None,
        location: None,
        message: message.into(),
        evidence: Vec::new(),
        level: Level::Low,
    }
}

fn other_units() -> Vec<AssessedUnit> {
    let py = unit(
        "services/worker/poetry.lock",
        LockfileFormat::PoetryLock,
        vec![registry(Ecosystem::PyPI, "Django", "3.2.0"), registry(Ecosystem::PyPI, "PyYAML", "5.3")],
        &[],
    );
    let py_hits = vec![
        hit(&py, 0, "PYSEC-2021-98", &[], None, "Django path traversal"),
        hit(&py, 1, "GHSA-8q59-q68h-6hv4", &["CVE-2020-14343"], Some(Level::Critical), "PyYAML RCE"),
    ];
    let go = unit(
        "functions/edge/go.mod",
        LockfileFormat::GoMod,
        vec![
            registry(Ecosystem::Go, "golang.org/x/net", "v0.0.0-20220127200216-cd36cc0744dd"),
            registry(Ecosystem::Go, "github.com/BurntSushi/toml", "v1.2.0+incompatible"),
        ],
        &[(0, 1)],
    );
    let go_hits = vec![hit(&go, 0, "GO-2022-0288", &[], Some(Level::High), "Unbounded memory")];
    let git = Source::Git { url: "https://github.com/servo/rust-smallvec".into(), rev: Some("abc123".into()) };
    let rust = unit(
        "functions/rust fn/Cargo.lock",
        LockfileFormat::CargoLock,
        vec![
            package(Ecosystem::CratesIo, "app", "0.1.0", Scope::Prod, Source::Workspace),
            registry(Ecosystem::CratesIo, "time", "0.1.43"),
            package(Ecosystem::CratesIo, "smallvec", "1.6.0", Scope::Prod, git),
        ],
        &[(0, 1), (0, 2)],
    );
    let rust_hits = vec![hit(&rust, 1, "RUSTSEC-2020-0071", &[], Some(Level::Medium), "Potential segfault in time")];
    vec![
        AssessedUnit { unit: py, hits: py_hits, signals: Vec::new() },
        AssessedUnit { unit: go, hits: go_hits, signals: Vec::new() },
        AssessedUnit { unit: rust, hits: rust_hits, signals: Vec::new() },
    ]
}

/// The varied result, judged with an ignore (with hostile text in its reason) and a level for
/// drift, so every status occurs.
fn varied() -> ScanResult {
    let policy = Policy::from_bundleguard_toml(
        std::path::Path::new("bundleguard.toml"),
        "[levels]\n\"hygiene/drift\" = \"medium\"\n\n\
         [[ignore]]\nid = \"CVE-2020-14343\"\nreason = \"loader is never used | <b>safe</b>\"\nuntil = 2099-01-01\n",
    )
    .expect("policy");
    let mut units = vec![npm_unit()];
    units.extend(other_units());
    let assessed = Assessed {
        units,
        errors: vec![Diagnostic::at(
            "lockfile/parse",
            "services/broken/package-lock.json",
            "line 3: expected `,` | <img src=x>",
        )],
        warnings: vec![Diagnostic::new("db/stale", "the advisory database is 9 days old")],
        ..Assessed::default()
    };
    policy.judge(assessed, Vec::new(), &Baseline::default(), jiff::civil::date(2026, 6, 1))
}

/// `bundles` bundles of `packages` packages with `advisories` advisories each; package `p`
/// has the advisories `GHSA-<a>-<p mod shared>`, so `shared` packages apart share them.
fn large(bundles: usize, packages: usize, advisories: usize, shared: usize) -> ScanResult {
    let units = (0..bundles)
        .map(|b| {
            let pkgs = (0..packages).map(|p| registry(Ecosystem::Npm, &format!("pkg-{p}"), "1.0.0")).collect();
            let u = unit(&format!("functions/fn-{b}/package-lock.json"), LockfileFormat::NpmPackageLock, pkgs, &[]);
            let hits = (0..packages)
                .flat_map(|p| (0..advisories).map(move |a| (p, a)))
                .map(|(p, a)| hit(&u, p, &format!("GHSA-{a:04}-{:04}", p % shared), &[], Some(Level::High), "bad"))
                .collect();
            AssessedUnit { unit: u, hits, signals: Vec::new() }
        })
        .collect();
    Policy::default().judge(
        Assessed { units, ..Assessed::default() },
        Vec::new(),
        &Baseline::default(),
        jiff::civil::date(2026, 6, 1),
    )
}

fn rendered(format: ReportFormat, result: &ScanResult) -> Value {
    let mut out = Vec::new();
    report::render(format, result, RenderOptions::default(), &mut out).expect("render");
    serde_json::from_slice(&out).expect("JSON")
}

#[test]
fn the_varied_result_has_every_status() {
    let result = varied();
    let mut statuses: Vec<&str> = result
        .findings()
        .map(|(_, f)| f.status.as_str())
        .chain(result.risks().map(|(_, r)| r.status.as_str()))
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(statuses, ["below-threshold", "dev-only", "gating", "ignored", "info"]);
}

#[test]
fn sarif_is_valid_against_the_schema() {
    let sarif = rendered(ReportFormat::Sarif, &varied());
    let errors = schema_errors(SARIF, &[], &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(sarif["runs"][0]["results"].as_array().map(Vec::len), Some(7 + 6), "one per finding and risk finding");
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]});
    assert!(!schema_errors(SARIF, &[], &broken).is_empty(), "the schema is enforced");
}

#[test]
fn grouped_sarif_past_the_result_limit_is_valid() {
    // 2 x 130 x 100 = 26,000 findings, above GitHub's 25,000; 2 x 10 x 100 bundle-advisory groups.
    let sarif = rendered(ReportFormat::Sarif, &large(2, 130, 100, 10));
    let errors = schema_errors(SARIF, &[], &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(sarif["runs"][0]["results"].as_array().map(Vec::len), Some(2 * 10 * 100));
    // 26 x 1,000 = 26,000 findings and as many bundle-advisory groups: one result per advisory.
    let sarif = rendered(ReportFormat::Sarif, &large(26, 1, 1000, 1));
    let errors = schema_errors(SARIF, &[], &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1000);
    assert_eq!(results[0]["locations"].as_array().map(Vec::len), Some(26), "located at every bundle");
}

#[test]
fn cyclonedx_is_valid_against_the_schema() {
    let bom = rendered(ReportFormat::CycloneDx, &varied());
    let errors = schema_errors(CYCLONEDX, &CYCLONEDX_RESOURCES, &bom);
    assert!(errors.is_empty(), "{errors:#?}");
    let purls: Vec<&str> =
        bom["components"].as_array().expect("components").iter().filter_map(|c| c["purl"].as_str()).collect();
    assert!(purls.contains(&"pkg:golang/github.com/BurntSushi/toml@v1.2.0%2Bincompatible"), "{purls:?}");
    let mut broken = bom;
    broken["components"][0]["scope"] = "dev".into();
    assert!(!schema_errors(CYCLONEDX, &CYCLONEDX_RESOURCES, &broken).is_empty(), "the schema is enforced");
}
