//! Verification: every backend, worker count and split against the sequential answer.
//!
//! The reference for a kernel and range is the `sequential` backend with one part. Each case
//! then runs on its backend and is compared with it; a mismatch or an error marks the case and
//! the run goes on, so one report shows every disagreement at once.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::backend::processes::StartMethod;
use crate::backend::{Backend, BackendKind};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::{Kernel, Total};
use crate::observer::Silent;
use crate::span::Span;
use crate::split::Split;

/// What to verify: the cross product of its fields.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// Kernels, each with the range to run it over.
    pub jobs: Vec<(Kernel, Span)>,
    /// Backends to check.
    pub backends: Vec<BackendKind>,
    /// Worker counts.
    pub workers: Vec<usize>,
    /// Splits; `None` stands for chunks of about 1/64 of the range plus one, so that the
    /// last chunk is short.
    pub splits: Vec<Option<Split>>,
}

impl Default for Matrix {
    /// `parlab verify` without options: [`Matrix::default_for`] the backends
    /// [`BackendKind::verified`] names.
    fn default() -> Self {
        Matrix::default_for(BackendKind::verified())
    }
}

impl Matrix {
    /// Every kernel over a range that runs in milliseconds, every backend, 1, 2, 3 and 8
    /// workers, both splits.
    pub fn default_for(backends: Vec<BackendKind>) -> Self {
        Matrix {
            jobs: Kernel::ALL.iter().map(|k| (*k, default_range(k))).collect(),
            backends,
            workers: vec![1, 2, 3, 8],
            splits: vec![Some(Split::Static), None],
        }
    }

    /// Number of cases.
    pub fn len(&self) -> usize {
        self.jobs.len() * self.backends.len() * self.workers.len() * self.splits.len()
    }

