//! The bug zoo: deliberately broken checkpoint programs that the explorer
//! must catch, and the correct control it must pass.
//!
//! Each mutant is a small, self-contained program written against
//! [`Fs`](crashproof_core::fs::Fs) — not a flag inside the core — that
//! reproduces one bug seen in real checkpoint code (its module docs name the
//! pattern). All of them run the same job ([`CountingJob::SMALL`]: 40 items,
//! a checkpoint every 5) and, without crashes, produce exactly the control's
//! output: a mutant is only wrong when the machine dies at the wrong moment.
//!
//! Mutants that differ from the control only in how a checkpoint is
//! committed, loaded or cleaned up are [`CheckpointProtocol`]s run by the
//! generic [`ProtocolWorkload`]; mutants whose bug is in the job loop are
//! their own [`Workload`]s.

pub mod control;
pub mod envelope;
pub mod files;
pub mod hunt;
pub mod job;
pub mod m01_rename_before_fsync;
pub mod m02_no_dir_fsync;
pub mod m03_overwrite_in_place;
pub mod m04_delete_before_durable;
pub mod m05_checksum_unverified;
pub mod m06_backup_name_mismatch;
pub mod m07_exclusive_temp_blocks;
pub mod m08_manifest_after_delete;
pub mod m09_two_files;
pub mod m10_trust_newest;
pub mod m11_yield_before_commit;
pub mod m12_fsync_retried;
pub mod m13_recovery_rewrite_in_place;
pub mod protocol;

use std::fmt;
use std::path::{Path, PathBuf};

pub use job::{Checkpoint, CountingJob, JobState};
pub use protocol::{CheckpointProtocol, ProtocolWorkload};

use crashproof_sim::explore::Workload;

/// The directory the zoo programs checkpoint into on a simulated
/// filesystem: the root, which exists durably from the start.
pub const SIM_DIR: &str = "/";

/// Which exploration is needed to expose a mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Needs {
    /// Exhaustive single-crash exploration under the strict crash models.
    SingleCrash,
    /// A second crash during recovery: exhaustive two-crash exploration
    /// (or random multi-crash schedules, which may need many cases).
    MultiCrash,
    /// A fault injection (an fsync that fails with EIO) plus a crash.
    SyncEio,
}

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Needs::SingleCrash => "single crash",
            Needs::MultiCrash => "multi crash",
            Needs::SyncEio => "sync EIO + crash",
        })
    }
}

/// One catalogued bug.
pub struct Mutant {
    /// Stable kebab-case name (also the workload's name).
    pub name: &'static str,
    /// Its number in the catalogue (1-based, stable).
    pub number: u8,
    /// The real-world bug it stands for, in one sentence.
    pub pattern: &'static str,
    /// The buggy program.
    pub workload: Box<dyn Workload>,
    /// Which exploration catches it.
    pub needs: Needs,
}

impl fmt::Debug for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutant")
            .field("name", &self.name)
            .field("number", &self.number)
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}

/// Every mutant, in catalogue order, checkpointing into [`SIM_DIR`].
pub fn catalogue() -> Vec<Mutant> {
    catalogue_in(Path::new(SIM_DIR))
}

/// The correct control, checkpointing into [`SIM_DIR`].
pub fn control() -> Box<dyn Workload> {
    control_in(Path::new(SIM_DIR))
}

/// The correct control checkpointing into `dir` (which must exist).
pub fn control_in(dir: &Path) -> Box<dyn Workload> {
    Box::new(ProtocolWorkload::new(
        CountingJob::SMALL,
        dir,
        control::CorrectProtocol,
    ))
}

/// The control for the loop-level yield mutant: the same wallet-sync loop
/// with the safe order (commit, then check the sentinel), into [`SIM_DIR`].
pub fn yield_control() -> Box<dyn Workload> {
    yield_control_in(Path::new(SIM_DIR))
}

