//! One run as every measuring command records it ([`Sample`]), and a row's figures from its
//! runs ([`Figures`]): the paired speedup, at equal CPU speed where the CPU times allow, the CPUs
//! kept busy, the machine's ceiling and the share of it reached. Every interval is a bootstrap
//! of [`BOOTSTRAP_ROUNDS`] resamples ([`interval`]).
//!
//! A figure stands on every run or on none: a speedup at equal CPU speed, or the CPUs kept busy,
//! only where every paired run counted its CPU time, so that no figure mixes runs judged two
//! ways.

use crate::measure::judge::Bounds;
use crate::stats::{self, Estimate};

/// Bootstrap resamples of every interval parlab reports: the one figure for all of them.
pub const BOOTSTRAP_ROUNDS: usize = 2000;

/// The median of `xs` with its 95% bootstrap interval over [`BOOTSTRAP_ROUNDS`] resamples;
/// `None` for no values.
pub fn interval(xs: &[f64]) -> Option<Estimate> {
    (!xs.is_empty()).then(|| stats::median_interval(xs, BOOTSTRAP_ROUNDS))
}

/// The lowest and highest of `xs`; `None` for no values.
pub fn range(xs: &[f64]) -> Option<(f64, f64)> {
    (!xs.is_empty()).then(|| {
        xs.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    })
}

/// One measured run of a row, with the baseline run it is paired with (the same round, run
/// beside it: see [`crate::measure::rounds`]) and the machine's ceiling of its round.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// CPU time (user and system, every thread of the job), seconds, where it says how fast
    /// the CPUs ran: CPU-bound work whose CPU time is counted in full. `None` otherwise (work
    /// that waits, worker processes this process does not reap).
    pub cpu_s: Option<f64>,
    /// Wall time of the paired baseline run, seconds; `None` where the run has no partner.
    pub baseline_s: Option<f64>,
    /// CPU time of the paired baseline run, as [`Sample::cpu_s`].
    pub baseline_cpu_s: Option<f64>,
    /// The machine's ceiling at the row's workers in the run's round (rows of more than one
    /// worker doing CPU-bound work; the probe may have dropped the round's sample).
    pub ceiling: Option<f64>,
}

impl Sample {
    /// The paired ratio by the clock, the baseline's wall over this run's.
    fn clock(&self) -> Option<f64> {
        self.baseline_s
            .filter(|_| self.wall_s > 0.0)
            .map(|b| b / self.wall_s)
    }

    /// Both CPU times, where both were counted.
    fn cpu_times(&self) -> Option<(f64, f64)> {
        let counted = |c: Option<f64>| c.filter(|&c| c > 0.0);
        counted(self.cpu_s).zip(counted(self.baseline_cpu_s))
    }
}

/// A row's figures from its runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// Runs.
    pub runs: usize,
    /// The median paired ratio by the clock with its interval; `None` without a paired run.
    /// For a baseline row, the ratios of its runs paired with each other: its noise.
    pub speedup: Option<Estimate>,
    /// The speedup at equal CPU speed, where every paired run counted both CPU times: each
    /// round's ratio divided by how much faster the run's CPUs ran than its baseline's (when it
    /// did the work in less CPU time, `base_cpu / cpu`); a run that used more CPU time keeps its
    /// ratio (overhead and a slower CPU look alike). So a lock that lets one thread run at a
    /// time cannot come out faster because the baseline met the slower vCPU.
    pub at_equal_speed: Option<Estimate>,
    /// CPUs the row kept busy (CPU time over wall time), where every run counted its CPU time.
    pub busy: Option<Estimate>,
    /// The machine's ceiling over the rounds that kept a sample of it.
    pub ceiling: Option<Estimate>,
    /// Each round's judged ratio over that round's ceiling: the share of what the machine
    /// allowed that the row reached.
    pub vs_ceiling: Option<Estimate>,
    /// The lowest and highest ceiling sampled in the row's rounds.
    pub ceiling_seen: Option<(f64, f64)>,
    /// The shortest and longest baseline run the row was paired with, seconds.
    pub base_seen: Option<(f64, f64)>,
}

