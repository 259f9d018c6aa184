//! The advisory database: one SQLite file (WAL) holding OSV records whole, an index of affected
//! packages keyed by (ecosystem, normalized name), and the sync state of each ecosystem.
//! Writers go through [`Ingest`], one transaction per sync, so a sync commits completely or not
//! at all; readers see the last committed snapshot.
//!
//! The file is marked as ours with `PRAGMA application_id` = [`APPLICATION_ID`] ("BGDB"); a
//! SQLite file of another application is refused, never written. Commands that only read open
//! the file read-only ([`Store::open_read_only`]), so a database in a read-only folder still
//! serves `db status`, `query` and scans. Every sync runs `PRAGMA quick_check` inside its
//! transaction before committing; a failed check (there or in `db status --check`) is recorded,
//! and readers refuse a database so marked ([`StoreError::FailedCheck`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::osv::{Advisory, Affected, Labels, Level, Severity, SeveritySource};
use crate::package::{Ecosystem, PackageName};

/// Bumped whenever the schema changes; `migrate` brings older files forward.
pub const SCHEMA_VERSION: i64 = 6;

/// `PRAGMA application_id` of a bundleguard database: the ASCII bytes "BGDB". Files made before
/// it was set (schema 1 and 2) get it on their next write.
pub const APPLICATION_ID: i32 = 0x4247_4442;

/// How long the `-wal` file may grow across local records before one empties it
/// ([`Store::checkpoint_if_over`]): SQLite's auto-checkpoint size (1,000 pages of 4 KiB).
pub const WAL_BOUND: u64 = 4 * 1024 * 1024;

/// How long a connection waits for another process's lock (a sync holding the file) before
/// failing with "database is locked".
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no advisory database at {0}: run `bundleguard sync` first")]
    Missing(PathBuf),
    #[error("advisory database {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error(
        "advisory database {path}: schema version {found} is newer than this bundleguard understands ({SCHEMA_VERSION}); upgrade bundleguard"
    )]
    TooNew { path: PathBuf, found: i64 },
    #[error("cannot create the folder for {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("advisory database {path}: corrupt index entry for {id}: {detail}")]
    CorruptEntry { path: PathBuf, id: String, detail: String },
    #[error("--db {}: is {kind}, not an advisory database file", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{}: not a bundleguard database ({detail}); refusing to touch it: pass another --db", path.display())]
    Foreign { path: PathBuf, detail: String },
    #[error("advisory database {}: holds no bundleguard tables yet: run `bundleguard sync` first", .0.display())]
    Empty(PathBuf),
    #[error(
        "advisory database {}: failed its integrity check ({detail}); delete it and run `bundleguard sync`",
        path.display()
    )]
    FailedCheck { path: PathBuf, detail: String },
}

impl StoreError {
    /// Whether this says the file cannot be written (read-only file, folder or file system).
    fn is_read_only(&self) -> bool {
        use rusqlite::ErrorCode::{CannotOpen, PermissionDenied, ReadOnly};
        matches!(self, StoreError::Sqlite { source: rusqlite::Error::SqliteFailure(e, _), .. }
            if matches!(e.code, ReadOnly | CannotOpen | PermissionDenied))
    }
}

/// What a SQLite file is, from its header and tables.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// Carries our application id.
    Ours,
    /// Our tables, made before the id was set.
    OldOurs,
    /// No tables at all (a new or zero-byte file).
    Fresh,
    Foreign(String),
}

/// What an integrity check found: nothing when the database is sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn summary(&self) -> String {
        let mut text = self.problems.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
        if self.problems.len() > 3 {
            use std::fmt::Write as _;
            let _ = write!(text, "; and {} more", self.problems.len() - 3);
        }
        text
    }
}

/// Where the database lives when neither `--db` nor `BUNDLEGUARD_DB` says: the user's cache dir.
pub fn default_path() -> PathBuf {
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("bundleguard").join("advisories.db")
}

/// Per-ecosystem sync bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    pub source: String,
    pub csv_etag: Option<String>,
    pub zip_etag: Option<String>,
    pub synced_at: Option<Timestamp>,
    pub malformed: i64,
}

/// One line of `db status`.
#[derive(Debug, Clone, PartialEq)]
pub struct EcosystemStatus {
    pub ecosystem: Ecosystem,
    pub advisories: i64,
    pub withdrawn: i64,
    pub newest_modified: Option<Timestamp>,
    pub synced_at: Option<Timestamp>,
    pub source: Option<String>,
    pub malformed: i64,
}

/// What the matcher needs of a matched advisory (not its whole text).
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryMeta {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    pub modified: Timestamp,
    pub withdrawn: bool,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Whether the `advisories` table has the labels columns (schema 5); a read-only older file
    /// has not, and its labels are read from the raw records.
    labelled: bool,
}

