//! The benchmark engine: one job across backends, worker counts, kernels and range sizes.
//!
//! A benchmark is a matrix of cells (kernel x range x backend x workers). For every kernel and
//! range a baseline cell (the sequential backend, one worker) is measured too, and every cell's
//! speedup and efficiency are relative to it. Cells are run round-robin: warm-up rounds, then
//! measured rounds in which every cell runs once, so a machine that drifts (another job
//! starting, a CPU throttling) hurts every cell alike rather than the last ones. Every run's
//! answer is checked against the sequential answer; a wrong answer or an error marks the cell
//! and the benchmark goes on. After a round (the first, then at most once a second) the caller
//! gets the report so far, which it writes out, and it gets it once more at the end, after an
//! interruption too: an interrupted benchmark keeps everything it measured.
//!
//! Per run the engine also records CPU time (user and system, of this process and of its
//! reaped children, so worker processes count) and peak resident memory (this process's
//! high-water mark, reset before every run). A worker process's own peak is not reported: the
//! kernel's figure for a child started with vfork semantics includes the parent's memory.

pub mod machine;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::backend::mpi::launcher::Launcher;
use crate::backend::processes::Processes;
use crate::backend::sequential::Sequential;
use crate::backend::{Backend, BackendKind, BackendOptions, check_workers};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::job::Job;
use crate::kernels::{Kernel, Total};
use crate::observer::Silent;
use crate::span::Span;
use crate::split::Split;

use crate::stats;
pub use crate::stats::{Estimate, Summary};
pub use machine::Machine;

/// Version of the report's schema (docs/bench-json.md); bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Bootstrap resamples for the speedup's confidence interval.
const BOOTSTRAP_ROUNDS: usize = 2000;
/// Least time between two rewrites of the exports during a benchmark.
const UPDATE_EVERY: Duration = Duration::from_secs(1);
/// Most measured rounds a `--min-time` benchmark runs.
const MAX_ROUNDS: usize = 1000;

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct Spec {
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
    /// Backend settings, including the per-run timeout.
    pub options: BackendOptions,
    /// The `processes` backend's worker program; its start method and policy come from
    /// `options`.
    pub processes: Processes,
    /// The MPI launcher and its flags, for the `mpi` backend (default `mpirun`).
    pub mpirun: Vec<String>,
}

impl Spec {
    /// Worker counts 1, 2, 4, ... up to twice the available parallelism.
    pub fn default_workers() -> Vec<usize> {
        let limit = 2 * std::thread::available_parallelism().map_or(1, |n| n.get());
        std::iter::successors(Some(1usize), |w| Some(w * 2))
            .take_while(|w| *w <= limit)
            .collect()
    }
}

/// One measured run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// User CPU time of parlab and its reaped worker processes, seconds.
    pub user_s: f64,
    /// System CPU time, likewise.
    pub sys_s: f64,
    /// Peak resident memory of parlab during the run, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// One cell of the matrix and what was measured in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Kernel, as written on the command line.
    pub kernel: String,
    /// Range.
    pub range: Span,
    /// Split.
    pub split: String,
    /// Backend.
    pub backend: BackendKind,
    /// Workers.
    pub workers: usize,
    /// True for the sequential one-worker cell the others are compared with.
    pub baseline: bool,
    /// The sequential answer (headline number, as a string: it may exceed 2^53).
    pub expected: String,
    /// Measured runs that gave the right answer.
    pub runs: Vec<Run>,
    /// Wall-time figures over `runs`.
    pub wall: Option<Summary>,
    /// Median user CPU time, seconds.
    pub user_s: Option<f64>,
    /// Median system CPU time, seconds.
    pub sys_s: Option<f64>,
    /// Highest peak resident memory of parlab over the runs, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Speedup against the baseline cell, with its 95% bootstrap interval.
    pub speedup: Option<Estimate>,
    /// Speedup divided by workers.
    pub efficiency: Option<f64>,
    /// Runs outside Tukey's fences (1.5 IQR beyond the quartiles).
    pub outliers: usize,
    /// Runs that gave a wrong answer.
    pub mismatches: usize,
    /// Errors of failed runs (wrong answers included), at most 5 kept.
    pub errors: Vec<String>,
}

impl Cell {
    /// "ok", "mismatch" or "error".
    pub fn status(&self) -> &'static str {
        if self.mismatches > 0 {
            "mismatch"
        } else if !self.errors.is_empty() {
            "error"
        } else {
            "ok"
        }
    }

    /// A short label: `threads x4, count 0..100000000`.
    pub fn label(&self) -> String {
        format!(
            "{} x{}, {} {}",
            self.backend, self.workers, self.kernel, self.range
        )
    }
}

