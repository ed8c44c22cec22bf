//! The measuring: parlab's backends and CPython run the rows and probes of the experiment,
//! each announced to the progress callback before it starts.
//!
//! parlab's rows finish in milliseconds where CPython's take seconds, so each parlab row is
//! repeated for a time budget and its median shown; every repetition must give the same total,
//! or the row is a failed run.

use std::time::{Duration, Instant};

use super::Options;
use super::row::{Comparison, Metric, Row, Variant, Who};
use crate::backend::gil::GilStats;
use crate::backend::gil::convoy::{self, Convoy};
use crate::backend::{BackendKind, BackendOptions};
use crate::cpython::{Holds, Python, Rates, Timed};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::{Kernel, Total};
use crate::observer::Silent;
use crate::span::Span;

/// Most repetitions of one row, however short it is.
const MAX_REPETITIONS: usize = 200;

/// Steps each engine's GIL probes take: hold times, then the convoy.
pub const PROBE_STEPS: usize = 2;

/// Numbers the steps and tells the caller of each before it starts.
pub struct Progress<'a> {
    done: usize,
    total: usize,
    tell: &'a mut dyn FnMut(&str, usize, usize),
}

impl<'a> Progress<'a> {
    /// Progress over `total` steps, told to `tell`.
    pub fn new(total: usize, tell: &'a mut dyn FnMut(&str, usize, usize)) -> Self {
        Progress {
            done: 0,
            total,
            tell,
        }
    }

    fn step(&mut self, what: &str) {
        self.done += 1;
        (self.tell)(what, self.done, self.total);
    }
}

/// Everything that runs rows: the backends as configured, CPython when there is one.
pub struct Lab<'a> {
    python: Option<&'a Python>,
    backends: &'a BackendOptions,
    progress: Progress<'a>,
}

impl<'a> Lab<'a> {
    /// A lab with the backends `options` configure.
    pub fn new(options: &'a Options, python: Option<&'a Python>, progress: Progress<'a>) -> Self {
        Lab {
            python,
            backends: &options.backends,
            progress,
        }
    }

    /// Measures `who` running `job` as `variant`. A parlab row is repeated until `budget` has
    /// passed (run once when it is zero); a CPython row runs once.
    pub fn row(&mut self, who: &Who, variant: Variant, job: &Job, budget: Duration) -> Result<Row> {
        self.progress
            .step(&format!("{who}, {variant}: {} {}", job.kernel, job.range));
        let row = Row::new(who.clone(), variant);
        match who {
            Who::CPython { .. } => {
                let py = self.python.ok_or_else(|| not_measured(who))?;
                let timed: Timed = py.run_as(&seed_args(job, variant)?)?;
                Ok(Row {
                    result: Some(timed.result.into()),
                    wall_s: Some(timed.elapsed_s),
                    ..row
                })
            }
            Who::Parlab(kind) => {
                let what = format!("{who}, {variant}");
                let w = variant.workers();
                let (wall, runs, (total, gil)) = self.repeat(*kind, &what, job, w, budget)?;
                Ok(Row {
                    result: Some(total.headline()),
                    wall_s: Some(wall),
                    note: (runs > 1).then(|| format!("median of {runs} runs")),
                    gil,
                    ..row
                })
            }
            Who::SeedPost => Err(not_measured(who)),
        }
    }

    /// Runs `job` on `workers` of backend `kind`, as [`repeated`] does, with what the GIL
    /// model saw for the `gil` backends.
    fn repeat(
        &self,
        kind: BackendKind,
        what: &str,
        job: &Job,
        workers: usize,
        budget: Duration,
    ) -> Result<(f64, usize, (Total, Option<GilStats>))> {
        let backend = kind.create_with(self.backends);
        let run = || backend.run_with_stats(job, workers, &Silent);
        repeated(what, budget, run, |out| out.0)
    }

