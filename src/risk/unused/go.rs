//! Go import scanner: finds `import "p"`, `import alias "p"` and `import ( ... )` blocks
//! (The Go Programming Language Specification, "Import declarations"), skipping comments and
//! string literals elsewhere; and `go.mod`'s module path resolution: the required module that
//! provides an import path is the one with the longest module path prefix.

use super::Import;

/// The import paths of one Go file, in source order.
pub fn scan(src: &str) -> Vec<Import> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1u32);
    let mut in_block = false;
    let mut after_import = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' => {
                line += 1;
                i += 1;
                after_import = after_import && in_block;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b.get(i) == Some(&b'*') && b.get(i + 1) == Some(&b'/')) {
                    line += u32::from(b.get(i) == Some(&b'\n'));
                    i += 1;
                }
                i += 2;
            }
            b'"' | b'`' => {
                let start = i + 1;
                i += 1;
                while let Some(&d) = b.get(i) {
                    if d == c {
                        break;
                    }
                    if d == b'\\' && c == b'"' {
                        i += 1;
                    } else if d == b'\n' {
                        if c == b'"' {
                            break;
                        }
                        line += 1;
                    }
                    i += 1;
                }
                if after_import && let Some(path) = src.get(start..i.min(b.len())) {
                    out.push(Import { spec: path.to_owned(), line, type_only: false });
                    after_import = in_block;
                }
                i += 1;
            }
            b'\'' => {
                i += 1;
                while b.get(i).is_some_and(|&d| d != b'\'' && d != b'\n') {
                    i += if b.get(i) == Some(&b'\\') { 2 } else { 1 };
                }
                i += 1;
            }
            b'(' if after_import => {
                in_block = true;
                i += 1;
            }
            b')' if in_block => {
                in_block = false;
                after_import = false;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while b.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_') {
                    i += 1;
                }
                let word = src.get(start..i).unwrap_or_default();
                if word == "import" && !in_block {
                    after_import = true;
                } else if !in_block && after_import {
                    // an alias: `import alias "p"` keeps waiting for the path
                } else if !in_block {
                    after_import = false;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The module path declared by `go.mod` (`module example.com/app`).
pub fn module_path(go_mod: &str) -> Option<&str> {
    go_mod.lines().find_map(|l| l.trim().strip_prefix("module ")).map(|m| m.trim().trim_matches('"'))
}

/// Which of `modules` provides `import_path`: the longest module path that is the import path
/// or a `/`-separated prefix of it.
pub fn providing_module<'m>(import_path: &str, modules: impl IntoIterator<Item = &'m str>) -> Option<&'m str> {
    modules
        .into_iter()
        .filter(|m| import_path == *m || import_path.strip_prefix(*m).is_some_and(|rest| rest.starts_with('/')))
        .max_by_key(|m| m.len())
}

/// A standard library path has no dot in its first element (`net/http`, `encoding/json`).
pub fn is_std(import_path: &str) -> bool {
    !import_path.split('/').next().unwrap_or_default().contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_single_aliased_and_block_imports() {
        let src = "package main\n\n// import \"no\"\nimport \"fmt\"\nimport lambda \"github.com/aws/aws-lambda-go/lambda\"\nimport (\n\t\"context\"\n\t_ \"embed\"\n\tsvc \"github.com/aws/aws-sdk-go-v2/service/s3\"\n\t. `example.com/dot`\n)\n\nfunc main() { s := \"import x\" }\n";
        let got: Vec<_> = scan(src).into_iter().map(|i| (i.spec, i.line)).collect();
        let want = [
            ("fmt", 4),
            ("github.com/aws/aws-lambda-go/lambda", 5),
            ("context", 7),
            ("embed", 8),
            ("github.com/aws/aws-sdk-go-v2/service/s3", 9),
            ("example.com/dot", 10),
        ];
        assert_eq!(got, want.map(|(s, l)| (s.to_owned(), l)));
    }

    #[test]
    fn longest_module_prefix_wins() {
        let modules = ["github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws"];
        assert_eq!(
            providing_module("github.com/aws/aws-sdk-go-v2/service/s3/types", modules),
            Some("github.com/aws/aws-sdk-go-v2/service/s3")
        );
        assert_eq!(providing_module("github.com/aws/aws-sdk-go-v2/aws", modules), Some("github.com/aws/aws-sdk-go-v2"));
        assert_eq!(providing_module("github.com/aws/aws-lambda-go/lambda", modules), None);
        assert!(is_std("net/http") && !is_std("golang.org/x/net"));
        assert_eq!(module_path("// c\nmodule example.com/app\n\ngo 1.22\n"), Some("example.com/app"));
    }
}
