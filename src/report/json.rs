//! The JSON report: a stable, documented layout of its own (see README, "JSON report"), not a
//! dump of internal types. Keys and arrays are in a fixed order, so the same scan gives the same
//! bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{BundleReport, Finding, FindingKind, Level, RiskFinding, ScanResult, Status};
use crate::vocab::Evidence;

/// Bumped when a field changes meaning or disappears; new fields may be added at any time.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    verdict: &'a str,
    policy: Policy<'a>,
    summary: Summary,
    bundles: Vec<Bundle<'a>>,
    errors: Vec<Error<'a>>,
    warnings: Vec<String>,
    not_evaluated: Vec<NotEvaluatedOut<'a>>,
    coverage: Vec<CoverageOut<'a>>,
    fix_plan: Vec<FixPlanOut>,
}

/// The changes that clear the gating findings of one unit (decided by `scan::fixplan`).
#[derive(Serialize)]
struct FixPlanOut {
    bundle: String,
    path: String,
    changes: Vec<ChangeOut>,
    no_fix: Vec<NoFixOut>,
}

#[derive(Serialize)]
struct ChangeOut {
    ecosystem: &'static str,
    package: String,
    from: String,
    to: String,
    direct: bool,
    clears: Vec<String>,
    instruction: String,
}

#[derive(Serialize)]
struct NoFixOut {
    package: String,
    version: String,
    ids: Vec<String>,
    reason: String,
}

#[derive(Serialize)]
struct NotEvaluatedOut<'a> {
    bundle: &'a str,
    package: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct CoverageOut<'a> {
    code: &'a str,
    evaluated: usize,
    total: usize,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Policy<'a> {
    fail_on: &'a str,
    include_dev: bool,
}

#[derive(Serialize)]
struct Summary {
    bundles: usize,
    packages: usize,
    findings: usize,
    gating: usize,
    ignored: usize,
    not_evaluated: usize,
    /// Declared functions and layers whose tree could not be read.
    not_read: usize,
}

#[derive(Serialize)]
struct Bundle<'a> {
    name: &'a str,
    kind: &'a str,
    runtime: Option<&'a str>,
    handler: Option<&'a str>,
    template: Option<&'a str>,
    path: &'a str,
    format: &'a str,
    hygiene: Vec<HygieneOut<'a>>,
    packages: Vec<PackageOut<'a>>,
    findings: Vec<FindingOut<'a>>,
    risks: Vec<RiskOut<'a>>,
    /// `read`, or why the tree could not be read.
    coverage: &'a str,
}

/// A hygiene note: `kind` is the code's name (`dev-shipped`), kept from schema 1.
#[derive(Serialize)]
struct HygieneOut<'a> {
    kind: &'a str,
    package: Option<String>,
    location: Option<&'a str>,
    message: &'a str,
    code: &'a str,
}

/// A stale, takeover or unused finding, with its evidence.
#[derive(Serialize)]
struct RiskOut<'a> {
    kind: &'a str,
    code: &'a str,
    level: &'a str,
    status: &'a str,
    package: Option<PackageOut<'a>>,
    location: Option<&'a str>,
    message: &'a str,
    /// By name, sorted; of two facts with one name the last (as a JSON map of them held it).
    evidence: EvidenceOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore: Option<IgnoreOut<'a>>,
}

#[derive(Serialize)]
struct PackageOut<'a> {
    ecosystem: &'a str,
    name: &'a str,
    version: &'a str,
    scope: &'a str,
    direct: bool,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    id: &'a str,
    aliases: &'a [String],
    severity: &'a str,
    advisory_severity: Option<&'a str>,
    cvss_score: Option<f64>,
    summary: &'a str,
    package: PackageOut<'a>,
    fixed: &'a [String],
    paths: &'a [Vec<String>],
    upgrade: &'a [String],
    line: Option<u32>,
    status: &'a str,
    /// Whether an import chain of the function's code reaches the package; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    reachable: Option<bool>,
    ignored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore: Option<IgnoreOut<'a>>,
    notes: &'a [String],
    kind: &'a str,
    code: &'a str,
}

#[derive(Serialize)]
struct IgnoreOut<'a> {
    reason: &'a str,
    until: Option<&'a str>,
}

