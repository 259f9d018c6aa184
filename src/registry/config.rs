//! Which registry each ecosystem's metadata comes from, read from the user's own configuration so
//! that private mirrors work as they do for the package managers: `.npmrc` (project, then
//! `~/.npmrc`; `registry=`, `@scope:registry=`, `//host/path/:_authToken=` with `${ENV}`
//! expansion), `NPM_CONFIG_REGISTRY`; `PIP_INDEX_URL`, `UV_DEFAULT_INDEX`, pip.conf
//! `[global] index-url`; Cargo source replacement in `.cargo/config.toml`; `GOPROXY`,
//! `GOPRIVATE`/`GONOPROXY`. A `[registries]` table in bundleguard.toml overrides all of them.
//! The environment is passed in (`env`), so tests never touch the process environment.
//! Credentials live only in [`Secret`]s, which never print.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::golang::{self, ProxyEntry};
use crate::package::Ecosystem;
use crate::vocab::Diagnostic;

pub const NPM_PUBLIC: &str = "https://registry.npmjs.org";
pub const PYPI_PUBLIC: &str = "https://pypi.org";
pub const CRATES_PUBLIC: &str = "https://index.crates.io";
pub const GO_PUBLIC: &str = "https://proxy.golang.org,direct";

/// The `[registries]` table of bundleguard.toml (the policy file embeds it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistriesOverride {
    /// An npm registry URL, as in `.npmrc`.
    pub npm: Option<String>,
    /// A PyPI base URL serving `{pypi}/pypi/{name}/json` and `{pypi}/simple/{name}/`.
    pub pypi: Option<String>,
    /// A sparse index URL (`sparse+https://...` or `https://...`).
    pub crates: Option<String>,
    /// A `GOPROXY` value.
    pub go: Option<String>,
    /// Ecosystems whose registry (a mirror) rewrites publish times: times are then unknown.
    #[serde(default)]
    pub untrusted_times: Vec<String>,
}

/// A credential: never printed, never logged, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An `Authorization` value for the URLs under one `//host[:port]/path/` prefix (npm's
/// "nerf dart"): sent to that host only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub prefix: String,
    pub authorization: Secret,
}

/// Where the metadata of each ecosystem comes from. `None` endpoints are not evaluated, with
/// the reason in `disabled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// The default npm registry, and per-scope registries (`@acme` -> URL).
    pub npm: String,
    pub npm_scopes: BTreeMap<String, String>,
    /// PyPI: the JSON API base (`{base}/pypi/{name}/json`), when the index is known to have one,
    /// and the Simple index URL (`{simple}/{name}/`).
    pub pypi_json: Option<String>,
    pub pypi_simple: String,
    /// crates.io sparse index (without `sparse+`), `None` when replaced by a source we can't read.
    pub crates: Option<String>,
    /// The `GOPROXY` list and the `GONOPROXY` (or `GOPRIVATE`) patterns.
    pub go: Vec<ProxyEntry>,
    pub go_private: String,
    pub credentials: Vec<Credential>,
    pub untrusted_times: Vec<Ecosystem>,
}

impl Default for RegistryConfig {
    fn default() -> RegistryConfig {
        RegistryConfig {
            npm: NPM_PUBLIC.to_owned(),
            npm_scopes: BTreeMap::new(),
            pypi_json: Some(PYPI_PUBLIC.to_owned()),
            pypi_simple: format!("{PYPI_PUBLIC}/simple"),
            crates: Some(CRATES_PUBLIC.to_owned()),
            go: golang::parse_goproxy(GO_PUBLIC),
            go_private: String::new(),
            credentials: Vec::new(),
            untrusted_times: Vec::new(),
        }
    }
}

