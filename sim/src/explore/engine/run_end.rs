//! How one run of a workload ended, as a value, and the text of a panic
//! (what a caught panic becomes in every message).

use crate::SimFs;
use crate::explore::vocabulary::workload::{Completion, WorkloadError};

/// What running the workload returned, panics caught.
pub(crate) type Ran = std::thread::Result<Result<Completion, WorkloadError>>;

/// How one run of a case ended.
pub(crate) enum RunEnd {
    /// The run reached its crash point; `image` is the post-crash disk.
    Crashed {
        before_step: u64,
        image: Box<SimFs>,
        choice: String,
    },
    /// The run returned a completion.
    Completed(Completion),
    /// The run returned an error.
    Failed(WorkloadError),
    /// The run panicked (the payload's text).
    Panicked(String),
}

impl RunEnd {
    /// How a run that was not crashed ended.
    pub(crate) fn of(ran: Ran) -> RunEnd {
        match ran {
            Err(payload) => RunEnd::Panicked(panic_message(payload.as_ref())),
            Ok(Err(e)) => RunEnd::Failed(e),
            Ok(Ok(c)) => RunEnd::Completed(c),
        }
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
