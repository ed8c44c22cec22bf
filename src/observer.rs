//! Progress reporting: the library never prints; it tells an [`Observer`].
//!
//! Backends call the observer from their worker threads, so implementations must be `Sync`
//! and cheap: a progress bar, a counter, a test probe that records worker PIDs.

use crate::error::Error;
use crate::span::Part;

/// Receives events from a running job. Every method has an empty default.
pub trait Observer: Sync {
    /// A worker started; `pid` is set for worker processes.
    fn worker_started(&self, _worker: usize, _pid: Option<u32>) {}

    /// A part finished on `worker`; `done` parts of `total` are finished so far.
    fn part_done(&self, _part: Part, _worker: usize, _done: u64, _total: u64) {}

    /// A part failed and runs again (`--retries`); `attempt` counts from 1 for the first retry.
    fn part_retried(&self, _part: Part, _attempt: u32, _cause: &Error) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}
