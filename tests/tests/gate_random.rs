//! CI gate: random multi-crash kill schedules (crashes during recovery
//! included) on the default workload find zero violations. Cases default to
//! 32; `PROPTEST_CASES` raises them. A failure is shrunk toward fewer,
//! earlier crash points and saved under `tests/proptest-regressions/`.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_catalog::core_runner::CoreRunnerWorkload;
use crashproof_fault::strategy::schedules;
use crashproof_fault::{CrashModel, KillSchedule};
use crashproof_sim::explore::{ExploreOptions, Explorer, RandomConfig};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(32)
}

fn schedule_strategy() -> BoxedStrategy<KillSchedule> {
    let workload = CoreRunnerWorkload::default();
    let explorer = Explorer::new(&workload, ExploreOptions::default());
    let clean = explorer.clean_run().unwrap();
    let config = RandomConfig {
        points_per_case_max: 3,
        ..RandomConfig::default()
    };
    schedules(explorer.schedule_strategy(&clean, &CrashModel::ALL, &config))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn random_multi_crash_schedules_keep_both_oracles(schedule in schedule_strategy()) {
        let workload = CoreRunnerWorkload::default();
        let explorer = Explorer::new(&workload, ExploreOptions::default());
        let clean = explorer.clean_run().unwrap();
        let outcome = explorer.run_case(&clean, &schedule).unwrap();
        if let Some(v) = outcome.violation {
            prop_assert!(false, "{}", v);
        }
        prop_assert!(outcome.runs >= 1);
        prop_assert_eq!(outcome.output.as_deref(), Some(clean.output.as_str()));
    }
}

/// The explorer's own random mode (seeded, shrinking) agrees.
#[test]
fn explore_random_mode_is_clean_on_the_default_workload() {
    let workload = CoreRunnerWorkload::default();
    let options = ExploreOptions {
        seed: 0x5eed,
        ..ExploreOptions::default()
    };
    let report = Explorer::new(&workload, options)
        .explore_random(
            &CrashModel::ALL,
            &RandomConfig {
                cases: cases(),
                ..RandomConfig::default()
            },
        )
        .unwrap();
    assert!(report.is_clean(), "{report}");
    assert!(
        report.states_checked() > 0,
        "some crash points must be reached: {report}"
    );
}
