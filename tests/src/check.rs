//! Assertion helpers that return `Err(String)` instead of panicking, and
//! small filesystem helpers for the suites.

use std::fmt::Display;
use std::path::Path;

use crashproof_core::fs::Fs;

/// What every suite function returns: `Err` describes the failed check.
pub type SuiteResult = Result<(), String>;

/// Returns `Err(format!(...))` from the enclosing function unless `cond`.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!("{} (check failed: {})", format!($($fmt)+), stringify!($cond)));
        }
    };
}

/// Returns `Err` from the enclosing function unless `left == right`.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($fmt:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err(format!(
                        "{}: left {:?} != right {:?}",
                        format!($($fmt)+),
                        left,
                        right
                    ));
                }
            }
        }
    };
}

/// Adds context to an error and turns it into the suite's `String` error.
pub trait Ctx<T> {
    /// `Err(e)` becomes `Err("<what>: <e>")`; `None` becomes `Err(what)`.
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T, E: Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

impl<T> Ctx<T> for Option<T> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| what.to_owned())
    }
}

/// Writes `bytes` to `path` (create or truncate), fsyncs and closes it. Not
/// atomic: for planting files in tests.
pub fn write_file(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> SuiteResult {
    let file = fs.open_truncate(path).ctx("open for planting")?;
    let written = fs
        .write_all_at(&file, 0, bytes)
        .and_then(|()| fs.sync(&file));
    let closed = fs.close(file);
    written.and(closed).ctx("write planted file")
}

/// The names in `dir`, sorted.
pub fn names(fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, String> {
    Ok(fs
        .read_dir(dir)
        .ctx("read_dir")?
        .into_iter()
        .map(|e| e.name)
        .collect())
}

/// Flips one bit of the byte at `at` in `path` (rewriting the file), to
/// simulate corruption of durable data.
pub fn flip_bit(fs: &dyn Fs, path: &Path, at: usize) -> SuiteResult {
    let mut bytes = fs.read(path).ctx("read file to corrupt")?;
    let len = bytes.len();
    let byte = bytes
        .get_mut(at)
        .ctx(&format!("byte {at} of a {len}-byte file"))?;
    *byte ^= 0x10;
    write_file(fs, path, &bytes)
}

/// Creates `root/<case>` and returns it.
pub fn case_dir(fs: &dyn Fs, root: &Path, case: &str) -> Result<std::path::PathBuf, String> {
    let dir = root.join(case);
    fs.create_dir_all(&dir).ctx("create case directory")?;
    Ok(dir)
}
