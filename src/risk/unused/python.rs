//! Python import scanner: a small tokenizer over logical lines (Python reference, §2.1 line
//! structure and §7.11 the import statement) that finds `import a.b as c` and
//! `from x import y` anywhere a statement starts (inside functions, `try`, after `;` or a `:`),
//! skipping comments and every kind of string literal. Relative imports keep their dots.

use super::Import;

/// One token of a logical line, as far as imports care.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Name(&'a str),
    Dot,
    Comma,
    Star,
    Open,
    Close,
    /// `;` or a `:` at bracket depth 0: another statement may start after it.
    StatementEnd,
    Other,
}

/// The imports of one Python file, in source order. `from M import a, b` yields `M`, `M.a` and
/// `M.b` (a name may be a submodule; the resolver tries it and the package mapping only needs
/// the first segment); relative modules start with their dots (`.`, `..pkg.mod`).
pub fn scan(src: &str) -> Vec<Import> {
    scan_with(src, true)
}

/// [`scan`]; with `skip`, the rest of a statement that does not start with `import` or `from` is
/// passed over up to the next byte that can end it or hide a newline (tests compare both ways).
fn scan_with(src: &str, skip: bool) -> Vec<Import> {
    let mut out = Vec::new();
    let mut toks = Tokens::default();
    let b = src.as_bytes();
    let (mut i, mut line, mut depth) = (0usize, 1u32, 0u32);
    loop {
        if skip && toks.passing() {
            i += b.get(i..).unwrap_or_default().iter().take_while(|&&c| !ENDS_OR_HIDES[usize::from(c)]).count();
        }
        let Some(&c) = b.get(i) else { break };
        match c {
            b'\n' => {
                line += 1;
                i += 1;
                if depth == 0 {
                    toks.end_line(&mut out);
                }
            }
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                i += 2;
                line += 1;
            }
            b'#' => {
                let rest = b.get(i..).unwrap_or_default();
                i += memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            }
            b'\'' | b'"' => {
                (i, line) = skip_string(b, i, line);
                toks.push(Tok::Other, line);
            }
            b'.' => {
                toks.push(Tok::Dot, line);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma, line);
                i += 1;
            }
            b'*' => {
                toks.push(Tok::Star, line);
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                toks.push(Tok::Open, line);
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                toks.push(Tok::Close, line);
                i += 1;
            }
            b';' | b':' if depth == 0 => {
                toks.push(Tok::StatementEnd, line);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while b.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) {
                    i += 1;
                }
                // a string prefix (r"", b'', f"", rb"", ...) belongs to the string
                if matches!(b.get(i), Some(b'\'' | b'"')) && i - start <= 2 {
                    (i, line) = skip_string(b, i, line);
                    toks.push(Tok::Other, line);
                } else {
                    toks.push(Tok::Name(src.get(start..i).unwrap_or_default()), line);
                }
            }
            // a run of blanks at once (indentation)
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                i += 1;
                while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\x0c')) {
                    i += 1;
                }
            }
            _ => {
                toks.push(Tok::Other, line);
                i += 1;
            }
        }
    }
    toks.end_line(&mut out);
    out
}

/// The tokens of the logical line being read, kept only from the first `import` or `from`
/// that starts a statement: what comes before it cannot belong to an import statement.
#[derive(Default)]
struct Tokens<'a> {
    toks: Vec<(Tok<'a>, u32)>,
    /// Whether the next token starts a statement (the line's first, or after `;` / `:`).
    mid_statement: bool,
}

impl<'a> Tokens<'a> {
    /// Whether the statement being read cannot be an import: until it ends, tokens change
    /// nothing but the bracket depth and the line.
    fn passing(&self) -> bool {
        self.mid_statement && self.toks.is_empty()
    }

    fn push(&mut self, tok: Tok<'a>, line: u32) {
        let at_start = !self.mid_statement;
        self.mid_statement = tok != Tok::StatementEnd;
        if !self.toks.is_empty() || (at_start && matches!(tok, Tok::Name("import" | "from"))) {
            self.toks.push((tok, line));
        }
    }

    fn end_line(&mut self, out: &mut Vec<Import>) {
        statements(&self.toks, out);
        self.toks.clear();
        self.mid_statement = false;
    }
}

/// The bytes [`scan`] must look at inside a statement that is not an import: newlines, a `\`
/// (before a newline, it continues the line), comments, strings, brackets, and `;` / `:`.
static ENDS_OR_HIDES: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = b"\n\\#'\"([{)]};:";
    let mut k = 0;
    while k < bytes.len() {
        table[bytes[k] as usize] = true;
        k += 1;
    }
    table
};