pub(crate) fn ns(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(if t.as_second() < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn from_ns(v: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(v)).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Store {
    /// Opens (creating if needed) the database for writing, migrating an older schema. A file
    /// of another application is refused before anything is written to it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if regular_file(path)? {
            let conn = Connection::open(path).map_err(|source| StoreError::Sqlite { path: path.to_owned(), source })?;
            return Store::writable(conn, path);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs_err::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: path.to_owned(), source })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite { path: path.to_owned(), source })?;
        Store::writable(conn, path)
    }

    /// Opens an existing database; a missing file is [`StoreError::Missing`], not a new empty DB.
    /// Read-write when the file and its folder allow it, else read-only ([`Store::open_read_only`]).
    /// Refuses a database whose last integrity check failed.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open_for_check(path)?;
        store.refuse_if_failed()?;
        Ok(store)
    }

    /// [`Store::open_existing`] that opens a database whose last check failed (for
    /// `db status --check`, which checks it again and records the new result).
    pub fn open_for_check(path: &Path) -> Result<Store, StoreError> {
        if !regular_file(path)? {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened = Connection::open_with_flags(path, flags)
            .map_err(|source| StoreError::Sqlite { path: path.to_owned(), source })
            .and_then(|conn| {
                if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
                    return Err(StoreError::Sqlite {
                        path: path.to_owned(),
                        source: rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                            None,
                        ),
                    });
                }
                Store::writable(conn, path)
            });
        match opened {
            Err(e) if e.is_read_only() => Store::open_to_inspect(path),
            other => other,
        }
    }

    /// Opens an existing database for reading only: never writes, never migrates. In a
    /// read-only folder, where SQLite cannot create the WAL index, it falls back to an
    /// `immutable=1` URI (safe there: no writer can be changing the file). Refuses a foreign or
    /// empty file and a database whose last integrity check failed.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open_to_inspect(path)?;
        store.refuse_if_failed()?;
        Ok(store)
    }

    /// [`Store::open_read_only`] that does not refuse a database that failed its integrity
    /// check (for `db status`, which shows it).
    pub fn open_to_inspect(path: &Path) -> Result<Store, StoreError> {
        if !regular_file(path)? {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let sqlite = |source| StoreError::Sqlite { path: path.to_owned(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
        let conn = match conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0)) {
            Ok(_) => conn,
            Err(first) => {
                let immutable = Connection::open_with_flags(immutable_uri(path), flags).map_err(sqlite)?;
                immutable
                    .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))
                    .map_err(|_| sqlite(first))?;
                immutable
            }
        };
        let mut store = Store { conn, path: path.to_owned(), labelled: false };
        store.sql(store.conn.busy_timeout(BUSY_TIMEOUT))?;
        match store.identity()? {
            Identity::Ours | Identity::OldOurs => {}
            Identity::Fresh => return Err(StoreError::Empty(path.to_owned())),
            Identity::Foreign(detail) => return Err(StoreError::Foreign { path: path.to_owned(), detail }),
        }
        let version = store.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: path.to_owned(), found: version });
        }
        store.labelled = version >= 5;
        Ok(store)
    }

    /// Whether this store was opened read-only (writes will fail).
    pub fn is_read_only(&self) -> bool {
        self.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true)
    }

    fn writable(conn: Connection, path: &Path) -> Result<Store, StoreError> {
        let mut store = Store { conn, path: path.to_owned(), labelled: false };
        // Before the first read: a sync may hold the file (racing scans never see "locked").
        store.sql(store.conn.busy_timeout(BUSY_TIMEOUT))?;
        let identity = store.identity()?;
        if let Identity::Foreign(detail) = identity {
            return Err(StoreError::Foreign { path: path.to_owned(), detail });
        }
        store.configure()?;
        store.migrate()?;
        store.labelled = true;
        if identity != Identity::Ours {
            let r = store.conn.pragma_update(None, "application_id", APPLICATION_ID);
            store.sql(r)?;
        }
        Ok(store)
    }

    /// Ours, old ours, new, or another application's, from the header and the table names.
    fn identity(&self) -> Result<Identity, StoreError> {
        let id: i32 = self.sql(self.conn.query_row("PRAGMA application_id", [], |row| row.get(0)))?;
        if id == APPLICATION_ID {
            return Ok(Identity::Ours);
        }
        if id != 0 {
            return Ok(Identity::Foreign(format!(
                "its application_id is {id:#010x}, bundleguard's is {APPLICATION_ID:#010x}"
            )));
        }
        let mut stmt = self.sql(self.conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        ))?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0));
        let tables: Vec<String> = self.sql(rows.and_then(Iterator::collect))?;
        if tables.is_empty() {
            return Ok(Identity::Fresh);
        }
        if ["advisories", "memberships", "sync_state"].iter().all(|t| tables.iter().any(|n| n == t)) {
            return Ok(Identity::OldOurs);
        }
        let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        Ok(Identity::Foreign(format!("it holds tables of another application: {}", shown.join(", "))))
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        self.sql(self.conn.query_row("PRAGMA user_version", [], |row| row.get(0)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for the tables other modules keep in this file: the inventory
    /// (`inventory::sqlite`) and the registry metadata cache (`registry::cache`, migration 4).
    pub(crate) fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Caps the memory of this connection's page cache (`PRAGMA cache_size`, negative: KiB).
    pub fn limit_page_cache(&self, kib: u32) -> Result<(), StoreError> {
        self.sql(self.conn.pragma_update(None, "cache_size", -i64::from(kib)))
    }

    /// The connection, read-only use.
    pub(crate) fn connection_ref(&self) -> &Connection {
        &self.conn
    }

    /// Wraps a SQLite error with this database's path.
    pub(crate) fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    fn sql<T>(&self, r: rusqlite::Result<T>) -> Result<T, StoreError> {
        r.map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })
    }

    /// WAL mode with `synchronous = NORMAL` (a commit is atomic and consistent at once, durable
    /// at the next checkpoint), and no checkpoint when the connection closes: a scan that records
    /// appends to the `-wal` file and leaves it there, instead of paying two fsyncs, a directory
    /// fsync and an unlink on every run (issue 15, docs/ARCHITECTURE.md "The database"). The jobs
    /// that must leave a durable, self-contained file call [`Store::checkpoint`]: `sync` and
    /// deploy records; a local record that leaves the `-wal` over [`WAL_BOUND`] empties it
    /// ([`Store::checkpoint_if_over`]).
    fn configure(&mut self) -> Result<(), StoreError> {
        let r = self.conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        );
        self.sql(r)?;
        let r = self.conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        self.sql(r).map(drop)
    }

    /// Copies every committed page of the `-wal` file into the database file, fsyncs both and
    /// truncates the `-wal` to zero bytes (`PRAGMA wal_checkpoint(TRUNCATE)`): afterwards the
    /// database file alone holds everything (it can be copied or cached by itself, or read from
    /// a read-only medium), and is durable against power loss. Readers in other processes are
    /// waited for (busy timeout); if one still holds an old snapshot the checkpoint is partial
    /// and returns `false` (nothing is lost: the rest stays in the `-wal` for the next one).
    pub fn checkpoint(&self) -> Result<bool, StoreError> {
        let r = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0));
        self.sql(r).map(|busy| busy == 0)
    }

    /// [`Store::checkpoint`] when the `-wal` file has grown past `bound` bytes, without waiting
    /// for readers in other processes (a checkpoint one of them blocks is left for a later call;
    /// `false`). `true`: the `-wal` is empty now. SQLite's auto-checkpoint copies the pages into
    /// the database file but leaves the `-wal` as long as it is, and here it never starts it over
    /// (every scan that records appended to it, about 190 KB for 500 functions, until `sync`: scans
    /// slowed as it grew, 150 to 214 ms after a few hundred records).
    pub fn checkpoint_if_over(&self, bound: u64) -> Result<bool, StoreError> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        if std::fs::metadata(&wal).map_or(0, |m| m.len()) <= bound {
            return Ok(false);
        }
        self.sql(self.conn.busy_timeout(std::time::Duration::ZERO))?;
        let done = self.checkpoint();
        self.sql(self.conn.busy_timeout(BUSY_TIMEOUT))?;
        done
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version = self.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: self.path.clone(), found: version });
        }
        for (target, migration) in [(1, MIGRATION_1), (2, MIGRATION_2), (3, MIGRATION_3), (4, MIGRATION_4)] {
            if version < target {
                let r = self.conn.execute_batch(migration);
                self.sql(r)?;
            }
        }
        for (target, step) in [(5, migrate_5 as fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>), (6, migrate_6)]
        {
            if version < target {
                let r = migrate_in_one(&mut self.conn, target, step);
                self.sql(r)?;
            }
        }
        Ok(())
    }

    /// The sync state of one ecosystem, if it was ever synced.
    pub fn sync_state(&self, eco: Ecosystem) -> Result<Option<SyncState>, StoreError> {
        let r = self
            .conn
            .query_row(
                "SELECT source, csv_etag, zip_etag, synced_at, malformed FROM sync_state WHERE ecosystem = ?1",
                [eco.as_str()],
                |row| {
                    Ok(SyncState {
                        source: row.get(0)?,
                        csv_etag: row.get(1)?,
                        zip_etag: row.get(2)?,
                        synced_at: row.get::<_, Option<i64>>(3)?.map(from_ns),
                        malformed: row.get(4)?,
                    })
                },
            )
            .optional();
        self.sql(r)
    }

    /// `id -> modified` of every record the ecosystem's folder held at the last sync.
    pub fn known_records(&self, eco: Ecosystem) -> Result<HashMap<String, Timestamp>, StoreError> {
        let mut stmt = self.sql(self.conn.prepare_cached(
            "SELECT a.id, a.modified FROM memberships m JOIN advisories a ON a.id = m.id WHERE m.ecosystem = ?1",
        ))?;
        let rows = stmt.query_map([eco.as_str()], |row| Ok((row.get::<_, String>(0)?, from_ns(row.get(1)?))));
        let rows = rows.and_then(Iterator::collect::<rusqlite::Result<HashMap<_, _>>>);
        rows.map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })
    }

    /// How many records the ecosystem's folder held at the last sync.
    pub fn record_count(&self, eco: Ecosystem) -> Result<usize, StoreError> {
        let r = self.conn.query_row("SELECT count(*) FROM memberships WHERE ecosystem = ?1", [eco.as_str()], |row| {
            row.get::<_, i64>(0)
        });
        Ok(usize::try_from(self.sql(r)?).unwrap_or(0))
    }

    /// Counts, newest `modified` and last sync per ecosystem (all four, synced or not).
    pub fn status(&self) -> Result<Vec<EcosystemStatus>, StoreError> {
        let mut out = Vec::new();
        for eco in Ecosystem::ALL {
            let counts = self.conn.query_row(
                "SELECT count(*), count(a.withdrawn), max(a.modified) FROM memberships m
                 JOIN advisories a ON a.id = m.id WHERE m.ecosystem = ?1",
                [eco.as_str()],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, Option<i64>>(2)?)),
            );
            let (advisories, withdrawn, newest) = self.sql(counts)?;
            let state = self.sync_state(eco)?;
            out.push(EcosystemStatus {
                ecosystem: eco,
                advisories,
                withdrawn,
                newest_modified: newest.map(from_ns),
                synced_at: state.as_ref().and_then(|s| s.synced_at),
                source: state.as_ref().map(|s| s.source.clone()),
                malformed: state.map_or(0, |s| s.malformed),
            });
        }
        Ok(out)
    }

    /// Every affected entry that names `(eco, name)`, with the id of its advisory; withdrawn
    /// records are left out (they never match).
    pub fn candidates(&self, eco: Ecosystem, name: &PackageName) -> Result<Vec<(String, Affected)>, StoreError> {
        Ok(self.candidates_of(eco, &[name])?.into_iter().map(|(_, id, affected)| (id, affected)).collect())
    }

    /// [`Store::candidates`] of many names of one ecosystem in one statement (the names bound
    /// as one JSON array, joined against the index): the entries of each name in the order
    /// `candidates` gives them, names in the order given. Each row is `(index in names, advisory
    /// id, entry)`.
    pub fn candidates_of(
        &self,
        eco: Ecosystem,
        names: &[&PackageName],
    ) -> Result<Vec<(usize, String, Affected)>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(&names.iter().map(|n| n.as_str()).collect::<Vec<_>>()).map_err(|e| {
            StoreError::CorruptEntry { path: self.path.clone(), id: String::new(), detail: e.to_string() }
        })?;
        // `CROSS JOIN` keeps the list as the outer loop: one seek of the index per name.
        let mut stmt = self.sql(self.conn.prepare_cached(
            "SELECT j.key, a.advisory_id, a.entry FROM json_each(?2) AS j CROSS JOIN affected AS a
             WHERE a.ecosystem = ?1 AND a.name = j.value AND a.withdrawn = 0
             ORDER BY j.key, a.advisory_id, a.position",
        ))?;
        let rows = stmt.query_map(params![eco.as_str(), list], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
        });
        let rows = self.sql(rows.and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>))?;
        rows.into_iter()
            .map(|(at, id, entry)| {
                let at = usize::try_from(at).ok().filter(|&at| at < names.len()).ok_or_else(|| {
                    StoreError::CorruptEntry {
                        path: self.path.clone(),
                        id: id.clone(),
                        detail: format!("no name at {at}"),
                    }
                })?;
                let mut affected: Affected = serde_json::from_str(&entry).map_err(|e| StoreError::CorruptEntry {
                    path: self.path.clone(),
                    id: id.clone(),
                    detail: e.to_string(),
                })?;
                affected.ecosystem = Some(eco);
                names[at].as_str().clone_into(&mut affected.name);
                Ok((at, id, affected))
            })
            .collect()
    }

    /// The metadata of one advisory, if present.
    pub fn meta(&self, id: &str) -> Result<Option<AdvisoryMeta>, StoreError> {
        let mut stmt = self.sql(self.conn.prepare_cached(
            "SELECT id, aliases, summary, severity_level, severity_score, severity_source, modified, withdrawn
             FROM advisories WHERE id = ?1",
        ))?;
        let r = stmt
            .query_row([id], |row| {
                let aliases: String = row.get(1)?;
                let level: Option<String> = row.get(3)?;
                let source: String = row.get(5)?;
                Ok(AdvisoryMeta {
                    id: row.get(0)?,
                    aliases: serde_json::from_str(&aliases).unwrap_or_default(),
                    summary: row.get(2)?,
                    severity: Severity {
                        level: level.as_deref().and_then(Level::from_label),
                        score: row.get(4)?,
                        source: SeveritySource::from_name(&source),
                    },
                    modified: from_ns(row.get(6)?),
                    withdrawn: row.get::<_, Option<i64>>(7)?.is_some(),
                })
            })
            .optional();
        self.sql(r)
    }

    /// The stored OSV JSON of one advisory.
    pub fn raw(&self, id: &str) -> Result<Option<String>, StoreError> {
        let r = self.conn.query_row("SELECT raw FROM advisories WHERE id = ?1", [id], |row| row.get(0)).optional();
        self.sql(r)
    }

    /// The labels of one advisory (CWE ids, RustSec informational kind), if present: from the
    /// columns filled at ingest, or, in a read-only database of an older schema, from its raw
    /// record (a record that does not parse has none, as at ingest).
    pub fn labels(&self, id: &str) -> Result<Option<Labels>, StoreError> {
        if !self.labelled {
            let raw = self.raw(id)?;
            return Ok(raw.map(|raw| labels_of_raw(&raw)));
        }
        let mut stmt =
            self.sql(self.conn.prepare_cached("SELECT cwe_ids, informational FROM advisories WHERE id = ?1"))?;
        let r = stmt
            .query_row([id], |row| {
                let cwe_ids: String = row.get(0)?;
                Ok(Labels { cwe_ids: serde_json::from_str(&cwe_ids).unwrap_or_default(), informational: row.get(1)? })
            })
            .optional();
        self.sql(r)
    }

    /// Runs `PRAGMA quick_check` (or the full `integrity_check`) and records the result, when
    /// the file is writable, so that readers refuse a database that failed.
    pub fn check(&mut self, full: bool) -> Result<CheckReport, StoreError> {
        let report =
            run_check(&self.conn, full).map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })?;
        if !self.is_read_only() {
            let recorded = self.record_check(&report);
            // A damaged file may refuse the record too; the failure is still reported.
            if report.ok() {
                recorded?;
            }
        }
        Ok(report)
    }

    /// Records the outcome of a check (also after a sync's check failed and was rolled back).
    pub fn record_check(&mut self, report: &CheckReport) -> Result<(), StoreError> {
        let value = if report.ok() { "ok".to_owned() } else { format!("failed: {}", report.summary()) };
        let r = self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('integrity', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [value],
        );
        self.sql(r).map(drop)
    }

    /// The recorded outcome of the last check: `None` when never checked or sound.
    pub fn recorded_failure(&self) -> Result<Option<String>, StoreError> {
        if !self.sql(has_table(&self.conn, "meta"))? {
            return Ok(None);
        }
        let r =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'integrity'", [], |row| row.get::<_, String>(0));
        let value = self.sql(r.optional())?;
        Ok(value.and_then(|v| v.strip_prefix("failed: ").map(str::to_owned)))
    }

    /// [`StoreError::FailedCheck`] when the last check failed.
    pub fn refuse_if_failed(&self) -> Result<(), StoreError> {
        match self.recorded_failure()? {
            Some(detail) => Err(StoreError::FailedCheck { path: self.path.clone(), detail }),
            None => Ok(()),
        }
    }

    /// Starts the one write transaction of a sync.
    pub fn ingest(&mut self) -> Result<Ingest<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|source| StoreError::Sqlite { path: path.clone(), source })?;
        Ok(Ingest { tx, path, may_orphan: false })
    }
}

