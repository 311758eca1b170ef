//! The caller's cancel flag (`ExploreOptions::cancel`, what the CLI's
//! Ctrl-C handler sets): an exploration stops between units of work and
//! returns what it did so far, marked interrupted, never clean; set before
//! anything ran, it is an error. The flag is set here by the observer, on
//! the caller's thread, at a known point: no signal, no timing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::counter;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use counter::Bug;
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{Cancel, Event, ExploreOptions, Explorer, HarnessError, Mode, Plan};

fn plan() -> Plan {
    Plan {
        models: vec![CrashModel::DropUnsynced, CrashModel::Prefix],
        modes: vec![Mode::Exhaustive],
    }
}

#[test]
fn a_cancel_between_units_returns_the_report_so_far_marked_interrupted() {
    let workload = counter::checked(Bug::None);
    let whole = Explorer::new(&workload, ExploreOptions::default())
        .explore(&plan())
        .unwrap();
    assert!(!whole.interrupted && whole.is_clean());
    for jobs in [1, 2] {
        let flag = Arc::new(AtomicBool::new(false));
        let options = ExploreOptions {
            jobs,
            cancel: Cancel::when(flag.clone()),
            ..ExploreOptions::default()
        };
        let report = Explorer::new(&workload, options)
            .explore_observed(&plan(), &mut |event| {
                if let Event::Checking { done: 2, .. } = event {
                    flag.store(true, Ordering::SeqCst);
                }
            })
            .unwrap();
        assert!(report.interrupted, "{report}");
        assert!(!report.is_clean(), "an interrupted report is never clean");
        // The exhaustive passes run together (one twin run for both
        // models): both, each only in part, the same part.
        assert_eq!(report.passes.len(), 2, "{report}");
        for (part, all) in report.passes.iter().zip(&whole.passes) {
            assert!(
                part.crash_points < all.crash_points,
                "jobs {jobs}: {report}"
            );
            assert!(part.crash_points >= 2, "{report}");
        }
        assert_eq!(
            report.passes[0].crash_points, report.passes[1].crash_points,
            "{report}"
        );
        let text = report.to_string();
        assert!(text.contains("result: INTERRUPTED"), "{text}");
        assert!(!text.contains("result: OK"), "{text}");
    }
}

#[test]
fn a_cancel_set_before_anything_ran_is_an_error() {
    let workload = counter::checked(Bug::None);
    let options = ExploreOptions {
        cancel: Cancel::when(Arc::new(AtomicBool::new(true))),
        ..ExploreOptions::default()
    };
    let err = Explorer::new(&workload, options)
        .explore(&plan())
        .unwrap_err();
    assert!(matches!(err, HarnessError::Interrupted), "{err}");
    assert!(err.to_string().contains("nothing was checked"), "{err}");
}
