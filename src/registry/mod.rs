//! Package metadata from the registries (npm, PyPI, crates.io, Go module proxy), cached in the
//! database: the facts the stale and takeover checks judge ([`facts`]). [`facts_for`] answers
//! from the cache what is fresh, fetches the rest (bounded concurrency, conditional requests),
//! and says per package what could not be known: unknown is not clean.

pub mod cache;
pub mod config;
pub mod crates;
pub mod facts;
pub mod fetch;
pub mod golang;
pub mod npm;
pub mod packed;
pub mod pypi;
pub mod times;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;

use self::cache::{CacheEntry, Write};
use self::config::RegistryConfig;
use self::facts::PackageFacts;
use self::fetch::{Http, HttpOptions, Outcome};
use crate::advisory::store::{Store, StoreError};
use crate::package::{Ecosystem, PackageName};
use crate::vocab::Diagnostic;

/// At most this many per-package diagnostics of one code; the rest are summed up in one line.
const MAX_DIAGNOSTICS_PER_CODE: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{url}: {message}")]
    Fetch { url: String, message: String },
    /// A document that does not read as its protocol says; `key` names where (`time["1.0.0"]`).
    #[error("{url}: {}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Parse { url: String, key: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryError {
    fn parse(url: &str, key: &str, e: &serde_json::Error) -> RegistryError {
        RegistryError::Parse { url: url.to_owned(), key: key.to_owned(), message: e.to_string() }
    }

    fn key(url: &str, key: impl Into<String>, message: impl Into<String>) -> RegistryError {
        RegistryError::Parse { url: url.to_owned(), key: key.into(), message: message.into() }
    }
}

/// A JSON key whose presence matters (PEP 740 `provenance`, crates.io `trustpub_data`): read as
/// `Option<Presence>` with [`presence`], absent is `None`, `null` is `Some(Null)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Null,
    Value,
}

fn presence<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Presence>, D::Error> {
    use serde::Deserialize as _;
    let value = Option::<serde::de::IgnoredAny>::deserialize(d)?;
    Ok(Some(if value.is_some() { Presence::Value } else { Presence::Null }))
}

/// An RFC 3339 time as registries write it (`2021-10-22T12:15:44.123Z`, `+00:00` offsets).
fn parse_time(text: &str) -> Result<Timestamp, String> {
    text.trim().parse::<Timestamp>().map_err(|e| format!("expected an RFC 3339 time, found {text:?}: {e}"))
}

/// Where facts may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchMode {
    /// Fetch what is missing or older than `ttl` (conditionally when cached).
    Online { ttl: Duration },
    /// The cache only (`scan --offline`, `--no-metadata`): what is missing is not evaluated.
    CacheOnly,
}

/// Counts of one [`facts_for`] call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchStats {
    pub requested: usize,
    /// Answered from the cache without a request.
    pub cached: usize,
    /// Fetched in full.
    pub fetched: usize,
    /// Revalidated with a 304.
    pub not_modified: usize,
    /// The registry has no such package (now, or when the cached answer was fetched); these
    /// are also counted in `fetched` or `cached`.
    pub not_found: usize,
    /// No facts: fetch failed with nothing cached, not in the cache offline, or not fetched by
    /// design (GOPRIVATE...).
    pub not_evaluated: usize,
    /// Fetch failed, an older cached copy was used.
    pub stale: usize,
    /// Cache entries written (fetched, not found, revalidated), in one transaction.
    pub written: usize,
}

/// What [`facts_for`] found.
#[derive(Debug, Default)]
pub struct Metadata {
    pub facts: HashMap<(Ecosystem, PackageName), PackageFacts>,
    pub diagnostics: Vec<Diagnostic>,
    pub stats: FetchStats,
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub mode: FetchMode,
    /// Parallel requests.
    pub concurrency: usize,
    pub http: HttpOptions,
}

impl FetchOptions {
    pub fn new(mode: FetchMode) -> FetchOptions {
        FetchOptions { mode, concurrency: 8, http: HttpOptions::default() }
    }
}

