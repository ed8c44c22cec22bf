//! The rounds: which runs a round makes, in what order, which baseline run each is paired
//! with, and the samples they leave ([`Measurement`]). The one policy of the module doc of
//! [`crate::measure`].

use std::time::Instant;

use super::ceiling::Probe;
use super::sample::Sample;
use crate::error::Result;

/// A rule for when a measurement stops.
pub trait Stopping {
    /// The rows the next round runs (their baselines run with them), or `None`: the
    /// measurement is over. Warm-up rounds come first, of every row.
    fn next(&mut self, m: &Measurement) -> Option<Vec<usize>>;
}

/// A row as the rounds see it: the row it is compared with and how many workers it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pairing {
    /// The row's baseline (its own index for a baseline row).
    pub baseline: usize,
    /// Workers: its ceiling is sampled at this count.
    pub workers: usize,
    /// A one-worker row held to one CPU with its baseline run (see the module doc of
    /// [`crate::measure`]); `false` for a baseline.
    pub pinned: bool,
}

impl Pairing {
    /// Whether the row is a baseline.
    fn is_baseline(&self, me: usize) -> bool {
        self.baseline == me
    }
}

/// How many rows run between two runs of their baseline in a round: `Some(k)`, a baseline run
/// after every `k` rows (runs of milliseconds, where a baseline run costs little); `None`, one
/// baseline run a round for all its rows (runs of seconds).
pub type Every = Option<usize>;

/// One run of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The row.
    pub row: usize,
    /// Held to the round's CPU, with the baseline runs beside it.
    pub pinned: bool,
    /// Whether its sample is kept as the row's: `false` for a pinned baseline run (a partner
    /// only) and the settling run before it.
    pub kept: bool,
}

impl Slot {
    fn free(row: usize) -> Slot {
        Slot {
            row,
            pinned: false,
            kept: true,
        }
    }

    fn pinned(row: usize, kept: bool) -> Slot {
        Slot {
            row,
            pinned: true,
            kept,
        }
    }
}

/// The order of round `round` over the rows `open` (every row's baseline runs too): for each
/// baseline in row order, the baseline run, then its free rows `every` at a time, each group
/// followed by another baseline run (B c1 c2 B c3 c4 B; or B c1 c2 c3 c4, one a round); all of
/// that in reverse in odd rounds, so that no run is always first or last; then each pinned row
/// after a settling baseline run and a baseline run of its own, all three pinned (B' B' a1).
pub fn order(rows: &[Pairing], open: &[usize], round: usize, every: Every) -> Vec<Slot> {
    let mut free = Vec::new();
    let mut pinned = Vec::new();
    let wanted = |i: usize| open.contains(&i) || open.iter().any(|&o| rows[o].baseline == i);
    for b in (0..rows.len()).filter(|&b| rows[b].is_baseline(b) && wanted(b)) {
        let mine = |pin: bool| -> Vec<usize> {
            (0..rows.len())
                .filter(|&i| i != b && rows[i].baseline == b && rows[i].pinned == pin)
                .filter(|i| open.contains(i))
                .collect()
        };
        free.push(Slot::free(b));
        match every {
            Some(k) => {
                for group in mine(false).chunks(k.max(1)) {
                    free.extend(group.iter().map(|&i| Slot::free(i)));
                    free.push(Slot::free(b));
                }
            }
            None => free.extend(mine(false).into_iter().map(Slot::free)),
        }
        for i in mine(true) {
            pinned.extend([
                Slot::pinned(b, false),
                Slot::pinned(b, false),
                Slot::pinned(i, true),
            ]);
        }
    }
    if round % 2 == 1 {
        free.reverse();
    }
    free.extend(pinned);
    free
}

