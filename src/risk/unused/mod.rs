//! Unused packages (issue 11): what a function declares or ships but its code never imports.
//!
//! - [`scan_imports`] runs the lexical import scanners for JavaScript/TypeScript, Python, Go and Rust
//!   (pure over `&str`, never executing code, bounded by [`MAX_SOURCE_BYTES`]).
//! - [`check`] gives `unused/declared` (a direct production dependency no reachable file imports)
//!   and `hygiene/undeclared-import` (imported, not declared), over the function's code read by
//!   `bundle::code` and its unit.
//! - [`shipped`] gives `unused/shipped` (in a deployment zip, packages no chain of dependencies from
//!   the imported direct dependencies reaches), with the bytes each adds.
//! - [`reached`] gives the packages of a unit reachable from its imported direct dependencies, for
//!   marking vulnerability findings in code the function never reaches.
//!
//! Known exceptions are not findings but listed in [`Analysis::exempt`]: `@types/*`, packages
//! named in config files (serverless `plugins:`, babel / eslint / esbuild / jest configs), CLIs
//! called from package.json scripts, `peerDependencies`, SDKs the Lambda runtime provides, and
//! the per-package allow-list of [`UnusedConfig`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use crate::bundle::code::{Budget, CodeCache, CodeFile, CodeKey, FunctionCode};
use crate::bundle::{Unit, UnitKind};
use crate::graph::NodeId;
use crate::package::{Ecosystem, PackageName};
use crate::risk::{Coverage, Evidence, Signal};
use crate::vocab::{Code, Diagnostic, Level};

pub mod go;
pub mod js;
pub mod manifest;
pub mod python;
pub mod resolve;
pub mod rust;
mod shipped;

pub use shipped::shipped;

pub const DECLARED: Code = Code::new("unused/declared");
pub const SHIPPED: Code = Code::new("unused/shipped");
pub const UNDECLARED_IMPORT: Code = Code::new("hygiene/undeclared-import");

pub const CODES: &[(Code, Level, &str)] = &[
    (
        DECLARED,
        Level::Low,
        "a direct production dependency of the function's manifest that no file of the function imports",
    ),
    (
        SHIPPED,
        Level::Low,
        "a package in the deployment zip that no chain of dependencies from the function's imports reaches",
    ),
    (
        UNDECLARED_IMPORT,
        Level::Low,
        "the function imports a package its manifest does not declare: it works only because something else pulled it in",
    ),
];

/// Files larger than this are not scanned (a diagnostic says so).
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;

pub use crate::bundle::code::Import;

/// The source languages the scanners read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    JavaScript,
    Python,
    Go,
    Rust,
}

impl Language {
    /// The language of a file, by extension.
    pub fn of_path(path: &str) -> Option<Language> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "tsx" | "mts" | "cts" => Some(Language::JavaScript),
            "py" => Some(Language::Python),
            "go" => Some(Language::Go),
            "rs" => Some(Language::Rust),
            _ => None,
        }
    }

    pub fn of_ecosystem(ecosystem: Ecosystem) -> Language {
        match ecosystem {
            Ecosystem::Npm => Language::JavaScript,
            Ecosystem::PyPI => Language::Python,
            Ecosystem::Go => Language::Go,
            Ecosystem::CratesIo => Language::Rust,
        }
    }
}

/// The imports of one source file. A file over [`MAX_SOURCE_BYTES`] yields `None`.
pub fn scan_imports(language: Language, src: &str) -> Option<Vec<Import>> {
    if src.len() > MAX_SOURCE_BYTES {
        return None;
    }
    Some(match language {
        Language::JavaScript => js::scan(src),
        Language::Python => python::scan(src),
        Language::Go => go::scan(src),
        Language::Rust => rust::scan(src),
    })
}

/// Per-function settings from the policy file.
#[derive(Debug, Clone, Default)]
pub struct UnusedConfig {
    /// Packages never reported as unused or undeclared (names as the registry spells them).
    pub allow: BTreeSet<String>,
    /// `[unused] enabled = false`: the function's code is not read at all (no unused-package
    /// findings, reachability unknown).
    pub disabled: bool,
}

/// A declared dependency that is not imported but is not a finding, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exempt {
    pub name: String,
    pub reason: String,
}

/// Everything the check learned about one function.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub signals: Vec<Signal>,
    pub coverage: Vec<Coverage>,
    pub exempt: Vec<Exempt>,
    /// The packages the reachable code imports (registry names), type-only imports excluded.
    pub imported: BTreeSet<String>,
    /// Files scanned (the reachable ones) and whether the entry came from the handler.
    pub files_scanned: usize,
    pub entry_known: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// The ecosystem of most of the unit's packages ([`unit_ecosystem`]), counted once.
    pub unit_ecosystem: Option<Ecosystem>,
}

