//! The madsim world's properties, each shown holding for the honest job
//! and caught on a planted broken variant. Only under `--cfg madsim` (see
//! the crate docs for the command); each world prints its seed, and
//! `MADSIM_TEST_SEED=<seed>` replays it.
#![cfg(madsim)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crashproof_madsim::{
    Kills, Ops, Report, Variant, WorldConfig, check_all, loss_within_interval,
    no_acknowledged_progress_lost, run_world, wait_within_one_batch,
};
use crashproof_sim::CrashModel;

const MINUTE: Duration = Duration::from_secs(60);

/// 200 items of 6 s each (20 minutes of work), K = 25 (a 150 s batch),
/// sentinel looked at after every commit, no T, no short ops, no power
/// losses.
fn base() -> WorldConfig {
    WorldConfig {
        items: 200,
        checkpoint_every: 25,
        checkpoint_interval: None,
        sentinel_check_interval: Duration::ZERO,
        item_cost: Duration::from_secs(6),
        op_cost: Duration::from_secs(2),
        poll_interval: Duration::from_secs(1),
        ops: Ops::At(Vec::new()),
        kills: Kills::At(Vec::new()),
        crash_model: CrashModel::DropUnsynced,
        variant: Variant::Honest,
    }
}

/// The time-based policy: T = 5 simulated minutes, K = 100 (600 s of
/// items, so T ends every batch, at 50 items).
fn timed() -> WorldConfig {
    WorldConfig {
        checkpoint_every: 100,
        checkpoint_interval: Some(5 * MINUTE),
        ..base()
    }
}

fn random_ops(count: usize) -> Ops {
    Ops::Random {
        count,
        gap_min: 2 * MINUTE,
        gap_max: 6 * MINUTE,
    }
}

fn assert_clean(report: &Report) {
    if let Err(v) = check_all(report) {
        panic!("{v}\n{report:#?}");
    }
}

#[madsim::test]
async fn short_ops_wait_at_most_one_batch_and_the_job_ends_clean() {
    let report = run_world(WorldConfig {
        ops: random_ops(3),
        ..base()
    })
    .await;
    assert_eq!(report.waits.len(), 3, "{report:?}");
    assert_clean(&report);
}

#[madsim::test]
async fn looking_at_the_sentinel_every_other_batch_breaks_the_wait_bound() {
    // The sentinel appears 0.2 batch after the first commit looked at it:
    // the honest job yields at the next commit (0.8 batch later); one that
    // looks only every 2 batches skips that commit and yields at the one
    // after (1.8 batches later).
    let batch = base().batch_time_max();
    let config = WorldConfig {
        ops: Ops::At(vec![batch * 6 / 5]),
        ..base()
    };
    let honest = run_world(config.clone()).await;
    assert_clean(&honest);
    let sparse = run_world(WorldConfig {
        sentinel_check_interval: batch * 2,
        ..config
    })
    .await;
    let violation = wait_within_one_batch(&sparse).unwrap_err();
    assert!(violation.detail.contains("waited"), "{violation}");
}

#[madsim::test]
async fn power_losses_lose_no_acknowledged_progress() {
    for crash_model in [CrashModel::DropUnsynced, CrashModel::Prefix] {
        let report = run_world(WorldConfig {
            ops: random_ops(2),
            kills: Kills::Random { count: 2 },
            crash_model,
            ..base()
        })
        .await;
        assert_clean(&report);
    }
}

#[madsim::test]
async fn acknowledging_before_the_commit_loses_acknowledged_progress() {
    let config = WorldConfig {
        kills: Kills::Random { count: 1 },
        ..base()
    };
    let honest = run_world(config.clone()).await;
    assert_clean(&honest);
    let early = run_world(WorldConfig {
        variant: Variant::AckBeforeCommit,
        ..config
    })
    .await;
    let violation = no_acknowledged_progress_lost(&early).unwrap_err();
    assert!(
        violation.detail.contains("after acknowledging"),
        "{violation}"
    );
}

#[madsim::test]
async fn the_time_policy_loses_at_most_t_per_power_loss() {
    let report = run_world(WorldConfig {
        ops: random_ops(2),
        kills: Kills::Random { count: 3 },
        crash_model: CrashModel::Prefix,
        ..timed()
    })
    .await;
    assert_clean(&report);
}

#[madsim::test]
async fn a_runner_without_t_loses_more_than_t() {
    // A power loss at 9 minutes: the honest job committed at 5 minutes
    // (4 minutes lost); K alone commits first at 10 minutes (9 lost).
    let config = WorldConfig {
        kills: Kills::At(vec![9 * MINUTE]),
        ..timed()
    };
    let honest = run_world(config.clone()).await;
    assert_clean(&honest);
    let untimed = run_world(WorldConfig {
        variant: Variant::IgnoresInterval,
        ..config
    })
    .await;
    let violation = loss_within_interval(&untimed).unwrap_err();
    assert!(violation.detail.contains("more than"), "{violation}");
}

/// madsim's determinism check: the same seed run twice must make the same
/// random draws in the same order (it panics at the first difference).
#[test]
fn the_world_is_deterministic() {
    let mut builder = madsim::runtime::Builder::from_env();
    builder.check = true;
    let outcome = builder.run(|| async {
        let report = run_world(WorldConfig {
            ops: random_ops(2),
            kills: Kills::Random { count: 2 },
            crash_model: CrashModel::Prefix,
            ..timed()
        })
        .await;
        check_all(&report).map_err(|v| v.to_string())
    });
    if let Err(v) = outcome {
        panic!("{v}");
    }
}
