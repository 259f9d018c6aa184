//! The policy: `bundleguard.toml` (and the `[[IgnoredVulns]]` of an existing `osv-scanner.toml`)
//! turned into a verdict. Threshold, whether dev-only packages gate, ignores by advisory id or
//! alias (optionally limited to a package or a path, each with a mandatory reason and an optional
//! end date), a baseline of known findings, and the documented rule for findings without
//! severity data.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::Deserialize;

use crate::finding::{Finding, Level, ScanResult, Status, Verdict};

pub const CONFIG_FILE: &str = "bundleguard.toml";
pub const OSV_SCANNER_FILE: &str = "osv-scanner.toml";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
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

/// The validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub fail_on: Level,
    pub include_dev: bool,
    pub unknown_severity: Level,
    pub ignores: Vec<Ignore>,
    /// Where the settings came from (for messages).
    pub sources: Vec<PathBuf>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            fail_on: Level::High,
            include_dev: false,
            unknown_severity: Level::High,
            ignores: Vec::new(),
            sources: Vec::new(),
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
            sources: vec![path.to_owned()],
        };
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
        Ok(policy)
    }

    /// Decides every finding's status and the verdict; warns about expired or unused ignores.
    pub fn judge(&self, result: &mut ScanResult, baseline: &Baseline, today: Date) {
        let mut used = vec![false; self.ignores.len()];
        let mut expired_warned = HashSet::new();
        for bundle in &mut result.bundles {
            let path = bundle.path.clone();
            for finding in &mut bundle.findings {
                finding.severity = effective_severity(
                    finding.advisory.severity,
                    finding.advisory.is_malicious(),
                    self.unknown_severity,
                );
                finding.status = self.status_of(&path, finding, baseline, today, &mut used, &mut expired_warned);
            }
        }
        for i in expired_warned {
            let ig = &self.ignores[i];
            result.warnings.push(format!(
                "{}: the ignore of {} expired on {} and no longer applies",
                ig.source.display(),
                ig.id,
                ig.until.map(|d| d.to_string()).unwrap_or_default()
            ));
        }
        for (ig, used) in self.ignores.iter().zip(used) {
            if !used && ig.until.is_none_or(|u| u >= today) {
                result.warnings.push(format!("{}: the ignore of {} matched no finding", ig.source.display(), ig.id));
            }
        }
        result.fail_on = self.fail_on;
        result.include_dev = self.include_dev;
        result.verdict =
            if result.findings().any(|(_, f)| f.status == Status::Gating) { Verdict::Fail } else { Verdict::Pass };
    }

    fn status_of(
        &self,
        bundle_path: &str,
        finding: &Finding,
        baseline: &Baseline,
        today: Date,
        used: &mut [bool],
        expired: &mut HashSet<usize>,
    ) -> Status {
        for (i, ig) in self.ignores.iter().enumerate() {
            if !ig.applies_to(bundle_path, finding) {
                continue;
            }
            if ig.until.is_some_and(|u| u < today) {
                expired.insert(i);
                continue;
            }
            used[i] = true;
            return Status::Ignored {
                reason: ig.reason.clone(),
                until: ig.until.map(|d| d.to_string()),
                source: ig.source.clone(),
            };
        }
        if baseline.contains(bundle_path, finding) {
            return Status::Baseline;
        }
        if !finding.package.scope.ships() && !self.include_dev {
            return Status::DevOnly;
        }
        if finding.severity >= self.fail_on { Status::Gating } else { Status::BelowThreshold }
    }
}

impl Ignore {
    fn applies_to(&self, bundle_path: &str, finding: &Finding) -> bool {
        finding.advisory.is_named(&self.id)
            && self.package.as_deref().is_none_or(|p| p == finding.package.name.as_str())
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

    fn contains(&self, bundle_path: &str, finding: &Finding) -> bool {
        let p = &finding.package;
        std::iter::once(&finding.advisory.id).chain(&finding.advisory.aliases).any(|id| {
            self.keys.contains(&(
                bundle_path.to_owned(),
                p.ecosystem.as_str().to_owned(),
                p.name.as_str().to_owned(),
                id.to_ascii_uppercase(),
            ))
        })
    }
}
