//! Running the matrix on the shared engine ([`crate::measure`]): warm-up rounds, then
//! measured rounds in which every cell runs once beside a run of its baseline, until the
//! rounds asked for ran and the cells are as precise as asked ([`Precision`]); then every
//! cell's figures.
//!
//! Cells run round-robin rather than one after the other, so that a machine that drifts
//! (another job starting, a CPU throttling) hurts every cell alike rather than the last ones;
//! a baseline run follows every two cells, and a one-worker cell runs with its baseline on one
//! CPU, a different one each round (the engine's policy, [`crate::measure::rounds`]). A wrong
//! answer or an error marks its cell and the benchmark goes on; an interruption stops it, and
//! the report keeps everything measured until then.

use std::time::{Duration, Instant};

use super::machine::Machine;
use super::matrix::{self, Entry};
use super::schema::{BenchCell, BenchReport, Run, SCHEMA_VERSION};
use super::spec::BenchOptions;
use super::summary::{equal_speed, summarise};
use crate::backend::{Backend, BackendKind};
use crate::error::Result;
use crate::interrupt;
use crate::job::Job;
use crate::kernels::Total;
use crate::measure::ceiling;
use crate::measure::rounds::Stopping;
use crate::measure::rounds::{Measurement, Pairing, Timing};
use crate::measure::rusage::{CpuTime, peak_rss_kib, reset_peak_rss};
use crate::measure::stop::Precision;
use crate::observer::Silent;

/// Least time between two rewrites of the exports during a benchmark.
const UPDATE_EVERY: Duration = Duration::from_secs(1);
/// Most measured rounds a `--min-time` benchmark runs.
const MAX_ROUNDS: usize = 1000;
/// Errors kept per cell: enough to see what went wrong, few enough to keep the report small.
const ERRORS_KEPT: usize = 5;

/// BenchProgress of a benchmark, heard before every run.
#[derive(Debug, Clone)]
pub struct BenchProgress {
    /// Runs done, warm-up included.
    pub done: usize,
    /// Every run the benchmark will do, warm-up included, when that is known from the start: a
    /// fixed number of rounds (`--runs` without `--precision` or `--min-time`). `None` when the
    /// benchmark stops on its intervals or its time, which no one can know beforehand.
    pub total: Option<usize>,
    /// Runs in one round (the baseline runs beside each cell included).
    pub per_round: usize,
    /// The round under way, counted from 1, warm-up rounds included.
    pub round: usize,
    /// Rounds the benchmark runs at least, warm-up included.
    pub least_rounds: usize,
    /// Time left with a known `total`: the mean time of the rounds run so far times the rounds
    /// left, less what the round under way has taken. `None` before a round has ended.
    pub eta: Option<Duration>,
    /// Time since the benchmark started.
    pub elapsed: Duration,
    /// The cell about to run.
    pub cell: String,
    /// "warm-up" or "measure".
    pub phase: &'static str,
}

/// Runs the benchmark. `progress` hears about every run before it starts; `update` gets the
/// report after the first round, then at most once a second, and once more at the end: write
/// exports there.
pub fn run(
    spec: &BenchOptions,
    progress: &mut dyn FnMut(&BenchProgress),
    update: &mut dyn FnMut(&BenchReport) -> Result<()>,
) -> Result<BenchReport> {
    spec.check()?;
    let spec = &spec.clone().without_repeats();
    let mut machine = Machine::now();
    machine.set_cpu_speeds(ceiling::cpu_speeds()?);
    let (cells, entries) = matrix::build(spec)?;
    let rows = pairing(&cells, &entries);
    let mut stop = stopping(spec, &cells);
    let mut m = Measurement::new(
        rows,
        Some(2),
        spec.warmup,
        Some(ceiling::Probe::new(&spec.workers)),
    );
    let mut report = empty_report(spec, &machine, cells);
    let mut schedule = Schedule::new(spec, m.per_round());
    // The CPUs one-worker pairs are held to, one each round in turn.
    let cpus = ceiling::allowed_cpus();
    let started = Instant::now();
    // Exports are rewritten after the first round and then at most once a second, so that a
    // long benchmark of short runs spends its time measuring, not writing files.
    let mut last_update: Option<Instant> = None;
    while let Some(open) = stop.next(&m) {
        let round = run_round(
            &entries,
            &mut report,
            &mut schedule,
            (&mut m, &open, &cpus, started),
            progress,
        );
        match round {
            Ok(()) => {}
            Err(e) if e.interrupted_by().is_some() => {
                report.interrupted = Some(e.to_string());
                break;
            }
            // What was measured is kept in the exports before the failure is passed on.
            Err(e) => {
                summarise(&mut report, spec, figures(&m, started));
                publish(&mut report, &mut machine, update)?;
                return Err(e);
            }
        }
        // Every round: whether to stop reads each cell's interval (`--precision`), which must
        // be this round's, not the one of the last export.
        summarise(&mut report, spec, figures(&m, started));
        if last_update.is_none_or(|t| t.elapsed() >= UPDATE_EVERY) {
            publish(&mut report, &mut machine, update)?;
            last_update = Some(Instant::now());
        }
    }
    report.complete = report.interrupted.is_none();
    summarise(&mut report, spec, figures(&m, started));
    publish(&mut report, &mut machine, update)?;
    Ok(report)
}

