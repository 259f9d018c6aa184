//! Registry metadata end to end: each protocol's client against the mock server serving the
//! fixtures of `fixtures/registry/`, endpoint configuration (scoped `.npmrc` with a token,
//! `PIP_INDEX_URL`, `GOPROXY` lists with `direct`/`off`/`GOPRIVATE`), the cache with conditional
//! requests, and `429 Retry-After`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bundleguard::advisory::store::Store;
use bundleguard::package::{Ecosystem, PackageName};
use bundleguard::registry::config::{RegistriesOverride, RegistryConfig, resolve};
use bundleguard::registry::facts::{List, PackageFacts, ProjectStatus, VersionFacts};
use bundleguard::registry::fetch::HttpOptions;
use bundleguard::registry::golang::parse_goproxy;
use bundleguard::registry::{FetchMode, FetchOptions, Metadata, facts_for, pypi};

use crate::common::fixture;
use crate::server::{Fault, MockBucket};

fn options(mode: FetchMode) -> FetchOptions {
    FetchOptions {
        mode,
        concurrency: 4,
        http: HttpOptions {
            retry_base: Duration::from_millis(10),
            attempts: 3,
            max_retry_after: Duration::from_secs(3),
        },
    }
}

const ONLINE: FetchMode = FetchMode::Online { ttl: Duration::from_hours(1) };

fn pkgs(eco: Ecosystem, names: &[&str]) -> Vec<(Ecosystem, PackageName)> {
    names.iter().map(|n| (eco, PackageName::new(eco, n))).collect()
}

/// Fetches with a fresh database; returns the metadata and the database folder.
fn fetch(config: &RegistryConfig, packages: &[(Ecosystem, PackageName)]) -> (Metadata, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("db.sqlite")).unwrap();
    let meta = facts_for(&mut store, config, packages, &options(ONLINE)).unwrap();
    (meta, tmp)
}

fn facts<'a>(meta: &'a Metadata, eco: Ecosystem, name: &str) -> &'a PackageFacts {
    meta.facts
        .get(&(eco, PackageName::new(eco, name)))
        .unwrap_or_else(|| panic!("no facts for {name}: {:?}", meta.diagnostics))
}

fn version<'a>(facts: &'a PackageFacts, v: &str) -> &'a VersionFacts {
    facts.versions.iter().find(|x| x.version == v).unwrap_or_else(|| panic!("{} has no {v}", facts.name))
}

fn npm_config(url: &str) -> RegistryConfig {
    RegistryConfig { npm: url.to_owned(), ..RegistryConfig::default() }
}

