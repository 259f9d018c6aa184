//! The CycloneDX 1.6 JSON SBOM (<https://cyclonedx.org/docs/1.6/json/>): one component per
//! bundle (type `application`) and per unique package (with its package URL,
//! <https://github.com/package-url/purl-spec>), the dependency graph from the lockfiles, and the
//! vulnerabilities found, with the policy's ignores as impact analysis.
//!
//! Choices: the serial number is a name-based UUID (version 5) of the document's content, so the
//! same scan gives the same bytes. Workspace, path and other local packages get no purl (a purl
//! would name a registry package they are not). An ignored finding is `in_triage` with the reason
//! as `detail`: an ignore defers a decision, it does not claim the package is not affected.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::escape;
use super::markdown::osv_url;
use super::sarif::INFORMATION_URI;
use crate::finding::{BundleReport, Finding, Level, ScanResult, Status};
use crate::package::{Ecosystem, Package, Scope, Source};

const SCHEMA_URI: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Metadata {
    tools: Tools,
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "String::is_empty")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Vulnerability {
    id: String,
    source: VulnSource,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<VulnReference>,
    ratings: Vec<Rating>,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
    recommendation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    affects: Vec<Affect>,
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct VulnSource {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct VulnReference {
    id: String,
    source: VulnSource,
}

#[derive(Serialize)]
struct Rating {
    source: VulnSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
}

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Analysis {
    state: &'static str,
    detail: String,
}

#[derive(Serialize)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

/// What identifies one package across bundles (scope is merged, not part of the identity).
type PackageKey = (Ecosystem, String, String, Source);

fn key(p: &Package) -> PackageKey {
    (p.ecosystem, p.name.as_str().to_owned(), p.version.clone(), p.source.clone())
}

/// The packages of all bundles, merged: the widest scope and the union of their dependencies.
struct Inventory {
    packages: BTreeMap<PackageKey, (Scope, BTreeSet<String>)>,
    /// Each bundle's bom-ref and its direct dependencies' refs.
    bundles: Vec<(String, BTreeSet<String>)>,
}

impl Inventory {
    fn new(result: &ScanResult) -> Inventory {
        let mut packages: BTreeMap<PackageKey, (Scope, BTreeSet<String>)> = BTreeMap::new();
        let mut bundles = Vec::new();
        let mut used = BTreeSet::new();
        for (i, bundle) in result.bundles.iter().enumerate() {
            let g = &bundle.graph;
            let refs: Vec<String> = g.nodes().iter().map(bom_ref).collect();
            for (id, p) in g.nodes().iter().enumerate() {
                let entry = packages.entry(key(p)).or_insert((p.scope, BTreeSet::new()));
                entry.0 = entry.0.min(p.scope);
                entry.1.extend(g.children(id).iter().filter_map(|&c| refs.get(c)).filter(|r| **r != refs[id]).cloned());
            }
            let mut bundle_ref = format!("bundle:{}", bundle.path);
            if !used.insert(bundle_ref.clone()) {
                bundle_ref = format!("bundle:{}#{i}", bundle.path);
                used.insert(bundle_ref.clone());
            }
            bundles.push((bundle_ref, g.roots().iter().filter_map(|&r| refs.get(r)).cloned().collect()));
        }
        Inventory { packages, bundles }
    }
}

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    let inventory = Inventory::new(result);
    let mut bom = Bom {
        schema: SCHEMA_URI,
        format: "CycloneDX",
        spec_version: "1.6",
        serial_number: String::new(),
        version: 1,
        metadata: metadata(result),
        components: components(result, &inventory),
        dependencies: dependencies(&inventory),
        vulnerabilities: vulnerabilities(result),
    };
    let content = serde_json::to_vec(&bom).map_err(io::Error::other)?;
    bom.serial_number = format!("urn:uuid:{}", uuid_v5(&content));
    super::escape::to_json_writer(&mut *out, &bom)?;
    writeln!(out)
}

fn metadata(result: &ScanResult) -> Metadata {
    let tool = Component {
        kind: "application",
        bom_ref: String::new(),
        name: "bundleguard".into(),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        scope: None,
        purl: None,
        external_references: vec![ExternalReference { kind: "website", url: INFORMATION_URI.into() }],
        properties: Vec::new(),
    };
    Metadata {
        tools: Tools { components: vec![tool] },
        properties: vec![
            Property { name: "bundleguard:verdict", value: result.verdict.as_str().into() },
            Property { name: "bundleguard:fail-on", value: result.fail_on.as_str().into() },
            Property { name: "bundleguard:include-dev", value: result.include_dev.to_string() },
        ],
    }
}

fn components(result: &ScanResult, inventory: &Inventory) -> Vec<Component> {
    let bundles = result.bundles.iter().zip(&inventory.bundles).map(|(b, (bom_ref, _))| bundle_component(b, bom_ref));
    let packages = inventory.packages.iter().map(|(k, (scope, _))| package_component(k, *scope));
    bundles.chain(packages).collect()
}

fn bundle_component(bundle: &BundleReport, bom_ref: &str) -> Component {
    Component {
        kind: "application",
        bom_ref: bom_ref.to_owned(),
        name: bundle.name.clone(),
        version: None,
        scope: None,
        purl: None,
        external_references: Vec::new(),
        properties: vec![
            Property { name: "bundleguard:lockfile", value: bundle.path.clone() },
            Property { name: "bundleguard:format", value: bundle.format.to_string() },
        ],
    }
}

fn package_component(k: &PackageKey, scope: Scope) -> Component {
    let (ecosystem, name, version, source) = k;
    let mut properties = vec![Property { name: "bundleguard:ecosystem", value: ecosystem.as_str().into() }];
    if let Some(origin) = source_text(source) {
        properties.push(Property { name: "bundleguard:source", value: origin });
    }
    Component {
        kind: "library",
        bom_ref: ref_of(k),
        name: name.clone(),
        version: Some(version.clone()),
        scope: Some(match scope {
            Scope::Prod => "required",
            Scope::Optional | Scope::Peer => "optional",
            Scope::Dev => "excluded",
        }),
        purl: purl(*ecosystem, name, version, source),
        external_references: Vec::new(),
        properties,
    }
}

fn source_text(source: &Source) -> Option<String> {
    match source {
        Source::Registry => None,
        Source::Git { url, rev } => {
            Some(format!("git+{url}{}", rev.as_ref().map(|r| format!("#{r}")).unwrap_or_default()))
        }
        Source::Path(path) => Some(format!("path:{path}")),
        Source::Workspace => Some("workspace".into()),
        Source::Other(other) => Some(format!("other:{other}")),
    }
}

fn bom_ref(p: &Package) -> String {
    ref_of(&key(p))
}

/// The purl for registry and git packages; `<kind>:<ecosystem>/<name>@<version>` for local ones.
fn ref_of(k: &PackageKey) -> String {
    let (ecosystem, name, version, source) = k;
    match purl(*ecosystem, name, version, source) {
        Some(purl) => purl,
        None => format!("{}:{ecosystem}/{name}@{version}", source_text(source).unwrap_or_default()),
    }
}

/// The package URL: `pkg:npm/%40scope/name@1.0.0`, `pkg:pypi/name@v`,
/// `pkg:golang/github.com/x/y@v1.2.3`, `pkg:cargo/name@v`; git packages carry a `vcs_url`.
pub(super) fn purl(ecosystem: Ecosystem, name: &str, version: &str, source: &Source) -> Option<String> {
    let qualifiers = match source {
        Source::Registry => String::new(),
        Source::Git { .. } => format!("?vcs_url={}", encode(&source_text(source).unwrap_or_default())),
        Source::Path(_) | Source::Workspace | Source::Other(_) => return None,
    };
    let name = match ecosystem {
        // PEP 503 names are already lowercase with `-`, as the pypi type asks.
        Ecosystem::Npm | Ecosystem::Go | Ecosystem::PyPI | Ecosystem::CratesIo => {
            name.split('/').filter(|s| !s.is_empty()).map(encode).collect::<Vec<_>>().join("/")
        }
    };
    if name.is_empty() {
        return None;
    }
    let version = if version.is_empty() { String::new() } else { format!("@{}", encode(version)) };
    Some(format!("pkg:{}/{name}{version}{qualifiers}", ecosystem.purl_type()))
}

/// Percent-encodes everything but the purl spec's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn dependencies(inventory: &Inventory) -> Vec<Dependency> {
    let mut deps: Vec<Dependency> = inventory
        .bundles
        .iter()
        .map(|(r, roots)| Dependency { reference: r.clone(), depends_on: roots.iter().cloned().collect() })
        .collect();
    deps.extend(
        inventory.packages.iter().map(|(k, (_, children))| Dependency {
            reference: ref_of(k),
            depends_on: children.iter().cloned().collect(),
        }),
    );
    deps.sort_by(|a, b| a.reference.cmp(&b.reference));
    deps.dedup_by(|a, b| a.reference == b.reference);
    deps
}

