//! The core suites on the real filesystem, each in its own temp directory.

use crashproof_core::fs::StdFs;
use crashproof_tests::core_suite::SuiteFn;

fn on_std_fs(test: SuiteFn) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("create a temp dir: {e}"))?;
    test(&StdFs::new(), dir.path())
}

crashproof_tests::core_suite_tests!(on_std_fs);
