//! `sequential`: every part in order on the calling thread. The reference answer.

use crate::backend::combine::Combiner;
use crate::backend::control::Control;
use crate::backend::{Backend, Policy, check_workers};
use crate::error::Result;
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::{Observer, Silent};
use crate::split::Split;

/// The exact answer of `job`, which every backend must give: its kernel over the whole range
/// in one part, on the calling thread (Ctrl-C still stops it). The one place parlab computes
/// a reference answer; `verify`, `bench` and `reproduce` check against it.
pub fn reference(job: &Job) -> Result<Total> {
    let whole = Job {
        split: Split::Static,
        ..job.clone()
    };
    Sequential::default().run(&whole, 1, &Silent)
}

/// Runs parts one after another on the calling thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sequential {
    /// Timeouts and retries.
    pub policy: Policy,
}

impl Backend for Sequential {
    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        // The same parts as the parallel backends, so a mis-cut part would show as a mismatch
        // only if the kernel itself disagreed with the split, never because of the plan.
        let plan = job.plan(check_workers(workers)?);
        let ctl = Control::new(self.policy, 1, observer)?;
        observer.worker_started(0, None);
        let mut results = Combiner::new(&job.kernel, plan.len());
        let outcome = std::thread::scope(|scope| {
            ctl.watch(scope)?;
            let mut ticker = ctl.ticker(0);
            let outcome = plan.parts().try_for_each(|part| {
                let total = ctl.run_part(job, part, 0, &mut ticker, |job, part, t| {
                    job.kernel.run_with(part.span(), t)
                })?;
                results.push(part.index, total);
                observer.part_done(part, 0, part.index + 1, plan.len());
                Ok(())
            });
            ctl.finish();
            outcome
        });
        outcome.map_err(|e| results.incomplete(e, &plan))?;
        Ok(results.finish())
    }
}
