//! No mount and no program outlives its owner, whatever happens: a program
//! that hangs, a crash of the served disk, a panic in the server, a process
//! still inside the mount when it is dropped. Every test ends by checking
//! `/proc/self/mountinfo`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crashproof_core::fs::{DirEntry, FileHandle, Fs, Metadata, OpenMode};
use crashproof_fuse::{Ended, Mount, RunSpec, is_mounted, run_on_mount};
use crashproof_sim::{SimFs, StepAction, is_crashed};

use common::{assert_no_mounts_under, pool, python3, require_fuse};

fn spec(argv: &[&str], timeout: Duration) -> RunSpec {
    RunSpec {
        argv: argv.iter().map(ToString::to_string).collect(),
        envs: Vec::new(),
        timeout,
    }
}

/// Whether process `pid` is gone within 10 s of its run's end.
fn is_dead(pid: i32) -> bool {
    common::ends_within(pid, Duration::from_secs(10))
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_hanging_program_is_killed_at_its_timeout_with_its_children_and_the_mount_serves_on() {
    let pool = pool();
    let base = pool.base().to_path_buf();
    let side = tempfile::tempdir().unwrap();
    let pid_file = side.path().join("child.pid");
    let fs = SimFs::default();
    {
        let mount = pool.take().unwrap();
        let script = format!("sleep 1000 & echo $! > {}; wait", pid_file.display());
        let end = run_on_mount(
            &mount,
            &fs,
            &spec(&["sh", "-c", &script], Duration::from_millis(300)),
            pool.cleanup(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(end.ended, Ended::TimedOut);
        assert!(
            is_dead(read_pid(&pid_file)),
            "the program's child outlived it"
        );
        // The same mount serves the next run.
        let end = run_on_mount(
            &mount,
            &fs,
            &spec(
                &["sh", "-c", "echo hi > \"$CRASHPROOF_DIR/f\""],
                Duration::from_secs(30),
            ),
            pool.cleanup(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(end.ended, Ended::Exited(0));
        assert_eq!(fs.read(Path::new("/f")).unwrap(), b"hi\n");
    }
    drop(pool);
    assert_no_mounts_under(&base);
}

#[test]
fn a_crash_of_the_served_disk_fails_every_call_and_ends_the_program() {
    let pool = pool();
    let base = pool.base().to_path_buf();
    let fs = SimFs::default();
    fs.set_step_hook(Box::new(|info, _| {
        if info.index == 5 {
            StepAction::Crash
        } else {
            StepAction::Continue
        }
    }));
    {
        let mount = pool.take().unwrap();
        // Without the crash this program never ends: it commits forever,
        // and retries a failed call.
        let program = "import os, sys\n\
                       d = sys.argv[1]\n\
                       while True:\n\
                       \x20   try:\n\
                       \x20       fd = os.open(os.path.join(d, 'f'), os.O_CREAT | os.O_WRONLY)\n\
                       \x20       os.write(fd, b'x'); os.fsync(fd); os.close(fd)\n\
                       \x20   except OSError as e:\n\
                       \x20       print(e.errno, file=sys.stderr)\n";
        let dir = mount.dir().display().to_string();
        let end = run_on_mount(
            &mount,
            &fs,
            &spec(&[&python3(), "-c", program, &dir], Duration::from_secs(60)),
            pool.cleanup(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(end.ended, Ended::Crashed);
        let crashed = end.crashed.expect("the crash error is returned");
        assert!(is_crashed(&crashed), "{crashed}");
        assert_eq!(fs.trace().entries.len(), 5, "no step after the crash");
    }
    drop(pool);
    assert_no_mounts_under(&base);
}

/// A filesystem whose `write_all_at` panics: a bug in the serving code.
struct PanickingFs(SimFs);

impl Fs for PanickingFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.0.create_dir_all(path)
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.0.create_dir(path)
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.0.remove_dir(path)
    }
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        self.0.hard_link(original, link)
    }
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        self.0.open(path, mode)
    }
    fn write_all_at(&self, _: &FileHandle, _: u64, _: &[u8]) -> io::Result<()> {
        panic!("planted bug in the server");
    }
    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        self.0.append(file, bytes)
    }
    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        self.0.set_len(file, len_bytes)
    }
    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_at(file, offset, buf)
    }
    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        self.0.file_metadata(file)
    }
    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        self.0.sync(file)
    }
    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        self.0.sync_data(file)
    }
    fn close(&self, file: FileHandle) -> io::Result<()> {
        self.0.close(file)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.0.sync_dir(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.0.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.0.remove_file(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.0.read(path)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        self.0.read_dir(dir)
    }
    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.0.metadata(path)
    }
    fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
        self.0.try_lock(path)
    }
}

