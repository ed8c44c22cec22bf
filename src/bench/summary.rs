//! A cell's figures from its runs: wall-time summary, CPU and memory, the paired speedup (at
//! equal CPU speed where the CPU time is counted in full), the machine's ceiling and the share
//! of it reached, the judge's verdict and the precision met.
//!
//! The baseline cell is the baseline: its speedup is 1 by definition, and what its runs paired
//! with each other give (an A/A comparison) is reported as its `noise`, not as a speedup. A cell
//! with no work (an empty range) gets no speedup, no verdict and no serial fraction: a ratio of
//! two empty runs measures the clock.
//!
//! At equal CPU speed (as `reproduce` judges its rows): where a run did the baseline's work in
//! less CPU time than the baseline run it is paired with, its CPUs ran faster, by `base_cpu /
//! cpu`, and that much of its ratio is the machine's, so the ratio is divided by it; a run that
//! used more keeps its ratio (overhead and a slower CPU look alike). Only for CPU-bound kernels
//! on backends whose CPU time this process counts in full (its own threads; not worker processes
//! started by a fork server, nor MPI ranks, nor the GPU).

use super::karp_flatt::karp_flatt;
use super::schema::{BenchCell, BenchReport, CeilingAt, Ceilings, Run};
use super::spec::BenchOptions;
use crate::backend::BackendKind;
use crate::kernels::Kernel;
use crate::measure::judge::{self, Bounds};
use crate::measure::{BOOTSTRAP_ROUNDS, Figures, Sample};
use crate::stats::{self, Estimate, SampleSummary};

/// Recomputes every cell's figures, and the ceilings, from the runs so far.
/// `samples` are every measured round's ceilings, `probe_s` what the probes took and
/// `elapsed_s` the benchmark's time so far.
pub(super) fn summarise(
    report: &mut BenchReport,
    spec: &BenchOptions,
    (samples, probe_s, elapsed_s): (&[(usize, f64)], f64, f64),
) {
    let cpus = report.machine.available_parallelism;
    for cell in report.cells.iter_mut() {
        let baseline = cell.baseline;
        figures(cell, cpus, spec.precision.filter(|_| !baseline));
    }
    report.ceilings = ceilings(samples, probe_s, elapsed_s);
}

/// Whether `kernel` keeps the CPUs busy (every kernel but `sleep`, which waits): its speedup is
/// then bounded by the CPUs and the ceiling, and its CPU time says how fast the CPUs ran.
pub(crate) fn cpu_bound(kernel: &str) -> bool {
    !matches!(kernel.parse::<Kernel>(), Ok(Kernel::Sleep { .. }))
}

/// Whether `backend`'s runs are counted in full by this process's CPU time: its own threads.
pub(crate) fn cpu_counted(backend: BackendKind) -> bool {
    matches!(
        backend,
        BackendKind::Sequential
            | BackendKind::Threads
            | BackendKind::Pool
            | BackendKind::Gil
            | BackendKind::GilLegacy
    )
}

/// Whether `cell`'s CPU times say how fast its CPUs ran: CPU-bound work on a backend whose
/// CPU time is counted in full (not a GPU's).
pub(super) fn equal_speed(cell: &BenchCell) -> bool {
    cell.backend != BackendKind::Gpu && cpu_bound(&cell.kernel) && cpu_counted(cell.backend)
}

/// The engine's sample of `run`: its CPU times where they say how fast the CPUs ran
/// (`equal_speed`), its ceiling where one bounds it (`ceiling`).
fn sample(run: &Run, equal_speed: bool, ceiling: bool) -> Sample {
    Sample {
        wall_s: run.wall_s,
        cpu_s: equal_speed.then_some(run.user_s + run.sys_s),
        baseline_s: run.baseline_s,
        baseline_cpu_s: run.baseline_cpu_s.filter(|_| equal_speed),
        ceiling: run.ceiling.filter(|_| ceiling),
    }
}

