//! npm: the packument (`GET {registry}/{name}`, scoped names as `@scope%2fname`), read with typed
//! wire structs that borrow from the bytes and skip what we don't need (`readme`, `dist.tarball`,
//! ...), so a tens-of-megabytes packument never becomes a `serde_json::Value`.
//! Format: <https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md>.
//!
//! Mirrors strip fields: a packument where no version has `_npmUser` is read as stripped, and
//! then publisher, provenance, maintainers and deprecation are *unknown*, never "none".

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::facts::{List, PackageFacts, ProjectStatus, VersionFacts};
use super::{RegistryError, parse_time};
use crate::package::{Ecosystem, PackageName};

/// The lifecycle scripts npm runs on install.
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

#[derive(Deserialize)]
struct PackumentWire<'a> {
    #[serde(borrow, default, rename = "dist-tags")]
    dist_tags: BTreeMap<Cow<'a, str>, Loose<'a>>,
    #[serde(borrow, default)]
    time: BTreeMap<Cow<'a, str>, Loose<'a>>,
    #[serde(borrow, default)]
    maintainers: Option<Vec<PersonWire<'a>>>,
    #[serde(borrow, default)]
    versions: BTreeMap<Cow<'a, str>, VersionWire<'a>>,
}

#[derive(Deserialize)]
#[expect(clippy::zero_sized_map_values, reason = "only the keys of the dependency objects are read")]
struct VersionWire<'a> {
    #[serde(borrow, default, rename = "_npmUser")]
    npm_user: Option<NpmUserWire<'a>>,
    #[serde(borrow, default)]
    maintainers: Option<Vec<PersonWire<'a>>>,
    #[serde(borrow, default)]
    scripts: Option<BTreeMap<Cow<'a, str>, Loose<'a>>>,
    #[serde(borrow, default)]
    deprecated: Option<Loose<'a>>,
    #[serde(default)]
    dist: Option<DistWire>,
    #[serde(borrow, default)]
    dependencies: Option<BTreeMap<Cow<'a, str>, IgnoredAny>>,
    #[serde(borrow, default, rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<Cow<'a, str>, IgnoredAny>>,
}

#[derive(Deserialize)]
struct NpmUserWire<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default, rename = "trustedPublisher")]
    trusted_publisher: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct DistWire {
    #[serde(default)]
    attestations: Option<AttestationsWire>,
}

#[derive(Deserialize)]
struct AttestationsWire {
    #[serde(default)]
    provenance: Option<IgnoredAny>,
}

/// A maintainer: `{"name": ..., "email": ...}`, or the legacy `"name <email>"` string.
#[derive(Deserialize)]
#[serde(untagged)]
enum PersonWire<'a> {
    Object {
        #[serde(borrow, default)]
        name: Option<Cow<'a, str>>,
    },
    Text(#[serde(borrow)] Cow<'a, str>),
    Other(IgnoredAny),
}

/// A value that is usually a string but that old or hostile packuments spell otherwise
/// (`"deprecated": false`, `"time": {"unpublished": {...}}`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Loose<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Bool(bool),
    Other(IgnoredAny),
}

impl Loose<'_> {
    fn text(&self) -> Option<&str> {
        match self {
            Loose::Text(t) => Some(t),
            Loose::Bool(_) | Loose::Other(_) => None,
        }
    }
}

