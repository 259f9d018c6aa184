//! TODO: sarif report.

use std::io::{self, Write};

use crate::finding::ScanResult;

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} bundles: the sarif report is not built yet", result.bundles.len())
}
