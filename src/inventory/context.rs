//! Where a scan's record comes from: the repository, ref and commit (from the GitHub Actions
//! environment, else from git), the environment or stage it deploys to, the scan time and the
//! bundleguard version.

use std::path::Path;
use std::process::Command;

use jiff::Timestamp;

/// The identity and provenance shared by every function of one recorded scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordContext {
    /// `owner/name` (GitHub), a remote URL without credentials, or a local folder; empty when
    /// unknown.
    pub repository: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// The deploy stage (`prod`, `staging`...); empty when not known.
    pub environment: String,
    pub scanned_at: Timestamp,
    pub tool_version: String,
    /// An explicit deploy record (`scan --record deploy`), as opposed to a local scan.
    pub deploy: bool,
}

impl RecordContext {
    /// A local record with nothing detected.
    pub fn local(now: Timestamp) -> RecordContext {
        RecordContext {
            repository: String::new(),
            git_ref: None,
            commit: None,
            environment: String::new(),
            scanned_at: now,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            deploy: false,
        }
    }

    /// Detects the repository, ref and commit: `GITHUB_REPOSITORY`, `GITHUB_REF` and
    /// `GITHUB_SHA` when set (a GitHub Actions job), else the repository holding `root` (read
    /// from its `.git` folder; the `git` command only where that reader cannot answer), else the
    /// folder itself as the repository.
    pub fn detect(root: &Path, now: Timestamp) -> RecordContext {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let dir =
            if root.is_dir() { root } else { root.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(root) };
        let facts = super::git::read(dir).unwrap_or_default();
        let git = |args: &[&str]| if facts.ask_git { git_output(dir, args) } else { None };
        let repository = env("GITHUB_REPOSITORY")
            .or_else(|| {
                facts
                    .origin
                    .clone()
                    .or_else(|| git(&["remote", "get-url", "origin"]))
                    .map(|u| repository_from_remote(&u))
            })
            .or_else(|| {
                facts.top.as_ref().map(|t| t.display().to_string()).or_else(|| git(&["rev-parse", "--show-toplevel"]))
            })
            .unwrap_or_else(|| fs_err::canonicalize(root).unwrap_or_else(|_| root.to_owned()).display().to_string());
        RecordContext {
            repository,
            git_ref: env("GITHUB_REF")
                .or_else(|| facts.git_ref.clone().or_else(|| git(&["symbolic-ref", "-q", "HEAD"]))),
            commit: env("GITHUB_SHA")
                .or_else(|| facts.commit.clone().or_else(|| git(&["rev-parse", "-q", "--verify", "HEAD"]))),
            ..RecordContext::local(now)
        }
    }
}

fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// `https://user:token@github.com/org/repo.git` or `git@github.com:org/repo.git` -> `org/repo`
/// for GitHub; other remotes keep their host and path, never their credentials.
pub fn repository_from_remote(url: &str) -> String {
    let url = url.trim().trim_end_matches('/').trim_end_matches(".git");
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.replacen(':', "/", usize::from(!url.contains("://")));
    match rest.strip_prefix("github.com/") {
        Some(path) => path.to_owned(),
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::repository_from_remote;

    #[test]
    fn remotes_become_repository_names_without_credentials() {
        assert_eq!(repository_from_remote("https://x-access-token:abc@github.com/org/repo.git"), "org/repo");
        assert_eq!(repository_from_remote("git@github.com:org/repo.git"), "org/repo");
        assert_eq!(repository_from_remote("ssh://git@gitlab.example/team/svc"), "gitlab.example/team/svc");
        assert_eq!(repository_from_remote("https://github.com/org/repo/"), "org/repo");
    }
}