/// The rows as the rounds pair them: each cell with its baseline, a one-worker cell pinned.
fn pairing(cells: &[BenchCell], entries: &[Entry]) -> Vec<Pairing> {
    cells
        .iter()
        .zip(entries)
        .map(|(c, e)| Pairing {
            baseline: e.baseline,
            workers: c.workers,
            pinned: c.workers == 1 && !c.baseline,
        })
        .collect()
}

/// When the benchmark stops: the rounds asked for (`--runs`), then more until every cell is
/// within `--precision` and has run for `--min-time`, or `--max-time` passes; at most
/// [`MAX_ROUNDS`] measured rounds (or `--runs`, if more) whatever the time.
fn stopping(spec: &BenchOptions, cells: &[BenchCell]) -> Precision {
    Precision {
        least: spec.least_rounds(),
        most: MAX_ROUNDS.max(spec.runs),
        precision: spec.precision,
        min_time: spec.min_time,
        max_time: spec.max_time,
        judged: cells
            .iter()
            .map(|c| !c.baseline && !c.range.is_empty())
            .collect(),
    }
}

/// The ceiling samples, the probes' time and the time since the benchmark started.
fn figures(m: &Measurement, started: Instant) -> (&[(usize, f64)], f64, f64) {
    (
        m.ceilings(),
        m.probe().map_or(0.0, |p| p.spent().as_secs_f64()),
        started.elapsed().as_secs_f64(),
    )
}

/// The report before any run: settings, machine, and the cells without measurements.
fn empty_report(spec: &BenchOptions, machine: &Machine, cells: Vec<BenchCell>) -> BenchReport {
    // The GPU is set up here, before any round: its set-up is reported, never timed in a run.
    let gpu = if spec.backends.contains(&BackendKind::Gpu) {
        crate::backend::gpu::info().ok()
    } else {
        None
    };
    BenchReport {
        schema: SCHEMA_VERSION,
        parlab_version: env!("CARGO_PKG_VERSION").to_string(),
        started_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        rounds: 0,
        complete: false,
        interrupted: None,
        machine: machine.clone(),
        gpu_adapter: gpu.as_ref().map(|g| g.description()),
        gpu,
        settings: spec.settings(),
        ceilings: Default::default(),
        comparison: None,
        cells,
    }
}

/// Where the benchmark stands, for its progress: rounds run, runs done and the time each
/// round took.
struct Schedule {
    /// Rounds run so far, warm-up included.
    round: usize,
    /// Runs done so far, warm-up included.
    done: usize,
    /// Runs in one round.
    per_round: usize,
    /// Rounds at least, warm-up included.
    least_rounds: usize,
    /// Every round when the number is fixed from the start (see [`BenchProgress::total`]).
    fixed_rounds: Option<usize>,
    /// How long each round run so far took, probes included.
    round_times: Vec<Duration>,
    /// Warm-up rounds.
    warmup: usize,
}

impl Schedule {
    fn new(spec: &BenchOptions, per_round: usize) -> Schedule {
        let least_rounds = spec.warmup + spec.least_rounds();
        // Only these stop a benchmark after more rounds than asked (see `stopping`).
        let open = spec.precision.is_some() || spec.min_time.is_some();
        Schedule {
            round: 0,
            done: 0,
            per_round,
            least_rounds,
            fixed_rounds: (!open).then_some(least_rounds),
            round_times: Vec::new(),
            warmup: spec.warmup,
        }
    }

