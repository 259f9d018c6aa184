//! The terminal report: grouped by bundle, worst findings first, with the dependency paths and
//! the fix. Colour only when asked (a TTY without `NO_COLOR`); control characters in package
//! names and advisory text are always escaped.

use std::io::{self, Write};

use super::RenderOptions;
use crate::finding::{FindingKind, Level, ScanResult, Status};

/// Escapes control characters (terminal escape sequences, carriage returns) so untrusted text
/// is shown, never interpreted.
pub fn escape(text: &str) -> String {
    text.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

fn paint(options: RenderOptions, code: &str, text: &str) -> String {
    if options.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
}

fn level_color(level: Level) -> &'static str {
    match level {
        Level::Critical => "1;31",
        Level::High => "31",
        Level::Medium => "33",
        Level::Low => "36",
    }
}

/// ` [ignored: reason until date]`, ` [dev-only]`..., nothing for a gating finding.
fn status_note(status: &Status) -> String {
    match status {
        Status::Gating => String::new(),
        Status::Ignored { reason, until, .. } => {
            format!(
                " [ignored: {}{}]",
                escape(reason),
                until.as_ref().map(|u| format!(" until {u}")).unwrap_or_default()
            )
        }
        other => format!(" [{}]", other.as_str()),
    }
}

pub fn render(result: &ScanResult, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    for bundle in &result.bundles {
        let packages = bundle.graph.len();
        let runtime = bundle.runtime.as_deref().map(|r| format!(", {}", escape(r))).unwrap_or_default();
        writeln!(
            out,
            "{} {}{runtime}: {} ({}, {packages} packages)",
            bundle.kind,
            paint(options, "1", &escape(&bundle.name)),
            escape(&bundle.path),
            bundle.format
        )?;
        for h in bundle.risks_of(FindingKind::Hygiene) {
            let what = h
                .package
                .as_ref()
                .map(|p| format!("{} ", escape(&format!("{}@{}", p.name, p.version))))
                .unwrap_or_default();
            writeln!(out, "  note     [{}] {what}{}", h.code.name(), escape(&h.message))?;
        }
        for r in bundle.risks.iter().filter(|r| r.code.kind() != FindingKind::Hygiene) {
            let level = paint(options, level_color(r.level), &format!("{:<8}", r.level.as_str()));
            let what = r
                .package
                .as_ref()
                .map(|p| format!("{}@{} ", escape(p.name.as_str()), escape(&p.version)))
                .unwrap_or_default();
            writeln!(out, "  {level} [{}] {what}{}{}", r.code, escape(&r.message), status_note(&r.status))?;
        }
        if let Some(reason) = &bundle.coverage {
            writeln!(out, "  not read: {}", escape(reason))?;
        } else if bundle.findings.is_empty() {
            writeln!(out, "  no known vulnerabilities")?;
        }
        for f in &bundle.findings {
            let p = &f.package;
            let level = paint(options, level_color(f.severity), &format!("{:<8}", f.severity.as_str()));
            let status = status_note(&f.status);
            writeln!(
                out,
                "  {level} {} {}@{}{status}",
                escape(&f.advisory.id),
                escape(p.name.as_str()),
                escape(&p.version)
            )?;
            if !f.advisory.summary.is_empty() {
                writeln!(out, "           {}", escape(&f.advisory.summary))?;
            }
            for path in f.paths.iter().take(3) {
                writeln!(out, "           path: {}", escape(&path.join(" > ")))?;
            }
            if f.paths.len() > 3 {
                writeln!(out, "           ... and {} more paths", f.paths.len() - 3)?;
            }
            let fix = if f.advisory.fixed.is_empty() {
                "no fixed version known".to_owned()
            } else {
                format!("upgrade to {}", f.advisory.fixed.join(" or "))
            };
            writeln!(out, "           fix: {}", escape(&fix))?;
        }
        writeln!(out)?;
    }
    for e in &result.errors {
        writeln!(out, "error: {}", escape(&e.to_string()))?;
    }
    for w in &result.warnings {
        writeln!(out, "warning: {}", escape(&w.to_string()))?;
    }
    let not_read = result.bundles.iter().filter(|b| b.coverage.is_some()).count();
    if not_read > 0 {
        writeln!(
            out,
            "coverage: {not_read} of {} functions and layers could not be read (see above)",
            result.bundles.len()
        )?;
    }
    if !result.not_evaluated.is_empty() {
        writeln!(
            out,
            "not evaluated: {} packages could not be checked against the advisories (see the JSON report's not_evaluated)",
            result.not_evaluated.len()
        )?;
    }
    let gating = result.findings().filter(|(_, f)| f.status == Status::Gating).count();
    let total = result.findings().count();
    let verdict = match result.verdict {
        crate::finding::Verdict::Pass => paint(options, "32", "PASS"),
        crate::finding::Verdict::Fail => paint(options, "1;31", "FAIL"),
        crate::finding::Verdict::Incomplete => paint(options, "1;33", "INCOMPLETE"),
    };
    writeln!(
        out,
        "{verdict}: {total} findings in {} bundles, {gating} at or above {} gate the deploy",
        result.bundles.len(),
        result.fail_on.as_str()
    )
}