impl Figures {
    /// The figures of `samples` (see the module doc and each field).
    pub fn of(samples: &[Sample]) -> Figures {
        let paired: Vec<&Sample> = samples.iter().filter(|s| s.clock().is_some()).collect();
        let counted: Option<Vec<(f64, f64)>> = paired.iter().map(|s| s.cpu_times()).collect();
        let counted = counted.filter(|c| !c.is_empty());
        let judged: Vec<f64> = paired
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let clock = s.clock().expect("paired");
                match &counted {
                    Some(cs) => clock * (cs[k].0 / cs[k].1).min(1.0),
                    None => clock,
                }
            })
            .collect();
        let clock: Vec<f64> = paired.iter().filter_map(|s| s.clock()).collect();
        let busy: Option<Vec<f64>> = samples
            .iter()
            .map(|s| {
                s.cpu_s
                    .filter(|&c| c > 0.0 && s.wall_s > 0.0)
                    .map(|c| c / s.wall_s)
            })
            .collect();
        let seen: Vec<f64> = samples.iter().filter_map(|s| s.ceiling).collect();
        let shares: Vec<f64> = paired
            .iter()
            .zip(&judged)
            .filter_map(|(s, j)| Some(j / s.ceiling.filter(|&c| c > 0.0)?))
            .collect();
        let bases: Vec<f64> = paired.iter().filter_map(|s| s.baseline_s).collect();
        Figures {
            runs: samples.len(),
            speedup: interval(&clock),
            at_equal_speed: counted.as_ref().and_then(|_| interval(&judged)),
            busy: busy.and_then(|b| interval(&b)),
            ceiling: interval(&seen),
            vs_ceiling: interval(&shares),
            ceiling_seen: range(&seen),
            base_seen: range(&bases),
        }
    }

    /// The speedup the judge reads: at equal CPU speed where it was taken, else by the clock.
    pub fn judged(&self) -> Option<Estimate> {
        self.at_equal_speed.or(self.speedup)
    }

    /// What bounds a CPU-bound row on a machine of `cpus` CPUs: the CPU count, the ceiling of
    /// its rounds, and the CPUs it kept busy (a row cannot run faster than one thread by more
    /// than the CPUs it kept busy; where it did, its baseline waited for a CPU). Work that
    /// waits is judged without bounds ([`Bounds::default`]).
    pub fn bounds(&self, cpus: usize) -> Bounds {
        Bounds {
            busy: self.busy,
            ..Bounds::cpu_bound(cpus, self.ceiling)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::judge::{Verdict, judge};

    /// A run of `wall_s` paired with a baseline of `base_s`, CPU times counted as given.
    fn s(wall_s: f64, base_s: f64, cpu: Option<(f64, f64)>, ceiling: Option<f64>) -> Sample {
        Sample {
            wall_s,
            cpu_s: cpu.map(|c| c.0),
            baseline_s: Some(base_s),
            baseline_cpu_s: cpu.map(|c| c.1),
            ceiling,
        }
    }

    fn verdict(f: &Figures) -> Verdict {
        judge(&f.judged().unwrap(), f.bounds(2))
    }

    #[test]
    fn a_bimodal_machine_cancels_within_each_pair() {
        // Every other round ran at half speed, both sides alike: 1.8x in every pair.
        let samples: Vec<Sample> = (0..12)
            .map(|i| {
                let slow = if i % 2 == 0 { 1.0 } else { 2.0 };
                s(slow / 1.8, slow, Some((slow, slow)), Some(1.95))
            })
            .collect();
        let f = Figures::of(&samples);
        let e = f.judged().unwrap();
        assert!(
            (e.value - 1.8).abs() < 1e-9 && e.relative_half_width() < 1e-9,
            "{f:?}"
        );
        assert_eq!(f.base_seen, Some((1.0, 2.0)));
        assert!((f.busy.unwrap().value - 1.8).abs() < 1e-9, "{f:?}");
        assert!((f.vs_ceiling.unwrap().value - 1.8 / 1.95).abs() < 1e-9);
        assert_eq!(verdict(&f), Verdict::Faster);
    }

    #[test]
    fn bursts_on_either_side_stay_outliers_of_their_own_pairs() {
        // A lock-bound row at 1.0, three pairs hit by a burst on one side.
        let mut samples = vec![s(1.0, 1.0, None, None); 15];
        samples[2].baseline_s = Some(1.7);
        samples[6].wall_s = 1.6;
        samples[11].baseline_s = Some(1.5);
        let f = Figures::of(&samples);
        let e = f.judged().unwrap();
        assert_eq!(e.value, 1.0);
        assert_eq!(verdict(&f), Verdict::NoFaster, "{f:?}");
        // No CPU time: judged by the clock, and no CPUs busy claimed.
        assert_eq!((f.at_equal_speed, f.busy), (None, None));
    }

    #[test]
    fn a_slow_cpu_under_the_baseline_is_the_machine_not_the_row() {
        // The lock-bound row keeps one CPU busy; its baseline met the slower vCPU in every
        // other round (1.3 s of CPU for the same work): 1.3x by the clock in those rounds,
        // level at equal speed.
        let samples: Vec<Sample> = (0..10)
            .map(|i| {
                let b = if i % 2 == 0 { 1.3 } else { 1.0 };
                s(1.0, b, Some((1.0, b)), Some(1.9))
            })
            .collect();
        let f = Figures::of(&samples);
        assert!(f.speedup.unwrap().high > 1.25, "{f:?}");
        let eq = f.at_equal_speed.unwrap();
        assert_eq!((eq.value, eq.high), (1.0, 1.0));
        assert_eq!(verdict(&f), Verdict::NoFaster);
        // One run without its CPU time: the row is judged by the clock alone, never half and
        // half.
        let mut gap = samples.clone();
        gap[3].cpu_s = None;
        let f = Figures::of(&gap);
        assert_eq!((f.at_equal_speed, f.busy), (None, None));
        assert_eq!(f.judged(), f.speedup);
    }

    #[test]
    fn a_gain_beyond_the_cpus_kept_busy_is_an_artefact_without_a_ceiling() {
        // Four threads kept 0.94 CPUs busy, yet ran 2.2x faster than one thread at equal speed:
        // the one-thread runs waited for a CPU (a busy machine), and every ceiling sample of
        // the rounds was dropped.
        let samples: Vec<Sample> = (0..9)
            .map(|i| {
                let w = 0.45 + 0.001 * i as f64;
                s(w, 2.2 * w, Some((0.94 * w, 0.94 * w)), None)
            })
            .collect();
        let f = Figures::of(&samples);
        assert_eq!(f.ceiling, None);
        assert!((f.judged().unwrap().value - 2.2).abs() < 1e-9, "{f:?}");
        assert_eq!(verdict(&f), Verdict::Artefact, "{f:?}");
        // Bounded by the CPUs busy alone, below the CPU count.
        let samples: Vec<Sample> = samples
            .iter()
            .map(|x| Sample {
                baseline_s: Some(x.wall_s * 1.6),
                ..*x
            })
            .collect();
        let f = Figures::of(&samples);
        let why = crate::measure::judge::artefact(&f.judged().unwrap(), f.bounds(2)).unwrap();
        assert!(why.contains("0.94 CPUs"), "{why}");
    }

    #[test]
    fn unpaired_runs_give_no_speedup_and_ceilings_come_from_the_rounds_that_kept_one() {
        let lone = Sample {
            wall_s: 1.0,
            ..Sample::default()
        };
        let f = Figures::of(&[lone, lone]);
        assert_eq!((f.runs, f.speedup, f.judged()), (2, None, None));
        let samples = [
            s(0.5, 1.0, None, Some(2.0)),
            s(0.6, 0.9, None, None),
            s(0.5, 1.0, None, Some(1.5)),
        ];
        let f = Figures::of(&samples);
        assert_eq!(f.ceiling_seen, Some((1.5, 2.0)));
        assert_eq!(f.ceiling.unwrap().value, 1.75);
        assert!((f.vs_ceiling.unwrap().value - (1.0 + 4.0 / 3.0) / 2.0).abs() < 1e-9);
    }
}
