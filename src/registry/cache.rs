//! The registry metadata cache: compact per-version facts in the database file (tables of schema
//! migration 3 in `advisory::store`), with the fetch time and the ETag / Last-Modified of the
//! document they came from, so a refresh is a conditional request. Credentials never reach it:
//! URLs are stored with their `user:password@` removed.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use rusqlite::params;

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

/// A cached list of names (`["a","b"]`, as [`to_json`] writes it). Read by hand when the text
/// holds no escape, no control character and no blank (then every `"` is a delimiter and the
/// list is exactly what serde would read); anything else goes through serde_json.
fn names_column(text: Option<&str>) -> Option<Vec<String>> {
    let text = text?;
    plain_strings(text).or_else(|| serde_json::from_str(text).ok())
}

/// A cached list of (name, command) pairs (`[["a","b"]]`), as [`names_column`] reads names.
fn pairs_column(text: Option<&str>) -> Option<Vec<(String, String)>> {
    let text = text?;
    plain_pairs(text).or_else(|| serde_json::from_str(text).ok())
}

/// Column `i` of a row as borrowed text (`None` for NULL), without copying it out.
fn text_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(i)?
        .as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// Whether `text` has no backslash (escape) and no control character: then every `"` in it closes
/// or opens a string.
fn unescaped(text: &str) -> bool {
    !text.bytes().any(|b| b == b'\\' || b < 0x20)
}

/// `["a","b"]` without escapes or blanks as strings; `None` for any other shape.
fn plain_strings(text: &str) -> Option<Vec<String>> {
    plain_list(text, |rest| {
        let (item, tail) = rest.strip_prefix('"')?.split_once('"')?;
        Some((item.to_owned(), tail))
    })
}

/// `[["a","b"],["c","d"]]` without escapes or blanks as pairs; `None` for any other shape.
fn plain_pairs(text: &str) -> Option<Vec<(String, String)>> {
    plain_list(text, |rest| {
        let (name, tail) = rest.strip_prefix("[\"")?.split_once('"')?;
        let (command, tail) = tail.strip_prefix(",\"")?.split_once('"')?;
        Some(((name.to_owned(), command.to_owned()), tail.strip_prefix(']')?))
    })
}

/// A JSON array without escapes or blanks, each item read by `item` (the item and the text after
/// it); `None` for any other shape.
fn plain_list<T>(text: &str, item: impl Fn(&str) -> Option<(T, &str)>) -> Option<Vec<T>> {
    if !unescaped(text) {
        return None;
    }
    let mut rest = text.strip_prefix('[')?;
    let mut out = Vec::new();
    if rest == "]" {
        return Some(out);
    }
    loop {
        let (value, tail) = item(rest)?;
        out.push(value);
        match tail.strip_prefix(',') {
            Some(next) => rest = next,
            None => return (tail == "]").then_some(out),
        }
    }
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

/// Loads the cached entries of many packages, in the order given: per ecosystem, one query for
/// the package rows and one for all their version rows (the names passed as one JSON array,
/// `json_each`), so a warm cache costs two statements per ecosystem, not two per package, and an
/// ecosystem with nothing cached costs one index probe.
pub fn load_many(
    store: &mut Store,
    packages: &[(Ecosystem, PackageName)],
) -> Result<Vec<Option<CacheEntry>>, StoreError> {
    let conn = store.connection();
    let result = (|| {
        let mut out: Vec<Option<CacheEntry>> = vec![None; packages.len()];
        let mut by_eco: BTreeMap<Ecosystem, Vec<usize>> = BTreeMap::new();
        for (i, (eco, _)) in packages.iter().enumerate() {
            by_eco.entry(*eco).or_default().push(i);
        }
        let mut any = conn.prepare_cached("SELECT 1 FROM registry_packages WHERE ecosystem = ?1 LIMIT 1")?;
        for (eco, indexes) in by_eco {
            if !any.exists(params![eco.as_str()])? {
                continue;
            }
            load_ecosystem(conn, eco, packages, &indexes, &mut out)?;
        }
        Ok(out)
    })();
    result.map_err(|e| store.error(e))
}

/// The cached entries of the packages at `indexes` (all of ecosystem `eco`) into `out`.
fn load_ecosystem(
    conn: &rusqlite::Connection,
    eco: Ecosystem,
    packages: &[(Ecosystem, PackageName)],
    indexes: &[usize],
    out: &mut [Option<CacheEntry>],
) -> rusqlite::Result<()> {
    let names: Vec<&str> = indexes.iter().map(|&i| packages[i].1.as_str()).collect();
    let names_json = serde_json::to_string(&names).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let mut at: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    let mut repeated = Vec::new();
    for (&name, &i) in names.iter().zip(indexes) {
        if let Some(&first) = at.get(name) {
            repeated.push((first, i));
        } else {
            at.insert(name, i);
        }
    }
    let mut head = conn.prepare_cached(
        "SELECT name, registry, url, fetched_at, etag, last_modified, found, latest, status, status_message, maintainers
         FROM registry_packages WHERE ecosystem = ?1 AND name IN (SELECT value FROM json_each(?2))",
    )?;
    let mut rows = head.query(params![eco.as_str(), names_json])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(0)?;
        let Some(&i) = at.get(name.as_str()) else { continue };
        let fetched_at = from_ns(r.get(3)?);
        let found: bool = r.get(6)?;
        let facts = if found {
            Some(PackageFacts {
                ecosystem: eco,
                name: packages[i].1.clone(),
                fetched_at,
                versions: Vec::new(),
                maintainers: names_column(text_at(r, 10)?),
                status: status_from(r.get::<_, Option<String>>(8)?.as_deref(), r.get(9)?),
                latest: r.get(7)?,
            })
        } else {
            None
        };
        out[i] = Some(CacheEntry {
            registry: r.get(1)?,
            url: r.get(2)?,
            fetched_at,
            etag: r.get(4)?,
            last_modified: r.get(5)?,
            facts,
        });
    }
    // Version rows in primary-key order within each package, as a per-package query gives them.
    let mut versions = conn.prepare_cached(
        "SELECT name, version, published, publisher, provenance, install_scripts, deprecated, deprecation_known,
                yanked, yank_known, dependencies, maintainers
         FROM registry_versions WHERE ecosystem = ?1 AND name IN (SELECT value FROM json_each(?2))
         ORDER BY name, version",
    )?;
    let mut rows = versions.query(params![eco.as_str(), names_json])?;
    let mut current: Option<(String, usize)> = None;
    while let Some(r) = rows.next()? {
        let name = r.get_ref(0)?.as_str()?;
        let i = match &current {
            Some((n, i)) if n == name => *i,
            _ => {
                let Some(&i) = at.get(name) else { continue };
                current = Some((name.to_owned(), i));
                i
            }
        };
        if let Some(facts) = out[i].as_mut().and_then(|e| e.facts.as_mut()) {
            facts.versions.push(version_row(r)?);
        }
    }
    for (first, i) in repeated {
        let copy = out[first].clone();
        out[i] = copy;
    }
    Ok(())
}

