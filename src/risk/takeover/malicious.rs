//! Which finding code an advisory of the database stands for: `takeover/malicious` for
//! malicious-package records, the true kind of RustSec informational records, and
//! `vulnerability/advisory` for everything else. This is the advisory side of issue 10: the
//! facts come from OSV records (<https://ossf.github.io/osv-schema/>), not from registries.
//!
//! - OpenSSF malicious-packages records (`MAL-` id or alias) and records whose
//!   `database_specific.cwe_ids` hold CWE-506 (*Embedded Malicious Code*, as GHSA files
//!   ua-parser-js, coa, rc and event-stream) are `takeover/malicious`, critical.
//! - RustSec informational records (`affected[].database_specific.informational`, what
//!   cargo-audit reports as warnings): `unmaintained` is `stale/unmaintained`, `unsound` is
//!   `vulnerability/unsound`, `notice` is `vulnerability/notice`; default level low.
//! - Anything else is `vulnerability/advisory`, whose level is the advisory's own severity
//!   (the policy's `unknown-severity`, default high, when the record has none).

use crate::advisory::osv::{Advisory, Labels};
use crate::risk::stale;
use crate::vocab::{Code, Level};

/// The same code as [`crate::risk::VULNERABILITY`].
pub const VULNERABILITY_ADVISORY: Code = crate::risk::VULNERABILITY;
pub const VULNERABILITY_UNSOUND: Code = Code::new("vulnerability/unsound");
pub const VULNERABILITY_NOTICE: Code = Code::new("vulnerability/notice");

/// The codes [`advisory_code`] returns, with their default level and doc. (`vulnerability/*`
/// belong with the vulnerability findings; they are declared here until that module exists.)
pub const ADVISORY_CODES: &[(Code, Level, &str)] = &[
    (super::MALICIOUS, Level::Critical, "an OSV MAL- record or an advisory with CWE-506 (embedded malicious code)"),
    (stale::UNMAINTAINED, Level::Low, "a RustSec informational `unmaintained` advisory"),
    (VULNERABILITY_UNSOUND, Level::Low, "a RustSec informational `unsound` advisory"),
    (VULNERABILITY_NOTICE, Level::Low, "a RustSec informational `notice` advisory"),
    (VULNERABILITY_ADVISORY, Level::High, "a vulnerability advisory (level: its severity; high when it has none)"),
];

/// CWE-506: Embedded Malicious Code.
const CWE_MALICIOUS: &str = "CWE-506";

/// The code of a parsed advisory.
pub fn advisory_code(advisory: &Advisory) -> Code {
    classify(&advisory.id, &advisory.aliases, &advisory.labels)
}

