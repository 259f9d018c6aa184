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
pub fn evaluate(eco: Ecosystem, raw: &str, version: Option<&Version>, entry: &Affected) -> Evaluation {
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
    listed
        .iter()
        .any(|v| v == raw || version.is_some_and(|mine| Version::parse(eco, v).is_ok_and(|theirs| &theirs == mine)))
}

/// An event whose version parsed; `None` stands for the `introduced: "0"` / `limit: "*"` specials.
struct Parsed<'a> {
    event: &'a Event,
    version: Option<Version>,
}

fn parsed_events<'a>(eco: Ecosystem, events: &'a [Event], unreadable: &mut Vec<String>) -> Vec<Parsed<'a>> {
    let mut out: Vec<Parsed<'a>> = Vec::with_capacity(events.len());
    for event in events {
        let value = event_value(event);
        let special =
            matches!(event, Event::Introduced(v) if v == "0") || matches!(event, Event::Limit(v) if v.contains('*'));
        if special {
            out.push(Parsed { event, version: None });
            continue;
        }
        match Version::parse(eco, value) {
            Ok(version) => out.push(Parsed { event, version: Some(version) }),
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
    if matches!(event, Event::Introduced(_)) { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater }
}

fn event_value(event: &Event) -> &str {
    match event {
        Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
    }
}

/// `BeforeLimits`: no limit events means an implicit `*`.
fn before_limits(version: &Version, events: &[Parsed<'_>]) -> bool {
    let mut limits = events.iter().filter(|p| matches!(p.event, Event::Limit(_))).peekable();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::osv::Range;

    fn entry(kind: RangeKind, events: &[(&str, &str)], versions: &[&str]) -> Affected {
        let events = events
            .iter()
            .map(|(k, v)| match *k {
                "i" => Event::Introduced((*v).into()),
                "f" => Event::Fixed((*v).into()),
                "a" => Event::LastAffected((*v).into()),
                _ => Event::Limit((*v).into()),
            })
            .collect();
        Affected {
            ecosystem: Some(Ecosystem::Npm),
            name: "x".into(),
            ranges: vec![Range { kind, events }],
            versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn affected(eco: Ecosystem, entry: &Affected, v: &str) -> bool {
        let parsed = Version::parse(eco, v).ok();
        evaluate(eco, v, parsed.as_ref(), entry).affected
    }

    #[test]
    fn limit_events_cap_the_range() {
        let e = entry(RangeKind::Semver, &[("i", "1.0.0"), ("l", "2.0.0")], &[]);
        for (v, want) in [("0.9.9", false), ("1.0.0", true), ("1.9.9", true), ("2.0.0", false), ("3.0.0", false)] {
            assert_eq!(affected(Ecosystem::Npm, &e, v), want, "{v}");
        }
        let star = entry(RangeKind::Semver, &[("i", "1.0.0"), ("l", "*")], &[]);
        assert!(affected(Ecosystem::Npm, &star, "99.0.0"));
    }

    #[test]
    fn unsorted_events_are_sorted_first() {
        let e = entry(RangeKind::Ecosystem, &[("f", "1.5.0"), ("i", "3.0.0"), ("i", "1.0.0"), ("f", "3.2.0")], &[]);
        for (v, want) in [("1.0.0", true), ("1.5.0", false), ("2.9.0", false), ("3.1.0", true), ("3.2.0", false)] {
            assert_eq!(affected(Ecosystem::Npm, &e, v), want, "{v}");
        }
        let parsed = Version::parse(Ecosystem::Npm, "3.1.0").unwrap();
        assert_eq!(evaluate(Ecosystem::Npm, "3.1.0", Some(&parsed), &e).fixed, vec!["3.2.0".to_owned()]);
    }

    #[test]
    fn pep440_ranges_use_pep440_order() {
        let e = entry(RangeKind::Ecosystem, &[("i", "0"), ("f", "2.0")], &[]);
        for (v, want) in
            [("2.0rc1", true), ("2.0.0", false), ("1.9.post1", true), ("2.0+local", false), ("1!0.1", false)]
        {
            assert_eq!(affected(Ecosystem::PyPI, &e, v), want, "{v}");
        }
    }

    #[test]
    fn versions_lists_and_git_ranges() {
        let git = entry(RangeKind::Git, &[("i", "0"), ("f", "abc123")], &["1.2.3"]);
        assert!(affected(Ecosystem::Npm, &git, "1.2.3"), "listed version");
        assert!(!affected(Ecosystem::Npm, &git, "1.2.4"), "GIT ranges are not evaluated against versions");
        let listed = entry(RangeKind::Ecosystem, &[("i", "5.0.0")], &["1.0"]);
        assert!(affected(Ecosystem::PyPI, &listed, "1.0.0"), "PEP 440: 1.0 == 1.0.0");
    }

    #[test]
    fn an_unparseable_package_version_only_matches_exact_listed_versions() {
        let e = entry(RangeKind::Semver, &[("i", "0")], &["not-a-version"]);
        assert!(affected(Ecosystem::Npm, &e, "not-a-version"));
        assert!(!affected(Ecosystem::Npm, &e, "also not one"));
    }
}