fn scripts(v: &VersionFacts) -> Vec<&str> {
    v.install_scripts.as_ref().expect("scripts known").iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn npm_incident_packuments_carry_the_takeover_facts() {
    let server = MockBucket::start(fixture("registry/npm/event-stream-flatmap"));
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["event-stream", "flatmap-stream"]));
    let es = facts(&meta, Ecosystem::Npm, "event-stream");
    assert_eq!(version(es, "3.3.4").publisher.as_deref(), Some("dominictarr"));
    let bad = version(es, "3.3.6");
    assert_eq!(bad.publisher.as_deref(), Some("right9ctrl"));
    assert!(bad.dependencies.as_ref().unwrap().contains(&"flatmap-stream".to_owned()));
    assert!(!version(es, "3.3.4").dependencies.as_ref().unwrap().contains(&"flatmap-stream".to_owned()));
    assert_eq!(bad.published.unwrap().to_string(), "2018-09-09T12:00:00Z");
    assert_eq!(es.maintainers.as_deref(), Some(&["dominictarr".to_owned()][..]));
    assert_eq!(version(es, "3.3.6").maintainers.as_ref().unwrap().len(), 2);
    let fm = facts(&meta, Ecosystem::Npm, "flatmap-stream");
    assert_eq!(fm.versions.len(), 2);
    assert_eq!(meta.stats.fetched, 2);
    assert!(meta.diagnostics.is_empty(), "{:?}", meta.diagnostics);

    let server = MockBucket::start(fixture("registry/npm/ua-parser-js"));
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["ua-parser-js"]));
    let ua = facts(&meta, Ecosystem::Npm, "ua-parser-js");
    assert_eq!(scripts(version(ua, "0.7.28")), Vec::<&str>::new());
    for v in ["0.7.29", "0.8.0", "1.0.0"] {
        assert_eq!(scripts(version(ua, v)), ["preinstall"], "{v}");
    }
    assert_eq!(scripts(version(ua, "0.7.30")), Vec::<&str>::new());
    assert_eq!(ua.latest.as_deref(), Some("1.0.1"));
    assert_eq!(ua.status, Some(ProjectStatus::Active));

    let server = MockBucket::start(fixture("registry/npm/coa-rc"));
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["coa", "rc"]));
    let coa = facts(&meta, Ecosystem::Npm, "coa");
    assert_eq!(scripts(version(coa, "2.0.3")), ["preinstall"]);
    assert_eq!(version(coa, "2.0.2").published.unwrap().to_string(), "2018-12-12T12:00:00Z");
    assert_eq!(scripts(version(facts(&meta, Ecosystem::Npm, "rc"), "1.2.9")), ["preinstall"]);
    assert_eq!(scripts(version(facts(&meta, Ecosystem::Npm, "rc"), "1.2.8")), Vec::<&str>::new());

    let server = MockBucket::start(fixture("registry/npm/chalk-debug"));
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["chalk", "debug"]));
    let chalk = facts(&meta, Ecosystem::Npm, "chalk");
    let v = version(chalk, "5.6.1");
    assert_eq!((v.publisher.as_deref(), v.provenance), (Some("qix"), Some(false)));
    assert_eq!(version(chalk, "5.6.0").publisher.as_deref(), Some("sindresorhus"));
    assert_eq!(
        version(facts(&meta, Ecosystem::Npm, "debug"), "4.4.2").published.unwrap().to_string(),
        "2025-09-08T13:16:00Z"
    );
}

#[test]
fn a_stripped_mirror_yields_unknown_not_defaults() {
    let server = MockBucket::start(fixture("registry/npm/stripped-mirror"));
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["event-stream", "left-pad"]));
    let es = facts(&meta, Ecosystem::Npm, "event-stream");
    assert_eq!(es.maintainers, None);
    assert_eq!(es.status, None);
    for v in &es.versions {
        assert_eq!((v.publisher.as_deref(), v.provenance, v.maintainers.as_ref()), (None, None, None), "{}", v.version);
        assert!(!v.deprecation_known && v.deprecated.is_none());
        assert!(v.dependencies.is_some() && v.install_scripts.is_some());
    }
    // left-pad as the caching mirror here really serves it: times rewritten, running backwards.
    let lp = facts(&meta, Ecosystem::Npm, "left-pad");
    assert!(lp.versions.len() >= 10);
    assert!(lp.versions.iter().all(|v| v.published.is_none()));
    let note = meta.diagnostics.iter().find(|d| d.code == "registry/times-untrusted").expect("times flagged");
    let reason = "publish times not used: they look rewritten by a mirror: times run backwards";
    assert!(note.message.starts_with(&format!("npm left-pad: {reason}")), "{note}");
    // The same reason goes with the facts, for the checks that can't use the times.
    assert!(lp.dropped_times.as_deref().is_some_and(|r| r.starts_with(reason)), "{:?}", lp.dropped_times);
    assert_eq!(facts(&meta, Ecosystem::Npm, "event-stream").dropped_times, None);
    assert!(!meta.diagnostics.iter().any(|d| d.message.contains("event-stream")), "{:?}", meta.diagnostics);
}

#[test]
fn policy_can_mark_a_registrys_times_untrusted() {
    let server = MockBucket::start(fixture("registry/npm/chalk-debug"));
    let mut config = npm_config(&server.url);
    config.untrusted_times.push(Ecosystem::Npm);
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::Npm, &["chalk"]));
    let chalk = facts(&meta, Ecosystem::Npm, "chalk");
    assert!(chalk.versions.iter().all(|v| v.published.is_none()));
    let reason = "the policy marks the npm registry's publish times as untrusted";
    assert!(meta.diagnostics[0].message.contains(reason));
    assert!(chalk.dropped_times.as_deref().is_some_and(|r| r.contains(reason)), "{:?}", chalk.dropped_times);
}

