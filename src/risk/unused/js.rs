//! JavaScript / TypeScript import scanner: a small lexer, never a parser, that finds `import`,
//! `export ... from`, `require("x")` and `import("x")` with a literal, while skipping comments,
//! strings, template literals and regular-expression literals (ECMA-262 §12, lexical grammar,
//! with the usual "a `/` after an operand divides" rule to tell regexes from division).
//!
//! It jumps from one place that may start something to the next and never steps through the
//! code between: outside the code of a template literal's `${}` those places are a quote or
//! `/` (`memchr3`), a backtick (`memchr`), and the words `import`, `export`, `require` and
//! `from` at the start of a word (each found ahead by its own `memmem` search); braces skipped on
//! the way are not counted, as only a template's code needs its depth. Inside `${}` code every
//! brace stops (one may close it). Two
//! questions about the skipped bytes are answered only when asked, from their last token:
//! whether a `/` divides (after an operand) or starts a regex, and whether a word follows a `.`
//! (a member, not an import). Line numbers are counted only for the imports found.

use super::Import;

/// The imports of one JavaScript or TypeScript file, in source order.
pub fn scan(src: &str) -> Vec<Import> {
    Lexer {
        b: src.as_bytes(),
        src,
        i: 0,
        pending: 0,
        counted: (0, 1),
        out: Vec::new(),
        last: Last::Start,
        depth: 0,
        templates: Vec::new(),
        tick: 0,
        quote_or_slash: (usize::MAX, 0), // an empty range: nothing known yet
        ticks: memchr::memchr_iter(b'`', src.as_bytes()),
        word: 0,
        words: Words::new(src.as_bytes()),
    }
    .run()
}

/// The words that import ([`Lexer::word`]).
const WORDS: [&str; 4] = ["import", "export", "require", "from"];

/// One `memmem` searcher per word that imports, built once.
static FINDERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 4]> =
    std::sync::LazyLock::new(|| WORDS.map(memchr::memmem::Finder::new));

/// Where each word that imports next starts. Each is searched for on its own, and only from
/// where the cursor is once the cursor has passed it: one search jumps over every occurrence in
/// the strings and comments the lexer skipped, where a search for all four at once would stop at
/// each (and four `memmem` searches for rare byte pairs run faster than one for four words).
struct Words<'a> {
    hay: &'a [u8],
    /// For each word: its first start at or after where it was last searched from (`usize::MAX`:
    /// none), so also its first start at or after any cursor up to there.
    next: [usize; 4],
}

