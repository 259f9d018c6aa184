//! The OpenVEX writer (<https://github.com/openvex/spec>, v0.2.0): every finding the policy
//! ignored, or a VEX statement covered, as a `not_affected` statement for its package URLs, so
//! the decisions of `bundleguard.toml` can be handed to other tools (and read back with
//! `scan --vex`). An ignore's reason becomes the impact statement; a VEX statement keeps its
//! justification. `@id` is derived from the statements, so the same decisions give the same id.
//! The schema requires at least one statement: with nothing to state there is no valid document,
//! so [`has_statements`] tells the caller, and [`render`] refuses rather than write an invalid one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{ScanResult, Status};

#[derive(Serialize)]
struct Document {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@id")]
    id: String,
    author: &'static str,
    timestamp: String,
    version: u32,
    tooling: String,
    statements: Vec<Statement>,
}

#[derive(Serialize)]
#[expect(clippy::struct_field_names, reason = "OpenVEX's own field names")]
struct Statement {
    vulnerability: Vulnerability,
    products: Vec<Product>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_statement: Option<String>,
}

#[derive(Serialize)]
struct Vulnerability {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
}

#[derive(Serialize)]
struct Product {
    #[serde(rename = "@id")]
    id: String,
}

/// Why no OpenVEX document is written.
pub const NOTHING_TO_STATE: &str = "no finding was ignored or covered by a VEX statement, so there is nothing to \
     state and no OpenVEX document was written (the OpenVEX schema requires at least one statement)";

/// (advisory id, justification, impact statement) -> (aliases, package URLs).
type Groups = BTreeMap<(String, Option<String>, Option<String>), (BTreeSet<String>, BTreeSet<String>)>;

/// Whether any finding was ignored or covered by a VEX statement (else there is nothing to state).
pub fn has_statements(result: &ScanResult) -> bool {
    result.findings().any(|(_, f)| matches!(f.status, Status::Ignored { .. } | Status::Vex { .. }))
}

/// Writes the document; an error, and nothing written, when there is no statement
/// (OpenVEX's `statements` has `minItems: 1`).
pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    if !has_statements(result) {
        return Err(io::Error::other(NOTHING_TO_STATE));
    }
    let mut groups = Groups::new();
    for (_, f) in result.findings() {
        let (justification, impact) = match &f.status {
            Status::Ignored { reason, until, .. } => {
                let until = until.as_ref().map(|u| format!(" (until {u})")).unwrap_or_default();
                (None, Some(format!("{reason}{until}")))
            }
            Status::Vex { justification, statement, .. } => (
                Some(justification.clone()).filter(|j| !j.is_empty()),
                Some(statement.clone()).filter(|s| !s.is_empty()),
            ),
            _ => continue,
        };
        let entry = groups.entry((f.advisory.id.to_string(), justification, impact)).or_default();
        entry.0.extend(f.advisory.aliases.iter().cloned());
        entry.1.insert(crate::vex::purl_of(&f.package));
    }
    let statements: Vec<Statement> = groups
        .into_iter()
        .map(|((name, justification, impact_statement), (aliases, purls))| Statement {
            vulnerability: Vulnerability { name, aliases: aliases.into_iter().collect() },
            products: purls.into_iter().map(|id| Product { id }).collect(),
            status: "not_affected",
            justification,
            impact_statement,
        })
        .collect();
    let body = serde_json::to_string(&statements).map_err(io::Error::other)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    let hex = digest.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    let doc = Document {
        context: "https://openvex.dev/ns/v0.2.0",
        id: format!("https://openvex.dev/docs/bundleguard/vex-{}", &hex[..32]),
        author: "bundleguard",
        timestamp: jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        version: 1,
        tooling: format!("bundleguard {}", env!("CARGO_PKG_VERSION")),
        statements,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