/// One cell's figures from its runs.
pub(super) fn figures(cell: &mut BenchCell, cpus: usize, precision: Option<f64>) {
    let walls: Vec<f64> = cell.runs.iter().map(|r| r.wall_s).collect();
    if walls.is_empty() {
        return;
    }
    let median_of =
        |field: fn(&Run) -> f64| stats::median(&cell.runs.iter().map(field).collect::<Vec<_>>());
    cell.wall = Some(SampleSummary::of(&walls));
    cell.user_s = Some(median_of(|r| r.user_s));
    cell.sys_s = Some(median_of(|r| r.sys_s));
    cell.peak_rss_kib = cell.runs.iter().filter_map(|r| r.peak_rss_kib).max();
    cell.outliers = stats::outliers(&walls);
    if cell.range.is_empty() {
        // No work: nothing to compare.
        cell.speedup = None;
        cell.speedup_by_clock = None;
        cell.noise = None;
        cell.efficiency = None;
        cell.karp_flatt = None;
        cell.verdict = None;
        cell.artefact = None;
        cell.within_precision = None;
        return;
    }
    // A GPU's workers are parts in flight, not CPUs, and its speed is not bounded by the CPUs:
    // no efficiency, serial fraction, ceiling or artefact from them.
    let on_cpus = cell.backend != BackendKind::Gpu;
    let cpu_bound = cpu_bound(&cell.kernel) && on_cpus;
    let equal_speed = equal_speed(cell);
    let with_ceiling = cpu_bound && cell.workers > 1;
    let samples: Vec<Sample> = cell
        .runs
        .iter()
        .map(|r| sample(r, equal_speed, with_ceiling))
        .collect();
    let f = Figures::of(&samples);
    if cell.baseline {
        cell.speedup = Some(Estimate::exact(1.0));
        cell.efficiency = Some(Estimate::exact(1.0));
        cell.noise = f.speedup;
        return;
    }
    let speedup = f.judged();
    cell.speedup = speedup;
    cell.speedup_by_clock = f.speedup.filter(|c| Some(*c) != speedup);
    cell.efficiency = speedup
        .filter(|_| on_cpus)
        .map(|s| s.scaled(1.0 / cell.workers as f64));
    cell.karp_flatt = speedup
        .filter(|_| on_cpus)
        .and_then(|s| karp_flatt(&s, cell.workers));
    if with_ceiling {
        cell.ceiling = f.ceiling;
        cell.vs_ceiling = f.vs_ceiling;
    }
    let bounds = if cpu_bound {
        f.bounds(cpus)
    } else {
        Bounds::default()
    };
    cell.verdict = speedup.map(|s| judge::judge(&s, bounds));
    cell.artefact = speedup.and_then(|s| judge::artefact(&s, bounds));
    cell.within_precision = precision
        .zip(speedup)
        .map(|(p, s)| s.relative_half_width() <= p);
}

