//! `bundleguard bundles PATH [--format table|json]`: list the functions and layers found under
//! PATH (name, kind, runtime, handler, deprecation status, template, code folder, lockfiles,
//! artifacts, coverage: whether the dependency tree is read, and if not, why) and, for each
//! artifact, the packages read from it and where in the zip. The walk is the one `scan` and
//! `deps` use, with the `exclude` patterns of PATH's `bundleguard.toml`.
//! Exit code 0, or 2 when PATH cannot be read or an artifact could not be read (after printing
//! everything else).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use super::{Format, Outcome};
use crate::bundle::{self, Artifact, Bundle, Limits};
use crate::report::escape;
use crate::risk::{Signal, hygiene};

#[derive(Debug, clap::Args)]
pub struct BundlesArgs {
    /// Folder, template, or artifact (zip or binary) to read.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The day runtime deprecation is judged on (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", hide = true)]
    pub today: Option<jiff::civil::Date>,
}

#[derive(Serialize)]
struct BundleOut {
    name: String,
    kind: &'static str,
    runtime: Option<String>,
    runtime_status: Option<String>,
    handler: Option<String>,
    source: Option<String>,
    code_dir: Option<String>,
    lockfiles: Vec<String>,
    artifacts: Vec<ArtifactOut>,
    layers: Vec<String>,
    notes: Vec<String>,
    /// `read`, `unsupported` or `no-dependency-files`.
    coverage: &'static str,
    /// Why the tree is not read (`null` when it is).
    coverage_reason: Option<String>,
    findings: Vec<FindingOut>,
}

#[derive(Serialize)]
struct ArtifactOut {
    path: String,
    error: Option<String>,
    packages: Vec<PackageOut>,
    findings: Vec<FindingOut>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct PackageOut {
    ecosystem: &'static str,
    name: String,
    version: String,
    location: String,
    dev: bool,
}

#[derive(Serialize)]
struct FindingOut {
    kind: &'static str,
    package: Option<String>,
    location: Option<String>,
    message: String,
}

pub fn run(args: &BundlesArgs) -> anyhow::Result<Outcome> {
    fs_err::metadata(&args.path).context("bundles: cannot read PATH")?;
    let discovery = bundle::discover_with(&args.path, &policy_excludes(&args.path)?);
    let today = args.today.unwrap_or_else(|| jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date());
    let shown = |p: &Path| display_path(&args.path, p);
    let mut failed = false;
    let out: Vec<BundleOut> = discovery
        .bundles
        .iter()
        .map(|b| {
            let item = bundle_out(b, today, &shown);
            failed |= item.artifacts.iter().any(|a| a.error.is_some());
            item
        })
        .collect();
    let (read, not_read) = discovery.coverage_counts();
    let mut stdout = BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            let errors: Vec<String> = discovery.errors.iter().map(ToString::to_string).collect();
            let warnings: Vec<String> = discovery.warnings.iter().map(ToString::to_string).collect();
            let coverage = serde_json::json!({ "read": read, "not_read": not_read });
            let doc =
                serde_json::json!({ "bundles": out, "coverage": coverage, "errors": errors, "warnings": warnings });
            serde_json::to_writer_pretty(&mut stdout, &doc)?;
            writeln!(stdout)?;
        }
        Format::Table => {
            write_table(&mut stdout, &out)?;
            if !out.is_empty() {
                writeln!(stdout, "{read} with their dependency tree read, {not_read} not read")?;
            }
        }
    }
    stdout.flush()?;
    let mut stderr = std::io::stderr().lock();
    for warning in &discovery.warnings {
        writeln!(stderr, "warning: {}", escape::terminal(&warning.to_string()))?;
    }
    if let Some(message) = discovery.excluded_message(&shown) {
        writeln!(stderr, "note: {}", escape::terminal(&message))?;
    }
    if let Some(message) = discovery.nothing_to_scan_message() {
        writeln!(stderr, "warning: {}: {}", escape::terminal(&args.path.display().to_string()), message)?;
    }
    for error in &discovery.errors {
        writeln!(stderr, "error: {}", escape::terminal(&error.to_string()))?;
    }
    if failed || !discovery.errors.is_empty() {
        anyhow::bail!("some templates or artifacts could not be read");
    }
    Ok(Outcome::Pass)
}

fn bundle_out(b: &Bundle, today: jiff::civil::Date, shown: &dyn Fn(&Path) -> String) -> BundleOut {
    let mut findings = Vec::new();
    if let Some(f) = b.runtime.as_deref().and_then(|r| hygiene::deprecated_runtime(r, today)) {
        findings.push(finding_out(&f));
    }
    BundleOut {
        name: b.name.clone(),
        kind: b.kind.as_str(),
        runtime: b.runtime.clone(),
        runtime_status: b.runtime.as_deref().map(|r| bundle::runtime_status(r, today).label()),
        handler: b.handler.clone(),
        source: b.source.as_deref().map(shown),
        code_dir: b.code_dir.as_deref().map(shown),
        lockfiles: b.lockfiles.iter().map(|p| shown(p)).collect(),
        artifacts: b.artifacts.iter().map(|p| artifact_out(p, b.runtime.as_deref(), shown)).collect(),
        layers: b.layers.clone(),
        notes: b.notes.clone(),
        coverage: b.coverage.as_str(),
        coverage_reason: b.coverage.reason().map(str::to_owned),
        findings,
    }
}

