//! What to benchmark: the matrix's axes and how long to measure, as the caller asks for it,
//! with the defaults of `parlab bench`.

use std::ops::Bound;
use std::time::Duration;

use super::schema::Settings;
use crate::backend::{BackendKind, BackendOptions, check_workers};
use crate::error::{Error, Result};
use crate::kernels::Kernel;
use crate::span::Span;
use crate::split::Split;
use crate::units::{Bare, parse_percentage};

/// The MPI launcher each `mpi` run starts under when none is named.
pub const DEFAULT_MPIRUN: &str = "mpirun";

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Backends.
    pub backends: Vec<BackendKind>,
    /// Worker counts.
    pub workers: Vec<usize>,
    /// Kernels.
    pub kernels: Vec<Kernel>,
    /// Ranges (sizes of the job).
    pub ranges: Vec<Span>,
    /// How every job is split.
    pub split: Split,
    /// Unmeasured rounds before the measured ones.
    pub warmup: usize,
    /// Measured rounds (at least).
    pub runs: usize,
    /// Keep adding rounds until every cell has run at least this long in total.
    pub min_time: Option<Duration>,
    /// Keep adding rounds until every speedup's 95% interval is within this share of it
    /// (0.05: +-5%), or `max_time` has passed.
    pub precision: Option<f64>,
    /// No round starts once the benchmark has measured this long (the rounds asked for with
    /// `runs` still run).
    pub max_time: Option<Duration>,
    /// Backend settings, including the per-run timeout, the worker program of `processes`
    /// and the launcher of `mpi` (`mpirun` when none is given).
    pub options: BackendOptions,
}

impl Default for BenchOptions {
    /// `parlab bench` without options: `sequential`, `threads`, `pool` and `processes` at 1,
    /// 2, 4, ... workers up to twice the CPUs ([`BenchOptions::default_workers`]), counting
    /// over 0..1e8 split statically; one warm-up round, then at least 5 measured rounds, more
    /// until every speedup's 95% interval is within ±5%, and none started after 30 s; the
    /// backends' default settings, `mpi` under [`DEFAULT_MPIRUN`].
    fn default() -> Self {
        BenchOptions {
            backends: vec![
                BackendKind::Sequential,
                BackendKind::Threads,
                BackendKind::Pool,
                BackendKind::Processes,
            ],
            workers: BenchOptions::default_workers(),
            kernels: vec![Kernel::Count],
            ranges: vec![Span {
                start: 0,
                end: 100_000_000,
            }],
            split: Split::Static,
            warmup: 1,
            runs: 5,
            min_time: None,
            precision: Some(0.05),
            max_time: Some(Duration::from_secs(30)),
            options: BackendOptions {
                mpirun: Some(vec![DEFAULT_MPIRUN.to_string()]),
                ..BackendOptions::default()
            },
        }
    }
}

/// A precision (`--precision`): a percentage such as `5%` (or the share `0.05`) above 0% and
/// below 100%, or `off` (`None`: no rounds added for it).
pub fn parse_precision(text: &str) -> Result<Option<f64>> {
    if text == "off" {
        return Ok(None);
    }
    parse_percentage(
        "precision",
        text,
        Bare::Share,
        (Bound::Excluded(0.0), Bound::Excluded(1.0)),
        "a share of the speedup above 0% and below 100%, such as 5% or 0.05, or 'off'",
    )
    .map(Some)
}

impl BenchOptions {
    /// The baseline (sequential, one worker) first, then every backend with every worker count,
    /// without the baseline's twin, and without `sequential` above one worker (it ignores the
    /// count: such a cell would be the baseline again under another name); each worker count once.
    pub(super) fn backends_and_workers(&self) -> Vec<(BackendKind, usize)> {
        let baseline = (BackendKind::Sequential, 1);
        let mut pairs = vec![baseline];
        for &b in &self.backends {
            for &w in &self.workers {
                let pair = (b, w);
                if b == BackendKind::Sequential && w > 1 || pairs.contains(&pair) {
                    continue;
                }
                pairs.push(pair);
            }
        }
        pairs
    }

    /// The same spec with each backend, worker count, kernel and range once, where first
    /// given: a repeat (`-w 2,2`, `-k count,count`, `0..1e4` and `0..10000`) would measure
    /// the same cell twice under one name.
    pub fn without_repeats(mut self) -> BenchOptions {
        fn once<T: PartialEq>(items: &mut Vec<T>) {
            let mut kept: Vec<T> = Vec::with_capacity(items.len());
            for item in items.drain(..) {
                if !kept.contains(&item) {
                    kept.push(item);
                }
            }
            *items = kept;
        }
        once(&mut self.backends);
        once(&mut self.workers);
        once(&mut self.kernels);
        once(&mut self.ranges);
        self
    }

    /// Worker counts 1, 2, 4, ... up to twice the available parallelism.
    pub fn default_workers() -> Vec<usize> {
        let limit = 2 * std::thread::available_parallelism().map_or(1, |n| n.get());
        std::iter::successors(Some(1usize), |w| Some(w * 2))
            .take_while(|w| *w <= limit)
            .collect()
    }

