//! The JavaScript import scanner as it was before it learned to jump between interesting bytes
//! (kept for tests only): the ignored differential test runs both over every JavaScript and
//! TypeScript file of `/usr/lib/node_modules` and `../shared/corpus` and wants the same imports.

use super::Import;

/// The imports of one JavaScript or TypeScript file, in source order.
pub fn scan(src: &str) -> Vec<Import> {
    Lexer { b: src.as_bytes(), src, i: 0, line: 1, out: Vec::new(), last: Last::Start, templates: Vec::new() }.run()
}

/// What the previous significant token was: decides whether `/` starts a regex.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    /// An identifier, number, string, `)` or `]`: a `/` after it divides.
    Operand,
    /// A keyword after which an expression starts (`return /x/`).
    Keyword,
    Punct,
    /// `.`: the next identifier is a property (`a.import`, `obj.require(...)`).
    Dot,
}

struct Lexer<'a> {
    b: &'a [u8],
    src: &'a str,
    i: usize,
    line: u32,
    out: Vec<Import>,
    last: Last,
    /// Brace depth at which each open template literal's `${` started.
    templates: Vec<usize>,
}

impl<'a> Lexer<'a> {
    fn run(mut self) -> Vec<Import> {
        let mut depth = 0usize;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'/' if self.peek(1) == Some(b'/') => self.skip_line(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment(),
                b'/' if matches!(self.last, Last::Start | Last::Punct | Last::Keyword) => {
                    self.skip_regex();
                    self.last = Last::Operand;
                }
                b'\'' | b'"' => {
                    self.skip_string(c);
                    self.last = Last::Operand;
                }
                b'`' => {
                    self.i += 1;
                    self.skip_template(&mut depth);
                }
                b'{' => {
                    depth += 1;
                    self.i += 1;
                    self.last = Last::Punct;
                }
                b'}' => {
                    if self.templates.last() == Some(&depth) {
                        self.templates.pop();
                        depth -= 1;
                        self.i += 1;
                        self.skip_template(&mut depth);
                        continue;
                    }
                    depth = depth.saturating_sub(1);
                    self.i += 1;
                    self.last = Last::Punct;
                }
                b')' | b']' => {
                    self.i += 1;
                    self.last = Last::Operand;
                }
                b'.' if !self.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                    self.i += 1;
                    self.last = if self.peek(0) == Some(b'.') { Last::Punct } else { Last::Dot };
                    while self.peek(0) == Some(b'.') {
                        self.i += 1;
                    }
                }
                c if is_ident_start(c) => self.ident(),
                c if c.is_ascii_digit() || c == b'.' => {
                    while self.peek(0).is_some_and(|d| d.is_ascii_alphanumeric() || d == b'.' || d == b'_') {
                        self.i += 1;
                    }
                    self.last = Last::Operand;
                }
                _ => {
                    self.i += 1;
                    self.last = Last::Punct;
                }
            }
        }
        self.out
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.i + ahead).copied()
    }

    fn skip_line(&mut self) {
        self.i += memchr::memchr(b'\n', self.rest()).unwrap_or(self.rest().len());
    }

    /// The bytes from the cursor on.
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or_default()
    }

    fn skip_block_comment(&mut self) {
        self.i += 2;
        let rest = self.rest();
        let end = rest.windows(2).position(|w| w == b"*/");
        let body = rest.get(..end.unwrap_or(rest.len())).unwrap_or_default();
        self.line += count_newlines(body);
        self.i += end.map_or(rest.len(), |e| e + 2);
    }

    /// Skips a quoted string; returns its contents when it has no escapes and stays on one line.
    fn skip_string(&mut self, quote: u8) -> Option<&'a str> {
        self.i += 1;
        let start = self.i;
        let mut plain = true;
        loop {
            // the run of bytes that are neither the quote, a backslash nor a newline
            self.i +=
                self.rest().iter().position(|&c| c == quote || c == b'\\' || c == b'\n').unwrap_or(self.rest().len());
            let Some(c) = self.peek(0) else { break };
            match c {
                b'\\' => {
                    plain = false;
                    if self.peek(1) == Some(b'\n') {
                        self.line += 1;
                    }
                    self.i += 2;
                }
                b'\n' => return None, // unterminated: JavaScript strings end at the line
                c if c == quote => {
                    let end = self.i;
                    self.i += 1;
                    return if plain { self.src.get(start..end) } else { None };
                }
                _ => self.i += 1,
            }
        }
        None
    }

    /// Skips template text up to the closing backtick or a `${`, which opens code.
    fn skip_template(&mut self, depth: &mut usize) {
        while let Some(c) = self.peek(0) {
            match c {
                b'\\' => self.i += 2,
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b'`' => {
                    self.i += 1;
                    self.last = Last::Operand;
                    return;
                }
                b'$' if self.peek(1) == Some(b'{') => {
                    self.i += 2;
                    *depth += 1;
                    self.templates.push(*depth);
                    self.last = Last::Punct;
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    fn skip_regex(&mut self) {
        self.i += 1;
        let mut class = false;
        while let Some(c) = self.peek(0) {
            match c {
                b'\\' => self.i += 2,
                b'\n' => return,
                b'[' => {
                    class = true;
                    self.i += 1;
                }
                b']' => {
                    class = false;
                    self.i += 1;
                }
                b'/' if !class => {
                    self.i += 1;
                    while self.peek(0).is_some_and(|f| f.is_ascii_alphabetic()) {
                        self.i += 1;
                    }
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    fn skip_ws(&mut self) {
        loop {
            match self.peek(0) {
                Some(b' ' | b'\t' | b'\r') => self.i += 1,
                Some(b'\n') => {
                    self.line += 1;
                    self.i += 1;
                }
                Some(b'/') if self.peek(1) == Some(b'/') => self.skip_line(),
                Some(b'/') if self.peek(1) == Some(b'*') => self.skip_block_comment(),
                _ => return,
            }
        }
    }

    fn read_ident(&mut self) -> &'a str {
        let start = self.i;
        self.i += self.rest().iter().position(|&c| !is_ident_char(c)).unwrap_or(self.rest().len());
        self.src.get(start..self.i).unwrap_or_default()
    }

    fn ident(&mut self) {
        let after_dot = self.last == Last::Dot;
        let word = self.read_ident();
        // One match for both questions (does a `/` after the word start a regex, does the word
        // import), on bytes: a decision tree on length and bytes rather than string compares.
        let action: Option<fn(&mut Self)> = match word.as_bytes() {
            b"import" => Some(Self::after_import),
            b"export" => Some(Self::after_export),
            b"require" => Some(|l: &mut Self| l.call_with_literal(false)),
            b"from" => Some(Self::literal_after_from),
            // keywords after which an expression starts: a `/` after them begins a regex
            b"return" | b"typeof" | b"instanceof" | b"in" | b"of" | b"new" | b"delete" | b"void" | b"throw"
            | b"case" | b"do" | b"else" | b"yield" | b"await" => {
                self.last = Last::Keyword;
                return;
            }
            _ => None,
        };
        self.last = Last::Operand;
        if let Some(action) = action.filter(|_| !after_dot) {
            action(self);
        }
    }

    /// `import "x"`, `import(...)`, `import type ... from` (type-only), `import x = require(...)`.
    fn after_import(&mut self) {
        let save = (self.i, self.line);
        self.skip_ws();
        match self.peek(0) {
            Some(q @ (b'"' | b'\'')) => self.literal(q, false),
            Some(b'(') => {
                (self.i, self.line) = save;
                self.call_with_literal(false);
            }
            Some(c) if is_ident_start(c) => {
                let start = (self.i, self.line);
                if self.read_ident() == "type" {
                    self.skip_ws();
                    // `import type X from "y"` / `import type { X } from "y"`, but not `import type from "y"`
                    if self.peek(0).is_some_and(|c| c == b'{' || c == b'*' || is_ident_start(c)) {
                        let at = (self.i, self.line);
                        let next = self.read_ident();
                        if next != "from" {
                            self.type_only_from();
                            return;
                        }
                        (self.i, self.line) = at;
                    }
                }
                (self.i, self.line) = start;
            }
            _ => (self.i, self.line) = save,
        }
    }

    /// `export type { X } from "y"` is type-only; other `export ... from` are found by `from`.
    fn after_export(&mut self) {
        let save = (self.i, self.line);
        self.skip_ws();
        if self.peek(0).is_some_and(is_ident_start) && self.read_ident() == "type" {
            self.skip_ws();
            if self.peek(0) == Some(b'{') || self.peek(0) == Some(b'*') {
                self.type_only_from();
                return;
            }
        }
        (self.i, self.line) = save;
    }

    /// Skips to the `from "x"` ending a type-only statement (bounded: 4 KB, no `;`).
    fn type_only_from(&mut self) {
        let limit = self.i + 4096;
        while self.i < limit {
            match self.peek(0) {
                None | Some(b';') => return,
                Some(b'\n') => {
                    self.line += 1;
                    self.i += 1;
                }
                Some(c) if is_ident_start(c) => {
                    if self.read_ident() == "from" {
                        self.skip_ws();
                        if let Some(q @ (b'"' | b'\'')) = self.peek(0) {
                            self.literal(q, true);
                        }
                        self.last = Last::Operand;
                        return;
                    }
                }
                Some(_) => self.i += 1,
            }
        }
    }

    fn literal_after_from(&mut self) {
        let save = (self.i, self.line);
        self.skip_ws();
        if let Some(q @ (b'"' | b'\'')) = self.peek(0) {
            self.literal(q, false);
        } else {
            (self.i, self.line) = save;
        }
    }

    /// `name ( "x" )`: records `x`; anything else is left for the main loop.
    fn call_with_literal(&mut self, type_only: bool) {
        let save = (self.i, self.line);
        self.skip_ws();
        if self.peek(0) == Some(b'(') {
            self.i += 1;
            self.skip_ws();
            if let Some(q @ (b'"' | b'\'' | b'`')) = self.peek(0) {
                let line = self.line;
                let spec =
                    if q == b'`' { self.template_without_code() } else { self.skip_string(q).map(str::to_owned) };
                self.skip_ws();
                if let (Some(spec), Some(b')' | b',')) = (spec, self.peek(0)) {
                    self.out.push(Import { spec, line, type_only });
                }
                self.last = Last::Operand;
                return;
            }
        }
        (self.i, self.line) = save;
    }

    /// A template literal with no `${}`: its text; otherwise skips it and returns `None`.
    fn template_without_code(&mut self) -> Option<String> {
        self.i += 1;
        let start = self.i;
        while let Some(c) = self.peek(0) {
            match c {
                b'`' => {
                    let text = self.src.get(start..self.i).map(str::to_owned);
                    self.i += 1;
                    return text;
                }
                b'$' if self.peek(1) == Some(b'{') => {
                    let mut depth = 0;
                    self.skip_template(&mut depth);
                    return None;
                }
                b'\\' => return None,
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn literal(&mut self, quote: u8, type_only: bool) {
        let line = self.line;
        if let Some(spec) = self.skip_string(quote) {
            let spec = spec.to_owned();
            self.out.push(Import { spec, line, type_only });
        }
        self.last = Last::Operand;
    }
}

/// Byte classes, looked up once per byte: [`IDENT_START`] and [`IDENT_CHAR`] bits.
static CLASS: [u8; 256] = classes();
const IDENT_START: u8 = 1;
const IDENT_CHAR: u8 = 2;

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut c: u8 = 0;
    loop {
        let start = c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80;
        table[c as usize] = if start {
            IDENT_START | IDENT_CHAR
        } else if c.is_ascii_digit() {
            IDENT_CHAR
        } else {
            0
        };
        if c == u8::MAX {
            return table;
        }
        c += 1;
    }
}

fn is_ident_start(c: u8) -> bool {
    CLASS[usize::from(c)] & IDENT_START != 0
}

fn is_ident_char(c: u8) -> bool {
    CLASS[usize::from(c)] & IDENT_CHAR != 0
}

#[expect(clippy::naive_bytecount, reason = "block comments are short; not worth the bytecount crate")]
fn count_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|&&c| c == b'\n').count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Every `.js .mjs .cjs .ts` file under `dir`, symlinks not followed.
    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.filter_map(Result::ok) {
            let Ok(kind) = e.file_type() else { continue };
            let path = e.path();
            if kind.is_dir() {
                sources(&path, out);
            } else if kind.is_file()
                && path.extension().is_some_and(|x| ["js", "mjs", "cjs", "ts"].iter().any(|w| x == *w))
            {
                out.push(path);
            }
        }
    }

    /// Pieces of JavaScript whose order decides what a lexer sees: words that import, keywords,
    /// members, numbers running into letters, regexes against division, strings, templates with
    /// code, comments, escapes and newlines.
    const PIECES: &[&str] = &[
        "import", "export", "require", "from", "type", "return", "typeof", "in", "else", "x", "$e", "_f", "1", "1.",
        ".5", "0x1f", "e5", ".", "...", " ", "\n", "\t", "(", ")", "[", "]", "{", "}", "${", "`", "'a'", "\"b\"", "'c",
        "\\", "/", "//", "/*", "*/", "*", ";", ",", "=", "+", "é", "i", "r",
    ];

    proptest::proptest! {
        #[test]
        fn same_imports_as_the_previous_scanner_on_piece_sequences(
            picks in proptest::collection::vec(0..PIECES.len(), 0..60)
        ) {
            let src: String = picks.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            let (mut new, mut old) = (super::super::js::scan(&src), super::scan(&src));
            // the previous scanner did not count a newline escaped in a template or a regex
            if src.contains("\\\n") {
                new.iter_mut().chain(&mut old).for_each(|i| i.line = 0);
            }
            proptest::prop_assert_eq!(new, old, "{:?}", src);
        }
    }

    #[test]
    #[ignore = "needs ../shared (the corpus) and reads /usr/lib/node_modules when present: the new JS scanner against the previous one"]
    #[expect(clippy::print_stdout, reason = "the test reports how much it compared")]
    fn same_imports_as_the_previous_scanner() {
        let shared = crate::lockfile::test_paths::shared();
        let mut files = Vec::new();
        sources(Path::new("/usr/lib/node_modules"), &mut files);
        sources(&shared.join("corpus"), &mut files);
        files.sort();
        let (mut compared, mut bytes, mut imports) = (0usize, 0usize, 0usize);
        let mut differ = Vec::new();
        for path in &files {
            let Ok(raw) = std::fs::read(path) else { continue };
            let text = String::from_utf8_lossy(&raw);
            let (new, old) = (super::super::js::scan(&text), super::scan(&text));
            compared += 1;
            bytes += text.len();
            imports += old.len();
            if new != old {
                differ.push(format!("{}: now {new:?}, before {old:?}", path.display()));
            }
        }
        println!("{compared} files, {bytes} bytes, {imports} imports compared; {} differ", differ.len());
        assert!(compared > 1000, "only {compared} files found");
        assert!(differ.is_empty(), "{}", differ.iter().take(20).cloned().collect::<Vec<_>>().join("\n"));
    }
}