/// The ceiling at each worker count over all samples, and what the probes cost.
fn ceilings(samples: &[(usize, f64)], cost_s: f64, elapsed_s: f64) -> Ceilings {
    let mut workers: Vec<usize> = samples.iter().map(|s| s.0).collect();
    workers.sort_unstable();
    workers.dedup();
    let at = workers
        .into_iter()
        .map(|w| {
            let xs: Vec<f64> = samples.iter().filter(|s| s.0 == w).map(|s| s.1).collect();
            CeilingAt {
                workers: w,
                ceiling: stats::median_interval(&xs, BOOTSTRAP_ROUNDS),
                range: (
                    xs.iter().copied().fold(f64::INFINITY, f64::min),
                    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                ),
            }
        })
        .collect();
    Ceilings {
        at,
        cost_s,
        cost_share: if elapsed_s > 0.0 {
            cost_s / elapsed_s
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(wall_s: f64, baseline_s: f64, cpu_s: f64, baseline_cpu_s: f64) -> Run {
        Run {
            wall_s,
            user_s: cpu_s,
            sys_s: 0.0,
            peak_rss_kib: None,
            baseline_s: Some(baseline_s),
            baseline_cpu_s: Some(baseline_cpu_s),
            ceiling: Some(1.9),
        }
    }

    fn cell(backend: BackendKind, workers: usize, runs: Vec<Run>) -> BenchCell {
        let (mut cells, _) = crate::bench::matrix::build(&crate::bench::spec::sample()).unwrap();
        let mut c = cells.remove(0);
        c.backend = backend;
        c.workers = workers;
        c.baseline = false;
        c.runs = runs;
        c
    }

    #[test]
    fn a_cell_is_judged_at_equal_cpu_speed_when_its_cpu_time_is_counted() {
        // One worker that did the baseline's work in 0.8 of its CPU time ran on a faster CPU:
        // 1.25x by the clock, 1.00x at equal speed.
        let runs = vec![run(0.8, 1.0, 0.8, 1.0); 5];
        let mut c = cell(BackendKind::Threads, 1, runs.clone());
        figures(&mut c, 2, None);
        assert!((c.speedup.unwrap().value - 1.0).abs() < 1e-9, "{c:?}");
        assert!((c.speedup_by_clock.unwrap().value - 1.25).abs() < 1e-9);
        assert_eq!(c.verdict, Some(crate::measure::Verdict::NoFaster));
        // Worker processes' CPU time is not counted here: the clock's ratio stands.
        let mut p = cell(BackendKind::Processes, 1, runs);
        figures(&mut p, 2, None);
        assert!((p.speedup.unwrap().value - 1.25).abs() < 1e-9, "{p:?}");
        assert_eq!(p.speedup_by_clock, None);
    }

    #[test]
    fn the_baseline_is_one_and_its_spread_is_noise() {
        let mut b = cell(
            BackendKind::Sequential,
            1,
            vec![
                run(1.0, 1.26, 1.0, 1.0),
                run(1.0, 0.99, 1.0, 1.0),
                run(1.0, 1.22, 1.0, 1.0),
            ],
        );
        b.baseline = true;
        figures(&mut b, 2, None);
        assert_eq!(b.speedup, Some(Estimate::exact(1.0)));
        assert_eq!(b.verdict, None);
        assert!(b.noise.unwrap().high > 1.2, "{b:?}");
    }

    #[test]
    fn a_cell_with_no_work_gets_no_speedup_and_no_serial_fraction() {
        let mut c = cell(BackendKind::Threads, 2, vec![run(1e-6, 4e-4, 0.0, 0.0); 3]);
        c.range = crate::span::Span::new(0, 0).unwrap();
        figures(&mut c, 2, None);
        assert_eq!((c.speedup, c.karp_flatt, c.verdict), (None, None, None));
        assert!(c.wall.is_some());
    }

    #[test]
    fn speedups_the_machine_could_not_give_are_artefacts() {
        let mut c = cell(BackendKind::Processes, 2, vec![run(0.5, 1.0, 0.0, 1.0); 5]);
        figures(&mut c, 2, None);
        assert_eq!(c.verdict, Some(crate::measure::Verdict::Artefact));
        assert!(c.artefact.as_ref().unwrap().contains("ceiling"), "{c:?}");
        assert_eq!(c.status(), "artefact");
    }

    #[test]
    fn a_gpu_is_not_bounded_by_the_cpus() {
        // 20x on 2 CPUs: an artefact for threads, a plain gain for a GPU, whose workers are
        // parts in flight (no efficiency, serial fraction or ceiling).
        let mut c = cell(BackendKind::Gpu, 2, vec![run(0.05, 1.0, 0.0, 1.0); 5]);
        figures(&mut c, 2, None);
        assert_eq!(c.verdict, Some(crate::measure::Verdict::Faster), "{c:?}");
        assert_eq!(c.artefact, None);
        assert_eq!((c.efficiency, c.karp_flatt, c.ceiling), (None, None, None));
        assert!((c.speedup.unwrap().value - 20.0).abs() < 1e-9);
        let mut t = cell(BackendKind::Threads, 2, vec![run(0.05, 1.0, 0.0, 1.0); 5]);
        figures(&mut t, 2, None);
        assert_eq!(t.verdict, Some(crate::measure::Verdict::Artefact));
    }

    #[test]
    fn ceilings_summarise_each_worker_count_and_the_cost() {
        let c = ceilings(&[(2, 1.4), (2, 2.0), (2, 1.9), (4, 2.0)], 0.5, 10.0);
        assert_eq!(c.at.len(), 2);
        assert_eq!(c.at[0].workers, 2);
        assert_eq!(c.at[0].ceiling.value, 1.9);
        assert_eq!(c.at[0].range, (1.4, 2.0));
        assert!((c.cost_share - 0.05).abs() < 1e-12);
    }
}
