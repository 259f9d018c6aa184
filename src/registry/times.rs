//! Publish times a mirror has rewritten with its own ingest times. Such times can't be proven
//! wrong one by one; two patterns show them: every version of a long history inside a short
//! window, and times running backwards within a release line (`1.2.3` published before `1.2.2`).
//! Facts whose times look rewritten are used without them (unknown, not clean).

use jiff::{SignedDuration, Timestamp};

use super::facts::PackageFacts;
use crate::package::Ecosystem;
use crate::version::Version;

/// A history at least this long that fits inside [`WINDOW`] looks ingested, not published.
const LONG_HISTORY: usize = 10;
const WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// Backwards steps smaller than this are clock noise, not rewriting.
const SLACK: SignedDuration = SignedDuration::from_hours(1);

/// Drops every publish time of `facts` when they can't be trusted: the policy distrusts the
/// registry (`policy_distrusts`), or they look rewritten ([`untrusted`]). The reason is kept in
/// [`PackageFacts::dropped_times`] (what the stale and takeover checks give as why their
/// time-based signals are not evaluated); `true` when they were dropped. The one check of the
/// times: the risk checks read the facts as vetted here.
pub fn vet(facts: &mut PackageFacts, policy_distrusts: bool) -> bool {
    let reason = if policy_distrusts {
        format!("the policy marks the {} registry's publish times as untrusted", facts.ecosystem)
    } else {
        match untrusted(facts) {
            Some(why) => format!("they look rewritten by a mirror: {why}"),
            None => return false,
        }
    };
    for v in &mut facts.versions {
        v.published = None;
    }
    facts.dropped_times = Some(format!("publish times not used: {reason}"));
    true
}

/// Why the publish times of these facts look rewritten, if they do.
pub fn untrusted(facts: &PackageFacts) -> Option<String> {
    // (count, first, last) of the publish times, in one pass (it runs for every cached package
    // a scan reads)
    let span = facts.versions.iter().filter_map(|v| v.published).fold(None, |span, t| match span {
        None => Some((1usize, t, t)),
        Some((n, first, last)) => Some((n + 1, t.min(first), t.max(last))),
    });
    if let Some((n, first, last)) = span
        && n >= LONG_HISTORY
        && last.duration_since(first) <= WINDOW
    {
        return Some(format!("all {n} versions published within {}", last.duration_since(first)));
    }
    backwards(facts)
}

/// Times that run backwards between consecutive stable versions of one `major.minor` line
/// (patch back-ports go to older minors, so they don't count): at least two such steps, and at
/// least a quarter of the comparable pairs.
fn backwards(facts: &PackageFacts) -> Option<String> {
    match plain_dated(facts) {
        Some(dated) => backwards_in(dated),
        None => backwards_in(parsed_dated(facts)),
    }
}

/// One dated stable version: its sort key, `(major, minor)`, publish time and raw text.
type Dated<'a, K> = (K, (u64, u64), Timestamp, &'a str);

/// The dated stable versions, each parsed.
fn parsed_dated(facts: &PackageFacts) -> Vec<Dated<'_, Version>> {
    facts
        .versions
        .iter()
        .filter_map(|v| {
            let parsed = Version::parse(facts.ecosystem, &v.version).ok().filter(|p| !p.is_prerelease())?;
            Some((parsed, line(&v.version)?, v.published?, v.version.as_str()))
        })
        .collect()
}

/// [`parsed_dated`] keyed by `(major, minor, patch)` without parsing, when every dated stable
/// version is a plain `1.2.3` (which every ecosystem orders by its three numbers): versions of
/// another shape are parsed only to drop the pre-releases and the unparsable ones, as
/// [`parsed_dated`] drops them; `None` when one is stable (then [`parsed_dated`] decides).
fn plain_dated(facts: &PackageFacts) -> Option<Vec<Dated<'_, (u64, u64, u64)>>> {
    let mut dated = Vec::with_capacity(facts.versions.len());
    for v in &facts.versions {
        let Some(published) = v.published else { continue };
        if let Some((major, minor, patch)) = plain_triple(facts.ecosystem, &v.version) {
            dated.push(((major, minor, patch), (major, minor), published, v.version.as_str()));
        } else if line(&v.version).is_some()
            && Version::parse(facts.ecosystem, &v.version).is_ok_and(|p| !p.is_prerelease())
        {
            return None;
        }
    }
    Some(dated)
}