/// The check: `unused/declared` and `hygiene/undeclared-import` signals, and coverage.
pub fn check(unit: &Unit, code: &FunctionCode, cfg: &UnusedConfig) -> (Vec<Signal>, Vec<Coverage>) {
    let a = analyze(unit, code, cfg);
    (a.signals, a.coverage)
}

/// The ecosystem of a unit: that of most of its packages (ties: the first in [`Ecosystem::ALL`]).
pub fn unit_ecosystem(unit: &Unit) -> Option<Ecosystem> {
    // counted in an array (a map entry per node cost more than the rest of this)
    let mut counts = [0usize; Ecosystem::ALL.len()];
    for p in unit.graph.nodes() {
        if let Some(count) = Ecosystem::ALL.iter().position(|e| *e == p.ecosystem).and_then(|k| counts.get_mut(k)) {
            *count += 1;
        }
    }
    Ecosystem::ALL
        .into_iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .max_by_key(|(e, count)| (*count, std::cmp::Reverse(*e)))
        .map(|(e, _)| e)
}

/// [`check`] with what it learned on the way (exemptions, imported packages, diagnostics).
pub fn analyze(unit: &Unit, code: &FunctionCode, cfg: &UnusedConfig) -> Analysis {
    let mut out = Analysis { unit_ecosystem: unit_ecosystem(unit), ..Analysis::default() };
    let Some(ecosystem) = out.unit_ecosystem.or_else(|| ecosystem_from_manifests(code)) else {
        out.coverage.push(not_evaluated(DECLARED, "the function's ecosystem is unknown (no packages, no manifest)"));
        return out;
    };
    let language = Language::of_ecosystem(ecosystem);
    let mut manifests = manifest::read(ecosystem, &code.manifests);
    if ecosystem == Ecosystem::PyPI {
        for d in &mut manifests.declared {
            d.import_names = python_import_names(&d.name, &code.python_dists);
        }
    }
    out.diagnostics.extend(manifests.diagnostics.iter().cloned());
    let usage = match (&code.bundled, language) {
        (Some(bundled), Language::JavaScript) => Some(Usage::from_bundled(bundled, &mut out)),
        _ => Usage::collect(language, unit, code, &mut out),
    };
    let Some(usage) = usage else {
        return out;
    };
    out.imported =
        usage.runtime.keys().filter_map(|k| registry_name(ecosystem, k, &manifests.declared, code)).collect();
    let prod: Vec<&manifest::Declared> = manifests.declared.iter().filter(|d| d.role == manifest::Role::Prod).collect();
    if manifests.found.is_empty() {
        out.coverage.push(not_evaluated(DECLARED, "no manifest (package.json, requirements.txt, pyproject.toml, Pipfile, go.mod, Cargo.toml) found at the function's root"));
    } else {
        declared_signals(ecosystem, unit, cfg, &manifests, &prod, &usage, &mut out);
    }
    if matches!(language, Language::JavaScript | Language::Python) {
        undeclared_signals(ecosystem, unit, code, cfg, &manifests, &usage, &mut out);
    }
    if !read_whole(code, &out) {
        // what the unread code imports is unknown: neither check was evaluated for this function
        for c in &mut out.coverage {
            c.evaluated = 0;
            c.reason = Some(NOT_READ_WHOLE.to_owned());
        }
    }
    out.signals.sort();
    out
}

/// The coverage reason of a function whose code was not read whole.
const NOT_READ_WHOLE: &str = "the function's code was not read whole (see the warnings)";

/// Whether the function's code was read whole: every folder listed, every reached source file
/// read and scanned (none over the limits).
fn read_whole(code: &FunctionCode, analysis: &Analysis) -> bool {
    code.diagnostics.is_empty()
        && !analysis.diagnostics.iter().any(|d| d.code == "unused/too-large" || d.code.starts_with("code/"))
}

fn not_evaluated(code: Code, reason: &str) -> Coverage {
    Coverage { code, evaluated: 0, total: 1, reason: Some(reason.to_owned()) }
}

fn ecosystem_from_manifests(code: &FunctionCode) -> Option<Ecosystem> {
    code.manifests.iter().filter(|m| !m.path.contains('/')).find_map(|m| match m.path.as_str() {
        "package.json" => Some(Ecosystem::Npm),
        "pyproject.toml" | "Pipfile" => Some(Ecosystem::PyPI),
        p if p.starts_with("requirements") => Some(Ecosystem::PyPI),
        "go.mod" => Some(Ecosystem::Go),
        "Cargo.toml" => Some(Ecosystem::CratesIo),
        _ => None,
    })
}

