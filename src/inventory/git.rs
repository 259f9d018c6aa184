//! What a record needs from git (top folder, HEAD's branch, commit, the `origin` remote), read
//! from the `.git` folder itself: a scan that records locally spawned four `git` processes
//! (~20 ms on a loaded runner) before. Loose refs, `packed-refs`, linked worktrees (`.git`
//! file, `commondir`) are read; whatever this reader does not handle (reftable refs, config
//! includes, `insteadOf` rewriting, `GIT_DIR`) is left to the `git` command by the caller.
//! Format: <https://git-scm.com/docs/gitrepository-layout>.

use std::path::{Path, PathBuf};

/// What was read; a `None` field is for the caller to ask `git` (or to leave unknown).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GitFacts {
    /// The folder holding `.git` (`git rev-parse --show-toplevel`).
    pub top: Option<PathBuf>,
    /// HEAD's branch (`refs/heads/...`); `None` when detached.
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// `remote.origin.url` of the repository's config.
    pub origin: Option<String>,
    /// This reader knows it cannot answer (reftable, includes, `insteadOf`): ask `git`.
    pub ask_git: bool,
}

/// Reads the repository holding `dir` (or one of its parents); `None` when there is none.
pub fn read(dir: &Path) -> Option<GitFacts> {
    if std::env::var_os("GIT_DIR").is_some() {
        return Some(GitFacts { ask_git: true, ..GitFacts::default() });
    }
    let dir = fs_err::canonicalize(dir).ok()?;
    let (top, gitdir) = dir.ancestors().find_map(|a| git_dir(a).map(|g| (a.to_owned(), g)))?;
    let common = match fs_err::read_to_string(gitdir.join("commondir")) {
        Ok(c) => gitdir.join(c.trim()),
        Err(_) => gitdir.clone(),
    };
    let mut facts = GitFacts { top: Some(top), ..GitFacts::default() };
    if common.join("reftable").is_dir() {
        facts.ask_git = true;
        return Some(facts);
    }
    let head = fs_err::read_to_string(gitdir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref:") {
        Some(name) => {
            let name = name.trim();
            facts.commit = resolve(&gitdir, &common, name);
            facts.git_ref = Some(name.to_owned());
        }
        None if is_object_id(head) => facts.commit = Some(head.to_owned()),
        None => facts.ask_git = true,
    }
    match fs_err::read_to_string(common.join("config")) {
        Ok(config) => match origin_url(&config) {
            Ok(url) => facts.origin = url,
            Err(Unsupported) => facts.ask_git = true,
        },
        Err(_) => facts.ask_git = true,
    }
    Some(facts)
}

/// `<dir>/.git` as a folder, or the folder a `.git` file (`gitdir: <path>`) points to.
fn git_dir(dir: &Path) -> Option<PathBuf> {
    let dot = dir.join(".git");
    if dot.is_dir() {
        return Some(dot);
    }
    let text = fs_err::read_to_string(&dot).ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    Some(dir.join(target)).filter(|p| p.is_dir())
}

/// The commit a ref names: its loose file (per-worktree first), else `packed-refs`.
fn resolve(gitdir: &Path, common: &Path, name: &str) -> Option<String> {
    if name.split('/').any(|part| part.is_empty() || part == "..") {
        return None;
    }
    for base in [gitdir, common] {
        if let Ok(text) = fs_err::read_to_string(base.join(name)) {
            let id = text.trim();
            return is_object_id(id).then(|| id.to_owned());
        }
    }
    let packed = fs_err::read_to_string(common.join("packed-refs")).ok()?;
    packed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .filter_map(|l| l.split_once(' '))
        .find(|(_, r)| r.trim() == name)
        .map(|(id, _)| id.to_owned())
        .filter(|id| is_object_id(id))
}

/// SHA-1 or SHA-256 hex.
fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A config this reader cannot evaluate alone.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported;

/// `url` of `[remote "origin"]` in a git config file (the last one wins, as in git); an
/// `[include]`/`[includeIf]` or an `insteadOf` rule anywhere means git must be asked.
pub fn origin_url(config: &str) -> Result<Option<String>, Unsupported> {
    let mut in_origin = false;
    let mut url = None;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let section = line.trim_start_matches('[').split(']').next().unwrap_or("").trim();
            let lower = section.to_ascii_lowercase();
            if lower == "include" || lower.starts_with("includeif") {
                return Err(Unsupported);
            }
            in_origin = lower.starts_with("remote") && section[6..].trim() == "\"origin\"";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim().to_ascii_lowercase();
        if key == "insteadof" || key == "pushinsteadof" {
            return Err(Unsupported);
        }
        if in_origin && key == "url" {
            let value = value.trim();
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            url = Some(value.to_owned());
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_url_is_read_and_rewriting_rules_are_left_to_git() {
        let config = "[core]\n\trepositoryformatversion = 0\n[remote \"upstream\"]\n\turl = https://github.com/up/x.git\n\
                      [remote \"origin\"]\n\turl = git@github.com:org/repo.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";
        assert_eq!(origin_url(config), Ok(Some("git@github.com:org/repo.git".to_owned())));
        assert_eq!(origin_url("[core]\n\tbare = false\n"), Ok(None));
        assert_eq!(origin_url("[url \"https://x/\"]\n\tinsteadOf = gh:\n"), Err(Unsupported));
        assert_eq!(origin_url("[include]\n\tpath = other\n"), Err(Unsupported));
    }

    /// The same answers as the git commands it replaces, on a real repository with a linked
    /// worktree and packed refs.
    #[test]
    fn a_real_repository_reads_as_git_says() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let git = |dir: &Path, args: &[&str]| {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@t.invalid", "-c", "init.defaultBranch=main"])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        fs_err::create_dir_all(repo.join("services/api")).unwrap();
        git(&repo, &["init", "-q"]);
        git(&repo, &["remote", "add", "origin", "https://github.com/org/repo.git"]);
        git(&repo, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let facts = read(&repo.join("services/api")).unwrap();
        assert_eq!(facts.top.as_deref(), Some(fs_err::canonicalize(&repo).unwrap().as_path()));
        assert_eq!(facts.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(facts.commit, Some(git(&repo, &["rev-parse", "HEAD"])));
        assert_eq!(facts.origin.as_deref(), Some("https://github.com/org/repo.git"));
        assert!(!facts.ask_git);

        git(&repo, &["pack-refs", "--all"]);
        git(&repo, &["worktree", "add", "-q", "-b", "feature", "../wt"]);
        git(&tmp.path().join("wt"), &["commit", "-q", "--allow-empty", "-m", "two"]);
        git(&tmp.path().join("wt"), &["pack-refs", "--all"]);
        let wt = read(&tmp.path().join("wt")).unwrap();
        assert_eq!(wt.git_ref.as_deref(), Some("refs/heads/feature"));
        assert_eq!(wt.commit, Some(git(&tmp.path().join("wt"), &["rev-parse", "HEAD"])));
        assert_eq!(wt.origin.as_deref(), Some("https://github.com/org/repo.git"));
        assert_eq!(read(&repo).unwrap().commit, Some(git(&repo, &["rev-parse", "HEAD"])), "packed-refs");

        git(&repo, &["checkout", "-q", "--detach"]);
        let detached = read(&repo).unwrap();
        assert_eq!(detached.git_ref, None);
        assert_eq!(detached.commit, Some(git(&repo, &["rev-parse", "HEAD"])));
        assert!(read(&std::env::temp_dir().join("bundleguard-no-such-folder")).is_none());
    }
}