impl<'a> Words<'a> {
    fn new(hay: &'a [u8]) -> Words<'a> {
        let mut words = Words { hay, next: [0; 4] };
        for (k, finder) in FINDERS.iter().enumerate() {
            words.next[k] = finder.find(hay).unwrap_or(usize::MAX);
        }
        words
    }

    /// The first start of any of the words at or after `at` (`usize::MAX`: none).
    fn first_from(&mut self, at: usize) -> usize {
        let mut first = usize::MAX;
        for (next, finder) in self.next.iter_mut().zip(FINDERS.iter()) {
            if *next < at {
                let rest = self.hay.get(at..).unwrap_or_default();
                *next = finder.find(rest).map_or(usize::MAX, |n| at + n);
            }
            first = first.min(*next);
        }
        first
    }
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
    /// Where the bytes skipped since the last token handled start: `last` does not cover them
    /// yet ([`Lexer::settle`]).
    pending: usize,
    /// Newlines counted so far: (offset, line number at that offset).
    counted: (usize, u32),
    out: Vec<Import>,
    last: Last,
    /// Brace depth inside template code (braces in strings, comments, regexes and template text
    /// not counted; outside template code none is: nothing there needs the depth).
    depth: usize,
    /// Brace depth at which each open template literal's `${` started.
    templates: Vec<usize>,
    /// The next backtick at or after where one was last looked for; `usize::MAX` when there
    /// is none.
    tick: usize,
    /// `(from, at)`: no quote or `/` lies in `from..at`, and `at` is one (or `usize::MAX`: none
    /// after `from`), so `at` is the next one from any cursor in `from..=at`: a stop at a word
    /// or backtick before it does not search the same bytes again.
    quote_or_slash: (usize, usize),
    ticks: memchr::Memchr<'a>,
    /// The start of the next `import`, `export`, `require` or `from` at or after where one was
    /// last looked for (maybe inside a longer word); `usize::MAX` when there is none.
    word: usize,
    words: Words<'a>,
}

/// What the last token of a run of identifier characters and dots is.
enum Tail {
    Token(Last),
    /// A number: it goes on through any letters that follow (`1.from` is one token).
    Number,
}

impl<'a> Lexer<'a> {
    fn run(mut self) -> Vec<Import> {
        self.tick = self.ticks.next().unwrap_or(usize::MAX);
        self.word = self.words.first_from(0);
        while let Some(at) = self.next_stop() {
            self.i = at;
            let Some(&c) = self.b.get(at) else { break };
            if !matches!(c, b'/' | b'\'' | b'"' | b'`' | b'{' | b'}') {
                if self.word(at) {
                    self.pending = self.i;
                } else {
                    // not a word that imports: part of the skipped bytes
                    self.i = at + 1;
                }
                continue;
            }
            match c {
                b'/' if self.peek(1) == Some(b'/') => {
                    self.settle(at);
                    self.skip_line();
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.settle(at);
                    self.skip_block_comment();
                }
                b'/' => {
                    self.settle(at);
                    if matches!(self.last, Last::Start | Last::Punct | Last::Keyword) {
                        self.skip_regex();
                        self.last = Last::Operand;
                    } else {
                        self.i += 1;
                        self.last = Last::Punct;
                    }
                }
                b'\'' | b'"' => {
                    self.skip_string(c);
                    self.last = Last::Operand;
                }
                b'`' => {
                    self.i += 1;
                    self.skip_main_template();
                }
                b'{' => {
                    self.depth += 1;
                    self.i += 1;
                    self.last = Last::Punct;
                }
                _ => {
                    self.i += 1;
                    if self.templates.last() == Some(&self.depth) {
                        self.templates.pop();
                        self.depth -= 1;
                        self.skip_main_template();
                    } else {
                        self.depth = self.depth.saturating_sub(1);
                        self.last = Last::Punct;
                    }
                }
            }
            self.pending = self.i;
        }
        self.out
    }

    fn skip_main_template(&mut self) {
        let mut depth = self.depth;
        self.skip_template(&mut depth);
        self.depth = depth;
    }

    /// The next byte at or after the cursor that may start something.
    fn next_stop(&mut self) -> Option<usize> {
        if self.templates.is_empty() { self.next_stop_outside_templates() } else { self.next_stop_in_template_code() }
    }

    /// Outside template code the bytes that stop are few: quotes and `/` (`memchr3`), a
    /// backtick, and the words that import, each found ahead ([`Lexer::tick`], [`Lexer::word`]).
    /// Braces are not counted there: the depth only matters inside a template's code, where every
    /// brace stops ([`Lexer::next_stop_in_template_code`]).
    fn next_stop_outside_templates(&mut self) -> Option<usize> {
        let b = self.b;
        loop {
            while self.tick < self.i {
                self.tick = self.ticks.next().unwrap_or(usize::MAX);
            }
            if self.word < self.i {
                self.word = self.words.first_from(self.i);
            }
            let quote_or_slash = self.next_quote_or_slash();
            let next = self.tick.min(self.word);
            if quote_or_slash <= next {
                return (quote_or_slash != usize::MAX).then_some(quote_or_slash);
            }
            // a word that starts inside another is looked for again after it
            if next == self.word && next.checked_sub(1).and_then(|p| b.get(p)).is_some_and(|&c| is_ident_char(c)) {
                self.word = self.words.first_from(next + 1);
                continue;
            }
            return Some(next);
        }
    }

    /// The first quote or `/` at or after the cursor (`usize::MAX`: none).
    fn next_quote_or_slash(&mut self) -> usize {
        let (from, at) = self.quote_or_slash;
        if (from..=at).contains(&self.i) {
            return at;
        }
        let at = memchr::memchr3(b'\'', b'"', b'/', self.rest()).map_or(usize::MAX, |n| self.i + n);
        self.quote_or_slash = (self.i, at);
        at
    }

    /// Inside the code of a template literal's `${}` every brace stops: one may close it.
    fn next_stop_in_template_code(&self) -> Option<usize> {
        let rest = self.rest();
        let mut prev_ident = self.i.checked_sub(1).and_then(|p| self.b.get(p)).is_some_and(|&c| is_ident_char(c));
        for (n, &c) in rest.iter().enumerate() {
            let class = CLASS[usize::from(c)];
            if class & STOP != 0 || (class & WORD != 0 && !prev_ident) {
                return Some(self.i + n);
            }
            prev_ident = class & IDENT_CHAR != 0;
        }
        None
    }

