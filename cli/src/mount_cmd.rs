//! `crashproof mount`: a fresh simulated disk as a real mount, for other
//! harnesses (Jepsen-style tests, shell scripts), crashed on command over a
//! control socket. The protocol: `crashproof_fuse::control` and
//! `docs/any-program.md`.

use std::path::PathBuf;

use clap::Args;
use crashproof_fuse::{Cleanup, StandaloneOptions, serve};
use crashproof_sim::explore::ExploreOptions;

use crate::exit::{Exit, harness_error};
use crate::explore_cmd::ModelArg;
use crate::signals::clean_up_on_termination;

/// Arguments of `crashproof mount`.
#[derive(Debug, Args)]
pub struct MountArgs {
    /// The directory to mount on (it must exist; an empty one).
    dir: PathBuf,
    /// The crash model of the `crash` command: which unsynced operations
    /// may survive it.
    #[arg(long, value_enum, default_value = "drop-unsynced")]
    model: ModelArg,
    /// The disk's seed: a `crash` without a seed picks its state with
    /// seed + the number of crashes before it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Torn-write granularity of the simulated disk, in bytes.
    #[arg(
        long = "sector-size",
        value_name = "BYTES",
        default_value_t = ExploreOptions::default().sector_size_bytes,
        value_parser = crate::sector_size_arg::parse
    )]
    sector_size_bytes: usize,
    /// Where to create the control socket (mode 0600; its directory must
    /// not be writable by other users). Default: `control.sock` in a new
    /// private directory under the temp directory; its path is printed.
    #[arg(long, value_name = "SOCKET")]
    control: Option<PathBuf>,
    /// Let other users use the mount (FUSE's allow_other); by default only
    /// the user who mounted it can.
    #[arg(long)]
    allow_other: bool,
}

/// Serves until `quit` on the control socket, Ctrl-C or SIGTERM; then
/// removes the mount. Exit 0, or 2 if it could not mount.
pub fn run(args: &MountArgs) -> Exit {
    let model = match args.model {
        ModelArg::All => {
            return crate::exit::usage_error(
                "--model all: a crash of a mount leaves one state, of one model: name it \
                 (drop-unsynced, prefix, subset, eager-dirs)",
            );
        }
        other => other.models()[0],
    };
    let cleanup = Cleanup::new();
    if let Err(e) = clean_up_on_termination(cleanup.clone()) {
        return harness_error(format!("cannot install the signal handler: {e}"));
    }
    let options = StandaloneOptions {
        model,
        seed: args.seed,
        sector_size_bytes: args.sector_size_bytes,
        allow_other: args.allow_other,
    };
    let served = serve(
        &args.dir,
        &options,
        args.control.as_deref(),
        &cleanup,
        |dir, socket, _| {
            // One line on stdout a harness can wait for and parse.
            println!(
                "mounted {} (model {model}, seed {}); control socket {}",
                dir.display(),
                args.seed,
                socket.display()
            );
        },
    );
    match served {
        Ok(s) => {
            eprintln!("crashproof mount: unmounted after {} crashes", s.crashes);
            Exit::Clean
        }
        Err(e) => harness_error(e),
    }
}
