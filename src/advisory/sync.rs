//! Sync from an osv.dev bucket layout (`<Ecosystem>/all.zip`, `<Ecosystem>/modified_id.csv`,
//! `<Ecosystem>/<ID>.json`; <https://google.github.io/osv.dev/data/>), served over HTTP(S) or
//! read from a local folder. The first sync of an ecosystem ingests its zip; later syncs read
//! `modified_id.csv` (conditionally: an unchanged CSV costs one 304) and fetch only the records
//! that changed, or the zip again when that is cheaper. Everything downloaded is validated before
//! the single write transaction starts, so a failed or killed sync leaves the last one intact.
//!
//! A flaky or hostile source must never make the database say less than it knows:
//! - a listing or zip that would remove more than [`MAX_REMOVED_SHARE_PERCENT`] % of what an
//!   ecosystem holds (and more than [`MAX_REMOVED_FLOOR`] records), or leave it empty, is refused
//!   (unless [`SyncOptions::allow_shrink`]); a CSV whose last line is cut is refused;
//! - a per-record body that is not the record asked for (empty, HTML, garbage, another id) fails
//!   the sync, naming the ids, and nothing is written, so they are fetched again next time;
//! - HTTP has connect and idle timeouts, an overall deadline, and gives up on a source after
//!   [`Patience::max_consecutive_failures`] failed requests in a row;
//! - zips are read under [`crate::zip_limits::Limits::advisory_zip`]; folder sources read only
//!   regular files (a FIFO or device is refused, never opened).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rayon::prelude::*;

use super::osv::{self, Advisory};
use super::store::{CheckReport, Store, StoreError, SyncState};
use crate::package::Ecosystem;
use crate::zip_limits::{Budget, Limits};

/// The osv.dev bucket.
pub const DEFAULT_SOURCE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// Largest download accepted (the npm zip was 142 MB in Nov 2025).
const MAX_DOWNLOAD: u64 = 2 << 30;
/// Largest single record accepted from a zip or a per-record fetch.
const MAX_RECORD: u64 = 32 << 20;
/// Largest `modified_id.csv` accepted (npm's was 2 MB in Nov 2026).
const MAX_LISTING: u64 = 256 << 20;

/// The most bytes a file of the bucket may have: a record, a listing or a zip.
fn cap_for(rel: &str) -> u64 {
    if rel.ends_with("/all.zip") {
        MAX_DOWNLOAD
    } else if rel.ends_with("/modified_id.csv") {
        MAX_LISTING
    } else {
        MAX_RECORD
    }
}
/// Above this many changed records (or this share of the folder), the zip is fetched instead.
const MAX_INDIVIDUAL_FETCHES: usize = 500;
/// One sync may remove at most this share (percent) of the records an ecosystem holds...
pub const MAX_REMOVED_SHARE_PERCENT: usize = 10;
/// ...or this many records, whichever is larger (so that small databases can still lose one).
pub const MAX_REMOVED_FLOOR: usize = 10;
/// Ids named in an error message, at most.
const IDS_SHOWN: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{url}: {message}")]
    Fetch { url: String, message: String },
    #[error("{url}: corrupt or truncated download, nothing ingested: {detail}")]
    Corrupt { url: String, detail: String },
    #[error(
        "{source_name}: giving up on this source: {failures} requests in a row failed (it looks down); last: {last}"
    )]
    Down { source_name: String, failures: usize, last: String },
    #[error("{url}:{line}: {message}")]
    Csv { url: String, line: usize, message: String },
    #[error("{url}: refusing to sync {ecosystem}: {why}; the database keeps its {held} {ecosystem} records")]
    Implausible { url: String, ecosystem: Ecosystem, held: usize, why: String },
    #[error(
        "{source_name}: {} {ecosystem} record(s) did not arrive intact ({why}): {}; nothing was written, they will be fetched again on the next sync",
        ids.len(), show_ids(ids)
    )]
    Lost { source_name: String, ecosystem: Ecosystem, ids: Vec<String>, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where records come from: an HTTP(S) base URL or a local folder with the bucket layout.
#[derive(Debug, Clone)]
pub enum Source {
    Http { base: String, client: reqwest::blocking::Client, patience: Patience, health: Arc<Health> },
    Dir(PathBuf),
}

/// How long an HTTP source is waited for, and when it is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patience {
    /// Connecting (TCP + TLS).
    pub connect: Duration,
    /// No byte for this long (waiting for the headers or within a body) fails the attempt.
    pub idle: Duration,
    /// The whole sync, retries included: past it, no new request starts and downloads stop.
    pub deadline: Duration,
    /// First wait between attempts (doubled each time).
    pub retry_base: Duration,
    /// Failed requests in a row (5xx, timeouts, cut connections) after which the source is
    /// taken as down and the sync stops.
    pub max_consecutive_failures: usize,
}

