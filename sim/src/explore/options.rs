//! The explorer's knobs, in one documented struct.

/// How the explorer runs. Everything a run depends on is here (and in the
/// workload), so an exploration is a pure function of this struct.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreOptions {
    /// Seed of every `SimFs` the explorer builds (`SimConfig::seed`) and of
    /// the explorer's own draws (fallback picks, random schedules).
    pub seed: u64,
    /// Most post-crash states enumerated at one crash point; past it the
    /// exhaustive mode falls back to `picks_per_capped_point` seeded picks and says so.
    pub states_per_point_max: usize,
    /// Seeded post-crash states checked at a crash point whose states exceed `cap`.
    pub picks_per_capped_point: usize,
    /// Torn-write granularity of the simulated disk, in bytes.
    pub sector_size_bytes: usize,
    /// Run cases twice and compare traces and results (madsim's
    /// `MADSIM_TEST_CHECK_DETERMINISM`): in random mode every case, in
    /// exhaustive mode the clean run and a sample of crash points.
    pub check_determinism: bool,
    /// Violations kept in full (with traces) in a report; the rest are counted.
    pub violations_in_full_max: usize,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            states_per_point_max: 256,
            picks_per_capped_point: 16,
            sector_size_bytes: 512,
            check_determinism: false,
            violations_in_full_max: 3,
        }
    }
}
