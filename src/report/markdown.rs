//! TODO: markdown report.

use std::io::{self, Write};

use crate::finding::ScanResult;

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} bundles: the markdown report is not built yet", result.bundles.len())
}
