//! Rust import scanner: the crate names a file names, from `use a::...`, `use ::a`,
//! `extern crate a` and every path that starts with `a::` (The Rust Reference, "Paths" and
//! "Use declarations"), skipping comments (nested), strings, raw strings and char literals.
//! What the names are (a dependency, a module, a type) is decided by the caller against
//! `Cargo.toml`.

use super::Import;

const NOT_CRATES: &[&str] = &["crate", "self", "super", "Self", "std", "core", "alloc", "proc_macro", "test"];

/// The candidate crate names of one Rust file (first occurrence of each, in source order).
pub fn scan(src: &str) -> Vec<Import> {
    let b = src.as_bytes();
    let mut out: Vec<Import> = Vec::new();
    let (mut i, mut line) = (0usize, 1u32);
    // the previous significant token: `::` (a path goes on), `use`, `crate` (after `extern`)
    let mut prev: &str = "";
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => (i, line) = skip_block_comment(b, i, line),
            b'"' => {
                (i, line) = skip_quoted(b, i + 1, line, 0);
                prev = "";
            }
            b'\'' => {
                i = skip_char_or_lifetime(b, i);
                prev = "";
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                i += 2;
                prev = if prev == "use" { "::use" } else { "::" };
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while b.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_') {
                    i += 1;
                }
                let word = src.get(start..i).unwrap_or_default();
                // raw strings and byte strings: r"..", r#".."#, b"..", br#".."#
                if matches!(word, "r" | "b" | "br" | "c" | "cr") && matches!(b.get(i), Some(b'"' | b'#')) {
                    let mut hashes = 0;
                    while b.get(i + hashes) == Some(&b'#') {
                        hashes += 1;
                    }
                    if b.get(i + hashes) == Some(&b'"') {
                        (i, line) =
                            skip_quoted(b, i + hashes + 1, line, if word.contains('r') { hashes + 1 } else { 0 });
                        prev = "";
                        continue;
                    }
                }
                let next_is_path = b.get(i) == Some(&b':') && b.get(i + 1) == Some(&b':');
                let names_crate = (prev == "crate" || prev == "use" || prev == "::use" || next_is_path && prev != "::")
                    && !NOT_CRATES.contains(&word)
                    && (prev != "::" || next_is_path);
                if names_crate && !out.iter().any(|o| o.spec == word) {
                    out.push(Import { spec: word.to_owned(), line, type_only: false });
                }
                prev = match (prev, word) {
                    ("extern", "crate") => "crate",
                    (_, "use") => "use",
                    (_, "extern") => "extern",
                    _ => "",
                };
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'{' if prev == "use" => {
                // `use {a::b, c};` — the names inside start paths too
                i += 1;
            }
            _ => {
                i += 1;
                prev = "";
            }
        }
    }
    out
}

/// At a `'`: skips a char literal (`'a'`, `'\n'`, `'é'`), or only the quote of a lifetime.
fn skip_char_or_lifetime(b: &[u8], i: usize) -> usize {
    match b.get(i + 1) {
        Some(b'\\') => {
            let mut j = i + 2;
            while b.get(j).is_some_and(|&d| d != b'\'' && d != b'\n') && j < i + 12 {
                j += 1;
            }
            j + 1
        }
        Some(_) if b.get(i + 2) == Some(&b'\'') => i + 3,
        Some(&d) if d >= 0x80 => (i + 3..i + 6).find(|&j| b.get(j) == Some(&b'\'')).map_or(i + 1, |j| j + 1),
        _ => i + 1,
    }
}

fn skip_block_comment(b: &[u8], mut i: usize, mut line: u32) -> (usize, u32) {
    let mut depth = 0u32;
    while i < b.len() {
        match (b.get(i), b.get(i + 1)) {
            (Some(b'/'), Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (Some(b'*'), Some(b'/')) => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return (i, line);
                }
            }
            (Some(b'\n'), _) => {
                line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    (i, line)
}

/// Skips a string body from `i` to its closing quote; `raw_hashes` > 0 for raw strings
/// (`raw_hashes - 1` `#` after the quote, no escapes).
fn skip_quoted(b: &[u8], mut i: usize, mut line: u32, raw_hashes: usize) -> (usize, u32) {
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' if raw_hashes == 0 => {
                line += u32::from(b.get(i + 1) == Some(&b'\n'));
                i += 2;
            }
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'"' if (1..raw_hashes).all(|k| b.get(i + k) == Some(&b'#')) => {
                return (i + raw_hashes.max(1), line);
            }
            _ => i += 1,
        }
    }
    (i, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_crate_roots_of_uses_paths_and_extern_crates() {
        let src = r##"
extern crate lazy_static;
use serde::{Deserialize, Serialize};
use ::tokio;
use std::fmt;
use crate::local::Thing;
// use commented::Out;
/* nested /* comment */ use hidden::X; */
fn main() {
    let s = "aws_sdk_s3::Client";
    let r = r#"raw "with" quote::x"#;
    let c = '"'; let l: &'static str = "";
    lambda_runtime::run(handler);
    let x = Foo::new();
    let y = a::b::c::d();
}
#[derive(serde_json::Thing)]
struct S;
"##;
        let got: Vec<_> = scan(src).into_iter().map(|i| (i.spec, i.line)).collect();
        let want = [
            ("lazy_static", 2),
            ("serde", 3),
            ("tokio", 4),
            ("lambda_runtime", 13),
            ("Foo", 14),
            ("a", 15),
            ("serde_json", 17),
        ];
        assert_eq!(got, want.map(|(s, l)| (s.to_owned(), l)));
    }
}