impl RegistryConfig {
    /// Every endpoint at one base URL (tests, benchmarks, a single internal mirror): npm at
    /// `{base}/npm`, PyPI at `{base}/pypi` (JSON API and Simple), crates at `{base}/crates`
    /// (sparse), Go at `{base}/go`.
    pub fn single_mirror(base: &str) -> RegistryConfig {
        let base = base.trim_end_matches('/');
        RegistryConfig {
            npm: format!("{base}/npm"),
            pypi_json: Some(format!("{base}/pypi")),
            pypi_simple: format!("{base}/pypi/simple"),
            crates: Some(format!("{base}/crates")),
            go: golang::parse_goproxy(&format!("{base}/go")),
            ..RegistryConfig::default()
        }
    }

    /// The npm registry for a package name (its scope's registry, or the default).
    pub fn npm_registry(&self, name: &str) -> &str {
        npm_scope(name).and_then(|scope| self.npm_scopes.get(scope)).map_or(self.npm.as_str(), String::as_str)
    }

    /// The `Authorization` header value for a URL, when a credential belongs to its host and path.
    pub fn authorization(&self, url: &str) -> Option<&Secret> {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let target = format!("//{rest}");
        self.credentials
            .iter()
            .filter(|c| target.starts_with(&c.prefix))
            .max_by_key(|c| c.prefix.len())
            .map(|c| &c.authorization)
    }
}

/// The scope of an npm package name, as `.npmrc` keys it (`@scope` of `@scope/name`); `None` for
/// an unscoped name.
pub fn npm_scope(name: &str) -> Option<&str> {
    name.split_once('/').map(|(scope, _)| scope).filter(|scope| scope.starts_with('@'))
}

/// Shows a URL without any `user:password@`.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let slash = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{host}{slash}{path}")
        }
        None => url.to_owned(),
    }
}

/// Resolves the endpoints for a project, from its files, the user's files and the environment,
/// then the `[registries]` override. Problems (an unset `${VAR}`, an unreadable file) become
/// diagnostics; resolution itself never fails.
pub fn resolve(
    project_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: Option<&RegistriesOverride>,
) -> (RegistryConfig, Vec<Diagnostic>) {
    let mut config = RegistryConfig::default();
    let mut diagnostics = Vec::new();
    let home = env("HOME").map(PathBuf::from);
    resolve_npm(&mut config, project_dir, home.as_deref(), env, &mut diagnostics);
    resolve_pypi(&mut config, home.as_deref(), env, &mut diagnostics);
    resolve_cargo(&mut config, project_dir, home.as_deref(), env, &mut diagnostics);
    if let Some(proxy) = env("GOPROXY").filter(|v| !v.trim().is_empty()) {
        config.go = golang::parse_goproxy(&proxy);
    }
    config.go_private = env("GONOPROXY").or_else(|| env("GOPRIVATE")).unwrap_or_default();
    if let Some(o) = overrides {
        apply_override(&mut config, o, &mut diagnostics);
    }
    (config, diagnostics)
}

fn apply_override(config: &mut RegistryConfig, o: &RegistriesOverride, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(npm) = &o.npm {
        npm.trim_end_matches('/').clone_into(&mut config.npm);
        config.npm_scopes.clear();
    }
    if let Some(pypi) = &o.pypi {
        let base = pypi.trim_end_matches('/');
        config.pypi_json = Some(base.to_owned());
        config.pypi_simple = format!("{base}/simple");
    }
    if let Some(crates) = &o.crates {
        config.crates = Some(crates.trim_start_matches("sparse+").trim_end_matches('/').to_owned());
    }
    if let Some(go) = &o.go {
        config.go = golang::parse_goproxy(go);
    }
    for name in &o.untrusted_times {
        match Ecosystem::from_name(name) {
            Some(eco) => config.untrusted_times.push(eco),
            None => diagnostics.push(Diagnostic::new(
                "registry/config",
                format!("[registries] untrusted-times: unknown ecosystem {name:?} (npm, PyPI, crates.io, Go)"),
            )),
        }
    }
}

fn read_optional(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    match fs_err::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            diagnostics.push(Diagnostic::at("registry/config", path.display().to_string(), e.to_string()));
            None
        }
    }
}

