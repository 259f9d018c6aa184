//! Benchmark: import scanning throughput (MB/s per language) over all source code under the
//! corpus monorepos (`../shared/corpus/monorepos`, or `$BUNDLEGUARD_SHARED/corpus/monorepos`),
//! plus any folders in `$BUNDLEGUARD_BENCH_CODE` (`:`-separated) for a larger sample. Files are
//! read once into memory; the timing covers only `scan_imports`. Skips visibly when there is no
//! code to scan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bundleguard::risk::unused::{Language, MAX_SOURCE_BYTES, scan_imports};

const SKIP: &[&str] = &[".git", "target", "__pycache__"];

fn collect(dir: &Path, out: &mut BTreeMap<Language, Vec<String>>) {
    let Ok(entries) = fs_err::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        match entry.file_type() {
            Ok(t) if t.is_dir() && !SKIP.contains(&name.as_str()) => collect(&path, out),
            Ok(t) if t.is_file() => {
                let Some(language) = Language::of_path(&name) else { continue };
                if let Ok(bytes) = fs_err::read(&path)
                    && bytes.len() <= MAX_SOURCE_BYTES
                {
                    out.entry(language).or_default().push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            _ => {}
        }
    }
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn main() {
    let shared = std::env::var_os("BUNDLEGUARD_SHARED")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"), PathBuf::from);
    let mut dirs = vec![shared.join("corpus/monorepos")];
    if let Some(extra) = std::env::var_os("BUNDLEGUARD_BENCH_CODE") {
        dirs.extend(std::env::split_paths(&extra));
    }
    let mut files: BTreeMap<Language, Vec<String>> = BTreeMap::new();
    for dir in &dirs {
        if dir.is_dir() {
            collect(dir, &mut files);
        } else {
            println!("import_scan: {} not found: skipped", dir.display());
        }
    }
    if files.is_empty() {
        println!(
            "import_scan: no JavaScript, TypeScript, Python, Go or Rust source in {dirs:?}: nothing to measure (skipped)"
        );
        return;
    }
    for (language, sources) in &files {
        let bytes: usize = sources.iter().map(String::len).sum();
        let mut best = f64::MAX;
        let mut imports = 0;
        for _ in 0..5 {
            let start = Instant::now();
            imports = sources.iter().map(|s| scan_imports(*language, s).map_or(0, |v| v.len())).sum::<usize>();
            best = best.min(start.elapsed().as_secs_f64());
        }
        #[expect(clippy::cast_precision_loss, reason = "sizes in MB for display")]
        let mb = bytes as f64 / 1e6;
        println!(
            "import_scan: {language:?}: {} files, {mb:.1} MB, {imports} imports: best of 5 {best:.3} s ({:.0} MB/s)",
            sources.len(),
            mb / best
        );
    }
}
