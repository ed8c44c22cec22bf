//! A cell's figures from its runs: wall-time summary, CPU and memory, the paired speedup, the
//! machine's ceiling and the share of it reached, the artefact flag and the precision met.

use super::karp_flatt::karp_flatt;
use super::schema::{CeilingAt, Ceilings, Cell, Report, Run};
use super::spec::Spec;
use crate::stats::{self, Estimate, Summary};

/// Bootstrap resamples for every interval.
const BOOTSTRAP_ROUNDS: usize = 2000;

/// Recomputes every cell's figures, and the ceilings, from the runs so far.
/// `samples` are every measured round's ceilings, `probe_s` what the probes took and
/// `elapsed_s` the benchmark's time so far.
pub(super) fn summarise(
    report: &mut Report,
    spec: &Spec,
    (samples, probe_s, elapsed_s): (&[(usize, f64)], f64, f64),
) {
    let cpus = report.machine.available_parallelism;
    for cell in report.cells.iter_mut() {
        let baseline = cell.baseline;
        figures(cell, cpus, spec.precision.filter(|_| !baseline));
    }
    report.ceilings = ceilings(samples, probe_s, elapsed_s);
}

/// One cell's figures from its runs.
pub(super) fn figures(cell: &mut Cell, cpus: usize, precision: Option<f64>) {
    let walls: Vec<f64> = cell.runs.iter().map(|r| r.wall_s).collect();
    if walls.is_empty() {
        return;
    }
    let median_of =
        |field: fn(&Run) -> f64| stats::median(&cell.runs.iter().map(field).collect::<Vec<_>>());
    cell.wall = Some(Summary::of(&walls));
    cell.user_s = Some(median_of(|r| r.user_s));
    cell.sys_s = Some(median_of(|r| r.sys_s));
    cell.peak_rss_kib = cell.runs.iter().filter_map(|r| r.peak_rss_kib).max();
    cell.outliers = stats::outliers(&walls);
    let (base, paired): (Vec<f64>, Vec<f64>) = cell
        .runs
        .iter()
        .filter_map(|r| r.baseline_s.map(|b| (b, r.wall_s)))
        .unzip();
    let speedup = if cell.baseline && paired.is_empty() {
        Some(Estimate::exact(1.0))
    } else if paired.is_empty() {
        None
    } else {
        Some(stats::paired_speedup(&base, &paired, BOOTSTRAP_ROUNDS))
    };
    cell.speedup = speedup;
    cell.efficiency = speedup.map(|s| s.scaled(1.0 / cell.workers as f64));
    cell.karp_flatt = speedup.and_then(|s| karp_flatt(&s, cell.workers));
    if cell.workers > 1 {
        let samples: Vec<f64> = cell.runs.iter().filter_map(|r| r.ceiling).collect();
        cell.ceiling =
            (!samples.is_empty()).then(|| stats::median_interval(&samples, BOOTSTRAP_ROUNDS));
        let shares: Vec<f64> = cell
            .runs
            .iter()
            .filter_map(|r| Some(r.baseline_s? / r.wall_s / r.ceiling?))
            .collect();
        cell.vs_ceiling =
            (!shares.is_empty()).then(|| stats::median_interval(&shares, BOOTSTRAP_ROUNDS));
    }
    cell.artefact = speedup.and_then(|s| artefact(&s, cell.ceiling.as_ref(), cpus));
    cell.within_precision = precision
        .zip(speedup)
        .map(|(p, s)| s.relative_half_width() <= p);
}

/// Why `speedup` cannot be a finding: above the CPU count, or its whole interval above the
/// machine's ceiling's.
pub(super) fn artefact(
    speedup: &Estimate,
    ceiling: Option<&Estimate>,
    cpus: usize,
) -> Option<String> {
    if speedup.value > cpus as f64 {
        return Some(format!(
            "speedup {:.2}x above the {cpus} CPUs: the baseline ran in a slow moment",
            speedup.value
        ));
    }
    let c = ceiling?;
    (speedup.low > c.high).then(|| {
        format!(
            "speedup {:.2}-{:.2}x above the machine's ceiling ({:.2}-{:.2}x): the baseline ran in \
             a slow moment",
            speedup.low, speedup.high, c.low, c.high
        )
    })
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

    fn e(value: f64, low: f64, high: f64) -> Estimate {
        Estimate { value, low, high }
    }

    #[test]
    fn speedups_the_machine_could_not_give_are_flagged() {
        let ceiling = e(1.5, 1.4, 1.6);
        assert!(artefact(&e(1.45, 1.3, 1.6), Some(&ceiling), 2).is_none());
        let above = artefact(&e(1.9, 1.8, 2.0), Some(&ceiling), 2).unwrap();
        assert!(
            above.contains("above the machine's ceiling (1.40-1.60x)"),
            "{above}"
        );
        let cpus = artefact(&e(2.84, 2.5, 3.1), None, 2).unwrap();
        assert!(cpus.contains("above the 2 CPUs"), "{cpus}");
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
