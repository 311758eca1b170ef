//! A pass's crash points, streamed: the states of every step of the clean
//! run, handed to the checking threads in bounded batches as they ask,
//! never all held at once.
//!
//! The clean run itself ([`Engine::run_clean`]) records only what the
//! checks need of the whole run (output, converged points, the progress
//! record by step): a resumed run converges at a point the clean run
//! reaches *after* the crash, so those must be known before the first
//! state is checked. The states come from a **twin** of that run, on a
//! thread of its own: its step hook takes a snapshot of each moment
//! (no image: `points.rs`), gathers [`BATCH_POINTS`] of them and waits
//! until the consumer asks for the next batch; so the twin is at most one
//! batch ahead (two with prefetch) and a pass holds a few batches of
//! snapshots whatever the run's length. A workload is deterministic, so
//! the twin takes the clean run's steps; it must also end with its
//! output (a twin that fails streamed only part of the run), or the pass
//! stops with [`HarnessError::CleanRunFailed`] instead of checking states
//! of a run nobody checked, or only some of them.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use crashproof_fault::CrashModel;

use super::clean::CleanRun;
use super::lock::lock;
use super::points::{PointStates, states_at};
use super::run_end::{RunEnd, panic_message};
use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::options::ExploreOptions;
use crate::fs::Snapshot;
use crate::{FaultConfig, SimView, StepAction};

/// Crash points per batch the twin run hands over.
pub(crate) const BATCH_POINTS: usize = 32;

/// A crash point's states under each model asked for, in their order (one
/// moment, one snapshot, shared).
type Moment = Vec<PointStates>;

/// What the twin run sends.
enum Message {
    /// The next crash points, in order.
    Points(Vec<Moment>),
    /// The twin run ended: its length and output (`None`: it did not
    /// complete, or was stopped past the last point asked for).
    Ended { steps: u64, output: Option<String> },
    /// The twin run could not start, or failed.
    Failed(HarnessError),
}

/// The twin run's side of the hand-over, shared by its step hook and the
/// code after the run.
struct Producer {
    batch: Vec<Moment>,
    /// Whether the consumer asked for the batch being gathered.
    asked: bool,
    asks: Receiver<()>,
    out: SyncSender<Message>,
}

impl Producer {
    /// Waits for the consumer to ask for a batch, unless it did for this
    /// one; `false` once the consumer is gone.
    fn wait_for_ask(&mut self) -> bool {
        if !self.asked {
            self.asked = self.asks.recv().is_ok();
        }
        self.asked
    }

    /// Adds `point` to the batch (waiting for the ask that opens it) and
    /// sends the batch when full. `false` once the consumer is gone.
    fn push(&mut self, point: impl FnOnce() -> Moment) -> bool {
        if !self.wait_for_ask() {
            return false;
        }
        self.batch.push(point());
        if self.batch.len() < BATCH_POINTS {
            return true;
        }
        self.send()
    }

    /// Sends the batch gathered so far, if any.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        self.asked = false;
        let batch = std::mem::take(&mut self.batch);
        self.out.send(Message::Points(batch)).is_ok()
    }
}

/// The consumer's side: the crash points in order, asked for a batch at a
/// time.
struct CrashPoints {
    asks: Option<Sender<()>>,
    from: Option<Receiver<Message>>,
    current: std::vec::IntoIter<Moment>,
    prefetch: bool,
    /// How the twin run ended, once it said so.
    ended: Option<(u64, Option<String>)>,
    failed: Option<HarnessError>,
}

impl CrashPoints {
    fn ask(&self) {
        if let Some(asks) = &self.asks {
            // The twin is gone only once it ended; `next` then sees it.
            let _ = asks.send(());
        }
    }

    /// Lets the twin go: it stops at its next step, and anything it still
    /// sends is dropped.
    fn hang_up(&mut self) {
        self.asks = None;
        self.from = None;
    }
}

