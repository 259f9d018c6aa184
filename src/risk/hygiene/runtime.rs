//! Packages the Lambda runtime already provides, and runtimes past AWS's deprecation date
//! (`data/lambda-runtimes.toml`).

use jiff::civil::Date;

use super::{DEPRECATED_RUNTIME, PROVIDED_BY_RUNTIME, signal};
use crate::bundle::{Artifact, RuntimeStatus, runtime_status};
use crate::package::Ecosystem;
use crate::risk::Signal;

/// Packages the runtime provides: `@aws-sdk/*` on nodejs18.x and later, boto3 / botocore /
/// s3transfer / jmespath on Python runtimes (informational: size, and who applies patches).
/// With no runtime known, nothing is reported.
pub fn provided_by_runtime(artifact: &Artifact, runtime: Option<&str>) -> Vec<Signal> {
    let Some(runtime) = runtime else { return Vec::new() };
    let node_major =
        runtime.strip_prefix("nodejs").and_then(|r| r.split('.').next()).and_then(|m| m.parse::<u32>().ok());
    let python = runtime.starts_with("python");
    let mut out = Vec::new();
    for entry in &artifact.entries {
        let p = artifact.package(entry);
        let name = p.name.as_str();
        let provided = match p.ecosystem {
            Ecosystem::Npm => node_major.is_some_and(|m| m >= 18) && name.starts_with("@aws-sdk/"),
            Ecosystem::PyPI => python && matches!(name, "boto3" | "botocore" | "s3transfer" | "jmespath"),
            _ => false,
        };
        if provided {
            let message = format!(
                "{name} {} is also provided by the {runtime} runtime: bundling it adds size and makes you \
                 responsible for its patches",
                p.version
            );
            out.push(signal(PROVIDED_BY_RUNTIME, Some(p), Some(entry.location.clone()), message));
        }
    }
    out
}

/// A finding when `runtime` is past its deprecation date on `today`.
pub fn deprecated_runtime(runtime: &str, today: Date) -> Option<Signal> {
    match runtime_status(runtime, today) {
        status @ RuntimeStatus::Deprecated { .. } => {
            Some(signal(DEPRECATED_RUNTIME, None, None, format!("runtime {runtime}: {}", status.label())))
        }
        _ => None,
    }
}