    /// Where the benchmark stands before the next run, in the round that started at `round`
    /// of a benchmark that started at `started`.
    fn progress(&self, cell: String, started: Instant, round: Instant) -> BenchProgress {
        let eta = self.fixed_rounds.and_then(|rounds| {
            let ran = self.round_times.len() as u32;
            let mean = self.round_times.iter().sum::<Duration>().checked_div(ran)?;
            let left = rounds.saturating_sub(self.round) as u32;
            Some((mean * left).saturating_sub(round.elapsed()))
        });
        BenchProgress {
            done: self.done,
            total: self.fixed_rounds.map(|r| r * self.per_round),
            per_round: self.per_round,
            round: self.round + 1,
            least_rounds: self.least_rounds,
            eta,
            elapsed: started.elapsed(),
            cell,
            phase: if self.round < self.warmup {
                "warm-up"
            } else {
                "measure"
            },
        }
    }
}

/// One round on the engine: the ceiling, then every cell of `open` once beside its baseline
/// (pinned pairs on the round's CPU, one of `cpus` in turn); each kept run joins its cell with
/// its partner's times. A wrong answer or a failed run marks its cell and gives no sample; an
/// interruption, or a failure of the probe, is the error.
fn run_round(
    entries: &[Entry],
    report: &mut BenchReport,
    schedule: &mut Schedule,
    (m, open, cpus, started): (&mut Measurement, &[usize], &[usize], Instant),
    progress: &mut dyn FnMut(&BenchProgress),
) -> Result<()> {
    let round_started = Instant::now();
    let mut runs: Vec<Option<Run>> = Vec::new();
    let kept = m.round(open, &mut |at, slot, round| {
        if let Some(signal) = interrupt::requested() {
            return Err(interrupt::error(signal));
        }
        let entry = &entries[slot.row];
        let cell = &mut report.cells[slot.row];
        progress(&schedule.progress(cell.label(), started, round_started));
        let cpu = (!cpus.is_empty()).then(|| cpus[round % cpus.len()]);
        let on = slot.pinned.then_some(cpu);
        let (outcome, run) = measure(entry.backend.as_ref(), &entry.job, cell.workers, on);
        schedule.done += 1;
        runs.resize(at + 1, None);
        match outcome {
            Ok(total) if total == entry.expected => {
                runs[at] = Some(run);
                Ok(Some(Timing {
                    wall_s: run.wall_s,
                    cpu_s: equal_speed(cell).then_some(run.user_s + run.sys_s),
                }))
            }
            Ok(total) => {
                cell.mismatches += 1;
                let e = format!(
                    "wrong answer {} (expected {})",
                    total.headline(),
                    entry.expected.headline()
                );
                keep_error(cell, e);
                Ok(None)
            }
            Err(e) if e.interrupted_by().is_some() => Err(e),
            Err(e) => {
                keep_error(cell, e.to_string());
                Ok(None)
            }
        }
    });
    schedule.round_times.push(round_started.elapsed());
    let kept = kept?;
    schedule.round += 1;
    for k in kept {
        let Some(mut run) = runs[k.at] else { continue };
        let paired = k.partner.and_then(|p| runs[p]);
        run.baseline_s = paired.map(|r| r.wall_s);
        run.baseline_cpu_s = paired.map(|r| r.user_s + r.sys_s);
        run.ceiling = k.sample.ceiling;
        report.cells[k.row].runs.push(run);
    }
    report.rounds = m.measured();
    Ok(())
}

fn keep_error(cell: &mut BenchCell, e: String) {
    if cell.errors.len() < ERRORS_KEPT {
        cell.errors.push(e);
    }
}

/// Brings the report's machine load up to date and hands it to `update` (its figures are
/// summarised after every round).
fn publish(
    report: &mut BenchReport,
    machine: &mut Machine,
    update: &mut dyn FnMut(&BenchReport) -> Result<()>,
) -> Result<()> {
    machine.finish();
    report.machine = machine.clone();
    update(report)
}

