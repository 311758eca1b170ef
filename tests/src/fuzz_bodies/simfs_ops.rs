//! Arbitrary operation sequences on `SimFs`, then crash images.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use arbitrary::Unstructured;
use crashproof_core::fs::{FileHandle, Fs, OpenMode};
use crashproof_sim::SimView;
use crashproof_sim::{CrashModel, FaultConfig, SimConfig, SimFs};

/// Operations per input.
const OPS_MAX: usize = 48;
/// Largest write.
const WRITE_BYTES_MAX: usize = 600;
/// Largest write offset.
const OFFSET_BYTES_MAX: u64 = 2048;
/// Most crash images enumerated per model (past it `TooManyStates` is fine).
const IMAGES_PER_MODEL_MAX: usize = 48;

const FILES: [&str; 6] = ["/a", "/b", "/d/a", "/d/b", "/d/e/c", "/d/e"];
const DIRS: [&str; 4] = ["/", "/d", "/d/e", "/x"];
const FAILPOINTS: [&str; 2] = ["fuzz.one", "fuzz.two"];

type Files = BTreeMap<PathBuf, Vec<u8>>;

/// Interprets `data` as a configuration (seed, sector size, optional
/// injected faults) and up to [`OPS_MAX`] filesystem operations (every
/// `Fs` method: opens in each mode, writes, `set_len`, `read_at`,
/// `sync`/`sync_data`, hard links, `create_dir`/`remove_dir`, ...) on a few
/// paths, with bounded write sizes and offsets; errors of the operations
/// are expected and ignored. Then takes crash images under every
/// [`CrashModel`] (a seeded pick, and the enumeration up to
/// [`IMAGES_PER_MODEL_MAX`]).
///
/// Invariants: no panic; the simulator's own invariants hold after every
/// operation and in every image (`SimFs::check_invariants`, also in release
/// builds); taking images changes nothing in the running fs
/// (files, step count, unsynced log, trace); every image has no unsynced
/// operation, step 0, and one crash state per model whose files are its
/// own (visible == durable); the enumeration has exactly
/// `crash_state_count` states (1 for DropUnsynced and EagerDirs, unsynced
/// ops + 1 for Prefix) or says `TooManyStates` only past the cap; the
/// seeded pick is one of the enumerated choices, with the same files; the
/// first enumerated
/// Prefix/Subset state (everything lost) is the DropUnsynced state; and
/// without injected faults, the last Prefix state (everything kept) is what
/// the running fs shows.
pub fn check_simfs_ops(data: &[u8]) -> Result<(), String> {
    let mut u = Unstructured::new(data);
    let seed = u.arbitrary::<u64>().unwrap_or(0);
    let sector_size_bytes = 1usize << u.int_in_range(3..=9).unwrap_or(9);
    let faulty = u.ratio(1, 4).unwrap_or(false);
    let faults = if faulty {
        FaultConfig {
            sync_eio_probability: 0.3,
            short_write_probability: 0.2,
            capacity_bytes: Some(u.int_in_range(0..=4096).unwrap_or(1024)),
            bit_flip_at_steps: BTreeSet::from([u.int_in_range(0..=OPS_MAX as u64).unwrap_or(0)]),
            ..FaultConfig::default()
        }
    } else {
        FaultConfig::default()
    };
    let fs = SimFs::new(SimConfig {
        seed,
        sector_size_bytes,
        faults,
    });
    let mut handles: Vec<FileHandle> = Vec::new();
    for _ in 0..OPS_MAX {
        if u.is_empty() {
            break;
        }
        apply_one(&fs, &mut u, &mut handles);
        fs.check_invariants().map_err(|v| v.to_string())?;
    }

    let files = fs.files();
    let steps = fs.steps();
    let unsynced = fs.unsynced_ops();
    let trace = fs.trace();
    let dropped = fs.crash_image(CrashModel::DropUnsynced, seed).fs.files();
    for model in CrashModel::ALL {
        check_model(
            &fs,
            model,
            seed,
            unsynced,
            &dropped,
            (!faulty).then_some(&files),
        )?;
    }
    if fs.files() != files || fs.steps() != steps || fs.unsynced_ops() != unsynced {
        return Err("taking crash images changed the running filesystem".to_string());
    }
    if fs.trace() != trace {
        return Err("taking crash images changed the running trace".to_string());
    }
    Ok(())
}

