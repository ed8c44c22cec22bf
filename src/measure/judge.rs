//! The one judge: from a speedup's interval, and what bounds it, to the words every command
//! prints.
//!
//! The words come from the interval, never from its point value:
//!
//! | interval | verdict |
//! |---|---|
//! | wholly above the CPU count's worth, or wholly above the machine's ceiling's interval (a ceiling of one sample, which has none: more than the margin above it) | [`Verdict::Artefact`] (CPU-bound work only) |
//! | wholly within [`MARGIN`] of 1 (1/1.05 to 1.05) | [`Verdict::NoFaster`] |
//! | wholly above 1 (and not within the margin) | [`Verdict::Faster`] |
//! | wholly more than the margin below 1 (under 1/1.05) | [`Verdict::Slower`] |
//! | below 1, reaching within the margin | [`Verdict::NoFaster`] (perhaps slower, by less than the margin) |
//! | holding 1, reaching no higher than [`HIDDEN_ABOVE`] | [`Verdict::NoFaster`] |
//! | holding 1 and reaching above [`HIDDEN_ABOVE`] | [`Verdict::Hidden`]: noise hides the answer |
//!
//! The margin is one of practical equivalence: two runs of the same job on a shared VM differ by
//! more than 5% from one minute to the next, a lock-bound job runs at 0.97x or 1.03x of one
//! thread as the noise falls, and no one parallelises work for 3%. So a row at 1.0 says so every
//! time, not "faster" in one run and "slower" in the next, and `python` never recommends a road
//! for a gain the margin would hide.
//!
//! An artefact is a speedup the machine could not have given: a CPU-bound job cannot run faster
//! than its CPUs allow, so a whole interval above the ceiling (what a perfectly parallel loop
//! reached at that moment), or a point value above the CPU count, says the one-thread runs met a
//! slower moment than the row's. Work that waits (sleeps, I/O) is not bound by the CPUs, and is
//! judged without [`Bounds`].

use serde::{Deserialize, Serialize};

use crate::stats::{Estimate, Side};

/// An interval lying wholly within this share of 1 (from 1/1.05 to 1.05) is "no faster", even
/// when it leaves 1 out: the margin of practical equivalence.
pub const MARGIN: f64 = 0.05;

/// An interval that holds 1 but reaches above this could hide a real gain: noise hides the
/// answer rather than showing "no faster".
pub const HIDDEN_ABOVE: f64 = 1.25;

/// A ceiling whose interval reaches no higher than this measured a scheduler's moment, not the
/// machine (see [`artefact`]).
pub const CEILING_FLOOR: f64 = 0.9;

/// An interval that holds 1 (or reaches within the margin from below) and is no wider than this
/// share of its value either side is settled: more rounds would not move it off "no faster"
/// by much.
pub const NARROW: f64 = 0.05;

/// What a speedup's interval says against 1 (the pace of the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The whole interval lies above 1, and not within [`MARGIN`] of it.
    Faster,
    /// The interval holds 1 and reaches no higher than [`HIDDEN_ABOVE`]; or lies wholly within
    /// [`MARGIN`] of 1; or lies below 1 but reaches within the margin.
    NoFaster,
    /// The whole interval lies more than [`MARGIN`] below 1 (under 1/1.05).
    Slower,
    /// The interval holds 1 and reaches above [`HIDDEN_ABOVE`]: noise hides the answer.
    Hidden,
    /// Faster than the machine could give (above its CPU count, or wholly above its ceiling):
    /// the baseline ran in a slower moment, and the figure is no finding.
    Artefact,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 5] = [
        Verdict::Faster,
        Verdict::NoFaster,
        Verdict::Slower,
        Verdict::Hidden,
        Verdict::Artefact,
    ];

    /// The verdict's word: "faster", "no faster", "slower", "noise hides it", "an artefact".
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::NoFaster => "no faster",
            Verdict::Slower => "slower",
            Verdict::Hidden => "noise hides it",
            Verdict::Artefact => "an artefact",
        }
    }

    /// True for the one verdict that lets a command call a parallel road a gain.
    pub fn is_gain(self) -> bool {
        self == Verdict::Faster
    }
}

