//! `Pipfile.lock` (pipenv): JSON with a `default` (production) and a `develop` (dev) section,
//! each mapping a name to `{"version": "==x", "hashes": [...], "markers": ...}` or a VCS / path
//! entry. It records no edges; the direct dependencies come from a sibling `Pipfile`.
//! <https://pipenv.pypa.io/en/latest/pipfile.html>

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::ScopedGraph;
use crate::graph::NodeId;
use crate::lockfile::{LockfileError, ParseInput, Parsed};
use crate::package::{Ecosystem, PackageName, Scope, Source};

#[derive(Deserialize)]
struct LockWire<'a> {
    #[serde(rename = "_meta")]
    meta: Option<MetaWire>,
    #[serde(borrow, default)]
    default: BTreeMap<Cow<'a, str>, EntryWire<'a>>,
    #[serde(borrow, default)]
    develop: BTreeMap<Cow<'a, str>, EntryWire<'a>>,
}

#[derive(Deserialize)]
struct MetaWire {
    #[serde(rename = "pipfile-spec")]
    pipfile_spec: Option<serde_json::Value>,
}

/// The `_meta.pipfile-spec` versions this parser reads (pipenv has written 6 since 2018).
const PIPFILE_SPECS: std::ops::RangeInclusive<u64> = 1..=6;

#[derive(Deserialize)]
struct EntryWire<'a> {
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    git: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "ref")]
    reference: Option<Cow<'a, str>>,
    #[serde(borrow)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    file: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct PipfileWire {
    #[serde(default)]
    packages: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "dev-packages")]
    dev_packages: BTreeMap<String, toml::Value>,
}

impl EntryWire<'_> {
    /// The pinned version (`==1.2.3` or `===1.2.3`) and where the package comes from.
    fn version_and_source(&self) -> (String, Source) {
        let version = self.version.as_deref().unwrap_or("");
        let pinned =
            version.strip_prefix("===").or_else(|| version.strip_prefix("==")).unwrap_or(version).trim().to_owned();
        let source = if let Some(url) = &self.git {
            Source::Git { url: url.to_string(), rev: self.reference.as_ref().map(ToString::to_string) }
        } else if let Some(path) = &self.path {
            Source::Path(path.to_string())
        } else if let Some(file) = &self.file {
            Source::Other(file.to_string())
        } else {
            Source::Registry
        };
        (pinned, source)
    }
}

pub(crate) fn parse(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let wire: LockWire<'_> = serde_json::from_slice(input.bytes).map_err(|e| {
        LockfileError::new(
            input.path,
            Some(format!("{}:{}", e.line(), e.column())),
            format!("invalid Pipfile.lock: {e}"),
        )
    })?;
    check_meta(input, wire.meta.as_ref())?;
    let mut warnings = Vec::new();
    let mut graph = ScopedGraph::default();
    let mut seen: HashMap<(PackageName, String), NodeId> = HashMap::new();
    for (section, scope) in [(&wire.default, Scope::Prod), (&wire.develop, Scope::Dev)] {
        for (name, entry) in section {
            let (version, source) = entry.version_and_source();
            let raw = entry.version.as_deref().unwrap_or("");
            if version.is_empty() && source == Source::Registry {
                warnings.push(format!("{name}: no version in the lockfile"));
            } else if source == Source::Registry && !raw.starts_with("==") {
                warnings.push(format!("{name}: version {raw:?} is not a pin (==x.y): kept as written"));
            }
            let key = (PackageName::new(Ecosystem::PyPI, name), version.clone());
            if seen.contains_key(&key) {
                continue;
            }
            let id = graph.add(name, &version, source);
            graph.packages[id].scope = scope;
            seen.insert(key, id);
        }
    }
    let roots = match super::sibling_toml::<PipfileWire>(input.read_sibling, "Pipfile", &mut warnings) {
        Some(pipfile) => {
            let index = graph.name_index();
            pipfile
                .packages
                .keys()
                .chain(pipfile.dev_packages.keys())
                .flat_map(|name| ScopedGraph::named(&index, name).iter().copied())
                .collect()
        }
        None => graph.parentless(),
    };
    Ok(Parsed { graph: graph.into_graph(&roots), warnings })
}

/// `_meta` must be there (pipenv always writes it) with a known `pipfile-spec`, if any.
fn check_meta(input: &ParseInput<'_>, meta: Option<&MetaWire>) -> Result<(), LockfileError> {
    let Some(meta) = meta else {
        return Err(LockfileError::new(input.path, Some("_meta".to_owned()), "missing: not a Pipfile.lock"));
    };
    match &meta.pipfile_spec {
        None => Ok(()),
        Some(spec) if spec.as_u64().is_some_and(|n| PIPFILE_SPECS.contains(&n)) => Ok(()),
        Some(spec) => Err(LockfileError::new(
            input.path,
            Some("_meta.pipfile-spec".to_owned()),
            format!("expected a Pipfile.lock spec version 1 to 6, found {spec}"),
        )),
    }
}
