//! The progress line on stderr while cases run: only when stderr is a
//! terminal and not in CI (`CI` set), so logs and pipes stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use crashproof_kill::Tally;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner with the running counts (failpoint cases are open-ended, so
/// there is no total to show a bar against).
pub struct CaseBar(Option<ProgressBar>);

impl CaseBar {
    /// Starts the spinner, or nothing when stderr is not an interactive
    /// terminal.
    pub fn start() -> Self {
        if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message("clean run...");
        Self(Some(bar))
    }

    /// Shows the counts after a case.
    pub fn update(&self, tally: &Tally) {
        if let Some(bar) = &self.0 {
            bar.set_message(format!(
                "{} cases ({} random planned), {} kills, {} failing",
                tally.cases, tally.random_cases, tally.kills, tally.failures
            ));
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
