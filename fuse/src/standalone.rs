//! A mount for other harnesses (`crashproof mount`): a fresh `SimFs` served
//! to any process until told to stop, and a control socket to crash it at a
//! chosen moment, list what is unsynced, and count steps. The LazyFS
//! replacement for Jepsen-style harnesses, with deterministic crash states.
//!
//! The socket is created with mode 0600 in a private directory (a new one
//! under the temp directory unless given; a given one must not be writable
//! by others); malformed or oversized commands get an `error` line and the
//! mount keeps serving. See [`crate::control`] for the protocol.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::Duration;

use crashproof_sim::{CrashModel, SimConfig, SimFs, SimView};

use crate::cleanup::Cleanup;
use crate::control::{Command, HELP, LINE_MAX_BYTES, parse};
use crate::dispatch::Event;
use crate::mount::{Mount, MountError};
use crate::server::Server;

/// How long a connection waits for the server to answer one command.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What the mount serves and how it crashes.
#[derive(Debug, Clone)]
pub struct StandaloneOptions {
    /// The crash model of `crash`.
    pub model: CrashModel,
    /// The disk's seed; `crash` without a seed picks with `seed + n` for
    /// its `n`-th crash.
    pub seed: u64,
    /// Torn-write granularity, in bytes.
    pub sector_size_bytes: usize,
    /// Let other users in (`allow_other`).
    pub allow_other: bool,
}