/// [`yield_control`] checkpointing into `dir` (which must exist).
pub fn yield_control_in(dir: &Path) -> Box<dyn Workload> {
    Box::new(m11_yield_before_commit::YieldAfterCommit::new(
        CountingJob::SMALL,
        dir,
    ))
}

/// Every control a mutant is compared with: [`control_in`] and
/// [`yield_control_in`]. Each must pass every exploration.
pub fn controls_in(dir: &Path) -> Vec<Box<dyn Workload>> {
    vec![control_in(dir), yield_control_in(dir)]
}

/// Every mutant checkpointing into `dir` (which must exist). On a real
/// filesystem give each mutant its own directory, or run them one at a time.
pub fn catalogue_in(dir: &Path) -> Vec<Mutant> {
    let dir: PathBuf = dir.to_path_buf();
    let job = CountingJob::SMALL;
    vec![
        Mutant {
            name: "rename-before-fsync",
            number: 1,
            pattern: "temp file renamed into place without fsyncing its data first \
                      (the ext4 zero-length-file bug)",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m01_rename_before_fsync::RenameBeforeFsync,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "no-dir-fsync",
            number: 2,
            pattern: "file fsynced and renamed, parent directory never fsynced: \
                      acknowledged but the new name is not durable",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m02_no_dir_fsync::NoDirFsync,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "overwrite-in-place",
            number: 3,
            pattern: "the only checkpoint file truncated and rewritten in place \
                      instead of temp + rename",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m03_overwrite_in_place::OverwriteInPlace,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "delete-before-durable",
            number: 4,
            pattern: "old checkpoint deleted before the new one is written and renamed \
                      into place",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m04_delete_before_durable::DeleteBeforeDurable,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "checksum-unverified",
            number: 5,
            pattern: "double-buffered slots overwritten in place with a checksum that \
                      the loader never verifies, so a torn slot is loaded",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m05_checksum_unverified::ChecksumUnverified,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "backup-name-mismatch",
            number: 6,
            pattern: "backup created as `.backup` but removed as `_backup.json` \
                      (Rooch review), so a stale backup is later restored",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m06_backup_name_mismatch::BackupNameMismatch,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "exclusive-temp-blocks",
            number: 7,
            pattern: "O_EXCL temp file orphaned by a crash makes every later commit \
                      fail with AlreadyExists (CCF review)",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m07_exclusive_temp_blocks::ExclusiveTempBlocks,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "manifest-after-delete",
            number: 8,
            pattern: "checkpoint files deleted before the list of live checkpoints is \
                      rewritten (the reverse of Feldera's order)",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m08_manifest_after_delete::ManifestAfterDelete,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "two-files",
            number: 9,
            pattern: "cursor and state kept in two files, each saved durably but one \
                      after the other",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m09_two_files::TwoFiles,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "trust-newest",
            number: 10,
            pattern: "resume trusts the newest checkpoint by name, with no fallback \
                      past a torn one",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m10_trust_newest::TrustNewest,
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "yield-before-commit",
            number: 11,
            pattern: "cooperative yield reports the batch synced and returns before \
                      committing it (tzel sync)",
            workload: Box::new(m11_yield_before_commit::YieldBeforeCommit::new(
                job,
                dir.clone(),
            )),
            needs: Needs::SingleCrash,
        },
        Mutant {
            name: "fsync-retried",
            number: 12,
            pattern: "failed fsync retried until it returns Ok and the data believed \
                      durable (fsyncgate)",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m12_fsync_retried::FsyncRetried,
            )),
            needs: Needs::SyncEio,
        },
        Mutant {
            name: "recovery-rewrite-in-place",
            number: 13,
            pattern: "recovery rewrites the checkpoint it resumes from in place \
                      (format upgrade), so a crash during recovery destroys it",
            workload: Box::new(ProtocolWorkload::new(
                job,
                dir.clone(),
                m13_recovery_rewrite_in_place::RecoveryRewriteInPlace,
            )),
            needs: Needs::MultiCrash,
        },
    ]
}

#[cfg(test)]
mod tests;