/// The package imports of the function's reachable code: package key -> first (file, line).
struct Usage {
    /// Runtime imports (type-only excluded).
    runtime: BTreeMap<String, (String, u32)>,
    /// Type-only imports (TypeScript), which make a package used but not loaded.
    types: BTreeMap<String, (String, u32)>,
}

impl Usage {
    /// Whether a runtime or type-only import is of the declared dependency `d` ([`declares`]):
    /// looked up by name where that is what `declares` compares (npm, crates.io).
    fn imports(&self, ecosystem: Ecosystem, d: &manifest::Declared) -> bool {
        match ecosystem {
            Ecosystem::Npm | Ecosystem::CratesIo => {
                self.runtime.contains_key(&d.code_name) || self.types.contains_key(&d.code_name)
            }
            Ecosystem::PyPI | Ecosystem::Go => {
                self.runtime.keys().chain(self.types.keys()).any(|k| declares(ecosystem, d, k))
            }
        }
    }

    /// From an esbuild metafile: exactly the packages the function's own inputs import (resolved
    /// into `node_modules`, or external); no lexical scanning.
    fn from_bundled(bundled: &crate::bundle::metafile::Bundled, out: &mut Analysis) -> Usage {
        out.entry_known = true;
        out.files_scanned = bundled.sources.len();
        let mut usage = Usage { runtime: BTreeMap::new(), types: BTreeMap::new() };
        for imp in &bundled.imports {
            let key = match &imp.package {
                Some(p) => Some(p.clone()),
                None if imp.external => resolve::package_of_spec(&imp.spec),
                None => None,
            };
            if let Some(key) = key {
                usage.runtime.entry(key).or_insert_with(|| (imp.from.clone(), 0));
            }
        }
        usage
    }

    /// From the function's source files: the entry files (SAM esbuild `EntryPoints`, else the
    /// handler's file, else every file) and what their imports reach.
    fn collect(language: Language, unit: &Unit, code: &FunctionCode, out: &mut Analysis) -> Option<Usage> {
        let files: Vec<&CodeFile> =
            code.files.iter().filter(|f| Language::of_path(&f.path) == Some(language)).collect();
        if files.is_empty() {
            out.coverage.push(not_evaluated(
                DECLARED,
                "no source file of the function's language was found in its code folder",
            ));
            return None;
        }
        // Read and scanned when first needed: with a known entry, only the files it reaches.
        let mut imports: Vec<Option<Vec<resolve::Classified>>> = vec![None; files.len()];
        let mut diagnostics = Vec::new();
        let mut budget = Budget::new(&code.limits);
        let mut scan = |i: usize| -> &[Import] {
            let Some(f) = files.get(i) else { return &[] };
            let shown = || format!("{}/{}", code.root, f.path);
            match f.imports(&mut budget, |text| scan_imports(language, text)) {
                Ok(Some(imports)) => imports,
                Ok(None) => {
                    let message = format!("more than {MAX_SOURCE_BYTES} bytes: imports not scanned");
                    diagnostics.push(Diagnostic::at("unused/too-large", shown(), message));
                    &[]
                }
                Err(e) => {
                    diagnostics.push(Diagnostic::at(e.code, shown(), e.message));
                    &[]
                }
            }
        };
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let index = resolve::file_index(&paths);
        let entry_points = unit.esbuild.as_ref().map(|b| b.entry_points.as_slice()).unwrap_or_default();
        let mut entries: Vec<usize> =
            entry_points.iter().flat_map(|e| resolve::entry_files(language, e, &paths)).collect();
        if entries.is_empty() {
            entries = unit.handler.as_deref().map(|h| resolve::entry_files(language, h, &paths)).unwrap_or_default();
        }
        entries.sort_unstable();
        entries.dedup();
        out.entry_known = !entries.is_empty();
        let reach: BTreeSet<usize> = if entries.is_empty() {
            for (i, (slot, file)) in imports.iter_mut().zip(&paths).enumerate() {
                *slot = Some(resolve::classify(language, scan(i), file, &paths, &index));
            }
            (0..files.len()).collect()
        } else {
            resolve::reachable(language, &entries, &paths, &index, &mut imports, scan)
        };
        out.diagnostics.extend(diagnostics);
        out.files_scanned = reach.len();
        let mut usage = Usage { runtime: BTreeMap::new(), types: BTreeMap::new() };
        for &i in &reach {
            let (Some(&file), Some(Some(list))) = (paths.get(i), imports.get_mut(i)) else { continue };
            for c in list.drain(..) {
                if let resolve::Target::Package(key) = c.target {
                    let map = if c.type_only { &mut usage.types } else { &mut usage.runtime };
                    map.entry(key).or_insert_with(|| (file.to_owned(), c.line));
                }
            }
        }
        Some(usage)
    }
}