/// The facts of each package, from the cache where fresh, else from its registry; the cache is
/// updated in one transaction. Errors are per package (diagnostics); only the database failing
/// is an error.
pub fn facts_for(
    store: &mut Store,
    config: &RegistryConfig,
    packages: &[(Ecosystem, PackageName)],
    options: &FetchOptions,
) -> Result<Metadata, RegistryError> {
    facts_read_ahead(store, config, packages, options, cache::ReadAhead::default())
}

/// [`facts_for`], taking first what [`cache::read_ahead`] read of the cache (`ahead`).
pub fn facts_read_ahead(
    store: &mut Store,
    config: &RegistryConfig,
    packages: &[(Ecosystem, PackageName)],
    options: &FetchOptions,
    ahead: cache::ReadAhead,
) -> Result<Metadata, RegistryError> {
    let mut unique: Vec<(Ecosystem, PackageName)> = packages.to_vec();
    unique.sort();
    unique.dedup();
    let now = crate::clock::now();
    let loaded = cache::load_many(store, &unique, ahead)?;
    let mut cached = loaded.entries;
    let mut meta =
        Metadata { stats: FetchStats { requested: unique.len(), ..FetchStats::default() }, ..Metadata::default() };
    let mut notes = Notes::default();
    // Facts to keep, judged for rewritten times all at once at the end.
    let mut kept = Vec::with_capacity(unique.len());
    for (eco, message) in loaded.damaged {
        notes.add("registry/cache-damaged", eco, message);
    }
    let mut to_fetch = Vec::new();
    // Each package's registry, computed once per ecosystem and npm scope (what it depends on).
    let mut registries: std::collections::HashMap<(Ecosystem, &str), String> = std::collections::HashMap::new();
    for (i, ((eco, name), slot)) in unique.iter().zip(&mut cached).enumerate() {
        let fresh = match (options.mode, &*slot) {
            (FetchMode::CacheOnly, _) => true,
            (FetchMode::Online { ttl }, Some(e)) => {
                let registry = registries
                    .entry(fetch::registry_key(*eco, name))
                    .or_insert_with(|| fetch::registry_of(config, *eco, name));
                e.registry == *registry
                    && now.duration_since(e.fetched_at) < jiff::SignedDuration::try_from(ttl).unwrap_or_default()
            }
            (FetchMode::Online { .. }, None) => false,
        };
        if !fresh {
            to_fetch.push(i);
            continue;
        }
        // Answered from the cache: the entry is moved into the result (no clone); only entries
        // to fetch stay in `cached`, for their validators.
        if let Some(e) = slot.take() {
            meta.stats.cached += 1;
            if let Some(facts) = e.facts {
                kept.push(facts);
            } else {
                meta.stats.not_found += 1;
                notes.add("registry/not-found", *eco, format!("{eco} {name}: the registry has no such package"));
            }
        } else {
            meta.stats.not_evaluated += 1;
            notes.count("registry/not-cached", *eco);
        }
    }
    if !to_fetch.is_empty() {
        let http = Http::new(config.clone(), options.http)?;
        let outcomes = fetch_all(&http, &unique, &cached, &to_fetch, now, options.concurrency);
        let mut writes = Vec::new();
        for (&i, outcome) in to_fetch.iter().zip(&outcomes) {
            let (eco, name) = &unique[i];
            let previous = cached[i].as_ref();
            match outcome {
                Ok(Outcome::Fresh(entry)) => {
                    meta.stats.fetched += 1;
                    if let Some(facts) = &entry.facts {
                        kept.push(facts.clone());
                    }
                    writes.push((*eco, name, Write::Entry(entry)));
                }
                Ok(Outcome::NotFound(entry)) => {
                    meta.stats.not_found += 1;
                    notes.add("registry/not-found", *eco, format!("{eco} {name}: the registry has no such package"));
                    writes.push((*eco, name, Write::Entry(entry)));
                }
                Ok(Outcome::NotModified) => {
                    meta.stats.not_modified += 1;
                    if let Some(mut facts) = previous.and_then(|e| e.facts.clone()) {
                        facts.fetched_at = now;
                        kept.push(facts);
                    }
                    writes.push((*eco, name, Write::Touch(now)));
                }
                Ok(Outcome::NotEvaluated(reason)) => {
                    meta.stats.not_evaluated += 1;
                    notes.add("registry/not-evaluated", *eco, format!("{eco} {name}: {reason}"));
                }
                Err(error) => {
                    if let Some(e) = previous.filter(|e| e.facts.is_some()) {
                        meta.stats.stale += 1;
                        notes.add(
                            "registry/stale",
                            *eco,
                            format!("{error}; using metadata cached at {}", e.fetched_at),
                        );
                        if let Some(facts) = &e.facts {
                            kept.push(facts.clone());
                        }
                    } else {
                        meta.stats.not_evaluated += 1;
                        notes.add("registry/fetch", *eco, error.to_string());
                    }
                }
            }
        }
        cache::write(store, &writes)?;
        meta.stats.written = writes.len();
    }
    keep(&mut meta, kept, config, &mut notes);
    meta.diagnostics = notes.finish();
    Ok(meta)
}

