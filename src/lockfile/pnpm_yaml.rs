//! A fast reader for the narrow YAML subset pnpm writes to `pnpm-lock.yaml`: block mappings
//! (any consistent indentation), block sequences of scalars, plain / single-quoted /
//! double-quoted (escape-free) scalars on one line, and one-line flow collections of scalars
//! (`{integrity: sha512-...}`, `[x64]`). Spec of the full language: <https://yaml.org/spec/1.2.2/>.
//!
//! It never guesses: anything outside that subset (anchors, aliases, tags, block or
//! multi-line scalars, tabs, CR, non-ASCII, comments after values, merge keys, nested flow
//! collections, odd indentation) is [`Unsupported`], and the caller falls back to the full
//! YAML parser, which gives the same result or a proper error message.

use std::borrow::Cow;

/// The input is outside the subset this reader understands: use the full YAML parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unsupported;

pub(super) type Result<T> = std::result::Result<T, Unsupported>;

/// A scalar as written: plain (its type depends on how it is read) or quoted (a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scalar<'a> {
    Plain(&'a str),
    Quoted(Cow<'a, str>),
}

impl<'a> Scalar<'a> {
    pub(super) fn text(&self) -> &str {
        match self {
            Scalar::Plain(s) => s,
            Scalar::Quoted(s) => s,
        }
    }

    pub(super) fn into_cow(self) -> Cow<'a, str> {
        match self {
            Scalar::Plain(s) => Cow::Borrowed(s),
            Scalar::Quoted(s) => s,
        }
    }

    /// What a plain scalar resolves to when read untyped (YAML 1.2 core schema plus the 1.1
    /// words serde-saphyr also accepts, erring on the side of "not a string").
    pub(super) fn kind(&self) -> Kind {
        match self {
            Scalar::Quoted(_) => Kind::Str,
            Scalar::Plain(s) => plain_kind(s),
        }
    }
}

/// How a plain scalar resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Null,
    Bool,
    /// A short decimal number (`5`, `5.4`, `-1`).
    Number,
    /// Any other number form (hex, exponent, `_`, `.inf`, very long): may be rejected or
    /// normalized by the full parser.
    OddNumber,
    Str,
}

fn plain_kind(s: &str) -> Kind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        _ => {}
    }
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n") {
        return Kind::Bool;
    }
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, ".inf" | ".nan") || ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p)) {
        return Kind::OddNumber;
    }
    let first_numeric = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if first_numeric && lower.replace('_', "").parse::<f64>().is_ok() {
        let short_decimal = s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit() || b"+-.".contains(&b));
        return if short_decimal { Kind::Number } else { Kind::OddNumber };
    }
    Kind::Str
}

/// The value written on a key's own line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Inline<'a> {
    /// Nothing: a nested block follows, or the value is null.
    Empty,
    Scalar(Scalar<'a>),
    Map(Vec<(Scalar<'a>, Scalar<'a>)>),
    Seq(Vec<Scalar<'a>>),
}

/// One `key: value` of a block mapping.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) key: Scalar<'a>,
    pub(super) value: Inline<'a>,
    indent: usize,
}

impl<'a> Entry<'a> {
    /// An entry of a flow mapping.
    pub(super) fn inline(key: Scalar<'a>, value: Scalar<'a>) -> Self {
        Entry { key, value: Inline::Scalar(value), indent: 0 }
    }
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    body: &'a str,
}

