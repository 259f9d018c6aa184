//! The HTML report: one self-contained file (inline CSS and JS, no request of any kind, a strict
//! Content-Security-Policy with the hashes of its own style and script), readable without
//! JavaScript, light and dark (`prefers-color-scheme`). A summary (verdict, counts per function,
//! an inline SVG chart), the fix plan, then one section per function: runtime, handler,
//! coverage, findings grouped by kind with their dependency paths as nested `<details>` trees.
//! Every piece of advisory and package text is untrusted: it goes through [`crate::report::escape::html`], and
//! the script only toggles `hidden` and writes numbers with `textContent`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::finding::FixPlan;
use crate::finding::{BundleReport, Finding, FindingKind, Level, RiskFinding, ScanResult, Status};
use crate::report::escape::html as escape_html;

const STYLE: &str = r"
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;
--critical:#a40e26;--high:#d1242f;--medium:#bf8700;--low:#0969da;--pass:#1a7f37}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;
--card:#161b22;--critical:#ff7b72;--high:#f85149;--medium:#d29922;--low:#58a6ff;--pass:#3fb950}}
body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:var(--card)}code,.mono{font-family:ui-monospace,monospace;font-size:.92em;overflow-wrap:anywhere}
.verdict{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:700;color:#fff}
.verdict-fail{background:var(--high)}.verdict-pass{background:var(--pass)}.verdict-incomplete{background:var(--medium)}
.sev{font-weight:700}.sev-critical{color:var(--critical)}.sev-high{color:var(--high)}.sev-medium{color:var(--medium)}.sev-low{color:var(--low)}
.muted{color:var(--muted)}dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0}dt{color:var(--muted)}dd{margin:0}
ul.tree{list-style:none;padding-left:1.1rem;margin:.1rem 0}ul.tree li{margin:.05rem 0}
details>summary{cursor:pointer}
svg text{fill:var(--fg);font-size:12px}.bar-critical{fill:var(--critical)}.bar-high{fill:var(--high)}.bar-medium{fill:var(--medium)}.bar-low{fill:var(--low)}
#filters{background:var(--card);border:1px solid var(--line);padding:.5rem .8rem;margin:1rem 0}
#filters fieldset{display:inline-block;border:0;margin:0 1rem 0 0;padding:0}#filters legend{font-weight:700;padding:0}
.fix{background:var(--card);border-left:3px solid var(--pass);padding:.3rem .6rem;margin:.4rem 0}
.not-read{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.85em;font-weight:700;color:#fff;background:var(--medium)}
#coverage{background:var(--card);border-left:3px solid var(--medium);padding:.3rem .8rem;margin:.6rem 0}
#coverage.complete{border-left-color:var(--pass)}#coverage table{width:auto}
dd.coverage-not-read{border-left:3px solid var(--medium);padding-left:.4rem}
";

/// Hides the rows whose severity, kind or status is unchecked; counts what is left. Only
/// `hidden` and `textContent` are written; nothing is parsed as HTML.
const SCRIPT: &str = r"
(function(){
var form=document.getElementById('filters');
if(!form){return;}
form.hidden=false;
function checked(name){
var set={};
var boxes=form.querySelectorAll('input[name='+name+']');
for(var i=0;i<boxes.length;i++){if(boxes[i].checked){set[boxes[i].value]=true;}}
return set;
}
function apply(){
var sev=checked('severity'),kind=checked('kind'),status=checked('status');
var rows=document.querySelectorAll('tr.finding');
var shown=0;
for(var i=0;i<rows.length;i++){
var r=rows[i];
var show=sev[r.dataset.severity]===true&&kind[r.dataset.kind]===true&&status[r.dataset.status]===true;
r.hidden=!show;
if(show){shown++;}
}
document.getElementById('visible-count').textContent=String(shown);
}
form.addEventListener('change',apply);
apply();
})();
";

const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];
const KINDS: [FindingKind; 5] =
    [FindingKind::Vulnerability, FindingKind::Takeover, FindingKind::Stale, FindingKind::Unused, FindingKind::Hygiene];
const STATUSES: [&str; 8] =
    ["gating", "below-threshold", "dev-only", "ignored", "vex", "baseline", "info", "unreachable"];

