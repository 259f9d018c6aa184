//! The one escaping module for untrusted text (package names, versions, paths, advisory text,
//! registry metadata, error messages quoting input): one function per output context, so every
//! reporter and every CLI line applies the same rules.
//!
//! - [`terminal`]: one line, control characters shown as Rust escapes (`\u{1b}`), invisible
//!   characters shown the same way, no GitHub workflow command (`::error::` at the start of a
//!   line even after the runner trims the indentation, the legacy `##[error]` anywhere), capped
//!   at [`MAX_CHARS`].
//! - [`markdown`] and [`markdown_code`]: GitHub Flavored Markdown (<https://github.github.com/gfm/>)
//!   that renders the text and nothing else: no HTML, links, autolinks (GFM's extended autolinks
//!   and GitHub's later pass over text nodes), mentions, emphasis, math or table breaks; one line;
//!   capped at [`MAX_CHARS`].
//! - [`one_line`]: plain text for SARIF and CycloneDX fields: one line, no control characters,
//!   invisible characters shown as escapes.
//! - [`html`]: HTML element content and quoted attribute values (the HTML report): `& < > " '`
//!   as character references, control characters dropped (tab and newline kept), invisible
//!   characters shown as escapes.
//! - [`to_json_writer`]: JSON with every invisible character written as a `\uXXXX` escape, so the
//!   data stays exact while the bytes hold no raw bidi override (Trojan Source, CVE-2021-42574).
//!
//! "Invisible" ([`is_invisible`]): the bidi embedding, override and isolate controls (U+202A–U+202E,
//! U+2066–U+2069), the zero-width characters and marks (U+200B–U+200F, U+2060–U+2064, U+FEFF),
//! U+061C, U+180E and the Unicode line and paragraph separators (U+2028, U+2029).

use std::fmt::Write as _;
use std::io;

use serde::Serialize;

/// Makes text inert in HTML element content and in double- or single-quoted attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c if is_invisible(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Longest untrusted text shown in one field of the table and Markdown reports, in characters.
pub const MAX_CHARS: usize = 1_000;