fn resolve_npm(
    config: &mut RegistryConfig,
    project_dir: &Path,
    home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Lowest precedence first: user, then project, then the environment.
    let files = home.map(|h| h.join(".npmrc")).into_iter().chain([project_dir.join(".npmrc")]);
    for path in files {
        if let Some(text) = read_optional(&path, diagnostics) {
            apply_npmrc(config, &path.display().to_string(), &text, env, diagnostics);
        }
    }
    if let Some(url) = env("NPM_CONFIG_REGISTRY").or_else(|| env("npm_config_registry")).filter(|u| !u.is_empty()) {
        url.trim_end_matches('/').clone_into(&mut config.npm);
    }
}

/// Applies one `.npmrc` (ini lines `key=value`, `#`/`;` comments).
pub fn apply_npmrc(
    config: &mut RegistryConfig,
    file: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let (key, raw) = (key.trim(), value.trim().trim_matches('"'));
        let line_no = u32::try_from(i + 1).ok();
        let value = match expand(raw, env) {
            Ok(v) => v,
            Err(var) => {
                diagnostics.push(
                    Diagnostic::at("registry/config", file, format!("{key}: ${{{var}}} is not set; entry ignored"))
                        .with_line(line_no),
                );
                continue;
            }
        };
        if key == "registry" {
            value.trim_end_matches('/').clone_into(&mut config.npm);
        } else if let Some(scope) = key.strip_suffix(":registry").filter(|s| s.starts_with('@')) {
            config.npm_scopes.insert(scope.to_owned(), value.trim_end_matches('/').to_owned());
        } else if let Some((prefix, setting)) = key.rsplit_once(':').filter(|(p, _)| p.starts_with("//")) {
            let authorization = match setting {
                "_authToken" => format!("Bearer {value}"),
                "_auth" => format!("Basic {value}"),
                _ => continue,
            };
            let prefix = if prefix.ends_with('/') { prefix.to_owned() } else { format!("{prefix}/") };
            config.credentials.retain(|c| c.prefix != prefix);
            config.credentials.push(Credential { prefix, authorization: Secret(authorization) });
        }
    }
}

