//! Fuzz target for `bundleguard::version`: arbitrary UTF-8 is parsed as a version of every
//! ecosystem; nothing may panic, a version equals itself, its `Display` parses back to an equal
//! version, and two versions cut from the same input compare antisymmetrically.
#![no_main]

use std::cmp::Ordering;

use bundleguard::package::Ecosystem;
use bundleguard::version::{MAX_VERSION_LEN, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let (left, right) = input.split_once('\n').unwrap_or((input, ""));
    for eco in Ecosystem::ALL {
        let whole = Version::parse(eco, input);
        let pair = (Version::parse(eco, left), Version::parse(eco, right));
        if let Ok(v) = &whole {
            check_self(eco, v);
        }
        if let (Ok(a), Ok(b)) = pair {
            check_self(eco, &a);
            check_self(eco, &b);
            assert_eq!(a.cmp(&b), b.cmp(&a).reverse(), "{eco}: {a} vs {b}");
            assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        }
    }
});

fn check_self(eco: Ecosystem, v: &Version) {
    assert_eq!(v.cmp(v), Ordering::Equal);
    assert_eq!(v.ecosystem(), eco);
    let shown = v.to_string();
    // Normalizing can lengthen a version by a few characters (`1.0c` -> `1.0rc0`, `go1` ->
    // `v1.0.0`); past the length limit, the display is rightly refused.
    if shown.len() > MAX_VERSION_LEN {
        return;
    }
    match Version::parse(eco, &shown) {
        Ok(again) => assert!(again == *v, "{eco}: {v} re-parsed from {shown:?} differs"),
        Err(e) => panic!("{eco}: display {shown:?} of a parsed version does not parse: {e}"),
    }
}