    /// At a word start: handles `import`, `export`, `require` and `from` (returns `true`, the
    /// cursor after what was handled); any other word, or one inside a number, is left skipped.
    fn word(&mut self, at: usize) -> bool {
        let rest = self.rest();
        let len = rest.iter().position(|&c| !is_ident_char(c)).unwrap_or(rest.len());
        let action: fn(&mut Self) = match rest.get(..len).unwrap_or_default() {
            b"import" => Self::after_import,
            b"export" => Self::after_export,
            b"require" => |l: &mut Self| l.call_with_literal(false),
            b"from" => Self::literal_after_from,
            _ => return false,
        };
        if !self.settle(at) {
            return false;
        }
        let after_dot = self.last == Last::Dot;
        self.i = at + len;
        self.last = Last::Operand;
        if !after_dot {
            action(self);
        }
        true
    }

    /// Folds the bytes skipped before `end` into `last` (only their last token counts); `false`
    /// when that token is a number that goes on at `end` (a word there is inside it).
    fn settle(&mut self, end: usize) -> bool {
        let skipped = self.b.get(self.pending..end).unwrap_or_default();
        let Some(k) = skipped.iter().rposition(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n')) else {
            return true;
        };
        let Some(&c) = skipped.get(k) else { return true };
        self.last = if c == b')' || c == b']' {
            Last::Operand
        } else if is_ident_char(c) || c == b'.' {
            let head = skipped.get(..=k).unwrap_or_default();
            let start = head.iter().rposition(|&c| !(is_ident_char(c) || c == b'.')).map_or(0, |p| p + 1);
            match last_token(head.get(start..).unwrap_or_default()) {
                Tail::Token(last) => last,
                Tail::Number => {
                    self.last = Last::Operand;
                    return k + 1 < skipped.len();
                }
            }
        } else {
            Last::Punct
        };
        true
    }

    /// The line of byte `at` (1-based), counting newlines from the last line asked for.
    fn line_at(&mut self, at: usize) -> u32 {
        let (from, line) = self.counted;
        let count = |a: usize, b: usize| {
            let bytes = self.b.get(a..b).unwrap_or_default();
            u32::try_from(memchr::memchr_iter(b'\n', bytes).count()).unwrap_or(u32::MAX)
        };
        let line = if at >= from { line.saturating_add(count(from, at)) } else { line.saturating_sub(count(at, from)) };
        self.counted = (at, line);
        line
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
        self.i += memchr::memmem::find(rest, b"*/").map_or(rest.len(), |e| e + 2);
    }

    /// Skips a quoted string; returns its contents when it has no escapes and stays on one line.
    fn skip_string(&mut self, quote: u8) -> Option<&'a str> {
        self.i += 1;
        let start = self.i;
        let mut plain = true;
        loop {
            // the run of bytes that are neither the quote, a backslash nor a newline
            self.i += memchr::memchr3(quote, b'\\', b'\n', self.rest()).unwrap_or(self.rest().len());
            let Some(c) = self.peek(0) else { break };
            match c {
                b'\\' => {
                    plain = false;
                    self.i += 2;
                }
                b'\n' => return None, // unterminated: JavaScript strings end at the line
                _ => {
                    let end = self.i;
                    self.i += 1;
                    return if plain { self.src.get(start..end) } else { None };
                }
            }
        }
        None
    }

