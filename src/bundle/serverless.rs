//! Serverless Framework service files (`serverless.yml` / `.yaml` / `.json`): `functions` with
//! `handler` or `image`, `runtime` (provider default or per function), `package` (`artifact`,
//! `individually`, `patterns`, `include`, `exclude`), `layers` (function references and the
//! service's own `layers:` section). See the Serverless Framework "serverless.yml reference".
//! Variables (`${self:...}`, `${opt:...}`, `${env:...}`) are left unresolved, in notes.
//! A file that is not a mapping, or whose `functions` / `layers` are not mappings (or a list of
//! mappings, which the framework merges), is an error naming the key: it must not read as a
//! service without functions.

use std::path::Path;

use super::yaml::Node;
use super::{Bundle, BundleCoverage, BundleKind};

/// The `functions` of a service: a mapping, or a list of mappings merged in order.
fn function_entries(doc: &Node) -> Result<Vec<&(String, Node)>, String> {
    let Some(node) = doc.get("functions") else { return Ok(Vec::new()) };
    if !node.items().is_empty() {
        let mut out = Vec::new();
        for (i, item) in node.items().iter().enumerate() {
            if !matches!(item.value, super::yaml::Value::Map(_)) {
                return Err(format!(
                    "functions[{i}]: expected a mapping of functions, found {} ({})",
                    item.kind(),
                    item.describe()
                ));
            }
            out.extend(item.entries());
        }
        return Ok(out);
    }
    Ok(Node::mapping_at(doc, "functions")?.iter().collect())
}

/// The functions and layers of one service file. `dir` is the service folder. A wrong-typed
/// document or section is an error (the message names the key).
pub(crate) fn bundles(file: &Path, dir: &Path, doc: &Node) -> Result<Vec<Bundle>, String> {
    if !matches!(doc.value, super::yaml::Value::Map(_)) {
        return Err(format!("expected a mapping (service, provider, functions), found {}", doc.kind()));
    }
    let provider_runtime = doc.at(&["provider", "runtime"]).and_then(Node::as_str);
    let service_package = doc.get("package");
    let functions = function_entries(doc)?;
    let layers = Node::mapping_at(doc, "layers")?;
    for (name, value) in functions.iter().map(|e| (&e.0, &e.1)).chain(layers.iter().map(|(k, v)| (k, v))) {
        if !matches!(value.value, super::yaml::Value::Map(_)) {
            return Err(format!("{name}: expected a mapping (handler, runtime, ...), found {}", value.kind()));
        }
    }
    let mut out = Vec::new();
    for (name, function) in functions.into_iter().map(|e| (&e.0, &e.1)) {
        let mut bundle = new_bundle(name, BundleKind::Function, file, dir);
        let runtime = function.get("runtime").and_then(Node::as_str).or(provider_runtime);
        bundle.runtime = resolved(runtime, "runtime", &mut bundle.notes);
        let handler = function.get("handler").and_then(Node::as_str);
        bundle.handler = resolved(handler, "handler", &mut bundle.notes);
        if let Some(image) = function.get("image") {
            bundle
                .notes
                .push(format!("container image function ({}): image contents are not scanned", image.describe()));
            bundle.coverage =
                BundleCoverage::Unsupported { reason: "container image: dependency tree not read".to_owned() };
        }
        package(&mut bundle, dir, function.get("package").or(service_package));
        for layer in function.get("layers").map_or(&[][..], Node::items) {
            bundle.layers.push(layer.as_str().map_or_else(|| layer.describe(), str::to_owned));
        }
        out.push(bundle);
    }
    for (name, layer) in layers {
        let path = layer.get("path").and_then(Node::as_str).unwrap_or(".");
        let mut bundle = new_bundle(name, BundleKind::Layer, file, &dir.join(path));
        let runtime = layer.get("compatibleRuntimes").and_then(|r| r.items().first()).and_then(Node::as_str);
        bundle.runtime = resolved(runtime.or(provider_runtime), "runtime", &mut bundle.notes);
        package(&mut bundle, dir, layer.get("package"));
        out.push(bundle);
    }
    Ok(out)
}

fn new_bundle(name: &str, kind: BundleKind, file: &Path, dir: &Path) -> Bundle {
    Bundle { kind, source: Some(file.to_owned()), code_dir: Some(dir.to_owned()), ..Bundle::named(name) }
}

/// A value with `${...}` variables is kept out and noted.
fn resolved(value: Option<&str>, key: &str, notes: &mut Vec<String>) -> Option<String> {
    let value = value?;
    if value.contains("${") {
        notes.push(format!("{key} uses an unresolved variable: {value}"));
        return None;
    }
    Some(value.to_owned())
}

fn package(bundle: &mut Bundle, dir: &Path, package: Option<&Node>) {
    let Some(package) = package else { return };
    if let Some(artifact) = package.get("artifact").and_then(Node::as_str) {
        if artifact.contains("${") || artifact.starts_with("s3://") {
            bundle.notes.push(format!("package.artifact is not local or not resolved: {artifact}"));
        } else {
            bundle.artifacts.push(dir.join(artifact));
        }
    }
    let mut patterns = Vec::new();
    for key in ["patterns", "include", "exclude"] {
        for item in package.get(key).map_or(&[][..], Node::items) {
            if let Some(p) = item.as_str() {
                patterns.push(if key == "exclude" { format!("!{p}") } else { p.to_owned() });
            }
        }
    }
    if !patterns.is_empty() {
        bundle.notes.push(format!("package patterns: {}", patterns.join(", ")));
    }
    if package.get("individually").and_then(Node::as_bool) == Some(true) {
        bundle.notes.push("packaged individually".to_owned());
    }
}
