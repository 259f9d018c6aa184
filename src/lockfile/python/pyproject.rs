//! The parts of a sibling `pyproject.toml` that say which dependencies are direct and in which
//! scope: PEP 621 `[project]` dependencies and optional dependencies, PEP 735
//! `[dependency-groups]`, Poetry's `[tool.poetry.*dependencies]` and groups, and the dev
//! dependencies of PDM and uv. <https://packaging.python.org/en/latest/specifications/pyproject-toml/>

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::pep508_name;
use crate::package::{Ecosystem, PackageName, Scope};

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct PyProjectWire {
    project: Option<ProjectWire>,
    tool: Option<ToolWire>,
    dependency_groups: Option<BTreeMap<String, Vec<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ProjectWire {
    name: Option<String>,
    dependencies: Option<Vec<String>>,
    optional_dependencies: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct ToolWire {
    poetry: Option<PoetryWire>,
    pdm: Option<DevDepsWire<BTreeMap<String, Vec<String>>>>,
    uv: Option<DevDepsWire<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PoetryWire {
    name: Option<String>,
    dependencies: Option<BTreeMap<String, toml::Value>>,
    dev_dependencies: Option<BTreeMap<String, toml::Value>>,
    group: Option<BTreeMap<String, PoetryGroupWire>>,
}

#[derive(Deserialize)]
struct PoetryGroupWire {
    dependencies: Option<BTreeMap<String, toml::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct DevDepsWire<T> {
    dev_dependencies: Option<T>,
}

/// What a `pyproject.toml` declares: direct dependencies (normalized name -> best scope) and the
/// names of its optional-dependency extras and dev groups (for `pdm.lock` group scopes).
#[derive(Debug, Default)]
pub(super) struct Manifest {
    pub direct: BTreeMap<PackageName, Scope>,
    pub extras: BTreeSet<String>,
    pub dev_groups: BTreeSet<String>,
}

impl Manifest {
    fn declare(&mut self, name: &str, scope: Scope, own_name: Option<&PackageName>) {
        let name = PackageName::new(Ecosystem::PyPI, name);
        if name.as_str().is_empty() || Some(&name) == own_name || name.as_str() == "python" {
            return;
        }
        let entry = self.direct.entry(name).or_insert(scope);
        *entry = (*entry).min(scope);
    }

    fn declare_pep508(&mut self, specs: &[String], scope: Scope, own: Option<&PackageName>) {
        for spec in specs {
            self.declare(pep508_name(spec), scope, own);
        }
    }
}

/// Reads `pyproject.toml` beside the lockfile, if there is one.
pub(super) fn read(
    read_sibling: &dyn Fn(&std::path::Path) -> Option<Vec<u8>>,
    warnings: &mut Vec<String>,
) -> Option<Manifest> {
    let wire: PyProjectWire = super::sibling_toml(read_sibling, "pyproject.toml", warnings)?;
    Some(Manifest::from(wire))
}

impl From<PyProjectWire> for Manifest {
    fn from(wire: PyProjectWire) -> Manifest {
        let mut manifest = Manifest::default();
        let project_name = wire.project.as_ref().and_then(|p| p.name.clone());
        let poetry_name = wire.tool.as_ref().and_then(|t| t.poetry.as_ref()?.name.clone());
        let own = project_name.or(poetry_name).map(|n| PackageName::new(Ecosystem::PyPI, &n));
        let own = own.as_ref();
        if let Some(project) = wire.project {
            manifest.declare_pep508(&project.dependencies.unwrap_or_default(), Scope::Prod, own);
            for (extra, specs) in project.optional_dependencies.unwrap_or_default() {
                manifest.declare_pep508(&specs, Scope::Optional, own);
                manifest.extras.insert(extra);
            }
        }
        for (group, entries) in wire.dependency_groups.unwrap_or_default() {
            for entry in entries {
                if let toml::Value::String(spec) = entry {
                    manifest.declare(pep508_name(&spec), Scope::Dev, own);
                }
            }
            manifest.dev_groups.insert(group);
        }
        if let Some(tool) = wire.tool {
            if let Some(poetry) = tool.poetry {
                manifest.add_poetry(poetry, own);
            }
            let pdm_dev = tool.pdm.and_then(|p| p.dev_dependencies).unwrap_or_default();
            for (group, specs) in pdm_dev {
                manifest.declare_pep508(&specs, Scope::Dev, own);
                manifest.dev_groups.insert(group);
            }
            let uv_dev = tool.uv.and_then(|u| u.dev_dependencies).unwrap_or_default();
            manifest.declare_pep508(&uv_dev, Scope::Dev, own);
        }
        manifest
    }
}

impl Manifest {
    fn add_poetry(&mut self, poetry: PoetryWire, own: Option<&PackageName>) {
        for (name, spec) in poetry.dependencies.unwrap_or_default() {
            let optional = spec.get("optional").and_then(toml::Value::as_bool).unwrap_or(false);
            let scope = if optional { Scope::Optional } else { Scope::Prod };
            self.declare(&name, scope, own);
        }
        for name in poetry.dev_dependencies.unwrap_or_default().keys() {
            self.declare(name, Scope::Dev, own);
        }
        for (group, body) in poetry.group.unwrap_or_default() {
            let scope = if group == "main" { Scope::Prod } else { Scope::Dev };
            for name in body.dependencies.unwrap_or_default().keys() {
                self.declare(name, scope, own);
            }
            if group != "main" {
                self.dev_groups.insert(group);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        Manifest::from(toml::from_str::<PyProjectWire>(text).expect("valid test TOML"))
    }

    #[test]
    fn every_declaration_style() {
        let m = manifest(
            r#"
            [project]
            name = "app"
            dependencies = ["Requests>=2", "app[x]"]
            [project.optional-dependencies]
            x = ["boto3"]
            [dependency-groups]
            test = ["pytest", { include-group = "lint" }]
            [tool.poetry.dependencies]
            python = "^3.9"
            redis = { version = "^5", optional = true }
            [tool.poetry.group.docs.dependencies]
            mkdocs = "*"
            [tool.pdm.dev-dependencies]
            lint = ["ruff"]
            "#,
        );
        let got: Vec<_> = m.direct.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        assert_eq!(
            got,
            [
                ("boto3", Scope::Optional),
                ("mkdocs", Scope::Dev),
                ("pytest", Scope::Dev),
                ("redis", Scope::Optional),
                ("requests", Scope::Prod),
                ("ruff", Scope::Dev),
            ]
        );
        assert!(m.extras.contains("x"));
        assert!(m.dev_groups.contains("lint") && m.dev_groups.contains("docs"));
    }
}