/// One vulnerability per advisory id and impact analysis, affecting every component it was
/// found in.
fn vulnerabilities(result: &ScanResult) -> Vec<Vulnerability> {
    let mut groups: BTreeMap<(&str, Option<Analysis>), Vec<Item<'_>>> = BTreeMap::new();
    for (b, f) in result.findings() {
        groups.entry((&f.advisory.id, analysis(&f.status))).or_default().push((b, f));
    }
    groups.into_iter().map(|((_, analysis), findings)| vulnerability(&findings, analysis)).collect()
}

fn analysis(status: &Status) -> Option<Analysis> {
    match status {
        Status::Ignored { reason, until, source } => {
            let until = until.as_ref().map(|u| format!(" until {u}")).unwrap_or_default();
            Some(Analysis {
                state: "in_triage",
                detail: format!("Ignored{until} by {}: {reason}", source.to_string_lossy()),
            })
        }
        Status::Vex { justification, statement, source } => Some(Analysis {
            state: "not_affected",
            detail: format!("VEX {justification} in {}: {statement}", source.to_string_lossy()),
        }),
        Status::Unreachable => Some(Analysis {
            state: "in_triage",
            detail: "No import of the function reaches the package (a lexical hint, not proof); the policy reports unreachable findings without gating.".to_owned(),
        }),
        Status::Gating | Status::BelowThreshold | Status::DevOnly | Status::Baseline | Status::Info => None,
    }
}

