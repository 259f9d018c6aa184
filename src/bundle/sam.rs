//! AWS SAM and CloudFormation templates (`template.yaml`, CDK's `*.template.json`): functions
//! and layers from `AWS::Serverless::Function` (with `Globals.Function`),
//! `AWS::Serverless::LayerVersion`, `AWS::Lambda::Function` and `AWS::Lambda::LayerVersion`.
//! See the SAM specification (AWS SAM Developer Guide, "AWS SAM resources and properties") and
//! CDK's asset metadata (`aws:asset:path`). Intrinsic functions are left unresolved, in notes.
//! A template that is not a mapping, whose `Resources` is not a mapping, or has a resource that
//! is not a mapping is an error naming the key: it must not read as a template without
//! functions. A mapping without `Resources` is some other tool's `template.yaml`: no bundles.

use std::path::Path;

use super::yaml::Node;
use super::{Bundle, BundleCoverage, BundleKind};

/// The functions and layers of one template. `dir` is the template's folder. A wrong-typed
/// template, `Resources` or resource is an error (the message names the key).
pub(crate) fn bundles(template: &Path, dir: &Path, doc: &Node) -> Result<Vec<Bundle>, String> {
    if !matches!(doc.value, super::yaml::Value::Map(_)) {
        return Err(format!("expected a mapping (Resources, ...), found {}", doc.kind()));
    }
    let resources = Node::mapping_at(doc, "Resources")?;
    if let Some((name, resource)) = resources.iter().find(|(_, r)| !matches!(r.value, super::yaml::Value::Map(_))) {
        return Err(format!("Resources.{name}: expected a mapping (Type, Properties), found {}", resource.kind()));
    }
    let globals = doc.at(&["Globals", "Function"]);
    let (stage, stage_note) = match samconfig_stage(dir, std::env::var("SAM_CONFIG_ENV").ok().as_deref()) {
        Ok(stage) => (stage, None),
        Err(note) => (None, Some(note)),
    };
    let mut out = Vec::new();
    for (name, resource) in resources {
        let kind = resource.get("Type").and_then(Node::as_str).unwrap_or_default();
        let props = resource.get("Properties");
        let prop = |key: &str| props.and_then(|p| p.get(key));
        let mut bundle = empty_bundle(name, template);
        match kind {
            "AWS::Serverless::Function" => {
                let global = |key: &str| globals.and_then(|g| g.get(key));
                let pick = |key: &str| prop(key).or_else(|| global(key));
                text_prop(&mut bundle.runtime, pick("Runtime"), "Runtime", &mut bundle.notes);
                text_prop(&mut bundle.handler, pick("Handler"), "Handler", &mut bundle.notes);
                code_location(&mut bundle, dir, pick("CodeUri"), "CodeUri");
                image_note(&mut bundle, pick("PackageType"), pick("ImageUri"));
                layers(&mut bundle, pick("Layers"));
                esbuild(&mut bundle, resource.get("Metadata"));
            }
            "AWS::Lambda::Function" => {
                text_prop(&mut bundle.runtime, prop("Runtime"), "Runtime", &mut bundle.notes);
                text_prop(&mut bundle.handler, prop("Handler"), "Handler", &mut bundle.notes);
                lambda_code(&mut bundle, dir, prop("Code"), resource.get("Metadata"));
                image_note(&mut bundle, prop("PackageType"), None);
                layers(&mut bundle, prop("Layers"));
            }
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => {
                bundle.kind = BundleKind::Layer;
                layer_runtime(&mut bundle, prop("CompatibleRuntimes"), resource.get("Metadata"));
                if kind == "AWS::Serverless::LayerVersion" {
                    code_location(&mut bundle, dir, prop("ContentUri"), "ContentUri");
                } else {
                    lambda_code(&mut bundle, dir, prop("Content"), resource.get("Metadata"));
                }
            }
            _ => continue,
        }
        bundle.stage.clone_from(&stage);
        bundle.notes.extend(stage_note.clone());
        out.push(bundle);
    }
    Ok(out)
}

/// The environment `sam deploy` uses from the `samconfig.toml` beside the template: `env`
/// (`SAM_CONFIG_ENV`, as `--config-env` names it) or `default`, when the file has a
/// `[<env>.deploy.parameters]` table. No file: `Ok(None)`; a file that does not parse: a note.
pub(crate) fn samconfig_stage(dir: &Path, env: Option<&str>) -> Result<Option<String>, String> {
    let file = dir.join("samconfig.toml");
    let text = match fs_err::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("samconfig.toml not read, environment unknown: {e}")),
    };
    let config: toml::Table =
        text.parse().map_err(|e| format!("samconfig.toml does not parse, environment unknown: {e}"))?;
    let env = env.filter(|e| !e.is_empty()).unwrap_or("default");
    let has_deploy = config
        .get(env)
        .and_then(|t| t.get("deploy"))
        .and_then(|t| t.get("parameters"))
        .is_some_and(toml::Value::is_table);
    Ok(has_deploy.then(|| env.to_owned()))
}

fn empty_bundle(name: &str, template: &Path) -> Bundle {
    Bundle { source: Some(template.to_owned()), ..Bundle::named(name) }
}

fn text_prop(slot: &mut Option<String>, node: Option<&Node>, key: &str, notes: &mut Vec<String>) {
    let Some(node) = node else { return };
    match node.as_str() {
        Some(text) => *slot = Some(text.to_owned()),
        None => notes.push(format!("{key} is not resolved: {}", node.describe())),
    }
}

