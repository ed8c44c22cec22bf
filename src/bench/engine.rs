//! Running the matrix: warm-up rounds, then measured rounds in which every cell runs once,
//! then every cell's figures.
//!
//! Cells run round-robin rather than one after the other, so that a machine that drifts
//! (another job starting, a CPU throttling) hurts every cell alike rather than the last ones.
//! A wrong answer or an error marks its cell and the benchmark goes on; an interruption stops
//! it, and the report keeps everything measured until then.

use std::time::{Duration, Instant};

use super::machine::Machine;
use super::matrix::{self, Entry};
use super::rusage::{CpuTime, peak_rss_kib, reset_peak_rss};
use super::schema::{Cell, Report, Run, SCHEMA_VERSION};
use super::spec::Spec;
use crate::backend::{Backend, BackendKind};
use crate::error::Result;
use crate::interrupt;
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Silent;
use crate::stats::{self, Summary};

/// Bootstrap resamples for the speedup's confidence interval.
const BOOTSTRAP_ROUNDS: usize = 2000;
/// Least time between two rewrites of the exports during a benchmark.
const UPDATE_EVERY: Duration = Duration::from_secs(1);
/// Most measured rounds a `--min-time` benchmark runs.
const MAX_ROUNDS: usize = 1000;
/// Errors kept per cell: enough to see what went wrong, few enough to keep the report small.
const ERRORS_KEPT: usize = 5;

/// Progress of a benchmark.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Runs done, warm-up included.
    pub done: usize,
    /// Runs planned (a `--min-time` benchmark may run more).
    pub planned: usize,
    /// The cell about to run.
    pub cell: String,
    /// "warm-up" or "measure".
    pub phase: &'static str,
}

/// Runs the benchmark. `progress` hears about every run before it starts; `update` gets the
/// report after the first round, then at most once a second, and once more at the end: write
/// exports there.
pub fn run(
    spec: &Spec,
    progress: &mut dyn FnMut(&Progress),
    update: &mut dyn FnMut(&Report) -> Result<()>,
) -> Result<Report> {
    spec.check()?;
    let mut machine = Machine::now();
    let (cells, entries) = matrix::build(spec)?;
    let mut report = empty_report(spec, &machine, cells);
    let mut schedule = Schedule::new(spec, entries.len());
    // Exports are rewritten after the first round and then at most once a second, so that a
    // long benchmark of short runs spends its time measuring, not writing files.
    let mut last_update: Option<Instant> = None;
    while !schedule.finished(spec) {
        if let Err(stopped) = run_round(spec, &entries, &mut report, &mut schedule, progress) {
            report.interrupted = Some(stopped);
            break;
        }
        if last_update.is_none_or(|t| t.elapsed() >= UPDATE_EVERY) {
            publish(&mut report, &entries, &mut machine, update)?;
            last_update = Some(Instant::now());
        }
    }
    report.complete = report.interrupted.is_none();
    publish(&mut report, &entries, &mut machine, update)?;
    Ok(report)
}

/// The report before any run: settings, machine, and the cells without measurements.
fn empty_report(spec: &Spec, machine: &Machine, cells: Vec<Cell>) -> Report {
    Report {
        schema: SCHEMA_VERSION,
        parlab_version: env!("CARGO_PKG_VERSION").to_string(),
        started_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        rounds: 0,
        complete: false,
        interrupted: None,
        machine: machine.clone(),
        gpu_adapter: if spec.backends.contains(&BackendKind::Gpu) {
            crate::backend::gpu::adapter().ok()
        } else {
            None
        },
        settings: spec.settings(),
        cells,
    }
}

/// Where the benchmark stands: rounds run, runs done, and the time measured in every cell.
struct Schedule {
    /// Rounds run so far, warm-up included.
    round: usize,
    /// Runs done so far, warm-up included.
    done: usize,
    /// Runs planned when the requested rounds are enough.
    planned: usize,
    /// Wall time measured so far, per cell, seconds.
    measured_s: Vec<f64>,
}

impl Schedule {
    fn new(spec: &Spec, cells: usize) -> Schedule {
        Schedule {
            round: 0,
            done: 0,
            planned: cells * (spec.warmup + spec.least_rounds()),
            measured_s: vec![0.0; cells],
        }
    }

    /// True during the warm-up rounds, whose runs are checked but not kept.
    fn warm(&self, spec: &Spec) -> bool {
        self.round < spec.warmup
    }

    /// True once the rounds asked for ran and every cell has run for `--min-time`, or after
    /// [`MAX_ROUNDS`] (or `--runs`, if more) measured rounds whatever the time.
    fn finished(&self, spec: &Spec) -> bool {
        if self.warm(spec) {
            return false;
        }
        let measured = self.round - spec.warmup;
        let enough_runs = measured >= spec.least_rounds();
        let enough_time = spec
            .min_time
            .is_none_or(|t| self.measured_s.iter().all(|&s| s >= t.as_secs_f64()));
        (enough_runs && enough_time) || measured >= MAX_ROUNDS.max(spec.runs)
    }
}

