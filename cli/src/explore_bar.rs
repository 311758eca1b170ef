//! The progress bar of an exploration on stderr: crash points checked of
//! the pass's total, states per second, ETA. Drawn only once the
//! exploration has run for about a second, only when stderr is a terminal
//! and `CI` is not set, and cleared before the report is printed, so the
//! report (and every pipe and log) is the same with or without it.
//!
//! The simulator reads no clock: it reports counts
//! ([`Event::Checking`]); the rates are measured here.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crashproof_sim::explore::Event;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long an exploration runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The bar, if stderr can show one.
pub struct ExploreBar {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: bool,
    pass_started: Instant,
}

impl ExploreBar {
    /// A bar that shows itself after [`SHOW_AFTER`] on an interactive
    /// stderr outside CI; otherwise one that draws nothing.
    pub fn new() -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = interactive.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} crash points  {msg}  ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            shown: false,
            pass_started: Instant::now(),
        }
    }

    /// Follows one event of the exploration.
    pub fn event(&mut self, event: &Event<'_>) {
        let Some(bar) = &self.bar else {
            return;
        };
        match event {
            Event::PassStarted(pass) => {
                self.pass_started = Instant::now();
                bar.set_prefix(pass.to_string());
                bar.set_position(0);
                bar.set_message("clean run...");
            }
            Event::Checking {
                done,
                total,
                states,
                ..
            } => {
                bar.set_length(*total);
                bar.set_position(*done);
                let seconds = self.pass_started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!(
                    "{states} states, {:.0} states/s",
                    *states as f64 / seconds
                ));
            }
            _ => {}
        }
        if !self.shown && self.started.elapsed() >= SHOW_AFTER {
            self.shown = true;
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Prints a line on stderr (above the bar, when it is drawn).
    pub fn println(&self, line: String) {
        match &self.bar {
            Some(bar) if self.shown => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// Removes the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
