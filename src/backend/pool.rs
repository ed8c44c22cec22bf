//! `pool`: rayon's work-stealing pool with exactly `workers` threads.
//!
//! Parts (static) or chunks are a parallel iterator; rayon splits it adaptively and idle
//! threads steal halves of busy threads' ranges. rayon's `reduce` combines adjacent results in
//! order, so totals are combined in part order with no extra buffer. The pool is built per run
//! so that the worker count is exact and runs do not share threads.

use rayon::prelude::*;

use crate::backend::{Backend, BackendKind, check_workers, run_part};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// rayon work-stealing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pool;

impl Backend for Pool {
    fn kind(&self) -> BackendKind {
        BackendKind::Pool
    }

    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        let plan = job.plan(workers);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("parlab-pool-{i}"))
            .build()
            .map_err(|e| Error::io("building the rayon pool", std::io::Error::other(e)))?;
        pool.broadcast(|ctx| observer.worker_started(ctx.index(), None));
        let done = std::sync::atomic::AtomicU64::new(0);
        let zero = job.kernel.zero();
        pool.install(|| {
            (0..plan.len())
                .into_par_iter()
                .map(|k| {
                    let part = plan.part(k);
                    let worker = rayon::current_thread_index().unwrap_or(0);
                    let total = run_part(job, part, worker)?;
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    observer.part_done(part, worker, n, plan.len());
                    Ok(total)
                })
                .try_reduce(|| zero, |a, b| Ok(a.then(b)))
        })
    }
}