/// `sync --metadata`: revalidates every listed package now (conditional requests make unchanged
/// ones cost one 304 each).
pub fn sync_metadata(
    store: &mut Store,
    config: &RegistryConfig,
    packages: &[(Ecosystem, PackageName)],
    options: &FetchOptions,
) -> Result<Metadata, RegistryError> {
    let options = FetchOptions { mode: FetchMode::Online { ttl: Duration::ZERO }, ..options.clone() };
    facts_for(store, config, packages, &options)
}

/// Adds the facts to the result, with publish times dropped where they can't be trusted
/// ([`times::vet`]). One package's judgement takes about a microsecond: done here, not in the
/// rayon pool, where the scan's registry stage would wait behind the match's work for it.
fn keep(meta: &mut Metadata, kept: Vec<PackageFacts>, config: &RegistryConfig, notes: &mut Notes) {
    meta.facts.reserve(kept.len());
    for mut facts in kept {
        let eco = facts.ecosystem;
        if times::vet(&mut facts, config.untrusted_times.contains(&eco)) {
            let reason = facts.dropped_times.as_deref().unwrap_or_default();
            notes.add("registry/times-untrusted", eco, format!("{eco} {}: {reason}", facts.name));
        }
        meta.facts.insert((eco, facts.name.clone()), facts);
    }
}

fn fetch_all(
    http: &Http,
    unique: &[(Ecosystem, PackageName)],
    cached: &[Option<CacheEntry>],
    to_fetch: &[usize],
    now: Timestamp,
    concurrency: usize,
) -> Vec<Result<Outcome, RegistryError>> {
    use rayon::prelude::*;
    let run = || {
        to_fetch
            .par_iter()
            .map(|&i| {
                let (eco, name) = &unique[i];
                fetch::fetch(http, *eco, name, cached[i].as_ref(), now)
            })
            .collect()
    };
    match rayon::ThreadPoolBuilder::new().num_threads(concurrency.max(1)).build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}

/// Per-package diagnostics, capped per code and ecosystem.
#[derive(Default)]
struct Notes {
    by_code: BTreeMap<(&'static str, Ecosystem), (Vec<String>, usize)>,
    /// Codes said once per ecosystem with a count (every package alike: no names).
    counted: BTreeMap<(&'static str, Ecosystem), usize>,
}

impl Notes {
    fn add(&mut self, code: &'static str, eco: Ecosystem, message: String) {
        let (shown, more) = self.by_code.entry((code, eco)).or_default();
        if shown.len() < MAX_DIAGNOSTICS_PER_CODE {
            shown.push(message);
        } else {
            *more += 1;
        }
    }

    fn count(&mut self, code: &'static str, eco: Ecosystem) {
        *self.counted.entry((code, eco)).or_default() += 1;
    }

    fn finish(self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for ((code, eco), n) in self.counted {
            out.push(Diagnostic::new(
                code,
                format!(
                    "{n} {eco} packages have no cached registry metadata and the network is not used \
                     (--offline or --no-metadata): their stale and takeover signals are not evaluated; \
                     `bundleguard sync --metadata` caches it"
                ),
            ));
        }
        for ((code, eco), (shown, more)) in self.by_code {
            out.extend(shown.into_iter().map(|m| Diagnostic::new(code, m)));
            if more > 0 {
                out.push(Diagnostic::new(code, format!("{eco}: {more} more packages like the above")));
            }
        }
        out
    }
}