/// `CodeUri` / `ContentUri`: a local path (folder or zip), an `s3://` URI or a `{Bucket, Key}`.
fn code_location(bundle: &mut Bundle, dir: &Path, node: Option<&Node>, key: &str) {
    let Some(node) = node else {
        if bundle.kind == BundleKind::Function {
            bundle.code_dir = Some(dir.to_owned());
        }
        return;
    };
    match node.as_str() {
        Some(uri) if uri.starts_with("s3://") => bundle.notes.push(format!("{key} is in S3 ({uri}): not scanned")),
        Some(path) => local_code(bundle, dir, path),
        None if node.get("Bucket").is_some() => {
            bundle.notes.push(format!("{key} is in S3 ({}): not scanned", node.describe()));
        }
        None => bundle.notes.push(format!("{key} is not resolved: {}", node.describe())),
    }
}

fn local_code(bundle: &mut Bundle, dir: &Path, path: &str) {
    let full = join_lexically(dir, path);
    let archive =
        Path::new(path).extension().is_some_and(|e| e.eq_ignore_ascii_case("zip") || e.eq_ignore_ascii_case("jar"));
    if archive {
        bundle.code_dir = full.parent().map(Path::to_path_buf);
        bundle.artifacts.push(full);
    } else {
        bundle.code_dir = Some(full);
    }
}

/// `AWS::Lambda::Function.Code`: inline `ZipFile`, S3, or (after `cloudformation package` or in
/// CDK output) a local path; CDK names its asset folder in `Metadata["aws:asset:path"]`.
fn lambda_code(bundle: &mut Bundle, dir: &Path, code: Option<&Node>, metadata: Option<&Node>) {
    if let Some(asset) = metadata.and_then(|m| m.get("aws:asset:path")).and_then(Node::as_str) {
        local_code(bundle, dir, asset);
        return;
    }
    let Some(code) = code else { return };
    if let Some(path) = code.as_str() {
        local_code(bundle, dir, path);
    } else if code.get("ZipFile").is_some() {
        bundle.notes.push("code is inline (ZipFile): no dependencies to scan".to_owned());
    } else if code.get("S3Bucket").is_some() || code.get("ImageUri").is_some() {
        bundle.notes.push(format!("code is remote ({}): not scanned", code.describe()));
    } else {
        bundle.notes.push(format!("Code is not resolved: {}", code.describe()));
    }
}

/// `Metadata: {BuildMethod: esbuild, BuildProperties: {EntryPoints: [..], External: [..]}}`
/// (AWS SAM Developer Guide, "Building Node.js Lambda functions with esbuild"). An entry that is
/// not a plain string is a note, not guessed.
fn esbuild(bundle: &mut Bundle, metadata: Option<&Node>) {
    let Some(metadata) = metadata else { return };
    let method = metadata.get("BuildMethod").and_then(Node::as_str);
    if !method.is_some_and(|m| m.eq_ignore_ascii_case("esbuild")) {
        return;
    }
    let props = metadata.get("BuildProperties");
    let mut build = super::EsbuildBuild::default();
    for (key, slot) in [("EntryPoints", &mut build.entry_points), ("External", &mut build.external)] {
        for item in props.and_then(|p| p.get(key)).map_or(&[][..], Node::items) {
            match item.as_str() {
                Some(text) => slot.push(text.trim_start_matches("./").to_owned()),
                None => {
                    bundle.notes.push(format!("Metadata.BuildProperties.{key} is not resolved: {}", item.describe()));
                }
            }
        }
    }
    bundle.esbuild = Some(build);
}

fn image_note(bundle: &mut Bundle, package_type: Option<&Node>, image: Option<&Node>) {
    if package_type.and_then(Node::as_str) == Some("Image") {
        let what = image.map_or_else(String::new, |i| format!(" {}", i.describe()));
        bundle.notes.push(format!("container image function{what}: image contents are not scanned"));
        bundle.coverage =
            BundleCoverage::Unsupported { reason: "container image: dependency tree not read".to_owned() };
    }
}

fn layers(bundle: &mut Bundle, node: Option<&Node>) {
    for layer in node.map_or(&[][..], Node::items) {
        bundle.layers.push(layer.as_str().map_or_else(|| layer.describe(), str::to_owned));
    }
}

fn layer_runtime(bundle: &mut Bundle, compatible: Option<&Node>, metadata: Option<&Node>) {
    let build_method = metadata.and_then(|m| m.get("BuildMethod")).and_then(Node::as_str);
    let first = compatible.and_then(|c| c.items().first()).and_then(Node::as_str);
    let runtime = build_method.filter(|m| !m.eq_ignore_ascii_case("makefile")).or(first);
    bundle.runtime = runtime.map(str::to_owned);
}

/// `dir` joined with a template's relative path, resolving the path's own `.` and `name/..`
/// lexically (`sam` + `../src` -> `src`), without touching the disk. `dir` itself is kept as
/// written (`./sam`, `/repo/../other`), so that the result still starts with the scanned folder
/// as the walk spells it: `scan .` and `scan ../repo` find the functions' lockfiles.
fn join_lexically(dir: &Path, relative: &str) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = dir.to_path_buf();
    for part in Path::new(relative).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_paths_keep_the_scanned_folder_as_written() {
        for (dir, rel, want) in [
            (".", "hello/", "./hello"),
            ("./sam", "../src", "./src"),
            ("sam", "../src/./fn", "src/fn"),
            ("/w/wt/../shared/x", "src", "/w/wt/../shared/x/src"),
            ("/w/wt/../shared/x", "../y", "/w/wt/../shared/y"),
            ("repo", "/abs/code", "/abs/code"),
        ] {
            assert_eq!(join_lexically(Path::new(dir), rel), Path::new(want), "{dir} + {rel}");
        }
    }
}
