//! The benchmark's matrix: one cell per kernel, range, backend and worker count, each with the
//! backend that runs it and the answer it must give.
//!
//! For every kernel and range the sequential one-worker cell comes first: it is the baseline
//! the other cells of that kernel and range are compared with, and it is measured once even
//! when the sequential backend is asked for with one worker too.

use super::schema::BenchCell;
use super::spec::{BenchOptions, DEFAULT_MPIRUN};
use crate::backend::{Backend, BackendKind};
use crate::error::Result;
use crate::job::Job;
use crate::kernels::Total;

/// How one cell is run: the backend, the job, the answer every run must give, and the index of
/// the cell's baseline.
pub(super) struct Entry {
    /// The backend, set up once for every run of the cell.
    pub backend: Box<dyn Backend>,
    /// The job.
    pub job: Job,
    /// The sequential answer.
    pub expected: Total,
    /// Index of the baseline cell of the same kernel and range.
    pub baseline: usize,
}

/// The cells of `spec`, empty of measurements, and beside each the means of running it.
pub(super) fn build(spec: &BenchOptions) -> Result<(Vec<BenchCell>, Vec<Entry>)> {
    let mut cells = Vec::new();
    let mut entries = Vec::new();
    for &kernel in &spec.kernels {
        for &range in &spec.ranges {
            let job = Job {
                kernel,
                range,
                split: spec.split,
            };
            let expected = crate::backend::sequential::reference(&job)?;
            let baseline = cells.len();
            for (b, w) in spec.backends_and_workers() {
                cells.push(BenchCell {
                    kernel: kernel.to_string(),
                    range,
                    split: spec.split.to_string(),
                    backend: b,
                    workers: w,
                    baseline: cells.len() == baseline,
                    expected: expected.headline().to_string(),
                    runs: Vec::new(),
                    wall: None,
                    user_s: None,
                    sys_s: None,
                    peak_rss_kib: None,
                    speedup: None,
                    speedup_by_clock: None,
                    noise: None,
                    verdict: None,
                    efficiency: None,
                    ceiling: None,
                    vs_ceiling: None,
                    artefact: None,
                    within_precision: None,
                    karp_flatt: None,
                    baseline_change: None,
                    baseline_speedup: None,
                    outliers: 0,
                    mismatches: 0,
                    errors: Vec::new(),
                });
                entries.push(Entry {
                    backend: backend(spec, b),
                    job: job.clone(),
                    expected,
                    baseline,
                });
            }
        }
    }
    Ok((cells, entries))
}

/// The backend of kind `b` with the spec's settings; `mpi` runs each job under a launcher
/// ([`DEFAULT_MPIRUN`] unless the spec names another).
fn backend(spec: &BenchOptions, b: BackendKind) -> Box<dyn Backend> {
    let mut options = spec.options.clone();
    options
        .mpirun
        .get_or_insert_with(|| vec![DEFAULT_MPIRUN.into()]);
    b.create_with(&options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::spec::sample;

    #[test]
    fn every_kernel_and_range_gets_its_baseline_and_answer() {
        let spec = BenchOptions {
            kernels: vec![crate::kernels::Kernel::Count, crate::kernels::Kernel::Sum],
            ..sample()
        };
        let (cells, entries) = build(&spec).unwrap();
        assert_eq!(cells.len(), 6);
        assert_eq!(entries.len(), 6);
        for (cell, entry) in cells.iter().zip(&entries) {
            let base = &cells[entry.baseline];
            assert!(base.baseline && base.kernel == cell.kernel, "{cell:?}");
            assert_eq!(cell.baseline, std::ptr::eq(base, cell));
            assert_eq!(cell.expected, entry.expected.headline().to_string());
        }
        assert_eq!(cells[0].expected, "1000");
        assert_eq!(cells[3].expected, "499500");
    }
}