/// `major.minor.patch` of a plain version (Go's `v` prefix allowed): ASCII digits without
/// leading zeros, at most 15 of them (below npm's largest safe integer). Read byte by byte: it
/// runs for every listed version of every package a scan judges.
fn plain_triple(ecosystem: Ecosystem, raw: &str) -> Option<(u64, u64, u64)> {
    let raw = if ecosystem == Ecosystem::Go { raw.strip_prefix('v')? } else { raw };
    let mut numbers = [0u64; 3];
    let (mut part, mut digits) = (0, 0);
    for b in raw.bytes() {
        match b {
            // a 16th digit, or a digit after a leading zero
            b'0'..=b'9' if digits == 15 || (digits == 1 && numbers[part] == 0) => return None,
            b'0'..=b'9' => {
                numbers[part] = numbers[part] * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && part < 2 => (part, digits) = (part + 1, 0),
            _ => return None,
        }
    }
    (part == 2 && digits > 0).then_some((numbers[0], numbers[1], numbers[2]))
}

/// The backwards steps of `dated` sorted by version.
fn backwards_in<K: Ord>(mut dated: Vec<Dated<'_, K>>) -> Option<String> {
    dated.sort_by(|a, b| a.0.cmp(&b.0));
    let (mut pairs, mut steps, mut example) = (0usize, 0usize, None);
    for w in dated.windows(2) {
        if w[0].1 != w[1].1 {
            continue;
        }
        pairs += 1;
        if w[0].2.duration_since(w[1].2) > SLACK {
            steps += 1;
            example.get_or_insert_with(|| format!("{} published after {}", w[0].3, w[1].3));
        }
    }
    (steps >= 2 && steps * 4 >= pairs).then(|| {
        format!(
            "times run backwards in {steps} of {pairs} steps within release lines (e.g. {})",
            example.unwrap_or_default()
        )
    })
}

/// `(major, minor)` of a version string (`v` prefix allowed).
fn line(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim_start_matches('v').split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Ecosystem, PackageName};
    use crate::registry::facts::VersionFacts;

    fn facts(versions: &[(&str, &str)]) -> PackageFacts {
        PackageFacts {
            ecosystem: Ecosystem::Npm,
            name: PackageName::new(Ecosystem::Npm, "x"),
            fetched_at: Timestamp::UNIX_EPOCH,
            versions: versions
                .iter()
                .map(|(v, t)| VersionFacts {
                    version: (*v).into(),
                    published: t.parse().ok(),
                    ..VersionFacts::default()
                })
                .collect(),
            maintainers: None,
            status: None,
            latest: None,
            dropped_times: None,
        }
    }

    #[test]
    fn a_long_history_in_one_day_is_untrusted() {
        let v: Vec<(String, String)> =
            (0..12).map(|i| (format!("1.0.{i}"), format!("2024-12-04T0{}:00:00Z", i % 10))).collect();
        let v: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert!(untrusted(&facts(&v)).unwrap().starts_with("all 12 versions published within"));
    }

    #[test]
    fn backports_to_older_lines_are_not_backwards() {
        let f = facts(&[
            ("1.0.0", "2020-01-01T00:00:00Z"),
            ("1.1.0", "2020-06-01T00:00:00Z"),
            ("1.0.1", "2020-07-01T00:00:00Z"),
            ("1.1.1", "2020-08-01T00:00:00Z"),
            ("1.0.2", "2021-01-01T00:00:00Z"),
        ]);
        assert_eq!(untrusted(&f), None);
        let shuffled = facts(&[
            ("1.0.0", "2024-01-01T00:00:00Z"),
            ("1.0.1", "2023-01-01T00:00:00Z"),
            ("1.0.2", "2024-06-01T00:00:00Z"),
            ("1.0.3", "2022-01-01T00:00:00Z"),
        ]);
        assert!(untrusted(&shuffled).unwrap().contains("2 of 3 steps"), "{:?}", untrusted(&shuffled));
    }

    /// A line maintained beside a newer one (back-ports released after the newer line's
    /// versions, one 30 minutes after a newer line's release) is not rewriting; swapping two
    /// times within one line is.
    #[test]
    fn back_ports_between_lines_are_not_rewritten_times() {
        let lts = [
            ("1.2.0", "2024-01-01T00:00:00Z"),
            ("1.3.0", "2024-02-01T00:00:00Z"),
            ("1.3.1", "2024-03-01T00:00:00Z"),
            ("1.2.1", "2024-03-02T00:00:00Z"),
            ("1.2.2", "2024-04-01T00:00:00Z"),
            ("1.3.2", "2024-04-01T00:30:00Z"),
            ("2.0.0", "2024-05-01T00:00:00Z"),
            ("1.3.3", "2024-05-02T00:00:00Z"),
        ];
        let mut kept = facts(&lts);
        assert!(!vet(&mut kept, false));
        assert!(kept.versions.iter().all(|v| v.published.is_some()) && kept.dropped_times.is_none());
        let mut swapped = lts;
        swapped[1].1 = "2024-06-01T00:00:00Z";
        swapped[3].1 = "2023-06-01T00:00:00Z";
        let mut dropped = facts(&swapped);
        assert!(vet(&mut dropped, false));
        let reason = dropped.dropped_times.unwrap_or_default();
        assert!(reason.starts_with("publish times not used: they look rewritten by a mirror: "), "{reason}");
        assert!(dropped.versions.iter().all(|v| v.published.is_none()));
        let mut distrusted = facts(&lts);
        assert!(vet(&mut distrusted, true));
        let reason = distrusted.dropped_times.unwrap_or_default();
        assert!(reason.contains("the policy marks the npm registry's publish times as untrusted"), "{reason}");
    }

    /// The plain-version shortcut reaches what parsing every version reaches.
    #[test]
    fn plain_versions_sort_as_parsed_ones() {
        let day = |d: u32| format!("2024-{:02}-{:02}T00:00:00Z", 1 + d / 28 % 12, 1 + d % 28);
        let raw = ["1.0.0", "1.0.1", "1.0.10", "1.0.2", "1.1.0", "1.0.3-beta.1", "2.0.0", "1.0.9", "latest", "1.0.11"];
        let mut untrusted = 0;
        for seed in 0..40u32 {
            let list: Vec<(String, String)> =
                raw.iter().zip(0u32..).map(|(v, i)| ((*v).to_owned(), day((i * 7 + seed * 13) % 97))).collect();
            let list: Vec<(&str, &str)> = list.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let f = facts(&list);
            let parsed = backwards_in(parsed_dated(&f));
            untrusted += usize::from(parsed.is_some());
            assert_eq!(plain_dated(&f).map(backwards_in), Some(parsed), "seed {seed}");
        }
        assert!(untrusted > 0 && untrusted < 40, "{untrusted}: both outcomes are compared");
        assert!(plain_dated(&facts(&[("1.0.0+build", "2024-01-01T00:00:00Z")])).is_none(), "stable, not plain");
        assert_eq!(plain_triple(Ecosystem::Npm, "1.2.3"), Some((1, 2, 3)));
        assert_eq!(plain_triple(Ecosystem::Go, "v1.2.3"), Some((1, 2, 3)));
        for odd in ["v1.2.3", "1.2", "1.2.3.4", "1.02.3", "1.2.3 ", "1..3", "1234567890123456.0.0"] {
            assert_eq!(plain_triple(Ecosystem::Npm, odd), None, "{odd}");
        }
    }

    proptest::proptest! {
        /// The byte reader reads what splitting at `.` and checking each part reads.
        #[test]
        fn plain_triples_read_as_the_parts_say(raw in "v?[0-9.a]{0,20}", go in proptest::bool::ANY) {
            let eco = if go { Ecosystem::Go } else { Ecosystem::Npm };
            let reference = (|| {
                let raw = if go { raw.strip_prefix('v')? } else { raw.as_str() };
                let mut parts = raw.split('.').map(|p| {
                    let plain = (1..=15).contains(&p.len())
                        && p.bytes().all(|b| b.is_ascii_digit())
                        && (p.len() == 1 || !p.starts_with('0'));
                    plain.then(|| p.parse::<u64>().ok()).flatten()
                });
                let triple = (parts.next()??, parts.next()??, parts.next()??);
                parts.next().is_none().then_some(triple)
            })();
            proptest::prop_assert_eq!(plain_triple(eco, &raw), reference, "{:?}", raw);
        }
    }
}