/// The position in `order` of the baseline run paired with the run at `at`: for a pinned row,
/// the pinned baseline run just before it; for another row, the free baseline run just before
/// it, else just after it, else the nearest before, else the nearest after; for a baseline
/// run, the kept baseline run before it (an A/A pair: its noise). `None` where there is none.
pub fn partner(order: &[Slot], rows: &[Pairing], at: usize) -> Option<usize> {
    let slot = order[at];
    let b = rows[slot.row].baseline;
    let is_base = |p: &usize| order[*p].row == b && order[*p].pinned == slot.pinned;
    if slot.row == b {
        return (0..at).rev().find(|p| is_base(p) && order[*p].kept);
    }
    if slot.pinned {
        return at.checked_sub(1).filter(is_base);
    }
    [at.checked_sub(1), Some(at + 1)]
        .into_iter()
        .flatten()
        .find(|p| *p < order.len() && is_base(p))
        .or_else(|| (0..at).rev().find(is_base))
        .or_else(|| (at + 1..order.len()).find(is_base))
}

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timing {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// CPU time, seconds, where it says how fast the CPUs ran ([`Sample::cpu_s`]).
    pub cpu_s: Option<f64>,
}

/// A sample kept by a round: the row's, from the run at `at` in the round's order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kept {
    /// The row.
    pub row: usize,
    /// Its position in the round's order, as the run closure was told it.
    pub at: usize,
    /// The position of the baseline run it is paired with ([`partner`]), where that run gave
    /// a time.
    pub partner: Option<usize>,
    /// The sample.
    pub sample: Sample,
}

/// A measurement in progress: the rows, the rounds run and every sample kept.
pub struct Measurement {
    rows: Vec<Pairing>,
    every: Every,
    warmup: usize,
    probe: Option<Probe>,
    /// Rounds run, warm-up included.
    rounds: usize,
    samples: Vec<Vec<Sample>>,
    /// Every measured round's ceiling samples, each counted once: (workers, ceiling).
    ceilings: Vec<(usize, f64)>,
    /// Wall time of every run of the measured rounds, seconds.
    run_s: f64,
    started: Instant,
}

impl Measurement {
    /// A measurement of `rows` laid out `every` (see [`order`]), its first `warmup` rounds run
    /// but not kept, the machine's ceiling sampled by `probe` before each round (CPU-bound rows).
    pub fn new(rows: Vec<Pairing>, every: Every, warmup: usize, probe: Option<Probe>) -> Self {
        Measurement {
            samples: vec![Vec::new(); rows.len()],
            rows,
            every,
            warmup,
            probe,
            rounds: 0,
            ceilings: Vec::new(),
            run_s: 0.0,
            started: Instant::now(),
        }
    }

    /// The rows.
    pub fn rows(&self) -> &[Pairing] {
        &self.rows
    }

    /// Rounds run, warm-up included.
    pub fn rounds(&self) -> usize {
        self.rounds
    }

    /// Measured rounds run: those past the warm-up.
    pub fn measured(&self) -> usize {
        self.rounds.saturating_sub(self.warmup)
    }

    /// True while the next round is a warm-up round, whose runs are made but not kept.
    pub fn warming_up(&self) -> bool {
        self.rounds < self.warmup
    }

    /// Row `i`'s samples, one per kept run of the measured rounds.
    pub fn samples(&self, i: usize) -> &[Sample] {
        &self.samples[i]
    }

    /// Every measured round's ceiling samples: (workers, ceiling).
    pub fn ceilings(&self) -> &[(usize, f64)] {
        &self.ceilings
    }

    /// The probe, where there is one.
    pub fn probe(&self) -> Option<&Probe> {
        self.probe.as_ref()
    }

    /// Wall time of every run of the measured rounds, seconds.
    pub fn run_s(&self) -> f64 {
        self.run_s
    }

    /// Time since the measurement started.
    pub fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// Runs in a round of every row.
    pub fn per_round(&self) -> usize {
        let all: Vec<usize> = (0..self.rows.len()).collect();
        order(&self.rows, &all, 0, self.every).len()
    }

