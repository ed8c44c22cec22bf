//! Rows measured round by round: every row of a group runs once per round, and each row's
//! speedup is the median of its per-round ratios against its family's one-thread row.
//!
//! On a shared VM the same run takes twice as long in some seconds as in others. Timing each
//! row in a block of its own lets such an episode fall on one row and not another, and a
//! speedup of two medians taken seconds apart then measures the machine. Here every round runs
//! every row of the group, forwards in one round and backwards in the next so that no row is
//! always first or last, and a row's ratio in a round is against the one-thread run of the same
//! round: what the machine did in that round weighs on both. The interval is a bootstrap over
//! the rounds ([`stats::median_interval`]), as `bench` does over its paired runs.
//!
//! When the rounds planned are over, rounds go on for the rows whose verdict is not decided
//! yet ([`verdict::decided`]: an interval that holds 1, or reaches within the margin from
//! below, and is still wide, or one the noise hides), each such round running only those rows
//! and their families' one-thread rows, until every row is decided, or the rows' runs have
//! taken half as long again, or the group's most rounds (at least twice the rounds before)
//! have run: a CPython row timed three times gets an interval of about its slowest and fastest
//! ratio, and a row losing 10% to one thread then says "no faster" or "slower" by chance.
//!
//! Before each round of CPU-bound rows the machine's ceiling is sampled
//! ([`Probe`]): a row of W > 1 workers gets the ceiling at W over its rounds, and its
//! share of it (each round's ratio over that round's ceiling).

use std::time::{Duration, Instant};

use super::row::{Spread, Variant, Who};
use super::verdict;
use crate::backend::gil::GilStats;
use crate::bench::ceiling::Probe;
use crate::error::{Error, Result};
use crate::stats;

/// Bootstrap resamples for every interval.
const BOOTSTRAP_ROUNDS: usize = 2000;

/// The rounds for undecided rows may take this share of the time the rounds before them took
/// (counted in the runs' own times): half as long again. As long again doubled a default
/// `reproduce` from 70 s to 150 s and still left rows within 10% of a word's edge moving.
const MORE_TIME: f64 = 0.5;

/// One run of a row.
#[derive(Debug, Clone)]
pub struct RowRun {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// The answer (its headline figure: indices counted, items slept).
    pub total: u128,
    /// What the GIL model saw (`gil` and `gil-legacy` rows).
    pub gil: Option<GilStats>,
    /// A remark on how the run went (e.g. CPython's start method).
    pub note: Option<String>,
    /// CPU time of the run (user and system, every thread of the job), seconds; `None` where
    /// part of it cannot be counted (worker processes this process does not reap).
    pub cpu_s: Option<f64>,
}

/// How many rounds a group runs: at least `least`, then more until `budget` has passed, at
/// most `most`; then rounds of the undecided rows only, half as long again as those at most,
/// up to `most` rounds in all or twice the rounds before, whichever is more.
#[derive(Debug, Clone, Copy)]
pub struct Rounds {
    /// Fewest rounds.
    pub least: usize,
    /// Time after which no round is added past `least`.
    pub budget: Duration,
    /// Most rounds.
    pub most: usize,
}

/// A measured row: its runs' median time, its spread and its last run.
#[derive(Debug, Clone)]
pub struct MeasuredRow {
    /// Median wall time, seconds.
    pub wall_s: f64,
    /// The speedup's interval, the ceiling and the share of it.
    pub spread: Spread,
    /// The last run (its answer, GIL statistics and note).
    pub last: RowRun,
}

