//! The five seed systems as scenarios: small, faithful models of the
//! checkpoint code in the seed pull requests (`shared/seeds/`), built on
//! `crashproof-core`, each paired with the bug its reviewers found as a
//! mutant the explorer must catch.
//!
//! | scenario | seed | core pieces | review bug (mutant) |
//! |---|---|---|---|
//! | `tzel-sync` | tzel cooperative-yield sync | `Runner` (K, yield sentinel) | yield before the batch commit |
//! | `rooch-snapshot-resume` | Rooch snapshot resume | `Runner` (resume modes, fingerprint) | backup created/cleaned under two names |
//! | `rooch-tail-replay` | Rooch tail replay | `Runner`, `replace`, envelope | recorded start order wrong |
//! | `feldera-checkpointer` | Feldera checkpointer | `replace`, envelope | `expect()` on listing batches |
//! | `ccf-snapshot-writer` | CCF snapshots | envelope | leftover `O_EXCL` file |

pub mod ccf;
pub mod common;
pub mod feldera;
pub mod rooch_resume;
pub mod rooch_tail;
pub mod tzel;

use std::fmt;

use crate::zoo::Needs;
use crashproof_sim::explore::Workload;

/// One seed system: the correct scenario and its review mutant.
pub struct Scenario {
    /// Stable name (the correct workload's name).
    pub name: &'static str,
    /// The seed file it models, in `shared/seeds/`.
    pub seed: &'static str,
    /// The bug the seed's reviewers found, as the mutant reproduces it.
    pub review_bug: &'static str,
    /// The correct scenario: must pass every exploration.
    pub workload: Box<dyn Workload>,
    /// The scenario with the review bug: must be caught.
    pub mutant: Box<dyn Workload>,
    /// Which exploration catches the mutant.
    pub mutant_needs: Needs,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("seed", &self.seed)
            .field("mutant_needs", &self.mutant_needs)
            .finish_non_exhaustive()
    }
}

/// Every scenario, in the order of the table above, each in its own
/// directory under the simulated root.
pub fn catalogue() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "tzel-sync",
            seed: "tzel-cooperative-yield-sync.txt",
            review_bug: "yield returns before the batch is committed (the unchecked \
                         cursor + K is fixed by the core's saturating batch_end)",
            workload: Box::new(tzel::TzelSync::new("/wallet")),
            mutant: Box::new(tzel::TzelYieldBeforeCommit::new("/wallet")),
            mutant_needs: Needs::SingleCrash,
        },
        Scenario {
            name: "rooch-snapshot-resume",
            seed: "rooch-snapshot-resume.txt",
            review_bug: "backup created as `.backup`, cleaned up as `_backup.json`",
            workload: Box::new(rooch_resume::RoochSnapshot::new("/snapshot")),
            mutant: Box::new(rooch_resume::RoochBackupMismatch::new("/snapshot")),
            mutant_needs: Needs::SingleCrash,
        },
        Scenario {
            name: "rooch-tail-replay",
            seed: "rooch-tail-replay.txt",
            review_bug: "metadata records the requested start order (unwrap_or(0)), \
                         not the resolved one",
            workload: Box::new(rooch_tail::RoochTail::new("/replay")),
            mutant: Box::new(rooch_tail::RoochTail::recording_requested_start("/replay")),
            mutant_needs: Needs::SingleCrash,
        },
        Scenario {
            name: "feldera-checkpointer",
            seed: "feldera-checkpointer.txt",
            review_bug: "expect() panics when a checkpoint's batches cannot be listed",
            workload: Box::new(feldera::FelderaCheckpointer::new("/feldera")),
            mutant: Box::new(feldera::FelderaCheckpointer::expect_on_batches("/feldera")),
            mutant_needs: Needs::SingleCrash,
        },
        Scenario {
            name: "ccf-snapshot-writer",
            seed: "ccf-snapshot-writer.txt",
            review_bug: "an O_EXCL snapshot file left by a crash blocks every later \
                         snapshot of that seqno",
            workload: Box::new(ccf::CcfSnapshots::new("/ccf")),
            mutant: Box::new(ccf::CcfSnapshots::leftover_exclusive_file("/ccf")),
            mutant_needs: Needs::SingleCrash,
        },
    ]
}
