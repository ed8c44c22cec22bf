//! `pool`: rayon's work-stealing pool with exactly `workers` threads.
//!
//! Parts (static) or chunks are a parallel iterator; rayon splits it adaptively and idle
//! threads steal halves of busy threads' ranges. rayon's `reduce` combines adjacent results in
//! order, so totals are combined in part order with no extra buffer. The pool is built per run
//! so that the worker count is exact and runs do not share threads. A failed part fails the
//! reduction, and rayon stops handing out the parts not yet started.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::backend::control::Control;
use crate::backend::{Backend, Policy, check_workers};
use crate::error::{Error, PrefixNote, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::limits;
use crate::observer::Observer;

/// rayon work-stealing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pool {
    /// Timeouts and retries.
    pub policy: Policy,
}

impl Backend for Pool {
    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        let plan = job.plan(workers);
        let ctl = Control::new(self.policy, workers, observer)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("parlab-pool-{i}"))
            .build()
            .map_err(|e| {
                // rayon's error shows its cause once per level of its chain: say it once.
                let cause = std::error::Error::source(&e)
                    .and_then(|s| s.downcast_ref::<std::io::Error>())
                    .and_then(std::io::Error::raw_os_error)
                    .map(std::io::Error::from_raw_os_error)
                    .unwrap_or_else(|| std::io::Error::other(e.to_string()));
                limits::start_error("building the rayon pool".into(), cause, 0)
            })?;
        pool.broadcast(|ctx| observer.worker_started(ctx.index(), None));
        let done = AtomicU64::new(0);
        let zero = job.kernel.zero();
        let outcome = std::thread::scope(|scope| {
            ctl.watch(scope)?;
            let outcome = pool.install(|| {
                (0..plan.len())
                    .into_par_iter()
                    .map(|k| {
                        let part = plan.part(k);
                        let worker = rayon::current_thread_index().unwrap_or(0);
                        let mut ticker = ctl.ticker(worker);
                        let total =
                            ctl.run_part(job, part, worker, &mut ticker, |job, part, t| {
                                job.kernel.run_with(part.span(), t)
                            })?;
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        observer.part_done(part, worker, n, plan.len());
                        Ok(total)
                    })
                    .try_reduce(|| zero, |a, b| Ok(a.then(b)))
            });
            ctl.finish();
            outcome
        });
        // Work stealing finishes parts in no particular order, so only a count is known.
        outcome.map_err(|e| Error::Incomplete {
            error: Box::new(e),
            finished: done.load(Ordering::Relaxed),
            parts: plan.len(),
            prefix: PrefixNote(None),
        })
    }
}