impl Default for Patience {
    fn default() -> Patience {
        Patience {
            connect: Duration::from_secs(15),
            idle: Duration::from_secs(30),
            deadline: Duration::from_mins(30),
            retry_base: Duration::from_millis(250),
            max_consecutive_failures: 8,
        }
    }
}

/// What a sync has seen of an HTTP source so far (shared by parallel fetches).
#[derive(Debug, Default)]
pub struct Health {
    started: OnceLock<Instant>,
    consecutive_failures: AtomicUsize,
}

impl Health {
    fn deadline(&self, patience: &Patience) -> Instant {
        *self.started.get_or_init(Instant::now) + patience.deadline
    }
}

/// How a sync treats what the source says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Accept a listing or zip that removes many records (a source that really shrank).
    pub allow_shrink: bool,
}

/// What a conditional fetch returned.
enum Fetched {
    NotModified,
    Body { bytes: Vec<u8>, etag: Option<String> },
    NotFound,
}

impl Source {
    /// `http://` / `https://` URLs are mirrors; anything else is a folder.
    pub fn parse(spec: &str) -> Result<Source, SyncError> {
        Source::parse_with(spec, Patience::default())
    }

    /// [`Source::parse`] with explicit timeouts.
    pub fn parse_with(spec: &str, patience: Patience) -> Result<Source, SyncError> {
        if spec.starts_with("http://") || spec.starts_with("https://") {
            Ok(Source::Http {
                base: spec.trim_end_matches('/').to_owned(),
                client: http_client(&patience).map_err(|message| SyncError::Fetch { url: spec.to_owned(), message })?,
                patience,
                health: Arc::default(),
            })
        } else {
            let dir = PathBuf::from(spec);
            let not_a_folder = |message: String| SyncError::Fetch { url: spec.to_owned(), message };
            match fs_err::metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) => {
                    return Err(not_a_folder(format!(
                        "is {}, not a folder with the OSV bucket layout (or an http(s):// URL)",
                        file_kind(&meta)
                    )));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(not_a_folder(
                        "no such folder (expected a folder with the OSV bucket layout or an http(s):// URL)".into(),
                    ));
                }
                Err(e) => return Err(not_a_folder(e.to_string())),
            }
            // Canonical, so that the same folder named differently is still the same source.
            Ok(Source::Dir(fs_err::canonicalize(&dir).unwrap_or(dir)))
        }
    }

    /// Shorter waits between retries (tests).
    #[must_use]
    pub fn with_retry_base(mut self, wait: Duration) -> Source {
        if let Source::Http { patience, .. } = &mut self {
            patience.retry_base = wait;
        }
        self
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Http { base, .. } => base.clone(),
            Source::Dir(dir) => dir.display().to_string(),
        }
    }

    fn url(&self, rel: &str) -> String {
        match self {
            Source::Http { base, .. } => format!("{base}/{rel}"),
            Source::Dir(dir) => dir.join(rel).display().to_string(),
        }
    }

    fn fetch(&self, rel: &str, etag: Option<&str>, progress: &dyn Fn(u64, Option<u64>)) -> Result<Fetched, SyncError> {
        match self {
            Source::Http { client, patience, health, .. } => {
                fetch_http(client, patience, health, &self.url(rel), etag, cap_for(rel), progress)
            }
            Source::Dir(dir) => fetch_file(&dir.join(rel), etag, cap_for(rel)),
        }
    }
}

/// What kind of file system object this is, for messages.
pub(crate) fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else if meta.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn http_client(patience: &Patience) -> Result<reqwest::blocking::Client, String> {
    crate::http::client(patience.connect, patience.idle)
}

