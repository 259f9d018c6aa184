//! crates.io: the sparse index (`{index}/{prefix}/{name}`: one JSON object per line with `vers`,
//! `yanked`, `deps` and, since 2025, `pubtime`; <https://doc.rust-lang.org/cargo/reference/registry-index.html>),
//! whose `config.json` `api` key names the web API, and that API's version list
//! (`{api}/api/v1/crates/{name}/versions`: `published_by`, `trustpub_data`, `created_at`). The
//! publisher is only in the web API: without it, publisher and provenance stay unknown.

use std::borrow::Cow;
use std::collections::HashMap;

use jiff::Timestamp;
use serde::Deserialize;

use super::facts::{PackageFacts, VersionFacts};
use super::{Presence, RegistryError, parse_time};
use crate::package::{Ecosystem, PackageName};

#[derive(Deserialize)]
struct IndexLineWire<'a> {
    #[serde(borrow)]
    vers: Cow<'a, str>,
    #[serde(borrow, default)]
    deps: Vec<DepWire<'a>>,
    #[serde(default)]
    yanked: bool,
    #[serde(borrow, default)]
    pubtime: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DepWire<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    /// The real crate name when the dependency is renamed.
    #[serde(borrow, default)]
    package: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ConfigWire {
    #[serde(default)]
    api: Option<String>,
}

#[derive(Deserialize)]
struct VersionsWire<'a> {
    #[serde(borrow, default)]
    versions: Vec<ApiVersionWire<'a>>,
    #[serde(borrow, default)]
    meta: Option<MetaWire<'a>>,
}

#[derive(Deserialize)]
struct MetaWire<'a> {
    #[serde(borrow, default)]
    next_page: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ApiVersionWire<'a> {
    #[serde(borrow)]
    num: Cow<'a, str>,
    #[serde(borrow, default)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    published_by: Option<UserWire<'a>>,
    /// Present (possibly `null`) on APIs that know trusted publishing.
    #[serde(default, deserialize_with = "super::presence")]
    trustpub_data: Option<Presence>,
    #[serde(borrow, default)]
    yank_message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UserWire<'a> {
    #[serde(borrow)]
    login: Cow<'a, str>,
}

/// The index path of a crate: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde` (lowercased).
pub fn index_path(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.len() {
        1 => format!("1/{lower}"),
        2 => format!("2/{lower}"),
        3 => format!("3/{}/{lower}", &lower[..1]),
        _ => format!("{}/{}/{lower}", &lower[..2], &lower[2..4]),
    }
}

/// The web API base named by the index's `config.json`, if any.
pub fn parse_config(url: &str, bytes: &[u8]) -> Result<Option<String>, RegistryError> {
    let wire: ConfigWire = serde_json::from_slice(bytes).map_err(|e| RegistryError::parse(url, "", &e))?;
    Ok(wire.api.map(|a| a.trim_end_matches('/').to_owned()).filter(|a| !a.is_empty()))
}

/// Parses a sparse index file: one JSON object per line.
pub fn parse_index(
    url: &str,
    name: &PackageName,
    bytes: &[u8],
    fetched_at: Timestamp,
) -> Result<PackageFacts, RegistryError> {
    let text = std::str::from_utf8(bytes).map_err(|e| RegistryError::key(url, "", format!("not UTF-8: {e}")))?;
    let mut versions = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let wire: IndexLineWire<'_> = serde_json::from_str(line)
            .map_err(|e| RegistryError::key(url, format!("line {}", i + 1), e.to_string()))?;
        let published = match &wire.pubtime {
            Some(t) => Some(parse_time(t).map_err(|m| RegistryError::key(url, format!("line {}: pubtime", i + 1), m))?),
            None => None,
        };
        let mut dependencies: Vec<String> = wire
            .deps
            .iter()
            .filter(|d| d.kind.as_deref() != Some("dev"))
            .map(|d| d.package.as_deref().unwrap_or(&d.name).to_owned())
            .collect();
        dependencies.sort();
        dependencies.dedup();
        versions.push(VersionFacts {
            version: wire.vers.into_owned(),
            published,
            publisher: None,
            provenance: None,
            install_scripts: None,
            deprecated: None,
            deprecation_known: false,
            yanked: wire.yanked.then(String::new),
            yank_known: true,
            dependencies: Some(dependencies.into()),
            maintainers: None,
        });
    }
    Ok(PackageFacts {
        ecosystem: Ecosystem::CratesIo,
        name: name.clone(),
        fetched_at,
        versions,
        maintainers: None,
        status: None,
        latest: None,
        dropped_times: None,
    })
}

/// Adds one page of the web API's version list to facts read from the index: publisher,
/// trusted publishing, yank message, and `created_at` where the index has no `pubtime`.
/// Returns the next page's query (`?page=2&per_page=100`), if any.
pub fn merge_api_versions(url: &str, facts: &mut PackageFacts, bytes: &[u8]) -> Result<Option<String>, RegistryError> {
    let wire: VersionsWire<'_> = serde_json::from_slice(bytes).map_err(|e| RegistryError::parse(url, "", &e))?;
    let by_version: HashMap<String, usize> =
        facts.versions.iter().enumerate().map(|(i, v)| (v.version.clone(), i)).collect();
    for (i, api) in wire.versions.iter().enumerate() {
        let Some(v) = by_version.get(api.num.as_ref()).map(|&j| &mut facts.versions[j]) else { continue };
        v.publisher = api.published_by.as_ref().map(|u| u.login.clone().into_owned());
        v.provenance = api.trustpub_data.map(|p| p == Presence::Value);
        if v.published.is_none()
            && let Some(t) = &api.created_at
        {
            v.published =
                Some(parse_time(t).map_err(|m| RegistryError::key(url, format!("versions[{i}].created_at"), m))?);
        }
        if v.yanked.is_some()
            && let Some(message) = api.yank_message.as_deref().filter(|m| !m.is_empty())
        {
            v.yanked = Some(message.to_owned());
        }
    }
    Ok(wire.meta.and_then(|m| m.next_page).map(Cow::into_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_cargo() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde_JSON"), "se/rd/serde_json");
    }

    #[test]
    fn a_bad_line_is_named() {
        let name = PackageName::new(Ecosystem::CratesIo, "x");
        let err = parse_index("http://i/1/x", &name, b"{\"vers\":\"1.0.0\"}\n{oops}\n", Timestamp::UNIX_EPOCH)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("http://i/1/x: line 2:"), "{err}");
    }
}
