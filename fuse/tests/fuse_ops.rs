//! Each FUSE operation the mount maps, from a real program (Python), on a
//! SimFs: what the program sees, what the SimFs holds after, which steps
//! were made, and which unmodelled operations were counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_fuse::{Ended, RunSpec, run_on_mount};
use crashproof_sim::{SimFs, SimView};

use common::{assert_no_mounts_under, pool, python3, test_program};

#[test]
fn every_mapped_operation_behaves_as_on_linux_and_lands_in_the_simfs() {
    let pool = pool();
    let base = pool.base().to_path_buf();
    let fs = SimFs::default();
    {
        let mount = pool.take().unwrap();
        let spec = RunSpec {
            argv: vec![
                python3(),
                test_program("ops.py"),
                mount.dir().display().to_string(),
            ],
            envs: Vec::new(),
            timeout: Duration::from_secs(30),
        };
        let end = run_on_mount(&mount, &fs, &spec, pool.cleanup(), &mut |_| {}).unwrap();
        let stdout = String::from_utf8_lossy(&end.stdout).into_owned();
        assert_eq!(
            end.ended,
            Ended::Exited(0),
            "stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&end.stderr)
        );
        assert_eq!(
            stdout,
            "read b'hello\\x00\\x00!'\n\
             exclusive create: EEXIST\n\
             unlinked file size 3\n\
             listing []\n\
             same inode True\n\
             sizes 3 3\n\
             fallocated size 10\n\
             noreplace EEXIST\n\
             exchange EINVAL\n\
             symlink EPERM\n\
             setxattr ENOTSUP\n\
             done\n"
        );
        assert_eq!(
            end.unmodelled.to_string(),
            "refused: rename (RENAME_EXCHANGE) x1 (EINVAL), setxattr x1 (EOPNOTSUPP), symlink x1 \
             (EPERM); accepted but not kept: setattr (mode, owner or times) x1"
        );
    }
    // The SimFs holds what the program made: a and b one file of 3 bytes
    // (a link), c grown to 10 zeros, the directory gone, nothing else.
    let files = fs.files();
    let names: Vec<String> = files.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(names, ["/a", "/b", "/c"]);
    assert_eq!(fs.read(Path::new("/a")).unwrap(), b"hel");
    assert_eq!(fs.read(Path::new("/b")).unwrap(), b"hel");
    assert_eq!(fs.read(Path::new("/c")).unwrap(), [0u8; 10]);
    // Every durability-relevant call reached the SimFs as its own step.
    let ops: Vec<&str> = fs
        .trace()
        .entries
        .iter()
        .map(|e| e.step.op.name())
        .collect();
    for op in [
        "open",
        "write_all_at",
        "append",
        "sync",
        "sync_data",
        "read_at",
        "create_dir",
        "rename",
        "remove_file",
        "remove_dir",
        "hard_link",
        "set_len",
        "sync_dir",
        "read_dir",
        "metadata",
        "file_metadata",
    ] {
        assert!(ops.contains(&op), "no `{op}` step in {ops:?}");
    }
    // The unlinked file's later write went to its inode, not to a name.
    assert!(!fs.files().keys().any(|p| p.ends_with("log")));
    drop(pool);
    assert_no_mounts_under(&base);
}
