//! OSV range semantics (<https://ossf.github.io/osv-schema/#evaluation>): a version is affected
//! when it is listed in `versions` or lies in a SEMVER / ECOSYSTEM range. GIT ranges name commits,
//! not versions, and are not evaluated against package versions.

use crate::advisory::osv::{Affected, Event, RangeKind};
use crate::package::Ecosystem;
use crate::version::Version;

/// The verdict for one affected entry, with what could not be read on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub affected: bool,
    /// The lowest fixed version of each range that affects the version (raw strings).
    pub fixed: Vec<String>,
    /// Bounds that did not parse, e.g. GHSA-h755-8qp9-cq85's `"fixed": "7.2.4, 6.11.4"`. Such a
    /// bound is skipped, so the range errs towards reporting the version as affected.
    pub unreadable_bounds: Vec<String>,
}

/// Evaluates one affected entry for a package version. `version` is `None` when the package's
/// version does not parse; then only an exact match in `versions` can affect it.
pub fn evaluate(
    eco: Ecosystem,
    raw: &str,
    version: Option<&Version>,
    entry: &Affected,
) -> Evaluation {
    let mut eval = Evaluation::default();
    if in_versions(eco, raw, version, &entry.versions) {
        eval.affected = true;
    }
    let Some(version) = version else { return eval };
    for range in entry.ranges.iter().filter(|r| r.kind != RangeKind::Git) {
        let events = parsed_events(eco, &range.events, &mut eval.unreadable_bounds);
        if !before_limits(version, &events) {
            continue;
        }
        if let Some(fixed) = range_affects(version, &events) {
            eval.affected = true;
            eval.fixed.extend(fixed);
        }
    }
    eval.fixed.sort();
    eval.fixed.dedup();
    eval
}

fn in_versions(eco: Ecosystem, raw: &str, version: Option<&Version>, listed: &[String]) -> bool {
    listed.iter().any(|v| {
        v == raw
            || version
                .is_some_and(|mine| Version::parse(eco, v).is_ok_and(|theirs| &theirs == mine))
    })
}

/// An event whose version parsed; `None` stands for the `introduced: "0"` / `limit: "*"` specials.
struct Parsed<'a> {
    event: &'a Event,
    version: Option<Version>,
}

fn parsed_events<'a>(
    eco: Ecosystem,
    events: &'a [Event],
    unreadable: &mut Vec<String>,
) -> Vec<Parsed<'a>> {
    let mut out: Vec<Parsed<'a>> = Vec::with_capacity(events.len());
    for event in events {
        let value = event_value(event);
        let special = matches!(event, Event::Introduced(v) if v == "0")
            || matches!(event, Event::Limit(v) if v.contains('*'));
        if special {
            out.push(Parsed {
                event,
                version: None,
            });
            continue;
        }
        match Version::parse(eco, value) {
            Ok(version) => out.push(Parsed {
                event,
                version: Some(version),
            }),
            Err(_) => unreadable.push(value.to_owned()),
        }
    }
    // Sorted by version; `introduced: "0"` first, `limit: "*"` last; ties keep their order.
    out.sort_by(|a, b| match (&a.version, &b.version) {
        (Some(x), Some(y)) => x.cmp(y),
        (None, Some(_)) => sentinel_order(a.event),
        (Some(_), None) => sentinel_order(b.event).reverse(),
        (None, None) => std::cmp::Ordering::Equal,
    });
    out
}

fn sentinel_order(event: &Event) -> std::cmp::Ordering {
    if matches!(event, Event::Introduced(_)) {
        std::cmp::Ordering::Less
    } else {
        std::cmp::Ordering::Greater
    }
}

fn event_value(event: &Event) -> &str {
    match event {
        Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
    }
}

/// `BeforeLimits`: no limit events means an implicit `*`.
fn before_limits(version: &Version, events: &[Parsed<'_>]) -> bool {
    let mut limits = events
        .iter()
        .filter(|p| matches!(p.event, Event::Limit(_)))
        .peekable();
    if limits.peek().is_none() {
        return true;
    }
    limits.any(|p| p.version.as_ref().is_none_or(|limit| version < limit))
}

/// Walks the sorted events; returns the fixed version(s) after `version` when it is affected.
fn range_affects(version: &Version, events: &[Parsed<'_>]) -> Option<Vec<String>> {
    let mut vulnerable = false;
    for p in events {
        match (p.event, &p.version) {
            (Event::Introduced(_), None) => vulnerable = true,
            (Event::Introduced(_), Some(v)) if version >= v => vulnerable = true,
            (Event::Fixed(_), Some(v)) if version >= v => vulnerable = false,
            (Event::LastAffected(_), Some(v)) if version > v => vulnerable = false,
            _ => {}
        }
    }
    if !vulnerable {
        return None;
    }
    let next_fix = events
        .iter()
        .filter(|p| matches!(p.event, Event::Fixed(_)))
        .find(|p| p.version.as_ref().is_some_and(|v| v > version))
        .map(|p| event_value(p.event).to_owned());
    Some(next_fix.into_iter().collect())
}