/// A sync in progress: nothing is visible to readers until [`Ingest::commit`]; dropping it (or
/// the process dying) leaves the database as it was.
pub struct Ingest<'a> {
    tx: rusqlite::Transaction<'a>,
    path: PathBuf,
    /// Set when memberships were dropped, so records may be left in no folder.
    may_orphan: bool,
}

impl Ingest<'_> {
    fn sql<T>(&self, r: rusqlite::Result<T>) -> Result<T, StoreError> {
        r.map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })
    }

    /// Forgets which records the ecosystem's folder holds, before a full replacement.
    pub fn clear_ecosystem(&mut self, eco: Ecosystem) -> Result<(), StoreError> {
        self.may_orphan = true;
        let r = self.tx.execute("DELETE FROM memberships WHERE ecosystem = ?1", [eco.as_str()]);
        self.sql(r).map(drop)
    }

    /// Inserts or replaces one record, found in `eco`'s folder.
    pub fn upsert(&mut self, eco: Ecosystem, advisory: &Advisory, raw: &str) -> Result<(), StoreError> {
        let aliases = serde_json::to_string(&advisory.aliases).unwrap_or_else(|_| "[]".into());
        let sev = advisory.severity;
        let r = self.tx.prepare_cached(
            "INSERT INTO advisories (id, modified, published, withdrawn, summary, aliases,
                                     severity_level, severity_score, severity_source, raw, cwe_ids, informational)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT(id) DO UPDATE SET modified = excluded.modified, published = excluded.published,
               withdrawn = excluded.withdrawn, summary = excluded.summary, aliases = excluded.aliases,
               severity_level = excluded.severity_level, severity_score = excluded.severity_score,
               severity_source = excluded.severity_source, raw = excluded.raw, cwe_ids = excluded.cwe_ids,
               informational = excluded.informational",
        );
        let mut stmt = self.sql(r)?;
        let r = stmt.execute(params![
            advisory.id,
            ns(advisory.modified),
            advisory.published.map(ns),
            advisory.withdrawn.map(ns),
            advisory.summary,
            aliases,
            sev.level.map(Level::as_str),
            sev.score,
            sev.source.as_str(),
            raw,
            cwe_ids_json(&advisory.labels),
            advisory.labels.informational,
        ]);
        self.sql(r)?;
        drop(stmt);
        let r = self.tx.execute("DELETE FROM affected WHERE advisory_id = ?1", [&advisory.id]);
        self.sql(r)?;
        self.index_affected(advisory)?;
        let r = self.tx.execute(
            "INSERT OR IGNORE INTO memberships (ecosystem, id) VALUES (?1, ?2)",
            params![eco.as_str(), advisory.id],
        );
        self.sql(r).map(drop)
    }

    fn index_affected(&mut self, advisory: &Advisory) -> Result<(), StoreError> {
        let r = self.tx.prepare_cached(
            "INSERT INTO affected (ecosystem, name, advisory_id, position, withdrawn, entry)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        );
        let mut stmt = self.sql(r)?;
        let withdrawn = advisory.withdrawn.is_some();
        for (position, affected) in (0i64..).zip(&advisory.affected) {
            let (Some(eco), Some(name)) = (affected.ecosystem, affected.package_name()) else {
                continue;
            };
            let entry = serde_json::to_string(affected).unwrap_or_else(|_| "{}".into());
            let r = stmt.execute(params![eco.as_str(), name.as_str(), advisory.id, position, withdrawn, entry]);
            r.map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })?;
        }
        Ok(())
    }

    /// Removes a record from the ecosystem's folder (the bucket no longer lists it).
    pub fn remove(&mut self, eco: Ecosystem, id: &str) -> Result<(), StoreError> {
        self.may_orphan = true;
        let r = self.tx.execute("DELETE FROM memberships WHERE ecosystem = ?1 AND id = ?2", params![eco.as_str(), id]);
        self.sql(r).map(drop)
    }

    pub fn set_state(&mut self, eco: Ecosystem, state: &SyncState) -> Result<(), StoreError> {
        let r = self.tx.execute(
            "INSERT INTO sync_state (ecosystem, source, csv_etag, zip_etag, synced_at, malformed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(ecosystem) DO UPDATE SET source = excluded.source, csv_etag = excluded.csv_etag,
               zip_etag = excluded.zip_etag, synced_at = excluded.synced_at, malformed = excluded.malformed",
            params![
                eco.as_str(),
                state.source,
                state.csv_etag,
                state.zip_etag,
                state.synced_at.map(ns),
                state.malformed
            ],
        );
        self.sql(r).map(drop)
    }

    /// Drops records no ecosystem folder lists any more, runs `PRAGMA quick_check` on the
    /// result, then commits everything at once. A failed check rolls everything back and is
    /// [`StoreError::FailedCheck`] (the caller records it with [`Store::record_check`]).
    pub fn commit(self) -> Result<(), StoreError> {
        if self.may_orphan {
            let r = self.tx.execute_batch(
                "DELETE FROM affected WHERE advisory_id NOT IN (SELECT id FROM memberships);
                 DELETE FROM advisories WHERE id NOT IN (SELECT id FROM memberships);",
            );
            self.sql(r)?;
        }
        let report = self.sql(run_check(&self.tx, false))?;
        if !report.ok() {
            return Err(StoreError::FailedCheck { path: self.path, detail: report.summary() });
        }
        let r = self.tx.execute(
            "INSERT INTO meta (key, value) VALUES ('integrity', 'ok') ON CONFLICT(key) DO UPDATE SET value = 'ok'",
            [],
        );
        self.sql(r)?;
        let path = self.path;
        self.tx.commit().map_err(|source| StoreError::Sqlite { path, source })
    }
}