impl Iterator for CrashPoints {
    type Item = Moment;

    fn next(&mut self) -> Option<Moment> {
        loop {
            if let Some(point) = self.current.next() {
                return Some(point);
            }
            if self.ended.is_some() || self.failed.is_some() {
                return None;
            }
            if !self.prefetch {
                self.ask();
            }
            match self.from.as_ref().map(Receiver::recv) {
                Some(Ok(Message::Points(batch))) => {
                    if self.prefetch {
                        // Let the twin gather the next batch meanwhile.
                        self.ask();
                    }
                    self.current = batch.into_iter();
                }
                Some(Ok(Message::Ended { steps, output })) => self.ended = Some((steps, output)),
                Some(Ok(Message::Failed(e))) => self.failed = Some(e),
                Some(Err(_)) | None => {
                    self.failed = Some(HarnessError::ExplorerBug {
                        what: "the thread running the clean run's twin stopped".to_string(),
                    });
                }
            }
        }
    }
}

impl Engine<'_> {
    /// Runs `consume` on the calling thread with the crash points of
    /// `clean` under `model` whose index is in `range` (point `n < steps`:
    /// the crash before step `n`; point `steps`: after the last step), in
    /// order, streamed from a twin run (see the module documentation);
    /// with `prefetch`, the twin gathers a batch while the previous one is
    /// checked, else only when asked (one thread at a time works). What
    /// `consume` returns, unless the twin failed or ended otherwise than
    /// `clean` did.
    pub(crate) fn with_crash_points<R>(
        &self,
        clean: &CleanRun,
        model: CrashModel,
        range: Range<u64>,
        prefetch: bool,
        consume: impl FnOnce(&mut dyn Iterator<Item = PointStates>) -> Result<R, HarnessError>,
    ) -> Result<R, HarnessError> {
        self.with_crash_moments(clean, &[model], range, prefetch, |moments| {
            consume(&mut moments.filter_map(|mut states| states.pop()))
        })
    }

    /// [`Engine::with_crash_points`] under several models at once: each
    /// item holds a crash point's states under every model of `models`, in
    /// their order, taken from one snapshot of one twin run (the run and
    /// its snapshots are the twin's work; the states of a model are a
    /// count and a list of selectors).
    pub(crate) fn with_crash_moments<R>(
        &self,
        clean: &CleanRun,
        models: &[CrashModel],
        range: Range<u64>,
        prefetch: bool,
        consume: impl FnOnce(&mut dyn Iterator<Item = Moment>) -> Result<R, HarnessError>,
    ) -> Result<R, HarnessError> {
        if range.is_empty() {
            return consume(&mut std::iter::empty());
        }
        let (asks_to, asks) = channel();
        let (out, from) = sync_channel(1);
        let mut points = CrashPoints {
            asks: Some(asks_to),
            from: Some(from),
            current: Vec::new().into_iter(),
            prefetch,
            ended: None,
            failed: None,
        };
        if prefetch {
            points.ask();
        }
        let producer = Producer {
            batch: Vec::new(),
            asked: false,
            asks,
            out,
        };
        let consumed: Result<R, HarnessError> = std::thread::scope(|scope| {
            let twin = self.spawn_scoped(scope, move || self.twin(models, range, producer))?;
            let consumed = consume(&mut points);
            points.hang_up();
            let joined = twin.join();
            consumed.and_then(|r| match joined {
                Ok(()) => Ok(r),
                Err(payload) => Err(HarnessError::ExplorerBug {
                    what: format!(
                        "the clean run's twin panicked: {}",
                        panic_message(payload.as_ref())
                    ),
                }),
            })
        });
        // A twin stopped by the interruption (a program on a mount is
        // killed by it) proves nothing either way, and `consume` (the
        // units' loop, `modes/units.rs`) has marked its report interrupted
        // once it saw the flag, after any unit or at its end.
        if self.options().cancel.is_set() {
            return consumed;
        }
        // Why the twin stopped comes before what its missing points made
        // of the pass (no crash point reached, say).
        self.check_harness()?;
        if let Some(e) = points.failed {
            return Err(e);
        }
        let consumed = consumed?;
        if let Some((steps, Some(output))) = &points.ended
            && (*steps != clean.steps || *output != clean.output)
        {
            return Err(HarnessError::CleanRunFailed {
                workload: self.workload().name(),
                reason: format!(
                    "two runs without a crash differ: {} steps with output {:?}, then {steps} \
                     steps with output {output:?}; the workload is not deterministic (run with \
                     --check-determinism to see where)",
                    clean.steps, clean.output
                ),
            });
        }
        Ok(consumed)
    }

    /// The twin run: the clean run again, handing the states of each step
    /// in `range` to `producer`, stopped past the end of the range or once
    /// the consumer is gone (its hook then crashes the filesystem, and
    /// nothing after counts).
    fn twin(&self, models: &[CrashModel], range: Range<u64>, producer: Producer) {
        let (fs, mut progress) = match self.start(FaultConfig::default()) {
            Ok(start) => start,
            Err(e) => {
                let _ = producer.out.send(Message::Failed(e));
                return;
            }
        };
        fs.record_trace(false);
        let out = producer.out.clone();
        let producer = Arc::new(Mutex::new(producer));
        let hook_producer = Arc::clone(&producer);
        let stopped = Arc::new(AtomicBool::new(false));
        let hook_stopped = Arc::clone(&stopped);
        let options = self.options().clone();
        let hook_models = models.to_vec();
        let (start, end) = (range.start, range.end);
        let mut last = None;
        fs.set_step_hook(Box::new(move |info, src| {
            let wanted = info.index < end
                && (info.index < start
                    || lock(&hook_producer).push(|| {
                        let snapshot = src.snapshot(last.as_ref());
                        last = Some(snapshot.clone());
                        moment(&snapshot, &hook_models, &options, info.index)
                    }));
            if wanted {
                StepAction::Continue
            } else {
                hook_stopped.store(true, Ordering::Relaxed);
                StepAction::Crash
            }
        }));
        let ran = self.run_workload(&fs, &mut progress);
        fs.clear_step_hook();
        let steps = fs.steps();
        let stopped = stopped.load(Ordering::Relaxed);
        let (output, failed) = match RunEnd::of(ran) {
            _ if stopped => (None, None),
            RunEnd::Completed(c) => (Some(c.output), None),
            RunEnd::Failed(e) => (None, Some(e.to_string())),
            RunEnd::Panicked(message) => (None, Some(format!("panicked: {message}"))),
            RunEnd::Crashed { before_step, .. } => (
                None,
                Some(format!(
                    "crashed before step {before_step} without a crash point (a simulator bug)"
                )),
            ),
        };
        let mut producer = lock(&producer);
        if output.is_some() && (start..end).contains(&steps) {
            producer.push(|| moment(&fs.snapshot(), models, self.options(), steps));
        }
        producer.send();
        // A twin that failed streamed only the points before its failure:
        // the pass would check part of the run and say nothing.
        let _ = out.send(match failed {
            Some(why) => Message::Failed(HarnessError::CleanRunFailed {
                workload: self.workload().name(),
                reason: format!(
                    "two runs without a crash differ: the clean run completed, but its twin (the \
                     second run, which streams the pass's crash states) failed after {steps} \
                     steps: {why}; the workload is not deterministic (run with \
                     --check-determinism to see where)"
                ),
            }),
            None => Message::Ended { steps, output },
        });
    }
}

/// The states of the moment `snapshot` under each of `models`, in order.
fn moment(
    snapshot: &Snapshot,
    models: &[CrashModel],
    options: &ExploreOptions,
    step: u64,
) -> Moment {
    models
        .iter()
        .map(|model| states_at(snapshot.clone(), *model, options, step))
        .collect()
}