/// One finding with the function it was found in.
type Item<'a> = (&'a BundleReport, &'a Finding);

fn vulnerability(items: &[Item<'_>], analysis: Option<Analysis>) -> Vulnerability {
    let findings: Vec<&Finding> = items.iter().map(|(_, f)| *f).collect();
    let findings = findings.as_slice();
    let a = &findings[0].advisory;
    let fixed: BTreeSet<&str> = findings.iter().flat_map(|f| f.advisory.fixed.iter().map(String::as_str)).collect();
    let mut recommendation = match fixed.len() {
        0 => "No fixed version is known.".to_owned(),
        _ => format!("Upgrade to a fixed version: {}.", fixed.into_iter().collect::<Vec<_>>().join(", ")),
    };
    // The fix plan's line per function: the change that clears it (checked against every
    // advisory of the package), or why no named version does.
    let plan: BTreeSet<String> = items
        .iter()
        .filter_map(|(b, f)| {
            super::fix_for(b, f).map(|line| format!("{}: {}", escape::one_line(&b.name), escape::one_line(&line)))
        })
        .collect();
    if !plan.is_empty() {
        let _ = write!(recommendation, " Fix plan: {}.", plan.into_iter().collect::<Vec<_>>().join("; "));
    }
    let mut affects: BTreeMap<String, String> = BTreeMap::new();
    for f in findings {
        affects.insert(bom_ref(&f.package), f.package.version.clone());
    }
    let statuses: BTreeSet<&str> = findings.iter().map(|f| f.status.as_str()).collect();
    let aliases: BTreeSet<&str> = a.aliases.iter().map(String::as_str).filter(|alias| *alias != a.id).collect();
    let notes: Vec<&str> = a.notes.iter().map(String::as_str).collect();
    Vulnerability {
        id: a.id.to_string(),
        source: VulnSource { name: "OSV", url: osv_url(&a.id) },
        references: aliases
            .into_iter()
            .map(|alias| VulnReference { id: alias.into(), source: VulnSource { name: "OSV", url: osv_url(alias) } })
            .collect(),
        ratings: ratings(findings),
        description: escape::one_line(&a.summary),
        detail: notes.iter().map(|n| escape::one_line(n)).collect::<Vec<_>>().join("\n"),
        recommendation,
        analysis,
        affects: affects
            .into_iter()
            .map(|(reference, version)| Affect {
                reference,
                versions: vec![AffectedVersion { version, status: "affected" }],
            })
            .collect(),
        properties: statuses.into_iter().map(|s| Property { name: "bundleguard:status", value: s.into() }).collect(),
    }
}

/// The advisory's own rating (the CVSS version is not known here, so the method is `other`), and
/// the policy's when the advisory has none.
fn ratings(findings: &[&Finding]) -> Vec<Rating> {
    let a = &findings[0].advisory;
    let score = a.cvss_score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s));
    let own = a.severity.or_else(|| score.and_then(Level::from_score));
    let mut ratings = vec![Rating {
        source: VulnSource { name: "OSV", url: osv_url(&a.id) },
        score,
        severity: own.map_or("unknown", Level::as_str),
        method: "other",
        justification: None,
    }];
    if own.is_none() {
        let policy = findings.iter().map(|f| f.severity).max().unwrap_or(Level::Low);
        ratings.push(Rating {
            source: VulnSource { name: "bundleguard", url: None },
            score: None,
            severity: policy.as_str(),
            method: "other",
            justification: Some("the advisory gives no severity; this is the level bundleguard's policy used".into()),
        });
    }
    ratings
}