/// Runs the rows `rows` round by round; `run(i, round)` runs row `i` once (`None`: the row
/// cannot run any more, e.g. its interpreter failed). `probe`, for CPU-bound rows, samples the
/// ceiling before each round. Returns each row's figures (`None` for a row that never ran), or
/// the first failure; a run whose answer differs from the row's first is a wrong answer.
pub fn measure(
    rows: &[(Who, Variant)],
    rounds: Rounds,
    mut probe: Option<&mut Probe>,
    run: &mut dyn FnMut(usize, usize) -> Result<Option<RowRun>>,
) -> Result<Vec<Option<MeasuredRow>>> {
    let started = Instant::now();
    let mut state = State {
        walls: vec![Vec::new(); rows.len()],
        cpus: vec![Vec::new(); rows.len()],
        last: vec![None; rows.len()],
        ceilings: Vec::new(),
    };
    let all: Vec<usize> = (0..rows.len()).collect();
    while state.ceilings.len() < rounds.least
        || (started.elapsed() < rounds.budget && state.ceilings.len() < rounds.most)
    {
        state.round(rows, &all, probe.as_deref_mut(), run)?;
    }
    // Rounds for the undecided rows, bounded by half as long again (counted in the runs' times,
    // so that fake runs in tests see the same bound as real ones) and by the most rounds.
    let (planned, took) = (state.ceilings.len(), state.run_time());
    let cap = (2 * planned).max(rounds.most);
    while state.ceilings.len() < cap && state.run_time() < (1.0 + MORE_TIME) * took {
        let open = state.undecided(rows);
        if open.is_empty() {
            break;
        }
        state.round(rows, &open, probe.as_deref_mut(), run)?;
    }
    Ok((0..rows.len()).map(|i| state.measured(rows, i)).collect())
}

/// What the rounds so far gave.
struct State {
    /// Per row: each round's wall time (`None` when it did not run in that round).
    walls: Vec<Vec<Option<f64>>>,
    /// Per row: each round's CPU time, where it was counted.
    cpus: Vec<Vec<Option<f64>>>,
    /// Per row: its last run.
    last: Vec<Option<RowRun>>,
    /// Per round: the ceilings sampled before it.
    ceilings: Vec<Vec<(usize, f64)>>,
}

impl State {
    /// Runs one round of the rows `which` (in that order in even rounds, reversed in odd
    /// ones), the ceiling sampled before it.
    fn round(
        &mut self,
        rows: &[(Who, Variant)],
        which: &[usize],
        mut probe: Option<&mut Probe>,
        run: &mut dyn FnMut(usize, usize) -> Result<Option<RowRun>>,
    ) -> Result<()> {
        let round = self.ceilings.len();
        let round_started = Instant::now();
        let ceilings = match probe.as_deref_mut() {
            Some(p) => p.sample()?.0,
            None => Vec::new(),
        };
        self.ceilings.push(ceilings);
        for (walls, cpus) in self.walls.iter_mut().zip(&mut self.cpus) {
            walls.push(None);
            cpus.push(None);
        }
        let mut order = which.to_vec();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let out = run(i, round)?;
            if let (Some(out), Some(first)) = (&out, &self.last[i])
                && out.total != first.total
            {
                let (who, variant) = &rows[i];
                return Err(Error::WrongAnswer {
                    what: format!("round {} of {who}, {variant}", round + 1),
                    got: out.total.to_string(),
                    expected: first.total.to_string(),
                });
            }
            self.walls[i][round] = out.as_ref().map(|r| r.wall_s);
            self.cpus[i][round] = out.as_ref().and_then(|r| r.cpu_s);
            if let Some(out) = out {
                self.last[i] = Some(out);
            }
        }
        if let Some(p) = probe {
            p.fit(round_started.elapsed());
        }
        Ok(())
    }

    /// The time of every run so far, seconds.
    fn run_time(&self) -> f64 {
        self.walls.iter().flatten().flatten().sum()
    }

    /// The rows whose verdict is not decided yet, with their families' one-thread rows, in
    /// row order.
    fn undecided(&self, rows: &[(Who, Variant)]) -> Vec<usize> {
        let mut open = Vec::new();
        for i in 0..rows.len() {
            let Some((base, s)) = self.spread_of(rows, i) else {
                continue;
            };
            if !verdict::decided(&s) {
                open.extend([base, i]);
            }
        }
        open.sort_unstable();
        open.dedup();
        open
    }

    /// Row `i`'s base row and its spread over the rounds so far; `None` when no round ran
    /// both.
    fn spread_of(&self, rows: &[(Who, Variant)], i: usize) -> Option<(usize, Spread)> {
        let base = base_of(rows, i)?;
        let s = spread(
            [&self.walls[i], &self.cpus[i]],
            [&self.walls[base], &self.cpus[base]],
            &self.ceilings,
            rows[i].1.workers(),
        )?;
        Some((base, s))
    }

    /// Row `i`'s figures, `None` when it never ran.
    fn measured(&self, rows: &[(Who, Variant)], i: usize) -> Option<MeasuredRow> {
        let (_, spread) = self.spread_of(rows, i)?;
        Some(MeasuredRow {
            wall_s: stats::median(&self.walls[i].iter().flatten().copied().collect::<Vec<_>>()),
            spread,
            last: self.last[i].clone()?,
        })
    }
}

