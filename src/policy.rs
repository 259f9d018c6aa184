//! The policy: `bundleguard.toml` (and the `[[IgnoredVulns]]` of an existing `osv-scanner.toml`)
//! turned into a verdict. Threshold, whether dev-only packages gate, ignores by advisory id or
//! alias (optionally limited to a package or a path, each with a mandatory reason and an optional
//! end date), a baseline of known findings, and the documented rule for findings without
//! severity data.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::Deserialize;

use crate::bundle::{Excludes, Unit};
use crate::finding::{
    AdvisoryInfo, BundleReport, Finding, Level, NotEvaluated, RiskFinding, ScanResult, Status, Verdict, VulnHit,
};
use crate::package::Package;
use crate::risk::Signal;
use crate::vocab::{Code, Coverage, Diagnostic, FindingKind};

pub const CONFIG_FILE: &str = "bundleguard.toml";
pub const OSV_SCANNER_FILE: &str = "osv-scanner.toml";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Vex(#[from] crate::vex::VexError),
}

/// Severity given to a finding whose advisory has no severity data (no CVSS vector, no label).
/// Documented rule: malicious-package records (`MAL-`) are critical; anything else unknown counts
/// as `high`, so that a missing score never lets a vulnerability through the default gate.
pub fn effective_severity(advisory_severity: Option<Level>, malicious: bool, unknown: Level) -> Level {
    if malicious {
        return Level::Critical;
    }
    advisory_severity.unwrap_or(unknown)
}

/// What the policy does with the findings of one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Not reported at all.
    Off,
    /// Reported, never gates.
    Info,
    /// Reported at this level; gates at or above `fail-on`.
    Level(Level),
}

/// The units after the match and assess stages, what [`Policy::judge`] decides on.
#[derive(Debug, Default)]
pub struct Assessed {
    pub units: Vec<AssessedUnit>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    pub not_evaluated: Vec<NotEvaluated>,
    pub coverage: Vec<Coverage>,
    /// The user turned registry metadata off (`--no-metadata`): the registry checks ran on
    /// cached facts only, and what they could not evaluate is off, not unknown.
    pub metadata_off: bool,
}

/// What a wanted registry check that could not be evaluated for some package does to the
/// verdict (`[risk] unknown` in bundleguard.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unknown {
    /// A check whose level would gate makes the verdict `incomplete` (the default: unknown is
    /// not clean).
    #[default]
    Incomplete,
    /// Reported in the coverage lines only; the verdict does not change.
    Report,
}

/// One unit with its vulnerabilities and risk signals.
#[derive(Debug)]
pub struct AssessedUnit {
    pub unit: Unit,
    pub hits: Vec<VulnHit>,
    pub signals: Vec<Signal>,
}

/// The validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub fail_on: Level,
    pub include_dev: bool,
    pub unknown_severity: Level,
    pub ignores: Vec<Ignore>,
    /// Per finding code: off, info, or a level (`[levels]` in bundleguard.toml).
    pub levels: BTreeMap<Code, Setting>,
    /// `exclude = [..]`: `.gitignore`-style patterns of paths the walk leaves out (relative to
    /// each scanned folder).
    pub exclude: Excludes,
    /// The `[registries]` table: registry endpoints and registries whose times are untrusted.
    pub registries: Option<crate::registry::config::RegistriesOverride>,
    /// Where the settings came from (for messages).
    pub sources: Vec<PathBuf>,
    /// OpenVEX documents named by `vex = [...]` (relative to the policy file), read by `load`.
    pub vex_files: Vec<PathBuf>,
    /// Their `not_affected` statements (and those of `scan --vex`).
    pub vex: Vec<crate::vex::VexStatement>,
    /// `[risk] unknown`: what registry checks that could not be evaluated do to the verdict.
    pub unknown: Unknown,
    /// `unreachable = "gate" | "report"`: what a vulnerability no import of the function reaches does.
    pub unreachable: Unreachable,
    /// `[unused] allow = [..]`: packages whose unused-package findings are listed as allowed
    /// (status ignored, with the policy file as source), never gating.
    pub unused_allow: Vec<AllowedPackage>,
    /// `[unused] enabled` (default true): whether the unused-package check reads the functions' code.
    pub unused_enabled: bool,
}

/// What a vulnerability finding whose package no import chain of the function reaches does.
/// Reachability from lexical imports is a hint, not proof (dynamic imports, code loaded by name),
/// so by default such findings gate like any other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unreachable {
    #[default]
    Gate,
    /// Reported with status `unreachable`; does not gate.
    Report,
}

