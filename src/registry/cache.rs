//! The registry metadata cache: one row per package in the database file (table
//! `registry_packages` of schema migrations 4 and 6 in `advisory::store`), its versions' compact
//! facts in one blob ([`packed`]), with the fetch time and the ETag / Last-Modified of the
//! document they came from, so a refresh is a conditional request. Credentials never reach it:
//! URLs are stored with their `user:password@` removed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use rusqlite::params;

use super::facts::{Blob, List, PackageFacts, ProjectStatus, VersionFacts};
use super::packed;
use crate::advisory::store::{Store, StoreError, from_ns, has_column, has_table, ns};
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

/// `names` as one JSON array, the parameter `json_each` reads.
fn json_array(names: &[&str]) -> rusqlite::Result<String> {
    serde_json::to_string(names).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// A JSON column of the per-version rows of schema 4 and 5 (`NULL`: unknown; text that does not
/// read: unknown too, as it was then).
fn json_column<T: serde::de::DeserializeOwned>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<T>> {
    Ok(r.get_ref(i)?.as_str_or_null()?.and_then(|text| serde_json::from_str(text).ok()))
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

/// What [`load_many`] found: per package, in the order given, its entry (`None`: not cached, or
/// its cached versions are damaged), and a message per damaged entry (not used: fetched again
/// online, not evaluated offline).
#[derive(Debug, Default)]
pub struct Loaded {
    pub entries: Vec<Option<CacheEntry>>,
    pub damaged: Vec<(Ecosystem, String)>,
}

/// Which tables and columns the file has: the per-package `versions` blob (schema 6), and the
/// per-version rows of schema 4 and 5 (until the first write converts them; a read-only file of
/// schema 5 keeps them).
#[derive(Debug, Clone, Copy)]
struct Layout {
    blobs: bool,
    rows: bool,
}

fn layout(conn: &rusqlite::Connection) -> rusqlite::Result<Layout> {
    Ok(Layout {
        blobs: has_column(conn, "registry_packages", "versions")?,
        rows: has_table(conn, "registry_versions")?,
    })
}

/// Cache entries read before the scan knows its packages ([`read_ahead`]): every package row
/// of the table, up to where it was stopped, by ecosystem and name; a damaged blob keeps why.
#[derive(Debug, Default)]
pub struct ReadAhead {
    entries: BTreeMap<Ecosystem, HashMap<String, Result<CacheEntry, String>>>,
    /// The whole table was read: a package not in `entries` is not cached.
    whole: bool,
}

impl ReadAhead {
    /// How many package rows were read.
    pub fn len(&self) -> usize {
        self.entries.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every row of the table was read.
    pub fn is_whole(&self) -> bool {
        self.whole
    }
}

/// Reads every package row of the cache in `db` (the file as it is now, read-only), until
/// `stop` is set: a scan does it while its walk and parse leave a core idle, before it knows
/// which packages it needs; [`load_many`] then takes what it needs from it and queries only the
/// rest. Nothing is read from a file that is missing, not ours, or whose versions are still in
/// the per-version rows of schema 5 (they are read by name as before); a file that cannot be
/// read gives nothing either (the read by name says what is wrong). Blobs are decoded once the
/// statement is done, as [`load_many`] does.
pub fn read_ahead(db: &std::path::Path, stop: &AtomicBool) -> ReadAhead {
    let stopped = || stop.load(Ordering::Relaxed);
    let Ok(mut store) = Store::open_read_only(db) else { return ReadAhead::default() };
    let conn = store.connection();
    let read = || -> rusqlite::Result<Option<ReadAhead>> {
        let layout = layout(conn)?;
        if !layout.blobs || layout.rows {
            return Ok(None);
        }
        let mut all = conn.prepare(&format!("SELECT ecosystem, {HEAD_COLUMNS}, versions FROM registry_packages"))?;
        let mut rows = all.query([])?;
        let mut read: Vec<(Ecosystem, String, CacheEntry, Option<Blob>)> = Vec::new();
        let mut whole = true;
        while let Some(r) = rows.next()? {
            if stopped() {
                whole = false;
                break;
            }
            let Some(eco) = Ecosystem::from_name(r.get_ref(0)?.as_str()?) else { continue };
            let name: String = r.get(1)?;
            let (entry, stored) = entry_row(r, 1, eco, PackageName::new(eco, &name))?;
            let blob = match stored {
                Stored::Blob(blob) => Some(blob),
                Stored::Rows | Stored::NotFound => None,
            };
            read.push((eco, name, entry, blob));
        }
        drop(rows);
        let mut ahead = ReadAhead { whole, ..ReadAhead::default() };
        for (eco, name, entry, blob) in read {
            if stopped() {
                ahead.whole = false;
                break;
            }
            let entry = match blob {
                Some(blob) => with_versions(entry, &blob),
                None => Ok(entry),
            };
            ahead.entries.entry(eco).or_default().insert(name, entry);
        }
        Ok(Some(ahead))
    };
    read().ok().flatten().unwrap_or_default()
}

/// Loads the cached entries of many packages, in the order given: first from what
/// [`read_ahead`] read (`ahead`, empty when nothing was), then per ecosystem one query for the
/// package rows not read ahead with their versions blob (the names passed as one JSON array,
/// `json_each`), so a warm cache costs one statement per ecosystem, not one per package, and an
/// ecosystem with nothing cached costs one index probe.
pub fn load_many(
    store: &mut Store,
    packages: &[(Ecosystem, PackageName)],
    ahead: ReadAhead,
) -> Result<Loaded, StoreError> {
    let mut loaded = Loaded { entries: vec![None; packages.len()], damaged: Vec::new() };
    let rest = take_ahead(packages, ahead, &mut loaded);
    let conn = store.connection();
    let result = (|| {
        let mut by_eco: BTreeMap<Ecosystem, Vec<usize>> = BTreeMap::new();
        for i in rest {
            by_eco.entry(packages[i].0).or_default().push(i);
        }
        let mut any = conn.prepare_cached("SELECT 1 FROM registry_packages WHERE ecosystem = ?1 LIMIT 1")?;
        let mut shape = None;
        for (eco, indexes) in by_eco {
            if !any.exists(params![eco.as_str()])? {
                continue;
            }
            let layout = match shape {
                Some(layout) => layout,
                None => *shape.insert(layout(conn)?),
            };
            load_ecosystem(conn, layout, eco, packages, &indexes, &mut loaded)?;
        }
        Ok(loaded)
    })();
    result.map_err(|e| store.error(e))
}

/// Moves the entries of `packages` that `ahead` holds into `loaded` (a repeated package gets a
/// copy); returns the indexes of those still to read: none when `ahead` read the whole table.
fn take_ahead(packages: &[(Ecosystem, PackageName)], mut ahead: ReadAhead, loaded: &mut Loaded) -> Vec<usize> {
    let mut rest = Vec::new();
    let mut first: HashMap<(Ecosystem, &str), usize> = HashMap::new();
    for (i, (eco, name)) in packages.iter().enumerate() {
        if let Some(&j) = first.get(&(*eco, name.as_str())) {
            // Read by name with the rest, or copied from the first now.
            if ahead.whole || loaded.entries[j].is_some() {
                let copy = loaded.entries[j].clone();
                loaded.entries[i] = copy;
            } else {
                rest.push(i);
            }
            continue;
        }
        first.insert((*eco, name.as_str()), i);
        match ahead.entries.get_mut(eco).and_then(|m| m.remove(name.as_str())) {
            // Its facts' name is the one asked for: the row's name matched it, and normalizing a
            // normalized name leaves it as it is.
            Some(Ok(entry)) => loaded.entries[i] = Some(entry),
            Some(Err(e)) => loaded.damaged.push((*eco, damaged(*eco, name, &e))),
            None if ahead.whole => {}
            None => rest.push(i),
        }
    }
    rest
}

/// `entry` with the versions its blob holds; what is wrong with the blob otherwise.
fn with_versions(mut entry: CacheEntry, blob: &Blob) -> Result<CacheEntry, String> {
    let versions = packed::decode_shared(blob)?;
    if let Some(facts) = entry.facts.as_mut() {
        facts.versions = versions;
    }
    Ok(entry)
}

fn damaged(eco: Ecosystem, name: &PackageName, error: &str) -> String {
    format!("{eco} {name}: the cached registry metadata is damaged ({error}): not used")
}

/// The columns of a package row, as [`entry_row`] reads them.
const HEAD_COLUMNS: &str =
    "name, registry, url, fetched_at, etag, last_modified, found, latest, status, status_message, maintainers";

/// Where the versions of a package row are.
enum Stored {
    /// In its blob.
    Blob(Blob),
    /// In the per-version rows of schema 5 (the row has no blob).
    Rows,
    /// Nowhere: the registry said it has no such package.
    NotFound,
}

/// The entry of one package row, its [`HEAD_COLUMNS`] from column `first` on, without its
/// versions, and where they are. The blob is column `first + 11` (`NULL` when selected from a
/// file of schema 5, which has no such column).
fn entry_row(
    r: &rusqlite::Row<'_>,
    first: usize,
    eco: Ecosystem,
    name: PackageName,
) -> rusqlite::Result<(CacheEntry, Stored)> {
    let column = |i: usize| first + i;
    let fetched_at = from_ns(r.get(column(3))?);
    let found: bool = r.get(column(6))?;
    let (facts, stored) = if found {
        let stored =
            r.get_ref(column(11))?.as_blob_or_null()?.map_or(Stored::Rows, |b| Stored::Blob(Arc::new(b.to_vec())));
        let facts = PackageFacts {
            ecosystem: eco,
            name,
            fetched_at,
            versions: Vec::new(),
            maintainers: json_column(r, column(10))?,
            status: status_from(r.get::<_, Option<String>>(column(8))?.as_deref(), r.get(column(9))?),
            latest: r.get(column(7))?,
            dropped_times: None,
        };
        (Some(facts), stored)
    } else {
        (None, Stored::NotFound)
    };
    let entry = CacheEntry {
        registry: r.get(column(1))?,
        url: r.get(column(2))?,
        fetched_at,
        etag: r.get(column(4))?,
        last_modified: r.get(column(5))?,
        facts,
    };
    Ok((entry, stored))
}

/// The cached entries of the packages at `indexes` (all of ecosystem `eco`) into `loaded`.
fn load_ecosystem(
    conn: &rusqlite::Connection,
    layout: Layout,
    eco: Ecosystem,
    packages: &[(Ecosystem, PackageName)],
    indexes: &[usize],
    loaded: &mut Loaded,
) -> rusqlite::Result<()> {
    let names: Vec<&str> = indexes.iter().map(|&i| packages[i].1.as_str()).collect();
    let names_json = json_array(&names)?;
    let mut at: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    let mut repeated = Vec::new();
    for (&name, &i) in names.iter().zip(indexes) {
        if let Some(&first) = at.get(name) {
            repeated.push((first, i));
        } else {
            at.insert(name, i);
        }
    }
    // A file of schema 5 opened read-only has no blob column: its versions are in rows.
    let versions = if layout.blobs { "versions" } else { "NULL" };
    let mut head = conn.prepare_cached(&format!(
        "SELECT {HEAD_COLUMNS}, {versions}
         FROM registry_packages WHERE ecosystem = ?1 AND name IN (SELECT value FROM json_each(?2))"
    ))?;
    let mut rows = head.query(params![eco.as_str(), names_json])?;
    // Found packages whose versions are still per-version rows (schema 5).
    let mut in_rows: Vec<&str> = Vec::new();
    let mut blobs: Vec<(usize, CacheEntry, Blob)> = Vec::new();
    while let Some(r) = rows.next()? {
        let name = r.get_ref(0)?.as_str()?;
        let Some(&i) = at.get(name) else { continue };
        // Blobs are decoded once the statement is done: decoded in between its page reads, the
        // facts fragment the heap (peak RSS of the warm-cache scan 70.1 MB, 63.4 MB after).
        let (entry, stored) = entry_row(r, 0, eco, packages[i].1.clone())?;
        match stored {
            Stored::Blob(blob) => blobs.push((i, entry, blob)),
            Stored::Rows => {
                in_rows.push(packages[i].1.as_str());
                loaded.entries[i] = Some(entry);
            }
            Stored::NotFound => loaded.entries[i] = Some(entry),
        }
    }
    drop(rows);
    for (i, entry, blob) in blobs {
        match with_versions(entry, &blob) {
            Ok(entry) => loaded.entries[i] = Some(entry),
            Err(e) => loaded.damaged.push((eco, damaged(eco, &packages[i].1, &e))),
        }
    }
    if layout.rows && !in_rows.is_empty() {
        load_rows(conn, eco, &in_rows, &at, &mut loaded.entries)?;
    }
    for (first, i) in repeated {
        let copy = loaded.entries[first].clone();
        loaded.entries[i] = copy;
    }
    Ok(())
}

/// The versions of `names` from the per-version rows of schema 4 and 5, in primary-key order.
fn load_rows(
    conn: &rusqlite::Connection,
    eco: Ecosystem,
    names: &[&str],
    at: &HashMap<&str, usize>,
    entries: &mut [Option<CacheEntry>],
) -> rusqlite::Result<()> {
    let names_json = json_array(names)?;
    let mut versions = conn.prepare_cached(&format!(
        "SELECT name, {VERSION_COLUMNS} FROM registry_versions
         WHERE ecosystem = ?1 AND name IN (SELECT value FROM json_each(?2)) ORDER BY name, version"
    ))?;
    let mut rows = versions.query(params![eco.as_str(), names_json])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(r.get_ref(0)?.as_str()?) else { continue };
        if let Some(facts) = entries[i].as_mut().and_then(|e| e.facts.as_mut()) {
            facts.versions.push(version_row(r, 1)?);
        }
    }
    Ok(())
}

/// The columns of a per-version row of schema 4 and 5, as [`version_row`] reads them.
const VERSION_COLUMNS: &str = "version, published, publisher, provenance, install_scripts, deprecated, \
                               deprecation_known, yanked, yank_known, dependencies, maintainers";

/// One per-version row of schema 4 and 5, its [`VERSION_COLUMNS`] from column `first` on.
fn version_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<VersionFacts> {
    Ok(VersionFacts {
        version: r.get(first)?,
        published: r.get::<_, Option<i64>>(first + 1)?.map(from_ns),
        publisher: r.get(first + 2)?,
        provenance: r.get(first + 3)?,
        install_scripts: json_column::<Vec<_>>(r, first + 4)?.map(List::from),
        deprecated: r.get(first + 5)?,
        deprecation_known: r.get(first + 6)?,
        yanked: r.get(first + 7)?,
        yank_known: r.get(first + 8)?,
        dependencies: json_column::<Vec<_>>(r, first + 9)?.map(List::from),
        maintainers: json_column::<Vec<_>>(r, first + 10)?.map(List::from),
    })
}

/// Moves the per-version rows of schema 4 and 5 into each package's `versions` blob and drops
/// their table (in the caller's transaction: all or nothing).
fn convert_rows(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    {
        let mut read = tx.prepare(&format!(
            "SELECT ecosystem, name, {VERSION_COLUMNS} FROM registry_versions ORDER BY ecosystem, name, version"
        ))?;
        let mut update = tx.prepare(
            "UPDATE registry_packages SET versions = ?3 WHERE ecosystem = ?1 AND name = ?2 AND versions IS NULL",
        )?;
        let mut rows = read.query([])?;
        let mut current: Option<(String, String, Vec<VersionFacts>)> = None;
        while let Some(r) = rows.next()? {
            let (eco, name) = (r.get_ref(0)?.as_str()?, r.get_ref(1)?.as_str()?);
            if current.as_ref().is_some_and(|(e, n, _)| (e.as_str(), n.as_str()) != (eco, name))
                && let Some((e, n, versions)) = current.take()
            {
                update.execute(params![e, n, packed::encode(&versions)])?;
            }
            let version = version_row(r, 2)?;
            match &mut current {
                Some((_, _, versions)) => versions.push(version),
                None => current = Some((eco.to_owned(), name.to_owned(), vec![version])),
            }
        }
        if let Some((e, n, versions)) = current {
            update.execute(params![e, n, packed::encode(&versions)])?;
        }
    }
    tx.execute_batch("DROP TABLE registry_versions")
}

/// What to write for one package after a fetch round.
pub enum Write<'a> {
    /// New facts (or "not found" with `facts: None`).
    Entry(&'a CacheEntry),
    /// A 304: only the fetch time moves.
    Touch(Timestamp),
}

/// Writes a fetch round in one transaction (converting per-version rows of schema 5 first).
pub fn write(store: &mut Store, writes: &[(Ecosystem, &PackageName, Write<'_>)]) -> Result<(), StoreError> {
    let conn = store.connection();
    let result = (|| {
        let tx = conn.transaction()?;
        if layout(&tx)?.rows {
            convert_rows(&tx)?;
        }
        {
            let mut head = tx.prepare_cached(
                "INSERT OR REPLACE INTO registry_packages
                 (ecosystem, name, registry, url, fetched_at, etag, last_modified, found, latest, status, status_message,
                  maintainers, versions)
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
                            facts.map(|f| packed::encode(&f.versions)),
                        ])?;
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

    fn entry(etag: &str) -> CacheEntry {
        CacheEntry {
            registry: "https://registry.example/".into(),
            url: "https://registry.example/x".into(),
            fetched_at: Timestamp::UNIX_EPOCH,
            etag: Some(etag.into()),
            last_modified: None,
            facts: None,
        }
    }

    fn etags(loaded: &Loaded) -> Vec<Option<&str>> {
        loaded.entries.iter().map(|e| e.as_ref().and_then(|e| e.etag.as_deref())).collect()
    }

    /// What was read ahead is used as read; the rest is read by name unless the whole table was
    /// read ahead; a damaged entry read ahead is said to be damaged, as one read by name is.
    #[test]
    fn load_many_takes_what_was_read_ahead_and_reads_the_rest() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&tmp.path().join("db.sqlite")).expect("store");
        let names = ["a", "b"].map(|n| (Ecosystem::Npm, PackageName::new(Ecosystem::Npm, n)));
        let (in_db_a, in_db_b) = (entry("db-a"), entry("db-b"));
        let writes = [
            (Ecosystem::Npm, &names[0].1, Write::Entry(&in_db_a)),
            (Ecosystem::Npm, &names[1].1, Write::Entry(&in_db_b)),
        ];
        write(&mut store, &writes).expect("written");
        let ahead = |whole: bool, a: Result<CacheEntry, String>| {
            let mut ahead = ReadAhead { whole, ..ReadAhead::default() };
            ahead.entries.entry(Ecosystem::Npm).or_default().insert("a".into(), a);
            ahead
        };
        let mut twice = names.to_vec();
        twice.push(names[0].clone());

        let partial = load_many(&mut store, &twice, ahead(false, Ok(entry("ahead-a")))).expect("loaded");
        assert_eq!(etags(&partial), [Some("ahead-a"), Some("db-b"), Some("ahead-a")]);
        let whole = load_many(&mut store, &twice, ahead(true, Ok(entry("ahead-a")))).expect("loaded");
        assert_eq!(etags(&whole), [Some("ahead-a"), None, Some("ahead-a")]);
        let damaged = load_many(&mut store, &names, ahead(false, Err("unknown flags".into()))).expect("loaded");
        assert_eq!(etags(&damaged), [None, Some("db-b")]);
        assert_eq!(
            damaged.damaged,
            [(Ecosystem::Npm, "npm a: the cached registry metadata is damaged (unknown flags): not used".to_owned())]
        );
        let none = load_many(&mut store, &names, ReadAhead::default()).expect("loaded");
        assert_eq!(etags(&none), [Some("db-a"), Some("db-b")]);
    }
}