fn artifact_out(path: &Path, runtime: Option<&str>, shown: &dyn Fn(&Path) -> String) -> ArtifactOut {
    let mut out =
        ArtifactOut { path: shown(path), error: None, packages: Vec::new(), findings: Vec::new(), notes: Vec::new() };
    match bundle::read_artifact(path, &Limits::default()) {
        Ok(artifact) => fill_artifact(&mut out, &artifact, runtime),
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

fn fill_artifact(out: &mut ArtifactOut, artifact: &Artifact, runtime: Option<&str>) {
    for entry in &artifact.entries {
        let p = artifact.package(entry);
        out.packages.push(PackageOut {
            ecosystem: p.ecosystem.as_str(),
            name: p.name.to_string(),
            version: p.version.clone(),
            location: entry.location.clone(),
            dev: entry.dev,
        });
    }
    out.packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.location).cmp(&(b.ecosystem, &b.name, &b.version, &b.location))
    });
    let provided = hygiene::provided_by_runtime(artifact, runtime);
    out.findings = hygiene::read_issues(artifact).iter().chain(&provided).map(finding_out).collect();
    out.notes.clone_from(&artifact.notes);
}

fn finding_out(f: &Signal) -> FindingOut {
    FindingOut {
        kind: f.code.name(),
        package: f.package.as_ref().map(|p| format!("{} {}", p.name, p.version)),
        location: f.location.clone(),
        message: f.message.clone(),
    }
}

fn write_table(w: &mut dyn Write, bundles: &[BundleOut]) -> std::io::Result<()> {
    if bundles.is_empty() {
        writeln!(w, "no functions, layers or dependency folders found")?;
    }
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_owned(), escape::terminal);
    for b in bundles {
        writeln!(w, "{} ({})", escape::terminal(&b.name), b.kind)?;
        writeln!(w, "  runtime:  {} [{}]", opt(&b.runtime), opt(&b.runtime_status))?;
        writeln!(w, "  handler:  {}", opt(&b.handler))?;
        writeln!(w, "  source:   {}", opt(&b.source))?;
        writeln!(w, "  code:     {}", opt(&b.code_dir))?;
        match &b.coverage_reason {
            Some(reason) => writeln!(w, "  coverage: {} ({})", b.coverage, escape::terminal(reason))?,
            None => writeln!(w, "  coverage: {}", b.coverage)?,
        }
        for l in &b.lockfiles {
            writeln!(w, "  lockfile: {}", escape::terminal(l))?;
        }
        for l in &b.layers {
            writeln!(w, "  layer:    {}", escape::terminal(l))?;
        }
        for n in &b.notes {
            writeln!(w, "  note:     {}", escape::terminal(n))?;
        }
        for f in &b.findings {
            writeln!(w, "  finding:  [{}] {}", f.kind, escape::terminal(&f.message))?;
        }
        for a in &b.artifacts {
            write_artifact(w, a)?;
        }
    }
    Ok(())
}

fn write_artifact(w: &mut dyn Write, a: &ArtifactOut) -> std::io::Result<()> {
    writeln!(w, "  artifact: {}", escape::terminal(&a.path))?;
    if let Some(e) = &a.error {
        writeln!(w, "    error: {}", escape::terminal(e))?;
    }
    for p in &a.packages {
        let dev = if p.dev { " (dev)" } else { "" };
        let line = format!("{} {} {}{dev}  at {}", p.ecosystem, p.name, p.version, p.location);
        writeln!(w, "    {}", escape::terminal(&line))?;
    }
    for f in &a.findings {
        let at = f.location.as_deref().map_or_else(String::new, |l| format!(" at {l}"));
        writeln!(w, "    finding: [{}] {}{}", f.kind, escape::terminal(&f.message), escape::terminal(&at))?;
    }
    for n in &a.notes {
        writeln!(w, "    note: {}", escape::terminal(n))?;
    }
    Ok(())
}

/// Paths relative to the argument, `/`-separated, for stable output.
fn display_path(base: &Path, path: &Path) -> String {
    let base_dir = if base.is_file() { base.parent().unwrap_or(base) } else { base };
    let rel = path.strip_prefix(base_dir).unwrap_or(path);
    let text = rel.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    if text.is_empty() { ".".to_owned() } else { text.to_owned() }
}

/// The policy's `exclude` patterns for `bundles` and `deps` (`bundleguard.toml` in PATH, or in
/// its folder when PATH is a file), so that they walk exactly what `scan` walks.
pub(super) fn policy_excludes(path: &Path) -> anyhow::Result<bundle::Excludes> {
    let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    Ok(crate::policy::Policy::load(None, root)?.exclude)
}
