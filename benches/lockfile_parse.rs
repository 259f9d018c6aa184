//! Parse throughput (MB/s of lockfile text) on the largest corpus file of each Python, Go and
//! Cargo format, and the 3,181-package npm shrinkwrap. Siblings (pyproject.toml, Pipfile, go.sum,
//! package.json) are read into memory first, so only
//! parsing is timed. Run: `cargo bench --bench lockfile_parse` (needs `../shared/corpus`).

#![expect(clippy::print_stdout, reason = "a benchmark reports its figures on stdout")]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bundleguard::lockfile::{LockfileFormat, ParseInput, parse};

const CASES: [(&str, LockfileFormat); 8] = [
    ("poetry-lock/powertools-lambda-python/poetry.lock", LockfileFormat::PoetryLock),
    ("uv-lock/uv-scripts-benchmark/uv.lock", LockfileFormat::UvLock),
    ("pdm-lock/pdm-root/pdm.lock", LockfileFormat::PdmLock),
    ("pipfile-lock/pipenv-root/Pipfile.lock", LockfileFormat::PipfileLock),
    ("requirements-txt/aws-sam-cli-requirements-dir/reproducible-linux.txt", LockfileFormat::Requirements),
    ("go-mod/grype-2025-07/go.mod", LockfileFormat::GoMod),
    ("cargo-lock/cargo-lambda-2026-v4/Cargo.lock", LockfileFormat::CargoLock),
    ("npm-shrinkwrap/powertools-lambda-typescript-2021-12-root/npm-shrinkwrap.json", LockfileFormat::NpmShrinkwrap),
];

fn siblings(dir: &Path) -> HashMap<PathBuf, Vec<u8>> {
    let mut map = HashMap::new();
    for name in ["pyproject.toml", "Pipfile", "go.sum", "package.json"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            map.insert(PathBuf::from(name), bytes);
        }
    }
    map
}

fn main() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        println!("skipped: ../shared/corpus not found");
        return;
    }
    println!("{:<72} {:>9} {:>9} {:>8}", "file", "bytes", "packages", "MB/s");
    for (rel, format) in CASES {
        let path = corpus.join(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            println!("{rel}: missing");
            continue;
        };
        let side = siblings(path.parent().unwrap_or(Path::new(".")));
        let read_sibling = |p: &Path| side.get(p).cloned();
        let input = ParseInput { path: &path, bytes: &bytes, read_sibling: &read_sibling };
        let packages = parse(format, &input).map_or(0, |p| p.graph.len());
        let mut runs = 0u32;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(2) || runs < 5 {
            black_box(parse(format, black_box(&input)).ok());
            runs += 1;
        }
        let seconds = start.elapsed().as_secs_f64();
        #[expect(clippy::cast_precision_loss, reason = "sizes are far below 2^52")]
        let mb_per_s = bytes.len() as f64 * f64::from(runs) / seconds / 1e6;
        println!("{rel:<72} {:>9} {packages:>9} {mb_per_s:>8.1}", bytes.len());
    }
}
