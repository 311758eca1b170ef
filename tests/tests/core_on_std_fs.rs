//! The core suites on the real filesystem, each in its own temp directory.

use crashproof_core::fs::StdFs;
use crashproof_tests::core_suite::SuiteFn;

fn on_std_fs(test: SuiteFn) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("create a temp dir: {e}"))?;
    test(&StdFs::new(), dir.path())
}

crashproof_tests::core_suite_tests!(on_std_fs);

/// A `read_at` the OS refuses (an offset past `i64::MAX` is `EINVAL` for
/// `pread`) is returned as an error naming the file, not retried: only
/// `EINTR` is retried.
#[test]
fn std_fs_read_at_returns_an_os_error_instead_of_retrying() -> Result<(), String> {
    use crashproof_core::fs::{Fs, OpenMode};
    let dir = tempfile::tempdir().map_err(|e| format!("create a temp dir: {e}"))?;
    let fs = StdFs::new();
    let path = dir.path().join("f");
    let file = fs
        .open(&path, OpenMode::Create)
        .map_err(|e| format!("create: {e}"))?;
    let mut buf = [0u8; 8];
    let read = fs.read_at(&file, u64::MAX, &mut buf);
    fs.close(file).map_err(|e| format!("close: {e}"))?;
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            let text = e.to_string();
            if text.contains("read_at") && text.contains(&*path.to_string_lossy()) {
                Ok(())
            } else {
                Err(format!(
                    "the error does not name read_at and the file: {text}"
                ))
            }
        }
        other => Err(format!(
            "read_at at offset u64::MAX: {other:?}, expected EINVAL"
        )),
    }
}
