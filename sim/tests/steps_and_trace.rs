//! Steps, the hook, the Crashed error, the trace, and determinism.

use crate::common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{content, p, sim};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::SimView;
use crashproof_sim::{
    CrashModel, FaultConfig, SimConfig, SimFs, StepAction, StepInfo, Trace, is_crashed,
};

/// A small checkpoint-like workload: temp file, fsync, rename, dir fsync.
fn workload(fs: &dyn Fs) -> std::io::Result<()> {
    fs.create_dir_all(p("/data"))?;
    fs.sync_dir(p("/"))?;
    for i in 0..3u8 {
        let h = fs.create_new(p("/data/ckpt.tmp"))?;
        fs.write_all_at(&h, 0, &[i; 700])?;
        fs.sync(&h)?;
        fs.close(h)?;
        fs.failpoint("replace.after_sync_before_rename")?;
        fs.rename(p("/data/ckpt.tmp"), p("/data/ckpt"))?;
        fs.sync_dir(p("/data"))?;
    }
    Ok(())
}

#[test]
fn after_step_action_crash_every_call_returns_crashed() {
    let fs = sim(31);
    let seen: Arc<Mutex<Vec<StepInfo>>> = Arc::default();
    let log = Arc::clone(&seen);
    fs.set_step_hook(Box::new(move |info, _| {
        log.lock().unwrap().push(info.clone());
        if info.index == 6 {
            StepAction::Crash
        } else {
            StepAction::Continue
        }
    }));
    let err = workload(&fs).unwrap_err();
    assert!(is_crashed(&err), "{err}");
    assert!(fs.is_crashed());
    assert_eq!(fs.steps(), 6);
    // Step 6 is the failpoint; the hook saw it labelled.
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.failpoint, Some("replace.after_sync_before_rename"));
    // Every kind of call now fails with Crashed, and none is a step.
    let calls: Vec<std::io::Result<()>> = vec![
        fs.create_dir_all(p("/x")),
        fs.open(p("/data/ckpt.tmp"), OpenMode::Existing).map(drop),
        fs.create_new(p("/data/other")).map(drop),
        fs.sync_dir(p("/data")),
        fs.rename(p("/data/ckpt.tmp"), p("/data/ckpt")),
        fs.remove_file(p("/data/ckpt.tmp")),
        fs.read(p("/data/ckpt.tmp")).map(drop),
        fs.read_dir(p("/data")).map(drop),
        fs.metadata(p("/data")).map(drop),
        fs.exists(p("/data")).map(drop),
        fs.try_lock(p("/data/LOCK")).map(drop),
        fs.failpoint("any"),
    ];
    for result in calls {
        assert!(is_crashed(&result.unwrap_err()));
    }
    assert_eq!(fs.steps(), 6);
    assert_eq!(
        seen.lock().unwrap().len(),
        7,
        "hook not called after the crash"
    );
    // A non-crash error is not mistaken for one.
    let other = sim(1).read(p("/missing")).unwrap_err();
    assert!(!is_crashed(&other));
    // The state at the crash is still there to take images of.
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert!(image.exists(p("/data")).unwrap());
    assert_eq!(
        content(&image, "/data/ckpt.tmp"),
        None,
        "its link was never synced"
    );
}

#[test]
fn crash_now_crashes_the_next_call() {
    let fs = sim(32);
    fs.create_dir_all(p("/a")).unwrap();
    fs.crash_now();
    assert!(is_crashed(&fs.sync_dir(p("/")).unwrap_err()));
}

#[test]
fn hook_sees_the_state_before_the_step() {
    let fs = sim(33);
    type Seen = Vec<(u64, Option<Vec<u8>>)>;
    let images: Arc<Mutex<Seen>> = Arc::default();
    let out = Arc::clone(&images);
    fs.set_step_hook(Box::new(move |info, source| {
        let image = source.crash_image(CrashModel::DropUnsynced, info.index).fs;
        let all = source.crash_images(CrashModel::Prefix, 1000).unwrap();
        assert_eq!(all.len(), source.unsynced_ops() + 1);
        out.lock()
            .unwrap()
            .push((info.index, content(&image, "/data/ckpt")));
        StepAction::Continue
    }));
    workload(&fs).unwrap();
    fs.clear_step_hook();
    let images = images.lock().unwrap();
    assert_eq!(images.len() as u64, fs.steps());
    // Steps per round: open, write, sync, close, failpoint, rename, sync_dir
    // (7), after create_dir_all + sync_dir (2). Round r's sync_dir is step
    // 2 + 7r + 6; only from the step after it is round r's checkpoint durable.
    for (index, ckpt) in images.iter() {
        let durable_round = if *index >= 9 {
            Some((index - 9) / 7)
        } else {
            None
        };
        let expected = durable_round.map(|r| vec![r as u8; 700]);
        assert_eq!(ckpt, &expected, "crash before step {index}");
    }
}