    /// Refuses a matrix with an empty axis or a worker count no backend accepts, before
    /// anything runs.
    pub(super) fn check(&self) -> Result<()> {
        for &w in &self.workers {
            check_workers(w)?;
        }
        if self.backends.is_empty() || self.workers.is_empty() || self.kernels.is_empty() {
            return Err(Error::invalid(
                "benchmark",
                "empty",
                "needs at least one backend, worker count and kernel",
            ));
        }
        Ok(())
    }

    /// The settings as the report records them; a backend's own settings only when it runs.
    pub(super) fn settings(&self) -> Settings {
        let runs = |b| self.backends.contains(&b);
        Settings {
            warmup: self.warmup,
            runs: self.runs,
            min_time_s: self.min_time.map(|d| d.as_secs_f64()),
            timeout_s: self.options.policy.timeout.map(|d| d.as_secs_f64()),
            start_method: runs(BackendKind::Processes).then(|| self.options.start.to_string()),
            switch_interval_s: runs(BackendKind::Gil)
                .then_some(self.options.switch_interval.as_secs_f64()),
            check_interval: runs(BackendKind::GilLegacy).then_some(self.options.check_interval),
            precision: self.precision,
            max_time_s: self.max_time.map(|d| d.as_secs_f64()),
        }
    }

    /// Measured rounds to run at least.
    pub(super) fn least_rounds(&self) -> usize {
        self.runs.max(1)
    }

    /// What identifies each cell the benchmark will measure, known before anything runs (to
    /// check a `--baseline` report against).
    pub fn cell_keys(&self) -> Vec<super::baseline::CellKey> {
        let mut keys = Vec::new();
        let spec = self.clone().without_repeats();
        for kernel in &spec.kernels {
            for &range in &spec.ranges {
                for (backend, workers) in spec.backends_and_workers() {
                    keys.push(super::baseline::CellKey {
                        kernel: kernel.to_string(),
                        range,
                        split: self.split.to_string(),
                        backend,
                        workers,
                    });
                }
            }
        }
        keys
    }
}

/// A small spec for the engine's unit tests.
#[cfg(test)]
pub(super) fn sample() -> BenchOptions {
    BenchOptions {
        backends: vec![BackendKind::Sequential, BackendKind::Threads],
        workers: vec![1, 2],
        kernels: vec![Kernel::Count],
        ranges: vec![Span::new(0, 1000).unwrap()],
        split: Split::Static,
        warmup: 1,
        runs: 2,
        min_time: None,
        precision: None,
        max_time: None,
        options: BackendOptions::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_axis_is_refused() {
        assert!(sample().check().is_ok());
        for empty in [
            BenchOptions {
                backends: vec![],
                ..sample()
            },
            BenchOptions {
                workers: vec![],
                ..sample()
            },
            BenchOptions {
                kernels: vec![],
                ..sample()
            },
        ] {
            let e = empty.check().unwrap_err().to_string();
            assert!(e.contains("at least one backend"), "{e}");
        }
        assert!(
            BenchOptions {
                workers: vec![0],
                ..sample()
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn settings_name_a_backend_s_own_settings_only_when_it_runs() {
        let s = sample().settings();
        assert_eq!((s.warmup, s.runs), (1, 2));
        assert_eq!(s.start_method, None);
        assert_eq!(s.switch_interval_s, None);
        let s = BenchOptions {
            backends: vec![BackendKind::Processes, BackendKind::Gil],
            ..sample()
        }
        .settings();
        assert!(
            s.start_method.is_some() && s.switch_interval_s.is_some(),
            "{s:?}"
        );
        assert_eq!(s.check_interval, None);
    }

    #[test]
    fn default_workers_double_up_to_twice_the_cpus() {
        let w = BenchOptions::default_workers();
        assert_eq!(w[0], 1);
        assert!(w.windows(2).all(|p| p[1] == 2 * p[0]), "{w:?}");
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(*w.last().unwrap() <= 2 * cpus && 2 * w.last().unwrap() > 2 * cpus);
    }

    #[test]
    fn the_baseline_comes_first_and_has_no_twin() {
        let pairs = sample().backends_and_workers();
        assert_eq!(
            pairs,
            [
                (BackendKind::Sequential, 1),
                (BackendKind::Threads, 1),
                (BackendKind::Threads, 2),
            ]
        );
        // A worker count asked for twice is one cell.
        let twice = BenchOptions {
            workers: vec![2, 2, 1],
            ..sample()
        };
        assert_eq!(twice.backends_and_workers().len(), 3);
    }

    #[test]
    fn a_kernel_or_range_asked_for_twice_is_one_cell() {
        let range = Span::new(0, 1000).unwrap();
        let twice = BenchOptions {
            kernels: vec![Kernel::Count, Kernel::Sum, Kernel::Count],
            ranges: vec![range, "0..1e3".parse().unwrap()],
            workers: vec![2, 1, 2],
            ..sample()
        };
        let keys = twice.cell_keys();
        assert_eq!(keys.len(), 2 * 3, "{keys:?}");
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[..i].contains(k), "{k:?} twice");
        }
        let once = twice.without_repeats();
        assert_eq!(once.kernels, [Kernel::Count, Kernel::Sum]);
        assert_eq!(once.ranges, [range]);
        assert_eq!(once.workers, [2, 1]);
    }
}