    /// Skips template text up to the closing backtick or a `${`, which opens code.
    fn skip_template(&mut self, depth: &mut usize) {
        loop {
            self.i += memchr::memchr3(b'\\', b'`', b'$', self.rest()).unwrap_or(self.rest().len());
            let Some(c) = self.peek(0) else { return };
            match c {
                b'\\' => self.i += 2,
                b'`' => {
                    self.i += 1;
                    self.last = Last::Operand;
                    return;
                }
                _ if self.peek(1) == Some(b'{') => {
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
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.i += 1,
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

    /// `import "x"`, `import(...)`, `import type ... from` (type-only), `import x = require(...)`.
    fn after_import(&mut self) {
        let save = self.i;
        self.skip_ws();
        match self.peek(0) {
            Some(q @ (b'"' | b'\'')) => self.literal(q, false),
            Some(b'(') => {
                self.i = save;
                self.call_with_literal(false);
            }
            Some(c) if is_ident_start(c) => {
                let start = self.i;
                if self.read_ident() == "type" {
                    self.skip_ws();
                    // `import type X from "y"` / `import type { X } from "y"`, but not `import type from "y"`
                    if self.peek(0).is_some_and(|c| c == b'{' || c == b'*' || is_ident_start(c)) {
                        let at = self.i;
                        let next = self.read_ident();
                        if next != "from" {
                            self.type_only_from();
                            return;
                        }
                        self.i = at;
                    }
                }
                self.i = start;
            }
            _ => self.i = save,
        }
    }

    /// `export type { X } from "y"` is type-only; other `export ... from` are found by `from`.
    fn after_export(&mut self) {
        let save = self.i;
        self.skip_ws();
        if self.peek(0).is_some_and(is_ident_start) && self.read_ident() == "type" {
            self.skip_ws();
            if self.peek(0) == Some(b'{') || self.peek(0) == Some(b'*') {
                self.type_only_from();
                return;
            }
        }
        self.i = save;
    }

    /// Skips to the `from "x"` ending a type-only statement (bounded: 4 KB, no `;`).
    fn type_only_from(&mut self) {
        let limit = self.i + 4096;
        while self.i < limit {
            match self.peek(0) {
                None | Some(b';') => return,
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
        let save = self.i;
        self.skip_ws();
        if let Some(q @ (b'"' | b'\'')) = self.peek(0) {
            self.literal(q, false);
        } else {
            self.i = save;
        }
    }

    /// `name ( "x" )`: records `x`; anything else is left for the main loop.
    fn call_with_literal(&mut self, type_only: bool) {
        let save = self.i;
        self.skip_ws();
        if self.peek(0) == Some(b'(') {
            self.i += 1;
            self.skip_ws();
            if let Some(q @ (b'"' | b'\'' | b'`')) = self.peek(0) {
                let at = self.i;
                let spec =
                    if q == b'`' { self.template_without_code() } else { self.skip_string(q).map(str::to_owned) };
                self.skip_ws();
                if let (Some(spec), Some(b')' | b',')) = (spec, self.peek(0)) {
                    let line = self.line_at(at);
                    self.out.push(Import { spec, line, type_only });
                }
                self.last = Last::Operand;
                return;
            }
        }
        self.i = save;
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
                    // its code opens one level deeper than the code around it
                    self.skip_main_template();
                    return None;
                }
                b'\\' => return None,
                _ => self.i += 1,
            }
        }
        None
    }

    fn literal(&mut self, quote: u8, type_only: bool) {
        let at = self.i;
        if let Some(spec) = self.skip_string(quote) {
            let spec = spec.to_owned();
            let line = self.line_at(at);
            self.out.push(Import { spec, line, type_only });
        }
        self.last = Last::Operand;
    }
}

/// The last token of `run` (identifier characters and dots, starting at a token boundary), as
/// the byte-by-byte lexer would cut it: identifiers, numbers (a digit or `.digit`, then letters,
/// digits, `_` and `.`), and dots (`...` is punctuation, one `.` a member access).
fn last_token(run: &[u8]) -> Tail {
    let mut tail = Tail::Token(Last::Punct);
    let mut i = 0;
    while let Some(&c) = run.get(i) {
        let from = i;
        if c == b'.' && !run.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            tail = Tail::Token(if run.get(i) == Some(&b'.') { Last::Punct } else { Last::Dot });
            while run.get(i) == Some(&b'.') {
                i += 1;
            }
        } else if is_ident_start(c) {
            i += run.get(i..).unwrap_or_default().iter().position(|&c| !is_ident_char(c)).unwrap_or(run.len() - i);
            tail = Tail::Token(if is_expression_keyword(run.get(from..i).unwrap_or_default()) {
                Last::Keyword
            } else {
                Last::Operand
            });
        } else {
            i += 1;
            while run.get(i).is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'.' || d == b'_') {
                i += 1;
            }
            tail = Tail::Number;
        }
    }
    tail
}

/// Keywords after which an expression starts: a `/` after them begins a regex.
fn is_expression_keyword(word: &[u8]) -> bool {
    matches!(
        word,
        b"return"
            | b"typeof"
            | b"instanceof"
            | b"in"
            | b"of"
            | b"new"
            | b"delete"
            | b"void"
            | b"throw"
            | b"case"
            | b"do"
            | b"else"
            | b"yield"
            | b"await"
    )
}

/// Byte classes: [`IDENT_START`], [`IDENT_CHAR`], and inside `${}` code [`STOP`] (always looked at) and [`WORD`]
/// (looked at when starting a word).
static CLASS: [u8; 256] = classes();
const IDENT_START: u8 = 1;
const IDENT_CHAR: u8 = 2;
const STOP: u8 = 4;
const WORD: u8 = 8;

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut c: u8 = 0;
    loop {
        let start = c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80;
        let mut class = if start {
            IDENT_START | IDENT_CHAR
        } else if c.is_ascii_digit() {
            IDENT_CHAR
        } else {
            0
        };
        if matches!(c, b'/' | b'\'' | b'"' | b'`' | b'{' | b'}') {
            class |= STOP;
        }
        // the first letters of `import`, `export`, `require`, `from`
        if matches!(c, b'i' | b'e' | b'r' | b'f') {
            class |= WORD;
        }
        table[c as usize] = class;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(src: &str) -> Vec<(String, u32, bool)> {
        scan(src).into_iter().map(|i| (i.spec, i.line, i.type_only)).collect()
    }

    #[test]
    fn finds_every_import_form() {
        let src = r#"import a from "a";
import * as b from 'b';
import { c1, c2 as x } from "c";
import "d";
export { e } from "e";
export * from "f";
const g = require("g");
const h = await import('h');
import i = require("i");
import type { J } from "j";
export type { K } from "k";
import type from "l";
const m = require(`m`);
"#;
        let got = specs(src);
        let names: Vec<_> = got.iter().map(|(s, _, _)| s.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]);
        assert_eq!(got[9], ("j".to_owned(), 10, true));
        assert!(!got[11].2, "`import type from` imports a default named `type`");
    }

