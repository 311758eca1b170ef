//! Names of the protocol points where the core calls [`crate::fs::Fs::failpoint`].
//!
//! Each constant is one point in a durable protocol where a crash is
//! interesting, and [`CATALOGUE`] lists every one of them with a line saying
//! what is durable there: this module is the only place the names and their
//! documentation live. A simulator counts each call as a step; with the
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

/// The `return` argument that makes a failpoint end the process with
/// SIGKILL (only with the `failpoints` feature, only on [`crate::fs::StdFs`]):
/// `FAILPOINTS='replace.after_sync_before_rename=2*off->return(sigkill)'`
/// kills the process at the 3rd hit. Nothing unwinds and no destructor runs,
/// exactly as if `kill -9` had landed there; any other `return` argument
/// makes the failpoint return an error instead.
pub const KILL_ACTION_ARG: &str = "sigkill";

/// One named failpoint and what a crash there means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailpointDoc {
    /// The name passed to `Fs::failpoint` (and used in `FAILPOINTS`).
    pub name: &'static str,
    /// One line: where in the protocol it sits and what is durable there.
    pub doc: &'static str,
}

/// Every failpoint the core calls, in protocol order. A name used by the
/// core but missing here is caught by the test that runs every protocol
/// path and compares the names it passed with this list.
pub const CATALOGUE: &[FailpointDoc] = &[
    FailpointDoc {
        name: REPLACE_AFTER_SYNC_BEFORE_RENAME,
        doc: "replace: temp file written and fsynced, not yet renamed; the old target is still the durable one",
    },
    FailpointDoc {
        name: REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR,
        doc: "replace: renamed over the target, parent directory not yet fsynced; the new name may not survive a crash",
    },
    FailpointDoc {
        name: STORE_AFTER_WRITE_BEFORE_GC,
        doc: "store commit: the new generation is durable, older generations not yet collected; a crash leaves extra generations for startup GC",
    },
    FailpointDoc {
        name: RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE,
        doc: "runner: the final checkpoint (cursor == item_count) is durable, finalize not yet called; recovery must resume straight into finalize",
    },
];

/// The documentation line of `name`, if it is in the [`CATALOGUE`].
pub fn doc_of(name: &str) -> Option<&'static str> {
    CATALOGUE.iter().find(|d| d.name == name).map(|d| d.doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_names_are_unique_documented_and_schedule_safe() {
        let mut seen = std::collections::BTreeSet::new();
        for d in CATALOGUE {
            assert!(seen.insert(d.name), "duplicate {}", d.name);
            assert!(!d.doc.is_empty(), "{} has no doc line", d.name);
            // The kill-schedule grammar (`fp:NAME`) accepts these bytes only.
            assert!(
                d.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
                "{} cannot appear in a kill schedule",
                d.name
            );
        }
    }

    #[test]
    fn doc_of_finds_each_catalogued_name_and_nothing_else() {
        for d in CATALOGUE {
            assert_eq!(doc_of(d.name), Some(d.doc), "{}", d.name);
        }
        // Two different names must give two different lines: a lookup that
        // ignored the name would return the first line for both.
        assert_ne!(
            doc_of(REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR),
            doc_of(RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE)
        );
        assert_eq!(doc_of("not.a.failpoint"), None);
        assert_eq!(doc_of(""), None);
    }
}