const MIGRATION_1: &str = "
BEGIN;
CREATE TABLE advisories (
    id TEXT PRIMARY KEY NOT NULL,
    modified INTEGER NOT NULL,          -- nanoseconds since the Unix epoch
    published INTEGER,
    withdrawn INTEGER,
    summary TEXT NOT NULL,
    aliases TEXT NOT NULL,              -- JSON array of ids
    severity_level TEXT,                -- low | medium | high | critical | NULL (unknown)
    severity_score REAL,
    severity_source TEXT NOT NULL,
    raw TEXT NOT NULL                   -- the OSV record as downloaded
);
CREATE TABLE memberships (              -- which bucket folder lists which record
    ecosystem TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (ecosystem, id)
) WITHOUT ROWID;
CREATE TABLE affected (                 -- one row per affected[] entry of a scanned ecosystem
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,                 -- normalized package name
    advisory_id TEXT NOT NULL,
    position INTEGER NOT NULL,          -- index in the record's affected[] list
    withdrawn INTEGER NOT NULL,         -- copied from the record: withdrawn entries never match
    entry TEXT NOT NULL,                -- compact JSON of its ranges and versions
    PRIMARY KEY (ecosystem, name, advisory_id, position)
) WITHOUT ROWID;                        -- clustered by package: one seek per lookup
CREATE INDEX affected_by_advisory ON affected (advisory_id);
CREATE TABLE sync_state (
    ecosystem TEXT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    csv_etag TEXT,
    zip_etag TEXT,
    synced_at INTEGER,
    malformed INTEGER NOT NULL DEFAULT 0
);
PRAGMA user_version = 1;
COMMIT;
";

