//! Imports scanned ahead: while discovery walks the scanned folder (one thread, on machines with
//! two cores or more: the others are idle then), a second thread reads and scans the source files
//! of each folder as the walk lists it ([`Prefetch`]). The check then takes a file's imports from
//! here ([`Prefetched`]) instead of reading and scanning it; a file not scanned ahead (the walk
//! ended first, a folder listed later, a file that could not be read) is read and scanned by the
//! check as before, so what the check finds does not depend on how far this got.
//!
//! Which function a folder belongs to is not known yet during the walk, so this reads every
//! source file the check could read (by name, outside the folders it skips); it stops when the
//! walk ends, and what it scanned but no check asks for is dropped. It holds imports only, never
//! the texts.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use super::{Import, Language, scan_imports};
use crate::bundle::code::{Budget, CodeFile, CodeLimits, EntryKind, is_skipped_dir, is_source_file};

/// One file scanned ahead: the length of its text (what a reader's [`Budget`] is charged) and
/// its imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    pub len: u64,
    pub imports: Vec<Import>,
}

/// The files scanned ahead, by the path they were read from (as the walk spells it).
#[derive(Debug, Default)]
pub struct Prefetched(HashMap<PathBuf, Scanned>);

impl Prefetched {
    pub fn get(&self, path: &Path) -> Option<&Scanned> {
        self.0.get(path)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The walk's side of a prefetch: [`Prefetch::folder`] hands each folder listed to the scanning
/// thread ([`Reader::run`]); [`Prefetch::finish`] ends it.
pub struct Prefetch {
    root: PathBuf,
    folders: mpsc::Sender<(PathBuf, Vec<OsString>)>,
    stop: Arc<AtomicBool>,
}

/// The scanning thread's side of a prefetch.
pub struct Reader {
    folders: mpsc::Receiver<(PathBuf, Vec<OsString>)>,
    stop: Arc<AtomicBool>,
}

/// A prefetch of the folder `root`: the walk's side and the scanning thread's.
pub fn channel(root: &Path) -> (Prefetch, Reader) {
    let (folders, received) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    (Prefetch { root: root.to_owned(), folders, stop: Arc::clone(&stop) }, Reader { folders: received, stop })
}

impl Prefetch {
    /// A folder the walk listed: its source files are to be scanned, unless the check skips the
    /// folder (a test, build or dependency folder below `root`).
    pub fn folder(&self, dir: &Path, entries: &[(OsString, EntryKind)]) {
        let rel = dir.strip_prefix(&self.root).unwrap_or(dir);
        if rel.components().any(|c| c.as_os_str().to_str().is_none_or(is_skipped_dir)) {
            return;
        }
        let files: Vec<OsString> = entries
            .iter()
            .filter(|(name, kind)| *kind == EntryKind::File && name.to_str().is_some_and(is_source_file))
            .map(|(name, _)| name.clone())
            .collect();
        if !files.is_empty() {
            // the thread is gone only when it stopped: nothing more is wanted
            let _ = self.folders.send((dir.to_owned(), files));
        }
    }

    /// The walk ended: the scanning ends at its next file (what was handed over but not scanned
    /// is dropped).
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Reader {
    /// Reads and scans the files of each folder received, until the walk's side finishes. A
    /// file that cannot be read or is over the limits is left to the check.
    pub fn run(self, limits: &CodeLimits) -> Prefetched {
        let mut out = HashMap::new();
        while let Ok((dir, files)) = self.folders.recv() {
            for name in files {
                if self.stop.load(Ordering::Relaxed) {
                    return Prefetched(out);
                }
                let Some(language) = name.to_str().and_then(Language::of_path) else { continue };
                let path = dir.join(&name);
                let file = CodeFile::on_disk(String::new(), path.clone());
                let Ok(text) = file.text(&mut Budget::new(limits)) else { continue };
                if let Some(imports) = scan_imports(language, text) {
                    out.insert(path, Scanned { len: text.len() as u64, imports });
                }
            }
        }
        Prefetched(out)
    }
}
