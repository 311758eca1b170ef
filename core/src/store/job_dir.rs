//! Which names a core job directory may contain once a job has finished,
//! as one function every workload (built-in or a user's) calls for its
//! "no leftovers" check.

use std::fmt;
use std::io;
use std::path::Path;

use crate::fs::Fs;
use crate::runner::LOCK_FILE_NAME;

use super::names::{is_store_temp_name, parse_generation_file_name};

/// Something a finished job left in its directory that it should have
/// cleaned up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leftover {
    /// A temp file of `replace` for one of the store's generations (a crash
    /// inside a commit that startup GC did not remove).
    TempFile(String),
    /// A generation beyond the `keep` newest (an interrupted GC's orphan).
    ExtraGeneration(String),
    /// A name that is neither the store's, the lock, nor allowed.
    Unexpected(String),
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leftover::TempFile(name) => write!(f, "temp file {name}"),
            Leftover::ExtraGeneration(name) => {
                write!(f, "old generation {name} not collected")
            }
            Leftover::Unexpected(name) => write!(f, "unexpected {name}"),
        }
    }
}

/// The leftovers in the job directory `dir` of a finished core job whose
/// store keeps `keep` generations: every store temp file, every generation
/// but the `keep` newest, and every name other than the job lock
/// ([`LOCK_FILE_NAME`]) and the names in `allowed` (a job's own output
/// files, a yield sentinel it expects). A missing directory has none.
/// Sorted: temp files and unexpected names by name, then extra generations
/// oldest first.
pub fn leftovers(
    fs: &dyn Fs,
    dir: &Path,
    keep: usize,
    allowed: &[&str],
) -> io::Result<Vec<Leftover>> {
    let entries = match fs.read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut left = Vec::new();
    let mut generations = Vec::new();
    for entry in entries {
        let name = entry.name;
        if name == LOCK_FILE_NAME || allowed.contains(&name.as_str()) {
            continue;
        }
        match parse_generation_file_name(&name) {
            Some(generation) if !entry.is_dir => generations.push((generation, name)),
            _ if is_store_temp_name(&name) => left.push(Leftover::TempFile(name)),
            _ => left.push(Leftover::Unexpected(name)),
        }
    }
    generations.sort();
    let extra = generations.len().saturating_sub(keep);
    left.extend(
        generations
            .into_iter()
            .take(extra)
            .map(|(_, name)| Leftover::ExtraGeneration(name)),
    );
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;
    use crate::store::generation_file_name;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"x").unwrap();
    }

    #[test]
    fn leftovers_are_temps_strangers_and_generations_past_keep() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for g in [3, 1, 2] {
            touch(dir, &generation_file_name(g));
        }
        touch(dir, LOCK_FILE_NAME);
        touch(dir, "job.yield");
        touch(dir, "notes.txt");
        let temp = format!(".{}.crashproof-tmp", generation_file_name(4));
        touch(dir, &temp);
        let left = leftovers(&StdFs::new(), dir, 2, &["job.yield"]).unwrap();
        assert_eq!(
            left,
            vec![
                Leftover::TempFile(temp),
                Leftover::Unexpected("notes.txt".into()),
                Leftover::ExtraGeneration(generation_file_name(1)),
            ]
        );
        assert_eq!(
            left[2].to_string(),
            format!("old generation {} not collected", generation_file_name(1))
        );
        // Keeping every generation, nothing of the store is left over.
        let all = leftovers(&StdFs::new(), dir, 3, &["job.yield", "notes.txt"]).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
    }

    #[test]
    fn a_missing_directory_has_no_leftovers_and_a_file_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = StdFs::new();
        assert_eq!(
            leftovers(&fs, &tmp.path().join("gone"), 2, &[]).unwrap(),
            []
        );
        touch(tmp.path(), "plain");
        assert!(leftovers(&fs, &tmp.path().join("plain"), 2, &[]).is_err());
    }

    /// A directory with a generation's name is not a generation (the store
    /// never reads it): it is a stranger, and it pushes no real generation
    /// out of the `keep` newest.
    #[test]
    fn a_directory_named_like_a_generation_is_unexpected() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for g in [1, 2] {
            touch(dir, &generation_file_name(g));
        }
        std::fs::create_dir(dir.join(generation_file_name(9))).unwrap();
        let left = leftovers(&StdFs::new(), dir, 2, &[]).unwrap();
        assert_eq!(left, vec![Leftover::Unexpected(generation_file_name(9))]);
    }
}