/// Where the unused check reads a unit's code: a function unit's code folder, plus its
/// lockfile's folder when that is outside it (`None`: disabled, a zip, a layer, no folder).
pub fn code_key(unit: &Unit, cfg: &UnusedConfig) -> Option<CodeKey> {
    if cfg.disabled || unit.artifact.is_some() || unit.kind != UnitKind::Function {
        return None;
    }
    let dir = unit.code_dir.as_deref()?;
    let extra = unit.file.parent().filter(|p| !inside(p, dir)).map(Path::to_path_buf).into_iter().collect();
    Some((dir.to_path_buf(), extra))
}

/// Whether `path` is `dir` or under it, also when one of them is absolute and the other relative
/// to the working folder (discovery gives lockfiles absolute and code folders as found): the
/// folder is then not listed a second time for its manifests.
fn inside(path: &Path, dir: &Path) -> bool {
    if path.starts_with(dir) {
        return true;
    }
    if path.is_absolute() == dir.is_absolute() {
        return false;
    }
    match (std::path::absolute(path), std::path::absolute(dir)) {
        (Ok(path), Ok(dir)) => path.starts_with(dir),
        _ => false,
    }
}

/// What the unused check gives for one unit ([`check_unit`]).
#[derive(Debug, Default)]
pub struct UnitResult {
    pub signals: Vec<Signal>,
    pub coverage: Vec<Coverage>,
    /// Which packages the function's imports reach (`None`: unknown).
    pub reachability: Option<Reachability>,
    /// What could not be read or scanned (folders, files over the limits, manifests that do not
    /// parse): the scan's warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// The unused-package check of one unit: `unused/declared` and `hygiene/undeclared-import` from
/// a function's code folder (read through `codes`, shared with the other units of that folder);
/// `unused/shipped` from the code a zip holds; and which packages the function's imports reach.
pub fn check_unit(unit: &Unit, cfg: &UnusedConfig, codes: &CodeCache<'_>) -> UnitResult {
    if cfg.disabled {
        return UnitResult::default();
    }
    if let Some(artifact) = unit.artifact.as_deref() {
        let code = crate::bundle::code::from_artifact(artifact);
        let analysis = analyze(unit, &code, cfg);
        // one walk of the graph for both `unused/shipped` and the vulnerability findings
        let reached = reached(unit, &analysis.imported);
        let (signals, coverage) = shipped::judge(unit, &analysis, cfg, &reached);
        let reachability = reachability_from(unit, &code, &analysis, reached);
        return UnitResult { signals, coverage, reachability, diagnostics: warnings(&code, analysis.diagnostics) };
    }
    match code_key(unit, cfg) {
        Some(key) => {
            let code = codes.read(&key);
            let analysis = analyze(unit, &code, cfg);
            let reachability = reachability(unit, &code, &analysis);
            let diagnostics = warnings(&code, analysis.diagnostics);
            UnitResult { signals: analysis.signals, coverage: analysis.coverage, reachability, diagnostics }
        }
        None => UnitResult::default(),
    }
}

/// A unit's warnings: what reading its code found ([`FunctionCode::diagnostics`]), then what
/// the analysis found.
fn warnings(code: &FunctionCode, found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    code.diagnostics.iter().cloned().chain(found).collect()
}

/// Python: the import names of a distribution (vendored `top_level.txt`, the table, or the
/// name itself with `-` as `_`).
pub fn python_import_names(dist: &str, vendored: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let normalized = PackageName::new(Ecosystem::PyPI, dist).into_string();
    if let Some(v) = vendored.get(&normalized) {
        return v.clone();
    }
    if let Some(v) = PYTHON_IMPORT_NAMES.get(normalized.as_str()) {
        return v.clone();
    }
    vec![normalized.replace('-', "_")]
}

/// Whether the dotted module `spec` is `name` or inside it (`google.protobuf.x` in
/// `google.protobuf`), ASCII case ignored.
fn python_module_in(spec: &str, name: &str) -> bool {
    let (spec, name) = (spec.as_bytes(), name.as_bytes());
    spec.get(..name.len()).is_some_and(|head| head.eq_ignore_ascii_case(name))
        && matches!(spec.get(name.len()), None | Some(b'.'))
}

#[derive(serde::Deserialize)]
struct ImportNamesWire {
    distributions: BTreeMap<String, Vec<String>>,
}

static PYTHON_IMPORT_NAMES: LazyLock<BTreeMap<String, Vec<String>>> = LazyLock::new(|| {
    toml::from_str::<ImportNamesWire>(include_str!("../../../data/python-import-names.toml"))
        .map(|w| w.distributions)
        .unwrap_or_default()
});

/// Whether the declared dependency `d` is what the import key names.
fn declares(ecosystem: Ecosystem, d: &manifest::Declared, key: &str) -> bool {
    match ecosystem {
        Ecosystem::Npm | Ecosystem::CratesIo => d.code_name == key,
        Ecosystem::PyPI => d.import_names.iter().any(|n| python_module_in(key, n)),
        Ecosystem::Go => {
            key == d.code_name || key.strip_prefix(d.code_name.as_str()).is_some_and(|r| r.starts_with('/'))
        }
    }
}

/// SDKs the runtime provides (`aws-sdk` v2 up to nodejs16, `@aws-sdk/*` from nodejs18, boto3 /
/// botocore on python): declared-but-unused and undeclared imports of them are expected.
fn runtime_provided(ecosystem: Ecosystem, name: &str, runtime: Option<&str>) -> bool {
    let runtime = runtime.unwrap_or_default();
    match ecosystem {
        Ecosystem::Npm => name == "aws-sdk" || name.starts_with("@aws-sdk/"),
        Ecosystem::PyPI => {
            (runtime.is_empty() || runtime.starts_with("python"))
                && matches!(name, "boto3" | "botocore" | "s3transfer" | "jmespath")
        }
        _ => false,
    }
}

/// Why a declared, not imported dependency is not a finding, if it is not.
fn exemption(
    ecosystem: Ecosystem,
    d: &manifest::Declared,
    m: &manifest::Manifests,
    unit: &Unit,
    cfg: &UnusedConfig,
) -> Option<String> {
    let name = d.name.as_str();
    if cfg.allow.contains(name) {
        return Some("allowed by the policy file".to_owned());
    }
    if ecosystem == Ecosystem::Npm && name.starts_with("@types/") {
        return Some("type declarations (`@types/*`) are used by the compiler, not imported".to_owned());
    }
    if runtime_provided(ecosystem, name, unit.runtime.as_deref()) {
        return Some("an SDK the Lambda runtime provides".to_owned());
    }
    if ecosystem == Ecosystem::Npm && m.script_words.contains(name) {
        return Some("called from package.json scripts".to_owned());
    }
    if let Some(file) = named_in_config(ecosystem, name, &m.config_texts) {
        return Some(format!("named in {file}"));
    }
    None
}

/// The config file that names the package (serverless `plugins:`, babel presets, eslint
/// plugins, esbuild / jest / webpack configs), also by the short names babel and eslint accept.
fn named_in_config<'a>(
    ecosystem: Ecosystem,
    name: &str,
    configs: &'a [(String, std::sync::Arc<str>)],
) -> Option<&'a str> {
    if ecosystem != Ecosystem::Npm {
        return None;
    }
    let mut forms = vec![name.to_owned()];
    for prefix in
        ["babel-preset-", "babel-plugin-", "eslint-plugin-", "eslint-config-", "@babel/preset-", "@babel/plugin-"]
    {
        if let Some(short) = name.strip_prefix(prefix) {
            forms.push(short.to_owned());
        }
    }
    configs.iter().find_map(|(file, text)| {
        let named = forms.iter().any(|f| {
            text.contains(&format!("\"{f}\""))
                || text.contains(&format!("'{f}'"))
                || text.lines().any(|l| l.trim().trim_start_matches("- ").trim() == f)
        });
        named.then_some(file.as_str())
    })
}