    /// The GIL section: CPython's probes when it is here, then the model's, each `probe` long.
    /// The model's hold-time probe counts for about `probe` at the speed of `threads_row`
    /// (parlab's one-thread row of `count`).
    pub fn inside(
        &mut self,
        count: &Job,
        threads_row: Option<&Row>,
        probe: Duration,
        switch_interval: Duration,
    ) -> Result<Vec<Comparison>> {
        let secs = format!("{}", probe.as_secs_f64());
        let cpython = match self.python {
            Some(py) => {
                self.progress
                    .step("CPython, two CPU-bound threads: hold time per turn");
                let holds: Holds = py.run_as(&["holds".into(), secs.clone()])?;
                self.progress
                    .step("CPython, convoy: write+read pairs alone and beside a CPU-bound thread");
                let rates: Rates = py.run_as(&["convoy".into(), secs])?;
                Some((holds, rates))
            }
            None => None,
        };
        self.progress
            .step("parlab gil, two CPU-bound threads: hold time per turn");
        let holds = hold_job(count, threads_row, probe);
        let (_, stats) = BackendKind::Gil
            .create_with(self.backends)
            .run_with_stats(&holds, 2, &Silent)?;
        let stats = stats.expect("the gil backend reports its lock's statistics");
        self.progress
            .step("parlab gil, convoy: write+read pairs alone and beside a CPU-bound thread");
        let conv = convoy::measure(switch_interval, probe)?;
        Ok(Metric::ALL
            .into_iter()
            .map(|metric| Comparison {
                metric,
                cpython: cpython
                    .as_ref()
                    .and_then(|(h, r)| cpython_figure(metric, h, r)),
                parlab: model_figure(metric, &stats, &conv),
            })
            .collect())
    }
}

fn not_measured(who: &Who) -> Error {
    Error::invalid(
        "reproduce row",
        who.to_string(),
        "rows are measured by parlab's backends or a CPython that was found",
    )
}

/// `seed.py`'s arguments for `job` split as `variant`.
fn seed_args(job: &Job, variant: Variant) -> Result<Vec<String>> {
    let Span { start, end } = job.range;
    let (mode, extra) = match (job.kernel, variant) {
        (Kernel::Count, Variant::Threads(_)) => ("threads", None),
        (Kernel::Count, Variant::Processes(_)) => ("processes", None),
        (Kernel::Sleep { per_item_ns }, Variant::Threads(_)) => {
            ("sleep", Some(format!("{}", per_item_ns as f64 / 1e9)))
        }
        _ => {
            return Err(Error::invalid(
                "CPython row",
                format!("{} in {variant}", job.kernel),
                "the seed script counts in threads or processes and sleeps in threads",
            ));
        }
    };
    let mut args = vec![
        mode.to_string(),
        variant.workers().to_string(),
        start.to_string(),
        end.to_string(),
    ];
    args.extend(extra);
    Ok(args)
}

/// CPython's figure for `metric`, in the metric's unit.
fn cpython_figure(metric: Metric, holds: &Holds, rates: &Rates) -> Option<f64> {
    match metric {
        Metric::HoldMedian => holds.hold_median_s.map(|s| s * 1e3),
        Metric::HoldP90 => holds.hold_p90_s.map(|s| s * 1e3),
        Metric::IoAlone => Some(rates.alone_per_s),
        Metric::IoBesideCpu => Some(rates.beside_cpu_per_s),
    }
}

/// The model's figure for `metric`, in the metric's unit.
fn model_figure(metric: Metric, holds: &GilStats, convoy: &Convoy) -> f64 {
    match metric {
        Metric::HoldMedian => holds.hold_median_s * 1e3,
        Metric::HoldP90 => holds.hold_p90_s * 1e3,
        Metric::IoAlone => convoy.alone_per_s,
        Metric::IoBesideCpu => convoy.beside_cpu_per_s,
    }
}

/// Runs `f` until `budget` has passed (at least once, at most [`MAX_REPETITIONS`] times);
/// returns the median wall time, the number of runs and the last run's output. A run whose
/// total differs from the first's is a wrong answer of `what`.
pub fn repeated<T>(
    what: &str,
    budget: Duration,
    mut f: impl FnMut() -> Result<T>,
    total_of: impl Fn(&T) -> Total,
) -> Result<(f64, usize, T)> {
    let started = Instant::now();
    let mut times = Vec::new();
    let mut first: Option<Total> = None;
    loop {
        let t0 = Instant::now();
        let out = f()?;
        times.push(t0.elapsed().as_secs_f64());
        let total = total_of(&out);
        match first {
            None => first = Some(total),
            Some(expected) if expected != total => {
                return Err(Error::WrongAnswer {
                    what: format!("repetition {} of {what}", times.len()),
                    got: total.to_string(),
                    expected: expected.to_string(),
                });
            }
            Some(_) => {}
        }
        if started.elapsed() >= budget || times.len() >= MAX_REPETITIONS {
            return Ok((crate::stats::median(&times), times.len(), out));
        }
    }
}

