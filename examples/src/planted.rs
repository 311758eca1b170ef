//! The examples with one bug planted each, for the crash tests that show
//! the explorer catching it. Each differs from its original in one place.

use crashproof_core::fs::Fs;
use crashproof_core::{Job, JobError};

use crate::export::{self, Durability, Export, ExportError};
use crate::word_count::{self, Counts, Summary};

/// [`word_count::WordCount`] that also reports words per line, from a line
/// counter it keeps in the job instead of in the checkpointed state: a
/// resumed run counts only its own lines.
#[derive(Debug, Clone, Default)]
pub struct LeakyWordCount {
    /// Lines processed by this process (the planted bug: not in `Counts`).
    lines: u64,
}

impl LeakyWordCount {
    /// The job over [`word_count::CORPUS`].
    pub fn new() -> Self {
        Self::default()
    }
}

impl Job for LeakyWordCount {
    type State = Counts;
    type Output = (Summary, u64);

    fn name(&self) -> &str {
        "leaky-word-count"
    }

    fn fingerprint(&self) -> u64 {
        word_count::WordCount.fingerprint()
    }

    fn item_count(&self) -> u64 {
        word_count::WordCount.item_count()
    }

    fn initial_state(&self) -> Counts {
        Counts::new()
    }

    fn process(&mut self, index: u64, counts: &mut Counts) -> Result<(), JobError> {
        self.lines += 1;
        word_count::count_line(index, counts)
    }

    /// The summary and the words per line (times 100).
    fn finalize(&mut self, counts: &Counts) -> Result<(Summary, u64), JobError> {
        let summary = word_count::summary(counts);
        let per_line = summary.words * 100 / self.lines.max(1);
        Ok((summary, per_line))
    }
}

/// [`export::run`] without the fsync of the temp file before the rename:
/// after a crash the renamed progress file may be empty.
pub fn export_without_fsync(
    fs: &dyn Fs,
    export: &Export,
    on_commit: &mut dyn FnMut(u64),
) -> Result<String, ExportError> {
    export::run_with(
        fs,
        export,
        on_commit,
        Durability {
            sync_before_rename: false,
        },
    )
}

/// [`crate::progress_file::run`] without the directory fsync after each
/// rename: the renamed progress file is not durable when the job reports
/// it committed, so a crash can lose acknowledged progress.
pub fn progress_file_without_dir_sync(
    config: &crate::progress_file::Config,
    on_commit: &mut dyn FnMut(u64),
) -> std::io::Result<String> {
    crate::progress_file::run_with(
        config,
        on_commit,
        crate::progress_file::Durability {
            sync_dir_after_rename: false,
        },
    )
}