impl PersonWire<'_> {
    fn name(&self) -> Option<String> {
        let name = match self {
            PersonWire::Object { name } => name.as_deref()?,
            PersonWire::Text(text) => text.split('<').next().unwrap_or(text),
            PersonWire::Other(_) => return None,
        };
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

fn names(people: Option<&Vec<PersonWire<'_>>>) -> Option<Vec<String>> {
    let mut out: Vec<String> = people?.iter().filter_map(PersonWire::name).collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// The packument URL path segment of a name: `@scope/name` becomes `@scope%2fname`.
pub fn path_segment(name: &str) -> String {
    name.replacen('/', "%2f", 1)
}

/// Parses a packument. `url` names the document in errors; `fetched_at` is stamped on the facts.
pub fn parse_packument(
    url: &str,
    name: &PackageName,
    bytes: &[u8],
    fetched_at: Timestamp,
) -> Result<PackageFacts, RegistryError> {
    let wire: PackumentWire<'_> = serde_json::from_slice(bytes).map_err(|e| RegistryError::parse(url, "", &e))?;
    let stripped = !wire.versions.values().any(|v| v.npm_user.is_some());
    let mut versions = Vec::with_capacity(wire.versions.len());
    for (version, v) in &wire.versions {
        let published = match wire.time.get(version).and_then(Loose::text) {
            Some(text) => Some(parse_time(text).map_err(|m| RegistryError::key(url, format!("time[{version:?}]"), m))?),
            None => None,
        };
        versions.push(version_facts(version, v, published, stripped));
    }
    let all_deprecated = !versions.is_empty() && versions.iter().all(|v| v.deprecated.is_some());
    let latest = wire.dist_tags.get("latest").and_then(Loose::text).map(str::to_owned);
    let status = if stripped {
        None
    } else if all_deprecated {
        let message =
            latest.as_deref().and_then(|l| versions.iter().find(|v| v.version == l)).and_then(|v| v.deprecated.clone());
        Some(ProjectStatus::Deprecated { message })
    } else {
        Some(ProjectStatus::Active)
    };
    Ok(PackageFacts {
        ecosystem: Ecosystem::Npm,
        name: name.clone(),
        fetched_at,
        versions,
        maintainers: if stripped { None } else { names(wire.maintainers.as_ref()) },
        status,
        latest,
        dropped_times: None,
    })
}

fn version_facts(version: &str, v: &VersionWire<'_>, published: Option<Timestamp>, stripped: bool) -> VersionFacts {
    let trusted = v.npm_user.as_ref().is_some_and(|u| u.trusted_publisher.is_some());
    let attested = v.dist.as_ref().and_then(|d| d.attestations.as_ref()).is_some_and(|a| a.provenance.is_some());
    let deprecated = match &v.deprecated {
        Some(Loose::Text(t)) if !t.is_empty() => Some(t.clone().into_owned()),
        Some(Loose::Bool(true)) => Some(String::new()),
        _ => None,
    };
    let install_scripts = v.scripts.as_ref().map_or_else(Vec::new, |scripts| {
        INSTALL_SCRIPTS
            .iter()
            .filter_map(|&s| scripts.get(s).map(|cmd| (s.to_owned(), cmd.text().unwrap_or_default().to_owned())))
            .collect::<Vec<_>>()
    });
    let mut install_scripts = install_scripts;
    install_scripts.sort();
    let dependencies = {
        let mut deps: Vec<String> = v
            .dependencies
            .iter()
            .chain(v.optional_dependencies.iter())
            .flat_map(|m| m.keys().map(|k| k.clone().into_owned()))
            .collect();
        deps.sort();
        deps.dedup();
        deps
    };
    VersionFacts {
        version: version.to_owned(),
        published,
        publisher: v.npm_user.as_ref().and_then(|u| u.name.as_deref()).map(str::to_owned),
        provenance: (!stripped).then_some(trusted || attested),
        install_scripts: Some(install_scripts.into()),
        deprecation_known: !stripped || deprecated.is_some(),
        deprecated,
        yanked: None,
        yank_known: false,
        dependencies: Some(dependencies.into()),
        maintainers: if stripped { None } else { names(v.maintainers.as_ref()).map(List::from) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PackageFacts, RegistryError> {
        parse_packument("http://r/x", &PackageName::new(Ecosystem::Npm, "x"), json.as_bytes(), Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn scoped_names_keep_the_at_and_encode_the_slash() {
        assert_eq!(path_segment("@types/node"), "@types%2fnode");
        assert_eq!(path_segment("left-pad"), "left-pad");
    }

    #[test]
    fn odd_shapes_are_read_not_rejected() {
        let facts = parse(
            r#"{"time":{"unpublished":{"time":"x"},"1.0.0":"2020-01-01T00:00:00.000Z"},
                "versions":{"1.0.0":{"_npmUser":{"name":"a"},"deprecated":false,
                "maintainers":["bob <b@x>", {"name":"amy"}, 7],"scripts":{"install":null}}}}"#,
        )
        .unwrap();
        let v = &facts.versions[0];
        assert_eq!(v.deprecated, None);
        assert!(v.deprecation_known);
        assert_eq!(v.maintainers.as_deref(), Some(&["amy".to_owned(), "bob".to_owned()][..]));
        assert_eq!(v.install_scripts.as_deref(), Some(&[("install".to_owned(), String::new())][..]));
        assert_eq!(v.provenance, Some(false));
    }

    #[test]
    fn a_bad_time_names_the_key() {
        let err = parse(r#"{"time":{"1.0.0":"soon"},"versions":{"1.0.0":{}}}"#).unwrap_err().to_string();
        assert!(err.starts_with("http://r/x: time[\"1.0.0\"]:"), "{err}");
        let err = parse(r#"{"versions":[]}"#).unwrap_err().to_string();
        assert!(err.starts_with("http://r/x: "), "{err}");
    }
}
