//! Suite: durable atomic replace.

use std::path::Path;

use crashproof_core::failpoint;
use crashproof_core::fs::{Fs, FsOp};
use crashproof_core::replace::{replace, temp_path};

use crate::check::{Ctx, SuiteResult, case_dir, names, write_file};
use crate::fs_wrappers::{FailRule, FailingFs, RecordedOp, RecordingFs};
use crate::{ensure, ensure_eq};

/// A new file gets the bytes and no temp file is left.
pub fn replace_creates_new_file(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "replace_new")?;
    let target = dir.join("state.json");
    replace(fs, &target, b"hello").ctx("replace")?;
    ensure_eq!(fs.read(&target).ctx("read")?, b"hello".to_vec(), "content");
    ensure_eq!(names(fs, &dir)?, vec!["state.json".to_owned()], "directory");
    Ok(())
}

/// An existing file is replaced whole.
pub fn replace_overwrites_old_file(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "replace_old")?;
    let target = dir.join("state.json");
    replace(fs, &target, b"old old old old").ctx("first replace")?;
    replace(fs, &target, b"new").ctx("second replace")?;
    ensure_eq!(fs.read(&target).ctx("read")?, b"new".to_vec(), "content");
    ensure_eq!(names(fs, &dir)?, vec!["state.json".to_owned()], "directory");
    Ok(())
}

/// A temp file left by a crash does not block the next replace (CCF's
/// `O_EXCL` bug), and is gone afterwards.
pub fn replace_leftover_temp_does_not_block(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "replace_leftover")?;
    let target = dir.join("state.json");
    replace(fs, &target, b"old").ctx("first replace")?;
    let temp = temp_path(&target).ctx("temp path")?;
    write_file(fs, &temp, b"half-written garbage from a crash")?;
    replace(fs, &target, b"new").ctx("replace over a leftover temp")?;
    ensure_eq!(fs.read(&target).ctx("read")?, b"new".to_vec(), "content");
    ensure!(
        !fs.exists(&temp).ctx("exists")?,
        "leftover temp {temp:?} still exists"
    );
    Ok(())
}

/// The exact protocol: exclusive create of the temp, write, fsync, close,
/// failpoint, rename, failpoint, directory fsync.
pub fn replace_follows_the_protocol_order(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "replace_order")?;
    let target = dir.join("state.json");
    let temp = temp_path(&target).ctx("temp path")?;
    let recording = RecordingFs::new(fs);
    replace(&recording, &target, b"bytes").ctx("replace")?;
    let op = |op, path: &Path, to: Option<&Path>| RecordedOp {
        op,
        path: path.to_path_buf(),
        to: to.map(Path::to_path_buf),
        ok: true,
    };
    let expected = vec![
        op(FsOp::Open, &temp, None),
        op(FsOp::WriteAllAt, &temp, None),
        op(FsOp::Sync, &temp, None),
        op(FsOp::Close, &temp, None),
        op(
            FsOp::Failpoint,
            Path::new(failpoint::REPLACE_AFTER_SYNC_BEFORE_RENAME),
            None,
        ),
        op(FsOp::Rename, &temp, Some(&target)),
        op(
            FsOp::Failpoint,
            Path::new(failpoint::REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR),
            None,
        ),
        op(FsOp::SyncDir, &dir, None),
    ];
    ensure_eq!(recording.ops(), expected, "operation sequence");
    Ok(())
}

/// Fails `rule` during a replace over old content: the error is returned,
/// the old content is intact and the temp file is removed.
fn failure_keeps_old_content(fs: &dyn Fs, root: &Path, case: &str, op: FsOp) -> SuiteResult {
    let dir = case_dir(fs, root, case)?;
    let target = dir.join("state.json");
    replace(fs, &target, b"old content").ctx("first replace")?;
    let failing = FailingFs::new(fs, FailRule::first(op, ".crashproof-tmp"));
    let result = replace(&failing, &target, b"new content");
    ensure!(failing.fired(), "the injected {op} failure never happened");
    ensure!(result.is_err(), "replace returned Ok although {op} failed");
    ensure_eq!(
        fs.read(&target).ctx("read")?,
        b"old content".to_vec(),
        "content after failed {op}"
    );
    ensure_eq!(
        names(fs, &dir)?,
        vec!["state.json".to_owned()],
        "directory after failed {op}"
    );
    Ok(())
}

/// A failed fsync is an error, never a false success; old content intact.
pub fn replace_failed_sync_keeps_old_content(fs: &dyn Fs, root: &Path) -> SuiteResult {
    failure_keeps_old_content(fs, root, "replace_fail_sync", FsOp::Sync)
}

/// A failed write leaves the old content and no temp.
pub fn replace_failed_write_keeps_old_content(fs: &dyn Fs, root: &Path) -> SuiteResult {
    failure_keeps_old_content(fs, root, "replace_fail_write", FsOp::WriteAllAt)
}

/// A failed close is checked (CCF's review), not ignored.
pub fn replace_failed_close_keeps_old_content(fs: &dyn Fs, root: &Path) -> SuiteResult {
    failure_keeps_old_content(fs, root, "replace_fail_close", FsOp::Close)
}

/// A failed rename leaves the old content and no temp.
pub fn replace_failed_rename_keeps_old_content(fs: &dyn Fs, root: &Path) -> SuiteResult {
    failure_keeps_old_content(fs, root, "replace_fail_rename", FsOp::Rename)
}

/// A failed directory fsync after the rename is reported: the caller must
/// not treat the write as committed.
pub fn replace_failed_dir_sync_is_an_error(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "replace_fail_sync_dir")?;
    let target = dir.join("state.json");
    replace(fs, &target, b"old").ctx("first replace")?;
    let failing = FailingFs::new(fs, FailRule::first(FsOp::SyncDir, &dir.to_string_lossy()));
    let result = replace(&failing, &target, b"new");
    ensure!(
        failing.fired(),
        "the injected sync_dir failure never happened"
    );
    ensure!(
        result.is_err(),
        "replace returned Ok although sync_dir failed"
    );
    Ok(())
}

/// A failure creating the temp file other than "it already exists" is
/// returned as it is: no removal of a temp that is not there, no retry.
pub fn replace_create_error_is_returned_unchanged(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "replace_create_error")?;
    let target = dir.join("state.json");
    replace(fs, &target, b"old").ctx("first replace")?;
    let failing = FailingFs::new(
        fs,
        FailRule {
            kind: std::io::ErrorKind::PermissionDenied,
            ..FailRule::first(FsOp::Open, "crashproof-tmp")
        },
    );
    let recording = RecordingFs::new(&failing);
    let err = match replace(&recording, &target, b"new") {
        Err(e) => e,
        Ok(()) => return Err("an injected create failure was ignored".to_owned()),
    };
    ensure!(failing.fired(), "the create failure was not injected");
    ensure_eq!(
        err.kind(),
        std::io::ErrorKind::PermissionDenied,
        "error kind: {err}"
    );
    let ops: Vec<FsOp> = recording.ops().iter().map(|o| o.op).collect();
    ensure_eq!(ops, vec![FsOp::Open], "calls after a failed create");
    ensure_eq!(fs.read(&target).ctx("read")?, b"old".to_vec(), "content");
    Ok(())
}