/// One version row of `load_ecosystem`'s query (column 0 is the package name).
fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionFacts> {
    Ok(VersionFacts {
        version: r.get(1)?,
        published: r.get::<_, Option<i64>>(2)?.map(from_ns),
        publisher: r.get(3)?,
        provenance: r.get(4)?,
        install_scripts: pairs_column(text_at(r, 5)?),
        deprecated: r.get(6)?,
        deprecation_known: r.get(7)?,
        yanked: r.get(8)?,
        yank_known: r.get(9)?,
        dependencies: names_column(text_at(r, 10)?),
        maintainers: names_column(text_at(r, 11)?),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand reader agrees with serde_json on what it accepts, and declines the rest.
    #[test]
    fn plain_columns_read_as_serde_does() {
        let names: &[&[&str]] = &[&[], &["a"], &["dep-0", "@scope/x"], &["", "é", "a,b", "],[", "x\"y", "t\\u", "\n"]];
        for list in names {
            let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
            let text = to_json(Some(&list));
            assert_eq!(names_column(text.as_deref()), Some(list.clone()), "{text:?}");
            let escaped = list.iter().any(|s| s.contains(['"', '\\', '\n']));
            assert_eq!(plain_strings(text.as_deref().unwrap_or_default()).is_none(), escaped, "{text:?}");
        }
        let pairs: &[&[(&str, &str)]] =
            &[&[], &[("postinstall", "node x")], &[("a", ""), ("", "b\"],[\"c"), ("install", "é")]];
        for list in pairs {
            let list: Vec<(String, String)> = list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
            let text = to_json(Some(&list));
            assert_eq!(pairs_column(text.as_deref()), Some(list), "{text:?}");
        }
        for odd in [
            "[ ]",
            "[\"a\" ]",
            "[\"a\",]",
            "[\"a\"",
            "[\"a\"]]",
            "[[\"a\"]]",
            "[[\"a\",\"b\",\"c\"]]",
            "[\"a\"],",
            "",
            "null",
            "[1]",
        ] {
            let serde_names: Option<Vec<String>> = serde_json::from_str(odd).ok();
            assert_eq!(names_column(Some(odd)), serde_names, "{odd:?}");
            let serde_pairs: Option<Vec<(String, String)>> = serde_json::from_str(odd).ok();
            assert_eq!(pairs_column(Some(odd)), serde_pairs, "{odd:?}");
        }
        assert_eq!(names_column(None), None);
    }
}
