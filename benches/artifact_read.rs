//! Benchmark: reading a ~50 MB deployment zip with 2,000 npm packages (target: under 0.5 s).
//! The zip is generated in memory (incompressible payload so its size is real), written to a
//! temporary file, and read with `bundle::read_artifact` like a scan does.

use std::io::Write as _;
use std::time::Instant;

use bundleguard::bundle::{Limits, read_artifact};

fn main() -> std::io::Result<()> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut noise = vec![0u8; 25_000];
    for i in 0..2000 {
        for byte in &mut noise {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *byte = seed.to_le_bytes()[0];
        }
        let manifest = format!(r#"{{"name":"pkg-{i}","version":"1.0.{i}","description":"benchmark package"}}"#);
        writer.start_file(format!("node_modules/pkg-{i}/package.json"), options).map_err(std::io::Error::other)?;
        writer.write_all(manifest.as_bytes())?;
        writer.start_file(format!("node_modules/pkg-{i}/index.js"), options).map_err(std::io::Error::other)?;
        writer.write_all(&noise)?;
    }
    let bytes = writer.finish().map_err(std::io::Error::other)?.into_inner();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("function.zip");
    fs_err::write(&path, &bytes)?;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let artifact = read_artifact(&path, &Limits::default()).map_err(std::io::Error::other)?;
        best = best.min(start.elapsed().as_secs_f64());
        assert_eq!(artifact.entries.len(), 2000);
    }
    #[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
    {
        #[expect(clippy::cast_precision_loss, reason = "a size in MB for display")]
        let mb = bytes.len() as f64 / 1e6;
        println!("artifact_read: {mb:.1} MB zip, 2000 packages: best of 5 {:.3} s ({:.0} MB/s)", best, mb / best);
    }
    Ok(())
}
