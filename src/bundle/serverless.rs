//! Serverless Framework service files (`serverless.yml` / `.yaml` / `.json`): `functions` with
//! `handler` or `image`, `runtime` (provider default or per function), `package` (`artifact`,
//! `individually`, `patterns`, `include`, `exclude`), `layers` (function references and the
//! service's own `layers:` section). See the Serverless Framework "serverless.yml reference".
//! Variables (`${self:...}`, `${opt:...}`, `${env:...}`) are left unresolved, in notes; the one
//! exception is `provider.stage`, resolved as the framework does when the deploy passes no
//! `--stage` (see [`stage`]).
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
    let stage = stage(doc.at(&["provider", "stage"]).and_then(Node::as_str), |k| std::env::var(k).ok());
    let mut out = Vec::new();
    for (name, function) in functions.into_iter().map(|e| (&e.0, &e.1)) {
        let mut bundle = new_bundle(name, BundleKind::Function, file, dir);
        bundle.stage.clone_from(&stage);
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
        bundle.stage.clone_from(&stage);
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

/// The stage a service deploys to when the deploy command passes no `--stage`: `provider.stage`
/// when literal; for one `${...}` expression, its first source that resolves (`env:NAME` from
/// `env`, a quoted literal; `opt:stage` is the deploy's `--stage`, not known here, so the next
/// source is tried, as the framework does without the option); `dev`, the framework's default,
/// without `provider.stage`. `None` when any other source (`self:`, `ssm:`, `file(...)`...) or
/// text around the expression makes it unknowable.
pub(crate) fn stage(declared: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let Some(declared) = declared.map(str::trim) else { return Some("dev".to_owned()) };
    let Some(inner) = declared.strip_prefix("${").and_then(|d| d.strip_suffix('}')) else {
        return (!declared.contains("${") && !declared.is_empty()).then(|| declared.to_owned());
    };
    if inner.contains("${") {
        return None;
    }
    for source in inner.split(',').map(str::trim) {
        let quoted = ['\'', '"'].iter().find_map(|q| source.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)));
        if let Some(literal) = quoted {
            return (!literal.is_empty()).then(|| literal.to_owned());
        }
        if source == "opt:stage" {
            continue;
        }
        match source.strip_prefix("env:") {
            Some(name) => {
                if let Some(value) = env(name.trim()).filter(|v| !v.is_empty()) {
                    return Some(value);
                }
            }
            None => return None,
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::stage;

    #[test]
    fn the_stage_is_what_the_framework_deploys_to_without_a_stage_option() {
        let env = |k: &str| (k == "DEPLOY_STAGE").then(|| "staging".to_owned());
        assert_eq!(stage(None, env).as_deref(), Some("dev"));
        assert_eq!(stage(Some("prod"), env).as_deref(), Some("prod"));
        assert_eq!(stage(Some("${opt:stage, 'dev'}"), env).as_deref(), Some("dev"));
        assert_eq!(stage(Some("${opt:stage, \"qa\"}"), env).as_deref(), Some("qa"));
        assert_eq!(stage(Some("${opt:stage, env:DEPLOY_STAGE, 'dev'}"), env).as_deref(), Some("staging"));
        assert_eq!(stage(Some("${env:UNSET_STAGE, 'dev'}"), env).as_deref(), Some("dev"));
        assert_eq!(stage(Some("${opt:stage}"), env), None);
        assert_eq!(stage(Some("${opt:stage, self:custom.stage}"), env), None);
        assert_eq!(stage(Some("pr-${opt:pr}"), env), None);
        assert_eq!(stage(Some("${opt:stage, ${env:X}}"), env), None);
    }
}
