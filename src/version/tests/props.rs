//! Property tests: for each ecosystem, version strings generated from its grammar always parse,
//! and the ordering is a total order consistent with `Eq`, `Hash` and `Display`.

use std::cmp::Ordering;
use std::hash::{BuildHasher, RandomState};

use proptest::prelude::*;
use proptest::sample::select;

use super::super::Version;
use crate::package::Ecosystem;

/// Small numbers collide often (so equal and near versions are common), large ones probe limits.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..4).prop_map(|n| n.to_string()),
        2 => (0u64..100).prop_map(|n| n.to_string()),
        1 => select(vec!["9007199254740991", "18446744073709551615", "20191109021931"])
            .prop_map(str::to_owned),
    ]
}

/// Without the huge values: node-semver caps major/minor/patch at 2^53 - 1, and `pep440_rs` orders
/// `.dev18446744073709551615` like no `.dev` (we reject that number).
fn small_number() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..4).prop_map(|n| n.to_string()),
        2 => (0u64..100).prop_map(|n| n.to_string()),
    ]
}

fn core3() -> impl Strategy<Value = String> {
    (number(), number(), number()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

fn small_core3() -> impl Strategy<Value = String> {
    (small_number(), small_number(), small_number()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

/// semver dot-separated identifiers from a pool that makes equal and prefix cases likely.
fn identifiers(pool: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop::collection::vec(select(pool), 1..4).prop_map(|ids| ids.join("."))
}

const PRE_IDS: [&str; 11] = ["0", "1", "2", "10", "alpha", "beta", "rc", "a1", "1a", "x-y", "-"];
const BUILD_IDS: [&str; 5] = ["build", "1", "001", "sha-5114f85", "incompatible"];

fn suffix(pre_ids: Vec<&'static str>) -> impl Strategy<Value = String> {
    let pre = prop::option::of(identifiers(pre_ids));
    let build = prop::option::of(identifiers(BUILD_IDS.to_vec()));
    (pre, build).prop_map(|(pre, build)| {
        let pre = pre.map(|p| format!("-{p}")).unwrap_or_default();
        let build = build.map(|b| format!("+{b}")).unwrap_or_default();
        format!("{pre}{build}")
    })
}

fn npm_version() -> impl Strategy<Value = String> {
    let prefix = select(vec!["", "", "v", "=", "=v", " "]);
    let pre_ids = [PRE_IDS.as_slice(), &["01", "007"]].concat();
    (prefix, small_core3(), suffix(pre_ids)).prop_map(|(p, c, s)| format!("{p}{c}{s}"))
}

fn crates_io_version() -> impl Strategy<Value = String> {
    (core3(), suffix(PRE_IDS.to_vec())).prop_map(|(c, s)| format!("{c}{s}"))
}

fn go_module_version() -> impl Strategy<Value = String> {
    let pseudo = (core3(), select(vec!["-", "-0.", "-pre.0."]), number())
        .prop_map(|(c, sep, t)| format!("{c}{sep}{t}-daa7c04131f5"));
    let plain = (core3(), suffix(PRE_IDS.to_vec())).prop_map(|(c, s)| format!("{c}{s}"));
    let short = (number(), prop::option::of(number())).prop_map(|(a, b)| b.map_or(a.clone(), |b| format!("{a}.{b}")));
    let prefix = select(vec!["", "v"]);
    let incompatible = select(vec!["", "", "+incompatible"]);
    let full = (prop_oneof![plain, pseudo], incompatible).prop_map(|(b, i)| {
        let i = if b.contains('+') { "" } else { i };
        format!("{b}{i}")
    });
    (prefix, prop_oneof![full, short]).prop_map(|(p, b)| format!("{p}{b}"))
}

fn go_toolchain_version() -> impl Strategy<Value = String> {
    let release = prop::collection::vec(number(), 1..4).prop_map(|parts| parts.join("."));
    let pre = prop::option::of((select(vec!["alpha", "beta", "rc"]), 1u8..4));
    let prefix = select(vec!["go", ""]);
    (prefix, release, pre).prop_map(|(p, r, pre)| {
        let pre = pre.map(|(k, n)| format!("{k}{n}")).unwrap_or_default();
        format!("{p}{r}{pre}")
    })
}

fn pypi_version() -> impl Strategy<Value = String> {
    let epoch = prop::option::of(number()).prop_map(|e| e.map(|e| format!("{e}!")));
    let release = prop::collection::vec(number(), 1..5).prop_map(|parts| parts.join("."));
    let pre_kind = select(vec!["a", "b", "rc", "alpha", "beta", "c", "pre", "preview", "RC"]);
    let sep = select(vec!["", ".", "-", "_"]);
    let pre = prop::option::of((sep.clone(), pre_kind, prop::option::of(number())));
    let post_kind = select(vec![".post", "post", "-", ".rev", "-r", "_post"]);
    let post = prop::option::of((post_kind, number()));
    let dev_kind = select(vec![".dev", "dev", "-dev"]);
    let dev = prop::option::of((dev_kind, prop::option::of(small_number())));
    let local_ids = vec!["1", "abc", "ABC", "ubuntu", "0", "007", "cpu"];
    let local = prop::option::of((identifiers(local_ids), sep));
    let lead = select(vec!["", "", "v", "V"]);
    (lead, epoch, release, pre, post, dev, local).prop_map(|(lead, epoch, release, pre, post, dev, local)| {
        let pre = pre.map(|(sep, kind, n)| format!("{sep}{kind}{}", n.unwrap_or_default()));
        let post = post.map(|(kind, n)| format!("{kind}{n}"));
        let dev = dev.map(|(kind, n)| format!("{kind}{}", n.unwrap_or_default()));
        let local = local.map(|(ids, sep)| {
            let sep = if sep.is_empty() { "." } else { sep };
            format!("+{}", ids.replace('.', sep))
        });
        let epoch = epoch.unwrap_or_default();
        let [pre, post, dev, local] = [pre, post, dev, local].map(Option::unwrap_or_default);
        let s = format!("{lead}{epoch}{release}{pre}{post}{dev}{local}");
        s
    })
}

fn parsed(eco: Ecosystem, raw: &str) -> Result<Version, TestCaseError> {
    Version::parse(eco, raw).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// Antisymmetry, reflexivity, transitivity over the triple, `==` iff `Equal`, equal hashes for
/// equal versions, and `parse(display(v)) == v`.
fn check_total_order(eco: Ecosystem, raws: [&str; 3]) -> Result<(), TestCaseError> {
    let vs = [parsed(eco, raws[0])?, parsed(eco, raws[1])?, parsed(eco, raws[2])?];
    let state = RandomState::new();
    for a in &vs {
        prop_assert_eq!(a.cmp(a), Ordering::Equal);
        let shown = a.to_string();
        let again = parsed(eco, &shown)?;
        prop_assert!(again == *a, "{} re-parsed from {:?} differs", a, shown);
        for b in &vs {
            prop_assert_eq!(a.cmp(b), b.cmp(a).reverse(), "{} vs {}", a, b);
            prop_assert_eq!(a == b, a.cmp(b) == Ordering::Equal);
            prop_assert_eq!(a.partial_cmp(b), Some(a.cmp(b)));
            if a == b {
                prop_assert_eq!(state.hash_one(a), state.hash_one(b), "{} vs {}", a, b);
            }
            for c in &vs {
                if a <= b && b <= c {
                    prop_assert!(a <= c, "{} <= {} <= {} but not {} <= {}", a, b, c, a, c);
                }
                if a == b && b == c {
                    prop_assert!(a == c);
                }
            }
        }
    }
    let mut sorted = vs.clone();
    sorted.sort();
    prop_assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn npm_total_order(a in npm_version(), b in npm_version(), c in npm_version()) {
        check_total_order(Ecosystem::Npm, [&a, &b, &c])?;
    }

    #[test]
    fn crates_io_total_order(
        a in crates_io_version(), b in crates_io_version(), c in crates_io_version()
    ) {
        check_total_order(Ecosystem::CratesIo, [&a, &b, &c])?;
    }

    #[test]
    fn go_total_order(
        a in prop_oneof![go_module_version(), go_toolchain_version()],
        b in prop_oneof![go_module_version(), go_toolchain_version()],
        c in prop_oneof![go_module_version(), go_toolchain_version()],
    ) {
        check_total_order(Ecosystem::Go, [&a, &b, &c])?;
    }

    #[test]
    fn pypi_total_order(a in pypi_version(), b in pypi_version(), c in pypi_version()) {
        check_total_order(Ecosystem::PyPI, [&a, &b, &c])?;
    }

    /// Arbitrary text never panics, and what parses still orders consistently with itself.
    #[test]
    fn arbitrary_text_never_panics(raw in ".{0,40}") {
        for eco in Ecosystem::ALL {
            if let Ok(v) = Version::parse(eco, &raw) {
                prop_assert_eq!(v.cmp(&v), Ordering::Equal);
                prop_assert!(Version::parse(eco, &v.to_string()).is_ok_and(|again| again == v));
            }
        }
    }
}
