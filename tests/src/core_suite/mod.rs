//! The core's test suites, runnable on any filesystem.
//!
//! Each suite function takes `(&dyn Fs, root)` where `root` is an existing,
//! empty directory, works only below `root`, and returns `Err` with a
//! description when a check fails. [`CORE_SUITE`] lists them all;
//! [`core_suite_tests!`](crate::core_suite_tests) turns the list into one
//! `#[test]` per function for a given filesystem:
//!
//! ```text
//! fn on_std_fs(test: crashproof_tests::core_suite::SuiteFn) -> Result<(), String> {
//!     let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
//!     test(&crashproof_core::fs::StdFs::new(), dir.path())
//! }
//! crashproof_tests::core_suite_tests!(on_std_fs);
//! ```

mod fs_contract;
mod replace;
mod runner;
mod runner_honest;
mod store;
mod store_gc;
mod store_recovery;

use std::path::Path;

use crashproof_core::fs::Fs;

use crate::check::SuiteResult;

pub use fs_contract::*;
pub use replace::*;
pub use runner::*;
pub use runner_honest::*;
pub use store::*;
pub use store_gc::*;
pub use store_recovery::*;

/// One suite function.
pub type SuiteFn = fn(&dyn Fs, &Path) -> SuiteResult;

/// Every suite function with its name, in the order
/// [`core_suite_tests!`](crate::core_suite_tests) generates them.
pub const CORE_SUITE: &[(&str, SuiteFn)] = &[
    (
        "runner_background_commit_costs_what_a_synchronous_one_does",
        runner_background_commit_costs_what_a_synchronous_one_does,
    ),
    (
        "fs_read_only_handle_refuses_writes",
        fs_read_only_handle_refuses_writes,
    ),
    (
        "fs_open_modes_follow_their_flags",
        fs_open_modes_follow_their_flags,
    ),
    ("fs_open_refuses_a_directory", fs_open_refuses_a_directory),
    ("fs_closed_handle_is_refused", fs_closed_handle_is_refused),
    (
        "fs_append_set_len_and_file_metadata",
        fs_append_set_len_and_file_metadata,
    ),
    ("fs_metadata_and_read_dir", fs_metadata_and_read_dir),
    (
        "fs_directories_and_hard_links",
        fs_directories_and_hard_links,
    ),
    (
        "fs_try_lock_is_exclusive_until_close",
        fs_try_lock_is_exclusive_until_close,
    ),
    (
        "fs_errors_name_operation_and_path",
        fs_errors_name_operation_and_path,
    ),
    ("replace_creates_new_file", replace_creates_new_file),
    ("replace_overwrites_old_file", replace_overwrites_old_file),
    (
        "replace_leftover_temp_does_not_block",
        replace_leftover_temp_does_not_block,
    ),
    (
        "replace_follows_the_protocol_order",
        replace_follows_the_protocol_order,
    ),
    (
        "replace_failed_sync_keeps_old_content",
        replace_failed_sync_keeps_old_content,
    ),
    (
        "replace_failed_write_keeps_old_content",
        replace_failed_write_keeps_old_content,
    ),
    (
        "replace_failed_close_keeps_old_content",
        replace_failed_close_keeps_old_content,
    ),
    (
        "replace_failed_rename_keeps_old_content",
        replace_failed_rename_keeps_old_content,
    ),
    (
        "replace_failed_dir_sync_is_an_error",
        replace_failed_dir_sync_is_an_error,
    ),
    (
        "replace_create_error_is_returned_unchanged",
        replace_create_error_is_returned_unchanged,
    ),
    ("store_retention_keeps_newest", store_retention_keeps_newest),
    (
        "store_gc_runs_after_new_generation_is_durable",
        store_gc_runs_after_new_generation_is_durable,
    ),
    (
        "store_startup_gc_removes_only_its_own_leftovers",
        store_startup_gc_removes_only_its_own_leftovers,
    ),
    (
        "store_falls_back_from_corrupt_newest",
        store_falls_back_from_corrupt_newest,
    ),
    (
        "store_all_corrupt_is_an_error",
        store_all_corrupt_is_an_error,
    ),
    (
        "store_refuses_other_fingerprint",
        store_refuses_other_fingerprint,
    ),
    (
        "store_corrupt_newest_over_foreign_is_mismatch",
        store_corrupt_newest_over_foreign_is_mismatch,
    ),
    (
        "store_discard_all_removes_generations_only",
        store_discard_all_removes_generations_only,
    ),
    (
        "store_unreadable_directory_is_an_error",
        store_unreadable_directory_is_an_error,
    ),
    ("store_rejects_zero_keep", store_rejects_zero_keep),
    (
        "store_gc_that_removes_nothing_syncs_nothing",
        store_gc_that_removes_nothing_syncs_nothing,
    ),
    ("store_gc_removal_errors", store_gc_removal_errors),
    (
        "store_discard_all_makes_pending_removals_durable",
        store_discard_all_makes_pending_removals_durable,
    ),
    (
        "store_nested_job_dir_syncs_every_new_ancestor",
        store_nested_job_dir_syncs_every_new_ancestor,
    ),
    (
        "store_job_dir_that_is_a_file_is_refused",
        store_job_dir_that_is_a_file_is_refused,
    ),
    (
        "store_error_messages_do_not_repeat_the_path",
        store_error_messages_do_not_repeat_the_path,
    ),
    (
        "store_ignores_directories_with_its_names",
        store_ignores_directories_with_its_names,
    ),
    (
        "store_reports_its_configuration_and_stat_errors",
        store_reports_its_configuration_and_stat_errors,
    ),
    (
        "store_newer_version_is_not_skipped_as_corrupt",
        store_newer_version_is_not_skipped_as_corrupt,
    ),
    (
        "store_resumes_own_checkpoint_below_another_jobs",
        store_resumes_own_checkpoint_below_another_jobs,
    ),
    (
        "store_codec_is_recorded_per_file",
        store_codec_is_recorded_per_file,
    ),
    (
        "runner_clean_run_matches_direct_computation",
        runner_clean_run_matches_direct_computation,
    ),
    (
        "runner_yield_then_resume_matches_clean_run",
        runner_yield_then_resume_matches_clean_run,
    ),
    (
        "runner_rejects_zero_checkpoint_every",
        runner_rejects_zero_checkpoint_every,
    ),
    (
        "runner_time_based_checkpointing",
        runner_time_based_checkpointing,
    ),
    (
        "runner_force_restart_discards_checkpoints",
        runner_force_restart_discards_checkpoints,
    ),
    (
        "runner_no_resume_ignores_checkpoints",
        runner_no_resume_ignores_checkpoints,
    ),
    (
        "runner_lock_refuses_second_runner",
        runner_lock_refuses_second_runner,
    ),
    ("runner_sentinel_file_yields", runner_sentinel_file_yields),
    (
        "runner_cursor_near_u64_max_does_not_overflow",
        runner_cursor_near_u64_max_does_not_overflow,
    ),
    (
        "runner_job_error_keeps_last_checkpoint",
        runner_job_error_keeps_last_checkpoint,
    ),
    (
        "runner_final_checkpoint_precedes_finalize",
        runner_final_checkpoint_precedes_finalize,
    ),
    ("runner_cleanup_on_success", runner_cleanup_on_success),
    (
        "runner_falls_back_from_corrupt_checkpoint",
        runner_falls_back_from_corrupt_checkpoint,
    ),
    (
        "runner_stop_before_finalize_resumes_into_finalize",
        runner_stop_before_finalize_resumes_into_finalize,
    ),
    (
        "runner_steady_state_commit_makes_two_fsyncs",
        runner_steady_state_commit_makes_two_fsyncs,
    ),
    (
        "runner_sentinel_check_interval_spaces_out_looks",
        runner_sentinel_check_interval_spaces_out_looks,
    ),
    (
        "runner_resumes_own_checkpoint_below_another_jobs",
        runner_resumes_own_checkpoint_below_another_jobs,
    ),
    (
        "runner_unwritable_job_dir_is_refused_at_open",
        runner_unwritable_job_dir_is_refused_at_open,
    ),
    (
        "runner_error_messages_are_plain",
        runner_error_messages_are_plain,
    ),
    (
        "runner_postcard_checkpoints_resume_under_any_codec",
        runner_postcard_checkpoints_resume_under_any_codec,
    ),
    (
        "runner_yield_signal_handle_is_the_runners",
        runner_yield_signal_handle_is_the_runners,
    ),
];

