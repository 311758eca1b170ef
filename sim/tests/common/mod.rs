//! Helpers shared by the SimFs tests.
#![allow(dead_code)]

use std::io;
use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_sim::SimView;
use crashproof_sim::{SimConfig, SimFs};

pub fn p(s: &str) -> &Path {
    Path::new(s)
}

pub fn sim(seed: u64) -> SimFs {
    SimFs::new(SimConfig::with_seed(seed))
}

pub fn sim_sector(seed: u64, sector_size_bytes: usize) -> SimFs {
    SimFs::new(SimConfig {
        sector_size_bytes,
        ..SimConfig::with_seed(seed)
    })
}

/// `/d` exists and its entry in `/` is durable.
pub fn durable_dir(fs: &SimFs, dir: &str) -> io::Result<()> {
    fs.create_dir_all(p(dir))?;
    fs.sync_dir(p("/"))
}

/// A file with `bytes`, content synced and entry synced.
pub fn durable_file(fs: &SimFs, path: &str, bytes: &[u8]) -> io::Result<()> {
    let h = fs.open_truncate(p(path))?;
    fs.write_all_at(&h, 0, bytes)?;
    fs.sync(&h)?;
    fs.close(h)?;
    fs.sync_dir(crashproof_core::fs::parent_dir(p(path)))
}

/// The file's content in `fs`, or `None` if it does not exist.
pub fn content(fs: &SimFs, path: &str) -> Option<Vec<u8>> {
    fs.files().get(p(path)).cloned()
}
