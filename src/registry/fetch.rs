//! Fetching one package's metadata from its registry: conditional GETs (ETag / Last-Modified),
//! retries with backoff on connection errors and 5xx, `429` with `Retry-After` honoured (up to a
//! cap), bounded bodies, credentials only for the host they belong to. One function per
//! protocol turns the answers into [`Outcome`]s; parsing is in the protocol modules.

use std::sync::OnceLock;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER};

use super::cache::CacheEntry;
use super::config::{RegistryConfig, redact};
use super::facts::PackageFacts;
use super::golang::{self, ProxyEntry};
use super::{RegistryError, crates, npm, pypi};
use crate::package::{Ecosystem, PackageName};

/// Largest metadata document accepted (the biggest npm packuments are a few hundred MB).
const MAX_BODY: u64 = 512 << 20;
/// At most this many `.info` requests per Go module on a first fetch; older versions keep an
/// unknown publish time.
const MAX_GO_INFOS: usize = 300;
/// At most this many pages of the crates.io version list.
const MAX_API_PAGES: usize = 20;

/// How the HTTP layer behaves.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    /// First wait between retries (doubled each time).
    pub retry_base: Duration,
    pub attempts: u32,
    /// The longest `Retry-After` honoured; a longer one fails the package (not evaluated).
    pub max_retry_after: Duration,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions { retry_base: Duration::from_millis(500), attempts: 4, max_retry_after: Duration::from_mins(1) }
    }
}

/// The validators sent with a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validators<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

/// A response worth keeping.
pub enum Answer {
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
        content_type: Option<String>,
    },
    NotModified,
    /// 404 or 410.
    Gone,
}

/// The HTTP side: one client for all threads, the endpoint configuration, retry settings.
pub struct Http {
    client: reqwest::blocking::Client,
    pub config: RegistryConfig,
    options: HttpOptions,
    /// The crates.io web API base, read once from the index's `config.json`.
    crates_api: OnceLock<Option<String>>,
}

impl Http {
    pub fn new(config: RegistryConfig, options: HttpOptions) -> Result<Http, RegistryError> {
        let client = crate::http::client(Duration::from_secs(15), Duration::from_mins(2))
            .map_err(|message| RegistryError::Fetch { url: String::new(), message })?;
        Ok(Http { client, config, options, crates_api: OnceLock::new() })
    }

    /// One GET, with retries; errors name the URL without credentials.
    pub fn get(&self, url: &str, accept: Option<&str>, validators: Validators<'_>) -> Result<Answer, RegistryError> {
        let mut last = String::new();
        for attempt in 0..self.options.attempts {
            match self.get_once(url, accept, validators) {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Fatal(message)) => return Err(RegistryError::Fetch { url: redact(url), message }),
                Err(Attempt::RetryAfter(wait, message)) => {
                    if wait > self.options.max_retry_after {
                        return Err(RegistryError::Fetch {
                            url: redact(url),
                            message: format!("{message}; Retry-After {}s is longer than we wait", wait.as_secs()),
                        });
                    }
                    last = message;
                    std::thread::sleep(wait);
                }
                Err(Attempt::Retry(message)) => {
                    last = message;
                    if attempt + 1 < self.options.attempts {
                        std::thread::sleep(self.options.retry_base * 2u32.pow(attempt));
                    }
                }
            }
        }
        Err(RegistryError::Fetch {
            url: redact(url),
            message: format!("{last} (gave up after {} attempts)", self.options.attempts),
        })
    }

    fn get_once(&self, url: &str, accept: Option<&str>, validators: Validators<'_>) -> Result<Answer, Attempt> {
        let mut request = self.client.get(url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(secret) = self.config.authorization(url) {
            request = request.header(AUTHORIZATION, secret.expose());
        }
        if let Some(etag) = validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, date);
        }
        // reqwest's error text can include the URL; show it without credentials.
        let response =
            request.send().map_err(|e| Attempt::Retry(format!("request failed: {}", redact(&e.to_string()))))?;
        let status = response.status();
        let header = |name| {
            response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_owned)
        };
        match status {
            StatusCode::NOT_MODIFIED => return Ok(Answer::NotModified),
            StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(Answer::Gone),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = header(RETRY_AFTER).as_deref().and_then(retry_after).unwrap_or(self.options.retry_base);
                return Err(Attempt::RetryAfter(wait, "server answered 429 Too Many Requests".into()));
            }
            s if s.is_server_error() => return Err(Attempt::Retry(format!("server answered {s}"))),
            s if !s.is_success() => return Err(Attempt::Fatal(format!("server answered {s}"))),
            _ => {}
        }
        let (etag, last_modified, content_type) =
            (header(ETAG), header(LAST_MODIFIED), header(reqwest::header::CONTENT_TYPE));
        if response.content_length().is_some_and(|n| n > MAX_BODY) {
            return Err(Attempt::Fatal(format!("refusing a document larger than {MAX_BODY} bytes")));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(response, MAX_BODY + 1), &mut bytes)
            .map_err(|e| Attempt::Retry(format!("download interrupted: {e}")))?;
        if bytes.len() as u64 > MAX_BODY {
            return Err(Attempt::Fatal(format!("refusing a document larger than {MAX_BODY} bytes")));
        }
        Ok(Answer::Body { bytes, etag, last_modified, content_type })
    }
}

