//! Lockfile line numbers of a unit's vulnerable packages. Each name is searched for with a
//! vectorised substring search (`memchr::memmem`) that stops as soon as the name's versions are
//! placed, and the newlines before the places found are counted once at the end, so a unit with
//! many vulnerable packages reads only the start of its lockfile once per name, and never builds
//! a line index.

use std::collections::HashMap;

use memchr::memmem;

/// The lines of the searched (name, version) pairs in one lockfile's text.
pub(crate) struct Lines<'n> {
    lines: HashMap<(&'n str, &'n str), u32>,
}

/// Characters that continue a package name: an occurrence next to one is part of a longer name.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_' || c == '.'
}

fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word) && !after.is_some_and(is_word)
}

/// Newlines in `bytes`, counted 64 bytes at a time in a form the compiler vectorises.
fn newlines(bytes: &[u8]) -> usize {
    // At most 64 per chunk: a byte counter cannot overflow.
    let count = |chunk: &[u8]| usize::from(chunk.iter().fold(0u8, |acc, &b| acc + u8::from(b == b'\n')));
    let mut chunks = bytes.chunks_exact(64);
    let n: usize = chunks.by_ref().map(count).sum();
    n + count(chunks.remainder())
}

impl<'n> Lines<'n> {
    /// Places each (name, version) pair: the 1-based line of the package's entry is the first
    /// line naming the package (as a whole word) whose next few lines (or itself) carry the
    /// version; else the first line naming it. Occurrences of a name are found as
    /// `str::match_indices` finds them (no two overlap); empty names are never found. Offsets
    /// become line numbers at the end, in one count up to the last offset.
    pub(crate) fn new(text: &str, pairs: impl IntoIterator<Item = (&'n str, &'n str)>) -> Lines<'n> {
        let mut by_name: HashMap<&'n str, Vec<&'n str>> = HashMap::new();
        for (name, version) in pairs {
            if !name.is_empty() {
                by_name.entry(name).or_default().push(version);
            }
        }
        let bytes = text.as_bytes();
        let mut placed: Vec<(usize, (&'n str, &'n str))> = Vec::new();
        for (name, mut pending) in by_name {
            pending.sort_unstable();
            pending.dedup();
            let mut first = None;
            for at in memmem::find_iter(bytes, name.as_bytes()) {
                // A match of whole UTF-8 text starts and ends on character boundaries.
                if !whole_word(text, at, at + name.len()) {
                    continue;
                }
                first.get_or_insert(at);
                let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |n| n + 1);
                // The window ends at the fourth newline from `at` on.
                let end = memchr::memchr_iter(b'\n', &bytes[at..]).nth(3).map_or(text.len(), |n| at + n);
                let window = &text[start..end];
                pending.retain(|version| {
                    let found = window.contains(version);
                    if found {
                        placed.push((at, (name, *version)));
                    }
                    !found
                });
                if pending.is_empty() {
                    break;
                }
            }
            // A version never near its name: the name's first line.
            if let Some(at) = first {
                placed.extend(pending.into_iter().map(|version| (at, (name, version))));
            }
        }
        placed.sort_unstable_by_key(|&(at, _)| at);
        let (mut counted_to, mut line) = (0, 1usize);
        let mut lines = HashMap::with_capacity(placed.len());
        for (at, pair) in placed {
            line += newlines(&bytes[counted_to..at]);
            counted_to = at;
            if let Ok(line) = u32::try_from(line) {
                lines.insert(pair, line);
            }
        }
        Lines { lines }
    }

    /// The line of a pair given to [`Lines::new`]; `None` when the name never occurs.
    pub(crate) fn locate(&self, name: &str, version: &str) -> Option<u32> {
        self.lines.get(&(name, version)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: one substring search over the whole text per package (what the scan did
    /// before [`Lines`]).
    fn locate_line(text: &str, name: &str, version: &str) -> Option<u32> {
        if name.is_empty() {
            return None;
        }
        let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '.';
        let (mut line, mut counted_to) = (1usize, 0usize);
        let mut first = None;
        for (at, _) in text.match_indices(name) {
            let before = text[..at].chars().next_back();
            let after = text[at + name.len()..].chars().next();
            if before.is_some_and(is_word) || after.is_some_and(is_word) {
                continue;
            }
            line += text[counted_to..at].bytes().filter(|&b| b == b'\n').count();
            counted_to = at;
            first.get_or_insert(line);
            let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let window_end = text[at..].match_indices('\n').nth(3).map_or(text.len(), |(n, _)| at + n);
            if text[start..window_end].contains(version) {
                return u32::try_from(line).ok();
            }
        }
        first.and_then(|l| u32::try_from(l).ok())
    }

    fn located(text: &str, name: &str, version: &str) -> Option<u32> {
        Lines::new(text, [(name, version)]).locate(name, version)
    }

    #[test]
    fn lines_of_package_entries() {
        let lock = "{\n  \"packages\": {\n    \"node_modules/qs-extra\": {\n      \"version\": \"1.0.0\"\n    },\n    \"node_modules/qs\": {\n      \"version\": \"6.7.0\"\n";
        assert_eq!(located(lock, "qs", "6.7.0"), Some(6));
        let poetry = "[[package]]\nname = \"urllib3\"\nversion = \"1.24.1\"\n";
        assert_eq!(located(poetry, "urllib3", "1.24.1"), Some(2));
        assert_eq!(located("requests==2.19.1\n", "requests", "2.19.1"), Some(1));
        assert_eq!(located("nothing here", "qs", "1"), None);
        assert_eq!(located("qs 1", "", "1"), None);
    }

    /// Names that overlap themselves or each other, non-ASCII text, versions on far lines: the
    /// one-pass index gives the reference's line for every name and version.
    #[test]
    fn same_lines_as_one_search_per_name() {
        let texts = [
            "a/a/a 1\na/a 2\n\n\n\n3 a/a\n",
            "aaa aa a-a-a a-a 1.0\n a 2.0\n",
            "é-qs qs\u{e9} qs é\n\"qs\": \"1\"\n\n\n\nqs 2\n",
            "@types/node node_modules/@types/node\n  \"version\": \"1.0.0\"\nnode 2",
            "x.y x.y.z .x.y. x.y\n\n\n\n\n9.9\n",
            "",
        ];
        let names = ["a", "a/a", "aa", "a-a", "qs", "@types/node", "node", "x.y", "x.y.z", "absent", ""];
        let versions = ["1", "1.0", "2", "2.0", "3", "1.0.0", "9.9", "", "none"];
        let pairs: Vec<(&str, &str)> = names.iter().flat_map(|n| versions.iter().map(move |v| (*n, *v))).collect();
        for text in texts {
            // All pairs at once, and each pair alone (each name's search stops once it is placed).
            let lines = Lines::new(text, pairs.iter().copied());
            for &(name, version) in &pairs {
                assert_eq!(lines.locate(name, version), located(text, name, version), "{name:?} {version:?}");
            }
            for name in names {
                for version in versions {
                    assert_eq!(
                        lines.locate(name, version),
                        locate_line(text, name, version),
                        "{name:?} {version:?} in {text:?}"
                    );
                }
            }
        }
    }

    /// Every package of every npm and Cargo fixture lockfile, located in its own file.
    #[test]
    fn same_lines_on_fixture_lockfiles() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut checked = 0;
        for (dir, file) in [("npm", "package-lock.json"), ("cargo", "Cargo.lock")] {
            let Ok(scenarios) = fs_err::read_dir(root.join(dir)) else { continue };
            for scenario in scenarios.flatten() {
                let Ok(text) = fs_err::read_to_string(scenario.path().join(file)) else { continue };
                let words: Vec<&str> =
                    text.split(|c: char| c == '"' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
                let lines = Lines::new(&text, words.windows(2).map(|pair| (pair[0], pair[1])));
                for pair in words.windows(2) {
                    assert_eq!(lines.locate(pair[0], pair[1]), locate_line(&text, pair[0], pair[1]), "{pair:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "only {checked} names checked: fixtures moved?");
    }
}
