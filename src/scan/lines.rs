//! Lockfile line numbers of a unit's vulnerable packages, found in one pass over the text: the
//! names are searched for all at once (Aho-Corasick), and line numbers come from an index of
//! the text's newlines, so a unit with many vulnerable packages no longer scans its whole
//! lockfile once per package.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

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

/// The search state of one name: its versions not yet placed, and its first whole-word line.
struct Search<'n> {
    name: &'n str,
    pending: Vec<&'n str>,
    first: Option<usize>,
    /// End of the last occurrence kept (`str::match_indices` skips overlapping ones).
    kept_end: usize,
}

impl<'n> Lines<'n> {
    /// Places each (name, version) pair: the 1-based line of the package's entry is the first
    /// line naming the package (as a whole word) whose next few lines (or itself) carry the
    /// version; else the first line naming it. One pass for the newlines and one for all the
    /// names, which stops as soon as every pair is placed (empty names are never found).
    pub(crate) fn new(text: &str, pairs: impl IntoIterator<Item = (&'n str, &'n str)>) -> Lines<'n> {
        let mut by_name: HashMap<&'n str, Vec<&'n str>> = HashMap::new();
        for (name, version) in pairs {
            if !name.is_empty() {
                by_name.entry(name).or_default().push(version);
            }
        }
        let mut names: Vec<Search<'n>> = by_name
            .into_iter()
            .map(|(name, mut pending)| {
                pending.sort_unstable();
                pending.dedup();
                Search { name, pending, first: None, kept_end: 0 }
            })
            .collect();
        names.sort_unstable_by_key(|n| n.name);
        let mut left: usize = names.iter().map(|n| n.pending.len()).sum();
        let newlines: Vec<usize> = text.match_indices('\n').map(|(at, _)| at).collect();
        let mut lines = HashMap::new();
        // One occurrence of name `p` at byte `at`: its line, and the pending versions it carries.
        let mut occurrence = |names: &mut [Search<'n>], p: usize, at: usize, end: usize| -> bool {
            let entry = &mut names[p];
            if at < entry.kept_end {
                return false;
            }
            entry.kept_end = end;
            if entry.pending.is_empty() || !whole_word(text, at, end) {
                return false;
            }
            let before = newlines.partition_point(|&n| n < at);
            let line = before + 1;
            entry.first.get_or_insert(line);
            let start = if before == 0 { 0 } else { newlines[before - 1] + 1 };
            // The window ends at the fourth newline from `at` on.
            let window = &text[start..newlines.get(before + 3).copied().unwrap_or(text.len())];
            let name = entry.name;
            entry.pending.retain(|version| {
                let found = window.contains(version);
                if found {
                    if let Ok(line) = u32::try_from(line) {
                        lines.insert((name, *version), line);
                    }
                    left -= 1;
                }
                !found
            });
            left == 0
        };
        let patterns: Vec<&str> = names.iter().map(|n| n.name).collect();
        match AhoCorasick::new(&patterns) {
            Ok(searcher) if !text.is_empty() && !patterns.is_empty() => {
                // Each name's overlapping matches come in order, as `match_indices` finds them.
                for m in searcher.find_overlapping_iter(text) {
                    if occurrence(&mut names, m.pattern().as_usize(), m.start(), m.end()) {
                        break;
                    }
                }
            }
            // No searcher (too many or too long names): each name on its own.
            _ => {
                for p in 0..names.len() {
                    let name = names[p].name;
                    for (at, _) in text.match_indices(name) {
                        occurrence(&mut names, p, at, at + name.len());
                    }
                }
            }
        }
        // A version never near its name: the name's first line.
        for n in &names {
            for version in &n.pending {
                if let Some(line) = n.first.and_then(|l| u32::try_from(l).ok()) {
                    lines.insert((n.name, *version), line);
                }
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
            // All pairs at once, and each pair alone (the search stops early once all are placed).
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