/// One entry of `[unused] allow`: a package name, limited to one ecosystem when written
/// `ecosystem:name` (`npm:uuid`, `PyPI:PyYAML`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedPackage {
    pub ecosystem: Option<crate::package::Ecosystem>,
    pub name: String,
}

impl AllowedPackage {
    /// Reads `name` or `ecosystem:name`; `None` when empty or the ecosystem is unknown.
    fn parse(text: &str) -> Option<AllowedPackage> {
        let text = text.trim();
        let (ecosystem, name) = match text.split_once(':') {
            Some((eco, name)) => {
                let e =
                    crate::package::Ecosystem::ALL.into_iter().find(|e| e.as_str().eq_ignore_ascii_case(eco.trim()))?;
                (Some(e), name.trim())
            }
            None => (None, text),
        };
        (!name.is_empty() && !name.contains(char::is_whitespace))
            .then(|| AllowedPackage { ecosystem, name: name.to_owned() })
    }

    /// Whether the entry names `package` (compared as its ecosystem normalizes names), or, for
    /// an import whose package is in no tree, the import as written.
    fn allows(&self, package: Option<&Package>, import: Option<&str>) -> bool {
        use crate::package::{Ecosystem, PackageName};
        match package {
            Some(p) => {
                self.ecosystem.is_none_or(|e| e == p.ecosystem) && PackageName::new(p.ecosystem, &self.name) == p.name
            }
            None => import.is_some_and(|i| {
                let eco = self.ecosystem.unwrap_or(Ecosystem::Npm);
                PackageName::new(eco, &self.name) == PackageName::new(eco, i)
            }),
        }
    }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            fail_on: Level::High,
            include_dev: false,
            unknown_severity: Level::High,
            ignores: Vec::new(),
            levels: BTreeMap::new(),
            exclude: Excludes::default(),
            registries: None,
            sources: Vec::new(),
            vex_files: Vec::new(),
            vex: Vec::new(),
            unknown: Unknown::Incomplete,
            unreachable: Unreachable::Gate,
            unused_allow: Vec::new(),
            unused_enabled: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub id: String,
    pub reason: String,
    pub until: Option<Date>,
    pub package: Option<String>,
    pub path: Option<String>,
    pub source: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigWire {
    fail_on: Option<String>,
    include_dev: Option<bool>,
    unknown_severity: Option<String>,
    #[serde(default)]
    ignore: Vec<IgnoreWire>,
    #[serde(default)]
    levels: BTreeMap<String, String>,
    #[serde(default)]
    exclude: Vec<String>,
    registries: Option<crate::registry::config::RegistriesOverride>,
    #[serde(default)]
    vex: Vec<String>,
    risk: Option<RiskWire>,
    unreachable: Option<String>,
    unused: Option<UnusedWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskWire {
    unknown: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnusedWire {
    #[serde(default)]
    allow: Vec<toml::Value>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreWire {
    id: String,
    reason: Option<String>,
    until: Option<toml::Value>,
    package: Option<String>,
    path: Option<String>,
}

#[derive(Deserialize)]
struct OsvScannerWire {
    #[serde(default, rename = "IgnoredVulns")]
    ignored: Vec<OsvIgnoreWire>,
}

#[derive(Deserialize)]
struct OsvIgnoreWire {
    id: String,
    #[serde(rename = "ignoreUntil")]
    ignore_until: Option<toml::Value>,
    reason: Option<String>,
}

/// `unreachable = "gate" | "report"`.
fn unreachable_of(path: &Path, value: Option<&str>) -> Result<Unreachable, PolicyError> {
    match value.map(str::trim) {
        None | Some("gate") => Ok(Unreachable::Gate),
        Some("report") => Ok(Unreachable::Report),
        Some(other) => Err(invalid(path, format!("unreachable: {other:?}; expected \"gate\" or \"report\""))),
    }
}

/// `[unused] allow`: strings `name` or `ecosystem:name`.
fn allow_list_of(path: &Path, values: Vec<toml::Value>) -> Result<Vec<AllowedPackage>, PolicyError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str().and_then(AllowedPackage::parse).ok_or_else(|| {
                invalid(
                    path,
                    format!(
                        "unused.allow[{i}]: {v}; expected a package name such as \"uuid\", or \"ecosystem:name\" with ecosystem one of npm, PyPI, Go, crates.io"
                    ),
                )
            })
        })
        .collect()
}

fn invalid(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid { path: path.to_owned(), message: message.into() }
}

/// A date written as a TOML date (`2026-12-31`), a date-time, or a string holding either.
fn date_of(path: &Path, key: &str, value: &toml::Value) -> Result<Date, PolicyError> {
    let expected = || invalid(path, format!("{key}: expected a date such as 2026-12-31, found {value}"));
    let text = match value {
        toml::Value::Datetime(d) => d.date.map(|d| d.to_string()).ok_or_else(expected)?,
        toml::Value::String(s) => s.trim().get(..10).unwrap_or(s).to_owned(),
        _ => return Err(expected()),
    };
    text.parse::<Date>().map_err(|_| expected())
}

impl Policy {
    /// Reads `bundleguard.toml` from `path`.
    pub fn from_bundleguard_toml(path: &Path, text: &str) -> Result<Policy, PolicyError> {
        let wire: ConfigWire = toml::from_str(text).map_err(|e| invalid(path, toml_message(&e)))?;
        let level = |key: &str, v: Option<String>, default: Level| match v {
            None => Ok(default),
            Some(s) => Level::from_label(&s).ok_or_else(|| {
                invalid(path, format!("{key}: unknown severity {s:?}; expected low, medium, high or critical"))
            }),
        };
        let mut policy = Policy {
            fail_on: level("fail-on", wire.fail_on, Level::High)?,
            include_dev: wire.include_dev.unwrap_or(false),
            unknown_severity: level("unknown-severity", wire.unknown_severity, Level::High)?,
            ignores: Vec::new(),
            levels: BTreeMap::new(),
            exclude: Excludes::new(&wire.exclude).map_err(|e| invalid(path, e.to_string()))?,
            registries: wire.registries,
            sources: vec![path.to_owned()],
            vex_files: wire.vex.iter().map(|f| path.parent().unwrap_or(Path::new("")).join(f)).collect(),
            vex: Vec::new(),
            unknown: match wire.risk.and_then(|r| r.unknown).as_deref().map(str::trim) {
                None | Some("incomplete") => Unknown::Incomplete,
                Some("report") => Unknown::Report,
                Some(other) => {
                    return Err(invalid(
                        path,
                        format!("risk.unknown: {other:?}; expected \"incomplete\" or \"report\""),
                    ));
                }
            },
            unreachable: unreachable_of(path, wire.unreachable.as_deref())?,
            unused_enabled: wire.unused.as_ref().and_then(|u| u.enabled).unwrap_or(true),
            unused_allow: allow_list_of(path, wire.unused.map(|u| u.allow).unwrap_or_default())?,
        };
        for (code, value) in wire.levels {
            let key = format!("levels.{code:?}");
            let code = known_code(&code).ok_or_else(|| {
                invalid(path, format!("{key}: unknown finding code; expected one of {}", all_codes().join(", ")))
            })?;
            let setting = match value.trim().to_ascii_lowercase().as_str() {
                "off" => Setting::Off,
                "info" => Setting::Info,
                other => Setting::Level(Level::from_label(other).ok_or_else(|| {
                    invalid(path, format!("{key}: {value:?}; expected off, info, low, medium, high or critical"))
                })?),
            };
            policy.levels.insert(code, setting);
        }
        for (i, ig) in wire.ignore.into_iter().enumerate() {
            let key = format!("ignore[{i}]");
            let reason = ig.reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
                invalid(path, format!("{key} ({}): `reason` is required: say why this advisory does not apply", ig.id))
            })?;
            let until = ig.until.map(|d| date_of(path, &format!("{key}.until"), &d)).transpose()?;
            policy.ignores.push(Ignore {
                id: ig.id,
                reason,
                until,
                package: ig.package,
                path: ig.path,
                source: path.to_owned(),
            });
        }
        Ok(policy)
    }

    /// Adds the `[[IgnoredVulns]]` of an `osv-scanner.toml` (other keys are osv-scanner's business).
    pub fn add_osv_scanner_toml(&mut self, path: &Path, text: &str) -> Result<(), PolicyError> {
        let wire: OsvScannerWire = toml::from_str(text).map_err(|e| invalid(path, toml_message(&e)))?;
        for (i, ig) in wire.ignored.into_iter().enumerate() {
            let until =
                ig.ignore_until.map(|d| date_of(path, &format!("IgnoredVulns[{i}].ignoreUntil"), &d)).transpose()?;
            let reason = ig
                .reason
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "(no reason given in osv-scanner.toml)".into());
            self.ignores.push(Ignore { id: ig.id, reason, until, package: None, path: None, source: path.to_owned() });
        }
        self.sources.push(path.to_owned());
        Ok(())
    }

    /// Loads the policy: `config` if given, else `bundleguard.toml` in `root`; plus the ignores of
    /// `osv-scanner.toml` in `root` when present.
    pub fn load(config: Option<&Path>, root: &Path) -> Result<Policy, PolicyError> {
        let read =
            |p: &Path| fs_err::read_to_string(p).map_err(|source| PolicyError::Read { path: p.to_owned(), source });
        let default_config = root.join(CONFIG_FILE);
        let mut policy = match config {
            Some(path) => Policy::from_bundleguard_toml(path, &read(path)?)?,
            None if default_config.is_file() => {
                Policy::from_bundleguard_toml(&default_config, &read(&default_config)?)?
            }
            None => Policy::default(),
        };
        let osv = root.join(OSV_SCANNER_FILE);
        if osv.is_file() {
            policy.add_osv_scanner_toml(&osv, &read(&osv)?)?;
        }
        for file in policy.vex_files.clone() {
            policy.vex.extend(crate::vex::load(&file)?);
        }
        Ok(policy)
    }

    /// What the policy does with a code when the file says nothing: hygiene notes are
    /// informational, everything else keeps the check's level.
    pub fn setting(&self, code: Code, default: Level) -> Setting {
        self.levels.get(&code).copied().unwrap_or(if code.kind() == FindingKind::Hygiene {
            Setting::Info
        } else {
            Setting::Level(default)
        })
    }

    /// Judges everything once: each vulnerability's severity and status, each risk signal's
    /// level and status, and the verdict; warns about expired or unused ignores.
    pub fn judge(&self, assessed: Assessed, warnings: Vec<Diagnostic>, baseline: &Baseline, today: Date) -> ScanResult {
        let mut state = JudgeState {
            used: vec![false; self.ignores.len()],
            expired: HashSet::new(),
            allow_used: vec![false; self.unused_allow.len()],
        };
        let bundles: Vec<BundleReport> =
            assessed.units.into_iter().map(|a| self.judge_unit(a, baseline, today, &mut state)).collect();
        let mut coverage = assessed.coverage;
        let unknown = self.judge_coverage(&mut coverage, assessed.metadata_off);
        let mut result = ScanResult {
            bundles,
            errors: assessed.errors,
            warnings: assessed.warnings,
            not_evaluated: assessed.not_evaluated,
            coverage,
            verdict: Verdict::Pass,
            fail_on: self.fail_on,
            include_dev: self.include_dev,
        };
        result.warnings.extend(warnings);
        result.warnings.extend(self.ignore_warnings(&state, today));
        result.warnings.extend(unknown.iter().cloned());
        let gating = result.findings().any(|(_, f)| f.status == Status::Gating)
            || result.risks().any(|(_, r)| r.status == Status::Gating);
        result.verdict = if gating {
            Verdict::Fail
        } else if !result.errors.is_empty() || !result.not_evaluated.is_empty() || !unknown.is_empty() {
            Verdict::Incomplete
        } else {
            Verdict::Pass
        };
        result
    }

    /// Whether the judgement keeps a vulnerability (its code is not `off`): what a record keeps
    /// before the judgement ([`crate::inventory::Scanned`]).
    pub fn keeps_hit(&self, h: &VulnHit) -> bool {
        self.advisory_severity(h).is_some()
    }

    /// Whether the judgement keeps a risk signal (its code is not `off`).
    pub fn keeps_signal(&self, s: &Signal) -> bool {
        self.setting(s.code, s.level) != Setting::Off
    }

    /// The "unknown is not clean" rule for the registry checks (stale, takeover): a code that
    /// could not be evaluated for some package is
    /// - *off* when the user turned it off (`--no-metadata`, or `off` in `[levels]`): its
    ///   coverage line says so, the verdict does not change;
    /// - *unknown* when it was wanted and its level would gate (at or above `fail-on`): one
    ///   warning each, and the verdict is `incomplete`, unless `[risk] unknown = "report"`;
    /// - otherwise (info, or a level below `fail-on`) only counted in its coverage line.
    ///
    /// Returns the warnings of the unknown codes that make the verdict incomplete.
    fn judge_coverage(&self, coverage: &mut [Coverage], metadata_off: bool) -> Vec<Diagnostic> {
        let mut unknown = Vec::new();
        for c in coverage.iter_mut().filter(|c| c.evaluated < c.total) {
            if !matches!(c.code.kind(), FindingKind::Stale | FindingKind::Takeover) {
                continue;
            }
            let setting = self.setting(c.code, default_level(c.code));
            let off = if setting == Setting::Off {
                Some("off in the policy")
            } else if metadata_off {
                Some("off: --no-metadata, cached facts only")
            } else {
                None
            };
            if let Some(off) = off {
                c.reason = Some(c.reason.take().map_or_else(|| off.to_owned(), |r| format!("{off}; {r}")));
                continue;
            }
            let Setting::Level(level) = setting else { continue };
            if level < self.fail_on || self.unknown == Unknown::Report {
                continue;
            }
            unknown.push(Diagnostic::new(
                "risk/not-evaluated",
                format!(
                    "{} ({}, gates at fail-on {}) could not be evaluated for {} of {} packages ({}): the verdict is \
                     incomplete; fetch the registry metadata, turn the code off, or set [risk] unknown = \"report\"",
                    c.code,
                    level.as_str(),
                    self.fail_on.as_str(),
                    c.total - c.evaluated,
                    c.total,
                    c.reason.as_deref().unwrap_or("no reason recorded"),
                ),
            ));
        }
        unknown
    }

    fn judge_unit(&self, a: AssessedUnit, baseline: &Baseline, today: Date, state: &mut JudgeState) -> BundleReport {
        let path = a.unit.path.clone();
        let mut findings: Vec<Finding> = a
            .hits
            .into_iter()
            .filter_map(|h| {
                let (severity, setting) = self.advisory_severity(&h)?;
                let subject = Subject {
                    named: &|id| h.advisory.is_named(id),
                    package: Some(&h.package),
                    in_baseline: baseline.contains(&path, &h.package, &h.advisory),
                };
                let mut status = self.status_of(&path, &subject, setting, today, state);
                if status == Status::Gating && h.reachable == Some(false) && self.unreachable == Unreachable::Report {
                    status = Status::Unreachable;
                }
                Some(Finding {
                    code: h.code,
                    node: h.node,
                    package: h.package,
                    advisory: h.advisory,
                    severity,
                    paths: h.paths,
                    upgrade: h.upgrade,
                    line: h.line,
                    reachable: h.reachable,
                    status,
                })
            })
            .collect();
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.package.name.cmp(&b.package.name))
                .then_with(|| a.package.version.cmp(&b.package.version))
                .then_with(|| a.advisory.id.cmp(&b.advisory.id))
        });
        let risks = a.signals.into_iter().filter_map(|s| self.judge_signal(&path, s, today, state)).collect();
        let u = a.unit;
        BundleReport {
            name: u.name,
            kind: u.kind,
            runtime: u.runtime,
            handler: u.handler,
            template: u.template,
            path: u.path,
            format: u.source,
            file: u.file,
            graph: u.graph,
            findings,
            risks,
            coverage: u.coverage,
            fix_plan: crate::finding::FixPlan::default(),
        }
    }

    /// The severity of an advisory-backed finding and what the policy does with its code (`None`:
    /// off). Vulnerabilities and malicious records keep the advisory's severity (the documented
    /// rule when it has none); informational records (RustSec unmaintained, unsound, notice) take
    /// their code's level, low by default.
    fn advisory_severity(&self, h: &VulnHit) -> Option<(Level, Setting)> {
        let malicious = h.code == crate::risk::MALICIOUS;
        if h.code == crate::risk::VULNERABILITY || malicious {
            let severity =
                effective_severity(h.advisory.severity, malicious || h.advisory.is_malicious(), self.unknown_severity);
            return match self.levels.get(&h.code) {
                Some(Setting::Off) => None,
                Some(Setting::Info) => Some((severity, Setting::Info)),
                Some(Setting::Level(l)) => Some((*l, Setting::Level(*l))),
                None => Some((severity, Setting::Level(severity))),
            };
        }
        let default = crate::risk::takeover::malicious::ADVISORY_CODES
            .iter()
            .find(|(c, _, _)| *c == h.code)
            .map_or(Level::Low, |(_, l, _)| *l);
        match self.setting(h.code, default) {
            Setting::Off => None,
            Setting::Info => Some((default, Setting::Info)),
            Setting::Level(l) => Some((l, Setting::Level(l))),
        }
    }

    fn judge_signal(&self, path: &str, s: Signal, today: Date, state: &mut JudgeState) -> Option<RiskFinding> {
        let setting = self.setting(s.code, s.level);
        let level = match setting {
            Setting::Off => return None,
            Setting::Info => s.level,
            Setting::Level(l) => l,
        };
        let code = s.code;
        let subject = Subject {
            named: &|id| id.eq_ignore_ascii_case(code.as_str()),
            package: s.package.as_ref(),
            in_baseline: false,
        };
        let status = match self.allowed_unused(&s, state) {
            Some(allowed) => allowed,
            None => self.status_of(path, &subject, setting, today, state),
        };
        Some(RiskFinding {
            code: s.code,
            package: s.package,
            node: s.node,
            location: s.location,
            message: s.message,
            evidence: s.evidence,
            level,
            status,
        })
    }

    /// The status of an unused-package finding (`unused/*`, `hygiene/undeclared-import`) whose
    /// package `[unused] allow` names: ignored, with the policy file as its source.
    fn allowed_unused(&self, s: &Signal, state: &mut JudgeState) -> Option<Status> {
        if !crate::risk::unused::CODES.iter().any(|(c, _, _)| *c == s.code) {
            return None;
        }
        let import = s.evidence.iter().find(|e| e.name == "import").map(|e| e.value.as_str());
        let i = self.unused_allow.iter().position(|a| a.allows(s.package.as_ref(), import))?;
        state.allow_used[i] = true;
        let source = self.sources.first().cloned().unwrap_or_else(|| PathBuf::from(CONFIG_FILE));
        Some(Status::Ignored { reason: "allowed by [unused] allow".to_owned(), until: None, source })
    }

    fn status_of(
        &self,
        bundle_path: &str,
        subject: &Subject<'_>,
        setting: Setting,
        today: Date,
        state: &mut JudgeState,
    ) -> Status {
        for (i, ig) in self.ignores.iter().enumerate() {
            if !ig.applies_to(bundle_path, subject) {
                continue;
            }
            if ig.until.is_some_and(|u| u < today) {
                state.expired.insert(i);
                continue;
            }
            state.used[i] = true;
            return Status::Ignored {
                reason: ig.reason.clone(),
                until: ig.until.map(|d| d.to_string()),
                source: ig.source.clone(),
            };
        }
        if let Some(v) = self.vex.iter().find(|v| v.applies_to(subject.named, subject.package)) {
            return Status::Vex {
                justification: v.justification.clone(),
                statement: v.impact_statement.clone(),
                source: v.source.clone(),
            };
        }
        if subject.in_baseline {
            return Status::Baseline;
        }
        let level = match setting {
            Setting::Off | Setting::Info => return Status::Info,
            Setting::Level(l) => l,
        };
        if subject.package.is_some_and(|p| !p.scope.ships()) && !self.include_dev {
            return Status::DevOnly;
        }
        if level >= self.fail_on { Status::Gating } else { Status::BelowThreshold }
    }

    fn ignore_warnings(&self, state: &JudgeState, today: Date) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for &i in &state.expired {
            let ig = &self.ignores[i];
            out.push(Diagnostic::at(
                "policy/ignore-expired",
                ig.source.display().to_string(),
                format!(
                    "the ignore of {} expired on {} and no longer applies",
                    ig.id,
                    ig.until.map(|d| d.to_string()).unwrap_or_default()
                ),
            ));
        }
        for (ig, used) in self.ignores.iter().zip(&state.used) {
            if !used && ig.until.is_none_or(|u| u >= today) {
                out.push(Diagnostic::at(
                    "policy/ignore-unused",
                    ig.source.display().to_string(),
                    format!("the ignore of {} matched no finding", ig.id),
                ));
            }
        }
        for (a, used) in self.unused_allow.iter().zip(&state.allow_used) {
            if !used {
                let source = self.sources.first().map(|p| p.display().to_string()).unwrap_or_default();
                out.push(Diagnostic::at(
                    "policy/allow-unused",
                    source,
                    format!("[unused] allow: {} matched no unused-package finding", a.name),
                ));
            }
        }
        out
    }
}

