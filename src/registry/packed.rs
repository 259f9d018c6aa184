//! The cache's encoding of one package's version facts: every version in one blob (column
//! `registry_packages.versions`, schema migration 6), so a warm cache costs one row per package
//! instead of one row of twelve columns per version (issue 10: the 500-function monorepo's 1,785
//! packages held 24,904 version rows, and reading them was most of a warm-cache scan's extra cost).
//!
//! Layout (format 1), little-endian: the format byte, then the number of versions (LEB128), then
//! per version a `u16` of flags saying which fields follow, the version string, and the fields
//! present, in this order: publish time (`i64` nanoseconds since the Unix epoch), publisher,
//! install scripts (count, then name and command of each), deprecation message, yank reason,
//! dependencies (count, names), maintainers (count, names). A string is its byte length (LEB128)
//! then UTF-8. Versions are sorted by their string and unique (the order the per-version rows had).
//!
//! The cache is untrusted input like any file: [`decode`] checks every length against what is
//! left, every string's UTF-8, unknown flags and trailing bytes, and says what is wrong.

use std::sync::Arc;

use jiff::Timestamp;

use super::facts::{Blob, Item, List, VersionFacts};
use crate::advisory::store::{from_ns, ns};

/// The first byte of every blob this version writes.
const FORMAT: u8 = 1;

const PUBLISHED: u16 = 1;
const PUBLISHER: u16 = 1 << 1;
const PROVENANCE_KNOWN: u16 = 1 << 2;
const PROVENANCE: u16 = 1 << 3;
const SCRIPTS: u16 = 1 << 4;
const DEPRECATED: u16 = 1 << 5;
const DEPRECATION_KNOWN: u16 = 1 << 6;
const YANKED: u16 = 1 << 7;
const YANK_KNOWN: u16 = 1 << 8;
const DEPENDENCIES: u16 = 1 << 9;
const MAINTAINERS: u16 = 1 << 10;
const ALL: u16 = (1 << 11) - 1;

/// The blob of `versions`: sorted by version string; of two entries with the same string the
/// later one is kept (as rows written in order replaced each other).
pub fn encode(versions: &[VersionFacts]) -> Vec<u8> {
    let mut order: Vec<&VersionFacts> = versions.iter().collect();
    order.sort_by(|a, b| a.version.cmp(&b.version));
    // Stable sort: of equal strings the last written is last; keep it.
    let mut unique: Vec<&VersionFacts> = Vec::with_capacity(order.len());
    for v in order {
        match unique.last_mut() {
            Some(last) if last.version == v.version => *last = v,
            _ => unique.push(v),
        }
    }
    let mut out = Vec::with_capacity(1 + unique.len() * 48);
    out.push(FORMAT);
    put_len(&mut out, unique.len());
    for v in unique {
        put_version(&mut out, v);
    }
    out
}