fn declared_signals(
    ecosystem: Ecosystem,
    unit: &Unit,
    cfg: &UnusedConfig,
    manifests: &manifest::Manifests,
    prod: &[&manifest::Declared],
    usage: &Usage,
    out: &mut Analysis,
) {
    let mut evaluated = 0;
    for d in prod {
        evaluated += 1;
        let used = usage.imports(ecosystem, d);
        if used {
            continue;
        }
        if let Some(reason) = exemption(ecosystem, d, manifests, unit, cfg) {
            out.exempt.push(Exempt { name: d.name.clone(), reason });
            continue;
        }
        let scope =
            if out.entry_known { "no file reachable from the handler" } else { "no file of the function's folder" };
        let location = d.line.map_or_else(|| d.manifest.clone(), |l| format!("{}:{l}", d.manifest));
        let mut message = format!("{} is a production dependency in {} but {scope} imports it", d.name, d.manifest);
        let mut evidence = vec![
            Evidence::new("files_scanned", out.files_scanned.to_string()),
            Evidence::new("entry", if out.entry_known { "handler" } else { "whole folder" }),
        ];
        if let Some(build) = unit.esbuild.as_ref().filter(|_| ecosystem == Ecosystem::Npm) {
            let (note, shipped) = if esbuild_external(&build.external, &d.name) {
                ("it is in the esbuild External list, so it ships in node_modules all the same", "external")
            } else {
                ("esbuild bundles only what the code imports, so it is not shipped", "not bundled")
            };
            message = format!("{message}: {note}");
            evidence.push(Evidence::new("esbuild", shipped));
        }
        let (package, node) = package_of(unit, ecosystem, &d.name).unzip();
        out.signals.push(Signal {
            code: DECLARED,
            package,
            node,
            location: Some(location),
            message,
            evidence,
            level: Level::Low,
        });
    }
    let peers = manifests.declared.iter().filter(|d| d.role == manifest::Role::Peer);
    for d in peers {
        let used = usage.imports(ecosystem, d);
        if !used {
            let reason = "a peerDependency: the host project provides it".to_owned();
            out.exempt.push(Exempt { name: d.name.clone(), reason });
        }
    }
    out.exempt.sort();
    out.coverage.push(Coverage { code: DECLARED, evaluated, total: prod.len(), reason: None });
}

