//! PyPI: the JSON API (`{base}/pypi/{name}/json`: per-file `upload_time_iso_8601`, `yanked`,
//! `yanked_reason`, and the project's `ownership`;
//! <https://docs.pypi.org/api/json/>) and, for mirrors that only have an index, the Simple API
//! in JSON (PEP 691, with PEP 700 `upload-time` and `versions`, PEP 740 `provenance`, PEP 792
//! `project-status`). PyPI has no per-file uploader and no install scripts: those facts stay
//! unknown (`None`) by design.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use super::facts::{PackageFacts, ProjectStatus, VersionFacts};
use super::{Presence, RegistryError, parse_time};
use crate::package::{Ecosystem, PackageName};

/// The media type of the Simple API in JSON (PEP 691).
pub const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Deserialize)]
struct JsonApiWire<'a> {
    #[serde(borrow, default)]
    info: Option<InfoWire<'a>>,
    #[serde(borrow, default)]
    releases: BTreeMap<Cow<'a, str>, Vec<JsonFileWire<'a>>>,
    #[serde(borrow, default)]
    ownership: Option<OwnershipWire<'a>>,
    #[serde(borrow, default, rename = "project-status")]
    project_status: Option<StatusWire<'a>>,
}

#[derive(Deserialize)]
struct InfoWire<'a> {
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct JsonFileWire<'a> {
    #[serde(borrow, default)]
    upload_time_iso_8601: Option<Cow<'a, str>>,
    #[serde(default)]
    yanked: bool,
    #[serde(borrow, default)]
    yanked_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct OwnershipWire<'a> {
    #[serde(borrow, default)]
    roles: Vec<RoleWire<'a>>,
}

#[derive(Deserialize)]
struct RoleWire<'a> {
    #[serde(borrow)]
    user: Cow<'a, str>,
}

#[derive(Deserialize)]
struct StatusWire<'a> {
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct SimpleWire<'a> {
    #[serde(borrow, default)]
    files: Vec<SimpleFileWire<'a>>,
    #[serde(borrow, default)]
    versions: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default, rename = "project-status")]
    project_status: Option<StatusWire<'a>>,
}

#[derive(Deserialize)]
struct SimpleFileWire<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow, default, rename = "upload-time")]
    upload_time: Option<Cow<'a, str>>,
    /// `false`, `true`, or the reason as a string (PEP 592 in JSON).
    #[serde(borrow, default)]
    yanked: Option<Yanked<'a>>,
    /// PEP 740: the provenance URL, `null` when the file has none; absent on older indexes.
    #[serde(default, deserialize_with = "super::presence")]
    provenance: Option<Presence>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Yanked<'a> {
    Flag(bool),
    Reason(#[serde(borrow)] Cow<'a, str>),
}

/// One release being assembled from its files.
#[derive(Default)]
struct Release {
    first_upload: Option<Timestamp>,
    files: usize,
    yanked: usize,
    reason: Option<String>,
    provenance_known: bool,
    with_provenance: usize,
}

impl Release {
    fn add_time(&mut self, t: Timestamp) {
        self.first_upload = Some(self.first_upload.map_or(t, |f| f.min(t)));
    }

    fn into_facts(self, version: String, simple: bool) -> VersionFacts {
        let all_yanked = self.files > 0 && self.yanked == self.files;
        VersionFacts {
            version,
            published: self.first_upload,
            publisher: None,
            provenance: (simple && self.provenance_known && self.files > 0)
                .then_some(self.with_provenance == self.files),
            install_scripts: None,
            deprecated: None,
            deprecation_known: false,
            yanked: all_yanked.then(|| self.reason.unwrap_or_default()),
            yank_known: self.files > 0,
            dependencies: None,
            maintainers: None,
        }
    }
}

fn status(wire: Option<&StatusWire<'_>>) -> Option<ProjectStatus> {
    let wire = wire?;
    let reason = wire.reason.as_deref().filter(|r| !r.is_empty()).map(str::to_owned);
    match wire.status.as_deref().unwrap_or("active") {
        "active" => Some(ProjectStatus::Active),
        "archived" => Some(ProjectStatus::Archived),
        "quarantined" => Some(ProjectStatus::Quarantined),
        "deprecated" => Some(ProjectStatus::Deprecated { message: reason }),
        _ => None,
    }
}