fn fetch_http(
    client: &reqwest::blocking::Client,
    patience: &Patience,
    health: &Health,
    url: &str,
    etag: Option<&str>,
    cap: u64,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<Fetched, SyncError> {
    const ATTEMPTS: u32 = 4;
    let deadline = health.deadline(patience);
    let fail = |message: String| SyncError::Fetch { url: url.to_owned(), message };
    let mut last_error = String::new();
    for attempt in 0..ATTEMPTS {
        let failures = health.consecutive_failures.load(Ordering::SeqCst);
        if failures >= patience.max_consecutive_failures {
            let last =
                if last_error.is_empty() { "another request".to_owned() } else { format!("{url}: {last_error}") };
            return Err(SyncError::Down { source_name: base_of(url), failures, last });
        }
        if attempt > 0 {
            let wait = patience.retry_base * 2u32.pow(attempt - 1);
            std::thread::sleep(wait.min(deadline.saturating_duration_since(Instant::now())));
        }
        if Instant::now() >= deadline {
            let why = if last_error.is_empty() { String::new() } else { format!(" (last error: {last_error})") };
            return Err(fail(format!("the sync deadline of {} s passed{why}", patience.deadline.as_secs())));
        }
        match fetch_http_once(client, url, etag, Limit { cap, deadline }, progress) {
            Ok(fetched) => {
                health.consecutive_failures.store(0, Ordering::SeqCst);
                return Ok(fetched);
            }
            Err(Attempt::Fatal(message)) => return Err(fail(message)),
            Err(Attempt::Retry(message)) => {
                health.consecutive_failures.fetch_add(1, Ordering::SeqCst);
                last_error = message;
            }
        }
    }
    Err(fail(format!("{last_error} (gave up after {ATTEMPTS} attempts)")))
}

enum Attempt {
    Retry(String),
    Fatal(String),
}

fn fetch_http_once(
    client: &reqwest::blocking::Client,
    url: &str,
    etag: Option<&str>,
    limit: Limit,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<Fetched, Attempt> {
    let mut request = client.get(url);
    if let Some(tag) = etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, tag);
    }
    let response = request.send().map_err(|e| Attempt::Retry(format!("request failed: {}", error_chain(&e))))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(Fetched::NotFound);
    }
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Attempt::Retry(format!("server answered {status}")));
    }
    if !status.is_success() {
        return Err(Attempt::Fatal(format!("server answered {status}")));
    }
    let new_etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let expected = response.content_length();
    if expected.is_some_and(|n| n > limit.cap) {
        return Err(Attempt::Fatal(format!("refusing a download of {} bytes", expected.unwrap_or(0))));
    }
    let bytes = read_capped(response, expected, limit, progress)?;
    if let Some(n) = expected.filter(|&n| n != bytes.len() as u64) {
        return Err(Attempt::Retry(format!("download ended early: {} of {n} bytes", bytes.len())));
    }
    Ok(Fetched::Body { bytes, etag: new_etag })
}

/// The source's base URL, from one of its file URLs (`<base>/<Ecosystem>/<file>`).
fn base_of(url: &str) -> String {
    let mut parts = url.rsplitn(3, '/');
    let _file = parts.next();
    let _eco = parts.next();
    parts.next().unwrap_or(url).to_owned()
}

/// `e` and its sources on one line ("operation timed out" hides below reqwest's own text).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = inner.source();
    }
    text
}

/// What one download may take: bytes and time.
#[derive(Debug, Clone, Copy)]
struct Limit {
    cap: u64,
    deadline: Instant,
}

fn read_capped(
    mut reader: impl Read,
    expected: Option<u64>,
    limit: Limit,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<Vec<u8>, Attempt> {
    let mut bytes = Vec::with_capacity(usize::try_from(expected.unwrap_or(0).min(limit.cap)).unwrap_or(0));
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| {
            Attempt::Retry(format!("download interrupted after {} bytes: {}", bytes.len(), error_chain(&e)))
        })?;
        if n == 0 {
            return Ok(bytes);
        }
        if Instant::now() >= limit.deadline {
            return Err(Attempt::Retry(format!(
                "the sync deadline passed after {} bytes of this download",
                bytes.len()
            )));
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > limit.cap {
            return Err(Attempt::Fatal(format!("refusing a download of more than {} bytes", limit.cap)));
        }
        progress(bytes.len() as u64, expected);
    }
}

/// A folder source: the "ETag" is the file's size and modification time. Only regular files
/// are read: a FIFO or device is refused from its metadata, before anything opens it.
fn fetch_file(path: &Path, etag: Option<&str>, cap: u64) -> Result<Fetched, SyncError> {
    let fail = |message: String| SyncError::Fetch { url: path.display().to_string(), message };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Fetched::NotFound),
        Err(e) => return Err(fail(e.to_string())),
    };
    if !meta.is_file() {
        return Err(fail(format!("is {}, not a regular file: not read", file_kind(&meta))));
    }
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    let tag = format!("\"{}-{}\"", meta.len(), mtime.as_nanos());
    if etag == Some(tag.as_str()) {
        return Ok(Fetched::NotModified);
    }
    if meta.len() > cap {
        return Err(fail(format!("{} bytes is more than the {cap}-byte limit", meta.len())));
    }
    let file = fs_err::File::open(path).map_err(|e| fail(e.to_string()))?;
    // The file may have been swapped since the check: look again at what was opened.
    let opened = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !opened.is_file() {
        return Err(fail(format!("is {}, not a regular file: not read", file_kind(&opened))));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut bytes).map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(fail(format!("more than the {cap}-byte limit")));
    }
    Ok(Fetched::Body { bytes, etag: Some(tag) })
}