/// What bounds a CPU-bound job's speedup: the CPUs it may use, the machine's ceiling at its
/// worker count, and the CPUs it kept busy. Work that waits is not bound by any:
/// [`Bounds::default`] (none).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    /// The CPUs the job could use (the point value may not exceed them).
    pub cpus: Option<usize>,
    /// The machine's ceiling at the job's worker count, with its interval.
    pub ceiling: Option<Estimate>,
    /// The CPUs the job's runs kept busy (CPU time over wall time), with its interval: against
    /// a one-thread run that kept one CPU busy, no faster than that (see [`artefact`]).
    pub busy: Option<Estimate>,
}

impl Bounds {
    /// Bounds of a CPU-bound job on `cpus` CPUs, beside `ceiling` where it was measured.
    pub fn cpu_bound(cpus: usize, ceiling: Option<Estimate>) -> Bounds {
        Bounds {
            cpus: Some(cpus),
            ceiling,
            busy: None,
        }
    }
}

/// Whether `speedup`'s interval lies wholly within [`MARGIN`] of 1.
pub fn within_margin(speedup: &Estimate) -> bool {
    speedup.low >= 1.0 / (1.0 + MARGIN) && speedup.high <= 1.0 + MARGIN
}

/// The bound a speedup the machine could not give lies above ([`exceeds`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exceeded {
    /// The CPU count (the point value is above it).
    Cpus(usize),
    /// The machine's ceiling (the whole interval is above its interval).
    Ceiling(Estimate),
    /// The CPUs the job's runs kept busy (the whole interval is above theirs, by more than
    /// the margin).
    Busy(Estimate),
}

impl Exceeded {
    /// The bound in words, after "above": "the 2 CPUs", "the machine's ceiling of 1.90x
    /// (1.80-2.00)", "the 0.94 (0.92-0.96) CPUs its runs kept busy".
    pub fn words(&self) -> String {
        match self {
            Exceeded::Cpus(n) => format!("the {n} CPUs"),
            Exceeded::Ceiling(c) => format!("the machine's ceiling of {}", c.ratio()),
            Exceeded::Busy(b) => format!("the {} CPUs its runs kept busy", b.figure(2, "")),
        }
    }
}

/// Which bound `speedup` lies above under `bounds`, the first of the CPU count, the ceiling
/// and the CPUs kept busy; `None` when it lies above none. Only a gain is in question (the
/// judge's words before the bounds are "faster"). A job can always run at the pace of one
/// thread, so no bound is below 1, and a ceiling that reaches no higher than
/// [`CEILING_FLOOR`] bounds nothing: its threads together counted less than one thread alone,
/// a scheduler's moment rather than the machine.
///
/// A job that kept `busy` CPUs busy runs at most that much faster than one thread that kept
/// one CPU busy: an interval wholly above the CPUs busy (by more than [`MARGIN`], and never
/// below 1) says the one-thread runs did not get a whole CPU, as on a busy machine. This bound
/// holds where every ceiling sample of the rounds was dropped.
pub fn exceeds(speedup: &Estimate, bounds: Bounds) -> Option<Exceeded> {
    if words(speedup) != Verdict::Faster {
        return None;
    }
    if let Some(cpus) = bounds.cpus
        && speedup.value > cpus as f64
    {
        return Some(Exceeded::Cpus(cpus));
    }
    // A ceiling read from one probe sample (rounds too short to earn more reuse it) has no
    // interval of its own: the margin stands for the probe's own noise.
    let reach = |c: &Estimate| match c.high > c.low {
        true => c.high,
        false => c.high * (1.0 + MARGIN),
    };
    if let Some(c) = bounds.ceiling.filter(|c| c.high >= CEILING_FLOOR)
        && speedup.low > reach(&c).max(1.0)
    {
        return Some(Exceeded::Ceiling(c));
    }
    let b = bounds.busy?;
    (speedup.low > (b.high * (1.0 + MARGIN)).max(1.0)).then_some(Exceeded::Busy(b))
}

/// Why `speedup` is an artefact under `bounds`, in words ([`exceeds`]); `None` when it is not.
pub fn artefact(speedup: &Estimate, bounds: Bounds) -> Option<String> {
    let bound = exceeds(speedup, bounds)?;
    let why = match bound {
        Exceeded::Busy(_) => "the baseline ran in a slower moment (it did not get a whole CPU)",
        _ => "the baseline ran in a slower moment",
    };
    let verb = match bound {
        Exceeded::Cpus(_) => "is",
        _ => "lies",
    };
    Some(format!(
        "{} {verb} above {}: {why}",
        speedup.ratio(),
        bound.words()
    ))
}