/// Skips the string starting at `b[i]` (a quote); returns the index after it and the line.
fn skip_string(b: &[u8], mut i: usize, mut line: u32) -> (usize, u32) {
    let q = b.get(i).copied().unwrap_or(b'"');
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    i += if triple { 3 } else { 1 };
    loop {
        // the run of bytes that are neither the quote, a backslash nor a newline
        i += memchr::memchr3(q, b'\\', b'\n', b.get(i..).unwrap_or_default()).unwrap_or(b.len().saturating_sub(i));
        let Some(&c) = b.get(i) else { break };
        match c {
            b'\\' => {
                if b.get(i + 1) == Some(&b'\n') {
                    line += 1;
                }
                i += 2;
            }
            b'\n' if !triple => return (i, line), // unterminated: ends at the line
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if !triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q)) => {
                return (i + if triple { 3 } else { 1 }, line);
            }
            _ => i += 1,
        }
    }
    (i, line)
}

/// Finds the import statements of one logical line.
fn statements(toks: &[(Tok<'_>, u32)], out: &mut Vec<Import>) {
    let mut at_start = true;
    for (k, (tok, line)) in toks.iter().enumerate() {
        if at_start {
            match tok {
                Tok::Name("import") => import_names(toks.get(k + 1..).unwrap_or_default(), *line, out),
                Tok::Name("from") => from_import(toks.get(k + 1..).unwrap_or_default(), *line, out),
                _ => {}
            }
        }
        at_start = matches!(tok, Tok::StatementEnd);
    }
}

/// A dotted name at the front of `toks` (with leading dots when `relative`), and the rest.
fn dotted<'t, 'a>(mut toks: &'t [(Tok<'a>, u32)], relative: bool) -> (String, &'t [(Tok<'a>, u32)]) {
    let mut name = String::new();
    if relative {
        while let Some(((Tok::Dot, _), rest)) = toks.split_first() {
            name.push('.');
            toks = rest;
        }
    }
    let mut want_name = true;
    while let Some(((tok, _), rest)) = toks.split_first() {
        match tok {
            Tok::Name(n) if want_name && (*n != "import" || name.is_empty() && !relative) => {
                name.push_str(n);
                want_name = false;
            }
            Tok::Dot if !want_name => {
                name.push('.');
                want_name = true;
            }
            _ => break,
        }
        toks = rest;
    }
    (name, toks)
}