/// Parses `{base}/pypi/{name}/json`.
pub fn parse_json_api(
    url: &str,
    name: &PackageName,
    bytes: &[u8],
    fetched_at: Timestamp,
) -> Result<PackageFacts, RegistryError> {
    let wire: JsonApiWire<'_> = serde_json::from_slice(bytes).map_err(|e| RegistryError::parse(url, "", &e))?;
    let mut versions = Vec::with_capacity(wire.releases.len());
    for (version, files) in &wire.releases {
        let mut release = Release::default();
        for (i, file) in files.iter().enumerate() {
            release.files += 1;
            if let Some(text) = &file.upload_time_iso_8601 {
                let key = format!("releases[{version:?}][{i}].upload_time_iso_8601");
                release.add_time(parse_time(text).map_err(|m| RegistryError::key(url, key, m))?);
            }
            if file.yanked {
                release.yanked += 1;
                release.reason = release.reason.or_else(|| file.yanked_reason.as_deref().map(str::to_owned));
            }
        }
        versions.push(release.into_facts(version.clone().into_owned(), false));
    }
    let maintainers = wire.ownership.map(|o| {
        let mut users: Vec<String> = o.roles.into_iter().map(|r| r.user.into_owned()).collect();
        users.sort();
        users.dedup();
        users
    });
    Ok(PackageFacts {
        ecosystem: Ecosystem::PyPI,
        name: name.clone(),
        fetched_at,
        versions,
        maintainers,
        status: status(wire.project_status.as_ref()),
        latest: wire.info.and_then(|i| i.version).map(Cow::into_owned),
        dropped_times: None,
    })
}

/// Parses a Simple API project page in JSON (`{index}/{name}/`, PEP 691).
pub fn parse_simple(
    url: &str,
    name: &PackageName,
    bytes: &[u8],
    fetched_at: Timestamp,
) -> Result<PackageFacts, RegistryError> {
    let wire: SimpleWire<'_> = serde_json::from_slice(bytes).map_err(|e| RegistryError::parse(url, "", &e))?;
    let mut releases: BTreeMap<String, Release> = BTreeMap::new();
    for version in wire.versions.iter().flatten() {
        releases.entry(version.clone().into_owned()).or_default();
    }
    for (i, file) in wire.files.iter().enumerate() {
        let Some(version) = version_of_file(name.as_str(), &file.filename) else { continue };
        let release = releases.entry(version).or_default();
        release.files += 1;
        if let Some(text) = &file.upload_time {
            let key = format!("files[{i}].upload-time");
            release.add_time(parse_time(text).map_err(|m| RegistryError::key(url, key, m))?);
        }
        match &file.yanked {
            Some(Yanked::Flag(true)) => release.yanked += 1,
            Some(Yanked::Reason(reason)) => {
                release.yanked += 1;
                release.reason = release.reason.take().or_else(|| Some(reason.clone().into_owned()));
            }
            _ => {}
        }
        if let Some(provenance) = &file.provenance {
            release.provenance_known = true;
            release.with_provenance += usize::from(*provenance == Presence::Value);
        }
    }
    let versions = releases.into_iter().map(|(v, r)| r.into_facts(v, true)).collect();
    Ok(PackageFacts {
        ecosystem: Ecosystem::PyPI,
        name: name.clone(),
        fetched_at,
        versions,
        maintainers: None,
        status: status(wire.project_status.as_ref()),
        latest: None,
        dropped_times: None,
    })
}

/// The version in a distribution file name: wheels `{name}-{version}-{tags}.whl`, sdists
/// `{name}-{version}.tar.gz` / `.zip` (legacy sdists may keep `-` in the name).
fn version_of_file(project: &str, filename: &str) -> Option<String> {
    let stem = if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        let (_, version) = (parts.next()?, parts.next()?);
        return Some(version.to_owned());
    } else {
        [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar"].iter().find_map(|ext| filename.strip_suffix(ext))?
    };
    stem.match_indices('-')
        .map(|(i, _)| i)
        .find(|&i| PackageName::new(Ecosystem::PyPI, &stem[..i]).as_str() == project)
        .map(|i| stem[i + 1..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_out_of_file_names() {
        assert_eq!(version_of_file("requests", "requests-2.31.0-py3-none-any.whl").as_deref(), Some("2.31.0"));
        assert_eq!(version_of_file("requests", "requests-2.31.0.tar.gz").as_deref(), Some("2.31.0"));
        assert_eq!(version_of_file("python-dateutil", "python-dateutil-2.8.2.tar.gz").as_deref(), Some("2.8.2"));
        assert_eq!(version_of_file("requests", "requests.exe"), None);
    }
}