/// Characters that change how the text around them is shown without being seen themselves.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `text` cut to `max` characters, with an ellipsis when it was longer.
pub fn cap(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// `\u{202e}`: how a control or invisible character is shown.
fn push_escaped(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// Untrusted text for a terminal (the table report and every CLI line): control characters as
/// Rust escapes (`\n`, `\u{1b}`), invisible characters as `\u{202e}`, at most [`MAX_CHARS`]
/// characters, a `::` workflow command at its start (after any blanks, which a GitHub runner
/// trims) broken as `\u{3a}:`, and the legacy `##[` prefix broken as `\u{23}#[` anywhere.
pub fn terminal(text: &str) -> String {
    let text = cap(text, MAX_CHARS);
    let body = text.trim_start();
    let mut out = String::with_capacity(text.len());
    push_terminal(&mut out, &text[..text.len() - body.len()]);
    let body = match body.strip_prefix(':') {
        Some(rest) if rest.starts_with(':') => {
            push_escaped(&mut out, ':');
            rest
        }
        _ => body,
    };
    push_terminal(&mut out, body);
    no_legacy_command(out)
}

/// The runner honours the legacy `##[command]` prefix anywhere in a line: its first `#` becomes
/// `\u{23}`.
fn no_legacy_command(text: String) -> String {
    if text.contains("##[") { text.replace("##[", "\\u{23}#[") } else { text }
}

fn push_terminal(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if is_invisible(c) {
            push_escaped(out, c);
        } else {
            out.push(c);
        }
    }
}

/// Untrusted text for a Markdown line or table cell: Markdown punctuation backslash-escaped,
/// HTML characters as entities, newlines and tabs as spaces, other control characters dropped,
/// invisible characters as `\u{202e}`, `::` escaped, at most [`MAX_CHARS`] characters. What GitHub
/// would turn into a link or a mention (`://`, `www.`, `@name`) has its `:`, `.` or `@` in a
/// one-character code span: GitHub links neither inside code nor across it, at parse time or in
/// its later pass over text.
pub fn markdown(text: &str) -> String {
    let text = cap(text, MAX_CHARS);
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text.as_ref();
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match c {
            ':' if after.starts_with("//") => out.push_str("`:`"),
            ':' if after.starts_with(':') || out.ends_with(':') => out.push_str("\\:"),
            '.' if ends_with_www(&out) => out.push_str("`.`"),
            '@' if after.starts_with(|c: char| c.is_alphanumeric()) => out.push_str("`@`"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c if is_invisible(c) => push_escaped(&mut out, c),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' | '`' | '[' | ']' | '*' | '_' | '\\' | '~' | '#' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        rest = after;
    }
    out
}

/// Whether `out` ends with `www` that starts a word (a GFM extended www autolink would follow).
fn ends_with_www(out: &str) -> bool {
    let Some(head) = out.len().checked_sub(3).and_then(|i| out.get(i..).map(|w| (i, w))) else { return false };
    let (i, www) = head;
    www.eq_ignore_ascii_case("www") && !out[..i].ends_with(|c: char| c.is_alphanumeric())
}

/// Untrusted text as a Markdown code span (package names, versions, paths: shown exactly, never
/// a link, mention or HTML): control characters dropped (whitespace ones as spaces), invisible
/// characters as `\u{202e}`, `|` escaped for tables, `##[` as `\u{23}#[` (a code span is still a
/// line of a log when the report is printed), the fence one backtick longer than any run inside,
/// at most [`MAX_CHARS`] characters. Empty text gives an empty string.
pub fn markdown_code(text: &str) -> String {
    let text = cap(text, MAX_CHARS);
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            if c.is_whitespace() {
                clean.push(' ');
            }
        } else if is_invisible(c) {
            push_escaped(&mut clean, c);
        } else if c == '|' {
            clean.push_str("\\|");
        } else {
            clean.push(c);
        }
    }
    let clean = no_legacy_command(clean);
    let text = clean.trim();
    if text.is_empty() {
        return String::new();
    }
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Untrusted text for a one-line field of SARIF or CycloneDX: control characters dropped
/// (whitespace ones as spaces), invisible characters as `\u{202e}`. Not capped: these files are
/// the complete record.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            if c.is_whitespace() {
                out.push(' ');
            }
        } else if is_invisible(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `value` as pretty JSON (two-space indents, as `serde_json::to_writer_pretty`) with
/// every invisible character escaped as `\uXXXX`, and the `#` that starts a legacy `##[` workflow
/// command as `\u0023`: the same data, no raw bidi control or command in the file (which may be
/// printed to a CI log).
pub fn to_json_writer<T: Serialize + ?Sized>(out: &mut dyn io::Write, value: &T) -> io::Result<()> {
    // The serializer writes a few bytes at a time: into a buffer of its own, not through `dyn`.
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    let mut ser =
        serde_json::Serializer::with_formatter(&mut buffered, VisibleJson(serde_json::ser::PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::other)?;
    io::Write::flush(&mut buffered)
}

/// [`to_json_writer`] into a buffer.
pub fn to_json_vec<T: Serialize + ?Sized>(value: &T) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    to_json_writer(&mut bytes, value)?;
    Ok(bytes)
}

/// The first UTF-8 byte of every character [`VisibleJson`] escapes: `#`, and those of the
/// [`is_invisible`] characters (U+061C, U+180E, U+200B..U+2069, U+FEFF).
const ESCAPE_LEADS: [u8; 5] = [b'#', 0xD8, 0xE1, 0xE2, 0xEF];

/// [`ESCAPE_LEADS`] as a table by byte value (one load per byte, not five compares).
static IS_ESCAPE_LEAD: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < ESCAPE_LEADS.len() {
        table[ESCAPE_LEADS[i] as usize] = true;
        i += 1;
    }
    table
};

/// serde_json's pretty formatter, with invisible characters in strings written as escapes.
struct VisibleJson<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for VisibleJson<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            // Most text has no character to escape: only these bytes start one, and none of them
            // is a UTF-8 continuation byte, so `i` is a character boundary.
            if !IS_ESCAPE_LEAD[usize::from(b)] {
                continue;
            }
            let Some(c) = fragment[i..].chars().next() else { continue };
            if is_invisible(c) || (c == '#' && fragment[i..].starts_with("##[")) {
                writer.write_all(&bytes[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&bytes[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile inputs, each run through every context. Columns: input, terminal, Markdown,
    /// Markdown code span, one-line text.
    const TABLE: &[(&str, &str, &str, &str, &str)] = &[
        ("plain text 1.2.3", "plain text 1.2.3", "plain text 1.2.3", "`plain text 1.2.3`", "plain text 1.2.3"),
        ("::error::pwned", "\\u{3a}:error::pwned", "\\:\\:error\\:\\:pwned", "`::error::pwned`", "::error::pwned"),
        (
            "   ::warning file=x::y",
            "   \\u{3a}:warning file=x::y",
            "   \\:\\:warning file=x\\:\\:y",
            "`::warning file=x::y`",
            "   ::warning file=x::y",
        ),
        ("##[error]x", "\\u{23}#[error]x", "\\#\\#\\[error\\]x", "`\\u{23}#[error]x`", "##[error]x"),
        ("a ###[group]b", "a #\\u{23}#[group]b", "a \\#\\#\\#\\[group\\]b", "`a #\\u{23}#[group]b`", "a ###[group]b"),
        ("a\n::error::b\r\n", "a\\n::error::b\\r\\n", "a \\:\\:error\\:\\:b  ", "`a ::error::b`", "a ::error::b  "),
        ("\u{1b}[31mred\u{7}", "\\u{1b}[31mred\\u{7}", "\\[31mred", "`[31mred`", "[31mred"),
        (
            "evil\u{202e}txt.exe\u{200b}\u{feff}",
            "evil\\u{202e}txt.exe\\u{200b}\\u{feff}",
            "evil\\u{202e}txt.exe\\u{200b}\\u{feff}",
            "`evil\\u{202e}txt.exe\\u{200b}\\u{feff}`",
            "evil\\u{202e}txt.exe\\u{200b}\\u{feff}",
        ),
        (
            "\u{2066}isolate\u{2069} \u{2060}join",
            "\\u{2066}isolate\\u{2069} \\u{2060}join",
            "\\u{2066}isolate\\u{2069} \\u{2060}join",
            "`\\u{2066}isolate\\u{2069} \\u{2060}join`",
            "\\u{2066}isolate\\u{2069} \\u{2060}join",
        ),
        (
            "<script>alert(1)</script> & |",
            "<script>alert(1)</script> & |",
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\|",
            "`<script>alert(1)</script> & \\|`",
            "<script>alert(1)</script> & |",
        ),
        (
            "see https://evil.example/x and WWW.evil.example, mail a@b.io",
            "see https://evil.example/x and WWW.evil.example, mail a@b.io",
            "see https`:`//evil.example/x and WWW`.`evil.example, mail a`@`b.io",
            "`see https://evil.example/x and WWW.evil.example, mail a@b.io`",
            "see https://evil.example/x and WWW.evil.example, mail a@b.io",
        ),
        (
            "[x](javascript:1) *b* _i_ ~s~ $m$ !",
            "[x](javascript:1) *b* _i_ ~s~ $m$ !",
            "\\[x\\](javascript:1) \\*b\\* \\_i\\_ \\~s\\~ \\$m\\$ \\!",
            "`[x](javascript:1) *b* _i_ ~s~ $m$ !`",
            "[x](javascript:1) *b* _i_ ~s~ $m$ !",
        ),
        ("a`b``c", "a`b``c", "a\\`b\\`\\`c", "```a`b``c```", "a`b``c"),
        ("many @ signs @@x", "many @ signs @@x", "many @ signs @`@`x", "`many @ signs @@x`", "many @ signs @@x"),
        ("`edge`", "`edge`", "\\`edge\\`", "`` `edge` ``", "`edge`"),
        ("tls.wwwroot.www", "tls.wwwroot.www", "tls.wwwroot.www", "`tls.wwwroot.www`", "tls.wwwroot.www"),
        ("\t\u{7}", "\\t\\u{7}", " ", "", " "),
    ];

    #[test]
    fn hostile_inputs_in_every_context() {
        for (input, term, md, code, line) in TABLE {
            assert_eq!(terminal(input), *term, "terminal: {input:?}");
            assert_eq!(markdown(input), *md, "markdown: {input:?}");
            assert_eq!(markdown_code(input), *code, "code span: {input:?}");
            assert_eq!(one_line(input), *line, "one line: {input:?}");
            let json = String::from_utf8(to_json_vec(input).expect("json")).expect("utf-8");
            assert_eq!(serde_json::from_str::<String>(&json).expect("valid JSON"), *input, "JSON keeps the data");
            for out in [terminal(input), markdown(input), markdown_code(input), one_line(input), json] {
                assert!(!out.chars().any(|c| is_invisible(c) || (c.is_control() && c != ' ')), "{out:?}");
                assert!(!out.contains('\n'), "{out:?}");
            }
        }
    }

    #[test]
    fn nothing_is_a_workflow_command_after_trimming() {
        for (input, ..) in TABLE {
            let term = terminal(input);
            let trimmed = term.trim_start();
            assert!(!trimmed.starts_with("::") && !term.contains("##["), "{input:?} -> {term:?}");
            assert!(!markdown_code(input).contains("##["), "{input:?}");
            assert!(!String::from_utf8(to_json_vec(input).expect("json")).expect("utf-8").contains("##["));
        }
    }

    #[test]
    fn every_escaped_character_starts_with_a_byte_the_json_writer_looks_for() {
        let mut buf = [0; 4];
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if is_invisible(c) || c == '#' {
                let first = c.encode_utf8(&mut buf).as_bytes()[0];
                assert!(ESCAPE_LEADS.contains(&first), "{c:?} starts with {first:#x}");
            }
        }
        // And the writer escapes them wherever they are in a string.
        let text = "a\u{202e}b\u{feff}##[c\u{061c}\u{180e}é#x";
        let json = String::from_utf8(to_json_vec(text).expect("json")).expect("utf-8");
        assert_eq!(json, r#""a\u202eb\ufeff\u0023#[c\u061c\u180eé#x""#);
    }

    #[test]
    fn long_text_is_capped() {
        let long = "é".repeat(200_000);
        for out in [terminal(&long), markdown(&long), markdown_code(&long)] {
            assert_eq!(out.trim_matches('`').chars().count(), MAX_CHARS + 1, "{} chars", out.len());
            assert!(out.trim_matches('`').ends_with('…'));
        }
        assert_eq!(one_line(&long), long, "SARIF and CycloneDX keep the whole text");
        assert_eq!(cap("short", 10), "short");
        assert_eq!(cap("abcdef", 3), "abc…");
    }

    #[test]
    fn json_is_pretty_and_escapes_only_invisible_characters_and_commands() {
        let value = serde_json::json!({"a": ["x\u{202e}y", "é\n"], "b": {}});
        let text = String::from_utf8(to_json_vec(&value).expect("json")).expect("utf-8");
        let plain = serde_json::to_string_pretty(&serde_json::json!({"a": ["x\\u202ey", "é\n"], "b": {}}))
            .expect("json")
            .replace("\\\\u202e", "\\u202e");
        assert_eq!(text, plain);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).expect("valid"), value);
    }
}
