//! The inventory on a PostgreSQL server, shared by every CI job of an organisation: the
//! synchronous `postgres` client (TLS through rustls with the ring provider; the web PKI roots
//! plus the PEM file named by `PGSSLROOTCERT`, e.g. the Amazon RDS bundle). Schema versioned in
//! `bundleguard_schema`, migrated under an advisory lock. One transaction per recorded scan;
//! function rows are upserted with `ON CONFLICT` in (repository, environment, function) order,
//! so concurrent writers queue instead of deadlocking; readers never block writers (MVCC).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use postgres::error::SqlState;
use postgres::{Client, GenericClient, Transaction};

use super::{
    Filter, FunctionRecord, Inventory, InventoryBundle, InventoryError, InventoryFinding, RecordedFunction,
    RecordedPackage, ScanRecord,
};
use crate::package::{Ecosystem, Scope};

/// The schema version this code writes.
const SCHEMA_VERSION: i64 = 1;
/// The key of the advisory lock that serializes migrations.
const MIGRATION_LOCK: i64 = 0x6267_696e_7600; // "bginv"
/// How often a scan is retried after the server chose it as a deadlock or serialization victim.
const RETRIES: usize = 3;

const MIGRATION_1: &str = "
CREATE TABLE bundleguard_functions (
    id BIGSERIAL PRIMARY KEY,
    repository TEXT NOT NULL,
    environment TEXT NOT NULL,
    function TEXT NOT NULL,
    current_record BIGINT,              -- bundleguard_records.id of the record in force
    UNIQUE (repository, environment, function)
);
CREATE TABLE bundleguard_records (
    id BIGSERIAL PRIMARY KEY,
    function_id BIGINT NOT NULL REFERENCES bundleguard_functions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    runtime TEXT,
    path TEXT NOT NULL,
    git_ref TEXT,
    git_commit TEXT,
    scanned_at TIMESTAMPTZ NOT NULL,
    tool_version TEXT NOT NULL,
    deploy BOOLEAN NOT NULL,
    digest TEXT NOT NULL,               -- of the content, so that a retry writes no history
    replaced_at TIMESTAMPTZ             -- set when a newer record replaced it (history)
);
CREATE INDEX bundleguard_records_by_function ON bundleguard_records (function_id);
CREATE INDEX bundleguard_functions_by_record ON bundleguard_functions (current_record);
CREATE INDEX bundleguard_records_replaced ON bundleguard_records (replaced_at) WHERE replaced_at IS NOT NULL;
CREATE TABLE bundleguard_packages (
    record_id BIGINT NOT NULL REFERENCES bundleguard_records (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    scope TEXT NOT NULL,
    PRIMARY KEY (record_id, ecosystem, name, version, scope)
);
CREATE INDEX bundleguard_packages_by_package ON bundleguard_packages (ecosystem, name);
CREATE TABLE bundleguard_findings (     -- what affected the record when last checked or reported
    record_id BIGINT NOT NULL REFERENCES bundleguard_records (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    aliases TEXT[] NOT NULL,
    PRIMARY KEY (record_id, ecosystem, name, version, advisory_id)
);
";

/// Whether `--inventory` names a PostgreSQL server.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = tail.map(|t| t.split_once('?').map_or(t, |(db, _)| db)).map(|t| format!("/{t}")).unwrap_or_default();
    format!("{scheme}://{authority}{tail}")
}

pub struct PgInventory {
    client: Client,
    url: String,
    queries: Cell<u64>,
}

impl PgInventory {
    /// Connects (TLS as the URL's `sslmode` asks: `disable`, `prefer` by default, or `require`)
    /// and brings the schema up to date.
    pub fn connect(url: &str) -> Result<PgInventory, InventoryError> {
        let shown = redact(url);
        let fail = |message: String| InventoryError::Postgres { url: shown.clone(), message };
        let config: postgres::Config = url.parse().map_err(|e| fail(format!("not a valid connection URL: {e}")))?;
        let client = config
            .connect(tls().map_err(&fail)?)
            .map_err(|e| fail(format!("cannot connect: {}", describe_error(&e))))?;
        let mut inv = PgInventory { client, url: shown, queries: Cell::new(0) };
        inv.migrate()?;
        Ok(inv)
    }

    /// The statements sent to the server since the connection opened (for the benchmark).
    pub fn query_count(&self) -> u64 {
        self.queries.get()
    }

    fn err(&self, e: &postgres::Error) -> InventoryError {
        InventoryError::Postgres { url: self.url.clone(), message: describe_error(e) }
    }

    fn migrate(&mut self) -> Result<(), InventoryError> {
        let r = migrate(&mut self.client, &self.queries);
        match r {
            Ok(None) => Ok(()),
            Ok(Some(found)) => Err(InventoryError::TooNew { url: self.url.clone(), found, known: SCHEMA_VERSION }),
            Err(e) => Err(self.err(&e)),
        }
    }

    /// Runs `f` in a transaction, again when the server aborted it as a deadlock or
    /// serialization victim.
    fn with_retry<T>(
        &mut self,
        mut f: impl FnMut(&mut Transaction<'_>, &Cell<u64>) -> Result<T, postgres::Error>,
    ) -> Result<T, InventoryError> {
        let mut attempt = 0;
        loop {
            let r = (|| {
                let mut tx = self.client.transaction()?;
                let out = f(&mut tx, &self.queries)?;
                tx.commit()?;
                Ok(out)
            })();
            match r {
                Ok(v) => return Ok(v),
                Err(e) if attempt + 1 < RETRIES && retryable(&e) => attempt += 1,
                Err(e) => return Err(self.err(&e)),
            }
        }
    }
}

fn retryable(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// The server's message and code, or the error with its causes (a TLS handshake failure says
/// why: `invalid peer certificate: UnknownIssuer`).
fn describe_error(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(file) = std::env::var_os("PGSSLROOTCERT").filter(|v| !v.is_empty()) {
        use rustls::pki_types::pem::PemObject as _;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(&file)
            .map_err(|e| format!("PGSSLROOTCERT {}: {e}", file.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("PGSSLROOTCERT {}: {e}", file.display()))?;
            roots.add(cert).map_err(|e| format!("PGSSLROOTCERT {}: {e}", file.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Applies the missing migrations; `Some(version)` when the server's schema is newer.
fn migrate(client: &mut Client, queries: &Cell<u64>) -> Result<Option<i64>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS bundleguard_schema (version BIGINT NOT NULL)")?;
    let version: i64 = tx.query_one("SELECT coalesce(max(version), 0) FROM bundleguard_schema", &[])?.get(0);
    queries.set(queries.get() + 3);
    if version > SCHEMA_VERSION {
        return Ok(Some(version));
    }
    if version < 1 {
        tx.batch_execute(MIGRATION_1)?;
        tx.execute("INSERT INTO bundleguard_schema (version) VALUES (1)", &[])?;
        queries.set(queries.get() + 2);
    }
    tx.commit()?;
    Ok(None)
}

fn count(queries: &Cell<u64>) {
    queries.set(queries.get() + 1);
}

fn seconds(t: Timestamp) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "microseconds of a timestamp fit a double's mantissa")]
    let micros = t.as_microsecond() as f64;
    micros / 1e6
}

fn from_micros(v: i64) -> Timestamp {
    Timestamp::from_microsecond(v).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Records every function of a scan in at most nine statements, whatever their number:
/// 1. upsert the function rows in (repository, environment, function) order, which locks them
///    in the order every writer locks (so two scans never deadlock) and queues a second writer
///    of the same function until the first commits;
/// 2. read the digests of their current records (this statement's snapshot sees what the
///    writer before us committed);
/// 3. refresh the records whose content is unchanged (a retried job writes no history);
/// 4. insert the new records, 5. copy their packages, 6. mark the records they replace as history,
///    7. point the functions at them;
/// 8. and 9. replace the findings of every record written.
fn record_all(tx: &mut Transaction<'_>, queries: &Cell<u64>, scan: &ScanRecord) -> Result<(), postgres::Error> {
    let c = &scan.context;
    let at = seconds(c.scanned_at);
    let names: Vec<&str> = scan.functions.iter().map(|f| f.function.as_str()).collect();
    count(queries);
    let functions: HashMap<String, (i64, Option<i64>)> = tx
        .query(
            "INSERT INTO bundleguard_functions (repository, environment, function)
             SELECT $1, $2, u.f FROM unnest($3::text[]) AS u (f) ORDER BY u.f
             ON CONFLICT (repository, environment, function) DO UPDATE SET function = excluded.function
             RETURNING function, id, current_record",
            &[&c.repository, &c.environment, &names],
        )?
        .iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect();
    let current: Vec<i64> = functions.values().filter_map(|(_, current)| *current).collect();
    let digests: HashMap<i64, String> = if current.is_empty() {
        HashMap::new()
    } else {
        count(queries);
        tx.query("SELECT id, digest FROM bundleguard_records WHERE id = ANY($1)", &[&current])?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    };
    let mut refreshed = Vec::new();
    let mut written = Vec::new();
    for f in &scan.functions {
        let Some(&(function_id, current)) = functions.get(&f.function) else { continue };
        let wanted = f.digest(c);
        match current {
            Some(id) if digests.get(&id) == Some(&wanted) => refreshed.push((id, f)),
            _ => written.push((function_id, current, wanted, f)),
        }
    }
    if !refreshed.is_empty() {
        count(queries);
        let ids: Vec<i64> = refreshed.iter().map(|(id, _)| *id).collect();
        tx.execute(
            "UPDATE bundleguard_records SET scanned_at = to_timestamp($2), git_ref = $3, tool_version = $4, deploy = $5
             WHERE id = ANY($1)",
            &[&ids, &at, &c.git_ref, &c.tool_version, &c.deploy],
        )?;
        count(queries);
        tx.execute("DELETE FROM bundleguard_findings WHERE record_id = ANY($1)", &[&ids])?;
    }
    let inserted = insert_records(tx, queries, scan, &written)?;
    let mut findings: Vec<(i64, &InventoryFinding)> =
        refreshed.iter().flat_map(|(id, f)| f.findings.iter().map(move |x| (*id, x))).collect();
    findings
        .extend(written.iter().zip(&inserted).flat_map(|((_, _, _, f), id)| f.findings.iter().map(move |x| (*id, x))));
    if !findings.is_empty() {
        count(queries);
        insert_findings(tx, &findings)?;
    }
    Ok(())
}

/// Statements 4 to 7 of [`record_all`]: the new records (returned in the order of `written`),
/// their packages, the replaced records marked as history, the functions pointed at the new ones.
fn insert_records(
    tx: &mut Transaction<'_>,
    queries: &Cell<u64>,
    scan: &ScanRecord,
    written: &[(i64, Option<i64>, String, &FunctionRecord)],
) -> Result<Vec<i64>, postgres::Error> {
    if written.is_empty() {
        return Ok(Vec::new());
    }
    let c = &scan.context;
    let function_ids: Vec<i64> = written.iter().map(|w| w.0).collect();
    let kinds: Vec<&str> = written.iter().map(|w| w.3.kind.as_str()).collect();
    let runtimes: Vec<Option<&str>> = written.iter().map(|w| w.3.runtime.as_deref()).collect();
    let paths: Vec<&str> = written.iter().map(|w| w.3.path.as_str()).collect();
    let digests: Vec<&str> = written.iter().map(|w| w.2.as_str()).collect();
    count(queries);
    let by_function: HashMap<i64, i64> = tx
        .query(
            "INSERT INTO bundleguard_records
                (function_id, kind, runtime, path, digest, git_ref, git_commit, scanned_at, tool_version, deploy)
             SELECT u.*, $6, $7, to_timestamp($8), $9, $10
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u
             RETURNING function_id, id",
            &[
                &function_ids,
                &kinds,
                &runtimes,
                &paths,
                &digests,
                &c.git_ref,
                &c.commit,
                &seconds(c.scanned_at),
                &c.tool_version,
                &c.deploy,
            ],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let ids: Vec<i64> = function_ids.iter().map(|f| by_function.get(f).copied().unwrap_or_default()).collect();
    count(queries);
    copy_packages(tx, written.iter().zip(&ids).map(|(w, id)| (*id, &w.3.packages[..])))?;
    let replaced: Vec<i64> = written.iter().filter_map(|w| w.1).collect();
    if !replaced.is_empty() {
        count(queries);
        tx.execute(
            "UPDATE bundleguard_records SET replaced_at = to_timestamp($2) WHERE id = ANY($1)",
            &[&replaced, &seconds(c.scanned_at)],
        )?;
    }
    count(queries);
    tx.execute(
        "UPDATE bundleguard_functions AS f SET current_record = u.r
         FROM unnest($1::int8[], $2::int8[]) AS u (f, r) WHERE f.id = u.f",
        &[&function_ids, &ids],
    )?;
    Ok(ids)
}

/// The packages of new records, streamed with one binary `COPY` (the fastest bulk load the
/// server has; the record ids are fresh, so no row can conflict: duplicates within a record's
/// list are skipped here).
fn copy_packages<'a>(
    tx: &mut Transaction<'_>,
    records: impl Iterator<Item = (i64, &'a [RecordedPackage])>,
) -> Result<(), postgres::Error> {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    let sink =
        tx.copy_in("COPY bundleguard_packages (record_id, ecosystem, name, version, scope) FROM STDIN BINARY")?;
    let mut writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT, Type::TEXT]);
    for (id, packages) in records {
        let mut seen = std::collections::HashSet::new();
        for p in packages.iter().filter(|p| seen.insert(*p)) {
            writer.write(&[&id, &p.ecosystem.as_str(), &p.name, &p.version, &p.scope.as_str()])?;
        }
    }
    writer.finish()?;
    Ok(())
}

/// Inserts findings of any number of records in one statement.
fn insert_findings(tx: &mut Transaction<'_>, rows: &[(i64, &InventoryFinding)]) -> Result<(), postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let records: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let eco: Vec<&str> = rows.iter().map(|(_, f)| f.ecosystem.as_str()).collect();
    let names: Vec<&str> = rows.iter().map(|(_, f)| f.name.as_str()).collect();
    let versions: Vec<&str> = rows.iter().map(|(_, f)| f.version.as_str()).collect();
    let ids: Vec<&str> = rows.iter().map(|(_, f)| f.advisory_id.as_str()).collect();
    // Arrays of arrays must be rectangular in PostgreSQL: aliases travel as JSON text.
    let aliases: Vec<String> =
        rows.iter().map(|(_, f)| serde_json::to_string(&f.aliases).unwrap_or_else(|_| "[]".into())).collect();
    tx.execute(
        "INSERT INTO bundleguard_findings (record_id, ecosystem, name, version, advisory_id, aliases)
         SELECT r, e, n, v, i, ARRAY(SELECT json_array_elements_text(a::json))
         FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u (r, e, n, v, i, a)
         ON CONFLICT DO NOTHING",
        &[&records, &eco, &names, &versions, &ids, &aliases],
    )?;
    Ok(())
}

const LIST: &str = "
SELECT r.id, f.repository, f.environment, f.function, r.kind, r.runtime, r.path, r.git_ref, r.git_commit,
       (extract(epoch FROM r.scanned_at) * 1000000)::int8, r.tool_version, r.deploy,
       (SELECT count(*) FROM bundleguard_packages p WHERE p.record_id = r.id),
       (SELECT count(*) FROM bundleguard_records h WHERE h.function_id = f.id AND h.id <> r.id)
FROM bundleguard_functions f JOIN bundleguard_records r ON r.id = f.current_record
WHERE ($1::text IS NULL OR f.repository = $1) AND ($2::text IS NULL OR f.environment = $2)
  AND ($3::text IS NULL OR starts_with(f.function, $3) OR starts_with(r.path, $3))
ORDER BY f.repository, f.environment, f.function";

fn list(client: &mut impl GenericClient, filter: &Filter) -> Result<Vec<InventoryBundle>, postgres::Error> {
    let rows = client.query(LIST, &[&filter.repository, &filter.environment, &filter.prefix])?;
    Ok(rows
        .iter()
        .map(|row| InventoryBundle {
            record_id: row.get(0),
            repository: row.get(1),
            environment: row.get(2),
            name: row.get(3),
            kind: row.get(4),
            runtime: row.get(5),
            path: row.get(6),
            git_ref: row.get(7),
            commit: row.get(8),
            scanned_at: from_micros(row.get(9)),
            tool_version: row.get(10),
            deploy: row.get(11),
            packages: usize::try_from(row.get::<_, i64>(12)).unwrap_or(0),
            history: usize::try_from(row.get::<_, i64>(13)).unwrap_or(0),
        })
        .collect())
}

impl Inventory for PgInventory {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn record(&mut self, scan: &ScanRecord) -> Result<(), InventoryError> {
        self.with_retry(|tx, queries| record_all(tx, queries, scan))?;
        // History is pruned apart, skipping rows another writer holds: never a wait, never a
        // deadlock between two writers pruning the same rows.
        let cutoff = seconds(scan.context.scanned_at - SignedDuration::from_hours(24 * i64::from(scan.history_days)));
        self.with_retry(|tx, queries| {
            count(queries);
            tx.execute(
                "DELETE FROM bundleguard_records WHERE id IN (SELECT id FROM bundleguard_records
                 WHERE replaced_at < to_timestamp($1) FOR UPDATE SKIP LOCKED)",
                &[&cutoff],
            )
        })?;
        Ok(())
    }

    fn list(&mut self, filter: &Filter) -> Result<Vec<InventoryBundle>, InventoryError> {
        count(&self.queries);
        list(&mut self.client, filter).map_err(|e| self.err(&e))
    }

    fn load_all(&mut self) -> Result<Vec<RecordedFunction>, InventoryError> {
        // One snapshot for the three reads.
        let r = (|| {
            let mut tx = self
                .client
                .build_transaction()
                .read_only(true)
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .start()?;
            let listed = list(&mut tx, &Filter::default())?;
            let packages = tx.query(
                "SELECT p.record_id, p.ecosystem, p.name, p.version, bool_or(p.scope <> 'dev') FROM bundleguard_packages p
                 JOIN bundleguard_functions f ON f.current_record = p.record_id
                 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
                &[],
            )?;
            let findings = tx.query(
                "SELECT i.record_id, i.ecosystem, i.name, i.version, i.advisory_id, i.aliases FROM bundleguard_findings i
                 JOIN bundleguard_functions f ON f.current_record = i.record_id ORDER BY 1, 2, 3, 4, 5",
                &[],
            )?;
            tx.commit()?;
            Ok((listed, packages, findings))
        })();
        self.queries.set(self.queries.get() + 3);
        let (listed, packages, findings) = r.map_err(|e| self.err(&e))?;
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
        for row in &packages {
            if let (Some(&i), Some(eco)) = (index.get(&row.get::<_, i64>(0)), Ecosystem::from_name(row.get(1))) {
                out[i].packages.push(RecordedPackage {
                    ecosystem: eco,
                    name: row.get(2),
                    version: row.get(3),
                    scope: if row.get(4) { Scope::Prod } else { Scope::Dev },
                });
            }
        }
        for row in &findings {
            if let (Some(&i), Some(ecosystem)) = (index.get(&row.get::<_, i64>(0)), Ecosystem::from_name(row.get(1))) {
                out[i].findings.push(InventoryFinding {
                    ecosystem,
                    name: row.get(2),
                    version: row.get(3),
                    advisory_id: row.get(4),
                    aliases: row.get(5),
                });
            }
        }
        Ok(out)
    }

    fn update_findings(
        &mut self,
        updates: &[(&RecordedFunction, Vec<InventoryFinding>)],
    ) -> Result<(), InventoryError> {
        if updates.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = updates.iter().map(|(r, _)| r.record_id).collect();
        self.with_retry(|tx, queries| {
            // Three statements whatever the number of records: lock the functions still pointing
            // at the re-checked records (in writers' order), then replace their findings.
            queries.set(queries.get() + 3);
            let current: std::collections::HashSet<i64> = tx
                .query(
                    "SELECT f.current_record FROM bundleguard_functions f
                     WHERE f.current_record = ANY($1)
                     ORDER BY f.repository, f.environment, f.function FOR UPDATE OF f",
                    &[&ids],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect();
            let kept: Vec<i64> = ids.iter().copied().filter(|id| current.contains(id)).collect();
            tx.execute("DELETE FROM bundleguard_findings WHERE record_id = ANY($1)", &[&kept])?;
            let rows: Vec<(i64, &InventoryFinding)> = updates
                .iter()
                .filter(|(r, _)| current.contains(&r.record_id))
                .flat_map(|(r, findings)| findings.iter().map(|f| (r.record_id, f)))
                .collect();
            insert_findings(tx, &rows)?;
            Ok(())
        })
    }

    fn forget(&mut self, filter: &Filter) -> Result<usize, InventoryError> {
        let n = self.with_retry(|tx, queries| {
            count(queries);
            tx.execute(
                "DELETE FROM bundleguard_functions WHERE id IN (
                    SELECT f.id FROM bundleguard_functions f LEFT JOIN bundleguard_records r ON r.id = f.current_record
                    WHERE ($1::text IS NULL OR f.repository = $1) AND ($2::text IS NULL OR f.environment = $2)
                      AND ($3::text IS NULL OR starts_with(f.function, $3) OR starts_with(r.path, $3))
                    ORDER BY f.repository, f.environment, f.function FOR UPDATE OF f)",
                &[&filter.repository, &filter.environment, &filter.prefix],
            )
        })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://bg:s3cret@db.internal:5432/inv?sslmode=require"),
            "postgres://bg:***@db.internal:5432/inv"
        );
        assert_eq!(redact("postgresql://bg@127.0.0.1/inv"), "postgresql://bg@127.0.0.1/inv");
        assert_eq!(redact("postgres://db/inv"), "postgres://db/inv");
    }
}