/// Which ignores matched, and which were found expired.
struct JudgeState {
    used: Vec<bool>,
    expired: HashSet<usize>,
    /// Which `[unused] allow` entries matched a finding.
    allow_used: Vec<bool>,
}

/// What an ignore or the baseline is compared with: a finding's ids, its package, and whether
/// the baseline holds it.
struct Subject<'a> {
    named: &'a dyn Fn(&str) -> bool,
    package: Option<&'a Package>,
    in_baseline: bool,
}

/// The default level of a code the checks declare (low when unknown).
fn default_level(code: Code) -> Level {
    use crate::risk::{hygiene, stale, takeover, unused};
    hygiene::CODES
        .iter()
        .chain(stale::CODES)
        .chain(takeover::CODES)
        .chain(unused::CODES)
        .find(|(c, _, _)| *c == code)
        .map_or(Level::Low, |(_, l, _)| *l)
}

/// Every finding code a policy may set, as `kind/name`.
fn all_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = check_codes().map(Code::as_str).collect();
    codes.extend(crate::risk::ADVISORY_CODES.iter().map(|c| c.as_str()));
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// The codes the checks declare (hygiene, stale, takeover, unused, advisory-backed).
fn check_codes() -> impl Iterator<Item = Code> {
    use crate::risk::{hygiene, stale, takeover, unused};
    hygiene::CODES
        .iter()
        .chain(stale::CODES)
        .chain(takeover::CODES)
        .chain(unused::CODES)
        .chain(takeover::malicious::ADVISORY_CODES)
        .map(|(c, _, _)| *c)
}