/// A cursor over the significant lines (not blank, not comments) of a document.
pub(super) struct Reader<'a> {
    lines: Vec<Line<'a>>,
    next: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(text: &'a str) -> Result<Self> {
        // Printable ASCII and newlines only: no tabs, CR, BOM, control or non-ASCII characters.
        if text.bytes().any(|b| !(0x20..0x7f).contains(&b) && b != b'\n') {
            return Err(Unsupported);
        }
        let mut lines = Vec::with_capacity(text.len() / 24);
        for raw in text.split('\n') {
            let body = raw.trim_start_matches(' ');
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            lines.push(Line { indent: raw.len() - body.len(), body: body.trim_end_matches(' ') });
        }
        Ok(Reader { lines, next: 0 })
    }

    pub(super) fn at_end(&self) -> bool {
        self.next >= self.lines.len()
    }

    /// The indentation of the next line when it is deeper than `indent`.
    fn deeper(&self, indent: usize) -> Option<usize> {
        self.lines.get(self.next).map(|l| l.indent).filter(|&i| i > indent)
    }

    /// The next entry of the block mapping whose keys sit at `indent`; `None` when the
    /// mapping ends (a less indented line or the end of the document).
    pub(super) fn entry(&mut self, indent: usize) -> Result<Option<Entry<'a>>> {
        let Some(line) = self.lines.get(self.next).copied() else {
            return Ok(None);
        };
        if line.indent < indent {
            return Ok(None);
        }
        if line.indent > indent || is_seq_item(line.body) {
            return Err(Unsupported);
        }
        self.next += 1;
        let (key, value) = parse_entry(line.body)?;
        if value != Inline::Empty && self.deeper(indent).is_some() {
            // A multi-line scalar, or a nested block after a value.
            return Err(Unsupported);
        }
        Ok(Some(Entry { key, value, indent }))
    }

    /// The indentation of an entry's nested block; `None` when its value is inline or null.
    pub(super) fn block_of(&self, entry: &Entry<'_>) -> Option<usize> {
        if entry.value == Inline::Empty { self.deeper(entry.indent) } else { None }
    }

    /// Whether the entry's value is null (nothing inline, no nested block).
    pub(super) fn is_null(&self, entry: &Entry<'_>) -> bool {
        match &entry.value {
            Inline::Empty => self.block_of(entry).is_none(),
            Inline::Scalar(s) => s.kind() == Kind::Null,
            _ => false,
        }
    }

    /// Skips an entry's value, checking that all of it is inside the subset and holds no
    /// scalar an untyped read could reject.
    pub(super) fn skip(&mut self, entry: &Entry<'_>) -> Result<()> {
        check_skipped_key(&entry.key)?;
        match &entry.value {
            Inline::Empty => match self.block_of(entry) {
                Some(indent) => self.skip_block(indent),
                None => Ok(()),
            },
            Inline::Scalar(s) => check_skipped(s),
            Inline::Map(pairs) => pairs.iter().try_for_each(|(k, v)| check_skipped(k).and_then(|()| check_skipped(v))),
            Inline::Seq(items) => items.iter().try_for_each(check_skipped),
        }
    }

    fn skip_block(&mut self, indent: usize) -> Result<()> {
        if self.lines.get(self.next).is_some_and(|l| is_seq_item(l.body)) {
            return self.skip_seq(indent);
        }
        while let Some(entry) = self.entry(indent)? {
            self.skip(&entry)?;
        }
        Ok(())
    }

    /// A block sequence of scalars or flow collections.
    fn skip_seq(&mut self, indent: usize) -> Result<()> {
        while let Some(line) = self.lines.get(self.next).copied() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || !is_seq_item(line.body) {
                return Err(Unsupported);
            }
            self.next += 1;
            let item = line.body.get(1..).unwrap_or("").trim_start_matches(' ');
            match parse_inline(item)? {
                Inline::Empty => return Err(Unsupported),
                Inline::Scalar(s) => check_skipped(&s)?,
                Inline::Map(pairs) => {
                    pairs.iter().try_for_each(|(k, v)| check_skipped(k).and_then(|()| check_skipped(v)))?;
                }
                Inline::Seq(items) => items.iter().try_for_each(check_skipped)?,
            }
            if self.deeper(indent).is_some() {
                return Err(Unsupported);
            }
        }
        Ok(())
    }
}