/// Whether esbuild's `external` list leaves the package `name` out of the bundle: an entry is a
/// package name, a path inside one (`pkg/sub`: only that path is external), or a pattern with one
/// `*` wildcard (`@aws-sdk/*`), as <https://esbuild.github.io/api/#external> documents.
pub fn esbuild_external(external: &[String], name: &str) -> bool {
    external.iter().any(|pattern| match pattern.split_once('*') {
        Some((prefix, suffix)) => {
            name.len() >= prefix.len() + suffix.len() && name.starts_with(prefix) && name.ends_with(suffix)
        }
        None => pattern == name,
    })
}

/// The unit's node for a package name (the first, a root preferred).
fn package_of(unit: &Unit, ecosystem: Ecosystem, name: &str) -> Option<(crate::package::Package, NodeId)> {
    // the name as the ecosystem spells it, built only when PEP 503 changes it
    let name = name.trim();
    let normalized = (ecosystem == Ecosystem::PyPI && !crate::package::pep503_keeps(name))
        .then(|| PackageName::new(ecosystem, name));
    let wanted = normalized.as_ref().map_or(name, PackageName::as_str);
    let mut nodes =
        unit.graph.nodes().iter().enumerate().filter(|(_, p)| p.ecosystem == ecosystem && p.name.as_str() == wanted);
    let first = nodes.next()?;
    let found =
        if unit.graph.is_root(first.0) { first } else { nodes.find(|(i, _)| unit.graph.is_root(*i)).unwrap_or(first) };
    Some((found.1.clone(), found.0))
}

fn undeclared_signals(
    ecosystem: Ecosystem,
    unit: &Unit,
    code: &FunctionCode,
    cfg: &UnusedConfig,
    manifests: &manifest::Manifests,
    usage: &Usage,
    out: &mut Analysis,
) {
    let mut evaluated = 0;
    for (key, (file, line)) in &usage.runtime {
        evaluated += 1;
        let name = match ecosystem {
            Ecosystem::PyPI => python_dist_of(key, &manifests.declared, code),
            _ => key.clone(),
        };
        let declared_as = manifests.declared.iter().find(|d| declares(ecosystem, d, key)).map(|d| d.role);
        if matches!(declared_as, Some(manifest::Role::Prod | manifest::Role::Peer))
            || runtime_provided(ecosystem, &name, unit.runtime.as_deref())
            || cfg.allow.contains(&name)
        {
            continue;
        }
        let how = if declared_as == Some(manifest::Role::Dev) {
            "declares it only as a development dependency"
        } else {
            "does not declare it"
        };
        let prod_manifest =
            manifests.declared.iter().find(|d| d.role == manifest::Role::Prod).map(|d| d.manifest.as_str());
        let manifest =
            prod_manifest.or(manifests.found.first().map(String::as_str)).unwrap_or("the function's manifest");
        let (package, node) = package_of(unit, ecosystem, &name).unzip();
        out.signals.push(Signal {
            code: UNDECLARED_IMPORT,
            package,
            node,
            location: Some(if *line == 0 { file.clone() } else { format!("{file}:{line}") }),
            message: format!(
                "{file} imports {key} but {manifest} {how}: it works only while something else installs it"
            ),
            evidence: vec![Evidence::new("import", key.clone())],
            level: Level::Low,
        });
    }
    out.coverage.push(Coverage { code: UNDECLARED_IMPORT, evaluated, total: usage.runtime.len(), reason: None });
}