    /// Runs one round of the rows `open` (and their baselines): the ceiling sampled first,
    /// then every run of [`order`], `run(at, slot, round)` making the run at `at` (`None`: no
    /// sample from it, e.g. a wrong answer, or a row that cannot run any more). A measured
    /// round keeps each kept run's sample, paired by [`partner`], and returns them; a warm-up
    /// round returns none. An error (the probe's, or `run`'s) ends the round, which keeps
    /// nothing.
    pub fn round(
        &mut self,
        open: &[usize],
        run: &mut dyn FnMut(usize, Slot, usize) -> Result<Option<Timing>>,
    ) -> Result<Vec<Kept>> {
        let round = self.rounds;
        let started = Instant::now();
        let (ceilings, cost) = match self.probe.as_mut() {
            Some(p) => p.sample()?,
            None => (Vec::new(), std::time::Duration::ZERO),
        };
        let order = order(&self.rows, open, round, self.every);
        let mut timed = Vec::with_capacity(order.len());
        for (at, &slot) in order.iter().enumerate() {
            timed.push(run(at, slot, round)?);
        }
        if let Some(p) = self.probe.as_mut() {
            p.fit(started.elapsed());
        }
        self.rounds += 1;
        if round < self.warmup {
            return Ok(Vec::new());
        }
        // A sample given again (the probe was not due) is counted once: when it was measured,
        // or in the first measured round for one measured during the warm-up.
        if !cost.is_zero() || self.ceilings.is_empty() {
            self.ceilings.extend(&ceilings);
        }
        let mut kept = Vec::new();
        for (at, slot) in order.iter().enumerate() {
            let Some(t) = timed[at] else { continue };
            self.run_s += t.wall_s;
            if !slot.kept {
                continue;
            }
            let with = partner(&order, &self.rows, at).filter(|&p| timed[p].is_some());
            let paired = with.and_then(|p| timed[p]);
            let workers = self.rows[slot.row].workers;
            let sample = Sample {
                wall_s: t.wall_s,
                cpu_s: t.cpu_s,
                baseline_s: paired.map(|p| p.wall_s),
                baseline_cpu_s: paired.and_then(|p| p.cpu_s),
                ceiling: ceilings.iter().find(|c| c.0 == workers).map(|c| c.1),
            };
            self.samples[slot.row].push(sample);
            kept.push(Kept {
                row: slot.row,
                at,
                partner: with,
                sample,
            });
        }
        Ok(kept)
    }