fn faulty(seed: u64) -> SimFs {
    SimFs::new(SimConfig {
        faults: FaultConfig {
            sync_eio_probability: 0.2,
            short_write_probability: 0.2,
            ..FaultConfig::default()
        },
        ..SimConfig::with_seed(seed)
    })
}

/// Runs the workload with faults, crashes at step 12, recovers on a
/// Subset image, runs again; returns the joined trace and final files.
fn replay(seed: u64) -> (String, String) {
    let fs = faulty(seed);
    fs.set_step_hook(Box::new(|info, _| {
        if info.index == 12 {
            StepAction::Crash
        } else {
            StepAction::Continue
        }
    }));
    let _ = workload(&fs);
    let image = fs.crash_image(CrashModel::Subset, seed ^ 0xABCD);
    let mut trace = fs.trace();
    trace.mark_crash(12, &image.choice.to_string());
    let _ = workload(&image.fs);
    trace.append(image.fs.trace(), "recovery run");
    (trace.to_string(), format!("{:?}", image.fs.files()))
}

#[test]
fn same_seed_same_trace_and_state_other_seed_differs() {
    let a = replay(40);
    assert_eq!(a, replay(40));
    assert_ne!(a, replay(41));
    if std::env::var_os("SHOW_TRACE").is_some() {
        println!("{}", a.0);
    }
    assert!(a.0.contains("==> CRASH before step 12: subset:"), "{}", a.0);
    assert!(a.0.contains("--- recovery run ---"));
}

#[test]
fn trace_reads_one_step_a_line_with_the_crash_marked() {
    let fs = sim(50);
    workload(&fs).unwrap();
    let mut trace = fs.trace();
    assert_eq!(trace.entries.len() as u64, fs.steps());
    trace.mark_crash(5, "drop-unsynced: lost #4 write");
    let text = trace.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), trace.entries.len() + 1);
    assert!(lines[5].starts_with("==> CRASH before step 5"), "{text}");
    assert!(lines[4].trim_start().starts_with("4 "), "{text}");
    assert!(
        lines[4].contains("sync") && lines[4].contains("/data/ckpt.tmp"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("rename") && l.contains("-> /data/ckpt"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("failpoint") && l.contains("replace.after_sync"))
    );
    // Errors show their kind.
    let _ = fs.read(Path::new("/nope"));
    assert!(
        fs.trace()
            .to_string()
            .lines()
            .last()
            .unwrap()
            .contains("ERROR NotFound")
    );
    // Appending keeps both runs, heading between.
    let mut joined = Trace::new();
    joined.append(fs.trace(), "first");
    joined.append(sim(1).trace(), "second");
    assert_eq!(
        joined.markers().collect::<Vec<_>>(),
        vec!["--- first ---", "--- second ---"]
    );
}