#[derive(Serialize)]
struct Error<'a> {
    path: &'a str,
    message: &'a str,
}

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        verdict: result.verdict.as_str(),
        policy: Policy { fail_on: result.fail_on.as_str(), include_dev: result.include_dev },
        summary: Summary {
            bundles: result.bundles.len(),
            packages: result.bundles.iter().map(|b| b.graph.len()).sum(),
            findings: result.findings().count(),
            gating: result.findings().filter(|(_, f)| f.status == Status::Gating).count(),
            ignored: result.findings().filter(|(_, f)| matches!(f.status, Status::Ignored { .. })).count(),
            not_evaluated: result.not_evaluated.len(),
            not_read: result.bundles.iter().filter(|b| b.coverage.is_some()).count(),
        },
        bundles: result.bundles.iter().map(bundle).collect(),
        errors: result
            .errors
            .iter()
            .map(|e| Error { path: e.path.as_deref().unwrap_or_default(), message: &e.message })
            .collect(),
        warnings: result.warnings.iter().map(ToString::to_string).collect(),
        not_evaluated: result
            .not_evaluated
            .iter()
            .map(|n| NotEvaluatedOut { bundle: &n.bundle, package: &n.package, reason: &n.reason })
            .collect(),
        coverage: result
            .coverage
            .iter()
            .map(|c| CoverageOut {
                code: c.code.as_str(),
                evaluated: c.evaluated,
                total: c.total,
                reason: c.reason.as_deref(),
            })
            .collect(),
        fix_plan: fix_plan(result),
    };
    super::escape::to_json_writer(&mut *out, &report)?;
    writeln!(out)
}

fn fix_plan(result: &ScanResult) -> Vec<FixPlanOut> {
    result
        .bundles
        .iter()
        .filter(|b| !b.fix_plan.is_empty())
        .map(|b| FixPlanOut {
            bundle: b.name.clone(),
            path: b.path.clone(),
            changes: b
                .fix_plan
                .changes
                .iter()
                .map(|c| ChangeOut {
                    ecosystem: c.ecosystem.as_str(),
                    package: c.package.clone(),
                    from: c.from.clone(),
                    to: c.to.clone(),
                    direct: c.direct,
                    clears: c.clears.clone(),
                    instruction: c.instruction.clone(),
                })
                .collect(),
            no_fix: b
                .fix_plan
                .unfixable
                .iter()
                .map(|u| NoFixOut {
                    package: u.package.clone(),
                    version: u.version.clone(),
                    ids: u.ids.clone(),
                    reason: u.reason.clone(),
                })
                .collect(),
        })
        .collect()
}

fn bundle(b: &BundleReport) -> Bundle<'_> {
    Bundle {
        name: &b.name,
        kind: b.kind.as_str(),
        runtime: b.runtime.as_deref(),
        handler: b.handler.as_deref(),
        template: b.template.as_deref(),
        path: &b.path,
        format: b.format.as_str(),
        hygiene: b
            .risks_of(FindingKind::Hygiene)
            .map(|h| HygieneOut {
                kind: h.code.name(),
                package: h.package.as_ref().map(|p| format!("{}@{}", p.name, p.version)),
                location: h.location.as_deref(),
                message: &h.message,
                code: h.code.as_str(),
            })
            .collect(),
        packages: (0..b.graph.len()).map(|id| package(b, id)).collect(),
        findings: b.findings.iter().map(|f| finding(b, f)).collect(),
        risks: b.risks.iter().filter(|r| r.code.kind() != FindingKind::Hygiene).map(|r| risk(b, r)).collect(),
        coverage: b.coverage.as_deref().unwrap_or("read"),
    }
}

fn risk<'a>(b: &'a BundleReport, r: &'a RiskFinding) -> RiskOut<'a> {
    let package = match (r.node, &r.package) {
        (Some(node), _) => Some(package(b, node)),
        (None, Some(p)) => Some(PackageOut {
            ecosystem: p.ecosystem.as_str(),
            name: p.name.as_str(),
            version: &p.version,
            scope: p.scope.as_str(),
            direct: false,
        }),
        (None, None) => None,
    };
    RiskOut {
        kind: r.code.kind().as_str(),
        code: r.code.as_str(),
        level: r.level.as_str(),
        status: r.status.as_str(),
        package,
        location: r.location.as_deref(),
        message: &r.message,
        evidence: EvidenceOut(&r.evidence),
        ignore: ignore_of(&r.status),
    }
}

