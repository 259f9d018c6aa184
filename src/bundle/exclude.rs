//! `.gitignore`-style exclude patterns (the `exclude = [..]` key of `bundleguard.toml`), matched
//! against paths relative to the scanned folder, with `/` separators. The subset of
//! gitignore(5) we implement: `*` and `?` (never crossing `/`), `**` as a whole segment (any
//! number of folders), a trailing `/` (folders only), a `/` at the start or in the middle
//! (anchored to the scanned folder; otherwise the pattern matches a name at any depth), and `!`
//! (re-includes what an earlier pattern excluded; the last matching pattern wins). As in git, a
//! file inside an excluded folder cannot be re-included: excluded folders are not walked.

use std::fmt;

/// A pattern that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ExcludeError {
    pub pattern: String,
    pub message: String,
}

impl fmt::Display for ExcludeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exclude pattern {:?}: {}", self.pattern, self.message)
    }
}

/// One parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// As written, for messages.
    text: String,
    /// `!pattern`.
    negated: bool,
    /// A trailing `/`: matches folders only.
    dirs_only: bool,
    /// Path segments; a non-anchored pattern starts with `**`.
    segments: Vec<String>,
}

/// The exclude patterns of a policy, in order. The default excludes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Excludes {
    patterns: Vec<Pattern>,
}

impl Excludes {
    /// Parses the patterns; an empty pattern, a bare `!` or `/` is an error naming it.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Excludes, ExcludeError> {
        let patterns = patterns.iter().map(|p| Pattern::parse(p.as_ref())).collect::<Result<_, _>>()?;
        Ok(Excludes { patterns })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as written.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|p| p.text.as_str())
    }

    /// Whether `relative` (a path under the scanned folder, `/`-separated, no leading `/`) is
    /// excluded: itself, or one of its folders (as in git, a path inside an excluded folder stays
    /// excluded). `is_dir` tells whether it is a folder (for patterns ending in `/`).
    pub fn is_excluded(&self, relative: &str, is_dir: bool) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let path: Vec<&str> = relative.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
        (1..path.len()).any(|n| self.matches(&path[..n], true)) || self.matches(&path, is_dir)
    }

    /// The last pattern matching `path` itself decides (a `!` pattern re-includes).
    fn matches(&self, path: &[&str], is_dir: bool) -> bool {
        if path.is_empty() {
            return false;
        }
        let mut excluded = false;
        for pattern in &self.patterns {
            if (!pattern.dirs_only || is_dir) && segments_match(&pattern.segments, path) {
                excluded = !pattern.negated;
            }
        }
        excluded
    }
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, ExcludeError> {
        let err = |message: &str| ExcludeError { pattern: text.to_owned(), message: message.to_owned() };
        let trimmed = text.trim();
        let (negated, rest) = match trimmed.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let dirs_only = rest.ends_with('/');
        let body = rest.trim_end_matches('/');
        let anchored = body.starts_with('/') || body.trim_start_matches('/').contains('/');
        let body = body.trim_start_matches('/');
        if body.is_empty() {
            return Err(err("expected a path or a glob such as `legacy/` or `**/fixtures/*`"));
        }
        let mut segments: Vec<String> = Vec::new();
        if !anchored {
            segments.push("**".to_owned());
        }
        for segment in body.split('/').filter(|s| !s.is_empty() && *s != ".") {
            if segment == ".." {
                return Err(err("`..` cannot be used: patterns are relative to the scanned folder"));
            }
            if segment.contains("**") && segment != "**" {
                return Err(err("`**` must be a whole path segment (`**/name`, `dir/**`)"));
            }
            // Consecutive `**` are one.
            if segment == "**" && segments.last().is_some_and(|s| s == "**") {
                continue;
            }
            segments.push(segment.to_owned());
        }
        Ok(Pattern { text: text.to_owned(), negated, dirs_only, segments })
    }
}

/// Whether pattern segments match path segments entirely; `**` matches zero or more segments.
fn segments_match(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => (0..=path.len()).any(|skip| segments_match(rest, &path[skip..])),
        Some((first, rest)) => {
            path.split_first().is_some_and(|(name, tail)| name_matches(first, name) && segments_match(rest, tail))
        }
    }
}

/// `*` (any run of characters) and `?` (one character) within one path segment.
fn name_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with one backtrack point (linear in practice, no recursion).
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str, is_dir: bool) -> bool {
        Excludes::new(patterns).expect("valid").is_excluded(path, is_dir)
    }

    #[test]
    fn table() {
        for (patterns, path, is_dir, want) in [
            (&["legacy"][..], "legacy", true, true),
            (&["legacy"], "services/legacy", true, true),
            (&["legacy"], "services/legacy-2", true, false),
            (&["/legacy"], "legacy", true, true),
            (&["/legacy"], "services/legacy", true, false),
            (&["legacy/"], "legacy", false, false),
            (&["legacy/"], "a/legacy", true, true),
            (&["services/old"], "services/old", true, true),
            (&["services/old"], "x/services/old", true, false),
            (&["*.zip"], "dist/app.zip", false, true),
            (&["*.zip"], "dist/app.zipx", false, false),
            (&["app?.zip"], "app1.zip", false, true),
            (&["app?.zip"], "app12.zip", false, false),
            (&["a*b"], "a/b", true, false),
            (&["**/fixtures"], "fixtures", true, true),
            (&["**/fixtures"], "x/y/fixtures", true, true),
            (&["examples/**"], "examples/a/b", false, true),
            (&["examples/**"], "examples", true, true),
            (&["a/**/b"], "a/b", true, true),
            (&["a/**/b"], "a/x/y/b", true, true),
            (&["a/**/b"], "a/x/y/c", true, false),
            (&["examples/", "!examples/keep"], "examples/keep", true, true),
            (&["examples/", "!examples/keep"], "examples/drop", true, true),
            (&["examples/*", "!examples/keep"], "examples/keep", true, false),
            (&["examples/*", "!examples/keep"], "examples/keep/package-lock.json", false, false),
            (&["examples/*", "!examples/keep"], "examples/drop/package-lock.json", false, true),
            (&["legacy/"], "legacy/package-lock.json", false, true),
            (&["!x", "x"], "x", true, true),
            (&["*"], "anything/at/all", false, true),
            (&["tests/*/fixtures"], "tests/a/fixtures", true, true),
            (&["tests/*/fixtures"], "tests/a/b/fixtures", true, false),
            (&["./build"], "build", true, true),
        ] {
            assert_eq!(excluded(patterns, path, is_dir), want, "{patterns:?} {path} dir={is_dir}");
        }
    }

    #[test]
    fn bad_patterns_are_named() {
        for bad in ["", "!", "/", "a/../b", "a**b"] {
            let err = Excludes::new(&[bad]).expect_err(bad);
            assert_eq!(err.pattern, bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn wildcards_do_not_blow_up() {
        let name = "a".repeat(2000);
        assert!(!name_matches("*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(name_matches("*a*a*", &name));
    }
}