/// Runs every cell once, in order. Stops at an interruption with its description; the round is
/// then not counted.
fn run_round(
    spec: &Spec,
    entries: &[Entry],
    report: &mut Report,
    schedule: &mut Schedule,
    progress: &mut dyn FnMut(&Progress),
) -> std::result::Result<(), String> {
    let warm = schedule.warm(spec);
    for (i, entry) in entries.iter().enumerate() {
        if let Some(signal) = interrupt::requested() {
            return Err(interrupt::error(signal).to_string());
        }
        let cell = &mut report.cells[i];
        progress(&Progress {
            done: schedule.done,
            planned: schedule.planned.max(schedule.done + 1),
            cell: cell.label(),
            phase: if warm { "warm-up" } else { "measure" },
        });
        let (outcome, run) = measure(entry.backend.as_ref(), &entry.job, cell.workers);
        schedule.done += 1;
        match outcome {
            Ok(total) if total == entry.expected => {
                if !warm {
                    schedule.measured_s[i] += run.wall_s;
                    cell.runs.push(run);
                }
            }
            Ok(total) => {
                cell.mismatches += 1;
                keep_error(
                    cell,
                    format!(
                        "wrong answer {} (expected {})",
                        total.headline(),
                        entry.expected.headline()
                    ),
                );
            }
            Err(e) if e.interrupted_by().is_some() => return Err(e.to_string()),
            Err(e) => keep_error(cell, e.to_string()),
        }
    }
    if !warm {
        report.rounds += 1;
    }
    schedule.round += 1;
    Ok(())
}

fn keep_error(cell: &mut Cell, e: String) {
    if cell.errors.len() < ERRORS_KEPT {
        cell.errors.push(e);
    }
}

/// Brings the report's figures and machine load up to date and hands it to `update`.
fn publish(
    report: &mut Report,
    entries: &[Entry],
    machine: &mut Machine,
    update: &mut dyn FnMut(&Report) -> Result<()>,
) -> Result<()> {
    summarise(report, entries);
    machine.finish();
    report.machine = machine.clone();
    update(report)
}

/// Recomputes every cell's figures from its runs.
fn summarise(report: &mut Report, entries: &[Entry]) {
    let walls: Vec<Vec<f64>> = report
        .cells
        .iter()
        .map(|c| c.runs.iter().map(|r| r.wall_s).collect())
        .collect();
    for ((cell, w), entry) in report.cells.iter_mut().zip(&walls).zip(entries) {
        if w.is_empty() {
            continue;
        }
        let median_of = |field: fn(&Run) -> f64| {
            stats::median(&cell.runs.iter().map(field).collect::<Vec<_>>())
        };
        cell.wall = Some(Summary::of(w));
        cell.user_s = Some(median_of(|r| r.user_s));
        cell.sys_s = Some(median_of(|r| r.sys_s));
        cell.peak_rss_kib = cell.runs.iter().filter_map(|r| r.peak_rss_kib).max();
        cell.outliers = stats::outliers(w);
        let base = &walls[entry.baseline];
        if !base.is_empty() {
            let s = stats::speedup(base, w, BOOTSTRAP_ROUNDS);
            cell.efficiency = Some(s.value / cell.workers as f64);
            cell.speedup = Some(s);
        }
    }
}

/// Runs `job` once on `backend`, with its wall time, CPU time and peak memory.
fn measure(backend: &dyn Backend, job: &Job, workers: usize) -> (Result<Total>, Run) {
    reset_peak_rss();
    let cpu0 = CpuTime::now();
    let t0 = Instant::now();
    let outcome = backend.run(job, workers, &Silent);
    let wall_s = t0.elapsed().as_secs_f64();
    let cpu = CpuTime::now().since(cpu0);
    let run = Run {
        wall_s,
        user_s: cpu.user_s,
        sys_s: cpu.sys_s,
        peak_rss_kib: peak_rss_kib(),
    };
    (outcome, run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::spec::sample;

    /// Rounds a schedule runs before it is finished, measured `wall_s` per run and cell.
    fn rounds_run(spec: &Spec, wall_s: f64) -> usize {
        let mut s = Schedule::new(spec, 2);
        while !s.finished(spec) {
            if !s.warm(spec) {
                s.measured_s.iter_mut().for_each(|t| *t += wall_s);
            }
            s.round += 1;
        }
        s.round
    }

    #[test]
    fn the_schedule_runs_warm_up_then_the_rounds_asked_for() {
        let spec = sample();
        assert_eq!(rounds_run(&spec, 1.0), 1 + 2);
        assert_eq!(Schedule::new(&spec, 4).planned, 4 * 3);
        // At least one measured round, even when none is asked for.
        assert_eq!(rounds_run(&Spec { runs: 0, ..spec }, 1.0), 1 + 1);
    }

    #[test]
    fn min_time_adds_rounds_up_to_a_cap() {
        let spec = Spec {
            min_time: Some(Duration::from_millis(250)),
            ..sample()
        };
        // Binary fractions, so that the sums are exact.
        assert_eq!(rounds_run(&spec, 0.0625), 1 + 4);
        assert_eq!(rounds_run(&spec, 0.0), 1 + MAX_ROUNDS);
    }

    #[test]
    fn a_run_measures_every_cell_and_reports_after_the_first_round_and_at_the_end() {
        let mut heard = 0;
        let mut updates = Vec::new();
        let report = run(&sample(), &mut |_| heard += 1, &mut |r| {
            updates.push((r.rounds, r.complete));
            Ok(())
        })
        .unwrap();
        assert_eq!(heard, 4 * 3);
        assert_eq!(updates.first(), Some(&(0, false)), "{updates:?}");
        assert_eq!(updates.last(), Some(&(2, true)), "{updates:?}");
        assert!(report.all_correct() && report.complete);
        for cell in &report.cells {
            assert_eq!(cell.runs.len(), 2, "{cell:?}");
            assert!(cell.wall.is_some() && cell.speedup.is_some(), "{cell:?}");
            assert_eq!(
                cell.efficiency,
                cell.speedup.map(|s| s.value / cell.workers as f64)
            );
        }
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