/// The code of an advisory known by its id, aliases and labels (for the matcher's grouped
/// vulnerabilities: pass the labels of any of the grouped records; malicious wins).
pub fn classify(id: &str, aliases: &[String], labels: &Labels) -> Code {
    if crate::finding::is_malicious(id, aliases) || labels.cwe_ids.iter().any(|c| c.eq_ignore_ascii_case(CWE_MALICIOUS))
    {
        return super::MALICIOUS;
    }
    match labels.informational.as_deref() {
        Some("unmaintained") => stale::UNMAINTAINED,
        Some("unsound") => VULNERABILITY_UNSOUND,
        Some("notice") => VULNERABILITY_NOTICE,
        _ => VULNERABILITY_ADVISORY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::osv::parse_record;

    fn code_of(json: &str) -> Code {
        advisory_code(&parse_record(json.as_bytes()).unwrap())
    }

    #[test]
    fn malicious_records_by_id_alias_and_cwe() {
        // The shape of MAL-2022-1 (rustdecimal) and GHSA-pjwm-rvh2-c87w (ua-parser-js) in the
        // osv.dev export of /work/shared/osv.
        let mal = r#"{"id":"MAL-2022-1","modified":"2023-01-07T05:08:16Z","summary":"Malicious code in rustdecimal (crates.io)",
            "affected":[{"package":{"ecosystem":"crates.io","name":"rustdecimal"},"database_specific":{"cwes":[]}}]}"#;
        assert_eq!(code_of(mal), super::super::MALICIOUS);
        let alias =
            r#"{"id":"GHSA-7pwq-f4pq-78gm","modified":"2023-01-07T05:08:16Z","aliases":["MAL-2022-1"],"affected":[]}"#;
        assert_eq!(code_of(alias), super::super::MALICIOUS);
        let cwe = r#"{"id":"GHSA-pjwm-rvh2-c87w","modified":"2021-10-22T20:38:14Z","summary":"Embedded malware in ua-parser-js",
            "affected":[{"package":{"ecosystem":"npm","name":"ua-parser-js"},"versions":["0.7.29"]}],
            "database_specific":{"cwe_ids":["CWE-506"],"severity":"CRITICAL","github_reviewed":true}}"#;
        assert_eq!(code_of(cwe), super::super::MALICIOUS);
    }

    #[test]
    fn rustsec_informational_records_keep_their_kind() {
        let record = |kind: &str| {
            format!(
                r#"{{"id":"RUSTSEC-2016-0004","modified":"2020-10-02T01:29:11Z","affected":[{{"package":{{"ecosystem":"crates.io","name":"libusb"}},
                "database_specific":{{"categories":[],"cvss":null,"informational":{kind}}}}}]}}"#
            )
        };
        assert_eq!(code_of(&record("\"unmaintained\"")), stale::UNMAINTAINED);
        assert_eq!(code_of(&record("\"unsound\"")), VULNERABILITY_UNSOUND);
        assert_eq!(code_of(&record("\"notice\"")), VULNERABILITY_NOTICE);
        assert_eq!(code_of(&record("null")), VULNERABILITY_ADVISORY);
    }

    #[test]
    fn ordinary_advisories_stay_vulnerabilities() {
        let redos = r#"{"id":"GHSA-394c-5j6w-4xmx","modified":"2022-02-09T22:46:53Z","aliases":["CVE-2020-7793"],
            "affected":[{"package":{"ecosystem":"npm","name":"ua-parser-js"}}],"database_specific":{"cwe_ids":["CWE-400"]}}"#;
        assert_eq!(code_of(redos), VULNERABILITY_ADVISORY);
    }

    #[test]
    fn advisory_codes_are_well_formed() {
        for (code, _, doc) in ADVISORY_CODES {
            assert!(code.as_str().starts_with(code.kind().as_str()), "{code}");
            assert!(!doc.is_empty());
        }
    }

    /// Every informational record of the real crates.io export classifies as its kind; visible
    /// skip without ../shared.
    #[test]
    fn real_rustsec_records_classify() {
        let zip_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/osv/crates.io/all.zip");
        let Ok(file) = fs_err::File::open(&zip_path) else {
            #[expect(clippy::print_stderr, reason = "a visible skip, as the project's tests do without ../shared")]
            {
                eprintln!("skipped: ../shared not found ({})", zip_path.display());
            }
            return;
        };
        let mut archive = zip::ZipArchive::new(file).expect("crates.io all.zip opens");
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).expect("entry reads");
            let Ok(advisory) = parse_record(&bytes) else { continue };
            *counts.entry(advisory_code(&advisory).as_str()).or_default() += 1;
        }
        // 267 unmaintained, 203 unsound, 6 notice in the 2026-08 export (grep of the records).
        assert!(counts.get("stale/unmaintained").copied().unwrap_or(0) >= 200, "{counts:?}");
        assert!(counts.get("vulnerability/unsound").copied().unwrap_or(0) >= 150, "{counts:?}");
        assert!(counts.get("takeover/malicious").copied().unwrap_or(0) >= 1, "{counts:?}");
    }
}