/// Version 2: the inventory of scanned bundles, so a later sync can tell which of them new
/// advisories hit.
const MIGRATION_2: &str = "
BEGIN;
CREATE TABLE inventory_bundles (
    key TEXT PRIMARY KEY NOT NULL,      -- canonical path of the lockfile (or artifact)
    name TEXT NOT NULL,
    path TEXT NOT NULL,                 -- as the scan showed it
    scanned_at INTEGER NOT NULL
);
CREATE TABLE inventory_packages (
    bundle TEXT NOT NULL REFERENCES inventory_bundles (key) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (bundle, ecosystem, name, version)
) WITHOUT ROWID;
CREATE TABLE inventory_findings (       -- what affected each package when last checked
    bundle TEXT NOT NULL REFERENCES inventory_bundles (key) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    advisory_id TEXT NOT NULL,          -- the finding's id; aliases are kept with it
    aliases TEXT NOT NULL,              -- JSON array
    PRIMARY KEY (bundle, ecosystem, name, version, advisory_id)
) WITHOUT ROWID;
PRAGMA user_version = 2;
COMMIT;
";

/// Version 3: a key-value table for facts about the file itself (the last integrity check).
const MIGRATION_3: &str = "
BEGIN;
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL                 -- integrity: ok | failed: <what the check said>
);
PRAGMA user_version = 3;
COMMIT;
";

