//! TODO: cyclonedx report.

use std::io::{self, Write};

use crate::finding::ScanResult;

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} bundles: the cyclonedx report is not built yet", result.bundles.len())
}
