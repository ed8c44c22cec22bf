//! `sequential`: every part in order on the calling thread. The reference answer.

use crate::backend::{Backend, BackendKind, check_workers, run_part};
use crate::error::Result;
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// Runs parts one after another on the calling thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sequential;

impl Backend for Sequential {
    fn kind(&self) -> BackendKind {
        BackendKind::Sequential
    }

    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        // The same parts as the parallel backends, so a mis-cut part would show as a mismatch
        // only if the kernel itself disagreed with the split, never because of the plan.
        let plan = job.plan(check_workers(workers)?);
        observer.worker_started(0, None);
        let mut total = job.kernel.zero();
        for part in plan.parts() {
            total = total.then(run_part(job, part, 0)?);
            observer.part_done(part, 0, part.index + 1, plan.len());
        }
        Ok(total)
    }
}
