//! Builders for the unit tests of the registry-fact checks: versions, packages, facts maps
//! and units, written the way the incident facts read.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::FactsMap;
use crate::bundle::{TreeSource, Unit, UnitKind};
use crate::graph::DepGraph;
use crate::lockfile::LockfileFormat;
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};
use crate::registry::facts::{PackageFacts, VersionFacts};

pub fn t(text: &str) -> Timestamp {
    text.parse().expect("test time")
}

/// An npm version as a packument gives it: deprecation known, no yank in npm, facts the
/// test does not set are unknown.
pub fn v(version: &str, published: &str) -> VersionFacts {
    VersionFacts {
        version: version.into(),
        published: Some(t(published)),
        deprecation_known: true,
        install_scripts: Some(vec![].into()),
        dependencies: Some(vec![].into()),
        ..VersionFacts::default()
    }
}

pub trait VersionExt {
    fn by(self, publisher: &str) -> Self;
    fn maintainers(self, list: &[&str]) -> Self;
    fn script(self, name: &str, command: &str) -> Self;
    fn deps(self, list: &[&str]) -> Self;
    fn provenance(self, has: bool) -> Self;
}

impl VersionExt for VersionFacts {
    fn by(mut self, publisher: &str) -> Self {
        self.publisher = Some(publisher.into());
        self
    }
    fn maintainers(mut self, list: &[&str]) -> Self {
        self.maintainers = Some(list.iter().map(|s| (*s).to_owned()).collect());
        self
    }
    fn script(mut self, name: &str, command: &str) -> Self {
        let mut scripts = self.install_scripts.take().map(|s| s.to_vec()).unwrap_or_default();
        scripts.push((name.into(), command.into()));
        self.install_scripts = Some(scripts.into());
        self
    }
    fn deps(mut self, list: &[&str]) -> Self {
        let mut deps: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        deps.sort();
        self.dependencies = Some(deps.into());
        self
    }
    fn provenance(mut self, has: bool) -> Self {
        self.provenance = Some(has);
        self
    }
}

pub fn package(ecosystem: Ecosystem, name: &str, versions: Vec<VersionFacts>) -> PackageFacts {
    PackageFacts {
        ecosystem,
        name: PackageName::new(ecosystem, name),
        fetched_at: t("2026-01-01T00:00:00Z"),
        versions,
        maintainers: None,
        status: None,
        latest: None,
        dropped_times: None,
    }
}

pub fn facts_map(list: Vec<PackageFacts>) -> FactsMap {
    list.into_iter().map(|p| ((p.ecosystem, p.name.clone()), p)).collect::<HashMap<_, _>>()
}

/// A unit whose tree holds the given (ecosystem, name, version, scope) registry packages.
pub fn unit(packages: &[(Ecosystem, &str, &str, Scope)]) -> Unit {
    let mut graph = DepGraph::new();
    for (ecosystem, name, version, scope) in packages {
        let node = graph.add_node(Package {
            ecosystem: *ecosystem,
            name: PackageName::new(*ecosystem, name),
            version: (*version).to_owned(),
            scope: *scope,
            source: Source::Registry,
        });
        graph.add_root(node);
    }
    graph.finish();
    Unit {
        name: "fn".into(),
        kind: UnitKind::Function,
        runtime: None,
        handler: None,
        template: None,
        code_dir: None,
        path: "fn/package-lock.json".into(),
        file: "fn/package-lock.json".into(),
        source: TreeSource::Lockfile(LockfileFormat::NpmPackageLock),
        graph,
        artifact: None::<Arc<_>>,
        lockfile_twin: None,
        coverage: None,
        esbuild: None,
    }
}
