//! Getting a database a scan can use: open it, sync the ecosystems it lacks when the network is
//! allowed (the whole database when there is none), and say when an ecosystem is stale or
//! missing. The scan pipeline calls [`for_scan`]; `db status` uses [`stale_warning`].

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};

use super::store::{Store, StoreError};
use super::sync::{self, Observer, Source, SyncError};
use crate::package::Ecosystem;
use crate::vocab::Diagnostic;

/// What the scan needs of the database.
#[derive(Debug, Clone)]
pub struct OpenRequest<'a> {
    pub db: &'a Path,
    /// The ecosystems of the scanned packages.
    pub ecosystems: &'a [Ecosystem],
    /// Never use the network.
    pub offline: bool,
    /// Where to sync from when an ecosystem is missing (a URL or a folder).
    pub source: &'a str,
    /// An ecosystem synced longer ago than this is reported.
    pub max_age: SignedDuration,
    pub now: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "no advisory database at {} and --offline forbids downloading one: run `bundleguard sync` first (or pass --db)",
        .0.display()
    )]
    OfflineMissing(PathBuf),
    #[error("the advisory database is missing and the sync from {source_desc} failed: {error}")]
    Sync { source_desc: String, error: SyncError },
    #[error(transparent)]
    Source(SyncError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The opened store, the ecosystems it has no advisories for (their packages cannot be
/// checked), and warnings (stale or missing ecosystems).
pub struct Opened {
    pub store: Store,
    pub missing: Vec<Ecosystem>,
    pub warnings: Vec<Diagnostic>,
}

/// Opens the database; when it is missing (or lacks an ecosystem the scan needs), syncs first,
/// unless `offline`.
pub fn for_scan(req: &OpenRequest<'_>, observer: &dyn Observer) -> Result<Opened, OpenError> {
    let to_sync: Vec<Ecosystem> = if req.db.is_file() {
        let store = Store::open_existing(req.db)?;
        let missing = unsynced(&store, req.ecosystems)?;
        if missing.is_empty() || req.offline {
            return finish(store, req);
        }
        missing
    } else {
        if req.offline {
            return Err(OpenError::OfflineMissing(req.db.to_owned()));
        }
        if req.ecosystems.is_empty() { Ecosystem::ALL.to_vec() } else { req.ecosystems.to_vec() }
    };
    let source = Source::parse(req.source).map_err(OpenError::Source)?;
    let mut store = Store::open(req.db)?;
    sync::sync(&mut store, &source, &to_sync, observer)
        .map_err(|error| OpenError::Sync { source_desc: source.describe(), error })?;
    finish(store, req)
}

fn unsynced(store: &Store, ecosystems: &[Ecosystem]) -> Result<Vec<Ecosystem>, StoreError> {
    let mut missing = Vec::new();
    for &eco in ecosystems {
        if store.sync_state(eco)?.is_none() {
            missing.push(eco);
        }
    }
    Ok(missing)
}

fn finish(store: Store, req: &OpenRequest<'_>) -> Result<Opened, OpenError> {
    // A scan reads most index pages once: a small page cache keeps its memory down (SQLite's
    // default keeps up to 2 MiB of pages the scan will not read again).
    store.limit_page_cache(SCAN_PAGE_CACHE_KIB)?;
    let mut warnings = Vec::new();
    let mut missing = Vec::new();
    for &eco in req.ecosystems {
        match store.sync_state(eco)?.and_then(|s| s.synced_at) {
            None => {
                missing.push(eco);
                warnings.push(Diagnostic::new(
                    "db/missing-ecosystem",
                    format!(
                        "no {eco} advisories in the database ({}): its packages were not checked; run `bundleguard sync`",
                        store.path().display()
                    ),
                ));
            }
            Some(at) => {
                warnings.extend(stale_warning(eco, at, req.now, req.max_age).map(|m| Diagnostic::new("db/stale", m)));
            }
        }
    }
    Ok(Opened { store, missing, warnings })
}

/// The most page-cache memory a scan's connection keeps, in KiB.
const SCAN_PAGE_CACHE_KIB: u32 = 512;

/// The warning for an ecosystem whose last sync is older than `max_age`, if it is.
pub fn stale_warning(eco: Ecosystem, synced_at: Timestamp, now: Timestamp, max_age: SignedDuration) -> Option<String> {
    let age = now.duration_since(synced_at);
    (age > max_age).then(|| {
        format!(
            "the {eco} advisories were last synced {} hours ago (more than {}): run `bundleguard sync`",
            age.as_hours(),
            max_age.as_hours()
        )
    })
}