#[test]
fn scoped_npmrc_registry_gets_the_token_and_no_one_else_does() {
    let public = MockBucket::start(fixture("registry/npm/event-stream-flatmap"));
    let private = MockBucket::start(fixture("registry/npm/scoped-private"));
    let project = tempfile::tempdir().unwrap();
    let private_host = private.url.trim_start_matches("http://");
    fs_err::write(
        project.path().join(".npmrc"),
        format!(
            "registry={}/\n@acme:registry={}/\n//{private_host}/:_authToken=${{ACME_TOKEN}}\n//elsewhere.example/:_authToken=${{MISSING}}\n",
            public.url, private.url
        ),
    )
    .unwrap();
    let env: HashMap<&str, &str> = HashMap::from([("ACME_TOKEN", "s3cret-token")]);
    let (config, diagnostics) = resolve(project.path(), &|k| env.get(k).map(|v| (*v).to_owned()), None);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(diagnostics[0].message.contains("${MISSING} is not set"), "{}", diagnostics[0]);
    assert!(!format!("{config:?}").contains("s3cret"), "a token leaked into Debug output");
    let (meta, db) = fetch(&config, &pkgs(Ecosystem::Npm, &["@acme/widget", "event-stream"]));
    let widget = facts(&meta, Ecosystem::Npm, "@acme/widget");
    assert_eq!(version(widget, "1.1.0").provenance, Some(true));
    assert_eq!(version(widget, "1.1.1").provenance, Some(false));
    assert_eq!(version(widget, "1.1.1").deprecated.as_deref(), Some("1.1.1 was published by mistake; use 1.1.2"));
    assert_eq!(scripts(version(widget, "1.1.1")), ["postinstall"]);
    let private_seen = private.seen();
    assert_eq!(private_seen.len(), 1);
    assert_eq!(private_seen[0].path, "/@acme%2fwidget");
    assert_eq!(private_seen[0].authorization.as_deref(), Some("Bearer s3cret-token"));
    assert!(public.seen().iter().all(|s| s.authorization.is_none()));
    let bytes = fs_err::read(db.path().join("db.sqlite")).unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"s3cret"), "the token reached the database");
}

#[test]
fn pip_index_url_falls_back_to_the_simple_api() {
    let server = MockBucket::start(fixture("registry/pypi/simple-normal"));
    let env = HashMap::from([("PIP_INDEX_URL", format!("{}/simple/", server.url))]);
    let (config, diagnostics) = resolve(std::path::Path::new("/nonexistent"), &|k| env.get(k).cloned(), None);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(config.pypi_json.as_deref(), Some(server.url.as_str()));
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::PyPI, &["Requests"]));
    let requests = facts(&meta, Ecosystem::PyPI, "requests");
    assert_eq!(requests.versions.len(), 4);
    let yanked = version(requests, "2.32.0");
    assert_eq!(yanked.yanked.as_deref(), Some("Yanked due to conflicts with CVE-2024-35195 mitigation"));
    assert_eq!(yanked.published.unwrap().to_string(), "2024-05-20T16:08:19.530618Z");
    assert!(version(requests, "2.32.3").yanked.is_none() && version(requests, "2.32.3").yank_known);
    assert_eq!(yanked.publisher, None);
    assert_eq!(yanked.provenance, None, "api-version 1.1 has no PEP 740 key: unknown");
    let seen = server.seen();
    assert_eq!(seen.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(), ["/pypi/requests/json", "/simple/requests/"]);
    assert_eq!(seen[1].accept.as_deref(), Some(pypi::SIMPLE_JSON));
}

