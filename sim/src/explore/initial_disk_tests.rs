//! A workload that starts from an initial disk: crash points count from the
//! first step of the real run, the initial disk is durable and shown in the
//! trace, and what it acknowledged is held against every crash state.

use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_fault::{CrashModel, KillSchedule};

use super::*;
use crate::SimFs;
use crate::SimView;

const CKPT: &str = "/ckpt";
const TEMP: &str = "/ckpt.tmp";

fn id(cursor: u64) -> CheckpointId {
    CheckpointId {
        cursor,
        state_digest: cursor,
    }
}

/// Resumes from the cursor-5 checkpoint an earlier process left in `/ckpt`
/// and commits cursor 10 with temp + fsync + rename + directory fsync; or,
/// broken, deletes the initial checkpoint without replacing it.
struct Resumes {
    broken: bool,
    /// Whether the earlier process was told its checkpoint is durable (else
    /// it only wrote it).
    acknowledges: bool,
    /// Whether the initial disk fails instead of writing anything.
    fails: bool,
}

impl Resumes {
    fn correct() -> Self {
        Self {
            broken: false,
            acknowledges: true,
            fails: false,
        }
    }
}

fn write_durably(fs: &dyn Fs, path: &str, bytes: &[u8]) -> Result<(), WorkloadError> {
    let file = fs.open_truncate(Path::new(path))?;
    fs.write_all_at(&file, 0, bytes)?;
    fs.sync(&file)?;
    fs.close(file)?;
    Ok(())
}

fn cursor_on(fs: &dyn Fs) -> Result<Option<u64>, WorkloadError> {
    if !fs.exists(Path::new(CKPT))? {
        return Ok(None);
    }
    let text = String::from_utf8(fs.read(Path::new(CKPT))?)
        .map_err(|e| WorkloadError::Invariant(e.to_string()))?;
    text.parse()
        .map(Some)
        .map_err(|e| WorkloadError::Invariant(format!("{text:?}: {e}")))
}

impl Workload for Resumes {
    fn name(&self) -> String {
        format!("resumes-broken-{}", self.broken)
    }