/// The benchmark's settings, as recorded in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Warm-up rounds.
    pub warmup: usize,
    /// Measured rounds asked for.
    pub runs: usize,
    /// `--min-time`, seconds.
    pub min_time_s: Option<f64>,
    /// `--timeout`, seconds.
    pub timeout_s: Option<f64>,
    /// How `processes` workers were started (`forkserver` or `spawn`), when that backend ran.
    #[serde(default)]
    pub start_method: Option<String>,
    /// The `gil` model's switch interval in seconds, when that backend ran.
    #[serde(default)]
    pub switch_interval_s: Option<f64>,
    /// The `gil-legacy` model's check interval, when that backend ran.
    #[serde(default)]
    pub check_interval: Option<u32>,
}

/// Everything a benchmark measured: the export schema (docs/bench-json.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// parlab's version.
    pub parlab_version: String,
    /// When the benchmark started, seconds since the Unix epoch.
    pub started_unix_s: f64,
    /// Measured rounds completed so far.
    pub rounds: usize,
    /// True once every round ran; false while running or after an interruption.
    pub complete: bool,
    /// The signal that stopped the benchmark, if one did.
    pub interrupted: Option<String>,
    /// The machine.
    pub machine: Machine,
    /// The GPU adapter used by `gpu` cells: name, type and graphics API.
    #[serde(default)]
    pub gpu_adapter: Option<String>,
    /// Settings.
    pub settings: Settings,
    /// Cells, baselines first for each kernel and range.
    pub cells: Vec<Cell>,
}

impl Report {
    /// True when every cell of a complete benchmark got every answer right.
    pub fn all_correct(&self) -> bool {
        self.cells.iter().all(|c| c.status() == "ok")
    }
}

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
    for &w in &spec.workers {
        check_workers(w)?;
    }
    if spec.backends.is_empty() || spec.workers.is_empty() || spec.kernels.is_empty() {
        return Err(Error::invalid(
            "benchmark",
            "empty",
            "needs at least one backend, worker count and kernel",
        ));
    }
    let mut machine = Machine::now();
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());

    // The cells, each with its backend and the sequential answer of its job.
    let mut cells = Vec::new();
    let mut engines: Vec<(Box<dyn Backend>, Job, Total, usize)> = Vec::new();
    for &kernel in &spec.kernels {
        for &range in &spec.ranges {
            let job = Job {
                kernel,
                range,
                split: spec.split,
            };
            let reference = Job {
                split: Split::Static,
                ..job.clone()
            };
            let expected = Sequential::default().run(&reference, 1, &Silent)?;
            let mut pairs = vec![(BackendKind::Sequential, 1usize)];
            for &b in &spec.backends {
                for &w in &spec.workers {
                    if !(b == BackendKind::Sequential && w == 1) {
                        pairs.push((b, w));
                    }
                }
            }
            let base = cells.len();
            for (i, (b, w)) in pairs.into_iter().enumerate() {
                let backend: Box<dyn Backend> = match b {
                    BackendKind::Processes => Box::new(
                        spec.processes
                            .clone()
                            .with_start(spec.options.start)
                            .with_policy(spec.options.policy),
                    ),
                    BackendKind::Mpi => {
                        Box::new(Launcher::new(spec.mpirun.clone(), spec.options.policy)?)
                    }
                    other => other.create_with(&spec.options),
                };
                cells.push(Cell {
                    kernel: kernel.to_string(),
                    range,
                    split: spec.split.to_string(),
                    backend: b,
                    workers: w,
                    baseline: i == 0,
                    expected: expected.headline().to_string(),
                    runs: Vec::new(),
                    wall: None,
                    user_s: None,
                    sys_s: None,
                    peak_rss_kib: None,
                    speedup: None,
                    efficiency: None,
                    outliers: 0,
                    mismatches: 0,
                    errors: Vec::new(),
                });
                engines.push((backend, job.clone(), expected, base));
            }
        }
    }

    let mut report = Report {
        schema: SCHEMA_VERSION,
        parlab_version: env!("CARGO_PKG_VERSION").to_string(),
        started_unix_s,
        rounds: 0,
        complete: false,
        interrupted: None,
        machine: machine.clone(),
        gpu_adapter: if spec.backends.contains(&BackendKind::Gpu) {
            crate::backend::gpu::adapter().ok()
        } else {
            None
        },
        settings: Settings {
            warmup: spec.warmup,
            runs: spec.runs,
            min_time_s: spec.min_time.map(|d| d.as_secs_f64()),
            timeout_s: spec.options.policy.timeout.map(|d| d.as_secs_f64()),
            start_method: spec
                .backends
                .contains(&BackendKind::Processes)
                .then(|| spec.options.start.to_string()),
            switch_interval_s: spec
                .backends
                .contains(&BackendKind::Gil)
                .then_some(spec.options.switch_interval.as_secs_f64()),
            check_interval: spec
                .backends
                .contains(&BackendKind::GilLegacy)
                .then_some(spec.options.check_interval),
        },
        cells,
    };
    let planned = report.cells.len() * (spec.warmup + spec.runs.max(1));
    let mut done = 0;
    let mut measured_time = vec![0.0f64; report.cells.len()];

    let mut round = 0;
    // Exports are rewritten after the first round and then at most once a second, so that a
    // long benchmark of short runs spends its time measuring, not writing files.
    let mut last_update: Option<Instant> = None;
    'rounds: loop {
        let warm = round < spec.warmup;
        if !warm {
            let measured = round - spec.warmup;
            let enough_runs = measured >= spec.runs.max(1);
            let enough_time = spec
                .min_time
                .is_none_or(|t| measured_time.iter().all(|&s| s >= t.as_secs_f64()));
            if (enough_runs && enough_time) || measured >= MAX_ROUNDS.max(spec.runs) {
                break;
            }
        }
        for (i, (backend, job, expected, _)) in engines.iter().enumerate() {
            if let Some(signal) = interrupt::requested() {
                report.interrupted = Some(interrupt::error(signal).to_string());
                break 'rounds;
            }
            progress(&Progress {
                done,
                planned: planned.max(done + 1),
                cell: report.cells[i].label(),
                phase: if warm { "warm-up" } else { "measure" },
            });
            let (outcome, run) = measure(backend.as_ref(), job, report.cells[i].workers);
            done += 1;
            let cell = &mut report.cells[i];
            match outcome {
                Ok(total) if total == *expected => {
                    if !warm {
                        measured_time[i] += run.wall_s;
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
                            expected.headline()
                        ),
                    );
                }
                Err(e) if e.interrupted_by().is_some() => {
                    report.interrupted = Some(e.to_string());
                    break 'rounds;
                }
                Err(e) => keep_error(cell, e.to_string()),
            }
        }
        if !warm {
            report.rounds += 1;
        }
        round += 1;
        if last_update.is_none_or(|t| t.elapsed() >= UPDATE_EVERY) {
            summarise(&mut report, &engines);
            machine.finish();
            report.machine = machine.clone();
            update(&report)?;
            last_update = Some(Instant::now());
        }
    }
    summarise(&mut report, &engines);
    machine.finish();
    report.machine = machine;
    report.complete = report.interrupted.is_none();
    update(&report)?;
    Ok(report)
}