/// Why the mount could not serve.
#[derive(Debug, thiserror::Error)]
pub enum StandaloneError {
    /// Mounting failed.
    #[error(transparent)]
    Mount(#[from] MountError),
    /// The control socket could not be made.
    #[error("control socket {path}: {reason}")]
    Socket {
        /// Where.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// How the serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// Crashes made on command.
    pub crashes: u64,
}

/// The control socket: where it is, and the private directory it made.
struct Socket {
    path: PathBuf,
    _private_dir: Option<tempfile::TempDir>,
    stop: Arc<AtomicBool>,
}

impl Socket {
    fn bind(given: Option<&Path>, events: Sender<Event>) -> Result<Socket, StandaloneError> {
        let (path, private_dir) = match given {
            Some(path) => {
                check_private_parent(path)?;
                (path.to_path_buf(), None)
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("crashproof-control-")
                    .tempdir()
                    .map_err(|e| StandaloneError::Socket {
                        path: std::env::temp_dir(),
                        reason: format!("cannot create a private directory: {e}"),
                    })?;
                (dir.path().join("control.sock"), Some(dir))
            }
        };
        let failed = |reason: String| StandaloneError::Socket {
            path: path.clone(),
            reason,
        };
        let listener = UnixListener::bind(&path).map_err(|e| failed(e.to_string()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| failed(format!("cannot make it mode 0600: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepting = Arc::clone(&stop);
        thread::Builder::new()
            .name("crashproof-control".to_string())
            .spawn(move || accept(&listener, &events, &accepting))
            .map_err(|e| failed(e.to_string()))?;
        Ok(Socket {
            path,
            _private_dir: private_dir,
            stop,
        })
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accepting thread so it sees the flag and ends.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A socket path whose directory others can write to could be replaced
/// or raced: refuse it.
fn check_private_parent(path: &Path) -> Result<(), StandaloneError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mode = std::fs::metadata(parent)
        .map_err(|e| StandaloneError::Socket {
            path: path.to_path_buf(),
            reason: format!("cannot read its directory {}: {e}", parent.display()),
        })?
        .permissions()
        .mode();
    if mode & 0o022 != 0 {
        return Err(StandaloneError::Socket {
            path: path.to_path_buf(),
            reason: format!(
                "its directory {} is writable by other users (mode {:o}): put the socket in a \
                 private directory (mode 0700), or leave --control out for a new one",
                parent.display(),
                mode & 0o7777
            ),
        });
    }
    Ok(())
}

fn accept(listener: &UnixListener, events: &Sender<Event>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let events = events.clone();
        let _ = thread::Builder::new()
            .name("crashproof-control-conn".to_string())
            .spawn(move || converse(stream, &events));
    }
}

/// Reads command lines from one connection until it closes, answering
/// each; an oversized line is answered and closes the connection.
fn converse(stream: UnixStream, events: &Sender<Event>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = Vec::new();
        let limit = (LINE_MAX_BYTES + 1) as u64;
        match Read::by_ref(&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') && line.len() > LINE_MAX_BYTES {
            let _ = writeln!(
                writer,
                "error line longer than {LINE_MAX_BYTES} bytes; closing the connection"
            );
            return;
        }
        let (written, written_rx) = mpsc::sync_channel(1);
        let answer = match std::str::from_utf8(&line) {
            Err(_) => "error the line is not UTF-8".to_string(),
            Ok(text) => {
                let (reply, answers) = mpsc::channel();
                let sent = events.send(Event::Control {
                    line: text.trim_end_matches(['\n', '\r']).to_string(),
                    reply,
                    written: written_rx,
                });
                match sent {
                    Err(_) => "error the mount is shutting down".to_string(),
                    Ok(()) => answers
                        .recv_timeout(ANSWER_TIMEOUT)
                        .unwrap_or_else(|_| "error the mount did not answer".to_string()),
                }
            }
        };
        if writeln!(writer, "{answer}").is_err() {
            return;
        }
        let _ = written.try_send(());
    }
}

/// Mounts on `dir` and serves a fresh `SimFs` to every process until a
/// `quit` command or an [`Event::Stop`] on the sender `ready` gets. `ready`
/// is told the mount point, the control socket's path and a sender that
/// stops the server. Unmounts on return, also on an error.
pub fn serve(
    dir: &Path,
    options: &StandaloneOptions,
    control: Option<&Path>,
    cleanup: &Cleanup,
    ready: impl FnOnce(&Path, &Path, Sender<Event>),
) -> Result<Served, StandaloneError> {
    let mount = Mount::new(dir, options.allow_other)?;
    cleanup.mounted(mount.dir());
    let served = serve_on(&mount, options, control, ready);
    let unmounted = mount.unmount();
    cleanup.unmounted(dir);
    let served = served?;
    unmounted?;
    Ok(served)
}

fn serve_on(
    mount: &Mount,
    options: &StandaloneOptions,
    control: Option<&Path>,
    ready: impl FnOnce(&Path, &Path, Sender<Event>),
) -> Result<Served, StandaloneError> {
    let attachment = mount.attach()?;
    let socket = Socket::bind(control, attachment.sender())?;
    ready(mount.dir(), &socket.path, attachment.sender());
    let mut fs = SimFs::new(SimConfig {
        seed: options.seed,
        sector_size_bytes: options.sector_size_bytes,
        ..SimConfig::default()
    });
    let mut crashes = 0u64;
    loop {
        let mut server = Server::new(&fs, mount.next_ino(), mount.owner()).close_on_release();
        let crash = loop {
            let Ok(event) = attachment.events().recv() else {
                return Ok(Served { crashes });
            };
            match event {
                Event::Request { op, .. } => server.serve(op),
                Event::ProgramEnded => {}
                Event::Stop => return Ok(Served { crashes }),
                Event::Control {
                    line,
                    reply,
                    written,
                } => match parse(&line) {
                    Err(e) => {
                        let _ = reply.send(format!("error {e}"));
                    }
                    Ok(Command::Steps) => {
                        let _ = reply.send(format!("ok steps {} generation {crashes}", fs.steps()));
                    }
                    Ok(Command::Unsynced) => {
                        let ops = fs.unsynced();
                        let mut answer: String = ops.iter().map(|op| format!("{op}\n")).collect();
                        answer.push_str(&format!("ok {} unsynced operations", ops.len()));
                        let _ = reply.send(answer);
                    }
                    Ok(Command::Help) => {
                        let _ = reply.send(format!("{HELP}\nok"));
                    }
                    Ok(Command::Quit) => {
                        let _ = reply.send("ok quitting".to_string());
                        // Unmounting and exiting before the answer is
                        // written would leave the client without it.
                        let _ = written.recv_timeout(ANSWER_TIMEOUT);
                        return Ok(Served { crashes });
                    }
                    Ok(Command::Crash(seed)) => break (seed, reply),
                },
            }
        };
        let (seed, reply) = crash;
        let names = server.kernel_names().clone();
        drop(server);
        let seed = seed.unwrap_or(options.seed.wrapping_add(crashes));
        let steps = fs.steps();
        let image = fs.crash_image(options.model, seed);
        crashes += 1;
        // The kernel must look every name up again, in the new state.
        mount.forget_names(&names);
        fs = image.fs;
        let _ = reply.send(format!(
            "ok crashed after {steps} steps; serving the post-crash state (generation \
             {crashes}, model {}, seed {seed}): {}",
            options.model, image.choice
        ));
    }
}