/// A `count` job for two threads that lasts about `probe` at the speed `threads_row` measured
/// (4e9 indices per second without one).
fn hold_job(count: &Job, threads_row: Option<&Row>, probe: Duration) -> Job {
    let rate = threads_row
        .and_then(|r| r.wall_s)
        .map_or(4e9, |s| count.range.len() as f64 / s.max(1e-6));
    Job {
        range: Span {
            start: 0,
            end: (rate * probe.as_secs_f64()) as u64,
        },
        ..count.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::Split;

    fn count(n: u64) -> Total {
        Total::Count { count: n }
    }

    #[test]
    fn a_repetition_with_another_total_is_a_wrong_answer() {
        let mut n = 0;
        let err = repeated(
            "parlab threads, 2 threads",
            Duration::from_secs(10),
            || {
                n += 1;
                Ok(count(if n < 3 { 100 } else { 99 }))
            },
            |t| *t,
        )
        .unwrap_err();
        assert!(!err.is_usage(), "a failed run, not bad input: {err}");
        match err {
            Error::WrongAnswer {
                what,
                got,
                expected,
            } => {
                assert_eq!(what, "repetition 3 of parlab threads, 2 threads");
                assert_eq!((got.as_str(), expected.as_str()), ("99", "100"));
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn repetitions_stop_at_the_budget_or_the_cap() {
        let (_, once, last) = repeated("x", Duration::ZERO, || Ok(count(5)), |t| *t).unwrap();
        assert_eq!((once, last), (1, count(5)));
        let (median, capped, _) =
            repeated("x", Duration::from_secs(3600), || Ok(count(5)), |t| *t).unwrap();
        assert_eq!(capped, MAX_REPETITIONS);
        assert!(median >= 0.0);
    }

    #[test]
    fn a_failing_run_stops_the_repetitions() {
        let mut runs = 0;
        let err = repeated(
            "x",
            Duration::from_secs(3600),
            || {
                runs += 1;
                Err::<Total, _>(Error::invalid("workers", "0", "at least 1"))
            },
            |t| *t,
        )
        .unwrap_err();
        assert!(err.is_usage());
        assert_eq!(runs, 1);
    }

    #[test]
    fn seed_arguments_follow_the_script_usage() {
        let job = |kernel, end| Job {
            kernel,
            range: Span { start: 0, end },
            split: Split::Static,
        };
        assert_eq!(
            seed_args(&job(Kernel::Count, 1000), Variant::Processes(2)).unwrap(),
            ["processes", "2", "0", "1000"]
        );
        let sleep = Kernel::Sleep {
            per_item_ns: 1_000_000,
        };
        assert_eq!(
            seed_args(&job(sleep, 40), Variant::Threads(4)).unwrap(),
            ["sleep", "4", "0", "40", "0.001"]
        );
        assert!(seed_args(&job(Kernel::Primes, 10), Variant::Threads(1)).is_err());
        assert!(seed_args(&job(sleep, 40), Variant::Processes(2)).is_err());
    }

    #[test]
    fn the_hold_job_lasts_about_the_probe_at_the_measured_speed() {
        let count = Job {
            kernel: Kernel::Count,
            range: Span {
                start: 0,
                end: 1_000_000,
            },
            split: Split::Static,
        };
        let row = Row {
            wall_s: Some(0.01),
            ..Row::new(Who::Parlab(BackendKind::Threads), Variant::Threads(1))
        };
        let job = hold_job(&count, Some(&row), Duration::from_millis(500));
        assert_eq!(job.range.end, 50_000_000);
        let guess = hold_job(&count, None, Duration::from_millis(500));
        assert_eq!(guess.range.end, 2_000_000_000);
    }
}
