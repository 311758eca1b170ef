//! Small filesystem helpers the zoo programs share. Each helper does exactly
//! what its name says and nothing durable that its name does not say, so the
//! bug of each program stays visible in that program's own commit sequence.

use std::io;
use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::envelope;
use super::job::Checkpoint;
use crashproof_sim::explore::WorkloadError;

/// Suffix of an in-progress file.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The file names in `dir`, sorted; an absent directory has none.
pub fn list(fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
    match fs.read_dir(dir) {
        Ok(entries) => Ok(entries
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.name)
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Reads `path`, or `None` if it does not exist.
pub fn read_if_exists(fs: &dyn Fs, path: &Path) -> Result<Option<Vec<u8>>, WorkloadError> {
    match fs.read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes `path` (not durably: the caller syncs the directory); a name
/// that is already gone is not an error. Returns whether it removed a file.
pub fn remove_if_exists(fs: &dyn Fs, path: &Path) -> Result<bool, WorkloadError> {
    match fs.remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Creates or truncates `path`, writes `bytes`, and closes it — **without**
/// `sync`. Callers that need durability sync themselves (or, for a mutant,
/// deliberately do not).
pub fn write_unsynced(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> Result<(), WorkloadError> {
    let file = fs.open_truncate(path)?;
    fs.write_all_at(&file, 0, bytes)?;
    fs.close(file)?;
    Ok(())
}

/// Creates or truncates `path`, writes `bytes`, fsyncs and closes it. The
/// content is durable; the name is not until the caller syncs the directory.
pub fn write_synced(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> Result<(), WorkloadError> {
    let file = fs.open_truncate(path)?;
    fs.write_all_at(&file, 0, bytes)?;
    fs.sync(&file)?;
    fs.close(file)?;
    Ok(())
}

/// The correct durable replace: temp file, fsync, rename over `path`, fsync
/// of the directory. When it returns `Ok`, `path` durably holds `bytes`.
pub fn replace_durably(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> Result<(), WorkloadError> {
    let temp = temp_of(path);
    write_synced(fs, &temp, bytes)?;
    fs.rename(&temp, path)?;
    fs.sync_dir(crashproof_core::fs::parent_dir(path))?;
    Ok(())
}

/// `path` with [`TEMP_SUFFIX`] appended.
pub fn temp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(TEMP_SUFFIX);
    PathBuf::from(s)
}

/// Numbered generation files `<prefix><n:08><suffix>` in one directory.
#[derive(Debug, Clone, Copy)]
pub struct Generations {
    /// File name prefix, e.g. `"ckpt-"`.
    pub prefix: &'static str,
    /// File name suffix, e.g. `".ckpt"`.
    pub suffix: &'static str,
}

impl Generations {
    /// The zoo's usual naming: `ckpt-00000003.ckpt`.
    pub const CKPT: Generations = Generations {
        prefix: "ckpt-",
        suffix: ".ckpt",
    };

    /// The file of generation `n` in `dir`.
    pub fn path(&self, dir: &Path, n: u64) -> PathBuf {
        dir.join(self.name(n))
    }

    /// The file name of generation `n`.
    pub fn name(&self, n: u64) -> String {
        format!("{}{n:08}{}", self.prefix, self.suffix)
    }

    /// The generation number a file name encodes, if it is one of ours.
    pub fn parse(&self, name: &str) -> Option<u64> {
        name.strip_prefix(self.prefix)?
            .strip_suffix(self.suffix)?
            .parse()
            .ok()
    }

    /// Generation numbers present in `dir`, ascending.
    pub fn list(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<u64>, WorkloadError> {
        Ok(list(fs, dir)?
            .iter()
            .filter_map(|n| self.parse(n))
            .collect())
    }

    /// The newest generation whose file decodes and verifies, falling back
    /// past torn or empty ones: the correct loader.
    pub fn load_newest_valid(
        &self,
        fs: &dyn Fs,
        dir: &Path,
    ) -> Result<Option<Checkpoint>, WorkloadError> {
        for n in self.list(fs, dir)?.into_iter().rev() {
            if let Some(bytes) = read_if_exists(fs, &self.path(dir, n))?
                && let Ok(ckpt) = envelope::decode_checked(&bytes)
            {
                return Ok(Some(ckpt));
            }
        }
        Ok(None)
    }

    /// Startup cleanup after a crash, from one directory listing: removes
    /// temp files and every generation but the newest `keep`, then syncs
    /// the directory if it removed anything.
    pub fn clean(&self, fs: &dyn Fs, dir: &Path, keep: usize) -> Result<(), WorkloadError> {
        let names = list(fs, dir)?;
        let gens: Vec<u64> = names.iter().filter_map(|n| self.parse(n)).collect();
        let excess = gens.len().saturating_sub(keep);
        let mut doomed: Vec<PathBuf> = gens[..excess].iter().map(|&n| self.path(dir, n)).collect();
        doomed.extend(
            names
                .iter()
                .filter(|n| n.ends_with(TEMP_SUFFIX))
                .map(|n| dir.join(n)),
        );
        let mut removed = false;
        for path in &doomed {
            removed |= remove_if_exists(fs, path)?;
        }
        if removed {
            fs.sync_dir(dir)?;
        }
        Ok(())
    }

    /// After committing generation `n`: removes generation `n - keep` (the
    /// one that just fell out of the window) and syncs the directory if it
    /// was there. Anything older was removed by an earlier commit or by
    /// [`Self::clean`].
    pub fn retire(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        n: u64,
        keep: usize,
    ) -> Result<(), WorkloadError> {
        let Some(old) = n.checked_sub(keep as u64).filter(|&o| o > 0) else {
            return Ok(());
        };
        if remove_if_exists(fs, &self.path(dir, old))? {
            fs.sync_dir(dir)?;
        }
        Ok(())
    }

    /// Files in `dir` that a finished run should not have left: anything
    /// that is not one of the newest `keep` generations.
    pub fn leftovers(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        keep: usize,
    ) -> Result<Vec<String>, WorkloadError> {
        let names = list(fs, dir)?;
        let gens = self.list(fs, dir)?;
        let live: Vec<String> = gens
            .iter()
            .rev()
            .take(keep)
            .map(|&n| self.name(n))
            .collect();
        Ok(names.into_iter().filter(|n| !live.contains(n)).collect())
    }
}

/// Removes every `*.tmp` file in `dir` and syncs the directory if it removed
/// any: startup cleanup after a crash.
pub fn remove_temps(fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
    let mut removed = false;
    for name in list(fs, dir)? {
        if name.ends_with(TEMP_SUFFIX) {
            removed |= remove_if_exists(fs, &dir.join(name))?;
        }
    }
    if removed {
        fs.sync_dir(dir)?;
    }
    Ok(())
}