fn check_model(
    fs: &SimFs,
    model: CrashModel,
    seed: u64,
    unsynced: usize,
    dropped: &Files,
    visible: Option<&Files>,
) -> Result<(), String> {
    let picked = fs.crash_image(model, seed);
    check_crash_image(&picked.fs, seed, &format!("{model} pick"))?;
    let count = fs.crash_state_count(model);
    let expected = match model {
        CrashModel::DropUnsynced | CrashModel::EagerDirs => Some(1),
        CrashModel::Prefix => Some(unsynced as u64 + 1),
        CrashModel::Subset => None,
    };
    if expected.is_some_and(|e| e != count) {
        return Err(format!(
            "{model}: crash_state_count {count}, expected {expected:?} ({unsynced} unsynced ops)"
        ));
    }
    let cap = IMAGES_PER_MODEL_MAX;
    let images = match fs.crash_images(model, cap) {
        Ok(images) => images,
        Err(too_many) if count > cap as u64 && too_many.at_least > cap as u64 => {
            return Ok(());
        }
        Err(too_many) => {
            return Err(format!(
                "{model}: {too_many} although crash_state_count is {count} (cap {cap})"
            ));
        }
    };
    if images.len() as u64 != count {
        return Err(format!(
            "{model}: {} images enumerated, crash_state_count says {count}",
            images.len()
        ));
    }
    let Some(listed) = images.iter().find(|i| i.choice == picked.choice) else {
        return Err(format!(
            "{model}: the seeded pick `{}` is not among the enumerated states",
            picked.choice
        ));
    };
    if listed.fs.files() != picked.fs.files() {
        return Err(format!(
            "{model}: the seeded pick `{}` holds other bytes than the same enumerated choice",
            picked.choice
        ));
    }
    for (i, image) in images.iter().enumerate() {
        check_crash_image(
            &image.fs,
            seed,
            &format!("{model} image {i} `{}`", image.choice),
        )?;
    }
    if let Some(first) = images.first()
        && matches!(model, CrashModel::Prefix | CrashModel::Subset)
        && &first.fs.files() != dropped
    {
        return Err(format!(
            "{model}: the first state `{}` (everything lost) differs from the \
             DropUnsynced state",
            first.choice
        ));
    }
    if let (CrashModel::Prefix, Some(visible), Some(last)) = (model, visible, images.last())
        && &last.fs.files() != visible
    {
        return Err(format!(
            "prefix: the last state `{}` (everything kept) differs from the visible \
             files:\n  image:   {:?}\n  visible: {:?}",
            last.choice,
            last.fs.files().keys().collect::<Vec<_>>(),
            visible.keys().collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// Checks that `image` looks like a crash image: nothing pending, a fresh
/// step counter, and every model has exactly one state of it, equal to it
/// (visible == durable). `what` names it in the error.
pub fn check_crash_image(image: &SimFs, seed: u64, what: &str) -> Result<(), String> {
    image
        .check_invariants()
        .map_err(|v| format!("{what}: {v}"))?;
    if image.unsynced_ops() != 0 || image.steps() != 0 {
        return Err(format!(
            "{what}: a crash image has {} unsynced ops and step {}",
            image.unsynced_ops(),
            image.steps()
        ));
    }
    let files = image.files();
    for model in CrashModel::ALL {
        let count = image.crash_state_count(model);
        if count != 1 {
            return Err(format!(
                "{what}: {model} has {count} states of a crash image"
            ));
        }
        if image.crash_image(model, seed).fs.files() != files {
            return Err(format!(
                "{what}: a {model} image of a crash image differs from it (visible != durable)"
            ));
        }
    }
    Ok(())
}

fn pick<'a>(u: &mut Unstructured<'_>, from: &[&'a str]) -> &'a str {
    u.choose(from).copied().unwrap_or("/a")
}

/// One operation drawn from `u`; its result is deliberately ignored (an
/// error is a legitimate answer to an arbitrary operation).
fn apply_one(fs: &SimFs, u: &mut Unstructured<'_>, handles: &mut Vec<FileHandle>) {
    let op = u.int_in_range(0..=23u8).unwrap_or(0);
    let file = Path::new(pick(u, &FILES));
    let dir = Path::new(pick(u, &DIRS));
    let handle_index = match handles.len() {
        0 => None,
        n => Some(u.int_in_range(0..=n - 1).unwrap_or(0)),
    };
    let handle = handle_index.and_then(|i| handles.get(i));
    let _ = match op {
        0 => fs.create_dir_all(dir),
        1..=3 | 16 | 17 => {
            let mode = match op {
                1 => OpenMode::CreateNew,
                2 => OpenMode::Truncate,
                3 => OpenMode::Existing,
                16 => OpenMode::Create,
                _ => OpenMode::Read,
            };
            fs.open(file, mode).map(|h| handles.push(h))
        }
        4 | 5 => match handle {
            Some(h) => {
                let offset = u.int_in_range(0..=OFFSET_BYTES_MAX).unwrap_or(0);
                let len = u.int_in_range(0..=WRITE_BYTES_MAX).unwrap_or(0);
                let fill = u.arbitrary::<u8>().unwrap_or(0);
                let bytes: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                if op == 4 {
                    fs.write_all_at(h, offset, &bytes)
                } else {
                    fs.append(h, &bytes)
                }
            }
            None => Ok(()),
        },
        6 => handle.map_or(Ok(()), |h| fs.sync(h)),
        7 => match handle_index {
            Some(i) if i < handles.len() => fs.close(handles.swap_remove(i)),
            _ => Ok(()),
        },
        8 => fs.sync_dir(dir),
        9 => {
            let to = Path::new(pick(u, &FILES));
            fs.rename(file, to)
        }
        10 => fs.remove_file(file),
        11 => fs.read(file).map(drop),
        12 => fs.read_dir(dir).map(drop),
        13 => fs.metadata(file).map(drop),
        14 => fs.try_lock(file).map(|h| handles.push(h)),
        15 => fs.failpoint(pick(u, &FAILPOINTS)),
        18 => match handle {
            Some(h) => {
                let len_bytes = u.int_in_range(0..=OFFSET_BYTES_MAX).unwrap_or(0);
                fs.set_len(h, len_bytes)
            }
            None => Ok(()),
        },
        19 => handle.map_or(Ok(()), |h| fs.sync_data(h)),
        20 => match handle {
            Some(h) => {
                let offset = u.int_in_range(0..=OFFSET_BYTES_MAX).unwrap_or(0);
                let mut buf = vec![0u8; u.int_in_range(0..=WRITE_BYTES_MAX).unwrap_or(0)];
                fs.read_at(h, offset, &mut buf)
                    .and_then(|_| fs.file_metadata(h))
                    .map(drop)
            }
            None => Ok(()),
        },
        21 => {
            let link = Path::new(pick(u, &FILES));
            fs.hard_link(file, link)
        }
        22 => fs.create_dir(dir),
        _ => fs.remove_dir(dir),
    };
}
