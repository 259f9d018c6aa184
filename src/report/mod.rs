//! Reporters: each renders a [`ScanResult`] to a writer. Formats only; the policy decided.

use std::io::{self, Write};

use crate::finding::ScanResult;

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