#[test]
fn pypi_json_api_and_pep_792_740_fields() {
    let server = MockBucket::start(fixture("registry/pypi/json-yanked"));
    let config = RegistryConfig { pypi_json: Some(server.url.clone()), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::PyPI, &["requests"]));
    let requests = facts(&meta, Ecosystem::PyPI, "requests");
    assert_eq!(
        version(requests, "2.32.0").yanked.as_deref(),
        Some("Yanked due to conflicts with CVE-2024-35195 mitigation")
    );
    assert_eq!(version(requests, "2.31.0").yanked, None);
    assert_eq!(requests.latest.as_deref(), Some("2.32.3"));
    assert_eq!(requests.maintainers.as_ref().unwrap(), &["Lukasa", "graffatcolmingov", "nateprewitt"]);
    assert_eq!(requests.status, None, "the JSON API gave no project status: unknown");

    let server = MockBucket::start(fixture("registry/pypi/simple-archived-provenance"));
    let config =
        RegistryConfig { pypi_json: None, pypi_simple: format!("{}/simple", server.url), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::PyPI, &["example_archived"]));
    let archived = facts(&meta, Ecosystem::PyPI, "example-archived");
    assert_eq!(archived.status, Some(ProjectStatus::Archived));
    assert_eq!(version(archived, "1.0.0").provenance, Some(true));
    assert_eq!(version(archived, "1.1.0").provenance, Some(false));
    assert_eq!(version(archived, "1.1.0").yanked.as_deref(), Some("broken wheel"));

    let server = MockBucket::start(fixture("registry/pypi/simple-html-only"));
    let config =
        RegistryConfig { pypi_json: None, pypi_simple: format!("{}/simple", server.url), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::PyPI, &["requests"]));
    assert!(meta.facts.is_empty());
    assert_eq!(meta.stats.not_evaluated, 1);
    assert!(meta.diagnostics[0].message.contains("serves only the HTML Simple API"), "{:?}", meta.diagnostics);
}

#[test]
fn crates_sparse_index_and_web_api() {
    let server = MockBucket::start(fixture("registry/crates/normal"));
    let config = RegistryConfig { crates: Some(server.url.clone()), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::CratesIo, &["anyhow"]));
    let anyhow = facts(&meta, Ecosystem::CratesIo, "anyhow");
    assert_eq!(anyhow.versions.len(), 4);
    for v in &anyhow.versions {
        assert_eq!((v.publisher.as_deref(), v.provenance), (Some("dtolnay"), Some(false)));
        assert!(v.published.is_some() && v.yank_known && v.yanked.is_none());
    }
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/an/yh/anyhow", "/config.json", "/api/v1/crates/anyhow/versions"]);

    let server = MockBucket::start(fixture("registry/crates/yanked"));
    let config = RegistryConfig { crates: Some(server.url.clone()), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::CratesIo, &["log"]));
    let log = facts(&meta, Ecosystem::CratesIo, "log");
    assert_eq!(version(log, "0.4.10").yanked.as_deref(), Some(""));
    assert_eq!(version(log, "0.1.0").yanked, None);
    assert_eq!(version(log, "0.1.0").dependencies.as_deref(), Some(&["regex".to_owned()][..]));
    assert_eq!(version(log, "0.1.0").published.unwrap().to_string(), "2014-12-13T22:10:19Z");
    assert!(log.versions.iter().all(|v| v.publisher.is_none()), "no web API here: publisher unknown");
}

#[test]
fn cargo_source_replacement_is_followed() {
    let project = tempfile::tempdir().unwrap();
    fs_err::create_dir_all(project.path().join(".cargo")).unwrap();
    fs_err::write(
        project.path().join(".cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"corp\"\n[source.corp]\nregistry = \"sparse+https://crates.corp.example/index/\"\n",
    )
    .unwrap();
    let (config, diagnostics) = resolve(project.path(), &|_| None, None);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(config.crates.as_deref(), Some("https://crates.corp.example/index"));
    let over =
        RegistriesOverride { crates: Some("sparse+http://127.0.0.1:1/i".into()), ..RegistriesOverride::default() };
    let (config, _) = resolve(project.path(), &|_| None, Some(&over));
    assert_eq!(config.crates.as_deref(), Some("http://127.0.0.1:1/i"));
}

#[test]
fn go_proxy_protocol_with_case_encoding_retractions_and_deprecation() {
    let server = MockBucket::start(fixture("registry/go/normal"));
    let config = RegistryConfig { go: parse_goproxy(&server.url), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::Go, &["github.com/BurntSushi/toml"]));
    let toml = facts(&meta, Ecosystem::Go, "github.com/BurntSushi/toml");
    assert_eq!(toml.versions.len(), 3);
    assert_eq!(version(toml, "v1.4.0").published.unwrap().to_string(), "2024-06-21T08:07:52Z");
    assert_eq!(toml.latest.as_deref(), Some("v1.5.0"));
    assert_eq!(toml.status, Some(ProjectStatus::Active));

    let server = MockBucket::start(fixture("registry/go/retracted"));
    let config = RegistryConfig { go: parse_goproxy(&server.url), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::Go, &["example.com/retracted"]));
    let r = facts(&meta, Ecosystem::Go, "example.com/retracted");
    assert_eq!(version(r, "v1.0.0").yanked.as_deref(), Some("Published accidentally."));
    assert_eq!(version(r, "v1.1.0").yanked.as_deref(), Some("Security problem in the parser."));
    assert_eq!(version(r, "v1.2.0").yanked, None);
    assert!(version(r, "v1.2.0").yank_known);

    let server = MockBucket::start(fixture("registry/go/deprecated"));
    let config = RegistryConfig { go: parse_goproxy(&server.url), ..RegistryConfig::default() };
    let (meta, _db) = fetch(&config, &pkgs(Ecosystem::Go, &["github.com/golang/protobuf"]));
    assert_eq!(
        facts(&meta, Ecosystem::Go, "github.com/golang/protobuf").status,
        Some(ProjectStatus::Deprecated {
            message: Some("Use the \"google.golang.org/protobuf\" module instead.".into())
        })
    );
}

