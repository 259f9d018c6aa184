//! Reporters: each renders a [`ScanResult`] to a writer. Formats only; the policy decided.

use std::io::{self, Write};

use crate::finding::{BundleReport, Finding, ScanResult};

mod cyclonedx;
pub mod escape;
mod html;
mod json;
mod markdown;
mod openvex;
mod sarif;
mod table;

pub use json::SCHEMA_VERSION as JSON_SCHEMA_VERSION;
pub use table::render_fix_plan;

/// Every report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Sarif,
    CycloneDx,
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// The findings the policy ignored (and VEX statements), as an OpenVEX document.
    OpenVex,
}

/// Options that change how a report looks, never what it says.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colour in the table report.
    pub color: bool,
}

/// Why `format` has no valid document for this result (OpenVEX needs at least one statement):
/// the caller writes nothing, not even an empty file, and says so.
pub fn nothing_to_write(format: ReportFormat, result: &ScanResult) -> Option<&'static str> {
    (format == ReportFormat::OpenVex && !openvex::has_statements(result)).then_some(openvex::NOTHING_TO_STATE)
}

pub fn render(
    format: ReportFormat,
    result: &ScanResult,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        ReportFormat::Table => table::render(result, options, out),
        ReportFormat::Json => json::render(result, out),
        ReportFormat::Sarif => sarif::render(result, out),
        ReportFormat::CycloneDx => cyclonedx::render(result, out),
        ReportFormat::Markdown => markdown::render(result, out),
        ReportFormat::Html => html::render(result, out),
        ReportFormat::OpenVex => openvex::render(result, out),
    }
}

/// The line of a unit's fix plan that concerns one finding: the change that clears it, or why no
/// named version does; `None` when the finding does not gate (the plan only covers gating ones).
pub(crate) fn fix_for(b: &BundleReport, f: &Finding) -> Option<String> {
    let (name, version, id) = (f.package.name.as_str(), f.package.version.as_str(), f.advisory.id.as_str());
    let plan = &b.fix_plan;
    if let Some(c) =
        plan.changes.iter().find(|c| c.package == name && c.from == version && c.clears.iter().any(|i| i == id))
    {
        return Some(c.line());
    }
    plan.unfixable
        .iter()
        .find(|u| u.package == name && u.version == version && u.ids.iter().any(|i| i == id))
        .map(|u| format!("{} {}: {}", u.package, u.version, u.reason))
}