/// The registry name of the package an import key names (`None` for a Rust path root that is
/// no dependency: a module or a type).
fn registry_name(
    ecosystem: Ecosystem,
    key: &str,
    declared: &[manifest::Declared],
    code: &FunctionCode,
) -> Option<String> {
    match ecosystem {
        Ecosystem::Npm => Some(key.to_owned()),
        Ecosystem::PyPI => Some(python_dist_of(key, declared, code)),
        Ecosystem::Go => {
            let modules = declared.iter().map(|d| d.code_name.as_str());
            Some(go::providing_module(key, modules).unwrap_or(key).to_owned())
        }
        Ecosystem::CratesIo => declared.iter().find(|d| d.code_name == key).map(|d| d.name.clone()),
    }
}

/// The distribution a Python import comes from: a declared one that provides it, the table
/// read backwards, or the top-level name itself.
fn python_dist_of(key: &str, declared: &[manifest::Declared], code: &FunctionCode) -> String {
    if let Some(d) = declared.iter().find(|d| d.import_names.iter().any(|n| python_module_in(key, n))) {
        return d.name.clone();
    }
    let all = code.python_dists.iter().chain(PYTHON_IMPORT_NAMES.iter());
    if let Some((dist, _)) = all.into_iter().find(|(_, names)| names.iter().any(|n| python_module_in(key, n))) {
        return dist.clone();
    }
    let top = key.split('.').next().unwrap_or(key);
    PackageName::new(Ecosystem::PyPI, top).into_string()
}

/// The nodes of `unit` reachable from the direct dependencies its code imports: `imported`
/// holds registry names (as [`Analysis::imported`] gives them). Roots are the unit's roots and
/// their children (a lockfile's root is often the project itself).
pub fn reached(unit: &Unit, imported: &BTreeSet<String>) -> Reached {
    let g = &unit.graph;
    // the names as every ecosystem normalizes them (a node matches its own spelling): npm, Go
    // and crates.io keep a name as it is (trimmed), borrowed here; only a name PEP 503 spells
    // otherwise is built
    let pep503: Vec<PackageName> = imported
        .iter()
        .map(|n| n.trim())
        .filter(|n| !crate::package::pep503_keeps(n))
        .map(|n| PackageName::new(Ecosystem::PyPI, n))
        .collect();
    let mut wanted: foldhash::HashSet<&str> = foldhash::HashSetExt::with_capacity(imported.len() + pep503.len());
    wanted.extend(imported.iter().map(|n| n.trim()));
    wanted.extend(pep503.iter().map(PackageName::as_str));
    let matching: Vec<NodeId> = (0..g.len()).filter(|&i| wanted.contains(g.node(i).name.as_str())).collect();
    let mut stack: Vec<NodeId> = matching.iter().copied().filter(|&i| is_direct(g, i)).collect();
    // An imported package that is no direct dependency (undeclared, hoisted): the code loads it
    // all the same, so every node of that name counts.
    let direct_names: foldhash::HashSet<&PackageName> = stack.iter().map(|&i| &g.node(i).name).collect();
    stack.extend(matching.iter().copied().filter(|&i| !direct_names.contains(&g.node(i).name)));
    let mut seen = Reached(vec![false; g.len()]);
    while let Some(i) = stack.pop() {
        if let Some(slot) = seen.0.get_mut(i)
            && !*slot
        {
            *slot = true;
            stack.extend(g.children(i).iter().copied().filter(|&c| !seen.contains(c)));
        }
    }
    seen
}

/// The nodes of one unit's graph that its code's imports reach (one bit per node).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reached(Vec<bool>);

impl Reached {
    pub fn contains(&self, node: NodeId) -> bool {
        self.0.get(node).copied().unwrap_or(false)
    }

