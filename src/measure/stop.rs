//! When a measurement stops: the rule each command passes to the rounds
//! ([`Measurement::run`]). `python` runs a fixed number of rounds ([`Fixed`]), `bench` until
//! every speedup is as precise as asked or its time is up ([`Precision`]), `reproduce` until
//! every row's words are settled ([`Decided`]).

use std::time::Duration;

use super::judge::{self, Bounds};
use super::rounds::{Measurement, Stopping};
use super::sample::Figures;

/// Every row of `m`.
fn every(m: &Measurement) -> Vec<usize> {
    (0..m.rows().len()).collect()
}

/// Row `i`'s speedup as the judge reads it, where it has one.
fn judged(m: &Measurement, i: usize) -> Option<crate::stats::Estimate> {
    Figures::of(m.samples(i)).judged()
}

/// A fixed number of measured rounds of every row.
#[derive(Debug, Clone, Copy)]
pub struct Fixed {
    /// Measured rounds.
    pub rounds: usize,
}

impl Stopping for Fixed {
    fn next(&mut self, m: &Measurement) -> Option<Vec<usize>> {
        (m.warming_up() || m.measured() < self.rounds).then(|| every(m))
    }
}

/// Rounds of every row until the rounds asked for ran and every row's speedup is within
/// `precision` and every row has run for `min_time`; or after `max_time` (once the rounds
/// asked for ran), or `most` rounds, whatever else.
#[derive(Debug, Clone)]
pub struct Precision {
    /// Measured rounds at least.
    pub least: usize,
    /// Measured rounds at most.
    pub most: usize,
    /// The half-width of every judged row's interval asked for, as a share of its value.
    pub precision: Option<f64>,
    /// The wall time every row's runs must add up to.
    pub min_time: Option<Duration>,
    /// No round starts after this time, once `least` rounds ran.
    pub max_time: Option<Duration>,
    /// The rows the precision asks of (not a baseline, nor a row without work).
    pub judged: Vec<bool>,
}

impl Precision {
    /// Whether row `i`'s speedup is not yet within the precision asked.
    fn imprecise(&self, m: &Measurement, i: usize) -> bool {
        let Some(p) = self.precision.filter(|_| self.judged[i]) else {
            return false;
        };
        judged(m, i).is_some_and(|s| s.relative_half_width() > p)
    }
}

impl Stopping for Precision {
    fn next(&mut self, m: &Measurement) -> Option<Vec<usize>> {
        if m.warming_up() {
            return Some(every(m));
        }
        let measured = m.measured();
        let rows = 0..m.rows().len();
        let enough_time = self.min_time.is_none_or(|t| {
            rows.clone()
                .all(|i| m.samples(i).iter().map(|s| s.wall_s).sum::<f64>() >= t.as_secs_f64())
        });
        let precise = !rows.clone().any(|i| self.imprecise(m, i));
        let out_of_time = self.max_time.is_some_and(|t| m.elapsed() >= t);
        let done = (measured >= self.least && ((enough_time && precise) || out_of_time))
            || measured >= self.most;
        (!done).then(|| every(m))
    }
}

/// The rounds for undecided rows may take this share of the time the rounds before them took
/// (counted in the runs' own times): half as long again. As long again doubled a default
/// `reproduce` from 70 s to 150 s and still left rows within 10% of a word's edge moving.
pub const MORE_TIME: f64 = 0.5;

/// Rounds of every row: at least `least`, then more until `budget` has passed, at most `most`;
/// then rounds of the rows whose words are not settled ([`judge::settled`]) and their
/// baselines only, until every row is settled, or those rounds have taken [`MORE_TIME`] of the
/// time the rounds before took, or `most` rounds in all or twice the rounds before have run,
/// whichever is more.
#[derive(Debug, Clone, Copy)]
pub struct Decided {
    /// Fewest rounds.
    pub least: usize,
    /// Time after which no round of every row is added past `least`.
    pub budget: Duration,
    /// Most rounds of every row.
    pub most: usize,
    /// The CPU count, for CPU-bound rows (judged within [`Figures::bounds`]); `None` for work
    /// that waits.
    pub cpus: Option<usize>,
    /// The rounds of every row, and the time their runs took, once they are over.
    planned: Option<(usize, f64)>,
}

impl Decided {
    /// The rule of `least`, `budget` and `most` rounds for rows bounded by `cpus` CPUs (where
    /// CPU-bound).
    pub fn new(least: usize, budget: Duration, most: usize, cpus: Option<usize>) -> Decided {
        Decided {
            least,
            budget,
            most,
            cpus,
            planned: None,
        }
    }

    /// The rows not settled yet, with their baselines, in row order.
    fn undecided(&self, m: &Measurement) -> Vec<usize> {
        let mut open = Vec::new();
        for (i, row) in m.rows().iter().enumerate() {
            if row.baseline == i {
                continue;
            }
            let f = Figures::of(m.samples(i));
            let Some(s) = f.judged() else { continue };
            let bounds = self.cpus.map_or(Bounds::default(), |c| f.bounds(c));
            if !judge::settled(&s, bounds) {
                open.extend([row.baseline, i]);
            }
        }
        open.sort_unstable();
        open.dedup();
        open
    }
}

impl Stopping for Decided {
    fn next(&mut self, m: &Measurement) -> Option<Vec<usize>> {
        let rounds = m.measured();
        if m.warming_up() {
            return Some(every(m));
        }
        let (planned, took) = match self.planned {
            Some(p) => p,
            None if rounds < self.least || (m.elapsed() < self.budget && rounds < self.most) => {
                return Some(every(m));
            }
            None => *self.planned.insert((rounds, m.run_s())),
        };
        let cap = (2 * planned).max(self.most);
        if rounds >= cap || m.run_s() >= (1.0 + MORE_TIME) * took {
            return None;
        }
        Some(self.undecided(m)).filter(|open| !open.is_empty())
    }
}