fn put_version(out: &mut Vec<u8>, v: &VersionFacts) {
    let flag = |on: bool, bit: u16| if on { bit } else { 0 };
    let flags = flag(v.published.is_some(), PUBLISHED)
        | flag(v.publisher.is_some(), PUBLISHER)
        | flag(v.provenance.is_some(), PROVENANCE_KNOWN)
        | flag(v.provenance == Some(true), PROVENANCE)
        | flag(v.install_scripts.is_some(), SCRIPTS)
        | flag(v.deprecated.is_some(), DEPRECATED)
        | flag(v.deprecation_known, DEPRECATION_KNOWN)
        | flag(v.yanked.is_some(), YANKED)
        | flag(v.yank_known, YANK_KNOWN)
        | flag(v.dependencies.is_some(), DEPENDENCIES)
        | flag(v.maintainers.is_some(), MAINTAINERS);
    out.extend_from_slice(&flags.to_le_bytes());
    put_str(out, &v.version);
    if let Some(at) = v.published {
        out.extend_from_slice(&ns(at).to_le_bytes());
    }
    if let Some(publisher) = &v.publisher {
        put_str(out, publisher);
    }
    if let Some(scripts) = &v.install_scripts {
        put_len(out, scripts.len());
        for (name, command) in scripts {
            put_str(out, name);
            put_str(out, command);
        }
    }
    for text in [&v.deprecated, &v.yanked].into_iter().flatten() {
        put_str(out, text);
    }
    for list in [&v.dependencies, &v.maintainers].into_iter().flatten() {
        put_len(out, list.len());
        for name in list {
            put_str(out, name);
        }
    }
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = n.to_le_bytes()[0] & 0x7f;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

/// The versions of a blob [`encode`] wrote; what is wrong (with the byte offset) otherwise.
pub fn decode(bytes: &[u8]) -> Result<Vec<VersionFacts>, String> {
    decode_shared(&Arc::new(bytes.to_vec()))
}

/// [`decode`], keeping `blob` for the per-version lists: the whole blob is checked here (every
/// list too, without allocating), and a list is decoded from it when first read ([`List`]).
pub fn decode_shared(blob: &Blob) -> Result<Vec<VersionFacts>, String> {
    // A list keeps its offset as a `u32`.
    if u32::try_from(blob.len()).is_err() {
        return Err(format!("{} bytes, more than a blob can hold", blob.len()));
    }
    let mut r = Reader { bytes: blob, at: 0 };
    let format = r.byte()?;
    if format != FORMAT {
        return Err(format!("unknown format {format} (this version reads format {FORMAT})"));
    }
    let count = r.len()?;
    // Each version takes at least 3 bytes: a corrupt count cannot reserve more than the blob.
    let mut out = Vec::with_capacity(count.min(r.left() / 3));
    for _ in 0..count {
        out.push(r.version(blob)?);
    }
    if r.left() > 0 {
        return Err(format!("{} bytes after the last version, at byte {}", r.left(), r.at));
    }
    Ok(out)
}

impl Item for String {
    /// The names of the list at byte `at` of a blob [`decode_shared`] checked.
    fn read(blob: &[u8], at: usize) -> Vec<String> {
        let mut r = Reader { bytes: blob, at };
        let n = r.len().unwrap_or(0);
        (0..n).map_while(|_| r.str().ok()).collect()
    }

    fn end(blob: &[u8], at: usize) -> Option<usize> {
        list_end(blob, at, 1)
    }
}

impl Item for (String, String) {
    /// The (name, command) pairs of the list at byte `at` of a blob [`decode_shared`] checked.
    fn read(blob: &[u8], at: usize) -> Vec<(String, String)> {
        let mut r = Reader { bytes: blob, at };
        let n = r.len().unwrap_or(0);
        (0..n).map_while(|_| Some((r.str().ok()?, r.str().ok()?))).collect()
    }

    fn end(blob: &[u8], at: usize) -> Option<usize> {
        list_end(blob, at, 2)
    }
}

/// Where the list at byte `at` of a checked blob ends (`strings` per item): its lengths are
/// followed, its text not checked again.
fn list_end(blob: &[u8], at: usize, strings: usize) -> Option<usize> {
    let mut r = Reader { bytes: blob, at };
    r.skip_list(strings, false).ok()?;
    Some(r.at)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if n > self.left() {
            return Err(format!("cut short at byte {}: {n} bytes wanted, {} left", self.at, self.left()));
        }
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn len(&mut self) -> Result<usize, String> {
        // Most lengths are under 128: one byte.
        if let Some(&b) = self.bytes.get(self.at)
            && b & 0x80 == 0
        {
            self.at += 1;
            return Ok(usize::from(b));
        }
        let start = self.at;
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(n).map_err(|_| format!("a length at byte {start} is too large"));
            }
        }
        Err(format!("a length at byte {start} runs over 10 bytes"))
    }

    /// The next string, checked and borrowed.
    fn text(&mut self) -> Result<&str, String> {
        let n = self.len()?;
        let at = self.at;
        let raw = self.take(n)?;
        std::str::from_utf8(raw).map_err(|e| format!("a string at byte {at} is not UTF-8: {e}"))
    }

    fn str(&mut self) -> Result<String, String> {
        self.text().map(str::to_owned)
    }

    /// Passes over the list that starts here (`strings` per item) without keeping it, checking
    /// each string's UTF-8 when `check_text` (not when the blob was checked already); returns
    /// where it starts.
    fn skip_list(&mut self, strings: usize, check_text: bool) -> Result<u32, String> {
        let start = u32::try_from(self.at).map_err(|_| format!("a list at byte {} is past 4 GiB", self.at))?;
        let n = self.len()?;
        for _ in 0..n {
            for _ in 0..strings {
                if check_text {
                    self.text()?;
                } else {
                    let len = self.len()?;
                    self.take(len)?;
                }
            }
        }
        Ok(start)
    }

    /// The next version of `blob` (which this reader reads): its lists are checked, and left
    /// in the blob until read.
    fn version(&mut self, blob: &Blob) -> Result<VersionFacts, String> {
        let at = self.at;
        let flags = u16::from_le_bytes([self.byte()?, self.byte()?]);
        if flags & !ALL != 0 {
            return Err(format!("unknown flags {flags:#06x} at byte {at}"));
        }
        let has = |bit: u16| flags & bit != 0;
        let version = self.str()?;
        let publish_time = if has(PUBLISHED) {
            let raw: [u8; 8] = self.take(8)?.try_into().map_err(|_| "a publish time is cut short".to_owned())?;
            Some(from_ns(i64::from_le_bytes(raw)))
        } else {
            None::<Timestamp>
        };
        let publisher = if has(PUBLISHER) { Some(self.str()?) } else { None };
        let scripts = if has(SCRIPTS) { Some(self.skip_list(2, true)?) } else { None };
        let deprecated = if has(DEPRECATED) { Some(self.str()?) } else { None };
        let yanked = if has(YANKED) { Some(self.str()?) } else { None };
        let dependencies = if has(DEPENDENCIES) { Some(self.skip_list(1, true)?) } else { None };
        let maintainers = if has(MAINTAINERS) { Some(self.skip_list(1, true)?) } else { None };
        let names = |at: u32| List::packed(Arc::clone(blob), at);
        Ok(VersionFacts {
            version,
            published: publish_time,
            publisher,
            provenance: has(PROVENANCE_KNOWN).then_some(has(PROVENANCE)),
            install_scripts: scripts.map(|at| List::packed(Arc::clone(blob), at)),
            deprecated,
            deprecation_known: has(DEPRECATION_KNOWN),
            yanked,
            yank_known: has(YANK_KNOWN),
            dependencies: dependencies.map(names),
            maintainers: maintainers.map(names),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cached version holds three lists (issue 10: their size is most of a version's).
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_list_takes_40_bytes() {
        assert_eq!(size_of::<List<String>>(), 40);
        assert_eq!(size_of::<List<(String, String)>>(), 40);
    }

    fn sample() -> Vec<VersionFacts> {
        let t = |s: &str| s.parse::<Timestamp>().ok();
        vec![
            VersionFacts {
                version: "3.3.6".into(),
                published: t("2018-09-09T00:00:00.123456789Z"),
                publisher: Some("right9ctrl".into()),
                provenance: Some(false),
                install_scripts: Some(vec![("postinstall".into(), "node x.js \"é\"".into())].into()),
                deprecated: Some(String::new()),
                deprecation_known: true,
                yanked: None,
                yank_known: true,
                dependencies: Some(vec!["flatmap-stream".into(), String::new()].into()),
                maintainers: Some(vec![].into()),
            },
            VersionFacts { version: "1.0.0".into(), ..VersionFacts::default() },
            VersionFacts {
                version: "2.0.0-rc.1".into(),
                published: t("1969-12-31T23:59:59Z"),
                provenance: Some(true),
                yanked: Some("x".repeat(300)),
                yank_known: true,
                maintainers: Some(vec!["a".into(), "b".into()].into()),
                ..VersionFacts::default()
            },
        ]
    }

    #[test]
    fn a_blob_reads_back_sorted_by_version() {
        let versions = sample();
        let mut sorted = versions.clone();
        sorted.sort_by(|a, b| a.version.cmp(&b.version));
        assert_eq!(decode(&encode(&versions)), Ok(sorted));
        assert_eq!(decode(&encode(&[])), Ok(vec![]));
    }

    #[test]
    fn packed_lists_compare_by_their_bytes_without_decoding() {
        let names = |list: &[&str]| Some(list.iter().map(|n| (*n).to_owned()).collect::<List<String>>());
        let a = VersionFacts { version: "1.0.0".into(), dependencies: names(&["x", "y"]), ..VersionFacts::default() };
        let b = VersionFacts { version: "1.0.1".into(), ..a.clone() };
        let c = VersionFacts { version: "1.0.2".into(), dependencies: names(&["x", "z"]), ..a.clone() };
        let versions = decode(&encode(&[a, b, c])).expect("decodes");
        let deps = |i: usize| versions[i].dependencies.as_ref().expect("a list");
        assert!(deps(0) == deps(1));
        assert!(!deps(0).is_decoded() && !deps(1).is_decoded(), "equal bytes: neither decoded");
        assert!(deps(0) != deps(2));
        assert!(deps(0).is_decoded() && deps(2).is_decoded(), "different bytes: compared as items");
        assert!(deps(1) == names(&["x", "y"]).as_ref().expect("a list"), "packed and built");
        assert!(deps(1) != &List::default());
    }

    #[test]
    fn of_two_entries_for_one_version_the_later_is_kept() {
        let first = VersionFacts { version: "1.0.0".into(), publisher: Some("a".into()), ..VersionFacts::default() };
        let second = VersionFacts { publisher: Some("b".into()), ..first.clone() };
        assert_eq!(decode(&encode(&[first, second.clone()])), Ok(vec![second]));
    }

    #[test]
    fn a_damaged_blob_is_an_error_never_a_panic() {
        let blob = encode(&sample());
        // Every prefix, and every single byte changed, decodes or says what is wrong.
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..blob.len() {
            for value in [0x00, 0x7f, 0x80, 0xff] {
                let mut damaged = blob.clone();
                damaged[at] = value;
                // What decodes must read whole: its lists too.
                for v in decode(&damaged).unwrap_or_default() {
                    let lists = [&v.dependencies, &v.maintainers].map(|l| l.as_deref().map(<[String]>::len));
                    let _ = (lists, v.install_scripts.as_deref().map(<[(String, String)]>::len));
                }
            }
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert!(decode(&longer).unwrap_err().contains("after the last version"));
        assert!(decode(&[2, 0]).unwrap_err().contains("unknown format 2"));
        assert!(decode(&[FORMAT, 1, 0xff, 0xff]).unwrap_err().contains("unknown flags"));
        assert!(decode(&[FORMAT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
        assert!(decode(&[FORMAT, 1, 0, 0, 2, 0xc3, 0x28]).unwrap_err().contains("not UTF-8"));
    }
}
