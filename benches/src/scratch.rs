//! Where the benches write: a fresh directory on the disk under test.

use std::io;
use std::path::{Path, PathBuf};

/// The environment variable naming the directory the benches write under
/// (point it at the disk you care about).
pub const BENCH_DIR_ENV: &str = "CRASHPROOF_BENCH_DIR";

/// The root the benches write under: `$CRASHPROOF_BENCH_DIR` if set and not
/// empty, else `default_root` (the benches pass cargo's
/// `CARGO_TARGET_TMPDIR`, inside the target directory).
pub fn bench_root(default_root: &Path) -> PathBuf {
    match std::env::var_os(BENCH_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => default_root.to_path_buf(),
    }
}

/// A fresh, empty directory named `<prefix>…` under [`bench_root`], removed
/// when the returned value is dropped. Fails if the root does not exist or
/// is not writable (the error names the root and the variable to set).
pub fn scratch_dir(default_root: &Path, prefix: &str) -> io::Result<tempfile::TempDir> {
    let root = bench_root(default_root);
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&root)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot create a scratch directory under {root:?} ({e}); \
                     set {BENCH_DIR_ENV} to a writable directory on the disk to measure"
                ),
            )
        })
}