    /// How many nodes are reached.
    pub fn len(&self) -> usize {
        self.0.iter().filter(|&&r| r).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which packages of a unit the function's imports reach, for marking vulnerability findings
/// (`reachable: false` on a package no import chain leads to).
#[derive(Debug, Clone)]
pub struct Reachability {
    ecosystem: Ecosystem,
    reached: Reached,
}

impl Reachability {
    /// Whether the function's imports reach `node`; `None` when that is unknown (a package of
    /// another ecosystem than the function's code, a Go or Rust binary's module).
    pub fn of(&self, unit: &Unit, node: NodeId) -> Option<bool> {
        (unit.graph.node(node).ecosystem == self.ecosystem).then(|| self.reached.contains(node))
    }
}

/// The reachability of a unit's packages from what [`analyze`] found its code imports, or
/// `None` when it cannot be told: a layer (code of no one function), no source file of the function's
/// language read, code not read whole (a limit, an unreadable file: `code.diagnostics`, or a
/// reached file that could not be read), a file
/// too large to scan, or a tree without dependency edges to follow (`requirements.txt`,
/// `Pipfile.lock`, `go.mod`; a zip's Go and Rust binaries).
pub fn reachability(unit: &Unit, code: &FunctionCode, analysis: &Analysis) -> Option<Reachability> {
    reachability_known(unit, code, analysis)
        .map(|ecosystem| Reachability { ecosystem, reached: reached(unit, &analysis.imported) })
}

/// [`reachability`] with [`reached`] already computed.
fn reachability_from(unit: &Unit, code: &FunctionCode, analysis: &Analysis, reached: Reached) -> Option<Reachability> {
    reachability_known(unit, code, analysis).map(|ecosystem| Reachability { ecosystem, reached })
}

/// The unit's ecosystem when its reachability can be told (see [`reachability`]).
fn reachability_known(unit: &Unit, code: &FunctionCode, analysis: &Analysis) -> Option<Ecosystem> {
    use crate::vocab::{LockfileFormat, TreeSource};
    if unit.kind == crate::vocab::UnitKind::Layer || !read_whole(code, analysis) || analysis.files_scanned == 0 {
        return None;
    }
    let ecosystem = analysis.unit_ecosystem?;
    let edges_known = match unit.source {
        TreeSource::Lockfile(LockfileFormat::Requirements | LockfileFormat::PipfileLock | LockfileFormat::GoMod)
        | TreeSource::NotRead => false,
        TreeSource::Lockfile(_) => true,
        TreeSource::Artifact => matches!(ecosystem, Ecosystem::Npm | Ecosystem::PyPI),
    };
    edges_known.then_some(ecosystem)
}

/// A root, or a child of a root that is the project itself (a workspace or path package).
fn is_direct(g: &crate::graph::DepGraph, i: NodeId) -> bool {
    g.is_root(i)
        || g.roots()
            .iter()
            .any(|&r| !matches!(g.node(r).source, crate::package::Source::Registry) && g.children(r).contains(&i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lockfile_folder_given_absolute_is_inside_the_relative_code_folder() {
        let cwd = std::env::current_dir().expect("a working folder");
        assert!(inside(&cwd.join("functions/a"), Path::new("functions/a")));
        assert!(inside(&cwd.join("functions/a/sub"), Path::new("functions/a")));
        assert!(inside(Path::new("functions/a"), &cwd.join("functions")));
        assert!(!inside(&cwd.join("functions/b"), Path::new("functions/a")));
        assert!(!inside(Path::new("/elsewhere/functions/a"), Path::new("functions/a")));
        assert!(!inside(Path::new("functions/ab"), Path::new("functions/a")));
    }

    #[test]
    fn codes_are_well_formed() {
        for (code, _, doc) in CODES {
            assert!(matches!(code.kind(), crate::vocab::FindingKind::Unused | crate::vocab::FindingKind::Hygiene));
            assert!(code.as_str().starts_with(code.kind().as_str()), "{code}");
            assert!(!doc.is_empty());
        }
    }

    #[test]
    fn python_names_from_table_and_default() {
        let none = BTreeMap::new();
        assert_eq!(python_import_names("PyYAML", &none), ["yaml"]);
        assert_eq!(python_import_names("beautifulsoup4", &none), ["bs4"]);
        assert_eq!(python_import_names("aws-xray-sdk", &none), ["aws_xray_sdk"]);
        assert_eq!(python_import_names("some.thing", &none), ["some_thing"]);
        assert!(python_module_in("google.protobuf.json_format", "google.protobuf"));
        assert!(!python_module_in("google.cloud", "google.protobuf"));
        let vendored = BTreeMap::from([("pyyaml".to_owned(), vec!["_yaml".to_owned(), "yaml".to_owned()])]);
        assert_eq!(python_import_names("PyYAML", &vendored), ["_yaml", "yaml"]);
        assert!(!PYTHON_IMPORT_NAMES.is_empty(), "data/python-import-names.toml parses");
    }

    #[test]
    fn esbuild_external_patterns() {
        let external = ["pino".to_owned(), "@aws-sdk/*".to_owned(), "lodash/fp".to_owned(), "*-native".to_owned()];
        assert!(esbuild_external(&external, "pino"));
        assert!(esbuild_external(&external, "@aws-sdk/client-s3"));
        assert!(esbuild_external(&external, "sharp-native"));
        assert!(!esbuild_external(&external, "pino-pretty"));
        assert!(!esbuild_external(&external, "lodash"), "only the path lodash/fp is external");
        assert!(!esbuild_external(&external, "@aws-sdk"));
        assert!(!esbuild_external(&[], "pino"));
    }

    #[test]
    fn scanners_refuse_oversized_files() {
        let big = "a".repeat(MAX_SOURCE_BYTES + 1);
        assert!(scan_imports(Language::JavaScript, &big).is_none());
    }
}