    fn initial_disk(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<(), WorkloadError> {
        if self.fails {
            return Err(WorkloadError::Invariant("no earlier process".into()));
        }
        write_durably(fs, CKPT, b"5")?;
        fs.sync_dir(Path::new("/"))?;
        if self.acknowledges {
            progress.acknowledge(id(5));
        } else {
            progress.attempt(id(5));
        }
        Ok(())
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let resumed_from = cursor_on(fs)?;
        if self.broken {
            if resumed_from.is_some() {
                fs.remove_file(Path::new(CKPT))?;
                fs.sync_dir(Path::new("/"))?;
            }
        } else if resumed_from != Some(10) {
            progress.attempt(id(10));
            write_durably(fs, TEMP, b"10")?;
            fs.rename(Path::new(TEMP), Path::new(CKPT))?;
            fs.sync_dir(Path::new("/"))?;
            progress.acknowledge(id(10));
        }
        Ok(Completion {
            output: "done".into(),
            resumed_from,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        Ok(Recovered {
            checkpoint: cursor_on(fs)?.map(id),
        })
    }

    fn redo_bound(&self) -> u64 {
        100
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        Ok(fs
            .read_dir(Path::new("/"))?
            .into_iter()
            .map(|e| e.name)
            .filter(|n| n != "ckpt")
            .collect())
    }
}

#[test]
fn crash_points_start_after_the_initial_disk() {
    let w = Resumes::correct();
    let ex = Explorer::new(&w, ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    // The same run by hand: the initial disk's steps are not counted.
    let fs = SimFs::default();
    let mut progress = Progress::new();
    w.initial_disk(&fs, &mut progress).unwrap();
    let initial_steps = fs.steps();
    assert!(initial_steps > 0);
    w.run(&fs, &mut progress).unwrap();
    assert_eq!(clean.steps, fs.steps() - initial_steps);
    assert_eq!(clean.trace.entries.len() as u64, clean.steps);
    assert_eq!(clean.trace.entries[0].step.index, 0);
    assert!(clean.trace.entries[0].to_string().contains("/ckpt"));
    for model in CrashModel::ALL {
        let r = ex.explore_exhaustive(model).unwrap();
        assert!(r.is_clean(), "{r}");
        assert_eq!(r.passes[0].crash_points, clean.steps + 1);
    }
    // A crash before step 0 finds the initial disk intact, and the trace
    // says where the run started from.
    let schedule: KillSchedule = "step:0@drop-unsynced#idx=0".parse().unwrap();
    let (_, outcome) = ex.replay(&schedule).unwrap();
    assert!(outcome.violation.is_none());
    let text = outcome.trace.to_string();
    assert!(
        text.contains("--- initial disk (durable before run 1): /ckpt (1 bytes) ---"),
        "{text}"
    );
    assert!(
        text.contains("--- run 1: from the initial disk ---"),
        "{text}"
    );
    assert!(text.contains("==> CRASH before step 0"), "{text}");
}

#[test]
fn an_acknowledgement_of_the_initial_disk_is_enforced() {
    let broken = Resumes {
        broken: true,
        ..Resumes::correct()
    };
    let v = Explorer::new(&broken, ExploreOptions::default())
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap();
    assert!(v.violation_count() > 0, "{v}");
    let first = v.violations().next().unwrap();
    assert_eq!(first.oracle, Oracle::State);
    assert!(
        first.message.contains("cursor 5 was acknowledged"),
        "{}",
        first.message
    );
    // Without the acknowledgement the same deletion is not a violation:
    // it is the initial disk's acknowledgement that the oracle enforced.
    let unacknowledged = Resumes {
        broken: true,
        acknowledges: false,
        ..Resumes::correct()
    };
    let r = Explorer::new(&unacknowledged, ExploreOptions::default())
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap();
    assert!(r.is_clean(), "{r}");
}

#[test]
fn the_initial_disk_is_exactly_its_durable_state() {
    // Left unsynced, the initial disk's write is not part of the start state.
    struct Unsynced;
    impl Workload for Unsynced {
        fn name(&self) -> String {
            "unsynced-initial-disk".into()
        }
        fn initial_disk(&self, fs: &dyn Fs, _: &mut Progress) -> Result<(), WorkloadError> {
            let file = fs.create_new(Path::new(CKPT))?;
            fs.write_all_at(&file, 0, b"5")?;
            fs.close(file)?;
            Ok(())
        }
        fn run(&self, fs: &dyn Fs, _: &mut Progress) -> Result<Completion, WorkloadError> {
            let found = fs.exists(Path::new(CKPT))?;
            // A run that only read would be refused (it writes nothing a
            // crash could lose): it records what it found.
            let file = fs.open(Path::new("/found"), crashproof_core::fs::OpenMode::Create)?;
            fs.close(file)?;
            Ok(Completion {
                output: format!("{found}"),
                resumed_from: None,
            })
        }
        fn inspect(&self, _: &dyn Fs) -> Result<Recovered, WorkloadError> {
            Ok(Recovered { checkpoint: None })
        }
        fn redo_bound(&self) -> u64 {
            0
        }
        fn leftovers(&self, _: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
            Ok(Vec::new())
        }
    }
    let clean = Explorer::new(&Unsynced, ExploreOptions::default())
        .clean_run()
        .unwrap();
    assert_eq!(clean.output, "false");
    let by_hand = SimFs::default();
    Unsynced
        .initial_disk(&by_hand, &mut Progress::new())
        .unwrap();
    assert!(
        by_hand
            .crash_image(CrashModel::DropUnsynced, 0)
            .fs
            .files()
            .is_empty()
    );
}

#[test]
fn a_failing_initial_disk_is_a_harness_error() {
    let w = Resumes {
        fails: true,
        ..Resumes::correct()
    };
    let err = Explorer::new(&w, ExploreOptions::default())
        .clean_run()
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::InitialDiskFailed { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no earlier process"), "{err}");
}