#[test]
fn a_panic_in_the_server_kills_the_program_and_leaves_the_mount_detached_and_usable() {
    let pool = pool();
    let base = pool.base().to_path_buf();
    let side = tempfile::tempdir().unwrap();
    let pid_file = side.path().join("program.pid");
    let broken = PanickingFs(SimFs::default());
    {
        let mount = pool.take().unwrap();
        // The program writes (the server panics), then would wait forever.
        let script = format!(
            "echo $$ > {}; echo x > \"$CRASHPROOF_DIR/f\"; sleep 1000",
            pid_file.display()
        );
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            run_on_mount(
                &mount,
                &broken,
                &spec(&["sh", "-c", &script], Duration::from_secs(60)),
                pool.cleanup(),
                &mut |_| {},
            )
        }));
        assert!(panicked.is_err(), "the planted panic propagates");
        assert!(
            is_dead(read_pid(&pid_file)),
            "the program outlived the panic"
        );
        // Detached: the next run attaches and is served.
        let fs = SimFs::default();
        let end = run_on_mount(
            &mount,
            &fs,
            &spec(
                &["sh", "-c", "echo ok > \"$CRASHPROOF_DIR/g\""],
                Duration::from_secs(30),
            ),
            pool.cleanup(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(end.ended, Ended::Exited(0));
        assert_eq!(fs.read(Path::new("/g")).unwrap(), b"ok\n");
    }
    drop(pool);
    assert_no_mounts_under(&base);
}

#[test]
fn only_the_run_s_own_processes_are_served_and_nothing_is_served_between_runs() {
    let pool = pool();
    let base = pool.base().to_path_buf();
    let fs = SimFs::default();
    {
        let mount = pool.take().unwrap();
        let dir = mount.dir().to_path_buf();
        // Between runs: the root's attributes, and EIO for anything else.
        assert!(std::fs::metadata(&dir).unwrap().is_dir());
        let idle = std::fs::read_dir(&dir).err().and_then(|e| e.raw_os_error());
        assert_eq!(idle, Some(libc::EIO));
        // During a run, a thread of this test process (another process
        // group) is a stranger: its listing fails while the program's
        // succeeds. The program waits on a FIFO the stranger writes after
        // its listing, so the listing happens while the run is attached.
        let side = tempfile::tempdir().unwrap();
        let fifo = side.path().join("go");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let script = format!(
            "touch \"$CRASHPROOF_DIR/mine\"; echo started >&3; ls \"$CRASHPROOF_DIR\"; read go < {}",
            fifo.display()
        );
        let mut stranger = None;
        let end = run_on_mount(
            &mount,
            &fs,
            &spec(&["sh", "-c", &script], Duration::from_secs(30)),
            pool.cleanup(),
            &mut |_| {
                // On the serving thread: the stranger must not wait here.
                let (dir, fifo) = (dir.clone(), fifo.clone());
                stranger = Some(std::thread::spawn(move || {
                    let listed = std::fs::read_dir(&dir).map(|_| ());
                    std::fs::write(&fifo, b"go\n").unwrap();
                    listed
                }));
            },
        )
        .unwrap();
        assert_eq!(end.ended, Ended::Exited(0));
        assert_eq!(String::from_utf8_lossy(&end.stdout), "mine\n");
        let listed = stranger
            .expect("the progress line was seen")
            .join()
            .unwrap();
        assert_eq!(listed.err().and_then(|e| e.raw_os_error()), Some(libc::EIO));
    }
    drop(pool);
    assert_no_mounts_under(&base);
}

#[test]
fn dropping_a_mount_with_a_process_inside_still_unmounts_it() {
    require_fuse();
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("mnt");
    std::fs::create_dir(&dir).unwrap();
    let mount = Mount::new(&dir, false).unwrap();
    assert!(is_mounted(mount.dir()));
    // A process whose working directory is the mount: a plain unmount is
    // EBUSY, so the lazy one must do it.
    let mut inside = Command::new("sleep")
        .arg("1000")
        .current_dir(mount.dir())
        .spawn()
        .unwrap();
    drop(mount);
    let still = is_mounted(&dir.canonicalize().unwrap_or(dir.clone()));
    inside.kill().unwrap();
    inside.wait().unwrap();
    assert!(!still, "the mount survived its drop");
    assert_no_mounts_under(base.path());
}