/// The verdict on `speedup` (a ratio of the baseline's time over the measured one) under
/// `bounds`: the one rule of the module doc.
pub fn judge(speedup: &Estimate, bounds: Bounds) -> Verdict {
    if exceeds(speedup, bounds).is_some() {
        return Verdict::Artefact;
    }
    words(speedup)
}

/// The interval's words against 1, before any bound.
fn words(speedup: &Estimate) -> Verdict {
    if within_margin(speedup) {
        return Verdict::NoFaster;
    }
    match speedup.side_of(1.0) {
        Side::Above => Verdict::Faster,
        Side::Below if speedup.high < 1.0 / (1.0 + MARGIN) => Verdict::Slower,
        Side::Below => Verdict::NoFaster,
        Side::Holds if speedup.high > HIDDEN_ABOVE => Verdict::Hidden,
        Side::Holds => Verdict::NoFaster,
    }
}

/// Whether more rounds would not change `speedup`'s words much: faster, slower, within the
/// margin, or no faster by an interval no wider than [`NARROW`] either side. An interval the
/// noise hides is not settled, nor an artefact (more rounds give the baseline other moments).
pub fn settled(speedup: &Estimate, bounds: Bounds) -> bool {
    match judge(speedup, bounds) {
        Verdict::Faster | Verdict::Slower => true,
        Verdict::NoFaster => within_margin(speedup) || speedup.relative_half_width() <= NARROW,
        Verdict::Hidden | Verdict::Artefact => false,
    }
}

