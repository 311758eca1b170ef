//! The five seed systems: each scenario passes every exploration (every
//! crash model exhaustively, random multi-crash schedules, and the sync-EIO
//! sweep), and the bug its reviewers found, as a mutant of the scenario, is
//! caught — the Feldera one by the panic oracle.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_catalog::scenarios::{self, feldera, rooch_resume, rooch_tail};
use crashproof_catalog::zoo::hunt::{Exploration, hunt};
use crashproof_core::ResumeMode;
use crashproof_sim::SimFs;
use crashproof_sim::explore::{ExploreOptions, Oracle, Progress, Recovered, Workload};

/// Every exploration of the mutation table except the double-crash sweep,
/// plus random multi-crash schedules. The sweep is quadratic in the run's
/// length (the Feldera scenario runs 261 steps: some 136,000 cases), so the
/// scenarios get their multi-crash coverage from the random mode.
fn every_exploration() -> impl Iterator<Item = Exploration> {
    Exploration::TABLE
        .into_iter()
        .filter(|e| !matches!(e, Exploration::TwoCrashes(_)))
        .chain([Exploration::Random])
}

#[test]
fn every_scenario_passes_every_exploration() {
    for s in scenarios::catalogue() {
        assert_eq!(s.workload.name(), s.name);
        for exploration in every_exploration() {
            let h = hunt(s.workload.as_ref(), exploration, &ExploreOptions::default()).unwrap();
            assert!(h.cases > 0, "{} {exploration}: nothing explored", s.name);
            assert_eq!(
                h.violations,
                0,
                "{} failed {exploration}: {:?}",
                s.name,
                h.first.map(|d| d.violation.summary())
            );
        }
    }
}

/// The oracle that first catches `mutant` in the explorations it needs.
fn caught_by(mutant: &dyn Workload, needs: crashproof_catalog::zoo::Needs) -> Option<Oracle> {
    every_exploration()
        .filter(|e| e.serves(needs))
        .find_map(|e| {
            hunt(mutant, e, &ExploreOptions::default())
                .unwrap()
                .first
                .map(|d| d.oracle())
        })
}

#[test]
fn every_review_bug_is_caught() {
    let caught: Vec<(&str, Option<Oracle>)> = scenarios::catalogue()
        .iter()
        .map(|s| (s.name, caught_by(s.mutant.as_ref(), s.mutant_needs)))
        .collect();
    assert_eq!(
        caught,
        vec![
            // The daemon is told the batch is synced; a crash takes it away.
            ("tzel-sync", Some(Oracle::State)),
            // The stale backup is restored behind acknowledged progress.
            ("rooch-snapshot-resume", Some(Oracle::State)),
            // The resumed replay starts from the recorded (wrong) order.
            ("rooch-tail-replay", Some(Oracle::Result)),
            // `expect()` on a listed checkpoint's unreadable batches.
            ("feldera-checkpointer", Some(Oracle::Panic)),
            // The leftover O_EXCL file blocks the run forever.
            ("ccf-snapshot-writer", Some(Oracle::Result)),
        ]
    );
}

#[test]
fn the_tail_replay_never_holds_the_whole_tail_in_memory() {
    let chunk = rooch_tail::CHUNK;
    let peak = rooch_tail::peak_resident_orders(chunk).unwrap();
    assert!(peak >= 1 && peak <= chunk, "peak {peak}");
    assert!(rooch_tail::check_bounded_memory(peak, chunk).is_ok());
    // The review's other finding: loading the whole tail at once. The same
    // check flags it.
    let tail = rooch_tail::SOURCE_ORDERS - rooch_tail::EXISTING_LAST_ORDER - 1;
    let whole = rooch_tail::peak_resident_orders(tail).unwrap();
    assert_eq!(whole, tail);
    assert!(rooch_tail::check_bounded_memory(whole, chunk).is_err());
}

fn run(workload: &dyn Workload, fs: &SimFs) -> (String, Option<u64>) {
    let done = workload.run(fs, &mut Progress::new()).unwrap();
    (done.output, done.resumed_from)
}

#[test]
fn rooch_resume_modes_resume_restart_or_ignore() {
    let fs = SimFs::default();
    let (output, resumed) = run(&rooch_resume::RoochSnapshot::new("/snapshot"), &fs);
    assert_eq!(resumed, None);
    let nodes = rooch_resume::NODES;
    assert!(output.starts_with(&format!("nodes={nodes} ")), "{output}");
    // Resume: straight to the end.
    assert_eq!(
        run(&rooch_resume::RoochSnapshot::new("/snapshot"), &fs),
        (output.clone(), Some(nodes))
    );
    // --no-resume: starts fresh, old progress left to retention.
    let no_resume = rooch_resume::RoochSnapshot::with_mode("/snapshot", ResumeMode::NoResume);
    assert_eq!(run(&no_resume, &fs), (output.clone(), None));
    // --force-restart: discards and starts fresh.
    let force = rooch_resume::RoochSnapshot::with_mode("/snapshot", ResumeMode::ForceRestart);
    assert_eq!(run(&force, &fs), (output, None));
}