fn known_code(text: &str) -> Option<Code> {
    check_codes().chain(crate::risk::ADVISORY_CODES.iter().copied()).find(|c| c.as_str() == text)
}

impl Ignore {
    fn applies_to(&self, bundle_path: &str, subject: &Subject<'_>) -> bool {
        (subject.named)(&self.id)
            && self.package.as_deref().is_none_or(|p| subject.package.is_some_and(|s| p == s.name.as_str()))
            && self.path.as_deref().is_none_or(|p| path_matches(p, bundle_path))
    }
}

/// `path` in an ignore matches a bundle path equal to it or under it (`services/a` matches
/// `services/a/package-lock.json`).
fn path_matches(pattern: &str, bundle_path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    bundle_path == pattern || bundle_path.starts_with(&format!("{pattern}/"))
}

fn toml_message(e: &toml::de::Error) -> String {
    let mut msg = e.message().to_owned();
    if let Some(span) = e.span() {
        msg = format!("at byte {}: {msg}", span.start);
    }
    msg
}

/// Findings of an earlier JSON report, keyed by (bundle path, ecosystem, package, advisory id),
/// with every alias of each finding so a renamed primary id still matches.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    keys: HashSet<(String, String, String, String)>,
}

impl Baseline {
    /// Reads a report written by `scan --format json`.
    pub fn from_json_report(path: &Path, text: &str) -> Result<Baseline, PolicyError> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(path, format!("not a bundleguard JSON report: {e}")))?;
        match doc.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(crate::report::JSON_SCHEMA_VERSION) => {}
            other => {
                let found = other.map_or_else(|| "none".to_owned(), |v| v.to_string());
                return Err(invalid(
                    path,
                    format!(
                        "schema_version: {found}; this bundleguard reads baselines of schema version {}: re-run the scan that made it",
                        crate::report::JSON_SCHEMA_VERSION
                    ),
                ));
            }
        }
        let bundles = doc.get("bundles").and_then(serde_json::Value::as_array).ok_or_else(|| {
            invalid(path, "bundles: missing; expected a report written by `bundleguard scan --format json`")
        })?;
        let mut keys = HashSet::new();
        for b in bundles {
            let bpath = b.get("path").and_then(serde_json::Value::as_str).unwrap_or_default();
            for f in b.get("findings").and_then(serde_json::Value::as_array).into_iter().flatten() {
                let pkg = &f["package"];
                let eco = pkg["ecosystem"].as_str().unwrap_or_default();
                let name = pkg["name"].as_str().unwrap_or_default();
                let ids = std::iter::once(&f["id"]).chain(f["aliases"].as_array().into_iter().flatten());
                for id in ids.filter_map(serde_json::Value::as_str) {
                    keys.insert((bpath.to_owned(), eco.to_owned(), name.to_owned(), id.to_ascii_uppercase()));
                }
            }
        }
        Ok(Baseline { keys })
    }

    /// Reads a JSON report from disk.
    pub fn load(path: &Path) -> Result<Baseline, PolicyError> {
        let text =
            fs_err::read_to_string(path).map_err(|source| PolicyError::Read { path: path.to_owned(), source })?;
        Baseline::from_json_report(path, &text)
    }

    fn contains(&self, bundle_path: &str, p: &Package, advisory: &AdvisoryInfo) -> bool {
        std::iter::once(advisory.id.as_str()).chain(advisory.aliases.iter().map(String::as_str)).any(|id| {
            self.keys.contains(&(
                bundle_path.to_owned(),
                p.ecosystem.as_str().to_owned(),
                p.name.as_str().to_owned(),
                id.to_ascii_uppercase(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::{stale, takeover};

    fn today() -> Date {
        "2026-12-06".parse().unwrap()
    }

    /// Nothing scanned but coverage: `evaluated` of 4 packages for each code.
    fn assessed(evaluated: usize, metadata_off: bool) -> Assessed {
        let coverage = [takeover::INSTALL_SCRIPT_ADDED, takeover::BURST, stale::YANKED]
            .into_iter()
            .map(|code| Coverage {
                code,
                evaluated,
                total: 4,
                reason: (evaluated < 4).then(|| "no registry facts for the package (4)".to_owned()),
            })
            .collect();
        Assessed { coverage, metadata_off, ..Assessed::default() }
    }

    fn policy(text: &str) -> Policy {
        Policy::from_bundleguard_toml(Path::new("bundleguard.toml"), text).unwrap()
    }

    fn judge(p: &Policy, a: Assessed) -> ScanResult {
        p.judge(a, Vec::new(), &Baseline::default(), today())
    }

    fn reason(r: &ScanResult, code: Code) -> String {
        r.coverage.iter().find(|c| c.code == code).and_then(|c| c.reason.clone()).unwrap_or_default()
    }

    #[test]
    fn a_wanted_gating_check_that_could_not_be_evaluated_makes_the_scan_incomplete() {
        let r = judge(&Policy::default(), assessed(0, false));
        assert_eq!(r.verdict, Verdict::Incomplete);
        let warned: Vec<&str> = r.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(warned.len(), 1, "only install-script-added (high) gates at fail-on high: {warned:?}");
        assert!(warned[0].starts_with("takeover/install-script-added (high, gates at fail-on high) could not be evaluated for 4 of 4 packages (no registry facts"), "{}", warned[0]);
        // Once every package is evaluated there is nothing unknown.
        assert_eq!(judge(&Policy::default(), assessed(4, false)).verdict, Verdict::Pass);
    }

    #[test]
    fn a_lower_fail_on_makes_more_codes_count() {
        let r = judge(&policy("fail-on = \"medium\"\n"), assessed(3, false));
        assert_eq!(r.verdict, Verdict::Incomplete);
        assert_eq!(r.warnings.len(), 2, "install-script-added and yanked (medium); burst is low: {:?}", r.warnings);
    }

    #[test]
    fn unknown_report_only_reports() {
        let r = judge(&policy("[risk]\nunknown = \"report\"\n"), assessed(0, false));
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.warnings.is_empty());
        assert_eq!(reason(&r, takeover::INSTALL_SCRIPT_ADDED), "no registry facts for the package (4)");
        let bad = Policy::from_bundleguard_toml(Path::new("bundleguard.toml"), "[risk]\nunknown = \"ignore\"\n")
            .expect_err("unknown value");
        assert!(bad.to_string().contains("risk.unknown: \"ignore\""), "{bad}");
    }

    #[test]
    fn no_metadata_turns_the_registry_checks_off_and_says_so() {
        let r = judge(&Policy::default(), assessed(1, true));
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.warnings.is_empty());
        assert_eq!(
            reason(&r, takeover::INSTALL_SCRIPT_ADDED),
            "off: --no-metadata, cached facts only; no registry facts for the package (4)"
        );
    }

    #[test]
    fn a_code_off_in_the_policy_is_off_and_a_code_below_fail_on_only_counted() {
        let r = judge(&policy("[levels]\n\"takeover/install-script-added\" = \"off\"\n"), assessed(0, false));
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(
            reason(&r, takeover::INSTALL_SCRIPT_ADDED),
            "off in the policy; no registry facts for the package (4)"
        );
        assert_eq!(reason(&r, takeover::BURST), "no registry facts for the package (4)");
        // Raised to gate, a low code counts.
        let r = judge(&policy("[levels]\n\"takeover/burst\" = \"critical\"\n"), assessed(0, false));
        assert_eq!(r.warnings.len(), 2);
    }

    #[test]
    fn a_gating_finding_still_fails() {
        let mut a = assessed(0, false);
        a.errors.push(Diagnostic::new("x", "y"));
        assert_eq!(judge(&Policy::default(), a).verdict, Verdict::Incomplete);
        let mut a = assessed(0, false);
        a.units.push(AssessedUnit {
            unit: crate::risk::history::testing::unit(&[(
                crate::package::Ecosystem::Npm,
                "lib",
                "1.0.1",
                crate::package::Scope::Prod,
            )]),
            hits: Vec::new(),
            signals: vec![Signal {
                code: takeover::INSTALL_SCRIPT_ADDED,
                package: None,
                node: None,
                location: None,
                message: "m".into(),
                evidence: Vec::new(),
                level: Level::High,
            }],
        });
        assert_eq!(judge(&Policy::default(), a).verdict, Verdict::Fail);
    }
}
