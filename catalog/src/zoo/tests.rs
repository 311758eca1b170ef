//! The zoo on the real filesystem: without crashes every mutant behaves
//! exactly like the control.

use std::path::Path;

use crashproof_core::fs::{Fs, StdFs};

use super::*;
use crashproof_sim::SimView;
use crashproof_sim::explore::{Progress, Recovered};

fn clean_run(workload: &dyn Workload, fs: &dyn Fs) -> (String, Progress) {
    let mut progress = Progress::new();
    let done = workload
        .run(fs, &mut progress)
        .expect("clean run completes");
    assert_eq!(done.resumed_from, None);
    (done.output, progress)
}

#[test]
fn control_output_is_the_job_result() {
    let tmp = tempfile::tempdir().unwrap();
    let (output, progress) = clean_run(control_in(tmp.path()).as_ref(), &StdFs::new());
    let job = CountingJob::SMALL;
    assert_eq!(output, job.output(&CountingJob::state_at(job.items)));
    assert_eq!(progress.attempted().len(), 8);
    assert_eq!(progress.acknowledged().map(|a| a.cursor), Some(40));
    assert_eq!(progress.processed_max(), Some(39));
}

/// Every control and mutant, each in its own directory under `root`.
fn programs(fs: &dyn Fs, root: &Path) -> Vec<(String, Box<dyn Workload>)> {
    let mut all = Vec::new();
    for (name, make) in [
        ("control", control_in as fn(&Path) -> Box<dyn Workload>),
        ("yield-control", yield_control_in),
    ] {
        let dir = root.join(name);
        fs.create_dir_all(&dir).unwrap();
        all.push((name.to_string(), make(&dir)));
    }
    for (i, m) in catalogue().iter().enumerate() {
        let dir = root.join(m.name);
        fs.create_dir_all(&dir).unwrap();
        all.push((m.name.to_string(), catalogue_in(&dir).remove(i).workload));
    }
    all
}

#[test]
fn the_catalogue_is_numbered_and_named_consistently() {
    let mutants = catalogue();
    assert_eq!(mutants.len(), 13);
    for (i, m) in mutants.iter().enumerate() {
        assert_eq!(usize::from(m.number), i + 1, "{} numbered in order", m.name);
        assert_eq!(m.workload.name(), m.name);
        assert_eq!(m.workload.redo_bound(), CountingJob::SMALL.every);
        assert!(!m.pattern.is_empty());
    }
    assert_eq!(control().name(), "zoo-control");
    assert_eq!(yield_control().name(), "yield-after-commit");
}