#[test]
fn is_crashed_sees_through_wrapping_errors() {
    #[derive(Debug, thiserror::Error)]
    #[error("checkpoint failed")]
    struct AppError(#[source] std::io::Error);

    let fs = sim(60);
    fs.crash_now();
    let err = fs.sync_dir(p("/")).unwrap_err();
    let nested = std::io::Error::other(std::io::Error::other(AppError(err)));
    assert!(is_crashed(&nested));
    let plain = sim(61).sync_dir(p("/missing")).unwrap_err();
    assert!(!is_crashed(&std::io::Error::other(AppError(plain))));
}

#[test]
fn a_joined_trace_reads_exactly_as_the_format_says() {
    // Each line: the step index right-aligned in 5, two spaces, the op name
    // padded to 14, the path (or failpoint name), ` (N bytes)` for writes,
    // ` [detail]`, then `  => ok`, `  => ok: <text>` or
    // `  => ERROR <kind>: <message>`, then `  !! fault: <fault>` per fault.
    // Markers on their own lines: crash points (relative to the run they
    // were marked in) and run headings.
    let first = SimFs::new(SimConfig {
        faults: FaultConfig {
            sync_eio_at_steps: [5].into(),
            ..FaultConfig::default()
        },
        ..SimConfig::with_seed(90)
    });
    first.create_dir_all(p("/d")).unwrap();
    let h = first.create_new(p("/d/f")).unwrap();
    first.write_all_at(&h, 0, b"abc").unwrap();
    first.failpoint("fp.one").unwrap();
    let _ = first.read(p("/missing"));
    let _ = first.sync(&h);
    let second = sim(91);
    second.create_dir_all(p("/e")).unwrap();
    second.sync_dir(p("/e")).unwrap();
    let third = sim(92);
    third.read_dir(p("/")).unwrap();
    // A two-crash run: the second and third runs joined first, then after
    // the first; each crash marked in the run it belongs to.
    let mut later = second.trace();
    later.mark_crash(1, "C");
    later.append(third.trace(), "third run");
    let mut trace = first.trace();
    trace.mark_crash(2, "A");
    trace.append(later, "second run");
    trace.mark_crash(0, "B");
    trace.mark_crash(9, "end");
    let eio = "simulated EIO on fsync: the unsynced data of this file is lost on a crash \
               even if a later sync succeeds; treat the data as gone";
    let expected = [
        "    0  create_dir_all /d  => ok".to_string(),
        "    1  open           /d/f [CreateNew]  => ok: handle 1".to_string(),
        "==> CRASH before step 2: A".to_string(),
        "    2  write_all_at   /d/f (3 bytes) [handle 1 @0]  => ok".to_string(),
        "    3  failpoint      fp.one  => ok".to_string(),
        "    4  read           /missing  => ERROR NotFound: no such file or directory".to_string(),
        format!(
            "    5  sync           /d/f [handle 1]  => ERROR Other: {eio}  !! fault: \
             EIO on fsync: 1 unsynced op(s) dropped, lost on a crash"
        ),
        "--- second run ---".to_string(),
        "    0  create_dir_all /e  => ok".to_string(),
        "==> CRASH before step 1: C".to_string(),
        "    1  sync_dir       /e  => ok".to_string(),
        "--- third run ---".to_string(),
        "==> CRASH before step 0: B".to_string(),
        "    0  read_dir       /  => ok: 0 entries".to_string(),
        "==> CRASH before step 9: end".to_string(),
    ];
    let text = trace.to_string();
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
    assert_eq!(
        trace.markers().collect::<Vec<_>>(),
        vec![
            "==> CRASH before step 2: A",
            "--- second run ---",
            "==> CRASH before step 1: C",
            "--- third run ---",
            "==> CRASH before step 0: B",
            "==> CRASH before step 9: end",
        ]
    );
    // A rename shows its target.
    let fs = sim(93);
    fs.create_new(p("/a")).map(drop).unwrap();
    fs.rename(p("/a"), p("/b")).unwrap();
    let line = fs.trace().entries[1].to_string();
    assert_eq!(line, "    1  rename         /a -> /b  => ok");
}

#[test]
fn a_cleared_hook_is_not_called_and_debug_shows_the_counters() {
    let fs = sim(94);
    let calls = Arc::new(Mutex::new(0));
    let count = Arc::clone(&calls);
    fs.set_step_hook(Box::new(move |_, _| {
        *count.lock().unwrap() += 1;
        StepAction::Continue
    }));
    fs.create_dir_all(p("/d")).unwrap();
    fs.clear_step_hook();
    fs.create_dir_all(p("/e")).unwrap();
    assert_eq!(*calls.lock().unwrap(), 1);
    assert!(!fs.is_crashed());
    let debug = format!("{fs:?}");
    assert!(
        debug.contains("seed: 94")
            && debug.contains("steps: 2")
            && debug.contains("unsynced_ops: 2")
            && debug.contains("crashed: false"),
        "{debug}"
    );
}