/// Writes the report.
pub fn render(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    let mut h = String::with_capacity(64 * 1024);
    head(&mut h, result);
    summary(&mut h, result);
    filters(&mut h, result);
    fix_plan(&mut h, result);
    for (i, b) in result.bundles.iter().enumerate() {
        bundle(&mut h, result, i, b);
    }
    diagnostics(&mut h, result);
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

/// `'sha256-…'` of a CSP source: the base64 SHA-256 of the element's exact text.
fn csp_hash(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!("'sha256-{}'", base64(digest.as_ref()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn head(h: &mut String, result: &ScanResult) {
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>bundleguard report: {verdict}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>bundleguard report</h1>\n<p><span class=\"verdict verdict-{verdict}\" id=\"verdict\">{verdict}</span> \
         <span class=\"muted\">fails on {fail_on} and above; dev-only packages {dev}</span></p></header>\n",
        verdict = result.verdict.as_str(),
        fail_on = result.fail_on.as_str(),
        dev = if result.include_dev { "gate" } else { "do not gate" },
    );
}

/// The severity label of a row: the finding's level, or `info` for findings that never gate.
fn row_severity(level: Level, status: &Status) -> &'static str {
    if *status == Status::Info { "info" } else { level.as_str() }
}

fn status_label(status: &Status) -> &'static str {
    status.as_str()
}

/// Counts per severity label and per kind of one bundle.
fn counts(b: &BundleReport) -> (BTreeMap<&'static str, usize>, BTreeMap<FindingKind, usize>) {
    let mut sev = BTreeMap::new();
    let mut kind = BTreeMap::new();
    for f in &b.findings {
        *sev.entry(row_severity(f.severity, &f.status)).or_insert(0) += 1;
        *kind.entry(f.code.kind()).or_insert(0) += 1;
    }
    for r in &b.risks {
        *sev.entry(row_severity(r.level, &r.status)).or_insert(0) += 1;
        *kind.entry(r.code.kind()).or_insert(0) += 1;
    }
    (sev, kind)
}

fn summary(h: &mut String, result: &ScanResult) {
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    let gating = result.findings().filter(|(_, f)| f.status == Status::Gating).count()
        + result.risks().filter(|(_, r)| r.status == Status::Gating).count();
    let _ = writeln!(
        h,
        "<p>{} units, {} packages, {} findings ({gating} gating), {} packages not evaluated, {} errors.</p>",
        result.bundles.len(),
        result.bundles.iter().map(|b| b.graph.len()).sum::<usize>(),
        result.bundles.iter().map(|b| b.findings.len() + b.risks.len()).sum::<usize>(),
        result.not_evaluated.len(),
        result.errors.len(),
    );
    chart(h, result);
    coverage_summary(h, result);
    h.push_str("<table id=\"summary-table\">\n<thead><tr><th>function</th><th>tree</th>");
    for s in SEVERITIES {
        let _ = write!(h, "<th class=\"sev sev-{s}\">{s}</th>");
    }
    for k in KINDS {
        let _ = write!(h, "<th>{}</th>", k.as_str());
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, b) in result.bundles.iter().enumerate() {
        let (sev, kind) = counts(b);
        let not_read = if b.coverage.is_some() { " <span class=\"not-read\">not read</span>" } else { "" };
        let _ = write!(
            h,
            "<tr><td><a href=\"#unit-{i}\">{}</a>{not_read}</td><td class=\"mono\">{}</td>",
            escape_html(&b.name),
            escape_html(&b.path)
        );
        for s in SEVERITIES {
            let _ = write!(h, "<td>{}</td>", sev.get(s).copied().unwrap_or(0));
        }
        for k in KINDS {
            let _ = write!(h, "<td>{}</td>", kind.get(&k).copied().unwrap_or(0));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n</section>\n");
}

/// What the scan could not evaluate, over all functions: packages not checked against the
/// advisories, functions whose tree was not read, and per risk signal how many packages it could
/// be evaluated for (signals with the same figures and reason share a row). Unknown is not clean.
fn coverage_summary(h: &mut String, result: &ScanResult) {
    let not_read = result.bundles.iter().filter(|b| b.coverage.is_some()).count();
    let signals_short = result.coverage.iter().filter(|c| c.evaluated < c.total).count();
    let complete = result.not_evaluated.is_empty() && not_read == 0 && signals_short == 0;
    let _ = writeln!(
        h,
        "<div id=\"coverage\"{}>\n<h3>Not evaluated</h3>\n<ul>\n\
         <li><strong id=\"not-evaluated-packages\">{}</strong> packages could not be checked against the advisories</li>\n\
         <li><strong id=\"not-read-functions\">{not_read}</strong> of {} functions' dependency trees were not read</li>\n\
         <li><strong id=\"signals-short\">{signals_short}</strong> of {} risk signals could not be evaluated for every package</li>\n</ul>",
        if complete { " class=\"complete\"" } else { "" },
        result.not_evaluated.len(),
        result.bundles.len(),
        result.coverage.len(),
    );
    let mut rows: BTreeMap<(usize, usize, &str), Vec<&str>> = BTreeMap::new();
    for c in &result.coverage {
        rows.entry((c.evaluated, c.total, c.reason.as_deref().unwrap_or(""))).or_default().push(c.code.as_str());
    }
    if !rows.is_empty() {
        h.push_str("<details><summary>risk signal coverage</summary><table id=\"signal-coverage\"><thead><tr><th>signals</th><th>evaluated</th><th>why not</th></tr></thead><tbody>\n");
        for ((evaluated, total, reason), codes) in rows {
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{}</td><td>{evaluated} of {total} packages</td><td>{}</td></tr>",
                escape_html(&codes.join(", ")),
                escape_html(reason)
            );
        }
        h.push_str("</tbody></table></details>\n");
    }
    h.push_str("</div>\n");
}

/// A horizontal bar per severity: findings of all functions.
fn chart(h: &mut String, result: &ScanResult) {
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &result.bundles {
        for (s, n) in counts(b).0 {
            *totals.entry(s).or_insert(0) += n;
        }
    }
    let levels = ["critical", "high", "medium", "low"];
    let max = levels.iter().map(|l| totals.get(l).copied().unwrap_or(0)).max().unwrap_or(0).max(1);
    let _ = writeln!(
        h,
        "<svg id=\"chart\" role=\"img\" aria-label=\"findings by severity\" width=\"420\" height=\"{}\" viewBox=\"0 0 420 {}\">",
        levels.len() * 24 + 4,
        levels.len() * 24 + 4
    );
    for (row, l) in levels.iter().enumerate() {
        let n = totals.get(l).copied().unwrap_or(0);
        let width = n * 300 / max;
        let y = row * 24 + 2;
        let _ = writeln!(
            h,
            "<text x=\"0\" y=\"{}\">{l}</text><rect class=\"bar-{l}\" x=\"70\" y=\"{y}\" width=\"{width}\" height=\"18\"></rect>\
             <text x=\"{}\" y=\"{}\">{n}</text>",
            y + 14,
            76 + width,
            y + 14
        );
    }
    h.push_str("</svg>\n");
}

/// The filter form: hidden until the script runs (without JavaScript every row shows).
fn filters(h: &mut String, result: &ScanResult) {
    let total = result.bundles.iter().map(|b| b.findings.len() + b.risks.len()).sum::<usize>();
    h.push_str("<form id=\"filters\" hidden>\n");
    let groups: [(&str, Vec<&str>); 3] = [
        ("severity", SEVERITIES.to_vec()),
        ("kind", KINDS.iter().map(|k| k.as_str()).collect()),
        ("status", STATUSES.to_vec()),
    ];
    for (name, values) in groups {
        let _ = write!(h, "<fieldset><legend>{name}</legend>");
        for v in values {
            let _ = write!(
                h,
                "<label><input type=\"checkbox\" name=\"{name}\" value=\"{v}\" id=\"filter-{name}-{v}\" checked> {v}</label> "
            );
        }
        h.push_str("</fieldset>\n");
    }
    let _ = writeln!(h, "<p>showing <output id=\"visible-count\">{total}</output> of {total} findings</p>\n</form>");
}

fn fix_plan(h: &mut String, result: &ScanResult) {
    h.push_str("<section id=\"fix-plan\">\n<h2>Fix plan</h2>\n");
    let plans: Vec<(usize, &BundleReport)> =
        result.bundles.iter().enumerate().filter(|(_, b)| !b.fix_plan.is_empty()).collect();
    if plans.is_empty() {
        h.push_str("<p>Nothing gates: no change needed.</p>\n");
    }
    for (index, b) in plans {
        let _ = writeln!(
            h,
            "<h3><a href=\"#unit-{index}\">{}</a> <span class=\"muted mono\">{}</span></h3>",
            escape_html(&b.name),
            escape_html(&b.path)
        );
        plan_lines(h, &b.fix_plan);
    }
    h.push_str("</section>\n");
}

fn plan_lines(h: &mut String, p: &FixPlan) {
    h.push_str("<div class=\"fix\"><ul>\n");
    for line in p.lines() {
        let _ = writeln!(h, "<li class=\"mono\">{}</li>", escape_html(&line));
    }
    h.push_str("</ul></div>\n");
}

fn bundle(h: &mut String, result: &ScanResult, i: usize, b: &BundleReport) {
    let _ = writeln!(
        h,
        "<section class=\"unit\" id=\"unit-{i}\">\n<h2>{} <span class=\"muted\">{}</span></h2>\n<dl>",
        escape_html(&b.name),
        b.kind.as_str()
    );
    let fields = [
        ("runtime", b.runtime.as_deref().unwrap_or("unknown")),
        ("handler", b.handler.as_deref().unwrap_or("unknown")),
        ("template", b.template.as_deref().unwrap_or("none")),
        ("tree", &b.path),
        ("read from", b.format.as_str()),
    ];
    for (k, v) in fields {
        let _ = write!(h, "<dt>{k}</dt><dd class=\"mono\">{}</dd>", escape_html(v));
    }
    let not_evaluated: Vec<_> = result.not_evaluated.iter().filter(|n| n.bundle == b.path).collect();
    let _ = write!(
        h,
        "<dt>packages</dt><dd>{} ({} direct), {} not evaluated</dd>",
        b.graph.len(),
        b.graph.roots().len(),
        not_evaluated.len()
    );
    unit_coverage(h, b, not_evaluated.len());
    h.push_str("</dl>\n");
    if !not_evaluated.is_empty() {
        h.push_str("<details><summary>not evaluated</summary><ul>\n");
        for n in not_evaluated {
            let _ = writeln!(h, "<li><code>{}</code>: {}</li>", escape_html(&n.package), escape_html(&n.reason));
        }
        h.push_str("</ul></details>\n");
    }
    if !b.fix_plan.is_empty() {
        h.push_str("<h3>Fix</h3>\n");
        plan_lines(h, &b.fix_plan);
    }
    if b.findings.is_empty() && b.risks.is_empty() {
        h.push_str("<p>No findings.</p>\n");
    }
    for kind in KINDS {
        let findings: Vec<&Finding> = b.findings.iter().filter(|f| f.code.kind() == kind).collect();
        let risks: Vec<&RiskFinding> = b.risks_of(kind).collect();
        if findings.is_empty() && risks.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h3>{} ({})</h3>", kind.as_str(), findings.len() + risks.len());
        h.push_str("<table class=\"findings\"><thead><tr><th>severity</th><th>status</th><th>package</th><th>finding</th></tr></thead><tbody>\n");
        for f in findings {
            finding_row(h, b, f);
        }
        for r in risks {
            risk_row(h, r);
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
}

/// What was read for this function, what was not, and why.
fn unit_coverage(h: &mut String, b: &BundleReport, not_evaluated: usize) {
    if let Some(why) = &b.coverage {
        let _ = write!(
            h,
            "<dt>coverage</dt><dd class=\"coverage coverage-not-read\" data-coverage=\"not-read\">\
                 <span class=\"not-read\">not read</span> {} (so none of its packages was evaluated)</dd>",
            escape_html(why)
        );
    } else {
        let registry = b.graph.nodes().iter().filter(|p| p.source == crate::package::Source::Registry).count();
        let checked = registry.saturating_sub(not_evaluated);
        let rest =
            if not_evaluated == 0 { String::new() } else { format!("; {not_evaluated} not evaluated (listed below)") };
        let _ = write!(
            h,
            "<dt>coverage</dt><dd class=\"coverage\" data-coverage=\"read\">read from <span class=\"mono\">{}</span> \
                 ({}): {checked} of {registry} registry packages checked against the advisories{rest}</dd>",
            escape_html(&b.path),
            escape_html(b.format.as_str()),
        );
    }
}

fn row_start(h: &mut String, level: Level, status: &Status, kind: FindingKind) {
    let sev = row_severity(level, status);
    let st = status_label(status);
    let _ = write!(
        h,
        "<tr class=\"finding\" data-severity=\"{sev}\" data-kind=\"{}\" data-status=\"{st}\">\
         <td class=\"sev sev-{sev}\">{sev}</td><td>{st}",
        kind.as_str()
    );
    match status {
        Status::Ignored { reason, until, .. } => {
            let _ = write!(h, "<br><span class=\"muted\">{}</span>", escape_html(reason));
            if let Some(u) = until {
                let _ = write!(h, " <span class=\"muted\">until {}</span>", escape_html(u));
            }
        }
        Status::Vex { justification, statement, .. } => {
            let _ = write!(
                h,
                "<br><span class=\"muted\">{}: {}</span>",
                escape_html(justification),
                escape_html(statement)
            );
        }
        _ => {}
    }
    h.push_str("</td>");
}

fn finding_row(h: &mut String, b: &BundleReport, f: &Finding) {
    row_start(h, f.severity, &f.status, f.code.kind());
    let p = &f.package;
    let direct = if b.graph.is_root(f.node) { " <span class=\"muted\">direct</span>" } else { "" };
    let reach = if f.reachable == Some(false) {
        " <span class=\"muted\" title=\"no import of the function leads to this package\">unreachable</span>"
    } else {
        ""
    };
    let _ = write!(
        h,
        "<td class=\"mono\">{}@{}{direct}{reach}</td><td>",
        escape_html(p.name.as_str()),
        escape_html(&p.version)
    );
    let _ = write!(h, "<strong class=\"mono advisory-id\">{}</strong>", escape_html(&f.advisory.id));
    if !f.advisory.aliases.is_empty() {
        let _ = write!(h, " <span class=\"muted mono\">{}</span>", escape_html(&f.advisory.aliases.join(", ")));
    }
    let _ = write!(h, "<div class=\"summary-text\">{}</div>", escape_html(&f.advisory.summary));
    if f.advisory.fixed.is_empty() {
        h.push_str("<div>fixed in: <em>no fixed version</em></div>");
    } else {
        let _ = write!(h, "<div>fixed in: <code>{}</code></div>", escape_html(&f.advisory.fixed.join(", ")));
    }
    if !f.upgrade.is_empty() {
        let _ = write!(h, "<div>upgrade: <code>{}</code></div>", escape_html(&f.upgrade.join(", ")));
    }
    paths_tree(h, &f.paths);
    h.push_str("</td></tr>\n");
}

fn risk_row(h: &mut String, r: &RiskFinding) {
    row_start(h, r.level, &r.status, r.code.kind());
    let package = r.package.as_ref().map(|p| format!("{}@{}", p.name.as_str(), p.version)).unwrap_or_default();
    let _ = write!(
        h,
        "<td class=\"mono\">{}</td><td><strong class=\"mono\">{}</strong><div>{}</div>",
        escape_html(&package),
        escape_html(r.code.as_str()),
        escape_html(&r.message)
    );
    if let Some(l) = &r.location {
        let _ = write!(h, "<div class=\"muted mono\">{}</div>", escape_html(l));
    }
    if !r.evidence.is_empty() {
        h.push_str("<details><summary>evidence</summary><dl>");
        for e in &r.evidence {
            let _ = write!(h, "<dt>{}</dt><dd class=\"mono\">{}</dd>", escape_html(&e.name), escape_html(&e.value));
        }
        h.push_str("</dl></details>");
    }
    h.push_str("</td></tr>\n");
}

/// A prefix tree of the dependency paths, from the function's direct dependencies down.
#[derive(Default)]
struct Trie {
    children: BTreeMap<String, Trie>,
}

/// Paths are drawn open for the first levels and collapsed below.
const OPEN_LEVELS: usize = 3;

fn paths_tree(h: &mut String, paths: &[Vec<String>]) {
    if paths.is_empty() {
        return;
    }
    let mut trie = Trie::default();
    for path in paths {
        let mut node = &mut trie;
        for step in path {
            node = node.children.entry(step.clone()).or_default();
        }
    }
    let _ = write!(h, "<details class=\"paths\"><summary>dependency paths ({})</summary>", paths.len());
    trie_list(h, &trie, 0);
    h.push_str("</details>");
}

fn trie_list(h: &mut String, trie: &Trie, depth: usize) {
    h.push_str("<ul class=\"tree\">");
    for (name, child) in &trie.children {
        if child.children.is_empty() {
            let _ = write!(h, "<li><code>{}</code></li>", escape_html(name));
        } else {
            let open = if depth + 1 < OPEN_LEVELS { " open" } else { "" };
            let _ = write!(h, "<li><details{open}><summary><code>{}</code></summary>", escape_html(name));
            trie_list(h, child, depth + 1);
            h.push_str("</details></li>");
        }
    }
    h.push_str("</ul>");
}

fn diagnostics(h: &mut String, result: &ScanResult) {
    if result.errors.is_empty() && result.warnings.is_empty() && result.coverage.is_empty() {
        return;
    }
    h.push_str("<section id=\"diagnostics\">\n<h2>Errors, warnings and coverage</h2>\n<ul>\n");
    for e in &result.errors {
        let _ = writeln!(h, "<li><strong>error</strong>: {}</li>", escape_html(&e.to_string()));
    }
    for w in &result.warnings {
        let _ = writeln!(h, "<li>warning: {}</li>", escape_html(&w.to_string()));
    }
    for c in &result.coverage {
        let _ =
            write!(h, "<li><code>{}</code>: evaluated for {} of {} packages", c.code.as_str(), c.evaluated, c.total);
        if let Some(r) = &c.reason {
            let _ = write!(h, " ({})", escape_html(r));
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_invisible_characters() {
        assert_eq!(escape_html("<img src=x onerror='a'>&\"\u{7}"), "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;");
        assert_eq!(escape_html("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }
}