/// `import a.b as c, d`
fn import_names(mut toks: &[(Tok<'_>, u32)], line: u32, out: &mut Vec<Import>) {
    loop {
        let (name, rest) = dotted(toks, false);
        if name.is_empty() || name.ends_with('.') {
            return;
        }
        out.push(Import { spec: name, line, type_only: false });
        toks = rest;
        if let Some(((Tok::Name("as"), _), rest)) = toks.split_first() {
            toks = rest.get(1..).unwrap_or_default();
        }
        match toks.split_first() {
            Some(((Tok::Comma, _), rest)) => toks = rest,
            _ => return,
        }
    }
}

/// `from .x import (a as b, c)`
fn from_import(toks: &[(Tok<'_>, u32)], line: u32, out: &mut Vec<Import>) {
    let (module, rest) = dotted(toks, true);
    let Some(((Tok::Name("import"), _), mut rest)) = rest.split_first() else { return };
    if module.is_empty() {
        return;
    }
    out.push(Import { spec: module.clone(), line, type_only: false });
    if let Some(((Tok::Open, _), inner)) = rest.split_first() {
        rest = inner;
    }
    let sep = if module.ends_with('.') { "" } else { "." };
    while let Some(((tok, _), tail)) = rest.split_first() {
        match tok {
            Tok::Name("as") => rest = tail.get(1..).unwrap_or_default(),
            Tok::Name(n) => {
                out.push(Import { spec: format!("{module}{sep}{n}"), line, type_only: false });
                rest = tail;
            }
            Tok::Comma => rest = tail,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(src: &str) -> Vec<(String, u32)> {
        scan(src).into_iter().map(|i| (i.spec, i.line)).collect()
    }

    #[test]
    fn finds_imports_in_all_statement_positions() {
        let src = "import os, a.b as c\nfrom x.y import (z,\n   w as v)\ndef f():\n    import inner\ntry: import fast\nexcept ImportError: pass\nx = 1; import semi\nfrom . import sib\nfrom ..pkg.mod import thing\nfrom .. import up\nfrom m import *\n";
        let got = specs(src);
        let want = [
            ("os", 1),
            ("a.b", 1),
            ("x.y", 2),
            ("x.y.z", 2),
            ("x.y.w", 2),
            ("inner", 5),
            ("fast", 6),
            ("semi", 8),
            (".", 9),
            (".sib", 9),
            ("..pkg.mod", 10),
            ("..pkg.mod.thing", 10),
            ("..", 11),
            ("..up", 11),
            ("m", 12),
        ];
        let want: Vec<_> = want.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn skips_strings_comments_and_non_statements() {
        let src = "# import a\ns = 'import b'\nd = \"\"\"\nimport c\n\"\"\"\nraise E from err\nyield from gen\nf = rb'import d'\nx = f\"{'import e'}\"\nimport real\n";
        assert_eq!(specs(src), [("real".to_owned(), 10)]);
    }

    /// Pieces of Python whose order decides what the scanner sees: statement starts and ends,
    /// brackets, every kind of string (prefixed, triple, unterminated), comments, continuations.
    const PIECES: &[&str] = &[
        "import",
        "from",
        "as",
        "x",
        "rb",
        "f",
        "é",
        ".",
        ",",
        "*",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\\",
        "\\\n",
        "#",
        ";",
        ":",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "'",
        "\"",
        "'''",
        "\"\"\"",
        "'a'",
        "=",
        "1",
        "import a",
        "from b import c",
        "x: ",
        "x; ",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn passing_over_statements_finds_what_reading_every_byte_finds(
            picks in proptest::collection::vec(0..PIECES.len(), 0..80)
        ) {
            let src: String = picks.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            proptest::prop_assert_eq!(scan_with(&src, true), scan_with(&src, false), "{:?}", src);
        }

        /// Jumping to the next quote, backslash or newline in a string ends it where looking at
        /// every byte ends it, with the same line.
        #[test]
        fn strings_end_where_reading_every_byte_ends_them(
            picks in proptest::collection::vec(0..PIECES.len(), 0..80)
        ) {
            let src: String = picks.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            let b = src.as_bytes();
            for (at, _) in src.match_indices(['\'', '"']) {
                proptest::prop_assert_eq!(skip_string(b, at, 1), skip_string_by_byte(b, at, 1), "{:?} at {}", src, at);
            }
        }
    }

    /// [`skip_string`] one byte at a time (the reference).
    fn skip_string_by_byte(b: &[u8], mut i: usize, mut line: u32) -> (usize, u32) {
        let q = b.get(i).copied().unwrap_or(b'"');
        let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
        i += if triple { 3 } else { 1 };
        while let Some(&c) = b.get(i) {
            match c {
                b'\\' => {
                    if b.get(i + 1) == Some(&b'\n') {
                        line += 1;
                    }
                    i += 2;
                }
                b'\n' if !triple => return (i, line),
                b'\n' => {
                    line += 1;
                    i += 1;
                }
                c if c == q && (!triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q))) => {
                    return (i + if triple { 3 } else { 1 }, line);
                }
                _ => i += 1,
            }
        }
        (i, line)
    }

    /// Every `.py` file under `dir`, symlinks not followed.
    fn python_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.filter_map(Result::ok) {
            let Ok(kind) = e.file_type() else { continue };
            let path = e.path();
            if kind.is_dir() {
                python_files(&path, out);
            } else if kind.is_file() && path.extension().is_some_and(|x| x == "py") {
                out.push(path);
            }
        }
    }

    #[test]
    #[ignore = "reads the Python files of /usr/lib/python3*: passing over statements against reading every byte"]
    #[expect(clippy::print_stdout, reason = "the test reports how much it compared")]
    fn passing_over_statements_changes_nothing_on_the_standard_library() {
        let mut files = Vec::new();
        for dir in std::fs::read_dir("/usr/lib").into_iter().flatten().filter_map(Result::ok) {
            if dir.file_name().to_string_lossy().starts_with("python3") {
                python_files(&dir.path(), &mut files);
            }
        }
        if files.is_empty() {
            println!("no /usr/lib/python3* on this machine: nothing compared");
            return;
        }
        let (mut imports, mut differ) = (0usize, Vec::new());
        for path in &files {
            let Ok(raw) = std::fs::read(path) else { continue };
            let text = String::from_utf8_lossy(&raw);
            let (fast, slow) = (scan_with(&text, true), scan_with(&text, false));
            imports += slow.len();
            if fast != slow {
                differ.push(path.display().to_string());
            }
        }
        println!("{} files, {imports} imports compared; {} differ", files.len(), differ.len());
        assert!(differ.is_empty(), "{}", differ.iter().take(20).cloned().collect::<Vec<_>>().join("\n"));
    }

    #[test]
    fn backslash_continuation_keeps_one_statement() {
        assert_eq!(specs("from a import \\\n  b\n"), [("a".to_owned(), 1), ("a.b".to_owned(), 1)]);
    }
}