/// The qualifier a "no faster" sentence adds to its figures: "less than 5% apart" when the
/// margin decided it although the interval leaves 1 out above, "slower, but perhaps by less than
/// 5%" when it lies below 1 and reaches within the margin; `None` otherwise.
pub fn no_faster_because(speedup: &Estimate) -> Option<String> {
    let pct = MARGIN * 100.0;
    if judge(speedup, Bounds::default()) != Verdict::NoFaster {
        return None;
    }
    match speedup.side_of(1.0) {
        Side::Holds => None,
        Side::Below if !within_margin(speedup) => {
            Some(format!("slower, but perhaps by less than {pct:.0}%"))
        }
        _ => Some(format!("less than {pct:.0}% apart")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceiling_of_one_sample_is_allowed_the_margin() {
        // Ten short benches: threads x2 at 1.94-1.98x beside one 15 ms probe that read 1.88x.
        let speedup = Estimate {
            value: 1.96,
            low: 1.94,
            high: 1.98,
        };
        let one = Bounds::cpu_bound(2, Some(Estimate::exact(1.88)));
        assert_eq!(judge(&speedup, one), Verdict::Faster);
        // Beyond the margin it is an artefact all the same.
        let low = Bounds::cpu_bound(2, Some(Estimate::exact(1.80)));
        assert_eq!(judge(&speedup, low), Verdict::Artefact);
        // A ceiling with an interval of its own is held to it.
        let spread = Bounds::cpu_bound(
            2,
            Some(Estimate {
                value: 1.87,
                low: 1.86,
                high: 1.88,
            }),
        );
        assert_eq!(judge(&speedup, spread), Verdict::Artefact);
    }
    use crate::stats::{self, median_interval};

    fn e(low: f64, high: f64) -> Estimate {
        Estimate {
            value: (low + high) / 2.0,
            low,
            high,
        }
    }

    fn free(x: Estimate) -> Verdict {
        judge(&x, Bounds::default())
    }

    #[test]
    fn each_interval_gets_the_words_of_the_table() {
        assert_eq!(free(e(1.8, 1.9)), Verdict::Faster);
        assert_eq!(free(e(0.5, 0.6)), Verdict::Slower);
        assert_eq!(free(e(0.9, 1.1)), Verdict::NoFaster);
        assert_eq!(free(e(0.9, 1.6)), Verdict::Hidden);
        // Within the margin, though leaving 1 out: no faster.
        assert_eq!(free(e(1.01, 1.03)), Verdict::NoFaster);
        assert_eq!(free(e(0.96, 0.99)), Verdict::NoFaster);
        // Just past the margin's edges.
        assert_eq!(free(e(1.01, 1.051)), Verdict::Faster);
        assert_eq!(free(e(0.77, 0.96)), Verdict::NoFaster);
        assert_eq!(free(e(0.77, 0.95)), Verdict::Slower);
        assert!(!within_margin(&e(0.94, 1.04)));
        assert_eq!(free(e(0.94, 1.04)), Verdict::NoFaster);
    }

    #[test]
    fn a_speedup_the_machine_could_not_give_is_an_artefact() {
        let ceiling = Estimate {
            value: 1.5,
            low: 1.4,
            high: 1.6,
        };
        let cpu = |x| judge(&x, Bounds::cpu_bound(2, Some(ceiling)));
        assert_eq!(cpu(e(1.3, 1.6)), Verdict::Faster);
        assert_eq!(cpu(e(1.8, 2.0)), Verdict::Artefact);
        let why = artefact(&e(1.8, 2.0), Bounds::cpu_bound(2, Some(ceiling))).unwrap();
        assert!(why.contains("ceiling of 1.50x (1.40-1.60)"), "{why}");
        // Above the CPU count with no ceiling measured (one worker).
        assert_eq!(
            judge(&e(2.5, 3.1), Bounds::cpu_bound(2, None)),
            Verdict::Artefact
        );
        // Work that waits is not bound by the CPUs: 4 sleeping threads on 2 CPUs.
        assert_eq!(free(e(3.8, 4.0)), Verdict::Faster);
        // Only a gain can be an artefact, and a ceiling below 1 (a probe that met a scheduler's
        // moment) bounds nothing: one thread's pace is always within reach.
        let low = Estimate {
            value: 0.43,
            low: 0.4,
            high: 0.46,
        };
        let under = |x| judge(&x, Bounds::cpu_bound(2, Some(low)));
        assert_eq!(under(e(0.98, 1.02)), Verdict::NoFaster);
        assert_eq!(under(e(1.3, 1.5)), Verdict::Faster);
        assert_eq!(under(e(0.5, 0.6)), Verdict::Slower);
    }

    #[test]
    fn synthetic_samples_get_the_words_their_truth_deserves() {
        // Bimodal: every other round ran in a slow episode that slowed both sides alike;
        // paired ratios cancel it and the true 1.9x reads faster.
        let base: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 0.17 } else { 0.34 })
            .collect();
        let cell: Vec<f64> = base.iter().map(|b| b / 1.9).collect();
        let paired = stats::paired_speedup(&base, &cell, 2000);
        assert_eq!(free(paired), Verdict::Faster);
        // Bursts: a lock-bound row at 1.0 whose rounds met three bursts on one side.
        let mut ratios = vec![1.0, 0.99, 1.01, 1.0, 0.98, 1.02, 1.0, 0.99, 1.01, 1.0];
        ratios[2] = 1.6;
        ratios[5] = 0.6;
        ratios[8] = 1.5;
        assert_eq!(free(median_interval(&ratios, 2000)), Verdict::NoFaster);
        // A slow CPU: a one-thread baseline that met the slower vCPU made a lock-bound row
        // read 1.2x by the clock; above a ceiling of 1.0 (one CPU busy at a time) it is no
        // finding.
        let ceiling = median_interval(&[1.0, 0.99, 1.01, 1.0, 1.0], 2000);
        let clock = median_interval(&[1.21, 1.2, 1.22, 1.19, 1.2], 2000);
        assert_eq!(
            judge(&clock, Bounds::cpu_bound(2, Some(ceiling))),
            Verdict::Artefact
        );
    }

    #[test]
    fn settled_rows_are_those_more_rounds_would_not_move() {
        assert!(settled(&e(1.8, 1.9), Bounds::default()));
        assert!(settled(&e(0.83, 0.94), Bounds::default()));
        assert!(settled(&e(0.97, 1.03), Bounds::default()));
        assert!(settled(
            &Estimate {
                value: 1.0,
                low: 0.951,
                high: 1.049
            },
            Bounds::default()
        ));
        assert!(!settled(&e(0.83, 1.08), Bounds::default()));
        assert!(!settled(&e(0.9, 1.6), Bounds::default()));
    }

    #[test]
    fn no_faster_sentences_say_what_decided_them() {
        assert_eq!(
            no_faster_because(&e(1.01, 1.04)).as_deref(),
            Some("less than 5% apart")
        );
        assert_eq!(
            no_faster_because(&e(0.8, 0.97)).as_deref(),
            Some("slower, but perhaps by less than 5%")
        );
        assert_eq!(no_faster_because(&e(0.9, 1.1)), None);
        assert_eq!(no_faster_because(&e(1.5, 1.7)), None);
    }

    #[test]
    fn every_verdict_has_its_own_word() {
        let mut words: Vec<&str> = Verdict::ALL.iter().map(|v| v.word()).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), Verdict::ALL.len());
    }
}
