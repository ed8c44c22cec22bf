//! Stopping a run from outside: Ctrl-C and SIGTERM.
//!
//! The library installs no signal handler. A program that wants runs to stop cleanly on a
//! signal registers [`flag`] for it (the command line does, with `signal-hook`); backends poll
//! the flag, stop and reap their workers, and return [`crate::Error::Interrupted`] wrapped with
//! what had finished.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::Error;

static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

fn cell() -> &'static Arc<AtomicUsize> {
    FLAG.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// The process-wide flag: 0, or the number of the signal that asked runs to stop.
pub fn flag() -> Arc<AtomicUsize> {
    cell().clone()
}

/// The signal that asked runs to stop, if one did. Cheap enough for a kernel's check points.
#[inline]
pub fn requested() -> Option<i32> {
    match cell().load(Ordering::Relaxed) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The error for a run stopped by `signal`.
pub fn error(signal: i32) -> Error {
    Error::Interrupted {
        signal,
        name: crate::error::signal_name(signal),
    }
}
