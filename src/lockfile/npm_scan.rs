//! A fast reader for the top level of a v2/v3 `package-lock.json`: the `packages` map, the
//! `lockfileVersion` and whether a `dependencies` key exists, read by a small JSON scanner of
//! our own instead of serde's derived visitors (the legacy `dependencies` tree, often 40% of
//! the file, is only checked, never built).
//!
//! It answers exactly what the serde reader in `npm.rs` answers, or nothing: at anything it does
//! not read the way serde_json would (a type error, a duplicate field, deep nesting, any syntax
//! error), it gives up and the serde reader runs, so errors keep their serde wording and
//! position. It is never more lenient than serde_json: every byte of the document is checked
//! (strings for control characters and escapes, numbers for the JSON grammar, no trailing
//! commas, nothing after the root). The tests compare both readers on every fixture and on
//! damaged copies of them.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::npm::{EntryWire, Pairs, Str, TopField};

/// Deeper nesting than this is left to serde_json (which stops at 128).
const MAX_DEPTH: u32 = 100;

/// The `packages` map and the top-level facts `parse_package_lock` needs, or `None` when the
/// serde reader must decide.
pub(super) fn read(bytes: &[u8]) -> Option<TopField<Pairs<'_, EntryWire<'_>>>> {
    // Checked once for the whole text (serde checks each string it keeps; a lockfile with bytes
    // that are not UTF-8 anywhere is left to serde).
    let text = std::str::from_utf8(bytes).ok()?;
    let mut s = Scan { text, b: bytes, at: 0, depth: 0 };
    let mut out = TopField { value: None, has_dependencies: false, lockfile_version: None };
    s.object(|s, key| {
        out.has_dependencies |= key.0 == "dependencies";
        match &*key.0 {
            "lockfileVersion" => {
                s.ws();
                let start = s.at;
                s.skip()?;
                out.lockfile_version = Some(serde_json::from_slice(&s.b[start..s.at]).ok()?);
            }
            "packages" => {
                let mut entries = Vec::new();
                s.object(|s, key| {
                    entries.push((key, s.entry()?));
                    Some(())
                })?;
                out.value = Some(Pairs(entries));
            }
            _ => s.skip()?,
        }
        Some(())
    })?;
    s.ws();
    (s.at == s.b.len()).then_some(out)
}

/// The field of an entry serde's derive knows, by its index (a second occurrence is serde's
/// "duplicate field" error; the index is its bit in `Scan::entry`'s `seen`).
fn field(key: &str) -> Option<u8> {
    Some(match key {
        "name" => 0,
        "version" => 1,
        "resolved" => 2,
        "link" => 3,
        "dev" => 4,
        "optional" => 5,
        "devOptional" => 6,
        "peer" => 7,
        "dependencies" => 8,
        "optionalDependencies" => 9,
        "peerDependencies" => 10,
        "devDependencies" => 11,
        "workspaces" => 12,
        _ => return None,
    })
}

/// Eight bytes, each set to `b`.
const fn splat(b: u8) -> u64 {
    u64::from_le_bytes([b; 8])
}

