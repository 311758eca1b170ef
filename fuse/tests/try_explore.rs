#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
use std::time::Instant;

use crashproof_fuse::{Cleanup, CommandWorkload, MountPool, preflight};
use crashproof_sim::explore::{ExploreOptions, Explorer, Mode, Plan};
use crashproof_sim::CrashModel;

fn explore(script: &str) {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!("{root}/../examples/programs/{script}");
    let pool = MountPool::new(Cleanup::new()).unwrap();
    let w = CommandWorkload::new(vec!["/usr/bin/python3".into(), script.clone(), "{dir}".into()], pool)
        .unwrap()
        .with_check(format!("/usr/bin/python3 {script} --check {{dir}}"));
    let ex = Explorer::new(&w, ExploreOptions { jobs: 2, ..ExploreOptions::default() });
    let t = Instant::now();
    let pre = preflight(&ex, &w);
    match &pre { Ok(p) => eprintln!("clean: {} steps, {:?}\n{}", p.clean.steps, p.fastest, p.clean.trace), Err(e) => panic!("{e}") }
    let plan = Plan { models: CrashModel::ALL.to_vec(), modes: vec![Mode::Exhaustive] };
    let report = ex.explore(&plan).unwrap();
    eprintln!("{report}");
    eprintln!("{:?} in {:?}; unmodelled {}", w.stats(), t.elapsed(), w.unmodelled());
}

#[test]
fn correct() { explore("progress.py"); }
#[test]
fn buggy() { explore("progress_buggy.py"); }

#[test]
fn replay_buggy() {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!("{root}/../examples/programs/progress_buggy.py");
    let pool = MountPool::new(Cleanup::new()).unwrap();
    let w = CommandWorkload::new(vec!["/usr/bin/python3".into(), script.clone(), "{dir}".into()], pool)
        .unwrap()
        .with_check(format!("/usr/bin/python3 {script} --check {{dir}}"));
    let ex = Explorer::new(&w, ExploreOptions::default());
    let (clean, outcome) = ex.replay(&"step:6@drop-unsynced#idx=0".parse().unwrap()).unwrap();
    eprintln!("clean trace:\n{}\ncase trace:\n{}\nentries {}\n{:?}", clean.trace, outcome.trace, outcome.trace.entries.len(), outcome.violation);
}