#[test]
fn goproxy_lists_direct_off_and_goprivate() {
    let broken = MockBucket::start(fixture("registry/go/normal"));
    let good = MockBucket::start(fixture("registry/go/normal"));
    broken.add_fault(Fault::Status { suffix: "@v/list".into(), status: 500, count: 100 });
    let module = pkgs(Ecosystem::Go, &["github.com/BurntSushi/toml"]);
    let env = |proxy: String, private: &str| {
        let vars = HashMap::from([("GOPROXY", proxy), ("GOPRIVATE", private.to_owned())]);
        resolve(std::path::Path::new("/nonexistent"), &move |k| vars.get(k).cloned().filter(|v| !v.is_empty()), None).0
    };
    // `|`: any error falls through to the next proxy.
    let (meta, _db) = fetch(&env(format!("{}|{}", broken.url, good.url), ""), &module);
    assert_eq!(meta.stats.fetched, 1, "{:?}", meta.diagnostics);
    // `,`: only 404/410 fall through; a 500 is an error and the module is not evaluated.
    let (meta, _db) = fetch(&env(format!("{},{}", broken.url, good.url), ""), &module);
    assert_eq!((meta.stats.fetched, meta.stats.not_evaluated), (0, 1));
    assert!(meta.diagnostics[0].message.contains("500"), "{:?}", meta.diagnostics);
    // a 404 with `,` falls through to `direct`: not evaluated, never fetched from VCS.
    let (meta, _db) = fetch(&env(format!("{}/missing,direct", good.url), ""), &module);
    assert!(meta.diagnostics[0].message.contains("`direct`"), "{:?}", meta.diagnostics);
    let (meta, _db) = fetch(&env("off".into(), ""), &module);
    assert!(meta.diagnostics[0].message.contains("GOPROXY=off"), "{:?}", meta.diagnostics);
    good.clear_log();
    let (meta, _db) = fetch(&env(good.url.clone(), "github.com/BurntSushi"), &module);
    assert_eq!(meta.stats.not_evaluated, 1);
    assert!(meta.diagnostics[0].message.contains("GOPRIVATE"), "{:?}", meta.diagnostics);
    assert!(good.seen().is_empty(), "a private module reached the proxy");
}