fn keep_error(cell: &mut Cell, e: String) {
    if cell.errors.len() < 5 {
        cell.errors.push(e);
    }
}

/// Recomputes every cell's figures from its runs.
fn summarise(report: &mut Report, engines: &[(Box<dyn Backend>, Job, Total, usize)]) {
    let walls: Vec<Vec<f64>> = report
        .cells
        .iter()
        .map(|c| c.runs.iter().map(|r| r.wall_s).collect())
        .collect();
    for (i, cell) in report.cells.iter_mut().enumerate() {
        let w = &walls[i];
        if w.is_empty() {
            continue;
        }
        cell.wall = Some(Summary::of(w));
        let user: Vec<f64> = cell.runs.iter().map(|r| r.user_s).collect();
        let sys: Vec<f64> = cell.runs.iter().map(|r| r.sys_s).collect();
        cell.user_s = Some(stats::median(&user));
        cell.sys_s = Some(stats::median(&sys));
        cell.peak_rss_kib = cell.runs.iter().filter_map(|r| r.peak_rss_kib).max();
        cell.outliers = stats::outliers(w);
        let base = &walls[engines[i].3];
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
    let (s0, c0) = (cpu_times(Who::SelfProcess), cpu_times(Who::Children));
    let t0 = Instant::now();
    let outcome = backend.run(job, workers, &Silent);
    let wall_s = t0.elapsed().as_secs_f64();
    let (s1, c1) = (cpu_times(Who::SelfProcess), cpu_times(Who::Children));
    let run = Run {
        wall_s,
        user_s: (s1.0 - s0.0) + (c1.0 - c0.0),
        sys_s: (s1.1 - s0.1) + (c1.1 - c0.1),
        peak_rss_kib: peak_rss_kib(),
    };
    (outcome, run)
}

enum Who {
    SelfProcess,
    Children,
}

/// (user, system) CPU seconds so far.
fn cpu_times(who: Who) -> (f64, f64) {
    use nix::sys::resource::{UsageWho, getrusage};
    let who = match who {
        Who::SelfProcess => UsageWho::RUSAGE_SELF,
        Who::Children => UsageWho::RUSAGE_CHILDREN,
    };
    match getrusage(who) {
        Ok(u) => {
            let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
            (secs(u.user_time()), secs(u.system_time()))
        }
        Err(_) => (0.0, 0.0),
    }
}

/// Resets this process's peak-RSS high-water mark (Linux: `5` into `/proc/self/clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's peak RSS since the last reset, KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