enum Attempt {
    Retry(String),
    RetryAfter(Duration, String),
    Fatal(String),
}

/// `Retry-After`: delay-seconds or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value.trim()).ok()?.timestamp();
    let wait = when.duration_since(crate::clock::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// What fetching one package came to.
pub enum Outcome {
    /// New facts and the validators of the document they came from.
    Fresh(CacheEntry),
    /// Unchanged since the cached copy (304).
    NotModified,
    /// The registry does not have the package (404/410).
    NotFound(CacheEntry),
    /// Not fetched by design (GOPRIVATE, `direct`, `off`, an unreadable source); the reason.
    NotEvaluated(String),
}

/// Fetches one package's metadata from its configured registry.
pub fn fetch(
    http: &Http,
    ecosystem: Ecosystem,
    name: &PackageName,
    cached: Option<&CacheEntry>,
    now: Timestamp,
) -> Result<Outcome, RegistryError> {
    match ecosystem {
        Ecosystem::Npm => fetch_npm(http, name, cached, now),
        Ecosystem::PyPI => fetch_pypi(http, name, cached, now),
        Ecosystem::CratesIo => fetch_crates(http, name, cached, now),
        Ecosystem::Go => fetch_go(http, name, cached, now),
    }
}

/// The registry identity stored with an entry (credentials removed). It depends on the
/// package only through [`registry_key`]: packages with one key share it.
pub fn registry_of(config: &RegistryConfig, ecosystem: Ecosystem, name: &PackageName) -> String {
    match ecosystem {
        Ecosystem::Npm => redact(config.npm_registry(name.as_str())),
        Ecosystem::PyPI => redact(config.pypi_json.as_deref().unwrap_or(&config.pypi_simple)),
        Ecosystem::CratesIo => config.crates.as_deref().map_or_else(String::new, redact),
        Ecosystem::Go => config
            .go
            .iter()
            .map(|e| match e {
                ProxyEntry::Url { url, .. } => redact(url),
                ProxyEntry::Direct => "direct".into(),
                ProxyEntry::Off => "off".into(),
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// What [`registry_of`] depends on besides the configuration: the ecosystem, and for npm the
/// scope (`@scope`, or empty for an unscoped name), which may have a registry of its own.
pub fn registry_key(ecosystem: Ecosystem, name: &PackageName) -> (Ecosystem, &str) {
    let scope = match ecosystem {
        Ecosystem::Npm => super::config::npm_scope(name.as_str()).unwrap_or_default(),
        _ => "",
    };
    (ecosystem, scope)
}

fn validators_for<'a>(cached: Option<&'a CacheEntry>, url: &str) -> Validators<'a> {
    match cached.filter(|c| c.url == redact(url)) {
        Some(c) => Validators { etag: c.etag.as_deref(), last_modified: c.last_modified.as_deref() },
        None => Validators::default(),
    }
}

fn entry(http: &Http, eco: Ecosystem, name: &PackageName, url: &str, now: Timestamp) -> CacheEntry {
    CacheEntry {
        registry: registry_of(&http.config, eco, name),
        url: redact(url),
        fetched_at: now,
        etag: None,
        last_modified: None,
        facts: None,
    }
}

fn fetch_npm(
    http: &Http,
    name: &PackageName,
    cached: Option<&CacheEntry>,
    now: Timestamp,
) -> Result<Outcome, RegistryError> {
    let url = format!("{}/{}", http.config.npm_registry(name.as_str()), npm::path_segment(name.as_str()));
    let base = entry(http, Ecosystem::Npm, name, &url, now);
    match http.get(&url, Some("application/json"), validators_for(cached, &url))? {
        Answer::NotModified => Ok(Outcome::NotModified),
        Answer::Gone => Ok(Outcome::NotFound(base)),
        Answer::Body { bytes, etag, last_modified, .. } => {
            let facts = npm::parse_packument(&redact(&url), name, &bytes, now)?;
            Ok(Outcome::Fresh(CacheEntry { etag, last_modified, facts: Some(facts), ..base }))
        }
    }
}

fn fetch_pypi(
    http: &Http,
    name: &PackageName,
    cached: Option<&CacheEntry>,
    now: Timestamp,
) -> Result<Outcome, RegistryError> {
    if let Some(json) = &http.config.pypi_json {
        let url = format!("{json}/pypi/{name}/json");
        let base = entry(http, Ecosystem::PyPI, name, &url, now);
        match http.get(&url, Some("application/json"), validators_for(cached, &url))? {
            Answer::NotModified => return Ok(Outcome::NotModified),
            Answer::Body { bytes, etag, last_modified, .. } => {
                let facts = pypi::parse_json_api(&redact(&url), name, &bytes, now)?;
                return Ok(Outcome::Fresh(CacheEntry { etag, last_modified, facts: Some(facts), ..base }));
            }
            Answer::Gone => {} // an index without the JSON API, or no such project: ask the index
        }
    }
    let url = format!("{}/{name}/", http.config.pypi_simple);
    let base = entry(http, Ecosystem::PyPI, name, &url, now);
    match http.get(&url, Some(pypi::SIMPLE_JSON), validators_for(cached, &url))? {
        Answer::NotModified => Ok(Outcome::NotModified),
        Answer::Gone => Ok(Outcome::NotFound(base)),
        Answer::Body { content_type, .. } if content_type.as_deref().is_some_and(|c| c.contains("html")) => {
            Ok(Outcome::NotEvaluated(format!(
                "{} serves only the HTML Simple API; PEP 691 JSON is needed for metadata",
                redact(&url)
            )))
        }
        Answer::Body { bytes, etag, last_modified, .. } => {
            let facts = pypi::parse_simple(&redact(&url), name, &bytes, now)?;
            Ok(Outcome::Fresh(CacheEntry { etag, last_modified, facts: Some(facts), ..base }))
        }
    }
}

fn crates_api(http: &Http, index: &str) -> Result<Option<String>, RegistryError> {
    if let Some(api) = http.crates_api.get() {
        return Ok(api.clone());
    }
    let url = format!("{index}/config.json");
    let api = match http.get(&url, None, Validators::default())? {
        Answer::Body { bytes, .. } => crates::parse_config(&redact(&url), &bytes)?,
        Answer::Gone | Answer::NotModified => None,
    };
    Ok(http.crates_api.get_or_init(|| api).clone())
}

fn fetch_crates(
    http: &Http,
    name: &PackageName,
    cached: Option<&CacheEntry>,
    now: Timestamp,
) -> Result<Outcome, RegistryError> {
    let Some(index) = &http.config.crates else {
        return Ok(Outcome::NotEvaluated("crates-io is replaced by a source that is not a sparse index".into()));
    };
    let url = format!("{index}/{}", crates::index_path(name.as_str()));
    let base = entry(http, Ecosystem::CratesIo, name, &url, now);
    let (bytes, etag, last_modified) = match http.get(&url, None, validators_for(cached, &url))? {
        Answer::NotModified => return Ok(Outcome::NotModified),
        Answer::Gone => return Ok(Outcome::NotFound(base)),
        Answer::Body { bytes, etag, last_modified, .. } => (bytes, etag, last_modified),
    };
    let mut facts = crates::parse_index(&redact(&url), name, &bytes, now)?;
    if let Some(api) = crates_api(http, index)? {
        let mut page = format!("{api}/api/v1/crates/{name}/versions");
        for _ in 0..MAX_API_PAGES {
            let Answer::Body { bytes, .. } = http.get(&page, Some("application/json"), Validators::default())? else {
                break;
            };
            match crates::merge_api_versions(&redact(&page), &mut facts, &bytes)? {
                Some(query) => page = format!("{api}/api/v1/crates/{name}/versions{query}"),
                None => break,
            }
        }
    }
    Ok(Outcome::Fresh(CacheEntry { etag, last_modified, facts: Some(facts), ..base }))
}

fn fetch_go(
    http: &Http,
    name: &PackageName,
    cached: Option<&CacheEntry>,
    now: Timestamp,
) -> Result<Outcome, RegistryError> {
    if golang::matches_private(&http.config.go_private, name.as_str()) {
        return Ok(Outcome::NotEvaluated(format!(
            "{name} matches GOPRIVATE/GONOPROXY: fetched directly from version control, which bundleguard never does"
        )));
    }
    let module = golang::escape(name.as_str());
    for entry_spec in &http.config.go {
        let (proxy, any_error) = match entry_spec {
            ProxyEntry::Url { url, any_error } => (url, *any_error),
            ProxyEntry::Direct => {
                return Ok(Outcome::NotEvaluated("GOPROXY reached `direct`: version control is never fetched".into()));
            }
            ProxyEntry::Off => return Ok(Outcome::NotEvaluated("GOPROXY=off forbids module downloads".into())),
        };
        match fetch_go_from(http, proxy, &module, name, cached, now) {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) => {}            // 404/410: the next proxy
            Err(_) if any_error => {} // `|`: any error falls through
            Err(e) => return Err(e),
        }
    }
    Ok(Outcome::NotFound(entry(http, Ecosystem::Go, name, "", now)))
}

/// One proxy's answer; `Ok(None)` when it does not have the module.
fn fetch_go_from(
    http: &Http,
    proxy: &str,
    module: &str,
    name: &PackageName,
    cached: Option<&CacheEntry>,
    now: Timestamp,
) -> Result<Option<Outcome>, RegistryError> {
    let list_url = format!("{proxy}/{module}/@v/list");
    let (bytes, etag, last_modified) = match http.get(&list_url, None, validators_for(cached, &list_url))? {
        Answer::NotModified => return Ok(Some(Outcome::NotModified)),
        Answer::Gone => return Ok(None),
        Answer::Body { bytes, etag, last_modified, .. } => (bytes, etag, last_modified),
    };
    let mut listed = golang::parse_list(&bytes);
    listed.sort_by(|a, b| go_order(b, a));
    let known = cached.and_then(|c| c.facts.as_ref());
    let latest = match http.get(&format!("{proxy}/{module}/@latest"), None, Validators::default())? {
        Answer::Body { bytes, .. } => Some(golang::parse_info(&redact(&format!("{proxy}/{module}/@latest")), &bytes)?),
        _ => None,
    };
    let mut versions = Vec::with_capacity(listed.len());
    for (i, version) in listed.iter().enumerate() {
        let time = match known.and_then(|k| k.versions.iter().find(|v| &v.version == version)).and_then(|v| v.published)
        {
            Some(t) => Some(t),
            None if i < MAX_GO_INFOS => go_info_time(http, proxy, module, version)?,
            None => None,
        };
        versions.push((version.clone(), time));
    }
    if let Some((v, t)) = &latest
        && !listed.contains(v)
    {
        versions.push((v.clone(), *t));
    }
    let newest = latest.as_ref().map(|(v, _)| v.clone()).or_else(|| listed.first().cloned());
    let status = match &newest {
        Some(v) => {
            match http.get(&format!("{proxy}/{module}/@v/{}.mod", golang::escape(v)), None, Validators::default())? {
                Answer::Body { bytes, .. } => Some(golang::parse_mod(&bytes)),
                _ => None,
            }
        }
        None => None,
    };
    let facts = golang::facts(name, versions, newest, status.as_ref(), now);
    let base = entry(http, Ecosystem::Go, name, &list_url, now);
    Ok(Some(Outcome::Fresh(CacheEntry { etag, last_modified, facts: Some(facts), ..base })))
}

fn go_info_time(http: &Http, proxy: &str, module: &str, version: &str) -> Result<Option<Timestamp>, RegistryError> {
    let url = format!("{proxy}/{module}/@v/{}.info", golang::escape(version));
    match http.get(&url, None, Validators::default())? {
        Answer::Body { bytes, .. } => Ok(golang::parse_info(&redact(&url), &bytes)?.1),
        _ => Ok(None),
    }
}

fn go_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        _ => a.cmp(b),
    }
}