fn is_seq_item(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

fn check_skipped_key(key: &Scalar<'_>) -> Result<()> {
    if key.kind() == Kind::Null { Err(Unsupported) } else { check_skipped(key) }
}

/// Skipped values are still read untyped by the full parser, which rejects some numbers.
fn check_skipped(s: &Scalar<'_>) -> Result<()> {
    if s.kind() == Kind::OddNumber { Err(Unsupported) } else { Ok(()) }
}

/// `key: value`, `key:`, `'quoted key': value`.
fn parse_entry(body: &str) -> Result<(Scalar<'_>, Inline<'_>)> {
    let (key, rest) = if body.starts_with(['\'', '"']) {
        let (key, rest) = read_quoted(body)?;
        (key, rest.strip_prefix(':').ok_or(Unsupported)?)
    } else {
        check_plain_start(body)?;
        let end = find_block_colon(body).ok_or(Unsupported)?;
        let key = &body[..end];
        if key.ends_with(' ') || key.contains(" #") || key == "<<" {
            return Err(Unsupported);
        }
        (Scalar::Plain(key), &body[end + 1..])
    };
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return Err(Unsupported);
    }
    Ok((key, parse_inline(rest.trim_start_matches(' '))?))
}

/// The first `:` followed by a space or the end of the line.
fn find_block_colon(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut from = 0;
    while let Some(i) = body.get(from..).and_then(|s| s.find(':')).map(|i| i + from) {
        match bytes.get(i + 1) {
            None | Some(b' ') => return Some(i),
            Some(_) => from = i + 1,
        }
    }
    None
}

