//! What a GIL model reports about a run.
//!
//! The lock's holder keeps a [`Ledger`]: at every acquisition and release it notes the time,
//! the thread and why it let go. Since only the holder writes, the ledger sees holds in their
//! true order, which gives the turns, the hand-offs between threads, and a direct check of
//! mutual exclusion: no hold may start before the previous one ended. A turn is one hold, except
//! that a thread which let go at a check point and won the lock straight back (Python 2's
//! release and re-acquire) is still in the same turn. Memory stays bounded however many holds a
//! run has: turn lengths are kept in a uniform sample of at most [`SAMPLE`] turns (exact below
//! that), plus the exact count and maximum.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Record, Release};
use crate::kernels::pi::splitmix64;
use crate::stats;

/// Most turn lengths kept for the percentiles.
pub(crate) const SAMPLE: usize = 1 << 16;

/// The lock holder's log of a run.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    acquisitions: u64,
    handoffs: u64,
    violations: u64,
    /// The last release: when, by whom, why.
    last: Option<(Instant, usize, Release)>,
    /// Start of the current turn.
    turn_start: Option<Instant>,
    /// Turns seen, and a uniform sample of their lengths (reservoir sampling).
    turns: u64,
    sample: Vec<Duration>,
    longest: Duration,
}

impl Ledger {
    /// Thread `thread` acquired the lock at `now`.
    pub fn acquired(&mut self, thread: usize, now: Instant) {
        self.acquisitions += 1;
        match self.last {
            Some((end, prev, why)) => {
                if now < end {
                    self.violations += 1;
                }
                if prev == thread && why == Release::CheckPoint {
                    return; // the same turn goes on
                }
                self.close_turn(end);
                if prev != thread {
                    self.handoffs += 1;
                }
                self.turn_start = Some(now);
            }
            None => self.turn_start = Some(now),
        }
    }

    /// Thread `thread` releases the lock at `now` for `why`.
    pub fn released(&mut self, thread: usize, now: Instant, why: Release) {
        self.last = Some((now, thread, why));
    }

    fn close_turn(&mut self, end: Instant) {
        let Some(start) = self.turn_start.take() else {
            return;
        };
        let d = end.saturating_duration_since(start);
        self.longest = self.longest.max(d);
        self.turns += 1;
        if self.sample.len() < SAMPLE {
            self.sample.push(d);
        } else {
            let j = (splitmix64(self.turns) % self.turns) as usize;
            if j < SAMPLE {
                self.sample[j] = d;
            }
        }
    }

    /// The statistics of the run, with the threads' own counters.
    pub fn finish(
        &mut self,
        model: &'static str,
        threads: usize,
        elapsed: Duration,
        records: &[Record],
    ) -> GilStats {
        if let Some((end, _, _)) = self.last {
            self.close_turn(end);
        }
        let turns: Vec<f64> = self.sample.iter().map(Duration::as_secs_f64).collect();
        let secs = elapsed.as_secs_f64();
        GilStats {
            model,
            threads,
            elapsed_s: secs,
            acquisitions: self.acquisitions + records.iter().map(|r| r.retakes).sum::<u64>(),
            handoffs: self.handoffs,
            handoffs_per_s: if secs > 0.0 {
                self.handoffs as f64 / secs
            } else {
                0.0
            },
            hold_median_s: stats::median(&turns),
            hold_p90_s: stats::quantile(&turns, 0.9),
            hold_max_s: self.longest.as_secs_f64(),
            forced_drops: records.iter().map(|r| r.forced).sum(),
            voluntary_drops: records.iter().map(|r| r.voluntary).sum(),
            drop_requests: records.iter().map(|r| r.requests).sum(),
            wait_s: records.iter().map(|r| r.waited.as_secs_f64()).sum(),
            violations: self.violations + records.iter().map(|r| r.violations).sum::<u64>(),
        }
    }
}

/// Statistics of one run under a GIL model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GilStats {
    /// The model: `gil` or `gil-legacy`.
    pub model: &'static str,
    /// Threads that ran.
    pub threads: usize,
    /// Wall time of the run, seconds.
    pub elapsed_s: f64,
    /// Times any thread acquired the lock.
    pub acquisitions: u64,
    /// Times the lock passed from one thread to another.
    pub handoffs: u64,
    /// Hand-offs per second of wall time.
    pub handoffs_per_s: f64,
    /// Median time a thread kept the lock per turn, seconds.
    pub hold_median_s: f64,
    /// 90th percentile of the time per turn, seconds.
    pub hold_p90_s: f64,
    /// Longest turn, seconds.
    pub hold_max_s: f64,
    /// Releases at kernel check points (drop requests, or the legacy check interval).
    pub forced_drops: u64,
    /// Releases around blocking calls and at thread exit.
    pub voluntary_drops: u64,
    /// Drop requests set by threads that waited a whole interval (`gil` only).
    pub drop_requests: u64,
    /// Time threads spent waiting for the lock, summed over threads, seconds.
    pub wait_s: f64,
    /// Times two holds overlapped or a check point found another holder: always 0 unless
    /// the model is broken.
    pub violations: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds holds (start ms, end ms, thread, why) to a ledger.
    fn ledger(holds: &[(u64, u64, usize, Release)]) -> GilStats {
        let t0 = Instant::now();
        let ms = |x| t0 + Duration::from_millis(x);
        let mut l = Ledger::default();
        for &(a, b, t, why) in holds {
            l.acquired(t, ms(a));
            l.released(t, ms(b), why);
        }
        l.finish("gil", 2, Duration::from_millis(100), &[])
    }

    #[test]
    fn turns_merge_check_point_regains_and_count_handoffs() {
        use Release::*;
        let s = ledger(&[
            (0, 5, 0, CheckPoint),
            (5, 10, 0, CheckPoint),
            (10, 20, 1, CheckPoint),
            (20, 25, 0, Exit),
        ]);
        assert_eq!(s.acquisitions, 4);
        assert_eq!(s.handoffs, 2);
        assert_eq!(s.violations, 0);
        // Turns: 0..10 (thread 0), 10..20 (thread 1), 20..25 (thread 0).
        assert!((s.hold_median_s - 0.010).abs() < 1e-9, "{s:?}");
        assert!((s.hold_max_s - 0.010).abs() < 1e-9);
    }

    #[test]
    fn a_blocking_release_ends_the_turn() {
        let s = ledger(&[(0, 2, 0, Release::Blocking), (10, 12, 0, Release::Exit)]);
        assert_eq!(s.handoffs, 0);
        assert!((s.hold_max_s - 0.002).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn overlapping_holds_are_violations() {
        let s = ledger(&[(0, 10, 0, Release::Exit), (5, 12, 1, Release::Exit)]);
        assert_eq!(s.violations, 1);
    }

    #[test]
    fn memory_stays_bounded_over_many_turns() {
        let t0 = Instant::now();
        let mut l = Ledger::default();
        for k in 0..(3 * SAMPLE as u64) {
            let at = t0 + Duration::from_micros(2 * k);
            l.acquired((k % 2) as usize, at);
            l.released(
                (k % 2) as usize,
                at + Duration::from_micros(1),
                Release::Blocking,
            );
        }
        let s = l.finish("gil", 2, Duration::from_secs(1), &[]);
        assert_eq!(l.sample.len(), SAMPLE);
        assert_eq!(s.handoffs, 3 * SAMPLE as u64 - 1);
        assert!((s.hold_median_s - 1e-6).abs() < 1e-9, "{s:?}");
    }
}
