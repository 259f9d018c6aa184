//! The inventory in the local SQLite file (the same file as the advisories): tables made by
//! the store's migration 2, one transaction per recorded bundle.

use jiff::Timestamp;
use rusqlite::params;

use super::{Inventory, InventoryBundle, InventoryError, InventoryFinding};
use crate::advisory::store::{Store, StoreError, from_ns, ns};
use crate::package::Ecosystem;

fn sql<T>(store: &Store, r: rusqlite::Result<T>) -> Result<T, StoreError> {
    r.map_err(|source| StoreError::Sqlite { path: store.path().to_owned(), source })
}

impl Inventory for Store {
    /// Replaces what is recorded of one bundle: its packages and current findings. When the
    /// packages are the ones already recorded, only the findings and the scan time are written.
    fn record_bundle(
        &mut self,
        key: &str,
        name: &str,
        path: &str,
        packages: &[(Ecosystem, String, String)],
        findings: &[InventoryFinding],
    ) -> Result<(), InventoryError> {
        let mut wanted: Vec<(Ecosystem, String, String)> = packages.to_vec();
        wanted.sort();
        wanted.dedup();
        let mut have = self.packages(key)?;
        have.sort();
        let unchanged = have == wanted;
        let p = self.path().to_owned();
        let err = |source| StoreError::Sqlite { path: p.clone(), source };
        let tx = self.connection().transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO inventory_bundles (key, name, path, scanned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(key) DO UPDATE SET name = excluded.name, path = excluded.path, scanned_at = excluded.scanned_at",
            params![key, name, path, ns(Timestamp::now())],
        )
        .map_err(err)?;
        if !unchanged {
            tx.execute("DELETE FROM inventory_packages WHERE bundle = ?1", [key]).map_err(err)?;
            let mut stmt = tx
                .prepare("INSERT INTO inventory_packages (bundle, ecosystem, name, version) VALUES (?1, ?2, ?3, ?4)")
                .map_err(err)?;
            for (eco, pkg, version) in &wanted {
                stmt.execute(params![key, eco.as_str(), pkg, version]).map_err(err)?;
            }
        }
        write_findings(&tx, key, findings).map_err(err)?;
        Ok(tx.commit().map_err(err)?)
    }

    /// Replaces the recorded findings of a bundle (after a sync re-checked it).
    fn set_bundle_findings(&mut self, key: &str, findings: &[InventoryFinding]) -> Result<(), InventoryError> {
        let p = self.path().to_owned();
        let err = |source| StoreError::Sqlite { path: p.clone(), source };
        let tx = self.connection().transaction().map_err(err)?;
        write_findings(&tx, key, findings).map_err(err)?;
        Ok(tx.commit().map_err(err)?)
    }

    /// Every recorded bundle, by path.
    fn bundles(&self) -> Result<Vec<InventoryBundle>, InventoryError> {
        let mut stmt = sql(self, self.connection_ref().prepare(
            "SELECT b.key, b.name, b.path, b.scanned_at, (SELECT count(*) FROM inventory_packages p WHERE p.bundle = b.key)
             FROM inventory_bundles b ORDER BY b.path, b.key",
        ))?;
        let rows = stmt.query_map([], |row| {
            Ok(InventoryBundle {
                key: row.get(0)?,
                name: row.get(1)?,
                path: row.get(2)?,
                scanned_at: from_ns(row.get(3)?),
                packages: usize::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
            })
        });
        Ok(sql(self, rows.and_then(Iterator::collect))?)
    }

    /// The recorded packages of a bundle.
    fn packages(&self, key: &str) -> Result<Vec<(Ecosystem, String, String)>, InventoryError> {
        let mut stmt = sql(self, self.connection_ref().prepare(
            "SELECT ecosystem, name, version FROM inventory_packages WHERE bundle = ?1 ORDER BY ecosystem, name, version",
        ))?;
        let rows = stmt
            .query_map([key], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)));
        let rows: Vec<(String, String, String)> = sql(self, rows.and_then(Iterator::collect))?;
        Ok(rows.into_iter().filter_map(|(e, n, v)| Ecosystem::from_name(&e).map(|e| (e, n, v))).collect())
    }

    /// The recorded findings of a bundle.
    fn findings(&self, key: &str) -> Result<Vec<InventoryFinding>, InventoryError> {
        let mut stmt = sql(
            self,
            self.connection_ref().prepare(
                "SELECT ecosystem, name, version, advisory_id, aliases FROM inventory_findings WHERE bundle = ?1
             ORDER BY ecosystem, name, version, advisory_id",
            ),
        )?;
        let rows = stmt.query_map([key], |row| {
            Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get::<_, String>(4)?))
        });
        let rows: Vec<(String, String, String, String, String)> = sql(self, rows.and_then(Iterator::collect))?;
        Ok(rows
            .into_iter()
            .filter_map(|(e, name, version, advisory_id, aliases)| {
                Some(InventoryFinding {
                    ecosystem: Ecosystem::from_name(&e)?,
                    name,
                    version,
                    advisory_id,
                    aliases: serde_json::from_str(&aliases).unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Forgets recorded bundles whose key or shown path starts with `prefix` (all when empty).
    fn forget(&mut self, prefix: &str) -> Result<usize, InventoryError> {
        let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let r = self.connection().execute(
            "DELETE FROM inventory_bundles WHERE key LIKE ?1 ESCAPE '\\' OR path LIKE ?1 ESCAPE '\\'",
            [pattern],
        );
        Ok(sql(self, r)?)
    }
}

fn write_findings(tx: &rusqlite::Transaction<'_>, key: &str, findings: &[InventoryFinding]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM inventory_findings WHERE bundle = ?1", [key])?;
    let mut stmt = tx.prepare(
        "INSERT OR IGNORE INTO inventory_findings (bundle, ecosystem, name, version, advisory_id, aliases)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in findings {
        let aliases = serde_json::to_string(&f.aliases).unwrap_or_else(|_| "[]".into());
        stmt.execute(params![key, f.ecosystem.as_str(), f.name, f.version, f.advisory_id, aliases])?;
    }
    Ok(())
}
