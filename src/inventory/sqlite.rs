//! The inventory in a SQLite file (by default the same file as the advisories). Its tables are
//! versioned apart from the advisory store's (`inventory_schema`), created on first use; the
//! bundles recorded by the schema of store migration 2 are carried over once.

use jiff::SignedDuration;
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::{
    Filter, FunctionRecord, Inventory, InventoryBundle, InventoryError, InventoryFinding, RecordedFunction,
    RecordedPackage, ScanRecord,
};
use crate::advisory::store::{Store, StoreError, WAL_BOUND, from_ns, has_table, ns};
use crate::package::{Ecosystem, Scope};

/// The inventory schema version this code writes.
const SCHEMA_VERSION: i64 = 1;

const MIGRATION_1: &str = "
CREATE TABLE IF NOT EXISTS inventory_schema (version INTEGER NOT NULL);
CREATE TABLE inv_functions (
    id INTEGER PRIMARY KEY,
    repository TEXT NOT NULL,
    environment TEXT NOT NULL,
    function TEXT NOT NULL,
    current_record INTEGER,             -- inv_records.id of the record in force
    UNIQUE (repository, environment, function)
);
CREATE TABLE inv_records (
    id INTEGER PRIMARY KEY,
    function_id INTEGER NOT NULL REFERENCES inv_functions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    runtime TEXT,
    path TEXT NOT NULL,
    git_ref TEXT,
    git_commit TEXT,
    scanned_at INTEGER NOT NULL,        -- nanoseconds since the Unix epoch
    tool_version TEXT NOT NULL,
    deploy INTEGER NOT NULL,
    digest TEXT NOT NULL,               -- of the content, so that a retry writes no history
    replaced_at INTEGER                 -- set when a newer record replaced it (history)
);
CREATE INDEX inv_records_by_function ON inv_records (function_id);
CREATE INDEX inv_functions_by_record ON inv_functions (current_record);
CREATE INDEX inv_records_replaced ON inv_records (replaced_at) WHERE replaced_at IS NOT NULL;
CREATE TABLE inv_packages (
    record_id INTEGER NOT NULL REFERENCES inv_records (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    scope TEXT NOT NULL,
    PRIMARY KEY (record_id, ecosystem, name, version, scope)
) WITHOUT ROWID;
CREATE TABLE inv_findings (              -- what affected the record when last checked
    record_id INTEGER NOT NULL REFERENCES inv_records (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    aliases TEXT NOT NULL,              -- JSON array
    PRIMARY KEY (record_id, ecosystem, name, version, advisory_id)
) WITHOUT ROWID;
-- What store migration 2 recorded (one row per lockfile) becomes local records.
INSERT INTO inv_functions (repository, environment, function)
    SELECT '', '', name FROM inventory_bundles WHERE true ON CONFLICT DO NOTHING;
INSERT INTO inv_records (function_id, kind, path, scanned_at, tool_version, deploy, digest)
    SELECT f.id, 'function', max(b.path), max(b.scanned_at), '', 0, ''
    FROM inventory_bundles b JOIN inv_functions f ON f.function = b.name AND f.repository = '' GROUP BY f.id;
UPDATE inv_functions SET current_record = (SELECT id FROM inv_records r WHERE r.function_id = inv_functions.id);
INSERT OR IGNORE INTO inv_packages (record_id, ecosystem, name, version, scope)
    SELECT f.current_record, p.ecosystem, p.name, p.version, 'prod'
    FROM inventory_packages p JOIN inventory_bundles b ON b.key = p.bundle JOIN inv_functions f ON f.function = b.name;
INSERT OR IGNORE INTO inv_findings (record_id, ecosystem, name, version, advisory_id, aliases)
    SELECT f.current_record, i.ecosystem, i.name, i.version, i.advisory_id, i.aliases
    FROM inventory_findings i JOIN inventory_bundles b ON b.key = i.bundle JOIN inv_functions f ON f.function = b.name;
DELETE FROM inventory_bundles;
INSERT INTO inventory_schema (version) VALUES (1);
";

fn sql<T>(store: &Store, r: rusqlite::Result<T>) -> Result<T, StoreError> {
    r.map_err(|source| StoreError::Sqlite { path: store.path().to_owned(), source })
}

/// Creates or upgrades the inventory tables, once per file (under SQLite's write lock, so two
/// processes opening a fresh file at once do not both migrate).
fn migrate(store: &mut Store) -> Result<(), InventoryError> {
    let path = store.path().to_owned();
    let err = |source| StoreError::Sqlite { path: path.clone(), source };
    let tx = store.connection().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
    let exists = has_table(&tx, "inventory_schema").map_err(err)?;
    let version: i64 = if exists {
        tx.query_row("SELECT coalesce(max(version), 0) FROM inventory_schema", [], |r| r.get(0)).map_err(err)?
    } else {
        0
    };
    if version > SCHEMA_VERSION {
        return Err(InventoryError::TooNew { url: path.display().to_string(), found: version, known: SCHEMA_VERSION });
    }
    if version < 1 {
        tx.execute_batch(MIGRATION_1).map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(())
}

fn schema_ready(store: &Store) -> Result<bool, StoreError> {
    let exists = sql(store, has_table(store.connection_ref(), "inventory_schema"))?;
    if !exists {
        return Ok(false);
    }
    let r = store
        .connection_ref()
        .query_row("SELECT coalesce(max(version), 0) FROM inventory_schema", [], |r| r.get::<_, i64>(0));
    Ok(sql(store, r)? == SCHEMA_VERSION)
}

fn ensure(store: &mut Store) -> Result<(), InventoryError> {
    if schema_ready(store)? { Ok(()) } else { migrate(store) }
}

impl Inventory for Store {
    fn describe(&self) -> String {
        self.path().display().to_string()
    }

    /// One transaction. A local record commits into the `-wal` file without an fsync
    /// (`synchronous = NORMAL`: atomic and consistent at once, durable at the next checkpoint, which
    /// `sync` runs, or this record when it leaves the `-wal` over [`WAL_BOUND`]); a deploy record
    /// commits with `synchronous = FULL`, so it survives a power loss as soon as the scan ends.
    fn record(&mut self, scan: &ScanRecord) -> Result<(), InventoryError> {
        ensure(self)?;
        let p = self.path().to_owned();
        let err = |source| StoreError::Sqlite { path: p.clone(), source };
        let durable = scan.context.deploy;
        if durable {
            self.connection().pragma_update(None, "synchronous", "FULL").map_err(err)?;
        }
        let tx = self.connection().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        for f in &scan.functions {
            record_function(&tx, scan, f).map_err(err)?;
        }
        let cutoff = scan.context.scanned_at - SignedDuration::from_hours(24 * i64::from(scan.history_days));
        tx.prepare_cached("DELETE FROM inv_records WHERE replaced_at IS NOT NULL AND replaced_at < ?1")
            .and_then(|mut stmt| stmt.execute([ns(cutoff)]))
            .map_err(err)?;
        tx.commit().map_err(err)?;
        if durable {
            self.connection().pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        }
        // The record is committed: emptying a long `-wal` is housekeeping, and one that fails
        // (another process reading) is left for a later record or `sync`.
        let _ = self.checkpoint_if_over(WAL_BOUND);
        Ok(())
    }

    fn list(&mut self, filter: &Filter) -> Result<Vec<InventoryBundle>, InventoryError> {
        ensure(self)?;
        let mut stmt = sql(
            self,
            self.connection_ref().prepare(
                "SELECT r.id, f.repository, f.environment, f.function, r.kind, r.runtime, r.path, r.git_ref,
                    r.git_commit, r.scanned_at, r.tool_version, r.deploy,
                    (SELECT count(*) FROM inv_packages p WHERE p.record_id = r.id),
                    (SELECT count(*) FROM inv_records h WHERE h.function_id = f.id AND h.id <> r.id)
             FROM inv_functions f JOIN inv_records r ON r.id = f.current_record
             ORDER BY f.repository, f.environment, f.function",
            ),
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(InventoryBundle {
                record_id: row.get(0)?,
                repository: row.get(1)?,
                environment: row.get(2)?,
                name: row.get(3)?,
                kind: row.get(4)?,
                runtime: row.get(5)?,
                path: row.get(6)?,
                git_ref: row.get(7)?,
                commit: row.get(8)?,
                scanned_at: from_ns(row.get(9)?),
                tool_version: row.get(10)?,
                deploy: row.get(11)?,
                packages: usize::try_from(row.get::<_, i64>(12)?).unwrap_or(0),
                history: usize::try_from(row.get::<_, i64>(13)?).unwrap_or(0),
            })
        });
        let all: Vec<InventoryBundle> = sql(self, rows.and_then(Iterator::collect))?;
        Ok(all.into_iter().filter(|b| filter.matches(&b.repository, &b.environment, &b.name, &b.path)).collect())
    }

    fn load_all(&mut self) -> Result<Vec<RecordedFunction>, InventoryError> {
        let listed = self.list(&Filter::default())?;
        let mut out: Vec<RecordedFunction> = listed
            .into_iter()
            .map(|b| RecordedFunction {
                record_id: b.record_id,
                repository: b.repository,
                environment: b.environment,
                name: b.name,
                path: b.path,
                packages: Vec::new(),
                findings: Vec::new(),
            })
            .collect();
        let index: std::collections::HashMap<i64, usize> =
            out.iter().enumerate().map(|(i, r)| (r.record_id, i)).collect();
        let conn = self.connection_ref();
        let mut stmt = sql(
            self,
            conn.prepare(
                "SELECT p.record_id, p.ecosystem, p.name, p.version, max(p.scope <> 'dev') FROM inv_packages p
                 JOIN inv_functions f ON f.current_record = p.record_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            ),
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?)));
        let rows: Vec<(i64, String, String, String, bool)> = sql(self, rows.and_then(Iterator::collect))?;
        for (id, eco, name, version, ships) in rows {
            if let (Some(&i), Some(ecosystem)) = (index.get(&id), Ecosystem::from_name(&eco)) {
                let scope = if ships { Scope::Prod } else { Scope::Dev };
                out[i].packages.push(RecordedPackage { ecosystem, name, version, scope });
            }
        }
        let mut stmt = sql(
            self,
            conn.prepare(
                "SELECT i.record_id, i.ecosystem, i.name, i.version, i.advisory_id, i.aliases FROM inv_findings i
                 JOIN inv_functions f ON f.current_record = i.record_id ORDER BY 1, 2, 3, 4, 5",
            ),
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?))
        });
        let rows: Vec<(i64, String, String, String, String, String)> = sql(self, rows.and_then(Iterator::collect))?;
        for (id, eco, name, version, advisory_id, aliases) in rows {
            if let (Some(&i), Some(ecosystem)) = (index.get(&id), Ecosystem::from_name(&eco)) {
                let aliases = serde_json::from_str(&aliases).unwrap_or_default();
                out[i].findings.push(InventoryFinding { ecosystem, name, version, advisory_id, aliases });
            }
        }
        Ok(out)
    }

    fn update_findings(
        &mut self,
        updates: &[(&RecordedFunction, Vec<InventoryFinding>)],
    ) -> Result<(), InventoryError> {
        ensure(self)?;
        let p = self.path().to_owned();
        let err = |source| StoreError::Sqlite { path: p.clone(), source };
        let tx = self.connection().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        for (r, findings) in updates {
            let current: Option<i64> = tx
                .query_row("SELECT id FROM inv_functions WHERE current_record = ?1", [r.record_id], |row| row.get(0))
                .optional()
                .map_err(err)?;
            if current.is_some() {
                write_findings(&tx, r.record_id, findings).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        // The end of the scheduled re-check: leave a durable, self-contained file.
        self.checkpoint()?;
        Ok(())
    }

    fn forget(&mut self, filter: &Filter) -> Result<usize, InventoryError> {
        let ids: Vec<i64> = self.list(filter)?.iter().map(|b| b.record_id).collect();
        let p = self.path().to_owned();
        let err = |source| StoreError::Sqlite { path: p.clone(), source };
        let tx = self.connection().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        let mut n = 0;
        for id in ids {
            n += tx.execute("DELETE FROM inv_functions WHERE current_record = ?1", [id]).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.checkpoint()?;
        Ok(n)
    }
}

/// Writes one function's record inside the scan's transaction. Every statement is prepared once
/// per connection and reused for each function and row (a scan of 500 functions parses no SQL
/// after the first).
fn record_function(tx: &Transaction<'_>, scan: &ScanRecord, f: &FunctionRecord) -> rusqlite::Result<()> {
    let c = &scan.context;
    let (function_id, current): (i64, Option<i64>) = tx
        .prepare_cached(
            "INSERT INTO inv_functions (repository, environment, function) VALUES (?1, ?2, ?3)
             ON CONFLICT (repository, environment, function) DO UPDATE SET function = excluded.function
             RETURNING id, current_record",
        )?
        .query_row(params![c.repository, c.environment, f.function], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let digest = f.digest(c);
    let same: Option<i64> = match current {
        Some(id) => tx
            .prepare_cached("SELECT id FROM inv_records WHERE id = ?1 AND digest = ?2")?
            .query_row(params![id, digest], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let record_id = if let Some(id) = same {
        tx.prepare_cached(
            "UPDATE inv_records SET scanned_at = ?2, git_ref = ?3, tool_version = ?4, deploy = ?5 WHERE id = ?1",
        )?
        .execute(params![id, ns(c.scanned_at), c.git_ref, c.tool_version, c.deploy])?;
        id
    } else {
        let id: i64 = tx
            .prepare_cached(
                "INSERT INTO inv_records
                    (function_id, kind, runtime, path, git_ref, git_commit, scanned_at, tool_version, deploy, digest)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
            )?
            .query_row(
                params![
                    function_id,
                    f.kind,
                    f.runtime,
                    f.path,
                    c.git_ref,
                    c.commit,
                    ns(c.scanned_at),
                    c.tool_version,
                    c.deploy,
                    digest
                ],
                |r| r.get(0),
            )?;
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO inv_packages (record_id, ecosystem, name, version, scope) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in &f.packages {
            stmt.execute(params![id, p.ecosystem.as_str(), p.name, p.version, p.scope.as_str()])?;
        }
        if let Some(old) = current {
            tx.prepare_cached("UPDATE inv_records SET replaced_at = ?2 WHERE id = ?1")?
                .execute(params![old, ns(c.scanned_at)])?;
        }
        tx.prepare_cached("UPDATE inv_functions SET current_record = ?2 WHERE id = ?1")?
            .execute(params![function_id, id])?;
        id
    };
    write_findings(tx, record_id, &f.findings)
}

fn write_findings(tx: &Transaction<'_>, record_id: i64, findings: &[InventoryFinding]) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM inv_findings WHERE record_id = ?1")?.execute([record_id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO inv_findings (record_id, ecosystem, name, version, advisory_id, aliases)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in findings {
        let aliases = serde_json::to_string(&f.aliases).unwrap_or_else(|_| "[]".into());
        stmt.execute(params![record_id, f.ecosystem.as_str(), f.name, f.version, f.advisory_id, aliases])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Filter;

    /// Bundles recorded by the schema of store migration 2 become local records, with their
    /// packages and findings, and the old rows are gone.
    #[test]
    fn bundles_of_the_old_schema_are_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        store
            .connection()
            .execute_batch(
                "INSERT INTO inventory_bundles VALUES ('/r/a/package-lock.json#api', 'api', 'a/package-lock.json', 1000);
                 INSERT INTO inventory_packages VALUES ('/r/a/package-lock.json#api', 'npm', 'lodash', '4.17.15');
                 INSERT INTO inventory_packages VALUES ('/r/a/package-lock.json#api', 'npm', 'qs', '6.5.2');
                 INSERT INTO inventory_findings VALUES ('/r/a/package-lock.json#api', 'npm', 'lodash', '4.17.15',
                     'GHSA-35jh-r3h4-6jhm', '[\"CVE-2021-23337\"]');",
            )
            .unwrap();
        let all = store.load_all().unwrap();
        assert_eq!(all.len(), 1);
        let api = &all[0];
        assert_eq!((api.repository.as_str(), api.environment.as_str(), api.name.as_str()), ("", "", "api"));
        assert_eq!(api.path, "a/package-lock.json");
        assert_eq!(api.packages.len(), 2);
        assert_eq!(api.findings[0].advisory_id, "GHSA-35jh-r3h4-6jhm");
        assert_eq!(api.findings[0].aliases, ["CVE-2021-23337"]);
        let left: i64 =
            store.connection_ref().query_row("SELECT count(*) FROM inventory_bundles", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 0);
        assert_eq!(store.forget(&Filter { prefix: Some("a/".into()), ..Filter::default() }).unwrap(), 1);
        assert!(store.load_all().unwrap().is_empty());
    }
}