#[test]
fn cache_round_trip_with_conditional_requests() {
    let server = MockBucket::start(fixture("registry/npm/event-stream-flatmap"));
    let config = npm_config(&server.url);
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("db.sqlite")).unwrap();
    let packages = pkgs(Ecosystem::Npm, &["event-stream", "flatmap-stream"]);
    let first = facts_for(&mut store, &config, &packages, &options(ONLINE)).unwrap();
    assert_eq!(first.stats.fetched, 2);

    // Within the TTL: no request at all.
    server.clear_log();
    let cached = facts_for(&mut store, &config, &packages, &options(ONLINE)).unwrap();
    assert_eq!(cached.stats.cached, 2);
    assert!(server.seen().is_empty());
    assert_eq!(cached.facts, first.facts);

    // Past the TTL: conditional requests, 304, same facts with a new fetch time.
    let expired =
        facts_for(&mut store, &config, &packages, &options(FetchMode::Online { ttl: Duration::ZERO })).unwrap();
    assert_eq!(expired.stats.not_modified, 2);
    assert!(server.seen().iter().all(|s| s.if_none_match.is_some()));
    assert!(server.log().iter().all(|l| l.starts_with("304 ")), "{:?}", server.log());
    let strip = |m: &Metadata| {
        let mut all: Vec<PackageFacts> = m.facts.values().cloned().collect();
        for f in &mut all {
            f.fetched_at = jiff::Timestamp::UNIX_EPOCH;
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    };
    assert_eq!(strip(&expired), strip(&first));

    // Offline: the cache only; what it lacks is not evaluated, and the server sees nothing.
    server.clear_log();
    let mut more = packages.clone();
    more.extend(pkgs(Ecosystem::Npm, &["ua-parser-js"]));
    let offline = facts_for(&mut store, &config, &more, &options(FetchMode::CacheOnly)).unwrap();
    assert_eq!((offline.stats.cached, offline.stats.not_evaluated), (2, 1));
    assert_eq!(offline.diagnostics[0].code, "registry/not-cached");
    assert!(server.seen().is_empty());
    assert_eq!(strip(&offline), strip(&first));

    // A failing registry with a cached copy: the copy is used and said to be stale.
    server.add_fault(Fault::Status { suffix: "event-stream".into(), status: 503, count: 10 });
    let stale =
        facts_for(&mut store, &config, &packages[..1], &options(FetchMode::Online { ttl: Duration::ZERO })).unwrap();
    assert_eq!(stale.stats.stale, 1);
    assert_eq!(stale.diagnostics[0].code, "registry/stale");
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let server = MockBucket::start(fixture("registry/npm/chalk-debug"));
    server.add_fault(Fault::RetryAfter { suffix: "/chalk".into(), seconds: 1, count: 1 });
    let started = Instant::now();
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["chalk"]));
    assert!(started.elapsed() >= Duration::from_secs(1), "did not wait: {:?}", started.elapsed());
    assert_eq!(meta.stats.fetched, 1);
    assert_eq!(server.log(), ["429 /chalk", "200 /chalk"]);

    server.add_fault(Fault::RetryAfter { suffix: "/debug".into(), seconds: 3600, count: 1 });
    let started = Instant::now();
    let (meta, _db) = fetch(&npm_config(&server.url), &pkgs(Ecosystem::Npm, &["debug"]));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(meta.stats.not_evaluated, 1);
    assert!(meta.diagnostics[0].message.contains("Retry-After 3600s is longer than we wait"), "{:?}", meta.diagnostics);
}

/// Rewrites a database's registry cache as schema 5 kept it: one row per version in
/// `registry_versions` (JSON columns), no `versions` blob column.
fn downgrade_cache_to_schema_5(path: &std::path::Path, meta: &Metadata) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE registry_versions (
            ecosystem TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, published INTEGER, publisher TEXT,
            provenance INTEGER, install_scripts TEXT, deprecated TEXT, deprecation_known INTEGER NOT NULL,
            yanked TEXT, yank_known INTEGER NOT NULL, dependencies TEXT, maintainers TEXT,
            PRIMARY KEY (ecosystem, name, version)) WITHOUT ROWID;",
    )
    .unwrap();
    let json = |v: &Option<List<String>>| v.as_ref().map(|v| serde_json::to_string(v).unwrap());
    for facts in meta.facts.values() {
        for v in &facts.versions {
            conn.execute(
                "INSERT INTO registry_versions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                rusqlite::params![
                    facts.ecosystem.as_str(),
                    facts.name.as_str(),
                    v.version,
                    v.published.map(|t| i64::try_from(t.as_nanosecond()).unwrap()),
                    v.publisher,
                    v.provenance,
                    v.install_scripts.as_ref().map(|s| serde_json::to_string(s).unwrap()),
                    v.deprecated,
                    v.deprecation_known,
                    v.yanked,
                    v.yank_known,
                    json(&v.dependencies),
                    json(&v.maintainers),
                ],
            )
            .unwrap();
        }
    }
    conn.execute_batch("ALTER TABLE registry_packages DROP COLUMN versions; PRAGMA user_version = 5;").unwrap();
}

