//! The core suites on the simulated filesystem: each on a fresh `SimFs`
//! with one fixed seed (a failure replays exactly), under a root directory
//! that is itself durable. A failure prints the SimFs trace.

use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_sim::{SimConfig, SimFs};
use crashproof_tests::core_suite::SuiteFn;

fn on_sim_fs(test: SuiteFn) -> Result<(), String> {
    let fs = SimFs::new(SimConfig::with_seed(0x5EED));
    let root = Path::new("/suite");
    fs.create_dir_all(root)
        .and_then(|()| fs.sync_dir(Path::new("/")))
        .map_err(|e| format!("create the suite root: {e}"))?;
    test(&fs, root).map_err(|e| format!("{e}\nSimFs trace:\n{}", fs.trace()))
}

crashproof_tests::core_suite_tests!(on_sim_fs);
