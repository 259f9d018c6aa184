//! Lambda bundles: discovery from templates (SAM with short tags, Serverless with variables,
//! CDK output), artifacts (real corpus zips, Go and cargo-auditable binaries), zip safety
//! (bomb, traversal, truncation, generated in memory) and the `bundles` command.

use std::io::Write as _;
use std::path::Path;

use bundleguard::bundle::{self, ArtifactError, ArtifactIssueKind, BundleKind, Limits};
use bundleguard::lockfile;
use bundleguard::risk::hygiene;

use crate::common::{fixture, shared};

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        writer.start_file(*name, options).expect("start entry");
        writer.write_all(bytes).expect("write entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

fn find<'a>(d: &'a bundle::Discovery, name: &str) -> &'a bundle::Bundle {
    d.bundles.iter().find(|b| b.name == name).unwrap_or_else(|| panic!("no bundle {name}"))
}

#[test]
fn sam_template_with_short_tags() {
    let d = bundle::discover(&fixture("templates/sam-short-tags"));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let names: Vec<&str> = d.bundles.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["DepsLayer", "HelloFunction", "Legacy", "PyFunction"]);
    let hello = find(&d, "HelloFunction");
    assert_eq!(hello.runtime.as_deref(), Some("nodejs16.x"), "from Globals");
    assert_eq!(hello.handler.as_deref(), Some("app.handler"));
    assert_eq!(hello.lockfiles, [fixture("templates/sam-short-tags/hello/package-lock.json")]);
    assert_eq!(hello.layers, ["!Ref DepsLayer", "arn:aws:lambda:us-east-1:123456789012:layer:shared:3"]);
    let py = find(&d, "PyFunction");
    assert_eq!(py.code_dir, None);
    assert_eq!(py.notes, ["CodeUri is not resolved: !Ref CodeLocation"]);
    assert_eq!(find(&d, "DepsLayer").kind, BundleKind::Layer);
    assert!(find(&d, "Legacy").notes.iter().any(|n| n.contains("remote")));
}

#[test]
fn serverless_with_unresolved_variables() {
    let d = bundle::discover(&fixture("templates/serverless-variables"));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let create = find(&d, "create");
    assert_eq!(create.runtime.as_deref(), Some("nodejs18.x"));
    assert_eq!(create.handler.as_deref(), Some("src/create.handler"));
    assert_eq!(create.lockfiles, [fixture("templates/serverless-variables/package-lock.json")]);
    assert_eq!(create.layers, ["Ref: SharedLambdaLayer"]);
    let report = find(&d, "report");
    assert_eq!(report.runtime, None);
    assert!(report.notes.iter().any(|n| n.contains("${self:custom.pyRuntime}")));
    assert_eq!(find(&d, "legacy").artifacts, [fixture("templates/serverless-variables/dist/legacy.zip")]);
    assert!(find(&d, "worker").notes.iter().any(|n| n.contains("container image")));
    assert_eq!(find(&d, "shared").kind, BundleKind::Layer);
    // One lockfile shared by the functions: listed once.
    assert_eq!(d.unique_lockfiles().len(), 1);
}

#[test]
fn cdk_output_asset_folders() {
    let d = bundle::discover(&fixture("templates/cdk-out"));
    let handler = find(&d, "Handler886CB40B");
    assert_eq!(handler.runtime.as_deref(), Some("nodejs20.x"));
    assert_eq!(handler.code_dir, Some(fixture("templates/cdk-out/cdk.out/asset.abc123")));
    assert_eq!(handler.lockfiles, [fixture("templates/cdk-out/cdk.out/asset.abc123/package-lock.json")]);
}

#[test]
#[ignore = "needs ../shared: corpus/serverless-sam-templates and corpus/monorepos"]
fn shared_corpus_templates_are_discovered() {
    let shared = shared();
    let d = bundle::discover(&shared.join("corpus/serverless-sam-templates"));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let deep = find(&d, "TodosFunction");
    assert_eq!(deep.runtime.as_deref(), Some("python3.12"));
    assert_eq!(deep.handler.as_deref(), Some("getting_started_graphql_api_resolver.lambda_handler"));
    let functions = d.bundles.iter().filter(|b| b.kind == BundleKind::Function).count();
    assert!(functions >= 18, "{functions}");
    let d = bundle::discover(&shared.join("corpus/monorepos"));
    let with_runtime = d.bundles.iter().filter(|b| b.runtime.is_some()).count();
    #[expect(clippy::print_stdout, reason = "the measured count, shown with --nocapture")]
    {
        println!("monorepos: {} bundles, {with_runtime} with a runtime, {} errors", d.bundles.len(), d.errors.len());
    }
    assert!(with_runtime > 100, "{with_runtime}");
}