/// Whether `path` is an existing regular file; `Err` for a directory, FIFO or device.
fn regular_file(path: &Path) -> Result<bool, StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(StoreError::NotAFile { path: path.to_owned(), kind: super::sync::file_kind(&meta) }),
        Err(_) => Ok(false),
    }
}

/// `file:<absolute path>?immutable=1`, percent-encoded as SQLite's URI rules want.
fn immutable_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut uri = String::from("file:");
    for b in absolute.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => uri.push(char::from(*b)),
            _ => {
                use std::fmt::Write as _;
                let _ = write!(uri, "%{b:02X}");
            }
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// `PRAGMA quick_check` (or `integrity_check` when `full`): the problems it lists.
fn run_check(conn: &Connection, full: bool) -> rusqlite::Result<CheckReport> {
    let run = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(if full { "PRAGMA integrity_check" } else { "PRAGMA quick_check" })?;
        stmt.query_map([], |row| row.get(0))?.collect()
    };
    let rows = match run() {
        Ok(rows) => rows,
        // SQLite stops the check itself on some damage: that is a failed check, not an error.
        Err(rusqlite::Error::SqliteFailure(e, message))
            if matches!(e.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) =>
        {
            vec![message.unwrap_or_else(|| e.to_string())]
        }
        Err(e) => return Err(e),
    };
    let problems = if rows.len() == 1 && rows[0] == "ok" { Vec::new() } else { rows };
    Ok(CheckReport { problems })
}

