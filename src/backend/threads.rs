//! `threads`: one OS thread per worker, as in the seed.
//!
//! With the static split thread k runs part k, exactly the seed's `threading.Thread` per part.
//! With `chunks:SIZE` every thread pulls the next chunk index from a shared atomic counter until
//! none is left. Finished totals go into one shared, mutex-protected combiner: the seed's shared
//! list, folded in part order as totals arrive so memory does not grow with the number of chunks.
//! After the first failure the others stop pulling chunks; the failure names the part.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crate::backend::combine::Combiner;
use crate::backend::{Backend, BackendKind, check_workers, run_part};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// One OS thread per worker.
#[derive(Debug, Default, Clone, Copy)]
pub struct Threads;

impl Backend for Threads {
    fn kind(&self) -> BackendKind {
        BackendKind::Threads
    }

    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        let plan = job.plan(workers);
        let results = Mutex::new(Combiner::new(&job.kernel, plan.len()));
        let next = AtomicU64::new(0);
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);

        thread::scope(|scope| {
            for worker in 0..workers {
                let (plan, results, next, failed, first_error) =
                    (&plan, &results, &next, &failed, &first_error);
                let spawned = thread::Builder::new()
                    .name(format!("parlab-worker-{worker}"))
                    .spawn_scoped(scope, move || {
                        observer.worker_started(worker, None);
                        let mut own_part = Some(worker as u64);
                        loop {
                            if failed.load(Ordering::Relaxed) {
                                return;
                            }
                            // Static: part k belongs to thread k; dynamic: pull the next chunk.
                            let k = if plan.is_dynamic() {
                                next.fetch_add(1, Ordering::Relaxed)
                            } else {
                                match own_part.take() {
                                    Some(k) => k,
                                    None => return,
                                }
                            };
                            if k >= plan.len() {
                                return;
                            }
                            let part = plan.part(k);
                            match run_part(job, part, worker) {
                                Ok(total) => {
                                    let done = {
                                        let mut r = results.lock().expect("results lock");
                                        r.push(part.index, total);
                                        r.done()
                                    };
                                    observer.part_done(part, worker, done, plan.len());
                                }
                                Err(e) => {
                                    failed.store(true, Ordering::Relaxed);
                                    first_error.lock().expect("error lock").get_or_insert(e);
                                    return;
                                }
                            }
                        }
                    });
                if let Err(e) = spawned {
                    failed.store(true, Ordering::Relaxed);
                    first_error
                        .lock()
                        .expect("error lock")
                        .get_or_insert(Error::io(format!("spawning worker thread {worker}"), e));
                    break;
                }
            }
        });

        if let Some(e) = first_error.into_inner().expect("error lock") {
            return Err(e);
        }
        Ok(results.into_inner().expect("results lock").finish())
    }
}
