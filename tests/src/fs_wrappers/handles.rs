//! Which path each open handle was opened on, so handle operations (write,
//! sync, close) can be described and matched by path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crashproof_core::fs::FileHandle;

#[derive(Debug, Default)]
pub(crate) struct HandlePaths {
    paths: Mutex<BTreeMap<u64, PathBuf>>,
}

impl HandlePaths {
    pub(crate) fn opened(&self, handle: &FileHandle, path: &Path) {
        self.table().insert(handle.raw(), path.to_path_buf());
    }

    pub(crate) fn path(&self, handle: &FileHandle) -> PathBuf {
        self.table()
            .get(&handle.raw())
            .cloned()
            .unwrap_or_else(|| PathBuf::from(format!("<handle {}>", handle.raw())))
    }

    pub(crate) fn closed(&self, handle: &FileHandle) -> PathBuf {
        self.table()
            .remove(&handle.raw())
            .unwrap_or_else(|| PathBuf::from(format!("<handle {}>", handle.raw())))
    }

    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, PathBuf>> {
        // Each operation is one insert/get/remove: poison cannot leave the
        // table inconsistent.
        self.paths.lock().unwrap_or_else(|p| p.into_inner())
    }
}
