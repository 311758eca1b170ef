//! Failpoint catalogue and kill schedules for the crash explorer.