/// Rejects the characters a plain scalar may not start with (YAML 1.2, 7.3.3).
fn check_plain_start(s: &str) -> Result<()> {
    let bytes = s.as_bytes();
    match bytes.first() {
        None => Err(Unsupported),
        Some(b'[' | b']' | b'{' | b'}' | b',' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`') => {
            Err(Unsupported)
        }
        Some(b'-' | b'?' | b':') if matches!(bytes.get(1), None | Some(b' ')) => Err(Unsupported),
        Some(_) => Ok(()),
    }
}

/// The value after `key: ` (or after `- `), already trimmed.
fn parse_inline(s: &str) -> Result<Inline<'_>> {
    match s.as_bytes().first() {
        None => Ok(Inline::Empty),
        Some(b'{') => flow(s, b'}').map(|(map, _)| Inline::Map(map)),
        Some(b'[') => flow(s, b']').map(|(_, seq)| Inline::Seq(seq)),
        Some(b'\'' | b'"') => match read_quoted(s)? {
            (scalar, "") => Ok(Inline::Scalar(scalar)),
            _ => Err(Unsupported),
        },
        Some(_) => {
            check_plain_start(s)?;
            if s.contains(": ") || s.ends_with(':') || s.contains(" #") {
                return Err(Unsupported);
            }
            Ok(Inline::Scalar(Scalar::Plain(s)))
        }
    }
}

/// A one-line flow mapping (`close` = `}`) or sequence (`]`) of scalars, which must end the
/// line. Returns the pairs of a mapping or the items of a sequence.
#[expect(clippy::type_complexity, reason = "the two shapes of one flow reader")]
fn flow(s: &str, close: u8) -> Result<(Vec<(Scalar<'_>, Scalar<'_>)>, Vec<Scalar<'_>>)> {
    let mut map = Vec::new();
    let mut seq = Vec::new();
    let mut rest = s.get(1..).ok_or(Unsupported)?.trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(close as char) {
        return if after.is_empty() { Ok((map, seq)) } else { Err(Unsupported) };
    }
    loop {
        let (first, after) = flow_scalar(rest)?;
        rest = after.trim_start_matches(' ');
        if close == b'}' {
            rest = rest.strip_prefix(": ").ok_or(Unsupported)?.trim_start_matches(' ');
            let (value, after) = flow_scalar(rest)?;
            map.push((first, value));
            rest = after.trim_start_matches(' ');
        } else {
            seq.push(first);
        }
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start_matches(' ');
            continue;
        }
        return match rest.strip_prefix(close as char) {
            Some("") => Ok((map, seq)),
            _ => Err(Unsupported),
        };
    }
}

/// A scalar inside a flow collection; returns it and the text after it.
fn flow_scalar(s: &str) -> Result<(Scalar<'_>, &str)> {
    if s.starts_with(['\'', '"']) {
        return read_quoted(s);
    }
    check_plain_start(s)?;
    let bytes = s.as_bytes();
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b',' | b'}' | b']' => {
                end = i;
                break;
            }
            b'[' | b'{' => return Err(Unsupported),
            b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b',' | b'}' | b']')) => {
                end = i;
                break;
            }
            b'#' if i > 0 && bytes.get(i - 1) == Some(&b' ') => return Err(Unsupported),
            _ => {}
        }
    }
    let text = s[..end].trim_end_matches(' ');
    if text.is_empty() {
        return Err(Unsupported);
    }
    Ok((Scalar::Plain(text), &s[end..]))
}

/// A quoted scalar at the start of `s` that ends on this line; returns it and the rest.
/// Double-quoted scalars with escapes are not in the subset.
fn read_quoted(s: &str) -> Result<(Scalar<'_>, &str)> {
    let quote = s.as_bytes().first().copied().ok_or(Unsupported)?;
    let body = s.get(1..).ok_or(Unsupported)?;
    if quote == b'"' {
        let end = body.find(['"', '\\']).ok_or(Unsupported)?;
        if body.as_bytes().get(end) != Some(&b'"') {
            return Err(Unsupported);
        }
        return Ok((Scalar::Quoted(Cow::Borrowed(&body[..end])), &body[end + 1..]));
    }
    let mut owned: Option<String> = None;
    let mut from = 0;
    loop {
        let end = body.get(from..).and_then(|b| b.find('\'')).ok_or(Unsupported)? + from;
        if body.as_bytes().get(end + 1) == Some(&b'\'') {
            // `''` is one quote.
            owned.get_or_insert_with(String::new).push_str(&body[from..=end]);
            from = end + 2;
            continue;
        }
        let value = match owned {
            Some(mut o) => {
                o.push_str(&body[from..end]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(&body[..end]),
        };
        return Ok((Scalar::Quoted(value), &body[end + 1..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Result<Vec<(String, Inline<'_>)>> {
        let mut r = Reader::new(text)?;
        let mut out = Vec::new();
        while let Some(e) = r.entry(0)? {
            r.skip(&e)?;
            out.push((e.key.text().to_owned(), e.value));
        }
        if r.at_end() { Ok(out) } else { Err(Unsupported) }
    }

    #[test]
    fn reads_the_subset() {
        let text = "a: 1\n'b''c': 'x''y'\n\"d\": \"e\"\nf:\n  g: [x64, 'arm']\n  h:\n    - one\n    - two\n# c\n\ni: {integrity: sha512-ab+/=, tarball: https://x/y.tgz}\nj: {}\n";
        let got = entries(text).expect("in the subset");
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b'c", "d", "f", "i", "j"]);
        assert_eq!(got[1].1, Inline::Scalar(Scalar::Quoted(Cow::Borrowed("x'y"))));
        let Inline::Map(pairs) = &got[4].1 else { panic!("flow map") };
        assert_eq!(pairs[1].1, Scalar::Plain("https://x/y.tgz"));
    }

    #[test]
    fn rejects_what_it_does_not_understand() {
        for text in [
            "a: &x 1\n",
            "a: *x\n",
            "a: !t 1\n",
            "a: |\n  x\n",
            "a: b\n  c\n",
            "a: 'b\n  c'\n",
            "a: \"b\\n\"\n",
            "a:\n\tb: 1\n",
            "a: 1 # c\n",
            "a: {b: {c: d}}\n",
            "a:\n  b: 1\n c: 2\n",
            "a:\n- b\n",
            "<<: {a: 1}\n",
            "a: .inf\n",
            "a: 0x10\n",
            "? a\n: b\n",
            "---\na: 1\n",
            "a: b: c\n",
            "a: {b: c,}\n",
            "a: [b\n",
            "a: caf\u{e9}\n",
        ] {
            assert_eq!(entries(text).err(), Some(Unsupported), "{text:?}");
        }
    }

    #[test]
    fn plain_kinds() {
        for (s, kind) in [
            ("1.0.0", Kind::Str),
            ("5.4", Kind::Number),
            ("5", Kind::Number),
            ("1e3", Kind::OddNumber),
            ("1_000", Kind::OddNumber),
            ("~", Kind::Null),
            ("yes", Kind::Bool),
            ("link:../a", Kind::Str),
            ("-", Kind::Str),
        ] {
            assert_eq!(Scalar::Plain(s).kind(), kind, "{s}");
        }
    }
}