#[test]
fn feldera_refuses_a_list_written_by_another_pipeline() {
    use crashproof_core::envelope;
    use crashproof_core::fs::Fs;

    let fs = SimFs::default();
    let workload = feldera::FelderaCheckpointer::new("/feldera");
    run(&workload, &fs);
    assert_eq!(
        workload.inspect(&fs).unwrap().checkpoint.map(|c| c.cursor),
        Some(feldera::RECORDS)
    );
    let path = std::path::Path::new("/feldera/checkpoints.json");
    let mut list: feldera::CheckpointList = envelope::decode(&fs.read(path).unwrap()).unwrap();
    let newest = list.entries.last_mut().unwrap();
    newest.fingerprint ^= 1;
    crashproof_core::replace(&fs, path, &envelope::encode(&list).unwrap()).unwrap();
    let refused = workload.inspect(&fs).unwrap_err().to_string();
    assert!(refused.contains("another pipeline"), "{refused}");
    assert!(workload.run(&fs, &mut Progress::new()).is_err());
}

#[test]
fn scenarios_inspect_an_empty_disk_as_a_fresh_start() {
    let fs = SimFs::default();
    for s in scenarios::catalogue() {
        for w in [&s.workload, &s.mutant] {
            assert_eq!(
                w.inspect(&fs).unwrap(),
                Recovered { checkpoint: None },
                "{}",
                w.name()
            );
        }
    }
}

#[test]
fn tzel_resumes_with_a_checkpoint_period_near_u64_max() {
    use crashproof_catalog::scenarios::tzel::{CHECKPOINT_EVERY, TREE_SIZE, WalletScan};
    use crashproof_core::{Outcome, Runner, RunnerConfig, YieldSignal};

    let clean = {
        let fs = SimFs::default();
        let mut job = WalletScan {
            tree_size: TREE_SIZE,
        };
        let runner = Runner::open(&fs, "/w", &mut job, RunnerConfig::every(CHECKPOINT_EVERY));
        match runner.unwrap().run().unwrap() {
            Outcome::Completed { output, .. } => output,
            other => panic!("{other:?}"),
        }
    };
    let fs = SimFs::default();
    // First sync: yields at its first checkpoint (cursor K).
    let mut job = WalletScan {
        tree_size: TREE_SIZE,
    };
    let signal = YieldSignal::new();
    signal.request();
    let runner = Runner::open(&fs, "/w", &mut job, RunnerConfig::every(CHECKPOINT_EVERY))
        .unwrap()
        .with_yield_signal(signal);
    assert!(matches!(
        runner.run().unwrap(),
        Outcome::Yielded { cursor, .. } if cursor == CHECKPOINT_EVERY
    ));
    // tzel's review: `cursor + checkpoint_every` with an adversarial
    // `--checkpoint-every` overflowed. Resumed at cursor K with K' near
    // u64::MAX, the batch must saturate at the tree size.
    let mut job = WalletScan {
        tree_size: TREE_SIZE,
    };
    let runner = Runner::open(&fs, "/w", &mut job, RunnerConfig::every(u64::MAX - 1)).unwrap();
    match runner.run().unwrap() {
        Outcome::Completed {
            output,
            resumed_from,
            ..
        } => {
            assert_eq!(resumed_from.map(|r| r.cursor), Some(CHECKPOINT_EVERY));
            assert_eq!(output, clean);
        }
        other => panic!("{other:?}"),
    }
}

/// A filesystem whose `close` always fails (after closing), to show the
/// CCF writer checks close errors instead of committing past them.
struct FailingClose(SimFs);