/// Version 4: the registry metadata cache (`registry::cache`): compact per-version facts, with the
/// fetch time and the HTTP validators of the document they came from. Never holds credentials.
const MIGRATION_4: &str = "
BEGIN;
CREATE TABLE IF NOT EXISTS registry_packages (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,                 -- normalized package name
    registry TEXT NOT NULL,             -- the configured registry (credentials removed)
    url TEXT NOT NULL,                  -- the document the validators belong to (credentials removed)
    fetched_at INTEGER NOT NULL,        -- nanoseconds since the Unix epoch
    etag TEXT,
    last_modified TEXT,
    found INTEGER NOT NULL,             -- 0: the registry does not have the package
    latest TEXT,
    status TEXT,                        -- active | archived | deprecated | quarantined | NULL (unknown)
    status_message TEXT,
    maintainers TEXT,                   -- JSON array, NULL: unknown
    PRIMARY KEY (ecosystem, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registry_versions (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    published INTEGER,
    publisher TEXT,
    provenance INTEGER,
    install_scripts TEXT,               -- JSON [[name, command]], NULL: unknown
    deprecated TEXT,
    deprecation_known INTEGER NOT NULL,
    yanked TEXT,
    yank_known INTEGER NOT NULL,
    dependencies TEXT,                  -- JSON array, NULL: unknown
    maintainers TEXT,                   -- JSON array, NULL: unknown
    PRIMARY KEY (ecosystem, name, version),
    FOREIGN KEY (ecosystem, name) REFERENCES registry_packages (ecosystem, name) ON DELETE CASCADE
) WITHOUT ROWID;
PRAGMA user_version = 4;
COMMIT;
";

/// Runs migration `step` to schema `target` in one immediate transaction that checks the version
/// again, so two processes opening an older file at once migrate it once.
fn migrate_in_one(
    conn: &mut Connection,
    target: i64,
    step: fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version >= target {
        return tx.commit();
    }
    step(&tx)?;
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()
}

/// Whether the file has the table `name` (the modules that keep tables in it ask before a
/// migration has run, or of a read-only file of an older schema).
pub(crate) fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |row| {
        row.get(0)
    })
}