/// Progress and log events, rendered by the CLI (bars on a terminal, lines in CI).
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Checking { ecosystem: Ecosystem },
    Downloading { ecosystem: Ecosystem, what: &'a str, done: u64, total: Option<u64> },
    Parsing { ecosystem: Ecosystem, records: usize },
    UpToDate { ecosystem: Ecosystem },
    Planned { ecosystem: Ecosystem, plan: &'a str },
    Writing,
}

pub trait Observer: Sync {
    fn event(&self, event: &Event<'_>);
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event<'_>) {}
}

/// A record that was skipped, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub file: String,
    pub error: String,
}

/// How one ecosystem was synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The CSV (or folder file) had not changed: nothing was downloaded but one request.
    UpToDate,
    /// The whole zip was ingested.
    Full,
    /// Only changed records were fetched.
    Incremental,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::UpToDate => "up to date",
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }
}

/// What a sync did for one ecosystem.
#[derive(Debug, Clone)]
pub struct EcosystemReport {
    pub ecosystem: Ecosystem,
    pub mode: Mode,
    /// Records added or changed.
    pub changed: Vec<String>,
    /// Records the folder no longer lists.
    pub removed: Vec<String>,
    pub malformed: Vec<Malformed>,
    /// Records in the folder after the sync.
    pub total: usize,
}

#[derive(Debug, Clone)]
pub struct SyncReport {
    pub source: String,
    pub ecosystems: Vec<EcosystemReport>,
}

/// Everything one ecosystem's sync will write, prepared before the transaction.
struct Plan {
    ecosystem: Ecosystem,
    mode: Mode,
    replace_all: bool,
    records: Vec<(Advisory, String)>,
    removed: Vec<String>,
    malformed: Vec<Malformed>,
    state: SyncState,
    total: usize,
}

/// Syncs the given ecosystems from `source` into `store`, in one transaction.
pub fn sync(
    store: &mut Store,
    source: &Source,
    ecosystems: &[Ecosystem],
    observer: &dyn Observer,
) -> Result<SyncReport, SyncError> {
    sync_with(store, source, ecosystems, SyncOptions::default(), observer)
}

/// [`sync`] with options. Every ecosystem is planned (downloaded and validated) first; any
/// error leaves the database as it was.
pub fn sync_with(
    store: &mut Store,
    source: &Source,
    ecosystems: &[Ecosystem],
    options: SyncOptions,
    observer: &dyn Observer,
) -> Result<SyncReport, SyncError> {
    let mut plans = Vec::new();
    for &eco in ecosystems {
        observer.event(&Event::Checking { ecosystem: eco });
        plans.push(plan_ecosystem(store, source, eco, options, observer)?);
    }
    observer.event(&Event::Writing);
    let mut ingest = store.ingest()?;
    for plan in &plans {
        if plan.replace_all {
            ingest.clear_ecosystem(plan.ecosystem)?;
        }
        for (advisory, raw) in &plan.records {
            ingest.upsert(plan.ecosystem, advisory, raw)?;
        }
        for id in &plan.removed {
            ingest.remove(plan.ecosystem, id)?;
        }
        ingest.set_state(plan.ecosystem, &plan.state)?;
    }
    match ingest.commit() {
        Err(StoreError::FailedCheck { path, detail }) => {
            // Rolled back; the file itself is damaged: say so to every later reader.
            let _ = store.record_check(&CheckReport { problems: vec![detail.clone()] });
            return Err(StoreError::FailedCheck { path, detail }.into());
        }
        other => other?,
    }
    Ok(SyncReport { source: source.describe(), ecosystems: plans.into_iter().map(Plan::into_report).collect() })
}

/// Refuses to remove more than `max(MAX_REMOVED_FLOOR, MAX_REMOVED_SHARE_PERCENT % of held)`
/// records of an ecosystem on the word of one listing or zip (`rel`).
fn check_removals(
    source: &Source,
    eco: Ecosystem,
    rel: &str,
    held: usize,
    removed: &[String],
) -> Result<(), SyncError> {
    let allowed = MAX_REMOVED_FLOOR.max(held * MAX_REMOVED_SHARE_PERCENT / 100);
    if removed.len() <= allowed {
        return Ok(());
    }
    Err(SyncError::Implausible {
        url: source.url(rel),
        ecosystem: eco,
        held,
        why: format!(
            "it would remove {} records ({}), more than the {allowed} one sync may remove (a short or cut download?); if the source really shrank, run `bundleguard sync --allow-shrink`",
            removed.len(),
            show_ids(removed)
        ),
    })
}

