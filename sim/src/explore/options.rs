//! The explorer's knobs, in one documented struct.

/// How the explorer runs. Everything a run depends on is here (and in the
/// workload), so an exploration is a pure function of this struct.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreOptions {
    /// Seed of every `SimFs` the explorer builds (`SimConfig::seed`) and of
    /// the explorer's own draws (fallback picks, random schedules).
    pub seed: u64,
    /// Most post-crash states enumerated at one crash point; past it the
    /// exhaustive mode falls back to `fallback_picks` seeded picks and says so.
    pub cap: usize,
    /// Seeded post-crash states checked at a crash point whose states exceed `cap`.
    pub fallback_picks: usize,
    /// Torn-write granularity of the simulated disk, in bytes.
    pub sector_size: usize,
    /// Run cases twice and compare traces and results (madsim's
    /// `MADSIM_TEST_CHECK_DETERMINISM`): in random mode every case, in
    /// exhaustive mode the clean run and a sample of crash points.
    pub check_determinism: bool,
    /// Violations kept in full (with traces) in a report; the rest are counted.
    pub max_full_violations: usize,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            cap: 256,
            fallback_picks: 16,
            sector_size: 512,
            check_determinism: false,
            max_full_violations: 3,
        }
    }
}