/// A finding's evidence as a JSON map: by name, sorted; of two facts with one name the last
/// (the bytes a `BTreeMap` of them gives), without building the map (a warm-cache scan writes
/// thousands of findings with evidence).
struct EvidenceOut<'a>(&'a [Evidence]);

impl Serialize for EvidenceOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const ON_STACK: usize = 16;
        let facts = self.0;
        if facts.len() > ON_STACK {
            let map: BTreeMap<&str, &str> = facts.iter().map(|e| (e.name.as_str(), e.value.as_str())).collect();
            return map.serialize(serializer);
        }
        let mut order = [0usize; ON_STACK];
        let order = &mut order[..facts.len()];
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i;
        }
        // stable: of one name, the facts stay in their order, and the last is written
        order.sort_by(|a, b| facts[*a].name.cmp(&facts[*b].name));
        let last_of_name = |k: usize| order.get(k + 1).is_none_or(|next| facts[*next].name != facts[order[k]].name);
        let count = (0..order.len()).filter(|k| last_of_name(*k)).count();
        let mut map = serializer.serialize_map(Some(count))?;
        for k in (0..order.len()).filter(|k| last_of_name(*k)) {
            let fact = &facts[order[k]];
            map.serialize_entry(fact.name.as_str(), fact.value.as_str())?;
        }
        map.end()
    }
}

fn ignore_of(status: &Status) -> Option<IgnoreOut<'_>> {
    match status {
        Status::Ignored { reason, until, .. } => Some(IgnoreOut { reason, until: until.as_deref() }),
        _ => None,
    }
}

fn package(b: &BundleReport, id: usize) -> PackageOut<'_> {
    let p = b.graph.node(id);
    PackageOut {
        ecosystem: p.ecosystem.as_str(),
        name: p.name.as_str(),
        version: &p.version,
        scope: p.scope.as_str(),
        direct: b.graph.is_root(id),
    }
}

fn finding<'a>(b: &'a BundleReport, f: &'a Finding) -> FindingOut<'a> {
    let ignore = ignore_of(&f.status);
    FindingOut {
        id: &f.advisory.id,
        aliases: &f.advisory.aliases,
        severity: f.severity.as_str(),
        advisory_severity: f.advisory.severity.map(Level::as_str),
        cvss_score: f.advisory.cvss_score,
        summary: &f.advisory.summary,
        package: package(b, f.node),
        fixed: &f.advisory.fixed,
        paths: &f.paths,
        upgrade: &f.upgrade,
        line: f.line,
        status: f.status.as_str(),
        reachable: f.reachable,
        ignored: ignore.is_some(),
        ignore,
        notes: &f.advisory.notes,
        kind: f.code.kind().as_str(),
        code: f.code.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The evidence is written as the `BTreeMap` of it was: sorted by name, the last fact of a
    /// name kept, long lists too.
    #[test]
    fn evidence_is_written_as_a_map_of_it() {
        let long: Vec<(String, String)> = (0..20).map(|i| (format!("k{}", i % 7), format!("v{i}"))).collect();
        let long: Vec<(&str, &str)> = long.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let cases: [&[(&str, &str)]; 5] = [
            &[],
            &[("newest", "2.0.0"), ("lines_behind", "2"), ("libyears", "1.5")],
            &[("x", "1"), ("x", "2"), ("a", "3"), ("x", "4"), ("a", "5")],
            &[("same", "")],
            &long,
        ];
        for case in cases {
            let facts: Vec<Evidence> = case.iter().map(|(k, v)| Evidence::new(*k, *v)).collect();
            let map: BTreeMap<&str, &str> = case.iter().copied().collect();
            let ours = super::super::escape::to_json_vec(&EvidenceOut(&facts)).expect("writes");
            let reference = super::super::escape::to_json_vec(&map).expect("writes");
            assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&reference), "{case:?}");
        }
    }
}
