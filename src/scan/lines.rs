//! Lockfile line numbers of a unit's vulnerable packages, found in one pass over the text: the
//! names are searched for all at once (Aho-Corasick), and line numbers come from an index of
//! the text's newlines, so a unit with many vulnerable packages no longer scans its whole
//! lockfile once per package.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

/// Where the searched names occur in one lockfile's text.
pub(crate) struct Lines<'t, 'n> {
    text: &'t str,
    /// Byte offset of every `\n`, in order.
    newlines: Vec<usize>,
    /// Each searched name's occurrences as a whole word: the byte offsets `str::match_indices`
    /// yields (leftmost, not overlapping) that have no word character on either side.
    words: HashMap<&'n str, Vec<usize>>,
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

impl<'t, 'n> Lines<'t, 'n> {
    /// Indexes `text` for `names` (empty names are never found). One pass for the newlines and
    /// one for all the names.
    pub(crate) fn new(text: &'t str, names: impl IntoIterator<Item = &'n str>) -> Lines<'t, 'n> {
        let mut names: Vec<&'n str> = names.into_iter().filter(|n| !n.is_empty()).collect();
        names.sort_unstable();
        names.dedup();
        let newlines = text.match_indices('\n').map(|(at, _)| at).collect();
        let mut starts: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        match AhoCorasick::new(&names) {
            Ok(searcher) if !text.is_empty() => {
                // Per name, keep the matches `match_indices` would yield: overlapping matches
                // of one pattern come in order, and a match is skipped while it overlaps the last
                // one kept.
                let mut kept_end = vec![0usize; names.len()];
                for m in searcher.find_overlapping_iter(text) {
                    let p = m.pattern().as_usize();
                    if m.start() < kept_end[p] {
                        continue;
                    }
                    kept_end[p] = m.end();
                    if whole_word(text, m.start(), m.end()) {
                        starts[p].push(m.start());
                    }
                }
            }
            // No searcher (too many or too long names): each name on its own.
            _ => {
                for (name, out) in names.iter().zip(&mut starts) {
                    out.extend(
                        text.match_indices(name).map(|(at, _)| at).filter(|&at| whole_word(text, at, at + name.len())),
                    );
                }
            }
        }
        let words = names.into_iter().zip(starts).collect();
        Lines { text, newlines, words }
    }

    /// The 1-based line of a package's entry: the first line naming the package (as a whole
    /// word) whose next few lines (or itself) carry the version; else the first line naming it.
    pub(crate) fn locate(&self, name: &str, version: &str) -> Option<u32> {
        let occurrences = self.words.get(name)?;
        let mut first = None;
        for &at in occurrences {
            // Newlines before `at`: the line is one more.
            let before = self.newlines.partition_point(|&n| n < at);
            let line = before + 1;
            first.get_or_insert(line);
            let start = if before == 0 { 0 } else { self.newlines[before - 1] + 1 };
            // The window ends at the fourth newline from `at` on.
            let end = self.newlines.get(before + 3).copied().unwrap_or(self.text.len());
            if self.text[start..end].contains(version) {
                return u32::try_from(line).ok();
            }
        }
        first.and_then(|l| u32::try_from(l).ok())
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
        Lines::new(text, [name]).locate(name, version)
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
        for text in texts {
            let lines = Lines::new(text, names);
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
                let lines = Lines::new(&text, words.iter().copied());
                for pair in words.windows(2) {
                    assert_eq!(lines.locate(pair[0], pair[1]), locate_line(&text, pair[0], pair[1]), "{pair:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "only {checked} names checked: fixtures moved?");
    }
}
