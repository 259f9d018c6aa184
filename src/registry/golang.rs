//! Go: the module proxy protocol (<https://go.dev/ref/mod#goproxy-protocol>): `@v/list`,
//! `@v/{version}.info` (`Time`), `@latest`, and `@v/{version}.mod` of the newest version for
//! `retract` directives and the `// Deprecated:` comment of the module line. Module paths are
//! case-encoded (`!x` for `X`). `GOPROXY` lists (`,` falls through on 404/410 only, `|` on any
//! error), `direct`, `off`, and `GOPRIVATE`/`GONOPROXY` globs are honoured; `direct` means the
//! module is not evaluated: we never fetch from version control.

use std::borrow::Cow;

use jiff::Timestamp;
use serde::Deserialize;

use super::facts::{PackageFacts, ProjectStatus, VersionFacts};
use super::{RegistryError, parse_time};
use crate::package::{Ecosystem, PackageName};

/// One entry of a `GOPROXY` list and how to fall through to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyEntry {
    /// A proxy URL; `any_error`: reached with `|` (fall through on any error), not `,`.
    Url {
        url: String,
        any_error: bool,
    },
    Direct,
    Off,
}

/// Parses a `GOPROXY` value. Each entry carries the separator that *follows* it, which is what
/// decides whether an error from it falls through.
pub fn parse_goproxy(value: &str) -> Vec<ProxyEntry> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let end = rest.find([',', '|']).unwrap_or(rest.len());
        let (item, tail) = rest.split_at(end);
        let any_error = tail.starts_with('|');
        let item = item.trim();
        match item {
            "" => {}
            "direct" => out.push(ProxyEntry::Direct),
            "off" => out.push(ProxyEntry::Off),
            url => out.push(ProxyEntry::Url { url: url.trim_end_matches('/').to_owned(), any_error }),
        }
        rest = tail.get(1..).unwrap_or("");
    }
    out
}

/// Whether a module path matches a `GOPRIVATE`/`GONOPROXY` list: comma-separated globs (as
/// `path.Match`) matched against the path and each of its leading element prefixes.
pub fn matches_private(patterns: &str, module: &str) -> bool {
    let elements: Vec<&str> = module.split('/').collect();
    patterns.split(',').map(str::trim).filter(|p| !p.is_empty()).any(|pattern| {
        let n = pattern.split('/').count();
        n <= elements.len() && glob_match(pattern, &elements[..n].join("/"))
    })
}

/// `path.Match` for `*` (not crossing `/`), `?` and literal characters.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' && t[ti] != '/' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star.filter(|_| t[mark] != '/') {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Case-encodes a module path or version for the proxy: every upper-case letter becomes `!`
/// and its lower case.
pub fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Deserialize)]
struct InfoWire<'a> {
    #[serde(borrow, rename = "Version")]
    version: Cow<'a, str>,
    #[serde(borrow, default, rename = "Time")]
    time: Option<Cow<'a, str>>,
}

/// `@v/list`: one version per line.
pub fn parse_list(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// `@v/{version}.info` or `@latest`: the version and its time.
pub fn parse_info(url: &str, bytes: &[u8]) -> Result<(String, Option<Timestamp>), RegistryError> {
    let wire: InfoWire<'_> = serde_json::from_slice(bytes).map_err(|e| RegistryError::parse(url, "", &e))?;
    let time = match wire.time {
        Some(t) => Some(parse_time(&t).map_err(|m| RegistryError::key(url, "Time", m))?),
        None => None,
    };
    Ok((wire.version.into_owned(), time))
}

/// What a `go.mod` says of the module's own status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModStatus {
    /// The `// Deprecated:` paragraph of the comment on the module line.
    pub deprecated: Option<String>,
    /// `retract` directives: (low, high, rationale); a single version has low == high.
    pub retracted: Vec<(String, String, String)>,
}

/// Reads `// Deprecated:` and `retract` out of a go.mod (a small scanner, not a full parser: go
/// itself rejects a malformed go.mod before the proxy serves it).
pub fn parse_mod(bytes: &[u8]) -> ModStatus {
    let text = String::from_utf8_lossy(bytes);
    let mut status = ModStatus::default();
    let mut comments: Vec<String> = Vec::new();
    let mut in_retract_block = false;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix("//") {
            comments.push(comment.trim().to_owned());
            continue;
        }
        let (code, trailing) = match line.split_once("//") {
            Some((code, c)) => (code.trim(), Some(c.trim().to_owned())),
            None => (line, None),
        };
        if code.starts_with("module ") || code == "module" {
            comments.extend(trailing.clone());
            status.deprecated = deprecation(&comments);
        } else if in_retract_block {
            if code == ")" {
                in_retract_block = false;
            } else if !code.is_empty() {
                status.retracted.extend(retraction(code, &comments, trailing.as_deref()));
            }
        } else if let Some(rest) = code.strip_prefix("retract") {
            let rest = rest.trim();
            if rest == "(" {
                in_retract_block = true;
            } else {
                status.retracted.extend(retraction(rest, &comments, trailing.as_deref()));
            }
        }
        comments.clear();
    }
    status
}

