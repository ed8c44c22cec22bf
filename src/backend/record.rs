//! The contract between `parlab run --json` and the programs that read its line back.
//!
//! `parlab run --json` prints one [`RunRecord`] as a JSON line; the MPI launcher
//! ([`super::mpi::launcher`]) runs `mpirun -n W parlab run --backend mpi --json` and reads
//! rank 0's line with [`RunRecord::total_in`]. Both sides go through this module, so a field
//! renamed on one side cannot silently break the other: the round trip is tested here.

use serde::Serialize;

use crate::backend::BackendKind;
use crate::backend::gil::GilStats;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::{Kernel, Total};
use crate::span::Span;
use crate::split::Split;

/// What one `parlab run` ran and what it gave: the line `parlab run --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// The kernel.
    pub kernel: Kernel,
    /// The range.
    pub range: Span,
    /// The split.
    pub split: Split,
    /// Parts in the plan.
    pub parts: u64,
    /// The backend.
    pub backend: BackendKind,
    /// Workers (under MPI, the ranks).
    pub workers: usize,
    /// The total, per kernel (`{"kernel": "count", "count": N}`; u128 fields as strings).
    pub result: Total,
    /// The headline figure as a decimal string (it may exceed 2^64).
    pub headline: String,
    /// Wall time of the run, in seconds.
    pub elapsed_s: f64,
    /// Parts that ran again after a failure (`--retries`).
    pub retries: u64,
    /// The GPU adapter, for the `gpu` backend: name, kind, graphics API and driver.
    pub adapter: Option<String>,
    /// The GPU in full, for the `gpu` backend: adapter, driver, API, the shape of its
    /// dispatches and the set-up time, which `elapsed_s` leaves out.
    pub gpu: Option<crate::backend::gpu::GpuInfo>,
    /// What the GIL models' lock saw, for `gil` and `gil-legacy`.
    pub gil: Option<GilStats>,
}

impl RunRecord {
    /// The record of `job` run on `backend` by `workers` workers.
    pub fn new(job: &Job, backend: BackendKind, workers: usize, total: Total) -> Self {
        RunRecord {
            kernel: job.kernel,
            range: job.range,
            split: job.split,
            parts: job.plan(workers).len(),
            backend,
            workers,
            result: total,
            headline: total.headline().to_string(),
            elapsed_s: 0.0,
            retries: 0,
            adapter: None,
            gpu: None,
            gil: None,
        }
    }

    /// The record as the one JSON line `parlab run --json` prints (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a run record always serialises")
    }

    /// The total of `kernel` in the first record line of `output` (the other lines, such as a
    /// launcher's notes, are passed over). `what` names the run in errors.
    pub fn total_in(output: &str, kernel: &Kernel, what: &str) -> Result<Total> {
        let line = output
            .lines()
            .find(|l| l.starts_with('{'))
            .ok_or_else(|| Error::io(what, std::io::Error::other("printed no result")))?;
        let unreadable = || {
            Error::io(
                what,
                std::io::Error::other(format!("unreadable result {line}")),
            )
        };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|_| unreadable())?;
        Total::from_json(kernel, &v).ok_or_else(unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernels_total_survives_the_round_trip() {
        for (kernel, range) in [
            ("count", "0..1000"),
            ("sum", "0..1e6"),
            ("primes", "0..1e4"),
            ("pi", "0..1e4"),
            ("collatz", "0..1e4"),
            ("collatz", "5..5"),
            ("sleep:1us", "0..3"),
        ] {
            let job = Job {
                kernel: kernel.parse().unwrap(),
                range: range.parse().unwrap(),
                split: Split::Static,
            };
            let total = job.kernel.run(job.range).unwrap();
            let mut record = RunRecord::new(&job, BackendKind::Mpi, 3, total);
            record.elapsed_s = 0.25;
            let out = format!("a launcher's note\n{}\n", record.to_line());
            let back = RunRecord::total_in(&out, &job.kernel, "test").unwrap();
            assert_eq!(back, total, "{kernel} {range}");
        }
    }

    #[test]
    fn a_sum_beyond_u64_keeps_every_digit() {
        let job = Job {
            kernel: Kernel::Sum,
            range: Span::new(0, u64::MAX).unwrap(),
            split: Split::Static,
        };
        let total = Total::Sum {
            sum: (u64::MAX as u128) * (u64::MAX as u128 - 1) / 2,
        };
        let line = RunRecord::new(&job, BackendKind::Mpi, 2, total).to_line();
        assert_eq!(RunRecord::total_in(&line, &job.kernel, "t").unwrap(), total);
    }

    #[test]
    fn output_without_a_record_or_with_a_broken_one_is_an_error() {
        let k = Kernel::Count;
        let e = RunRecord::total_in("no json here\n", &k, "mpirun -n 2").unwrap_err();
        assert!(
            e.to_string().contains("mpirun -n 2: printed no result"),
            "{e}"
        );
        let e = RunRecord::total_in("{\"result\": 1}", &k, "mpirun").unwrap_err();
        assert!(e.to_string().contains("unreadable result"), "{e}");
    }
}
