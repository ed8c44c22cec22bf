//! `threads`: one OS thread per worker, as in the seed.
//!
//! With the static split thread k runs part k, exactly the seed's `threading.Thread` per part.
//! With `chunks:SIZE` every thread pulls the next chunk index from a shared atomic counter until
//! none is left. Finished totals go into one shared, mutex-protected combiner: the seed's shared
//! list, folded in part order as totals arrive so memory does not grow with the number of chunks.
//! After the first failure the others stop pulling chunks; the failure names the part.

use crate::backend::control::{Control, Parts};
use crate::backend::{Backend, Policy, check_workers};
use crate::error::Result;
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// One OS thread per worker.
#[derive(Debug, Default, Clone, Copy)]
pub struct Threads {
    /// Timeouts and retries.
    pub policy: Policy,
}

impl Backend for Threads {
    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        let plan = job.plan(workers);
        let ctl = Control::new(self.policy, workers, observer)?;
        let parts = Parts::new(&plan, &job.kernel);

        ctl.on_threads(workers, "parlab-worker", &parts, |worker| {
            observer.worker_started(worker, None);
            let mut ticker = ctl.ticker(worker);
            // Static: part k belongs to thread k; dynamic: pull the next chunk.
            for part in parts.of(worker) {
                let run = |job: &Job, part: crate::span::Part, t: &mut _| {
                    job.kernel.run_with(part.span(), t)
                };
                match ctl.run_part(job, part, worker, &mut ticker, run) {
                    Ok(total) => parts.done(part, total, worker, observer),
                    Err(e) => return parts.fail(e),
                }
            }
        });
        parts.finish()
    }
}