/// The row of the same family with one thread: the one row `i` is compared with.
fn base_of(rows: &[(Who, Variant)], i: usize) -> Option<usize> {
    let family = rows[i].0.family();
    rows.iter()
        .position(|(w, v)| w.family() == family && *v == Variant::Threads(1))
}

/// A row's spread from its per-round `[walls, cpus]`, its base row's, and each round's
/// ceilings; `None` when no round ran both.
///
/// Where every round that ran both counted both CPU times (runs count them for CPU-bound jobs
/// only: a sleeping run's CPU time says nothing of the CPU's speed), the row also gets the CPUs
/// it kept busy (CPU time over wall time) and its speedup at equal CPU speed, and its share of
/// the ceiling is taken at equal speed too. Two runs of the same work use the same CPU time at
/// the same CPU speed, the parallel one more for its overhead. When a row's run used less CPU
/// time than the one-thread run of its round (`cpu < base_cpu`), its CPUs ran faster, by
/// `base_cpu / cpu`, and that much of its speedup is the machine's: the round's ratio is
/// divided by it. When it used more, overhead and a slower CPU look alike, and the ratio
/// stands. So a speedup at equal speed never exceeds the CPUs the row kept busy against the
/// one-thread run's: a lock that lets one thread run at a time cannot come out faster because
/// the one-thread run met the slower vCPU.
pub fn spread(
    [walls, cpus]: [&[Option<f64>]; 2],
    [base, base_cpus]: [&[Option<f64>]; 2],
    ceilings: &[Vec<(usize, f64)>],
    workers: usize,
) -> Option<Spread> {
    let paired: Vec<(usize, f64, f64)> = walls
        .iter()
        .zip(base)
        .enumerate()
        .filter_map(|(r, (w, b))| Some((r, (*w)?, (*b)?)))
        .collect();
    if paired.is_empty() {
        return None;
    }
    let cpu = |xs: &[Option<f64>], r: usize| xs.get(r).copied().flatten().filter(|&c| c > 0.0);
    let counted: Option<Vec<(f64, f64)>> = paired
        .iter()
        .map(|&(r, _, _)| Some((cpu(cpus, r)?, cpu(base_cpus, r)?)))
        .collect();
    let (mut ratios, mut equal, mut busy) = (Vec::new(), Vec::new(), Vec::new());
    let (mut shares, mut seen) = (Vec::new(), Vec::new());
    for (k, &(r, w, b)) in paired.iter().enumerate() {
        ratios.push(b / w);
        let judged = match &counted {
            Some(cs) => {
                let (c, cb) = cs[k];
                busy.push(c / w);
                b / w * (c / cb).min(1.0)
            }
            None => b / w,
        };
        equal.push(judged);
        let at = ceilings
            .get(r)
            .and_then(|c| c.iter().find(|c| c.0 == workers));
        if let Some(&(_, c)) = at.filter(|_| workers > 1) {
            seen.push(c);
            shares.push(judged / c);
        }
    }
    let bases: Vec<f64> = base.iter().flatten().copied().collect();
    let range = |xs: &[f64]| {
        (
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let interval =
        |xs: &[f64]| (!xs.is_empty()).then(|| stats::median_interval(xs, BOOTSTRAP_ROUNDS));
    Some(Spread {
        speedup: stats::median_interval(&ratios, BOOTSTRAP_ROUNDS),
        ceiling: interval(&seen),
        vs_ceiling: interval(&shares),
        ceiling_seen: (!seen.is_empty()).then(|| range(&seen)),
        base_seen: range(&bases),
        runs: walls.iter().flatten().count(),
        cpus: interval(&busy),
        at_equal_speed: counted
            .is_some()
            .then(|| stats::median_interval(&equal, BOOTSTRAP_ROUNDS)),
    })
}

#[cfg(test)]
mod tests;
