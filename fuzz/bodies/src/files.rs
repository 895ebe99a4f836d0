//! Scratch files for targets whose entry point reads files (workflows, provider
//! folders, recordings): one folder per thread and target, reused from one input to
//! the next (creating a folder per input would cost more than most parses), removed
//! when the thread ends. libFuzzer's process exits without running thread-local
//! destructors, so `scripts/fuzz` points `SCOPE_HOST_FUZZ_TMP` at a folder it
//! removes itself.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Scratch(Option<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch(None)) };
}

/// Runs `f` in this thread's scratch folder for `target`, created if need be.
pub(crate) fn in_dir<R>(target: &str, f: impl FnOnce(&Path) -> R) -> R {
    let dir = SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        s.0.get_or_insert_with(new_root).join(target)
    });
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("fuzz harness: creating {}: {e}", dir.display()));
    }
    f(&dir)
}

fn new_root() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::var_os("SCOPE_HOST_FUZZ_TMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let root = base.join(format!(
        "scope-host-fuzz-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("fuzz harness: creating {}: {e}", root.display()));
    root
}

/// Writes `content` to `dir/name`, or removes the file when there is none.
pub(crate) fn put(dir: &Path, name: &str, content: Option<&[u8]>) -> PathBuf {
    let path = dir.join(name);
    match content {
        Some(c) => std::fs::write(&path, c).unwrap_or_else(|e| panic!("fuzz harness: writing {}: {e}", path.display())),
        None => {
            let _ = std::fs::remove_file(&path);
        }
    }
    path
}

/// Empties `dir/name` (a folder), creating it if need be.
pub(crate) fn fresh_folder(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("fuzz harness: creating {}: {e}", path.display()));
    path
}