    #[test]
    fn skips_comments_strings_templates_and_regexes() {
        let src = r#"
// import a from "a";
/* require("b") */
const s = "import c from 'c'";
const t = `require("d") ${ require("e") } import("f")`;
const r = /require\("g"\)/g;
const q = a / require("h") / 2;
obj.require("i");
const u = require(name);
const v = require("w" + x);
"#;
        let names: Vec<_> = specs(src).into_iter().map(|(s, l, _)| (s, l)).collect();
        assert_eq!(names, [("e".to_owned(), 5), ("h".to_owned(), 7)]);
    }

    #[test]
    fn regex_after_keyword_and_division_after_operand() {
        let src = "function f(x) { return /\"/.test(x) }\nconst y = (a) / 2; require('z')";
        assert_eq!(specs(src), [("z".to_owned(), 2, false)]);
    }

    #[test]
    fn lines_count_through_comments_and_strings() {
        let src = "/* a\n * require('no')\n */ import a from 'a';\nconst s = 'x\\'y\\\n'; require(\"b\");\n/* open\n\nrequire('c')";
        assert_eq!(specs(src), [("a".to_owned(), 3, false), ("b".to_owned(), 5, false)]);
        assert_eq!(
            specs("const e = 'a\\'b'; import x from \"c\\\"d\"; import y from 'ok'"),
            [("ok".to_owned(), 1, false)]
        );
    }

    #[test]
    fn a_newline_escaped_in_a_template_counts() {
        let src = "const t = `a\\\n${require('b')}`;\nrequire('c')";
        assert_eq!(specs(src), [("b".to_owned(), 2, false), ("c".to_owned(), 3, false)]);
    }

    #[test]
    fn nested_templates_come_back_to_code() {
        let src = "const a = `x${`y${1}`}z`; const b = require('after');";
        assert_eq!(specs(src), [("after".to_owned(), 1, false)]);
    }

    /// Inputs where a lexer must tell members, regexes, division and `import type` apart (the
    /// cases checked against the previous scanner when the word classifier was rewritten).
    #[test]
    fn members_regexes_division_and_type_imports() {
        let specs = |src: &str| scan(src).into_iter().map(|i| (i.spec, i.line, i.type_only)).collect::<Vec<_>>();
        let s = |spec: &str, line, type_only| (spec.to_owned(), line, type_only);
        assert_eq!(specs("a.import('x'); x. require('y'); b . from 'z'"), []);
        assert_eq!(specs("return /import('q')/; case /x/: import('r')"), [s("r", 1, false)]);
        assert_eq!(
            specs("x = a\n/ 2 / require('s'); y = typeof /re/; instanceof /t/ ; await import('u')"),
            [s("s", 2, false), s("u", 2, false)]
        );
        assert_eq!(
            specs("import type { A } from 'v'; export type * from 'w'; import type from 'x'"),
            [s("v", 1, true), s("w", 1, true), s("x", 1, false)]
        );
        assert_eq!(specs("// tail comment without newline require('a')"), []);
    }

