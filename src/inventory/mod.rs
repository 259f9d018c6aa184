//! The inventory: which bundles scans recorded (their packages and the vulnerabilities that
//! affected them), so that a later sync can say which of them new advisories hit. One trait,
//! [`Inventory`], over the backends (today the local SQLite file, [`sqlite`]); recording a scan
//! ([`record`]) and re-checking every recorded bundle ([`recheck`]) are written once against it.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::advisory::store::{Store, StoreError};
use crate::finding::ScanResult;
use crate::matcher::{self, PackageMatches, PackageQuery};
use crate::package::{Ecosystem, PackageName, Source};
use crate::vocab::Level;

pub mod sqlite;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A bundle recorded by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryBundle {
    pub key: String,
    pub name: String,
    pub path: String,
    pub scanned_at: Timestamp,
    pub packages: usize,
}

/// One recorded (package, vulnerability) pair of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InventoryFinding {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub advisory_id: String,
    pub aliases: Vec<String>,
}

/// What a backend stores and returns.
pub trait Inventory {
    /// Replaces what is recorded of one bundle: its packages and current findings, in one
    /// transaction.
    fn record_bundle(
        &mut self,
        key: &str,
        name: &str,
        path: &str,
        packages: &[(Ecosystem, String, String)],
        findings: &[InventoryFinding],
    ) -> Result<(), InventoryError>;
    /// Replaces the recorded findings of a bundle (after a sync re-checked it).
    fn set_bundle_findings(&mut self, key: &str, findings: &[InventoryFinding]) -> Result<(), InventoryError>;
    /// Every recorded bundle, by path.
    fn bundles(&self) -> Result<Vec<InventoryBundle>, InventoryError>;
    /// The recorded packages of a bundle.
    fn packages(&self, key: &str) -> Result<Vec<(Ecosystem, String, String)>, InventoryError>;
    /// The recorded findings of a bundle.
    fn findings(&self, key: &str) -> Result<Vec<InventoryFinding>, InventoryError>;
    /// Forgets recorded bundles whose key or shown path starts with `prefix` (all when empty).
    fn forget(&mut self, prefix: &str) -> Result<usize, InventoryError>;
}

/// Records every scanned bundle (packages and current vulnerabilities).
pub fn record(inventory: &mut dyn Inventory, result: &ScanResult) -> Result<(), InventoryError> {
    for b in &result.bundles {
        let packages: Vec<(Ecosystem, String, String)> = b
            .graph
            .nodes()
            .iter()
            .filter(|p| p.source == Source::Registry)
            .map(|p| (p.ecosystem, p.name.as_str().to_owned(), p.version.clone()))
            .collect();
        let findings: Vec<InventoryFinding> = b
            .findings
            .iter()
            .map(|f| InventoryFinding {
                ecosystem: f.package.ecosystem,
                name: f.package.name.as_str().to_owned(),
                version: f.package.version.clone(),
                advisory_id: f.advisory.id.as_str().to_owned(),
                aliases: f.advisory.aliases.clone(),
            })
            .collect();
        let key = format!("{}#{}", b.file.display(), b.name);
        inventory.record_bundle(&key, &b.name, &b.path, &packages, &findings)?;
    }
    Ok(())
}

/// What changed for one recorded bundle after a sync.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryChange {
    pub name: String,
    pub path: String,
    /// Vulnerabilities that newly affect one of its packages.
    pub new: Vec<NewFinding>,
    /// Recorded vulnerabilities that no longer match (withdrawn or removed advisories).
    pub gone: Vec<InventoryFinding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    pub package: InventoryFinding,
    pub severity: Level,
    pub summary: String,
    pub fixed: Vec<String>,
}

/// Re-matches every recorded bundle against the advisories (each unique package once) and
/// returns, per bundle, the vulnerabilities that appeared or disappeared since it was last
/// checked; the inventory is updated to the new state.
pub fn recheck(
    inventory: &mut dyn Inventory,
    advisories: &Store,
    unknown_severity: Level,
) -> Result<Vec<InventoryChange>, InventoryError> {
    let bundles = inventory.bundles()?;
    let per_bundle: Vec<Vec<(Ecosystem, String, String)>> =
        bundles.iter().map(|b| inventory.packages(&b.key)).collect::<Result<_, _>>()?;
    let matches = matcher::match_unique(advisories, per_bundle.iter().flatten().map(|(e, n, v)| query(*e, n, v)))?;
    let mut changes = Vec::new();
    for (b, packages) in bundles.iter().zip(per_bundle) {
        let recorded = inventory.findings(&b.key)?;
        let (current, mut new) = compare(&recorded, &packages, &matches, unknown_severity);
        let gone: Vec<InventoryFinding> =
            recorded.into_iter().filter(|r| !current.iter().any(|c| same_finding(r, c))).collect();
        if !new.is_empty() || !gone.is_empty() {
            inventory.set_bundle_findings(&b.key, &current)?;
            new.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.package.cmp(&b.package)));
            changes.push(InventoryChange { name: b.name.clone(), path: b.path.clone(), new, gone });
        }
    }
    Ok(changes)
}

fn query(eco: Ecosystem, name: &str, version: &str) -> PackageQuery {
    PackageQuery { ecosystem: eco, name: PackageName::new(eco, name), version: version.to_owned() }
}

/// The current findings of a bundle's packages, and those among them not recorded before.
fn compare(
    recorded: &[InventoryFinding],
    packages: &[(Ecosystem, String, String)],
    matches: &HashMap<PackageQuery, PackageMatches>,
    unknown_severity: Level,
) -> (Vec<InventoryFinding>, Vec<NewFinding>) {
    let mut current = Vec::new();
    let mut new = Vec::new();
    for (ecosystem, name, version) in packages {
        let Some(found) = matches.get(&query(*ecosystem, name, version)) else { continue };
        for v in &found.vulnerabilities {
            let f = InventoryFinding {
                ecosystem: *ecosystem,
                name: name.clone(),
                version: version.clone(),
                advisory_id: v.id.clone(),
                aliases: v.aliases.clone(),
            };
            if !recorded.iter().any(|r| same_finding(r, &f)) {
                let malicious = crate::finding::is_malicious(&v.id, &v.aliases);
                let severity = crate::policy::effective_severity(v.severity.level, malicious, unknown_severity);
                new.push(NewFinding {
                    package: f.clone(),
                    severity,
                    summary: v.summary.clone(),
                    fixed: v.fixed.clone(),
                });
            }
            current.push(f);
        }
    }
    (current, new)
}

/// Same package and version, and the two vulnerabilities share an id or alias.
fn same_finding(a: &InventoryFinding, b: &InventoryFinding) -> bool {
    a.ecosystem == b.ecosystem
        && a.name == b.name
        && a.version == b.version
        && std::iter::once(&a.advisory_id).chain(&a.aliases).any(|id| *id == b.advisory_id || b.aliases.contains(id))
}
