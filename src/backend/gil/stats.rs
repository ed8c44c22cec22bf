//! What a GIL model reports about a run.
//!
//! Every thread logs each interval during which it held the lock. Merged and sorted, the
//! intervals give the turns, the hand-offs between threads, and a direct check of mutual
//! exclusion: no interval may start before the previous one ended. A turn is one hold, except
//! that a thread which let go at a check point and won the lock straight back (Python 2's
//! release and re-acquire) is still in the same turn.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Record, Release};

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

impl GilStats {
    /// Merges the threads' records.
    pub fn from_records(
        model: &'static str,
        threads: usize,
        elapsed: Duration,
        records: &[Record],
    ) -> Self {
        let mut holds: Vec<(Instant, Instant, Release, usize)> = records
            .iter()
            .flat_map(|r| {
                r.holds
                    .iter()
                    .map(move |&(a, b, why)| (a, b, why, r.thread))
            })
            .collect();
        holds.sort_by_key(|h| h.0);

        let mut violations: u64 = records.iter().map(|r| r.violations).sum();
        let mut turns: Vec<Duration> = Vec::new();
        let mut handoffs = 0u64;
        // The current turn: its start, the end of its last hold, why that hold ended, whose.
        let mut current: Option<(Instant, Instant, Release, usize)> = None;
        for &(start, end, why, thread) in &holds {
            if let Some((turn_start, prev_end, prev_why, prev_thread)) = current {
                if start < prev_end {
                    violations += 1;
                }
                if thread == prev_thread && prev_why == Release::CheckPoint {
                    current = Some((turn_start, end, why, thread));
                    continue;
                }
                turns.push(prev_end - turn_start);
                if thread != prev_thread {
                    handoffs += 1;
                }
            }
            current = Some((start, end, why, thread));
        }
        if let Some((turn_start, end, _, _)) = current {
            turns.push(end - turn_start);
        }
        turns.sort();
        let pick = |q: f64| -> f64 {
            if turns.is_empty() {
                return 0.0;
            }
            let i = ((turns.len() - 1) as f64 * q).round() as usize;
            turns[i].as_secs_f64()
        };
        let secs = elapsed.as_secs_f64();
        GilStats {
            model,
            threads,
            elapsed_s: secs,
            acquisitions: holds.len() as u64,
            handoffs,
            handoffs_per_s: if secs > 0.0 {
                handoffs as f64 / secs
            } else {
                0.0
            },
            hold_median_s: pick(0.5),
            hold_p90_s: pick(0.9),
            hold_max_s: turns.last().map_or(0.0, Duration::as_secs_f64),
            forced_drops: records.iter().map(|r| r.forced).sum(),
            voluntary_drops: records.iter().map(|r| r.voluntary).sum(),
            drop_requests: records.iter().map(|r| r.requests).sum(),
            wait_s: records.iter().map(|r| r.waited.as_secs_f64()).sum(),
            violations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(thread: usize, holds: &[(u64, u64)], t0: Instant) -> Record {
        let mut r = Record::new(thread);
        r.holds = holds
            .iter()
            .map(|&(a, b)| {
                let ms = |x| t0 + Duration::from_millis(x);
                (ms(a), ms(b), Release::CheckPoint)
            })
            .collect();
        r
    }

    #[test]
    fn turns_merge_consecutive_holds_and_count_handoffs() {
        let t0 = Instant::now();
        let records = [
            rec(0, &[(0, 5), (5, 10), (20, 25)], t0),
            rec(1, &[(10, 20)], t0),
        ];
        let s = GilStats::from_records("gil", 2, Duration::from_millis(25), &records);
        assert_eq!(s.acquisitions, 4);
        assert_eq!(s.handoffs, 2);
        assert_eq!(s.violations, 0);
        // Turns: 0..10 (thread 0), 10..20 (thread 1), 20..25 (thread 0).
        assert!((s.hold_median_s - 0.010).abs() < 1e-9, "{s:?}");
        assert!((s.hold_max_s - 0.010).abs() < 1e-9);
    }

    #[test]
    fn a_blocking_release_ends_the_turn() {
        let t0 = Instant::now();
        let mut r = rec(0, &[(0, 2), (10, 12)], t0);
        r.holds[0].2 = Release::Blocking;
        let s = GilStats::from_records("gil", 1, Duration::from_millis(12), &[r]);
        assert_eq!(s.handoffs, 0);
        assert!((s.hold_max_s - 0.002).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn overlapping_holds_are_violations() {
        let t0 = Instant::now();
        let records = [rec(0, &[(0, 10)], t0), rec(1, &[(5, 12)], t0)];
        let s = GilStats::from_records("gil", 2, Duration::from_millis(12), &records);
        assert_eq!(s.violations, 1);
    }
}