impl crashproof_core::fs::Fs for FailingClose {
    fn create_dir_all(&self, path: &std::path::Path) -> std::io::Result<()> {
        self.0.create_dir_all(path)
    }
    fn open(
        &self,
        path: &std::path::Path,
        mode: crashproof_core::fs::OpenMode,
    ) -> std::io::Result<crashproof_core::fs::FileHandle> {
        self.0.open(path, mode)
    }
    fn write_all_at(
        &self,
        file: &crashproof_core::fs::FileHandle,
        offset: u64,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        self.0.write_all_at(file, offset, bytes)
    }
    fn append(&self, file: &crashproof_core::fs::FileHandle, bytes: &[u8]) -> std::io::Result<()> {
        self.0.append(file, bytes)
    }
    fn sync(&self, file: &crashproof_core::fs::FileHandle) -> std::io::Result<()> {
        self.0.sync(file)
    }
    fn create_dir(&self, path: &std::path::Path) -> std::io::Result<()> {
        self.0.create_dir(path)
    }
    fn remove_dir(&self, path: &std::path::Path) -> std::io::Result<()> {
        self.0.remove_dir(path)
    }
    fn hard_link(&self, original: &std::path::Path, link: &std::path::Path) -> std::io::Result<()> {
        self.0.hard_link(original, link)
    }
    fn set_len(
        &self,
        file: &crashproof_core::fs::FileHandle,
        len_bytes: u64,
    ) -> std::io::Result<()> {
        self.0.set_len(file, len_bytes)
    }
    fn read_at(
        &self,
        file: &crashproof_core::fs::FileHandle,
        offset: u64,
        buf: &mut [u8],
    ) -> std::io::Result<usize> {
        self.0.read_at(file, offset, buf)
    }
    fn file_metadata(
        &self,
        file: &crashproof_core::fs::FileHandle,
    ) -> std::io::Result<crashproof_core::fs::Metadata> {
        self.0.file_metadata(file)
    }
    fn sync_data(&self, file: &crashproof_core::fs::FileHandle) -> std::io::Result<()> {
        self.0.sync_data(file)
    }
    fn close(&self, file: crashproof_core::fs::FileHandle) -> std::io::Result<()> {
        self.0.close(file)?;
        Err(std::io::Error::other("injected close error (EIO on NFS)"))
    }
    fn sync_dir(&self, dir: &std::path::Path) -> std::io::Result<()> {
        self.0.sync_dir(dir)
    }
    fn rename(&self, from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
        self.0.rename(from, to)
    }
    fn remove_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        self.0.remove_file(path)
    }
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        self.0.read(path)
    }
    fn read_dir(
        &self,
        dir: &std::path::Path,
    ) -> std::io::Result<Vec<crashproof_core::fs::DirEntry>> {
        self.0.read_dir(dir)
    }
    fn metadata(&self, path: &std::path::Path) -> std::io::Result<crashproof_core::fs::Metadata> {
        self.0.metadata(path)
    }
    fn try_lock(&self, path: &std::path::Path) -> std::io::Result<crashproof_core::fs::FileHandle> {
        self.0.try_lock(path)
    }
}

#[test]
fn ccf_never_commits_a_snapshot_whose_close_failed() {
    use crashproof_core::fs::Fs;

    let fs = FailingClose(SimFs::default());
    let workload = scenarios::ccf::CcfSnapshots::new("/ccf");
    let err = workload.run(&fs, &mut Progress::new()).unwrap_err();
    assert!(err.to_string().contains("injected close error"), "{err}");
    let names: Vec<String> = fs
        .read_dir(std::path::Path::new("/ccf"))
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".committed")),
        "a snapshot was committed past a failed close: {names:?}"
    );
    assert_eq!(workload.inspect(&fs).unwrap().checkpoint, None);
}

#[test]
fn rooch_tail_finalizes_a_partially_completed_output_without_replaying() {
    use crashproof_core::envelope;
    use crashproof_core::fs::Fs;

    let fs = SimFs::default();
    let workload = rooch_tail::RoochTail::new("/replay");
    let (output, resumed) = run(&workload, &fs);
    assert_eq!(resumed, None);
    // A crash after the final checkpoint and before finalize wrote the
    // output leaves the old output next to a complete replay.
    let path = std::path::Path::new("/replay/output.json");
    let old = envelope::encode(&rooch_tail::existing_output()).unwrap();
    crashproof_core::replace(&fs, path, &old).unwrap();
    let mut progress = Progress::new();
    let done = workload.run(&fs, &mut progress).unwrap();
    let tail = rooch_tail::SOURCE_ORDERS - rooch_tail::EXISTING_LAST_ORDER - 1;
    assert_eq!(
        done.resumed_from,
        Some(tail),
        "resumed at the end of the tail"
    );
    assert_eq!(progress.processed_max(), None, "no order replayed again");
    assert_eq!(done.output, output);
    let info: rooch_tail::OutputInfo = envelope::decode(&fs.read(path).unwrap()).unwrap();
    assert_eq!(info.last_order, rooch_tail::SOURCE_ORDERS - 1);
}

#[test]
fn every_scenario_and_mutant_is_deterministic() {
    use crashproof_fault::CrashModel;
    let options = ExploreOptions {
        check_determinism: true,
        ..ExploreOptions::default()
    };
    for s in scenarios::catalogue() {
        for w in [&s.workload, &s.mutant] {
            let report = crashproof_sim::explore::Explorer::new(w.as_ref(), options.clone())
                .explore_exhaustive(CrashModel::DropUnsynced)
                .unwrap();
            assert!(
                report
                    .violations()
                    .all(|v| v.oracle != Oracle::NonDeterminism),
                "{} is not deterministic: {:?}",
                w.name(),
                report.violations().next().map(|v| v.summary())
            );
        }
    }
}