/// The bytes of a little-endian word that end a run of plain string bytes (`"`, `\\` or a
/// control character below 0x20), as their high bits. A borrow can also mark a byte above a
/// true one, never below: the lowest mark is always the first stop.
fn stops(w: u64) -> u64 {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let zero_in = |v: u64| v.wrapping_sub(LOW) & !v & HIGH;
    let below_space = w.wrapping_sub(splat(0x20)) & !w & HIGH;
    zero_in(w ^ splat(b'"')) | zero_in(w ^ splat(b'\\')) | below_space
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    at: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        // Indentation eight spaces at a time, then byte by byte.
        while self.b.get(self.at..self.at + 8).is_some_and(|w| w == b"        ") {
            self.at += 8;
        }
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after white space, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.at += 1)
    }

    /// The items of an object (`{`) or array (`[`) at the cursor, each read by `item`; checks the
    /// commas, the closing bracket and the nesting depth.
    fn items(&mut self, open: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        let close = if open == b'{' { b'}' } else { b']' };
        self.eat(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        if self.peek()? == close {
            self.at += 1;
        } else {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    c if c == close => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// The members of an object, each key given to `each`, which must read its value.
    fn object(&mut self, mut each: impl FnMut(&mut Self, Str<'a>) -> Option<()>) -> Option<()> {
        self.items(b'{', |s| {
            let key = s.string()?;
            s.eat(b':')?;
            each(s, key)
        })
    }

    /// A string, borrowed when it has no escape (an escaped one is decoded by serde_json).
    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.at;
        let (end, escaped) = self.string_end()?;
        let text = self.text.get(start..end)?;
        if escaped {
            let decoded: String = serde_json::from_slice(&self.b[start - 1..=end]).ok()?;
            return Some(Str(Cow::Owned(decoded)));
        }
        Some(Str(Cow::Borrowed(text)))
    }

    /// Moves past the closing quote of a string whose opening quote is consumed; returns the
    /// closing quote's offset and whether the string has an escape. Checks what serde_json checks when it skips a string: no control
    /// character, only JSON escapes (`\u` with four hex digits).
    fn string_end(&mut self) -> Option<(usize, bool)> {
        let mut escaped = false;
        loop {
            // Eight plain bytes at a time, then byte by byte from the word that may stop.
            while let Some(word) = self.b.get(self.at..self.at + 8) {
                let marks = stops(u64::from_le_bytes(word.try_into().ok()?));
                if marks != 0 {
                    self.at += (marks.trailing_zeros() / 8) as usize;
                    break;
                }
                self.at += 8;
            }
            let c = *self.b.get(self.at)?;
            self.at += 1;
            match c {
                b'"' => return Some((self.at - 1, escaped)),
                b'\\' => {
                    escaped = true;
                    match self.b.get(self.at)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.b.get(self.at + 1..self.at + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                0..0x20 => return None,
                _ => {}
            }
        }
    }

    /// Checks and skips any value (keys of skipped objects are checked, not built).
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => self.items(b'{', |s| {
                s.eat(b'"')?;
                s.string_end()?;
                s.eat(b':')?;
                s.skip()
            }),
            b'[' => self.items(b'[', Self::skip),
            b'"' => {
                self.at += 1;
                self.string_end().map(drop)
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.at..].starts_with(word).then(|| self.at += word.len())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.b.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.b.get(self.at)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.b.get(self.at) == Some(&b'.') {
            self.at += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.b.get(self.at) {
                self.at += 1;
            }
            self.one_or_more_digits()?;
        }
        // serde_json refuses a digit right after a leading zero; so does the grammar here.
        (!self.b.get(self.at).is_some_and(u8::is_ascii_digit)).then_some(())
    }

    fn digits(&mut self) {
        while self.b.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Option<()> {
        let from = self.at;
        self.digits();
        (self.at > from).then_some(())
    }

    /// `true` or `false` (serde refuses anything else for a flag, `null` included).
    fn flag(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// A string or `null` (an `Option<Str>` field).
    #[expect(clippy::option_option, reason = "outer: read here or not; inner: the field's value")]
    fn optional_string(&mut self) -> Option<Option<Str<'a>>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        self.string().map(Some)
    }

    /// An object of strings (`{"dep": "^1.0.0"}`), duplicates kept in file order.
    fn string_pairs(&mut self) -> Option<Pairs<'a, Str<'a>>> {
        let mut out = Vec::new();
        self.object(|s, key| {
            out.push((key, s.string()?));
            Some(())
        })?;
        Some(Pairs(out))
    }

    /// One value of the `packages` map, as serde's derive of [`EntryWire`] reads it.
    fn entry(&mut self) -> Option<EntryWire<'a>> {
        let mut e = EntryWire::default();
        let mut seen = 0u16;
        self.object(|s, key| {
            let Some(field) = field(&key.0) else { return s.skip() };
            if seen & (1 << field) != 0 {
                return None;
            }
            seen |= 1 << field;
            match field {
                0 => e.name = s.optional_string()?,
                1 => e.version = s.optional_string()?,
                2 => e.resolved = s.optional_string()?,
                3 => e.link = s.flag()?,
                4 => e.dev = s.flag()?,
                5 => e.optional = s.flag()?,
                6 => e.dev_optional = s.flag()?,
                7 => e.peer = s.flag()?,
                8 => e.dependencies = s.string_pairs()?,
                9 => e.optional_dependencies = s.string_pairs()?,
                10 => e.peer_dependencies = s.string_pairs()?,
                11 => e.dev_dependencies = s.string_pairs()?,
                _ => {
                    // `Option<IgnoredAny>`: `null` is `None`.
                    let null = s.peek()? == b'n';
                    s.skip()?;
                    e.workspaces = (!null).then_some(IgnoredAny);
                }
            }
            Some(())
        })?;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::test_paths as common;
    use super::*;

    /// What a reader found, comparable: the entries with every field, in order.
    fn summary(top: &TopField<Pairs<'_, EntryWire<'_>>>) -> String {
        use std::fmt::Write;
        let mut out = format!("deps={} version={:?}\n", top.has_dependencies, top.lockfile_version);
        for (k, e) in top.value.iter().flat_map(|p| &p.0) {
            let pairs =
                |p: &Pairs<'_, Str<'_>>| p.0.iter().map(|(k, v)| format!("{}={}", k.0, v.0)).collect::<Vec<_>>();
            let _ = writeln!(
                out,
                "{:?} {:?} {:?} {:?} {} {} {} {} {} {:?} {:?} {:?} {:?} {}",
                k.0,
                e.name,
                e.version,
                e.resolved,
                e.link,
                e.dev,
                e.optional,
                e.dev_optional,
                e.peer,
                pairs(&e.dependencies),
                pairs(&e.optional_dependencies),
                pairs(&e.peer_dependencies),
                pairs(&e.dev_dependencies),
                e.workspaces.is_some()
            );
        }
        out
    }

    /// The serde reader's answer, `None` for an error.
    fn by_serde(bytes: &[u8]) -> Option<String> {
        super::super::npm::read_top_with_serde(bytes).map(|t| summary(&t))
    }

    /// The fast reader agrees with serde wherever it answers, and never accepts what serde
    /// refuses.
    fn agree(bytes: &[u8]) -> bool {
        let fast = read(bytes).map(|t| summary(&t));
        match (&fast, by_serde(bytes)) {
            (Some(f), Some(s)) => {
                assert_eq!(f, &s, "readers differ on {:?}", String::from_utf8_lossy(bytes));
                true
            }
            (Some(_), None) => {
                panic!("the fast reader accepts what serde refuses: {:?}", String::from_utf8_lossy(bytes))
            }
            (None, _) => false,
        }
    }

    /// The two readers on one file (without its byte-order mark, as `lockfile::parse` gives
    /// it): `None` when the fast reader declined, else whether serde gives the same answer.
    fn compare(_: &Path, text: &str) -> Option<Result<(), String>> {
        let bytes = text.as_bytes();
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let fast = summary(&read(bytes)?);
        Some(match by_serde(bytes) {
            None => Err("serde refuses what the fast reader accepts".to_owned()),
            Some(reference) if reference != fast => Err(format!("readers differ:\nfast {fast}\nserde {reference}")),
            Some(_) => Ok(()),
        })
    }

    fn npm_lockfiles(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        common::files_named(dir, "package-lock.json", &mut files);
        common::files_named(dir, "npm-shrinkwrap.json", &mut files);
        files
    }

    #[test]
    fn same_answer_as_serde_on_every_fixture() {
        let files = npm_lockfiles(&common::fixture(""));
        assert!(files.len() >= 20, "only {} npm fixtures found", files.len());
        let (failures, declined) = common::differential(&files, compare);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Left to serde: the fixtures that are damaged on purpose, and v1 files (no `packages`
        // is an answer too, so those are read here and must agree).
        assert!(declined.iter().all(|d| d.contains("/invalid-")), "declined: {declined:?}");
    }

    #[test]
    #[ignore = "needs ../shared: the npm lockfiles of the corpus"]
    fn shared_corpus_npm_fast_reader_matches_serde() {
        let files = npm_lockfiles(&common::shared().join("corpus"));
        assert!(files.len() >= 40, "found only {} npm lockfiles", files.len());
        let (failures, declined) = common::differential(&files, compare);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Left to serde: the sample that is not JSON.
        assert!(declined.iter().all(|d| d.contains("-not-json/")), "declined: {declined:?}");
    }

    #[test]
    fn tricky_documents() {
        // Each document, and whether the fast reader answers it (else serde decides).
        let cases: &[(&str, bool)] = &[
            (
                r#"{"lockfileVersion": 3, "packages": {"": {"name": "x"}, "node_modules/a": {"version": "1.0.0", "dev": true}}}"#,
                true,
            ),
            (r#"{"lockfileVersion": 3, "packages": {"node_modules/\u0061": {"version": "1\n"}}}"#, true),
            (r#"{"packages": {}, "packages": {"a": {}}, "lockfileVersion": 2.0}"#, true),
            (r#"{"lockfileVersion": 1e400, "packages": {}}"#, false),
            (
                r#"{"lockfileVersion": 2, "packages": {"a": {"workspaces": null}, "b": {"workspaces": [1, {"x": -0.5e+3}]}}}"#,
                true,
            ),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"dependencies": {"b": "1", "b": "2"}}}}"#, true),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"version": "1", "version": "2"}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"dev": null}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"name": null, "x": "\ud800"}}}"#, true),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"name": "\ud800"}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": 01}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": [1,]}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {},}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": tru}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": "\q"}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": "tab	inside"}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": 1.}}} "#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": {"x": -}}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": {"a": "string"}}"#, false),
            (r#"{"lockfileVersion": 2, "packages": null}"#, false),
            (r#"{"lockfileVersion": 2} x"#, false),
            ("[1]", false),
            ("", false),
            (" { \"dependencies\" : { \"a\" : { \"version\" : \"1\" } } } \n", true),
        ];
        for (case, answered) in cases {
            assert_eq!(agree(case.as_bytes()), *answered, "{case}");
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(120), "]".repeat(120));
        agree(deep.as_bytes());
        let invalid_utf8 = b"{\"lockfileVersion\": 2, \"packages\": {\"a\": {\"x\": \"\xff\", \"name\": \"b\"}}}";
        agree(invalid_utf8);
        let invalid_utf8_name = b"{\"lockfileVersion\": 2, \"packages\": {\"a\": {\"name\": \"\xff\"}}}";
        assert!(!agree(invalid_utf8_name));
    }

    proptest::proptest! {
        /// The word test finds the first stop byte of any eight bytes, or none when there is none.
        #[test]
        fn first_stop_of_a_word(bytes in proptest::prelude::any::<[u8; 8]>()) {
            let first = bytes.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            let marks = stops(u64::from_le_bytes(bytes));
            let found = (marks != 0).then(|| (marks.trailing_zeros() / 8) as usize);
            proptest::prop_assert_eq!(found, first);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// Damaged copies of a real lockfile: a byte replaced, removed or the text cut short.
        #[test]
        fn damaged_lockfiles_never_split_the_readers(at in 0usize..4000, byte in proptest::prelude::any::<u8>(), how in 0u8..3) {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/npm/v3-alias-bundled-flags/package-lock.json");
            let Ok(mut bytes) = fs_err::read(&path) else { return Ok(()) };
            let at = at % bytes.len().max(1);
            match how {
                0 => bytes[at] = byte,
                1 => { bytes.remove(at); }
                _ => bytes.truncate(at),
            }
            agree(&bytes);
        }
    }
}