/// The facts of a fresh or cached entry, if it has any.
pub fn facts_of(entry: &CacheEntry) -> Option<&PackageFacts> {
    entry.facts.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packages with one [`registry_key`] have one [`registry_of`], so a scan computes it once
    /// per key; a scope with a registry of its own has a key of its own.
    #[test]
    fn one_registry_key_means_one_registry() {
        let mut config = RegistryConfig::default();
        config.npm_scopes.insert("@corp".into(), "https://ci:secret@npm.corp.example/repo".into());
        let packages: Vec<(Ecosystem, PackageName)> = [
            (Ecosystem::Npm, "left-pad"),
            (Ecosystem::Npm, "chalk"),
            (Ecosystem::Npm, "@corp/tool"),
            (Ecosystem::Npm, "@corp/lib"),
            (Ecosystem::Npm, "@babel/core"),
            (Ecosystem::Npm, "@scope-without-slash"),
            (Ecosystem::PyPI, "requests"),
            (Ecosystem::PyPI, "Django"),
            (Ecosystem::CratesIo, "serde"),
            (Ecosystem::Go, "github.com/aws/aws-lambda-go"),
            (Ecosystem::Go, "golang.org/x/net"),
        ]
        .into_iter()
        .map(|(eco, name)| (eco, PackageName::new(eco, name)))
        .collect();
        for (ea, a) in &packages {
            for (eb, b) in &packages {
                if registry_key(*ea, a) == registry_key(*eb, b) {
                    assert_eq!(registry_of(&config, *ea, a), registry_of(&config, *eb, b), "{a} and {b}");
                }
            }
        }
        let corp = PackageName::new(Ecosystem::Npm, "@corp/tool");
        let plain = PackageName::new(Ecosystem::Npm, "left-pad");
        assert_ne!(registry_key(Ecosystem::Npm, &corp), registry_key(Ecosystem::Npm, &plain));
        assert_eq!(registry_of(&config, Ecosystem::Npm, &corp), "https://npm.corp.example/repo");
        assert_ne!(registry_of(&config, Ecosystem::Npm, &corp), registry_of(&config, Ecosystem::Npm, &plain));
    }
}