fn deprecation(comments: &[String]) -> Option<String> {
    let start = comments.iter().position(|c| c.starts_with("Deprecated:"))?;
    let paragraph: Vec<&str> = comments[start..].iter().map(String::as_str).take_while(|c| !c.is_empty()).collect();
    Some(paragraph.join(" ").trim_start_matches("Deprecated:").trim().to_owned())
}

fn retraction(spec: &str, comments: &[String], trailing: Option<&str>) -> Option<(String, String, String)> {
    let rationale = trailing.map_or_else(|| comments.join(" "), str::to_owned);
    let spec = spec.trim();
    if let Some(range) = spec.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let (low, high) = range.split_once(',')?;
        Some((low.trim().to_owned(), high.trim().to_owned(), rationale))
    } else {
        let v = spec.split_whitespace().next()?;
        Some((v.to_owned(), v.to_owned(), rationale))
    }
}

fn in_range(version: &str, low: &str, high: &str) -> bool {
    let parse = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
    match (parse(version), parse(low), parse(high)) {
        (Some(v), Some(l), Some(h)) => {
            v.cmp_precedence(&l) != std::cmp::Ordering::Less && v.cmp_precedence(&h) != std::cmp::Ordering::Greater
        }
        _ => version == low || version == high,
    }
}

/// Assembles the facts of a module from the proxy's answers: versions with their times, the
/// `@latest` version, and the status read from the newest go.mod (`None`: not fetched).
pub fn facts(
    name: &PackageName,
    versions: Vec<(String, Option<Timestamp>)>,
    latest: Option<String>,
    status: Option<&ModStatus>,
    fetched_at: Timestamp,
) -> PackageFacts {
    let versions = versions
        .into_iter()
        .map(|(version, published)| {
            let yanked = status.and_then(|s| {
                s.retracted.iter().find(|(l, h, _)| in_range(&version, l, h)).map(|(_, _, why)| why.clone())
            });
            VersionFacts {
                version,
                published,
                publisher: None,
                provenance: None,
                install_scripts: None,
                deprecated: None,
                deprecation_known: false,
                yanked,
                yank_known: status.is_some(),
                dependencies: None,
                maintainers: None,
            }
        })
        .collect();
    PackageFacts {
        ecosystem: Ecosystem::Go,
        name: name.clone(),
        fetched_at,
        versions,
        maintainers: None,
        status: status.map(|s| match &s.deprecated {
            Some(message) => ProjectStatus::Deprecated { message: Some(message.clone()).filter(|m| !m.is_empty()) },
            None => ProjectStatus::Active,
        }),
        latest,
        dropped_times: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goproxy_lists_keep_their_separators() {
        assert_eq!(
            parse_goproxy("https://a.example|https://b.example/,direct"),
            vec![
                ProxyEntry::Url { url: "https://a.example".into(), any_error: true },
                ProxyEntry::Url { url: "https://b.example".into(), any_error: false },
                ProxyEntry::Direct,
            ]
        );
        assert_eq!(parse_goproxy("off"), vec![ProxyEntry::Off]);
    }

    #[test]
    fn private_globs_match_path_prefixes() {
        assert!(matches_private("*.corp.example,github.com/acme", "git.corp.example/team/x"));
        assert!(matches_private("github.com/acme", "github.com/acme/tool/v2"));
        assert!(!matches_private("github.com/acme", "github.com/acmex/tool"));
        assert!(matches_private("github.com/*/secret", "github.com/org/secret/sub"));
        assert!(!matches_private("", "github.com/acme"));
    }

    #[test]
    fn paths_are_case_encoded() {
        assert_eq!(escape("github.com/BurntSushi/toml"), "github.com/!burnt!sushi/toml");
    }

    #[test]
    fn go_mod_status_is_read() {
        let m = parse_mod(
            b"// Deprecated: use example.com/new instead.\nmodule example.com/old\n\ngo 1.21\n\n\
              retract v1.0.1 // published by mistake\nretract (\n\t// broken build\n\t[v1.1.0, v1.1.3]\n)\n",
        );
        assert_eq!(m.deprecated.as_deref(), Some("use example.com/new instead."));
        assert_eq!(
            m.retracted,
            vec![
                ("v1.0.1".into(), "v1.0.1".into(), "published by mistake".into()),
                ("v1.1.0".into(), "v1.1.3".into(), "broken build".into()),
            ]
        );
        assert!(in_range("v1.1.2", "v1.1.0", "v1.1.3"));
        assert!(!in_range("v1.1.4", "v1.1.0", "v1.1.3"));
    }
}