/// `A, B, C and 12 more`.
fn show_ids(ids: &[String]) -> String {
    let mut text = ids.iter().take(IDS_SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    if ids.len() > IDS_SHOWN {
        use std::fmt::Write as _;
        let _ = write!(text, " and {} more", ids.len() - IDS_SHOWN);
    }
    text
}

impl Plan {
    fn into_report(self) -> EcosystemReport {
        EcosystemReport {
            ecosystem: self.ecosystem,
            mode: self.mode,
            changed: self.records.into_iter().map(|(a, _)| a.id).collect(),
            removed: self.removed,
            malformed: self.malformed,
            total: self.total,
        }
    }
}

fn plan_ecosystem(
    store: &Store,
    source: &Source,
    eco: Ecosystem,
    options: SyncOptions,
    observer: &dyn Observer,
) -> Result<Plan, SyncError> {
    let previous = store.sync_state(eco)?.filter(|s| s.source == source.describe());
    let csv_rel = format!("{}/modified_id.csv", eco.as_str());
    let csv_etag = previous.as_ref().and_then(|s| s.csv_etag.as_deref());
    let progress =
        |done, total| observer.event(&Event::Downloading { ecosystem: eco, what: "modified_id.csv", done, total });
    let (csv_bytes, new_csv_etag) = match source.fetch(&csv_rel, csv_etag, &progress)? {
        Fetched::NotModified => {
            observer.event(&Event::UpToDate { ecosystem: eco });
            let state = SyncState { synced_at: Some(Timestamp::now()), ..previous.unwrap_or_default() };
            let total = store.record_count(eco)?;
            return Ok(Plan::up_to_date(eco, state, total));
        }
        Fetched::NotFound => return Err(not_found(source, &csv_rel)),
        Fetched::Body { bytes, etag } => (bytes, etag),
    };
    let listed = parse_modified_csv(&source.url(&csv_rel), &csv_bytes)?;
    let known = store.known_records(eco)?;
    let changed: Vec<&str> =
        listed.iter().filter(|(id, modified)| known.get(*id) != Some(modified)).map(|(id, _)| id.as_str()).collect();
    let listed_ids: HashSet<&str> = listed.keys().map(String::as_str).collect();
    let mut removed: Vec<String> = known.keys().filter(|id| !listed_ids.contains(id.as_str())).cloned().collect();
    removed.sort();
    let state = SyncState {
        source: source.describe(),
        csv_etag: new_csv_etag,
        zip_etag: previous.as_ref().and_then(|s| s.zip_etag.clone()),
        synced_at: Some(Timestamp::now()),
        malformed: 0,
    };
    let incremental = previous.is_some() && changed.len() <= MAX_INDIVIDUAL_FETCHES.min(known.len() / 5 + 1);
    if changed.is_empty() && removed.is_empty() && previous.is_some() {
        observer.event(&Event::UpToDate { ecosystem: eco });
        let malformed = previous.as_ref().map_or(0, |s| s.malformed);
        return Ok(Plan {
            mode: Mode::Incremental,
            ..Plan::up_to_date(eco, SyncState { malformed, ..state }, known.len())
        });
    }
    let held = known.len();
    if !options.allow_shrink {
        // The listing's word on removals is checked before anything else is downloaded.
        check_removals(source, eco, &csv_rel, held, &removed)?;
    }
    if incremental {
        observer.event(&Event::Planned { ecosystem: eco, plan: "incremental" });
        if let Some(plan) = fetch_records(source, eco, &changed, removed, state.clone(), listed.len(), observer)? {
            return Ok(plan);
        }
    }
    observer.event(&Event::Planned { ecosystem: eco, plan: "full" });
    let mut plan = full_plan(source, eco, state, observer)?;
    let kept: HashSet<&str> = plan.records.iter().map(|(a, _)| a.id.as_str()).collect();
    let mut gone: Vec<String> = known.into_keys().filter(|id| !kept.contains(id.as_str())).collect();
    gone.sort();
    let zip_rel = format!("{}/all.zip", eco.as_str());
    if plan.records.is_empty() {
        // Never, not even with --allow-shrink: an ecosystem synced to nothing looks checked.
        let why = match plan.malformed.len() {
            0 => "it holds no records".to_owned(),
            n => format!("all {n} records in it are malformed"),
        };
        return Err(SyncError::Implausible { url: source.url(&zip_rel), ecosystem: eco, held, why });
    }
    if !options.allow_shrink {
        check_removals(source, eco, &zip_rel, held, &gone)?;
    }
    plan.removed = gone;
    Ok(plan)
}

fn not_found(source: &Source, rel: &str) -> SyncError {
    SyncError::Fetch {
        url: source.url(rel),
        message: "not found (is this an OSV bucket layout with that ecosystem?)".into(),
    }
}

impl Plan {
    fn up_to_date(ecosystem: Ecosystem, state: SyncState, total: usize) -> Plan {
        Plan {
            ecosystem,
            mode: Mode::UpToDate,
            replace_all: false,
            records: Vec::new(),
            removed: Vec::new(),
            malformed: Vec::new(),
            state,
            total,
        }
    }
}
/// Fetches changed records one by one; `None` when the source has no per-record files.
fn fetch_records(
    source: &Source,
    eco: Ecosystem,
    ids: &[&str],
    removed: Vec<String>,
    mut state: SyncState,
    total: usize,
    observer: &dyn Observer,
) -> Result<Option<Plan>, SyncError> {
    type Body = Option<(String, Vec<u8>)>;
    let fetched: Vec<Result<Body, SyncError>> = ids
        .par_iter()
        .map(|id| {
            let rel = format!("{}/{}.json", eco.as_str(), percent_encode_id(id));
            match source.fetch(&rel, None, &|_, _| {})? {
                Fetched::Body { bytes, .. } => Ok(Some(((*id).to_owned(), bytes))),
                Fetched::NotFound | Fetched::NotModified => Ok(None),
            }
        })
        .collect();
    let mut bodies = Vec::with_capacity(fetched.len());
    let mut first_error = None;
    let mut missing = false;
    for item in fetched {
        match item {
            Ok(Some(body)) => bodies.push(body),
            Ok(None) => missing = true,
            // When the source went down, say that rather than one record's own failure.
            Err(down @ SyncError::Down { .. }) => return Err(down),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if missing {
        return Ok(None);
    }
    let lost: Vec<String> =
        bodies.iter().filter(|(id, bytes)| !is_the_record(id, bytes)).map(|(id, _)| id.clone()).collect();
    if !lost.is_empty() {
        return Err(SyncError::Lost {
            source_name: source.describe(),
            ecosystem: eco,
            ids: lost,
            why: "empty, HTML, not JSON, or not the record asked for".into(),
        });
    }
    let bodies: Vec<(String, Vec<u8>)> = bodies.into_iter().map(|(id, bytes)| (format!("{id}.json"), bytes)).collect();
    observer.event(&Event::Parsing { ecosystem: eco, records: bodies.len() });
    let (records, malformed) = parse_bodies(bodies);
    state.malformed = i64::try_from(malformed.len()).unwrap_or(i64::MAX);
    Ok(Some(Plan {
        ecosystem: eco,
        mode: Mode::Incremental,
        replace_all: false,
        records,
        removed,
        malformed,
        state,
        total,
    }))
}

/// Whether a per-record body is the record asked for: a JSON object whose `id` is `id`. One that
/// is not (an error page, an empty or cut body) is a transport failure, retried next sync; one
/// that is but breaks the OSV schema is the source's own malformed record, counted and skipped.
fn is_the_record(id: &str, bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: String,
    }
    serde_json::from_slice::<IdOnly>(bytes).is_ok_and(|r| r.id == id)
}

fn percent_encode_id(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn full_plan(
    source: &Source,
    eco: Ecosystem,
    mut state: SyncState,
    observer: &dyn Observer,
) -> Result<Plan, SyncError> {
    let rel = format!("{}/all.zip", eco.as_str());
    let progress = |done, total| observer.event(&Event::Downloading { ecosystem: eco, what: "all.zip", done, total });
    let (zip, etag) = match source.fetch(&rel, None, &progress)? {
        Fetched::Body { bytes, etag } => (bytes, etag),
        Fetched::NotFound | Fetched::NotModified => return Err(not_found(source, &rel)),
    };
    let entries = read_zip(&source.url(&rel), &zip)?;
    drop(zip);
    observer.event(&Event::Parsing { ecosystem: eco, records: entries.len() });
    let (records, malformed) = parse_bodies(entries);
    state.zip_etag = etag;
    state.malformed = i64::try_from(malformed.len()).unwrap_or(i64::MAX);
    let total = records.len();
    Ok(Plan {
        ecosystem: eco,
        mode: Mode::Full,
        replace_all: true,
        records,
        removed: Vec::new(),
        malformed,
        state,
        total,
    })
}

/// Decompresses every `*.json` entry, in parallel, under [`Limits::advisory_zip`] (checked on
/// the declared sizes first, then on the bytes actually inflated). Any unreadable entry (bad
/// CRC, truncated data) rejects the whole zip: a corrupt download is never half-ingested.
fn read_zip(url: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
    read_zip_within(url, bytes, &Limits::advisory_zip())
}

fn read_zip_within(url: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
    let corrupt = |detail: String| SyncError::Corrupt { url: url.to_owned(), detail };
    let bomb = |detail: String| SyncError::Corrupt {
        url: url.to_owned(),
        detail: format!("refused as a possible zip bomb: {detail}"),
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
    let count = archive.len();
    let mut budget = Budget::new(limits, count).map_err(bomb)?;
    for i in 0..count {
        let entry = archive.by_index_raw(i).map_err(|e| corrupt(format!("entry {i}: {e}")))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        budget.admit(&name, entry.size(), entry.compressed_size()).map_err(bomb)?;
    }
    let inflated = AtomicUsize::new(0);
    let max_total = usize::try_from(limits.max_total_bytes).unwrap_or(usize::MAX);
    let max_record = limits.max_metadata_bytes.min(MAX_RECORD);
    (0..count)
        .into_par_iter()
        .map_init(
            || archive.clone(),
            |archive, i| {
                let options = zip::read::ZipReadOptions::new().enforce_header_consistency(true);
                let mut file =
                    archive.by_index_with_options(i, options).map_err(|e| corrupt(format!("entry {i}: {e}")))?;
                let name = file.name().map_err(|e| corrupt(format!("entry {i}: {e}")))?.into_owned();
                if !Path::new(&name).extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json")) || file.is_dir() {
                    return Ok(None);
                }
                if file.size() > max_record {
                    return Err(corrupt(format!(
                        "{name}: {} bytes is larger than any OSV record should be",
                        file.size()
                    )));
                }
                let mut data = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
                (&mut file).take(max_record + 1).read_to_end(&mut data).map_err(|e| corrupt(format!("{name}: {e}")))?;
                if data.len() as u64 > max_record {
                    return Err(corrupt(format!("{name}: more than {max_record} bytes inflated")));
                }
                if inflated.fetch_add(data.len(), Ordering::Relaxed).saturating_add(data.len()) > max_total {
                    return Err(bomb(format!("more than {max_total} bytes inflated in total")));
                }
                Ok(Some((name, data)))
            },
        )
        .filter_map(Result::transpose)
        .collect()
}

/// Parses records in parallel; the ones that fail are set aside with their error.
fn parse_bodies(bodies: Vec<(String, Vec<u8>)>) -> (Vec<(Advisory, String)>, Vec<Malformed>) {
    let parsed: Vec<Result<(Advisory, String), Malformed>> = bodies
        .into_par_iter()
        .map(|(file, bytes)| {
            let advisory =
                osv::parse_record(&bytes).map_err(|e| Malformed { file: file.clone(), error: e.to_string() })?;
            let raw = String::from_utf8(bytes).map_err(|_| Malformed { file, error: "not UTF-8".into() })?;
            Ok((advisory, raw))
        })
        .collect();
    let mut records = Vec::with_capacity(parsed.len());
    let mut malformed = Vec::new();
    for item in parsed {
        match item {
            Ok(record) => records.push(record),
            Err(bad) => malformed.push(bad),
        }
    }
    records.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    malformed.sort_by(|a, b| a.file.cmp(&b.file));
    (records, malformed)
}

/// Parses `modified_id.csv`: `<RFC 3339 time>,<ID>` per line, LF or CRLF, newest first (by
/// string, so not strictly by time). Times are compared parsed, never as strings.
pub fn parse_modified_csv(url: &str, bytes: &[u8]) -> Result<HashMap<String, Timestamp>, SyncError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SyncError::Csv {
        url: url.to_owned(),
        line: 0,
        message: format!("not UTF-8: {e}"),
    })?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(SyncError::Csv {
            url: url.to_owned(),
            line: text.lines().count(),
            message: "the last line is cut (no line end): a truncated download".into(),
        });
    }
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let csv_error = |message: String| SyncError::Csv { url: url.to_owned(), line: n + 1, message };
        let (time, id) =
            line.split_once(',').ok_or_else(|| csv_error(format!("expected `<modified>,<id>`, found {line:?}")))?;
        let modified = osv::parse_time("modified", Some(time)).map_err(|e| csv_error(e.message))?.unwrap_or_default();
        let id = id.rsplit('/').next().unwrap_or(id).trim();
        if id.is_empty() {
            return Err(csv_error("empty id".into()));
        }
        out.insert(id.to_owned(), modified);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_accepts_both_exporter_styles() {
        let csv = b"2024-10-08T19:19:01.400000Z,GHSA-a\r\n2026-08-21T20:38:00Z,GO-2026-5026\r\n2024-10-08T19:19:01.4Z,npm/GHSA-b\n";
        let rows = parse_modified_csv("u", csv).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows["GHSA-a"], rows["GHSA-b"]);
        assert!(rows.contains_key("GO-2026-5026"));
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = parse_modified_csv("u/modified_id.csv", b"2024-10-08T19:19:01Z,A\nnot a row\n").unwrap_err();
        assert_eq!(err.to_string(), "u/modified_id.csv:2: expected `<modified>,<id>`, found \"not a row\"");
        let err = parse_modified_csv("u", b"2024-13-08T19:19:01Z,A\n").unwrap_err();
        assert!(err.to_string().starts_with("u:1: \"2024-13-08T19:19:01Z\" is not an RFC 3339 time"), "{err}");
    }

    #[test]
    fn a_csv_cut_mid_line_is_refused() {
        let err = parse_modified_csv("u/modified_id.csv", b"2024-10-08T19:19:01Z,A\n2024-10-08T19:19:01Z,GHSA-x")
            .unwrap_err();
        assert_eq!(err.to_string(), "u/modified_id.csv:2: the last line is cut (no line end): a truncated download");
        assert!(parse_modified_csv("u", b"").unwrap().is_empty(), "empty is judged by the removal rule");
    }

    #[test]
    fn removals_are_capped_by_share_and_floor() {
        let source = Source::Dir(PathBuf::from("/b"));
        let ids = |n: usize| (0..n).map(|i| format!("ID-{i}")).collect::<Vec<_>>();
        assert!(check_removals(&source, Ecosystem::Go, "Go/modified_id.csv", 50, &ids(10)).is_ok());
        assert!(check_removals(&source, Ecosystem::Go, "Go/modified_id.csv", 50, &ids(11)).is_err());
        assert!(check_removals(&source, Ecosystem::Go, "Go/modified_id.csv", 4626, &ids(462)).is_ok());
        let err = check_removals(&source, Ecosystem::Go, "Go/modified_id.csv", 4626, &ids(463)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("/b/Go/modified_id.csv: refusing to sync Go: it would remove 463 records (ID-0, "),
            "{text}"
        );
        assert!(text.contains("ID-9 and 453 more), more than the 462 one sync may remove"), "{text}");
        assert!(text.ends_with("the database keeps its 4626 Go records"), "{text}");
    }

    #[test]
    fn a_record_body_must_be_the_record_asked_for() {
        assert!(is_the_record("GO-1", br#"{"id": "GO-1", "modified": 3}"#));
        assert!(!is_the_record("GO-1", br#"{"id": "GO-2"}"#));
        assert!(!is_the_record("GO-1", b"<!DOCTYPE html><html>503</html>"));
        assert!(!is_the_record("GO-1", b""));
        assert!(!is_the_record("GO-1", br#"{"id": "GO-1", "summ"#));
    }

    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write as _;
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            out.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn advisory_zips_are_read_within_limits() {
        let record = br#"{"id":"A","modified":"2024-01-01T00:00:00Z"}"#.to_vec();
        let zip = zip_of(&[("A.json", record.clone()), ("B.json", record.clone()), ("C.json", record)]);
        assert_eq!(read_zip("u", &zip).unwrap().len(), 3);
        let few = Limits { max_entries: 2, ..Limits::advisory_zip() };
        let err = read_zip_within("u/all.zip", &zip, &few).unwrap_err().to_string();
        assert!(err.ends_with("refused as a possible zip bomb: 3 entries is more than the limit of 2"), "{err}");
        let small = Limits { max_total_bytes: 100, ..Limits::advisory_zip() };
        let err = read_zip_within("u/all.zip", &zip, &small).unwrap_err().to_string();
        assert!(err.contains("more than 100 bytes uncompressed in total"), "{err}");
        let bomb = zip_of(&[("X.json", vec![b' '; 8 << 20])]);
        let err = read_zip("u/all.zip", &bomb).unwrap_err().to_string();
        assert!(err.contains("X.json: compression ratio") && err.contains("above the limit of 200:1"), "{err}");
    }

    #[test]
    fn downloads_are_capped_by_what_the_file_is() {
        assert_eq!(cap_for("npm/GHSA-x.json"), MAX_RECORD);
        assert_eq!(cap_for("npm/modified_id.csv"), MAX_LISTING);
        assert_eq!(cap_for("npm/all.zip"), MAX_DOWNLOAD);
        let limit = Limit { cap: 10, deadline: Instant::now() + Duration::from_mins(1) };
        assert!(matches!(read_capped(&b"0123456789"[..], None, limit, &|_, _| {}), Ok(b) if b.len() == 10));
        let Err(Attempt::Fatal(message)) = read_capped(&b"0123456789A"[..], None, limit, &|_, _| {}) else {
            panic!("an oversized body is refused, not retried");
        };
        assert_eq!(message, "refusing a download of more than 10 bytes");
    }

    #[test]
    fn ids_are_percent_encoded_for_urls() {
        assert_eq!(percent_encode_id("GHSA-abcd-1234"), "GHSA-abcd-1234");
        assert_eq!(percent_encode_id("a/b c"), "a%2Fb%20c");
    }
}
