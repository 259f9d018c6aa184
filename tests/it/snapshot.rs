//! The one way CLI runs are asserted (as uv's `uv_snapshot!`): exit code, stdout and stderr of
//! a run in one transcript, with temporary paths and times redacted, compared with
//! `insta::assert_snapshot!`. A change to any of the three shows up in one reviewable diff.

use std::path::Path;

use assert_cmd::Command;

/// Runs `cmd` and returns its transcript:
///
/// ```text
/// exit: 1
/// --- stdout
/// ...
/// --- stderr
/// ...
/// ```
///
/// with every temporary folder made by `tempfile` (`<temp dir>/.tmpXXXXXX`) written `[TEMP]`
/// and every RFC 3339 time written `[TIME]`.
pub fn run_snapshot(cmd: &mut Command) -> String {
    run_snapshot_redacted(cmd, &[])
}

/// As [`run_snapshot`], also writing each `(path, label)`'s path as its label first (for paths
/// that are not under the temporary folder, or to tell two temporary folders apart).
pub fn run_snapshot_redacted(cmd: &mut Command, redactions: &[(&Path, &str)]) -> String {
    let out = cmd.output().expect("the command runs");
    let code = out.status.code().map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    let text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    redact(&text, redactions)
}

/// The redactions of [`run_snapshot_redacted`], on any text.
pub fn redact(text: &str, redactions: &[(&Path, &str)]) -> String {
    let mut text = text.to_owned();
    for (path, label) in redactions {
        for form in [path.to_path_buf(), path.canonicalize().unwrap_or_else(|_| path.to_path_buf())] {
            text = text.replace(&form.display().to_string(), label);
        }
    }
    let temp = std::env::temp_dir();
    for root in [temp.clone(), temp.canonicalize().unwrap_or(temp)] {
        text = redact_temp_folders(&text, &format!("{}/.tmp", root.display().to_string().trim_end_matches('/')));
    }
    redact_times(&text)
}

/// `<prefix>XXXXXX` (tempfile's random suffix) -> `[TEMP]`.
fn redact_temp_folders(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        out.push_str("[TEMP]");
        let after = &rest[at + prefix.len()..];
        let suffix = after.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(after.len());
        rest = &after[suffix..];
    }
    out.push_str(rest);
    out
}

/// `2026-12-06T21:34:15Z`, `2026-12-06T21:34:15.123456+00:00`, `2026-12-06 21:34:15` -> `[TIME]`.
fn redact_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if let Some(len) = time_at(&bytes[i..]) {
            out.push_str(&text[copied..i]);
            out.push_str("[TIME]");
            i += len;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Length of the time that starts `b`, if one does.
fn time_at(b: &[u8]) -> Option<usize> {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < SHAPE.len() {
        return None;
    }
    let fits = SHAPE.iter().zip(b).all(|(s, c)| match s {
        b'd' => c.is_ascii_digit(),
        b'T' => *c == b'T' || *c == b' ',
        s => s == c,
    });
    if !fits {
        return None;
    }
    let mut len = SHAPE.len();
    if b.get(len) == Some(&b'.') {
        len += 1;
        while b.get(len).is_some_and(u8::is_ascii_digit) {
            len += 1;
        }
    }
    match b.get(len) {
        Some(b'Z') => len += 1,
        Some(b'+' | b'-') if b.len() >= len + 6 && b[len + 3] == b':' => len += 6,
        _ => {}
    }
    Some(len)
}

#[test]
fn redactions() {
    let temp = std::env::temp_dir().display().to_string();
    let text = format!("db {temp}/.tmpAb12Cd/x.db synced 2026-12-06T21:34:15.123Z, 2026-01-02 03:04:05+00:00 ok");
    assert_eq!(redact(&text, &[]), "db [TEMP]/x.db synced [TIME], [TIME] ok");
    assert_eq!(redact("2026-12-06 is a date", &[]), "2026-12-06 is a date");
    assert_eq!(redact("/work/x/y", &[(Path::new("/work/x"), "[REPO]")]), "[REPO]/y");
}