    /// Pieces of JavaScript whose order decides what a lexer sees: words that import, keywords,
    /// members, numbers running into letters, regexes against division, strings, templates with
    /// code, comments, escapes and newlines.
    const PIECES: &[&str] = &[
        "import", "export", "require", "from", "type", "return", "typeof", "in", "else", "x", "$e", "_f", "1", "1.",
        ".5", "0x1f", "e5", ".", "...", " ", "\n", "\t", "(", ")", "[", "]", "{", "}", "${", "`", "'a'", "\"b\"", "'c",
        "\\", "/", "//", "/*", "*/", "*", ";", ",", "=", "+", "é", "i", "r",
    ];

    #[test]
    fn a_require_template_with_code_nests_in_the_code_around_it() {
        // the `}` closing `${a}` closes that code whatever the depth around it (it was compared
        // with depth 1: at depth 0 the rest of the file was read as template text)
        let src = "const m = require(`./x${a}`);\nrequire('after');\nfunction f() { { require(`y${b}`); } }\nimport c from 'c'";
        assert_eq!(specs(src), [("after".to_owned(), 2, false), ("c".to_owned(), 4, false)]);
    }

    /// Whether a word that imports is spelled at `p` (maybe inside a longer word).
    fn word_at(b: &[u8], p: usize) -> bool {
        WORDS.iter().any(|w| b.get(p..).is_some_and(|r| r.starts_with(w.as_bytes())))
    }

    /// Where a word that imports starts, by looking at every byte (the reference for [`Words`]).
    fn word_starts_by_byte(b: &[u8]) -> Vec<usize> {
        (0..b.len())
            .filter(|&p| word_at(b, p))
            .filter(|&p| !p.checked_sub(1).and_then(|q| b.get(q)).is_some_and(|&c| is_ident_char(c)))
            .collect()
    }

    proptest::proptest! {
        /// The word searches, from a cursor that moves forward by any steps, give the first start
        /// of a word at or after it; stepping from one start to the next finds every word start
        /// that looking at each byte finds.
        #[test]
        fn word_searches_give_the_first_word_start_from_any_cursor(
            picks in proptest::collection::vec(0..PIECES.len(), 0..80),
            steps in proptest::collection::vec(1..40usize, 0..80),
        ) {
            let src: String = picks.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            let b = src.as_bytes();
            let starts: Vec<usize> = (0..b.len()).filter(|&p| word_at(b, p)).collect();
            let mut words = Words::new(b);
            let mut at = 0;
            for step in steps {
                let first = starts.iter().copied().find(|&p| p >= at).unwrap_or(usize::MAX);
                proptest::prop_assert_eq!(words.first_from(at), first, "from {} in {:?}", at, src);
                at += step;
            }
            let mut words = Words::new(b);
            let mut found = Vec::new();
            let mut next = words.first_from(0);
            while next != usize::MAX {
                found.push(next);
                next = words.first_from(next + 1);
            }
            found.retain(|&p| !p.checked_sub(1).and_then(|q| b.get(q)).is_some_and(|&c| is_ident_char(c)));
            proptest::prop_assert_eq!(found, word_starts_by_byte(b), "{:?}", src);
        }

        /// A statement line in front of any source changes nothing but the lines, and every
        /// import found is spelled in the source.
        #[test]
        fn a_statement_in_front_only_moves_the_lines(picks in proptest::collection::vec(0..PIECES.len(), 0..60)) {
            let src: String = picks.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            let found = scan(&src);
            let mut moved = scan(&format!("const a = require('front');\n{src}"));
            proptest::prop_assert_eq!(moved.first().map(|i| (i.spec.as_str(), i.line)), Some(("front", 1)));
            moved.remove(0);
            for i in &mut moved {
                i.line -= 1;
            }
            proptest::prop_assert_eq!(&moved, &found, "{:?}", src);
            for i in &found {
                proptest::prop_assert!(src.contains(&i.spec), "{:?} in {:?}", i.spec, src);
            }
        }
    }
}