/// Whether `table` has `column`.
pub(crate) fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2", [table, column], |row| row.get(0))
}

/// Version 5: the labels of each record (`cwe_ids`, RustSec `informational`), kept at ingest so
/// that a scan reads two short columns instead of parsing the raw record of every matched
/// advisory. Records already stored are labelled here, once, from their raw JSON.
fn migrate_5(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    if !has_column(tx, "advisories", "cwe_ids")? {
        tx.execute_batch("ALTER TABLE advisories ADD COLUMN cwe_ids TEXT NOT NULL DEFAULT '[]'; -- JSON array")?;
    }
    if !has_column(tx, "advisories", "informational")? {
        tx.execute_batch(
            "ALTER TABLE advisories ADD COLUMN informational TEXT; -- RustSec: unmaintained | unsound | notice",
        )?;
    }
    // Only records that can carry a label need parsing.
    let mut read = tx
        .prepare("SELECT id, raw FROM advisories WHERE instr(raw, 'cwe_ids') > 0 OR instr(raw, 'informational') > 0")?;
    let mut write = tx.prepare("UPDATE advisories SET cwe_ids = ?2, informational = ?3 WHERE id = ?1")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let labels = labels_of_raw(&row.get::<_, String>(1)?);
        if labels != Labels::default() {
            write.execute(params![id, cwe_ids_json(&labels), labels.informational])?;
        }
    }
    Ok(())
}

/// Version 6: each package's version facts in one blob (`registry_packages.versions`, written and
/// read by `registry::cache`), instead of a row per version: a warm cache reads one row per
/// package. The per-version rows of a file of version 5 stay until the first write of the cache
/// converts them (`registry::cache` owns the encoding); until then they are read as they are.
fn migrate_6(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    if !has_column(tx, "registry_packages", "versions")? {
        tx.execute_batch(
            "ALTER TABLE registry_packages ADD COLUMN versions BLOB; -- registry::packed; NULL: in registry_versions",
        )?;
    }
    if has_table(tx, "registry_versions")?
        && tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM registry_versions)", [], |row| row.get::<_, bool>(0))?
    {
        tx.execute_batch("DROP TABLE registry_versions")?;
    }
    Ok(())
}

/// The labels of a stored raw record; none when it does not parse (as the ingest would have
/// refused it).
fn labels_of_raw(raw: &str) -> Labels {
    super::osv::parse_record(raw.as_bytes()).map(|a| a.labels).unwrap_or_default()
}

fn cwe_ids_json(labels: &Labels) -> String {
    serde_json::to_string(&labels.cwe_ids).unwrap_or_else(|_| "[]".into())
}