#[test]
fn every_program_matches_the_control_without_crashes() {
    let fs = StdFs::new();
    let root = tempfile::tempdir().unwrap();
    let mut expected = None;
    for (name, workload) in programs(&fs, root.path()) {
        let (output, progress) = clean_run(workload.as_ref(), &fs);
        let expected = expected.get_or_insert_with(|| (output.clone(), progress.clone()));
        assert_eq!(output, expected.0, "{name}");
        assert_eq!(progress, expected.1, "{name}");
        assert_eq!(
            workload.leftovers(&fs).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn a_finished_run_resumes_at_the_end_with_the_same_output() {
    let fs = StdFs::new();
    let root = tempfile::tempdir().unwrap();
    let id_at = |cursor| {
        Checkpoint {
            cursor,
            state: CountingJob::state_at(cursor),
        }
        .id()
    };
    for (name, workload) in programs(&fs, root.path()) {
        let (first, _) = clean_run(workload.as_ref(), &fs);
        let resume_at = 40;
        assert_eq!(
            workload.inspect(&fs).unwrap(),
            Recovered {
                checkpoint: Some(id_at(resume_at))
            },
            "{name}"
        );
        let mut progress = Progress::new();
        let again = workload.run(&fs, &mut progress).unwrap();
        assert_eq!(again.output, first, "{name}");
        assert_eq!(again.resumed_from, Some(resume_at), "{name}");
        assert_eq!(progress.processed_max(), None, "{name}: nothing redone");
    }
}

#[test]
fn inspect_of_an_empty_directory_starts_over() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    assert_eq!(
        control_in(tmp.path()).inspect(&fs).unwrap(),
        Recovered { checkpoint: None }
    );
    for m in catalogue_in(tmp.path()) {
        assert_eq!(
            m.workload.inspect(&fs).unwrap(),
            Recovered { checkpoint: None },
            "{}",
            m.name
        );
    }
    let missing = tmp.path().join("missing");
    assert_eq!(
        control_in(Path::new(&missing)).inspect(&fs).unwrap(),
        Recovered { checkpoint: None }
    );
}

#[test]
fn the_control_falls_back_past_a_torn_newest_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let workload = control_in(tmp.path());
    clean_run(workload.as_ref(), &fs);
    // Tear the newest generation the way a crash would if it were not
    // fsynced before the rename: the loader must skip it.
    let newest = files::Generations::CKPT.path(tmp.path(), 8);
    std::fs::write(&newest, b"zoo-ckpt v1 crc32c=00000000 len=000003\n{}\n").unwrap();
    let recovered = workload.inspect(&fs).unwrap();
    assert_eq!(recovered.checkpoint.map(|c| c.cursor), Some(35));
}

/// The mutants' own protocols with their one bug fixed: each must pass
/// every exploration the mutation table runs, so the mutant is wrong only
/// for the bug it names.
#[test]
fn the_fixed_two_commit_mutants_pass_every_exploration() {
    use crashproof_sim::explore::ExploreOptions;
    use hunt::{Exploration, hunt};

    let dir = Path::new(SIM_DIR);
    let fixed: Vec<Box<dyn Workload>> = vec![
        Box::new(ProtocolWorkload::new(
            CountingJob::SMALL,
            dir,
            m06_backup_name_mismatch::BackupNameFixed,
        )),
        Box::new(ProtocolWorkload::new(
            CountingJob::SMALL,
            dir,
            m08_manifest_after_delete::ManifestFirst,
        )),
    ];
    for w in &fixed {
        for exploration in Exploration::TABLE.into_iter().chain([Exploration::Random]) {
            let h = hunt(w.as_ref(), exploration, &ExploreOptions::default()).unwrap();
            assert!(h.cases > 0, "{} {exploration}: nothing explored", w.name());
            assert_eq!(
                h.violations,
                0,
                "{} failed {exploration}: {:?}",
                w.name(),
                h.first.map(|d| d.violation.summary())
            );
        }
    }
}

/// Mutants 6 and 8 start from an initial disk holding the job's first
/// commit: durable in every crash state any model allows, acknowledged, and
/// what the run resumes from.
#[test]
fn the_two_commit_mutants_start_from_their_durable_first_commit() {
    use crashproof_sim::{CrashModel, SimFs};

    let first = CountingJob::SMALL.every;
    for name in ["backup-name-mismatch", "manifest-after-delete"] {
        let m = catalogue().into_iter().find(|m| m.name == name).unwrap();
        let fs = SimFs::default();
        let mut progress = Progress::new();
        m.workload.initial_disk(&fs, &mut progress).unwrap();
        let acked = progress.acknowledged();
        assert_eq!(acked.map(|a| a.cursor), Some(first), "{name}");
        assert_eq!(
            fs.unsynced_ops(),
            0,
            "{name}: initial disk left unsynced ops"
        );
        for model in CrashModel::ALL {
            for image in fs.crash_images(model, 256).unwrap() {
                let seen = m.workload.inspect(&image.fs).unwrap().checkpoint;
                assert_eq!(seen, acked, "{name} {model}: {}", image.choice);
            }
        }
        let done = m.workload.run(&fs, &mut progress).unwrap();
        assert_eq!(done.resumed_from, Some(first), "{name}");
    }
}
