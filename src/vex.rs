//! OpenVEX documents (<https://github.com/openvex/spec>, v0.2.0) as policy input: each
//! `not_affected` statement (with its justification or impact statement) works as an ignore of
//! the vulnerability it names, for the products (package URLs) it lists, and the finding gets
//! status `vex`. Other statuses (`affected`, `fixed`, `under_investigation`) change nothing.
//! Also the package URL of a package, shared with the OpenVEX writer.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::package::{Ecosystem, Package};

#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

#[derive(Deserialize)]
struct DocumentWire {
    #[serde(rename = "@context")]
    context: String,
    statements: Vec<StatementWire>,
}

#[derive(Deserialize)]
struct StatementWire {
    vulnerability: VulnerabilityWire,
    #[serde(default)]
    products: Vec<ComponentWire>,
    status: String,
    justification: Option<String>,
    impact_statement: Option<String>,
}

#[derive(Deserialize)]
struct VulnerabilityWire {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
struct ComponentWire {
    #[serde(rename = "@id")]
    id: Option<String>,
    identifiers: Option<IdentifiersWire>,
}

#[derive(Deserialize)]
struct IdentifiersWire {
    purl: Option<String>,
}

/// One `not_affected` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// The vulnerability's name and aliases.
    pub names: Vec<String>,
    /// The packages it covers; empty means every package.
    pub products: Vec<Purl>,
    pub justification: String,
    pub impact_statement: String,
    pub source: PathBuf,
}

/// The parts of a package URL a statement matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub purl_type: String,
    pub name: String,
    /// `None`: every version.
    pub version: Option<String>,
}

const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// Reads one OpenVEX document.
pub fn load(path: &Path) -> Result<Vec<VexStatement>, VexError> {
    let text = fs_err::read_to_string(path).map_err(|source| VexError::Read { path: path.to_owned(), source })?;
    parse(path, &text)
}

/// The `not_affected` statements of an OpenVEX document.
pub fn parse(path: &Path, text: &str) -> Result<Vec<VexStatement>, VexError> {
    let invalid = |message: String| VexError::Invalid { path: path.to_owned(), message };
    let doc: DocumentWire = serde_json::from_str(text).map_err(|e| invalid(format!("not an OpenVEX document: {e}")))?;
    if !doc.context.starts_with("https://openvex.dev/ns") {
        return Err(invalid(format!("@context: expected https://openvex.dev/ns/v0.2.0, found {:?}", doc.context)));
    }
    let mut out = Vec::new();
    for (i, s) in doc.statements.into_iter().enumerate() {
        if s.status != "not_affected" {
            continue;
        }
        let justification = s.justification.unwrap_or_default();
        if !justification.is_empty() && !JUSTIFICATIONS.contains(&justification.as_str()) {
            return Err(invalid(format!(
                "statements[{i}].justification: {justification:?}; expected one of {}",
                JUSTIFICATIONS.join(", ")
            )));
        }
        let impact_statement = s.impact_statement.unwrap_or_default();
        if justification.is_empty() && impact_statement.trim().is_empty() {
            return Err(invalid(format!(
                "statements[{i}] ({}): not_affected needs a justification or an impact_statement",
                s.vulnerability.name
            )));
        }
        let products = s
            .products
            .into_iter()
            .map(|p| {
                let text = p.identifiers.and_then(|i| i.purl).or(p.id).unwrap_or_default();
                parse_purl(&text)
                    .ok_or_else(|| invalid(format!("statements[{i}].products: {text:?} is not a package URL")))
            })
            .collect::<Result<_, _>>()?;
        let mut names = vec![s.vulnerability.name];
        names.extend(s.vulnerability.aliases);
        out.push(VexStatement { names, products, justification, impact_statement, source: path.to_owned() });
    }
    Ok(out)
}

impl VexStatement {
    /// Whether it covers a finding named by `named` in `package`.
    pub fn applies_to(&self, named: &dyn Fn(&str) -> bool, package: Option<&Package>) -> bool {
        self.names.iter().any(|n| named(n))
            && (self.products.is_empty() || package.is_some_and(|p| self.products.iter().any(|purl| purl.matches(p))))
    }
}

impl Purl {
    fn matches(&self, p: &Package) -> bool {
        let name = match p.ecosystem {
            Ecosystem::PyPI => crate::package::PackageName::new(Ecosystem::PyPI, &self.name).as_str().to_owned(),
            _ => self.name.clone(),
        };
        self.purl_type == p.ecosystem.purl_type()
            && name == p.name.as_str()
            && self.version.as_deref().is_none_or(|v| v == p.version || v.trim_start_matches('v') == p.version)
    }
}

/// `pkg:npm/%40scope/name@1.0.0` -> type, decoded name, version; qualifiers and subpath dropped.
fn parse_purl(text: &str) -> Option<Purl> {
    let rest = text.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (purl_type, path) = rest.split_once('/')?;
    let (name, version) = match path.rfind('@') {
        Some(at) => (&path[..at], Some(decode(&path[at + 1..]))),
        None => (path, None),
    };
    if purl_type.is_empty() || name.is_empty() {
        return None;
    }
    Some(Purl { purl_type: purl_type.to_ascii_lowercase(), name: decode(name), version })
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| s.get(i + 1..i + 3)).flatten();
        if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The package URL of a registry package: `pkg:npm/%40scope/name@1.0.0`, `pkg:pypi/name@v`.
pub fn purl_of(p: &Package) -> String {
    let name: Vec<String> = p.name.as_str().split('/').filter(|s| !s.is_empty()).map(encode).collect();
    format!("pkg:{}/{}@{}", p.ecosystem.purl_type(), name.join("/"), encode(&p.version))
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_round_trip_through_encoding() {
        let p = parse_purl("pkg:npm/%40types/node@1.0.0?x=y").expect("purl");
        assert_eq!(
            (p.purl_type.as_str(), p.name.as_str(), p.version.as_deref()),
            ("npm", "@types/node", Some("1.0.0"))
        );
        assert_eq!(parse_purl("pkg:golang/github.com/x/y").expect("purl").version, None);
        assert_eq!(parse_purl("https://example.com"), None);
    }
}
