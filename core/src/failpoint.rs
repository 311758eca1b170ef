//! Names of the protocol points where the core calls [`crate::fs::Fs::failpoint`].
//!
//! Each constant is one point in a durable protocol where a crash is
//! interesting. A simulator counts each call as a step; with the
//! `failpoints` feature, `StdFs` consults the `fail` crate under the same
//! name (`FAILPOINTS=replace.after_sync_before_rename=panic`).

/// In [`crate::replace()`], after the temp file is written and fsynced and
/// before it is renamed over the target.
pub const REPLACE_AFTER_SYNC_BEFORE_RENAME: &str = "replace.after_sync_before_rename";
/// In [`crate::replace()`], after the rename and before the parent directory
/// is fsynced: the new name is visible but not yet durable.
pub const REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR: &str = "replace.after_rename_before_sync_dir";
/// In [`crate::store::CheckpointStore::commit`] and the runner's commit,
/// after the new generation is durable and before GC removes older ones.
pub const STORE_AFTER_WRITE_BEFORE_GC: &str = "store.after_write_before_gc";
/// In [`crate::Runner::run`], after the final checkpoint (cursor ==
/// item_count) is durable and before `finalize` is called: a crash here must
/// resume straight into `finalize`.
pub const RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE: &str =
    "runner.after_final_commit_before_finalize";