/// Facts in a stable order with the fetch time cleared, to compare answers of different fetches.
fn comparable(meta: &Metadata) -> Vec<PackageFacts> {
    let mut all: Vec<PackageFacts> = meta.facts.values().cloned().collect();
    for f in &mut all {
        f.fetched_at = jiff::Timestamp::UNIX_EPOCH;
        f.versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// The mock registry serving event-stream and flatmap-stream, its config, a folder for the
/// database, and the two packages.
fn event_stream_registry() -> (MockBucket, RegistryConfig, tempfile::TempDir, Vec<(Ecosystem, PackageName)>) {
    let server = MockBucket::start(fixture("registry/npm/event-stream-flatmap"));
    let config = npm_config(&server.url);
    (server, config, tempfile::tempdir().unwrap(), pkgs(Ecosystem::Npm, &["event-stream", "flatmap-stream"]))
}

#[test]
fn a_schema_5_cache_is_read_as_it_is_and_converted_by_the_first_write() {
    let (server, config, tmp, packages) = event_stream_registry();
    let path = tmp.path().join("db.sqlite");
    let first = facts_for(&mut Store::open(&path).unwrap(), &config, &packages, &options(ONLINE)).unwrap();
    assert!(facts(&first, Ecosystem::Npm, "event-stream").versions.len() > 3);
    downgrade_cache_to_schema_5(&path, &first);
    let tables = |path: &std::path::Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'registry_%' ORDER BY 1").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };

    // Read-only, schema 5: the per-version rows are read.
    let mut read_only = Store::open_read_only(&path).unwrap();
    let old = facts_for(&mut read_only, &config, &packages, &options(FetchMode::CacheOnly)).unwrap();
    drop(read_only);
    assert_eq!(comparable(&old), comparable(&first));

    // Opened for writing: migrated to schema 6, the rows are kept (and read) until a write.
    server.clear_log();
    let mut store = Store::open(&path).unwrap();
    let migrated = facts_for(&mut store, &config, &packages, &options(FetchMode::CacheOnly)).unwrap();
    assert_eq!(comparable(&migrated), comparable(&first));
    assert!(tables(&path).contains(&"registry_versions".to_owned()));

    // The first write (here a 304 round: only fetch times move) converts every row into blobs.
    let revalidated =
        facts_for(&mut store, &config, &packages, &options(FetchMode::Online { ttl: Duration::ZERO })).unwrap();
    assert_eq!(revalidated.stats.not_modified, 2);
    assert_eq!(tables(&path), ["registry_packages"]);
    let converted = facts_for(&mut store, &config, &packages, &options(FetchMode::CacheOnly)).unwrap();
    assert_eq!(comparable(&converted), comparable(&first));
    assert!(server.seen().iter().all(|s| s.if_none_match.is_some()));
}

/// A database at `path` that cached `packages` online, then had the versions blob of `damaged`
/// overwritten with bytes that do not decode (unknown flags); and what was fetched.
fn cached_with_one_damaged(
    path: &std::path::Path,
    config: &RegistryConfig,
    packages: &[(Ecosystem, PackageName)],
    damaged: &str,
) -> (Store, Metadata) {
    let mut store = Store::open(path).unwrap();
    let first = facts_for(&mut store, config, packages, &options(ONLINE)).unwrap();
    rusqlite::Connection::open(path)
        .unwrap()
        .execute("UPDATE registry_packages SET versions = x'0102ffff' WHERE name = ?1", [damaged])
        .unwrap();
    (store, first)
}

#[test]
fn a_damaged_cache_entry_is_not_used_and_is_fetched_again() {
    let (server, config, tmp, packages) = event_stream_registry();
    let path = tmp.path().join("db.sqlite");
    let (mut store, first) = cached_with_one_damaged(&path, &config, &packages, "event-stream");

    // Offline: not evaluated (never an empty history), and said why.
    let offline = facts_for(&mut store, &config, &packages, &options(FetchMode::CacheOnly)).unwrap();
    assert_eq!((offline.stats.cached, offline.stats.not_evaluated), (1, 1));
    let damaged: Vec<&str> =
        offline.diagnostics.iter().filter(|d| d.code == "registry/cache-damaged").map(|d| d.message.as_str()).collect();
    assert_eq!(damaged.len(), 1, "{:?}", offline.diagnostics);
    assert!(
        damaged[0].starts_with("npm event-stream: the cached registry metadata is damaged (unknown flags"),
        "{damaged:?}"
    );

    // Online within the TTL: the damaged entry is fetched again in full, and written back whole.
    server.clear_log();
    let online = facts_for(&mut store, &config, &packages, &options(ONLINE)).unwrap();
    assert_eq!((online.stats.cached, online.stats.fetched), (1, 1));
    assert!(server.seen().iter().all(|s| s.if_none_match.is_none()));
    let again = facts_for(&mut store, &config, &packages, &options(FetchMode::CacheOnly)).unwrap();
    assert_eq!(comparable(&again), comparable(&first));
}

/// What a scan reads of the cache while it walks ([`read_ahead`]) gives the facts, counts and
/// diagnostics that reading by name gives, whether the whole table was read or the read was
/// stopped at once, with a damaged entry too; within the TTL nothing is fetched. A missing file,
/// or a schema-5 file, is not read ahead (and not created).
#[test]
fn a_cache_read_ahead_gives_what_reading_by_name_gives() {
    use std::sync::atomic::AtomicBool;

    use bundleguard::registry::cache::read_ahead;
    use bundleguard::registry::facts_read_ahead;

    let (server, config, tmp, packages) = event_stream_registry();
    let path = tmp.path().join("db.sqlite");
    let missing = tmp.path().join("missing.sqlite");
    let nothing = read_ahead(&missing, &AtomicBool::new(false));
    assert!(nothing.is_empty() && !nothing.is_whole());
    assert!(!missing.exists(), "reading ahead created the file");

    let (mut store, first) = cached_with_one_damaged(&path, &config, &packages, "flatmap-stream");
    let mut more = packages.clone();
    more.extend(pkgs(Ecosystem::Npm, &["ua-parser-js"]));
    let summary = |m: &Metadata| {
        let diagnostics: Vec<(String, String)> =
            m.diagnostics.iter().map(|d| (d.code.to_string(), d.message.clone())).collect();
        (comparable(m), m.stats, diagnostics)
    };
    let by_name = facts_for(&mut store, &config, &more, &options(FetchMode::CacheOnly)).unwrap();
    assert_eq!((by_name.stats.cached, by_name.stats.not_evaluated), (1, 2));
    assert!(by_name.diagnostics.iter().any(|d| d.code == "registry/cache-damaged"), "{:?}", by_name.diagnostics);
    let event_stream: Vec<PackageFacts> =
        comparable(&first).into_iter().filter(|f| f.name.as_str() == "event-stream").collect();
    assert_eq!(comparable(&by_name), event_stream);

    let whole = read_ahead(&path, &AtomicBool::new(false));
    assert!(whole.is_whole());
    assert_eq!(whole.len(), 2);
    let ahead = facts_read_ahead(&mut store, &config, &more, &options(FetchMode::CacheOnly), whole).unwrap();
    assert_eq!(summary(&ahead), summary(&by_name));

    let stopped = read_ahead(&path, &AtomicBool::new(true));
    assert!(stopped.is_empty() && !stopped.is_whole());
    let rest = facts_read_ahead(&mut store, &config, &more, &options(FetchMode::CacheOnly), stopped).unwrap();
    assert_eq!(summary(&rest), summary(&by_name));

    // Online within the TTL: the entry read ahead is used as is; the damaged one is fetched.
    server.clear_log();
    let whole = read_ahead(&path, &AtomicBool::new(false));
    let online = facts_read_ahead(&mut store, &config, &packages, &options(ONLINE), whole).unwrap();
    assert_eq!((online.stats.cached, online.stats.fetched), (1, 1));
    assert_eq!(server.seen().len(), 1, "{:?}", server.log());
    assert_eq!(comparable(&online), comparable(&first));

    downgrade_cache_to_schema_5(&path, &first);
    let old = read_ahead(&path, &AtomicBool::new(false));
    assert!(old.is_empty() && !old.is_whole());
}