    /// True when the matrix has no case.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A range over which `kernel` runs in a few milliseconds in an optimised build.
pub fn default_range(kernel: &Kernel) -> Span {
    let end = match kernel {
        Kernel::Count | Kernel::Sum => 10_000_000,
        Kernel::Primes | Kernel::Pi => 2_000_000,
        Kernel::Collatz => 300_000,
        Kernel::Sleep { .. } => 40,
    };
    Span { start: 0, end }
}

/// The chunked split verify uses for `range` when none is given.
pub fn default_chunks(range: Span) -> Split {
    Split::Chunks(range.len() / 64 + 1)
}

/// What a verification of `backends`, with worker processes started by `start`, leaves out of
/// what parlab can run, one phrase each, for its summary: the backends that need a launcher or
/// a build feature, and the other way of starting worker processes.
pub fn left_out(backends: &[BackendKind], start: StartMethod) -> Vec<String> {
    let mut out = Vec::new();
    if !backends.contains(&BackendKind::Mpi) {
        out.push(if cfg!(feature = "mpi") {
            "mpi (it runs under an MPI launcher: bench -b mpi starts one)".to_string()
        } else {
            "mpi (not in this build: --features mpi)".to_string()
        });
    }
    if !backends.contains(&BackendKind::Gpu) {
        out.push(if cfg!(feature = "gpu") {
            "gpu (verify -b gpu checks it)".to_string()
        } else {
            "gpu (not in this build: --features gpu)".to_string()
        });
    }
    if backends.contains(&BackendKind::Processes) {
        let other = StartMethod::ALL.into_iter().find(|m| *m != start);
        if let Some(other) = other {
            out.push(format!(
                "processes started by {} (verify --start {} checks them)",
                other.name(),
                other.name()
            ));
        }
    }
    out
}

/// One verified case.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedCase {
    /// The job run.
    pub job: Job,
    /// The backend.
    pub backend: BackendKind,
    /// Worker count.
    pub workers: usize,
    /// The sequential answer.
    pub expected: Total,
    /// The backend's answer, or its error.
    pub got: std::result::Result<Total, String>,
    /// Wall time of the backend's run.
    #[serde(serialize_with = "as_secs")]
    pub elapsed: Duration,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl VerifiedCase {
    /// True when the backend gave the sequential answer.
    pub fn passed(&self) -> bool {
        self.got.as_ref().is_ok_and(|t| *t == self.expected)
    }
}

/// The sequential answer of each of `matrix`'s jobs, in order. Fails if one cannot be
/// computed (an overflow).
pub fn references(matrix: &Matrix) -> Result<Vec<Total>> {
    matrix
        .jobs
        .iter()
        .map(|&(kernel, range)| {
            crate::backend::sequential::reference(&Job {
                kernel,
                range,
                split: Split::Static,
            })
        })
        .collect()
}

/// Runs every case of `matrix`, calling `on_row` as each finishes.
///
/// `backend_for` builds the backend of a kind (tests point the `processes` backend at the
/// parlab binary). Fails if a reference answer cannot be computed, and with the stop's error
/// once Ctrl-C or SIGTERM asked runs to stop: the row it cut short is the last one given to
/// `on_row`, and no case starts after it.
pub fn run(
    matrix: &Matrix,
    backend_for: &dyn Fn(BackendKind) -> Box<dyn Backend>,
    on_row: &mut dyn FnMut(&VerifiedCase),
) -> Result<Vec<VerifiedCase>> {
    run_against(matrix, &references(matrix)?, backend_for, on_row)
}

/// [`run`] against the answers [`references`] computed beforehand, one per job (a caller that
/// lays out its table before the first row needs them first); the stop's error once Ctrl-C or
/// SIGTERM asked runs to stop, as [`run`].
pub fn run_against(
    matrix: &Matrix,
    references: &[Total],
    backend_for: &dyn Fn(BackendKind) -> Box<dyn Backend>,
    on_row: &mut dyn FnMut(&VerifiedCase),
) -> Result<Vec<VerifiedCase>> {
    let mut rows = Vec::with_capacity(matrix.len());
    for (&(kernel, range), &expected) in matrix.jobs.iter().zip(references) {
        for &kind in &matrix.backends {
            let backend = backend_for(kind);
            let whole = Job {
                kernel,
                range,
                split: Split::Static,
            };
            if !backend.supports(&whole) {
                continue;
            }
            for &split in &matrix.splits {
                let split = split.unwrap_or_else(|| default_chunks(range));
                for &workers in &matrix.workers {
                    let job = Job {
                        kernel,
                        range,
                        split,
                    };
                    if let Some(signal) = crate::interrupt::requested() {
                        return Err(crate::interrupt::error(signal));
                    }
                    let t0 = Instant::now();
                    let outcome = backend.run(&job, workers, &Silent);
                    let stopped = outcome.as_ref().err().and_then(Error::interrupted_by);
                    let got = outcome.map_err(|e| e.to_string());
                    let row = VerifiedCase {
                        job,
                        backend: kind,
                        workers,
                        expected,
                        got,
                        elapsed: t0.elapsed(),
                    };
                    on_row(&row);
                    rows.push(row);
                    if let Some(signal) = stopped {
                        return Err(crate::interrupt::error(signal));
                    }
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_process_backends_pass_a_small_matrix() {
        let mut m = Matrix::default_for(vec![
            BackendKind::Sequential,
            BackendKind::Threads,
            BackendKind::Pool,
        ]);
        for (_, r) in &mut m.jobs {
            r.end = r.end.min(20_000);
        }
        let mut seen = 0;
        let rows = run(&m, &|k| k.create(), &mut |_| seen += 1).unwrap();
        assert_eq!(rows.len(), m.len());
        assert_eq!(seen, m.len());
        assert!(rows.iter().all(VerifiedCase::passed));
    }

    /// A backend that silently skips the last part: verify must catch it.
    struct DropsLastPart;

    impl Backend for DropsLastPart {
        fn run(
            &self,
            job: &Job,
            workers: usize,
            _: &dyn crate::observer::Observer,
        ) -> Result<Total> {
            let plan = job.plan(workers);
            let mut t = job.kernel.zero();
            for part in plan.parts().take(plan.len().saturating_sub(1) as usize) {
                t = t.then(job.kernel.run(part.span())?);
            }
            Ok(t)
        }
    }

    #[test]
    fn a_backend_that_loses_a_part_fails_verification() {
        let m = Matrix {
            jobs: vec![(
                Kernel::Count,
                Span {
                    start: 0,
                    end: 1000,
                },
            )],
            backends: vec![BackendKind::Threads],
            workers: vec![1, 3],
            splits: vec![Some(Split::Static), Some(Split::Chunks(7))],
        };
        let rows = run(&m, &|_| Box::new(DropsLastPart), &mut |_| {}).unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| !r.passed()), "{rows:?}");
    }

    #[test]
    fn what_is_left_out_is_named() {
        let all = BackendKind::verified();
        let out = left_out(&all, StartMethod::ForkServer);
        assert!(out.iter().any(|o| o.starts_with("mpi (")), "{out:?}");
        assert!(
            out.iter()
                .any(|o| o.starts_with("processes started by spawn")),
            "{out:?}"
        );
        assert_eq!(
            out.iter().any(|o| o.starts_with("gpu (")),
            !cfg!(feature = "gpu"),
            "{out:?}"
        );
        let out = left_out(&[BackendKind::Processes], StartMethod::Spawn);
        assert!(
            out.iter()
                .any(|o| o.starts_with("processes started by forkserver")),
            "{out:?}"
        );
        let out = left_out(&[BackendKind::Threads], StartMethod::Spawn);
        assert!(!out.iter().any(|o| o.starts_with("processes")), "{out:?}");
    }

    #[test]
    fn a_wrong_answer_is_a_failed_row() {
        let row = VerifiedCase {
            job: Job::seed(),
            backend: BackendKind::Threads,
            workers: 2,
            expected: Total::Count { count: 10 },
            got: Ok(Total::Count { count: 9 }),
            elapsed: Duration::ZERO,
        };
        assert!(!row.passed());
    }
}
