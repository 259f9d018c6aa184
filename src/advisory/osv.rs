//! OSV records: private serde wire types mirroring the OSV schema
//! (<https://ossf.github.io/osv-schema/>, 1.6.x, tolerant of unknown fields), and the validated
//! domain [`Advisory`] the rest of bundleguard uses. Strict about what matching depends on: `id`,
//! `modified`, `withdrawn`, `affected[].package`, range types and one-key events.

use std::str::FromStr;

use jiff::Timestamp;
use serde::Deserialize;

use crate::package::{Ecosystem, PackageName};

/// A record that cannot be used, with the key path of the bad field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct OsvError {
    /// `id`, `affected[2].ranges[0].events[1]`, or `json` for a syntax error.
    pub key: String,
    pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> OsvError {
    OsvError { key: key.into(), message: message.into() }
}

#[derive(Deserialize)]
struct RecordWire {
    id: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<SeverityWire>>,
    #[serde(default)]
    affected: Option<Vec<AffectedWire>>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct SeverityWire {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct AffectedWire {
    package: Option<PackageWire>,
    #[serde(default)]
    severity: Option<Vec<SeverityWire>>,
    #[serde(default)]
    ranges: Option<Vec<RangeWire>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    ecosystem_specific: Option<serde_json::Value>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PackageWire {
    ecosystem: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RangeWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A validated OSV record.
#[derive(Debug, Clone, PartialEq)]
pub struct Advisory {
    pub id: String,
    pub modified: Timestamp,
    pub published: Option<Timestamp>,
    pub withdrawn: Option<Timestamp>,
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    pub affected: Vec<Affected>,
    /// What the record says of its own nature, for [`crate::risk::takeover::malicious::advisory_code`].
    pub labels: Labels,
}

/// The classification fields of a record: GHSA `database_specific.cwe_ids` (CWE-506 marks
/// embedded malware) and RustSec `affected[].database_specific.informational` (`unmaintained`,
/// `unsound`, `notice`: warnings in cargo-audit, not vulnerabilities).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels {
    pub cwe_ids: Vec<String>,
    pub informational: Option<String>,
}

impl Labels {
    /// Reads the labels from the record's and its entries' `database_specific` objects.
    fn read(record: Option<&serde_json::Value>, entries: &[Option<&serde_json::Value>]) -> Labels {
        let strings = |v: Option<&serde_json::Value>, key: &str| -> Vec<String> {
            v.and_then(|v| v.get(key))
                .and_then(serde_json::Value::as_array)
                .map_or_else(Vec::new, |a| a.iter().filter_map(serde_json::Value::as_str).map(str::to_owned).collect())
        };
        let mut cwe_ids = strings(record, "cwe_ids");
        for entry in entries {
            cwe_ids.extend(strings(*entry, "cwe_ids"));
        }
        cwe_ids.sort();
        cwe_ids.dedup();
        let informational = entries
            .iter()
            .filter_map(|e| e.and_then(|v| v.get("informational")).and_then(serde_json::Value::as_str))
            .map(|s| s.trim().to_ascii_lowercase())
            .find(|s| !s.is_empty());
        Labels { cwe_ids, informational }
    }
}

/// One `affected[]` entry. `ecosystem` is `None` for ecosystems bundleguard does not scan
/// (Maven, Debian, ...); such entries are kept out of the index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Affected {
    #[serde(skip)]
    pub ecosystem: Option<Ecosystem>,
    #[serde(skip)]
    pub name: String,
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(rename = "v", default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

impl Affected {
    /// The normalized package name, when the ecosystem is one we scan.
    pub fn package_name(&self) -> Option<PackageName> {
        self.ecosystem.map(|eco| PackageName::new(eco, &self.name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RangeKind {
    #[serde(rename = "S")]
    Semver,
    #[serde(rename = "E")]
    Ecosystem,
    #[serde(rename = "G")]
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Range {
    #[serde(rename = "t")]
    pub kind: RangeKind,
    #[serde(rename = "e")]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    #[serde(rename = "i")]
    Introduced(String),
    #[serde(rename = "f")]
    Fixed(String),
    #[serde(rename = "a")]
    LastAffected(String),
    #[serde(rename = "l")]
    Limit(String),
}

pub use crate::vocab::Level;

/// Where a severity came from, so reports can say how sure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeveritySource {
    CvssV4,
    CvssV3,
    Database,
    None,
}

impl SeveritySource {
    pub fn as_str(self) -> &'static str {
        match self {
            SeveritySource::CvssV4 => "cvss_v4",
            SeveritySource::CvssV3 => "cvss_v3",
            SeveritySource::Database => "database",
            SeveritySource::None => "none",
        }
    }

    pub fn from_name(name: &str) -> SeveritySource {
        match name {
            "cvss_v4" => SeveritySource::CvssV4,
            "cvss_v3" => SeveritySource::CvssV3,
            "database" => SeveritySource::Database,
            _ => SeveritySource::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Severity {
    pub level: Option<Level>,
    pub score: Option<f64>,
    pub source: SeveritySource,
}

impl Severity {
    pub const UNKNOWN: Severity = Severity { level: None, score: None, source: SeveritySource::None };
}

/// Parses and validates one OSV record.
pub fn parse_record(bytes: &[u8]) -> Result<Advisory, OsvError> {
    let wire: RecordWire =
        serde_json::from_slice(bytes).map_err(|e| err("json", format!("not a valid OSV record: {e}")))?;
    let id = wire.id.filter(|s| !s.trim().is_empty()).ok_or_else(|| err("id", "missing or empty"))?;
    let modified = parse_time("modified", wire.modified.as_deref())?
        .ok_or_else(|| err("modified", "missing (required by the OSV schema)"))?;
    let published = parse_time("published", wire.published.as_deref()).unwrap_or(None);
    let withdrawn = parse_time("withdrawn", wire.withdrawn.as_deref())?;
    let mut severity = severity_from_vectors(wire.severity.as_deref().unwrap_or_default());
    let mut affected = Vec::new();
    let wire_affected = wire.affected.unwrap_or_default();
    let labels = Labels::read(
        wire.database_specific.as_ref(),
        &wire_affected.iter().map(|a| a.database_specific.as_ref()).collect::<Vec<_>>(),
    );
    for (i, a) in wire_affected.into_iter().enumerate() {
        if severity.level.is_none() {
            severity = severity_from_vectors(a.severity.as_deref().unwrap_or_default());
        }
        if severity.level.is_none() {
            severity = severity_from_labels(a.ecosystem_specific.as_ref(), a.database_specific.as_ref());
        }
        affected.push(affected_from_wire(i, a)?);
    }
    if severity.level.is_none() {
        severity = severity_from_labels(None, wire.database_specific.as_ref());
    }
    Ok(Advisory {
        id,
        modified,
        published,
        withdrawn,
        aliases: wire.aliases.unwrap_or_default(),
        summary: wire.summary.or(wire.details.map(|d| first_line(&d))).unwrap_or_default(),
        severity,
        affected,
        labels,
    })
}

fn first_line(text: &str) -> String {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().chars().take(200).collect()
}

/// Parses an RFC 3339 time; `None` when the field is absent.
pub fn parse_time(key: &str, value: Option<&str>) -> Result<Option<Timestamp>, OsvError> {
    match value {
        None => Ok(None),
        Some(s) => {
            Timestamp::from_str(s.trim()).map(Some).map_err(|e| err(key, format!("{s:?} is not an RFC 3339 time: {e}")))
        }
    }
}

fn affected_from_wire(i: usize, a: AffectedWire) -> Result<Affected, OsvError> {
    let key = format!("affected[{i}]");
    let package = a.package.ok_or_else(|| err(format!("{key}.package"), "missing"))?;
    let eco_raw = package.ecosystem.ok_or_else(|| err(format!("{key}.package.ecosystem"), "missing"))?;
    let name = package.name.ok_or_else(|| err(format!("{key}.package.name"), "missing"))?;
    let mut ranges = Vec::new();
    for (j, r) in a.ranges.unwrap_or_default().into_iter().enumerate() {
        ranges.push(range_from_wire(&format!("{key}.ranges[{j}]"), r)?);
    }
    Ok(Affected {
        ecosystem: Ecosystem::ALL.into_iter().find(|e| e.as_str() == eco_raw),
        name,
        ranges,
        versions: a.versions.unwrap_or_default(),
    })
}

fn range_from_wire(key: &str, r: RangeWire) -> Result<Range, OsvError> {
    let kind = match r.kind.as_deref() {
        Some("SEMVER") => RangeKind::Semver,
        Some("ECOSYSTEM") => RangeKind::Ecosystem,
        Some("GIT") => RangeKind::Git,
        Some(other) => {
            return Err(err(format!("{key}.type"), format!("unknown range type {other:?}")));
        }
        None => return Err(err(format!("{key}.type"), "missing")),
    };
    let mut events = Vec::with_capacity(r.events.len());
    for (k, obj) in r.events.into_iter().enumerate() {
        events.push(event_from_wire(&format!("{key}.events[{k}]"), obj)?);
    }
    if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
        return Err(err(format!("{key}.events"), "no `introduced` event"));
    }
    Ok(Range { kind, events })
}

fn event_from_wire(key: &str, obj: serde_json::Map<String, serde_json::Value>) -> Result<Event, OsvError> {
    let mut known =
        obj.into_iter().filter(|(k, _)| matches!(k.as_str(), "introduced" | "fixed" | "last_affected" | "limit"));
    let (name, value) =
        known.next().ok_or_else(|| err(key, "expected one of introduced, fixed, last_affected, limit"))?;
    if let Some((second, _)) = known.next() {
        return Err(err(key, format!("has both {name:?} and {second:?}; an event has exactly one")));
    }
    let serde_json::Value::String(value) = value else {
        return Err(err(format!("{key}.{name}"), format!("expected a string, found {value}")));
    };
    Ok(match name.as_str() {
        "introduced" => Event::Introduced(value),
        "fixed" => Event::Fixed(value),
        "last_affected" => Event::LastAffected(value),
        _ => Event::Limit(value),
    })
}

fn severity_from_vectors(entries: &[SeverityWire]) -> Severity {
    let v4 = entries
        .iter()
        .filter(|s| s.kind == "CVSS_V4")
        .find_map(|s| cvss::v4::Vector::from_str(s.score.trim()).ok().map(|v| v.score().value()));
    if let Some(score) = v4 {
        return Severity { level: Level::from_score(score), score: Some(score), source: SeveritySource::CvssV4 };
    }
    let v3 = entries
        .iter()
        .filter(|s| s.kind == "CVSS_V3")
        .find_map(|s| cvss::v3::Vector::from_str(s.score.trim()).ok().map(|v| v.base_score().value()));
    if let Some(score) = v3 {
        return Severity { level: Level::from_score(score), score: Some(score), source: SeveritySource::CvssV3 };
    }
    Severity::UNKNOWN
}

/// The database's own label: GHSA `database_specific.severity`, Go `ecosystem_specific.severity`.
fn severity_from_labels(eco_specific: Option<&serde_json::Value>, db_specific: Option<&serde_json::Value>) -> Severity {
    let label = [eco_specific, db_specific]
        .into_iter()
        .flatten()
        .find_map(|v| v.get("severity").and_then(serde_json::Value::as_str).and_then(Level::from_label));
    match label {
        Some(level) => Severity { level: Some(level), score: None, source: SeveritySource::Database },
        None => Severity::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_ghsa_record_with_a_cvss_vector() {
        let rec = br#"{"id":"GHSA-1","modified":"2024-01-02T03:04:05Z","aliases":["CVE-1"],
            "summary":"bad","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"npm","name":"qs"},"ranges":[{"type":"SEMVER",
            "events":[{"introduced":"0"},{"fixed":"6.7.3"}]}],"unknown_field":1}],
            "database_specific":{"severity":"LOW"}}"#;
        let adv = parse_record(rec).unwrap();
        assert_eq!(adv.id, "GHSA-1");
        assert_eq!(adv.severity.level, Some(Level::Critical));
        assert_eq!(adv.severity.source, SeveritySource::CvssV3);
        assert_eq!(adv.affected[0].ecosystem, Some(Ecosystem::Npm));
        assert_eq!(adv.affected[0].ranges[0].events, vec![Event::Introduced("0".into()), Event::Fixed("6.7.3".into())]);
    }

    #[test]
    fn falls_back_to_the_database_label() {
        let rec =
            br#"{"id":"GO-1","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"Go","name":"x"},
            "ecosystem_specific":{"severity":"MODERATE"}}]}"#;
        let adv = parse_record(rec).unwrap();
        assert_eq!(adv.severity.level, Some(Level::Medium));
        assert_eq!(adv.severity.source, SeveritySource::Database);
    }

    #[test]
    fn strict_about_matching_fields() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"modified":"2024-01-02T03:04:05Z"}"#, "id: missing or empty"),
            (br#"{"id":"X"}"#, "modified: missing"),
            (br#"{"id":"X","modified":"yesterday"}"#, "modified: \"yesterday\" is not an RFC 3339 time"),
            (
                br#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}"#,
                "affected[0].ranges[0].events[0]: has both",
            ),
            (
                br#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1"}]}]}]}"#,
                "affected[0].ranges[0].events: no `introduced` event",
            ),
            (
                br#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"npm"}}]}"#,
                "affected[0].package.name: missing",
            ),
        ];
        for (input, want) in cases {
            let got = parse_record(input).unwrap_err().to_string();
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }

    #[test]
    fn keeps_the_classification_labels() {
        let ghsa = br#"{"id":"GHSA-pjwm-rvh2-c87w","modified":"2024-01-02T03:04:05Z",
            "affected":[{"package":{"ecosystem":"npm","name":"ua-parser-js"}}],
            "database_specific":{"cwe_ids":["CWE-506"],"severity":"CRITICAL"}}"#;
        assert_eq!(parse_record(ghsa).unwrap().labels.cwe_ids, vec!["CWE-506".to_owned()]);
        let rustsec = br#"{"id":"RUSTSEC-2016-0004","modified":"2020-10-02T01:29:11Z",
            "affected":[{"package":{"ecosystem":"crates.io","name":"libusb"},
            "database_specific":{"categories":[],"cvss":null,"informational":"unmaintained"}}]}"#;
        assert_eq!(parse_record(rustsec).unwrap().labels.informational.as_deref(), Some("unmaintained"));
        let plain = br#"{"id":"RUSTSEC-2018-0004","modified":"2020-10-02T01:29:11Z",
            "affected":[{"package":{"ecosystem":"crates.io","name":"x"},"database_specific":{"informational":null}}]}"#;
        assert_eq!(parse_record(plain).unwrap().labels, Labels::default());
    }

    #[test]
    fn withdrawn_is_kept() {
        let rec =
            br#"{"id":"MAL-1","modified":"2024-01-02T03:04:05Z","withdrawn":"2024-02-01T00:00:00Z","affected":[]}"#;
        assert!(parse_record(rec).unwrap().withdrawn.is_some());
    }
}