    /// Rounds ([`Measurement::round`]) until `stop` says the measurement is over, each of the
    /// rows it names. The first error ends the rounds; what the rounds before it kept stays in
    /// the measurement. A caller that does something after every round (`bench` writes its
    /// exports) runs the rounds itself, asking `stop` before each.
    pub fn run(
        &mut self,
        stop: &mut dyn Stopping,
        run: &mut dyn FnMut(usize, Slot, usize) -> Result<Option<Timing>>,
    ) -> Result<()> {
        while let Some(open) = stop.next(self) {
            self.round(&open, run)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::stop::Fixed;

    /// A baseline, one-worker row (pinned), rows of 2 and 4 workers.
    fn four() -> Vec<Pairing> {
        let row = |workers, pinned| Pairing {
            baseline: 0,
            workers,
            pinned,
        };
        vec![row(1, false), row(1, true), row(2, false), row(4, false)]
    }

    fn shown(order: &[Slot]) -> Vec<(usize, bool)> {
        order.iter().map(|s| (s.row, s.pinned)).collect()
    }

    #[test]
    fn every_row_runs_beside_a_baseline_run_it_is_paired_with() {
        let rows = four();
        let all = [0, 1, 2, 3];
        let o = order(&rows, &all, 0, Some(2));
        assert_eq!(
            shown(&o),
            [
                (0, false),
                (2, false),
                (3, false),
                (0, false),
                (0, true),
                (0, true),
                (1, true)
            ]
        );
        let partners: Vec<Option<usize>> = (0..o.len()).map(|at| partner(&o, &rows, at)).collect();
        // The 2 workers pair with the baseline run just before them, the 4 with the one just
        // after; the pinned row with the pinned run just before it, not the settling run; the
        // second free baseline run with the first.
        assert_eq!(
            partners,
            [None, Some(0), Some(3), Some(0), None, None, Some(5)]
        );
        assert!(!o[4].kept && !o[5].kept && o[6].kept);
        // Odd rounds turn the free runs round; the pinned ones keep their order.
        let odd = order(&rows, &all, 1, Some(2));
        assert_eq!(
            shown(&odd),
            [
                (0, false),
                (3, false),
                (2, false),
                (0, false),
                (0, true),
                (0, true),
                (1, true)
            ]
        );
    }

    #[test]
    fn one_baseline_run_a_round_serves_every_row() {
        let rows = four()
            .into_iter()
            .map(|r| Pairing { pinned: false, ..r })
            .collect::<Vec<_>>();
        let o = order(&rows, &[0, 1, 2, 3], 0, None);
        assert_eq!(shown(&o), [(0, false), (1, false), (2, false), (3, false)]);
        assert!((1..4).all(|at| partner(&o, &rows, at) == Some(0)));
        // The baseline has no A/A partner then.
        assert_eq!(partner(&o, &rows, 0), None);
        // A round of some rows runs their baseline too; in an odd round, last.
        let o = order(&rows, &[3], 1, None);
        assert_eq!(shown(&o), [(3, false), (0, false)]);
        assert_eq!(partner(&o, &rows, 0), Some(1));
    }

    #[test]
    fn a_measurement_keeps_paired_samples_of_its_measured_rounds_only() {
        let rows = four();
        let mut m = Measurement::new(rows, Some(2), 1, None);
        let mut calls = 0;
        m.run(&mut Fixed { rounds: 3 }, &mut |_, slot, round| {
            calls += 1;
            let wall_s = [1.0, 1.0, 0.5, 0.25][slot.row] * (1.0 + round as f64);
            Ok(Some(Timing {
                wall_s,
                cpu_s: None,
            }))
        })
        .unwrap();
        // One warm-up round and three measured, seven runs each.
        assert_eq!(calls, 4 * 7);
        assert_eq!(m.measured(), 3);
        // Two free baseline runs a round kept, the pinned ones partners only.
        assert_eq!(m.samples(0).len(), 6);
        assert_eq!(m.samples(1).len(), 3);
        let two = crate::measure::Figures::of(m.samples(2));
        assert_eq!(two.speedup.unwrap().value, 2.0);
        let four = crate::measure::Figures::of(m.samples(3));
        assert_eq!(four.speedup.unwrap().value, 4.0);
    }

    #[test]
    fn a_pinned_pair_shares_its_cpu_so_a_slow_cpu_cancels() {
        // Two vCPUs, the second 1.4x slower. A one-worker row as fast as its baseline, held with
        // its baseline to CPU `round % 2`; the free baseline runs land on either CPU by chance.
        let rows = vec![
            Pairing {
                baseline: 0,
                workers: 1,
                pinned: false,
            },
            Pairing {
                baseline: 0,
                workers: 1,
                pinned: true,
            },
        ];
        let mut m = Measurement::new(rows, Some(2), 0, None);
        let mut chance = 0u64;
        m.run(&mut Fixed { rounds: 12 }, &mut |_, slot, round| {
            chance = crate::kernels::pi::splitmix64(chance + 1);
            let cpu = if slot.pinned {
                round % 2
            } else {
                (chance % 2) as usize
            };
            let slow = if cpu == 1 { 1.4 } else { 1.0 };
            Ok(Some(Timing {
                wall_s: slow,
                cpu_s: Some(slow),
            }))
        })
        .unwrap();
        let f = crate::measure::Figures::of(m.samples(1));
        let e = f.judged().unwrap();
        assert_eq!((e.value, e.low, e.high), (1.0, 1.0, 1.0), "{f:?}");
        assert_eq!(m.samples(1).len(), 12);
    }

    #[test]
    fn a_failed_run_leaves_its_partners_unpaired_and_an_error_ends_the_round() {
        let rows = four();
        let mut m = Measurement::new(rows, None, 0, None);
        let kept = m
            .round(&[0, 2, 3], &mut |_, slot, _| {
                Ok((slot.row != 0).then_some(Timing {
                    wall_s: 1.0,
                    cpu_s: None,
                }))
            })
            .unwrap();
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().all(|k| k.sample.baseline_s.is_none()));
        let err = m.round(&[2], &mut |_, _, _| {
            Err(crate::Error::invalid("workers", "0", "at least 1"))
        });
        assert!(err.is_err());
        assert_eq!((m.rounds(), m.samples(2).len()), (1, 1));
    }
}