/// Generates one `#[test]` per [`CORE_SUITE`] function, each calling
/// `$run(function)` and failing with the suite's message on `Err`. `$run`
/// (a `fn(SuiteFn) -> Result<(), String>`) builds a fresh filesystem and
/// root directory and runs the function on them. Also generates
/// `core_suite_list_is_complete`, which fails if this macro and
/// [`CORE_SUITE`] disagree.
#[macro_export]
macro_rules! core_suite_tests {
    ($run:path) => {
        $crate::__core_suite_tests_impl! { $run;
            runner_background_commit_costs_what_a_synchronous_one_does,
            fs_read_only_handle_refuses_writes,
            fs_open_modes_follow_their_flags,
            fs_open_refuses_a_directory,
            fs_closed_handle_is_refused,
            fs_append_set_len_and_file_metadata,
            fs_metadata_and_read_dir,
            fs_directories_and_hard_links,
            fs_try_lock_is_exclusive_until_close,
            fs_errors_name_operation_and_path,
            replace_creates_new_file,
            replace_overwrites_old_file,
            replace_leftover_temp_does_not_block,
            replace_follows_the_protocol_order,
            replace_failed_sync_keeps_old_content,
            replace_failed_write_keeps_old_content,
            replace_failed_close_keeps_old_content,
            replace_failed_rename_keeps_old_content,
            replace_failed_dir_sync_is_an_error,
            replace_create_error_is_returned_unchanged,
            store_retention_keeps_newest,
            store_gc_runs_after_new_generation_is_durable,
            store_startup_gc_removes_only_its_own_leftovers,
            store_falls_back_from_corrupt_newest,
            store_all_corrupt_is_an_error,
            store_refuses_other_fingerprint,
            store_corrupt_newest_over_foreign_is_mismatch,
            store_discard_all_removes_generations_only,
            store_unreadable_directory_is_an_error,
            store_rejects_zero_keep,
            store_gc_that_removes_nothing_syncs_nothing,
            store_gc_removal_errors,
            store_discard_all_makes_pending_removals_durable,
            store_nested_job_dir_syncs_every_new_ancestor,
            store_job_dir_that_is_a_file_is_refused,
            store_error_messages_do_not_repeat_the_path,
            store_ignores_directories_with_its_names,
            store_reports_its_configuration_and_stat_errors,
            store_newer_version_is_not_skipped_as_corrupt,
            store_resumes_own_checkpoint_below_another_jobs,
            store_codec_is_recorded_per_file,
            runner_clean_run_matches_direct_computation,
            runner_yield_then_resume_matches_clean_run,
            runner_rejects_zero_checkpoint_every,
            runner_time_based_checkpointing,
            runner_force_restart_discards_checkpoints,
            runner_no_resume_ignores_checkpoints,
            runner_lock_refuses_second_runner,
            runner_sentinel_file_yields,
            runner_cursor_near_u64_max_does_not_overflow,
            runner_job_error_keeps_last_checkpoint,
            runner_final_checkpoint_precedes_finalize,
            runner_cleanup_on_success,
            runner_falls_back_from_corrupt_checkpoint,
            runner_stop_before_finalize_resumes_into_finalize,
            runner_steady_state_commit_makes_two_fsyncs,
            runner_sentinel_check_interval_spaces_out_looks,
            runner_resumes_own_checkpoint_below_another_jobs,
            runner_unwritable_job_dir_is_refused_at_open,
            runner_error_messages_are_plain,
            runner_postcard_checkpoints_resume_under_any_codec,
            runner_yield_signal_handle_is_the_runners,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __core_suite_tests_impl {
    ($run:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Err(failure) = $run($crate::core_suite::$name) {
                    panic!("{}: {}", stringify!($name), failure);
                }
            }
        )*

        #[test]
        fn core_suite_list_is_complete() {
            let generated: &[&str] = &[$(stringify!($name)),*];
            let listed: Vec<&str> = $crate::core_suite::CORE_SUITE
                .iter()
                .map(|(name, _)| *name)
                .collect();
            assert_eq!(generated, &listed[..], "core_suite_tests! and CORE_SUITE disagree");
        }
    };
}