/// A name-based UUID (RFC 9562 version 5, SHA-1) of `content` in the URL namespace.
fn uuid_v5(content: &[u8]) -> String {
    const URL_NAMESPACE: [u8; 16] =
        [0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
    uuid_v5_in(URL_NAMESPACE, content)
}

fn uuid_v5_in(namespace: [u8; 16], name: &[u8]) -> String {
    let mut input = namespace.to_vec();
    input.extend_from_slice(name);
    let hash = sha1(&input);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex(&bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Lowercase hex SHA-1 of `data`: stable fingerprints for the SARIF report.
pub(super) fn sha1_hex(data: &[u8]) -> String {
    hex(&sha1(data))
}

/// SHA-1 (FIPS 180-4). Used for identifiers only (UUID v5, fingerprints), never for security.
#[expect(clippy::many_single_char_names, reason = "the standard's names: h, w, a..e, f, k")]
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let bit_len = u64::try_from(data.len()).unwrap_or(u64::MAX).wrapping_mul(8);
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (slot, word) in w.iter_mut().zip(block.chunks_exact(4)) {
            *slot = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, v) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::sarif::sample;
    use super::*;

    fn render_value(result: &ScanResult) -> serde_json::Value {
        serde_json::from_str(&sample::rendered(render, result)).expect("json")
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
    fn serial_number_follows_the_content() {
        let mut result = sample::result();
        let a = render_value(&result)["serialNumber"].clone();
        result.bundles[0].name = "renamed".into();
        let b = render_value(&result)["serialNumber"].clone();
        assert_ne!(a, b);
        assert!(a.as_str().is_some_and(|s| s.starts_with("urn:uuid:") && s.as_bytes().get(23) == Some(&b'5')));
    }

    #[test]
    fn sha1_and_uuid_v5_known_answers() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(sha1_hex(long), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        let dns = [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
        assert_eq!(uuid_v5_in(dns, b"python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    }

    #[test]
    fn purls() {
        let r = Source::Registry;
        assert_eq!(
            purl(Ecosystem::Npm, "@aws-sdk/client-s3", "3.0.0", &r).as_deref(),
            Some("pkg:npm/%40aws-sdk/client-s3@3.0.0")
        );
        assert_eq!(purl(Ecosystem::PyPI, "pyyaml", "5.3", &r).as_deref(), Some("pkg:pypi/pyyaml@5.3"));
        assert_eq!(
            purl(Ecosystem::Go, "github.com/BurntSushi/toml", "v1.2.0+incompatible", &r).as_deref(),
            Some("pkg:golang/github.com/BurntSushi/toml@v1.2.0%2Bincompatible")
        );
        assert_eq!(purl(Ecosystem::CratesIo, "time", "0.1.43", &r).as_deref(), Some("pkg:cargo/time@0.1.43"));
        let git = Source::Git { url: "https://github.com/servo/rust-smallvec".into(), rev: Some("abc".into()) };
        assert_eq!(
            purl(Ecosystem::CratesIo, "smallvec", "1.6.0", &git).as_deref(),
            Some("pkg:cargo/smallvec@1.6.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fservo%2Frust-smallvec%23abc")
        );
        assert_eq!(purl(Ecosystem::CratesIo, "app", "0.1.0", &Source::Workspace), None);
        assert_eq!(purl(Ecosystem::Npm, "a b", "1.0.0 beta", &r).as_deref(), Some("pkg:npm/a%20b@1.0.0%20beta"));
    }

    #[test]
    fn scopes_graph_and_analysis() {
        let v = render_value(&sample::result());
        let components = v["components"].as_array().expect("components");
        let find = |name: &str| components.iter().find(|c| c["name"] == name).expect(name);
        assert_eq!(find("jest")["scope"], "excluded");
        assert_eq!(find("qs")["scope"], "required");
        assert_eq!(find("api")["type"], "application");
        let deps = v["dependencies"].as_array().expect("dependencies");
        let api = deps.iter().find(|d| d["ref"] == "bundle:services/api/package-lock.json").expect("bundle");
        assert_eq!(api["dependsOn"].as_array().map(Vec::len), Some(3));
        let refs: BTreeSet<&str> = components.iter().filter_map(|c| c["bom-ref"].as_str()).collect();
        assert_eq!(refs.len(), components.len(), "bom-refs are unique");
        for d in deps {
            assert!(refs.contains(d["ref"].as_str().unwrap_or_default()));
            for r in d["dependsOn"].as_array().into_iter().flatten() {
                assert!(refs.contains(r.as_str().unwrap_or_default()), "{r}");
            }
        }
        let vulns = v["vulnerabilities"].as_array().expect("vulnerabilities");
        let ignored = vulns.iter().find(|x| x["id"] == "GHSA-8q59-q68h-6hv4").expect("ignored");
        assert_eq!(ignored["analysis"]["state"], "in_triage");
        let unrated = vulns.iter().find(|x| x["id"] == "MAL-2024-1234").expect("no severity");
        assert_eq!(unrated["ratings"][0]["severity"], "unknown");
        assert_eq!(unrated["ratings"][1]["severity"], "critical");
    }
}
