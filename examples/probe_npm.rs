use std::path::Path;
use bundleguard::lockfile::{parse, LockfileFormat, ParseInput};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = Path::new(&args[1]);
    let fmt = match path.file_name().and_then(|n| n.to_str()) { Some("yarn.lock") => LockfileFormat::YarnLock, Some("pnpm-lock.yaml") => LockfileFormat::PnpmLock, _ => LockfileFormat::NpmPackageLock };
    let bytes = std::fs::read(path).unwrap();
    let dir = path.parent().unwrap().to_path_buf();
    let read = move |rel: &Path| std::fs::read(dir.join(rel)).ok();
    let p = parse(fmt, &ParseInput { path, bytes: &bytes, read_sibling: &read }).unwrap();
    for w in &p.warnings { println!("W {w}"); }
    if args.len() > 2 { for (i, n) in p.graph.nodes().iter().enumerate() { println!("{i} {} {} {:?} {:?} root={} kids={:?}", n.name, n.version, n.scope, n.source, p.graph.is_root(i), p.graph.children(i)); } }
}