/// Runs `job` once on `backend`, with its wall time, CPU time and peak memory. `on`:
/// `Some(cpu)` runs it on a thread of its own, held to `cpu` where there is one.
///
/// Both sides of a pinned pair start from the same state that way: a run on the engine's own
/// thread, busy a moment before, gets a smaller share of a shared CPU than the new thread a
/// one-worker backend starts, which the OS schedules as a newcomer.
fn measure(
    backend: &dyn Backend,
    job: &Job,
    workers: usize,
    on: Option<Option<usize>>,
) -> (Result<Total>, Run) {
    reset_peak_rss();
    let cpu0 = CpuTime::now();
    let timed = || {
        let t0 = Instant::now();
        let outcome = backend.run(job, workers, &Silent);
        (outcome, t0.elapsed().as_secs_f64())
    };
    let (outcome, wall_s) = match on {
        None => timed(),
        Some(cpu) => std::thread::scope(|scope| {
            let run = crate::limits::spawn_scoped(scope, "parlab-bench-run", || {
                let _pinned = cpu.and_then(ceiling::pin);
                timed()
            });
            match run {
                Ok(run) => run
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // A run that could not start is the run's failure, as a backend's own
                // refused thread is.
                Err(e) => (Err(e), 0.0),
            }
        }),
    };
    let cpu = CpuTime::now().since(cpu0);
    let run = Run {
        wall_s,
        user_s: cpu.user_s,
        sys_s: cpu.sys_s,
        peak_rss_kib: peak_rss_kib(),
        baseline_s: None,
        baseline_cpu_s: None,
        ceiling: None,
    };
    (outcome, run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::spec::sample;

    /// Measured rounds a benchmark of `spec` runs before it stops, each run taking `wall_s`,
    /// the cells' runs twice as long in the rounds that are `slow` (counted from 0, warm-up
    /// included).
    fn rounds_run(spec: &BenchOptions, wall_s: f64, slow: fn(usize) -> bool) -> usize {
        let (cells, entries) = matrix::build(spec).unwrap();
        let mut stop = stopping(spec, &cells);
        let mut m = Measurement::new(pairing(&cells, &entries), Some(2), spec.warmup, None);
        while let Some(open) = stop.next(&m) {
            m.round(&open, &mut |_, slot, round| {
                let odd = slow(round) && slot.row != 0;
                Ok(Some(Timing {
                    wall_s: if odd { 2.0 * wall_s } else { wall_s },
                    cpu_s: None,
                }))
            })
            .unwrap();
        }
        m.measured()
    }

    fn never(_: usize) -> bool {
        false
    }

    #[test]
    fn the_schedule_runs_warm_up_then_the_rounds_asked_for() {
        let spec = sample();
        assert_eq!(rounds_run(&spec, 1.0, never), 2);
        let s = Schedule::new(&spec, 6);
        assert_eq!((s.least_rounds, s.fixed_rounds), (3, Some(3)));
        // At least one measured round, even when none is asked for.
        assert_eq!(rounds_run(&BenchOptions { runs: 0, ..spec }, 1.0, never), 1);
    }

    #[test]
    fn a_benchmark_that_stops_on_its_intervals_or_its_time_has_no_total() {
        for spec in [
            BenchOptions {
                precision: Some(0.05),
                ..sample()
            },
            BenchOptions {
                min_time: Some(Duration::from_secs(1)),
                ..sample()
            },
        ] {
            let s = Schedule::new(&spec, 6);
            assert_eq!((s.least_rounds, s.fixed_rounds), (3, None));
            let p = s.progress(String::new(), Instant::now(), Instant::now());
            assert_eq!((p.total, p.eta, p.round), (None, None, 1));
        }
    }

    #[test]
    fn the_time_left_is_the_mean_round_times_the_rounds_left() {
        let spec = sample();
        let mut s = Schedule::new(&spec, 6);
        s.round_times = vec![Duration::from_secs(2), Duration::from_secs(4)];
        s.round = 2;
        let p = s.progress(String::new(), Instant::now(), Instant::now());
        // One round of three left, at a mean of 3 s.
        let eta = p.eta.unwrap();
        assert!(
            eta <= Duration::from_secs(3) && eta > Duration::from_millis(2900),
            "{eta:?}"
        );
    }

    #[test]
    fn min_time_adds_rounds_up_to_a_cap() {
        let spec = BenchOptions {
            min_time: Some(Duration::from_millis(250)),
            ..sample()
        };
        // Binary fractions, so that the sums are exact.
        assert_eq!(rounds_run(&spec, 0.0625, never), 4);
        assert_eq!(rounds_run(&spec, 0.0, never), MAX_ROUNDS);
    }

    #[test]
    fn precision_adds_rounds_until_met_or_out_of_time() {
        let spec = BenchOptions {
            precision: Some(0.05),
            ..sample()
        };
        // Every pair at the same ratio: precise after the rounds asked for.
        assert_eq!(rounds_run(&spec, 0.5, never), 2);
        // The cells of the first measured rounds at half speed every other round: rounds are
        // added until the interval is narrow.
        let early = |round: usize| round < 5 && round % 2 == 1;
        let n = rounds_run(&spec, 0.5, early);
        assert!(n > 4 && n < 30, "{n}");
        // Or until the time is up.
        let timed = BenchOptions {
            max_time: Some(Duration::ZERO),
            ..spec
        };
        assert_eq!(rounds_run(&timed, 0.5, early), 2);
    }

    #[test]
    fn a_run_measures_every_cell_and_reports_after_the_first_round_and_at_the_end() {
        let mut heard = Vec::new();
        let mut updates = Vec::new();
        let report = run(&sample(), &mut |p| heard.push(p.clone()), &mut |r| {
            updates.push((r.rounds, r.complete));
            Ok(())
        })
        .unwrap();
        // Each round: B threads x2 B, then B' B' threads x1 pinned, after one warm-up round:
        // the total is known from the start, and never changes.
        assert_eq!(heard.len(), 3 * 6);
        for (i, p) in heard.iter().enumerate() {
            assert_eq!((p.done, p.total, p.per_round), (i, Some(18), 6), "{p:?}");
            assert_eq!(p.round, i / 6 + 1, "{p:?}");
            // The time left is known once a round has ended.
            assert_eq!(p.eta.is_some(), i >= 6, "{p:?}");
        }
        assert_eq!(updates.first(), Some(&(0, false)), "{updates:?}");
        assert_eq!(updates.last(), Some(&(2, true)), "{updates:?}");
        assert!(report.all_correct() && report.complete);
        for cell in &report.cells {
            // The pinned baseline runs are partners only.
            let runs = if cell.baseline { 4 } else { 2 };
            assert_eq!(cell.runs.len(), runs, "{cell:?}");
            assert!(cell.wall.is_some() && cell.speedup.is_some(), "{cell:?}");
            assert_eq!(
                cell.efficiency,
                cell.speedup.map(|s| s.scaled(1.0 / cell.workers as f64))
            );
            // Every run of a cell is paired with a baseline run of its round, whose CPU time
            // is recorded beside it.
            if !cell.baseline {
                assert!(
                    cell.runs
                        .iter()
                        .all(|r| r.baseline_s.is_some() && r.baseline_cpu_s.is_some()),
                    "{cell:?}"
                );
            }
            // The ceiling is sampled at more than one worker only, and a cell has one from the
            // samples its rounds kept (a busy machine can leave a round without one: a sample
            // above what the CPUs allow is dropped).
            let sampled = cell.runs.iter().any(|r| r.ceiling.is_some());
            assert_eq!(cell.ceiling.is_some(), sampled, "{cell:?}");
            assert!(cell.workers > 1 || !sampled, "{cell:?}");
        }
        assert!(report.ceilings.at.iter().all(|c| c.workers == 2));
        assert_eq!(
            report.ceilings.at.is_empty(),
            report.cells.iter().all(|c| c.ceiling.is_none())
        );
        assert!(report.ceilings.cost_s > 0.0);
    }

    #[test]
    fn errors_kept_are_capped() {
        let (mut cells, _) = matrix::build(&sample()).unwrap();
        for i in 0..2 * ERRORS_KEPT {
            keep_error(&mut cells[0], format!("failure {i}"));
        }
        assert_eq!(cells[0].errors.len(), ERRORS_KEPT);
        assert_eq!(cells[0].errors[0], "failure 0");
        assert_eq!(cells[0].status(), "error");
    }
}
