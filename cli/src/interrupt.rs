//! Ctrl-C (SIGINT) and SIGTERM for the long commands: `kill`, `tune-k` and
//! `explore` (whose flag the explorer checks between units of work,
//! `ExploreOptions::cancel`); made for `explore-cmd` too.
//!
//! A command calls [`Interrupt::install`] before its long work, then checks
//! [`Interrupt::is_set`] between units of work, or hands
//! [`Interrupt::flag`] to a library loop that checks it (`kill`'s
//! `CampaignOptions::interrupt`). A signal only sets the flag; the command
//! itself stops its work, kills the process group of any child it runs,
//! removes the directories it made, prints its summary of what was done so
//! far marked `INTERRUPTED`, and exits with [`Exit::Interrupted`] (130, the
//! shell's code for a SIGINT death). A second signal sets the flag again and
//! nothing more: the cleanup takes milliseconds, and ending the process
//! before it would leave the children and directories this is here to
//! remove.
//!
//! Install it only in a command that checks the flag: once installed,
//! SIGINT and SIGTERM no longer end the process by themselves.
//!
//! [`Exit::Interrupted`]: crate::exit::Exit::Interrupted

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The one flag of the process, once the handlers are installed.
static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process's interrupt flag: set by SIGINT or SIGTERM.
#[derive(Debug, Clone)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
}

impl Interrupt {
    /// Installs the SIGINT and SIGTERM handlers (once per process; later
    /// calls return the same flag) and returns the flag.
    pub fn install() -> io::Result<Self> {
        if let Some(flag) = FLAG.get() {
            return Ok(Self { flag: flag.clone() });
        }
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            signal_hook::flag::register(signal, flag.clone())?;
        }
        // The command runs on one thread when it installs: no other call
        // can have set the cell in between.
        let flag = FLAG.get_or_init(|| flag).clone();
        Ok(Self { flag })
    }

    /// The flag, for a library loop that checks it.
    pub fn flag(&self) -> &Arc<AtomicBool> {
        &self.flag
    }

    /// Whether a signal arrived.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}
