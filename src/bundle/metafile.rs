//! esbuild's metafile (`metafile: true` / `--metafile=meta.json`, written beside the bundle by
//! SAM's esbuild build, serverless-esbuild and most build scripts): which inputs went into the
//! bundle, so what a bundled function imports is known exactly rather than guessed from its
//! sources. Format: <https://esbuild.github.io/api/#metafile> (`inputs`: path -> `{bytes,
//! imports: [{path, kind, external?, original?}]}`; `outputs` is not needed here).
//!
//! Wire type, then domain type: [`Bundled`] keeps the function's own inputs, every package whose
//! files were bundled (`node_modules/<name>/...`, scoped `node_modules/@scope/name/...`, nested
//! `node_modules` taking the innermost), and the package imports of the function's own inputs
//! (an `external` import keeps the specifier as written).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// What a metafile says was bundled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundled {
    /// The function's own inputs (not under `node_modules`), `/`-separated as esbuild wrote them.
    pub sources: Vec<String>,
    /// Every npm package with at least one bundled file.
    pub packages: BTreeSet<String>,
    /// (own input, import as resolved or, for an external one, as written): the imports of the
    /// function's own inputs that leave them (packages, builtins, externals), in input order.
    pub imports: Vec<BundledImport>,
}

/// One import of one of the function's own inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundledImport {
    pub from: String,
    /// The npm package its resolved path lies in, when it lies in one.
    pub package: Option<String>,
    /// The specifier as written (`original`, else `path`): for externals and builtins.
    pub spec: String,
    pub external: bool,
}

#[derive(Deserialize)]
struct MetafileWire<'a> {
    #[serde(borrow)]
    inputs: BTreeMap<&'a str, InputWire<'a>>,
}

#[derive(Deserialize)]
struct InputWire<'a> {
    #[serde(default, borrow)]
    imports: Vec<ImportWire<'a>>,
}

#[derive(Deserialize)]
struct ImportWire<'a> {
    path: &'a str,
    #[serde(default)]
    external: bool,
    original: Option<&'a str>,
}

/// Whether a file name is one a metafile is usually written as (`meta.json`, `metafile.json`,
/// `<bundle>.meta.json`, `<bundle>.metafile.json`).
pub fn is_metafile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "meta.json" | "metafile.json")
        || lower.ends_with(".meta.json")
        || lower.ends_with(".metafile.json")
}

/// Reads a metafile; the message says what is wrong (not JSON, no `inputs` object).
pub fn parse(text: &str) -> Result<Bundled, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let wire: MetafileWire<'_> =
        serde_json::from_str(text).map_err(|e| format!("not an esbuild metafile (`inputs` by path): {e}"))?;
    let mut out = Bundled::default();
    for (path, input) in &wire.inputs {
        if let Some(p) = package_of_path(path) {
            out.packages.insert(p);
            continue;
        }
        out.sources.push(normalize(path));
        for imp in &input.imports {
            let package = if imp.external { None } else { package_of_path(imp.path) };
            let spec = imp.original.unwrap_or(imp.path).to_owned();
            out.imports.push(BundledImport { from: normalize(path), package, spec, external: imp.external });
        }
    }
    Ok(out)
}

/// `./src/a.ts` and `src\a.ts` as `src/a.ts`.
fn normalize(path: &str) -> String {
    path.replace('\\', "/").trim_start_matches("./").to_owned()
}

/// The npm package a bundled file belongs to: the name after the last `node_modules/`.
fn package_of_path(path: &str) -> Option<String> {
    let path = path.replace('\\', "/");
    let (_, rest) = path.rsplit_once("node_modules/")?;
    let mut segs = rest.split('/');
    let first = segs.next().filter(|s| !s.is_empty())?;
    if first.starts_with('@') {
        segs.next().filter(|s| !s.is_empty()).map(|n| format!("{first}/{n}"))
    } else {
        Some(first.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_come_from_node_modules_paths() {
        assert_eq!(package_of_path("node_modules/axios/index.js").as_deref(), Some("axios"));
        assert_eq!(
            package_of_path("../node_modules/@aws-sdk/client-s3/dist/a.js").as_deref(),
            Some("@aws-sdk/client-s3")
        );
        assert_eq!(package_of_path("node_modules/a/node_modules/b/x.js").as_deref(), Some("b"));
        assert_eq!(package_of_path("src/node_modules_like.js"), None);
        assert_eq!(package_of_path("node_modules/@scope"), None);
        assert!(is_metafile_name("meta.json") && is_metafile_name("handler.metafile.json"));
        assert!(!is_metafile_name("package.json"));
    }

    #[test]
    fn bad_metafiles_are_errors() {
        assert!(parse("[]").is_err());
        assert!(parse("{\"outputs\": {}}").unwrap_err().contains("inputs"));
        assert_eq!(parse("{\"inputs\": {}}"), Ok(Bundled::default()));
    }
}
