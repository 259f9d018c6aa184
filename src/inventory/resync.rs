//! The scheduled job in one call: sync the advisories, re-check every recorded function against
//! them, and (when asked) refresh the cached registry metadata of every recorded package. The
//! `sync` command only turns its arguments into a [`Resync`] and renders the outcome.

use std::path::Path;

use super::{InventoryChange, InventoryError};
use crate::advisory::store::{Store, StoreError};
use crate::advisory::sync::{self, Observer, Source, SyncError, SyncOptions, SyncReport};
use crate::package::{Ecosystem, PackageName};
use crate::registry::{self, FetchMode, FetchOptions, Metadata, RegistryError};
use crate::vocab::{Diagnostic, Level};

/// What to sync and where the inventory is.
pub struct Resync<'a> {
    pub db: &'a Path,
    pub source: &'a Source,
    pub ecosystems: &'a [Ecosystem],
    pub options: SyncOptions,
    /// `postgres://...`, a SQLite file, or `None` for the database file itself.
    pub inventory: Option<&'a str>,
    /// Also revalidate the registry metadata of every recorded package.
    pub metadata: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error("sync from {source_desc} failed; the database was left as it was: {error}")]
    Sync { source_desc: String, error: SyncError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("re-checking the inventory {inventory}: {error}")]
    Recheck { inventory: String, error: InventoryError },
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error("refreshing the registry metadata: {0}")]
    Registry(#[from] RegistryError),
}

/// What the job did.
pub struct Resynced {
    pub report: SyncReport,
    pub changes: Vec<InventoryChange>,
    /// With `metadata`: what was fetched, and the registry configuration's diagnostics.
    pub metadata: Option<(Metadata, Vec<Diagnostic>)>,
}

/// Syncs, re-checks and refreshes, in that order; a failed sync leaves everything as it was.
pub fn run(job: &Resync<'_>, observer: &dyn Observer) -> Result<Resynced, ResyncError> {
    let mut store = Store::open(job.db)?;
    let report = sync::sync_with(&mut store, job.source, job.ecosystems, job.options, observer)
        .map_err(|error| ResyncError::Sync { source_desc: job.source.describe(), error })?;
    let advisories = Store::open_existing(job.db)?;
    let mut recorded = super::open(job.inventory, job.db)?;
    let changes = super::recheck(recorded.as_mut(), &advisories, Level::High)
        .map_err(|error| ResyncError::Recheck { inventory: recorded.describe(), error })?;
    let metadata = if job.metadata { Some(refresh_metadata(&mut store, recorded.as_mut())?) } else { None };
    Ok(Resynced { report, changes, metadata })
}

/// Revalidates the cached registry facts of every recorded package.
fn refresh_metadata(
    store: &mut Store,
    recorded: &mut dyn super::Inventory,
) -> Result<(Metadata, Vec<Diagnostic>), ResyncError> {
    let mut packages = Vec::new();
    for b in recorded.load_all()? {
        packages.extend(b.packages.into_iter().map(|(e, n, _)| (e, PackageName::new(e, &n))));
    }
    packages.sort();
    packages.dedup();
    let (cfg, diagnostics) = registry::config::resolve(Path::new("."), &|k| std::env::var(k).ok(), None);
    let options = FetchOptions::new(FetchMode::CacheOnly);
    let fetched = registry::sync_metadata(store, &cfg, &packages, &options)?;
    Ok((fetched, diagnostics))
}
