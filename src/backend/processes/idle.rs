//! Idle workers, started and left waiting for their `Setup` frame, for measurements of what a
//! worker costs before it does anything (`parlab probe memory`).

use std::fmt;

use super::builder::Processes;
use super::pipes::Proc;
use super::schedule::Conn;
use crate::error::Result;
use crate::kernels::Kernel;

/// A worker process left idle by [`Processes::idle_workers`]. Dropping it closes its input,
/// which ends it, and reaps it.
pub struct IdleWorker(Proc);

impl Processes {
    /// Starts `n` worker processes and leaves them idle, waiting for their `Setup` frame, for
    /// measurements of idle workers (`parlab probe memory`). Dropping one ends it.
    pub fn idle_workers(&self, n: usize) -> Result<Vec<IdleWorker>> {
        self.start(0..n, Kernel::Count, None)
            .into_iter()
            .map(|p| p.map(IdleWorker))
            .collect()
    }
}

impl IdleWorker {
    /// The worker's PID.
    pub fn pid(&self) -> u32 {
        self.0.pid()
    }
}

impl fmt::Debug for IdleWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdleWorker")
            .field("pid", &self.pid())
            .finish()
    }
}

impl Drop for IdleWorker {
    fn drop(&mut self) {
        self.0.end();
    }
}