/// `${VAR}` expansion as npm does it; `Err(name)` for an unset variable.
fn expand(raw: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else { break };
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        out.push_str(&env(name).ok_or_else(|| name.to_owned())?);
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve_pypi(
    config: &mut RegistryConfig,
    home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let from_env = ["PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"].into_iter().find_map(env);
    let index = from_env.filter(|v| !v.trim().is_empty()).or_else(|| {
        let mut files: Vec<PathBuf> = env("PIP_CONFIG_FILE").map(PathBuf::from).into_iter().collect();
        if let Some(h) = home {
            files.push(h.join(".config/pip/pip.conf"));
            files.push(h.join(".pip/pip.conf"));
        }
        files.push(PathBuf::from("/etc/pip.conf"));
        files.iter().find_map(|f| read_optional(f, diagnostics).and_then(|text| pip_conf_index(&text)))
    });
    if let Some(index) = index {
        let simple = index.trim().trim_end_matches('/').to_owned();
        // pypi.org/simple, Artifactory .../api/pypi/<repo>/simple, Nexus .../repository/<repo>/simple
        // all serve the JSON API at the parent; devpi's +simple does too. A 404 there falls back to
        // the Simple API.
        config.pypi_json =
            simple.strip_suffix("/simple").or_else(|| simple.strip_suffix("/+simple")).map(str::to_owned);
        config.pypi_simple = simple;
    }
}

/// `index-url` of the `[global]` (or `[install]`) section of a pip.conf.
fn pip_conf_index(text: &str) -> Option<String> {
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            name.trim().clone_into(&mut section);
        } else if let Some((key, value)) = line.split_once('=')
            && matches!(section.as_str(), "global" | "install")
            && matches!(key.trim(), "index-url" | "index_url")
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

#[derive(Deserialize, Default)]
struct CargoConfigWire {
    #[serde(default)]
    source: BTreeMap<String, CargoSourceWire>,
    #[serde(default)]
    registries: BTreeMap<String, CargoRegistryWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct CargoSourceWire {
    replace_with: Option<String>,
    registry: Option<String>,
}

#[derive(Deserialize, Default)]
struct CargoRegistryWire {
    index: Option<String>,
}

fn resolve_cargo(
    config: &mut RegistryConfig,
    project_dir: &Path,
    home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Cargo merges configs from the project up to the root, then $CARGO_HOME; the nearest wins.
    let cargo_home = env("CARGO_HOME").map(PathBuf::from).or_else(|| home.map(|h| h.join(".cargo")));
    let mut files: Vec<PathBuf> = project_dir.ancestors().map(|d| d.join(".cargo/config.toml")).collect();
    files.extend(cargo_home.map(|h| h.join("config.toml")));
    let mut merged = CargoConfigWire::default();
    for path in files.iter().rev() {
        let Some(text) = read_optional(path, diagnostics) else { continue };
        match toml::from_str::<CargoConfigWire>(&text) {
            Ok(wire) => {
                merged.source.extend(wire.source);
                merged.registries.extend(wire.registries);
            }
            Err(e) => diagnostics.push(Diagnostic::at("registry/config", path.display().to_string(), e.to_string())),
        }
    }
    let Some(target) = merged.source.get("crates-io").and_then(|s| s.replace_with.clone()) else { return };
    let index = merged
        .source
        .get(&target)
        .and_then(|s| s.registry.clone())
        .or_else(|| merged.registries.get(&target).and_then(|r| r.index.clone()));
    match index {
        Some(url) if url.starts_with("sparse+") => {
            config.crates = Some(url.trim_start_matches("sparse+").trim_end_matches('/').to_owned());
        }
        other => {
            config.crates = None;
            diagnostics.push(Diagnostic::new(
                "registry/config",
                format!(
                    "Cargo replaces crates-io with `{target}` ({}), which is not a sparse index: crates.io metadata is not evaluated",
                    other.as_deref().map_or_else(|| "no index URL".to_owned(), redact)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_when_shown() {
        assert_eq!(redact("https://u:p@host.example/simple"), "https://host.example/simple");
        assert_eq!(redact("https://host.example"), "https://host.example");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret("Bearer abc".into());
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn npmrc_scopes_tokens_and_the_environment() {
        let tmp = std::env::temp_dir().join(format!("bundleguard-npmrc-{}", std::process::id()));
        fs_err::create_dir_all(&tmp).unwrap();
        fs_err::write(tmp.join(".npmrc"), "; comment\nregistry=https://project.example/\n@corp:registry=https://corp.example/npm/\n//corp.example/npm/:_authToken=${TOKEN}\n").unwrap();
        let env = |k: &str| match k {
            "TOKEN" => Some("t0k".to_owned()),
            "NPM_CONFIG_REGISTRY" => Some("https://env.example".to_owned()),
            _ => None,
        };
        let (config, diagnostics) = resolve(&tmp, &env, None);
        fs_err::remove_dir_all(&tmp).unwrap();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(config.npm, "https://env.example");
        assert_eq!(config.npm_registry("@corp/lib"), "https://corp.example/npm");
        assert_eq!(config.npm_registry("@other/lib"), "https://env.example");
        let auth = |url: &str| config.authorization(url).map(|s| s.expose().to_owned());
        assert_eq!(auth("https://corp.example/npm/@corp%2flib").as_deref(), Some("Bearer t0k"));
        assert_eq!(auth("https://corp.example/other/x"), None);
        assert_eq!(auth("https://corp.example.evil/npm/x"), None);
        assert_eq!(auth("https://env.example/lodash"), None);
    }

    #[test]
    fn pip_conf_global_index() {
        assert_eq!(
            pip_conf_index("[global]\ntimeout = 5\nindex-url = https://m.example/simple\n").as_deref(),
            Some("https://m.example/simple")
        );
        assert_eq!(pip_conf_index("[other]\nindex-url = x\n"), None);
    }
}
