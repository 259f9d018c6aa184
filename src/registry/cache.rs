//! The registry metadata cache: compact per-version facts in the database file (tables of schema
//! migration 3 in `advisory::store`), with the fetch time and the ETag / Last-Modified of the
//! document they came from, so a refresh is a conditional request. Credentials never reach it:
//! URLs are stored with their `user:password@` removed.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::facts::{PackageFacts, ProjectStatus, VersionFacts};
use crate::advisory::store::{Store, StoreError, from_ns, ns};
use crate::package::{Ecosystem, PackageName};

/// What the cache holds for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The configured registry the facts came from (credentials removed).
    pub registry: String,
    /// The document the validators belong to (credentials removed).
    pub url: String,
    pub fetched_at: Timestamp,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `None`: the registry said it has no such package.
    pub facts: Option<PackageFacts>,
}

fn to_json<T: serde::Serialize>(value: Option<&T>) -> Option<String> {
    value.and_then(|v| serde_json::to_string(v).ok())
}

fn from_json<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn status_columns(status: Option<&ProjectStatus>) -> (Option<&'static str>, Option<&str>) {
    match status {
        None => (None, None),
        Some(ProjectStatus::Active) => (Some("active"), None),
        Some(ProjectStatus::Archived) => (Some("archived"), None),
        Some(ProjectStatus::Quarantined) => (Some("quarantined"), None),
        Some(ProjectStatus::Deprecated { message }) => (Some("deprecated"), message.as_deref()),
    }
}

fn status_from(status: Option<&str>, message: Option<String>) -> Option<ProjectStatus> {
    match status? {
        "active" => Some(ProjectStatus::Active),
        "archived" => Some(ProjectStatus::Archived),
        "quarantined" => Some(ProjectStatus::Quarantined),
        "deprecated" => Some(ProjectStatus::Deprecated { message }),
        _ => None,
    }
}

/// Loads the cached entries of many packages with two prepared statements.
pub fn load_many(
    store: &mut Store,
    packages: &[(Ecosystem, PackageName)],
) -> Result<Vec<Option<CacheEntry>>, StoreError> {
    let conn = store.connection();
    let result = (|| {
        let mut head = conn.prepare_cached(
            "SELECT registry, url, fetched_at, etag, last_modified, found, latest, status, status_message, maintainers
             FROM registry_packages WHERE ecosystem = ?1 AND name = ?2",
        )?;
        let mut rows = conn.prepare_cached(
            "SELECT version, published, publisher, provenance, install_scripts, deprecated, deprecation_known,
                    yanked, yank_known, dependencies, maintainers
             FROM registry_versions WHERE ecosystem = ?1 AND name = ?2",
        )?;
        let mut out = Vec::with_capacity(packages.len());
        for (eco, name) in packages {
            let entry = head
                .query_row(params![eco.as_str(), name.as_str()], |r| {
                    let fetched_at = from_ns(r.get(2)?);
                    let found: bool = r.get(5)?;
                    let facts = found.then(|| -> rusqlite::Result<PackageFacts> {
                        Ok(PackageFacts {
                            ecosystem: *eco,
                            name: name.clone(),
                            fetched_at,
                            versions: Vec::new(),
                            maintainers: from_json(r.get(9)?),
                            status: status_from(r.get::<_, Option<String>>(7)?.as_deref(), r.get(8)?),
                            latest: r.get(6)?,
                        })
                    });
                    Ok(CacheEntry {
                        registry: r.get(0)?,
                        url: r.get(1)?,
                        fetched_at,
                        etag: r.get(3)?,
                        last_modified: r.get(4)?,
                        facts: facts.transpose()?,
                    })
                })
                .optional()?;
            let entry = match entry {
                Some(mut entry) => {
                    if let Some(facts) = &mut entry.facts {
                        facts.versions = rows
                            .query_map(params![eco.as_str(), name.as_str()], version_row)?
                            .collect::<rusqlite::Result<_>>()?;
                    }
                    Some(entry)
                }
                None => None,
            };
            out.push(entry);
        }
        Ok(out)
    })();
    result.map_err(|e| store.error(e))
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionFacts> {
    Ok(VersionFacts {
        version: r.get(0)?,
        published: r.get::<_, Option<i64>>(1)?.map(from_ns),
        publisher: r.get(2)?,
        provenance: r.get(3)?,
        install_scripts: from_json(r.get(4)?),
        deprecated: r.get(5)?,
        deprecation_known: r.get(6)?,
        yanked: r.get(7)?,
        yank_known: r.get(8)?,
        dependencies: from_json(r.get(9)?),
        maintainers: from_json(r.get(10)?),
    })
}

/// What to write for one package after a fetch round.
pub enum Write<'a> {
    /// New facts (or "not found" with `facts: None`).
    Entry(&'a CacheEntry),
    /// A 304: only the fetch time moves.
    Touch(Timestamp),
}

/// Writes a fetch round in one transaction.
pub fn write(store: &mut Store, writes: &[(Ecosystem, &PackageName, Write<'_>)]) -> Result<(), StoreError> {
    let conn = store.connection();
    let result = (|| {
        let tx = conn.transaction()?;
        {
            let mut delete = tx.prepare_cached("DELETE FROM registry_versions WHERE ecosystem = ?1 AND name = ?2")?;
            let mut head = tx.prepare_cached(
                "INSERT OR REPLACE INTO registry_packages
                 (ecosystem, name, registry, url, fetched_at, etag, last_modified, found, latest, status, status_message, maintainers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            let mut row = tx.prepare_cached(
                "INSERT OR REPLACE INTO registry_versions
                 (ecosystem, name, version, published, publisher, provenance, install_scripts, deprecated,
                  deprecation_known, yanked, yank_known, dependencies, maintainers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            let mut touch =
                tx.prepare_cached("UPDATE registry_packages SET fetched_at = ?3 WHERE ecosystem = ?1 AND name = ?2")?;
            for (eco, name, w) in writes {
                let eco = eco.as_str();
                match w {
                    Write::Touch(fetched_at) => {
                        touch.execute(params![eco, name.as_str(), ns(*fetched_at)])?;
                    }
                    Write::Entry(entry) => {
                        delete.execute(params![eco, name.as_str()])?;
                        let facts = entry.facts.as_ref();
                        let (status, message) = status_columns(facts.and_then(|f| f.status.as_ref()));
                        head.execute(params![
                            eco,
                            name.as_str(),
                            entry.registry,
                            entry.url,
                            ns(entry.fetched_at),
                            entry.etag,
                            entry.last_modified,
                            facts.is_some(),
                            facts.and_then(|f| f.latest.as_deref()),
                            status,
                            message,
                            to_json(facts.and_then(|f| f.maintainers.as_ref())),
                        ])?;
                        for v in facts.map_or(&[][..], |f| &f.versions) {
                            row.execute(params![
                                eco,
                                name.as_str(),
                                v.version,
                                v.published.map(ns),
                                v.publisher,
                                v.provenance,
                                to_json(v.install_scripts.as_ref()),
                                v.deprecated,
                                v.deprecation_known,
                                v.yanked,
                                v.yank_known,
                                to_json(v.dependencies.as_ref()),
                                to_json(v.maintainers.as_ref()),
                            ])?;
                        }
                    }
                }
            }
        }
        tx.commit()
    })();
    result.map_err(|e| store.error(e))
}