#[test]
#[ignore = "needs ../shared: corpus/bundles"]
fn shared_corpus_zips_match_their_sources() {
    let shared = shared();
    let bundles = shared.join("corpus/bundles");
    for (zip, lock, count) in [
        ("nodejs-lambda-old-deps.zip", "nodejs-lambda-old-deps/package-lock.json", 5),
        ("python-lambda-old-deps.zip", "python-lambda-old-deps/requirements.txt", 8),
    ] {
        let artifact = bundle::read_artifact(&bundles.join(zip), &Limits::default()).expect(zip);
        assert_eq!(artifact.entries.len(), count, "{zip}");
        let lock = lockfile::load(&bundles.join(lock)).expect("lockfile");
        let mut from_zip: Vec<(String, String)> =
            artifact.graph.nodes().iter().map(|p| (p.name.to_string(), p.version.clone())).collect();
        let mut from_lock: Vec<(String, String)> =
            lock.graph.nodes().iter().map(|p| (p.name.to_string(), p.version.clone())).collect();
        from_zip.sort();
        from_lock.sort();
        assert_eq!(from_zip, from_lock, "{zip}");
        assert_eq!(hygiene::compare(&artifact, &lock.graph), [], "{zip}");
    }
}

#[test]
fn dev_package_shipped_and_drift() {
    let lock = br#"{"name":"f","lockfileVersion":3,"packages":{"":{"name":"f","dependencies":{"qs":"6.5.2"},"devDependencies":{"jest":"29.0.0"}},
        "node_modules/qs":{"version":"6.5.2"},"node_modules/jest":{"version":"29.0.0","dev":true}}}"#;
    let bytes = zip_of(&[
        ("package.json", br#"{"name":"f","dependencies":{"qs":"6.5.2"},"devDependencies":{"jest":"29.0.0"}}"#),
        ("package-lock.json", lock),
        ("node_modules/qs/package.json", br#"{"name":"qs","version":"6.5.2"}"#),
        ("node_modules/jest/package.json", br#"{"name":"jest","version":"29.0.0"}"#),
        ("node_modules/@aws-sdk/client-s3/package.json", br#"{"name":"@aws-sdk/client-s3","version":"3.1.0"}"#),
    ]);
    let artifact = bundle::read_artifact_bytes(Path::new("f.zip"), &bytes, &Limits::default()).expect("reads");
    let issues = hygiene::read_issues(&artifact);
    let dev: Vec<&str> =
        issues.iter().filter(|f| f.code == hygiene::DEV_SHIPPED).filter_map(|f| f.location.as_deref()).collect();
    assert_eq!(dev, ["node_modules/jest/package.json"]);
    let lock_graph = artifact.lockfile.as_ref().map(|(_, g)| g.clone()).expect("lockfile in zip");
    let kinds: Vec<(&str, String)> = hygiene::compare(&artifact, &lock_graph)
        .into_iter()
        .map(|f| (f.code.as_str(), f.package.map(|p| p.name.to_string()).unwrap_or_default()))
        .collect();
    assert_eq!(kinds, [("hygiene/dev-shipped", "jest".to_owned()), ("hygiene/drift", "@aws-sdk/client-s3".to_owned())]);
    let provided = hygiene::provided_by_runtime(&artifact, Some("nodejs20.x"));
    assert_eq!(provided.len(), 1);
    assert!(hygiene::provided_by_runtime(&artifact, Some("nodejs16.x")).is_empty());
}

#[test]
fn layer_layouts_and_nested_zip() {
    let inner = zip_of(&[(
        "python/lib/python3.12/site-packages/boto3-1.0.0.dist-info/METADATA",
        b"Name: boto3\nVersion: 1.0.0\n\nbody",
    )]);
    let bytes = zip_of(&[
        ("nodejs/node18/node_modules/qs/package.json", br#"{"name":"qs","version":"6.5.2"}"#),
        ("python/requests-2.0.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: requests\nVersion: 2.0.0\n"),
        ("inner.zip", &inner),
    ]);
    let artifact = bundle::read_artifact_bytes(Path::new("layer.zip"), &bytes, &Limits::default()).expect("reads");
    let mut found: Vec<(String, String)> =
        artifact.entries.iter().map(|e| (artifact.package(e).name.to_string(), e.location.clone())).collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "boto3".to_owned(),
                "inner.zip!/python/lib/python3.12/site-packages/boto3-1.0.0.dist-info/METADATA".to_owned()
            ),
            ("qs".to_owned(), "nodejs/node18/node_modules/qs/package.json".to_owned()),
            ("requests".to_owned(), "python/requests-2.0.0.dist-info/METADATA".to_owned()),
        ]
    );
    assert_eq!(hygiene::provided_by_runtime(&artifact, Some("python3.12")).len(), 1);
}

#[test]
fn zip_bomb_is_refused() {
    let big = vec![0u8; 20 * 1024 * 1024];
    let bytes = zip_of(&[("node_modules/a/data.bin", &big)]);
    let err = bundle::read_artifact_bytes(Path::new("bomb.zip"), &bytes, &Limits::default()).expect_err("bomb");
    assert!(matches!(err, ArtifactError::Bomb { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("bomb.zip: refused as a possible zip bomb: node_modules/a/data.bin: compression ratio "),
        "{msg}"
    );
    assert!(msg.ends_with("is above the limit of 200:1"), "{msg}");
    let limits = Limits { max_entries: 2, ..Limits::default() };
    let three = zip_of(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
    let err = bundle::read_artifact_bytes(Path::new("many.zip"), &three, &limits).expect_err("too many");
    assert_eq!(err.to_string(), "many.zip: refused as a possible zip bomb: 3 entries is more than the limit of 2");
}

#[test]
fn traversal_names_are_reported_not_followed() {
    let bytes = zip_of(&[
        ("../../etc/cron.d/evil", b"x"),
        ("node_modules/../../package.json", br#"{"name":"evil","version":"1.0.0"}"#),
        ("node_modules/ok/package.json", br#"{"name":"ok","version":"1.0.0"}"#),
    ]);
    let artifact = bundle::read_artifact_bytes(Path::new("t.zip"), &bytes, &Limits::default()).expect("reads");
    let unsafe_entries: Vec<&str> = artifact
        .issues
        .iter()
        .filter(|f| f.kind == ArtifactIssueKind::UnsafeEntry)
        .map(|f| f.location.as_str())
        .collect();
    assert_eq!(unsafe_entries, ["../../etc/cron.d/evil", "node_modules/../../package.json"]);
    assert_eq!(artifact.entries.len(), 1);
}

#[test]
fn truncated_zip_is_a_clear_error() {
    let bytes = zip_of(&[("node_modules/qs/package.json", br#"{"name":"qs","version":"6.5.2"}"#)]);
    let cut = bytes.get(..bytes.len() / 2).expect("half");
    let err = bundle::read_artifact_bytes(Path::new("cut.zip"), cut, &Limits::default()).expect_err("truncated");
    assert!(matches!(err, ArtifactError::Corrupt { .. }), "{err}");
    assert!(err.to_string().starts_with("cut.zip: not a readable zip archive (truncated or corrupt)"), "{err}");
}

#[test]
fn go_binary_build_info() {
    let artifact = bundle::read_artifact(&fixture("bundles/go-bootstrap/bootstrap"), &Limits::default()).expect("go");
    let mut found: Vec<String> = artifact.graph.nodes().iter().map(|p| format!("{} {}", p.name, p.version)).collect();
    found.sort();
    assert_eq!(found, ["example.com/greet v1.2.3", "example.com/hello-lambda (devel)", "stdlib 1.19.8"]);
}

#[test]
fn cargo_auditable_binary_and_plain_rust_binary() {
    let audited =
        bundle::read_artifact(&fixture("bundles/rust-auditable/bootstrap"), &Limits::default()).expect("rust");
    let mut found: Vec<String> = audited.graph.nodes().iter().map(|p| format!("{} {}", p.name, p.version)).collect();
    found.sort();
    assert_eq!(found, ["hello-auditable 0.1.0", "semver 1.0.23"]);
    assert!(audited.issues.is_empty());
    let plain = bundle::read_artifact(&fixture("bundles/rust-plain/bootstrap"), &Limits::default()).expect("rust");
    assert!(plain.graph.is_empty());
    let kinds: Vec<ArtifactIssueKind> = plain.issues.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [ArtifactIssueKind::OpaqueBinary]);
    assert!(plain.issues.iter().any(|f| f.message.contains("cargo auditable build")));
}

#[test]
fn bundles_command_json() {
    let out = assert_cmd::Command::cargo_bin("bundleguard")
        .expect("binary")
        .args(["bundles", "--format", "json", "--today", "2026-11-24"])
        .arg(fixture("templates/sam-short-tags"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let hello = doc["bundles"].as_array().and_then(|b| b.iter().find(|b| b["name"] == "HelloFunction")).expect("hello");
    assert_eq!(hello["runtime_status"], "deprecated since 2024-06-12");
    assert_eq!(hello["lockfiles"][0], "hello/package-lock.json");
    assert_eq!(hello["findings"][0]["kind"], "deprecated-runtime");
}
