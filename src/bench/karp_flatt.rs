//! The Karp-Flatt metric: the serial fraction a speedup implies, and what its course over the
//! worker counts says about why a curve bends.
//!
//! With `W` workers and speedup `S`, the experimentally determined serial fraction is
//! `e = (1/S - 1/W) / (1 - 1/W)` (Karp and Flatt, 1990). If `e` stays flat as `W` grows, a
//! fixed serial part bounds the speedup (Amdahl); if it grows, the cost is overhead that grows
//! with the workers (start-up, dispatch, contention, workers sharing CPUs).

use std::collections::BTreeMap;

use super::schema::{BenchCell, BenchReport};
use crate::stats::{Estimate, Side};

/// The widest interval of a serial fraction that may be called flat: wider, and two worker
/// counts' intervals overlap whatever the truth.
const FLAT_WIDTH: f64 = 0.1;

/// The serial fraction of `speedup` at `workers` (more than one), with the interval the
/// speedup's interval maps to: `e` falls as `S` rises, so the ends swap.
pub fn karp_flatt(speedup: &Estimate, workers: usize) -> Option<Estimate> {
    if workers < 2 || speedup.low <= 0.0 {
        return None;
    }
    let w = workers as f64;
    let e = |s: f64| (1.0 / s - 1.0 / w) / (1.0 - 1.0 / w);
    Some(Estimate {
        value: e(speedup.value),
        low: e(speedup.high),
        high: e(speedup.low),
    })
}

/// One sentence per backend (per kernel, range and split) measured at two or more worker
/// counts above 1: whether the serial fraction stays flat or grows with the workers.
pub fn trends(report: &BenchReport) -> Vec<String> {
    let mut groups: BTreeMap<Group, Vec<(usize, Estimate)>> = BTreeMap::new();
    for c in report.cells.iter().filter(|c| !c.baseline) {
        if let Some(e) = c.karp_flatt {
            groups.entry(group_of(c)).or_default().push((c.workers, e));
        }
    }
    let cpus = report.machine.available_parallelism;
    let several_jobs = groups
        .keys()
        .map(|(k, r, s, _)| (k, r, s))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    groups
        .into_iter()
        .filter(|(_, points)| points.len() >= 2)
        .map(|((kernel, (start, end), _, backend), mut points)| {
            points.sort_by_key(|p| p.0);
            let who = if several_jobs {
                format!("{backend} on {kernel} {start}..{end}")
            } else {
                backend
            };
            sentence(&who, &points, cpus)
        })
        .collect()
}

/// Kernel, range (start, end: sorted by size), split, backend.
type Group = (String, (u64, u64), String, String);

fn group_of(c: &BenchCell) -> Group {
    (
        c.kernel.clone(),
        (c.range.start, c.range.end),
        c.split.clone(),
        c.backend.to_string(),
    )
}

/// The sentence for one backend's serial fractions, sorted by workers (two or more).
fn sentence(who: &str, points: &[(usize, Estimate)], cpus: usize) -> String {
    let (w0, first) = points[0];
    let (w1, last) = points[points.len() - 1];
    let span = format!(
        "{:.3} ({:.3}-{:.3}) at {w0} workers, {:.3} ({:.3}-{:.3}) at {w1}",
        first.value, first.low, first.high, last.value, last.low, last.high
    );
    // The two ends' intervals apart means a real change; overlapping means flat, when both
    // are narrow enough to say so.
    let grows = last.side_of(first.high) == Side::Above;
    let falls = last.side_of(first.low) == Side::Below;
    let narrow = points.iter().all(|(_, e)| e.high - e.low <= FLAT_WIDTH);
    if points.iter().any(|(_, e)| e.value >= 1.0) {
        format!(
            "{who}: no faster than one sequential worker at some worker count ({span}): its \
             serial fraction cannot tell a serial part from overhead."
        )
    } else if grows {
        let shared = if w1 > cpus {
            format!(
                "; beyond {cpus} workers they share the machine's {cpus} CPUs, which alone makes \
                 it grow"
            )
        } else {
            String::new()
        };
        format!(
            "{who}: the serial fraction grows with workers, {span}: overhead that grows with \
             the workers, not a fixed serial part{shared}."
        )
    } else if falls {
        format!(
            "{who}: the serial fraction falls as workers are added, {span}: no fixed serial \
             part; the smaller worker counts paid a cost the larger ones hide."
        )
    } else if !narrow {
        format!(
            "{who}: the serial fraction's intervals are too wide to tell whether it stays flat \
             or grows with workers, {span}; measure more rounds."
        )
    } else {
        format!(
            "{who}: the serial fraction stays flat, {span}: a fixed serial part of about {:.1}% \
             bounds the speedup (at most {:.1}x however many workers).",
            first.value.max(0.0) * 100.0,
            if first.value > 0.0 {
                1.0 / first.value
            } else {
                f64::INFINITY
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(value: f64, low: f64, high: f64) -> Estimate {
        Estimate { value, low, high }
    }

    #[test]
    fn trends_speak_of_backends_at_two_worker_counts_or_more() {
        use crate::backend::BackendKind::{Pool, Sequential, Threads};
        use crate::bench::baseline::tests::{cell, report};
        let with = |backend, workers: usize, s: Estimate| {
            let mut c = cell(backend, workers, &[0.1], Some(2.0));
            c.karp_flatt = karp_flatt(&s, workers);
            c
        };
        let r = report(vec![
            cell(Sequential, 1, &[0.2], None),
            with(Threads, 2, e(1.9, 1.88, 1.92)),
            with(Threads, 4, e(3.48, 3.45, 3.52)),
            with(Pool, 2, e(1.9, 1.88, 1.92)),
        ]);
        let said = trends(&r);
        assert_eq!(said.len(), 1, "pool ran at one worker count only: {said:?}");
        assert!(
            said[0].starts_with("threads: the serial fraction stays flat"),
            "{said:?}"
        );
    }

    #[test]
    fn the_serial_fraction_of_known_speedups() {
        // Amdahl with a 10% serial part at 4 workers: S = 1 / (0.1 + 0.9 / 4).
        let s = 1.0 / (0.1 + 0.9 / 4.0);
        let k = karp_flatt(&Estimate::exact(s), 4).unwrap();
        assert!((k.value - 0.1).abs() < 1e-12, "{k:?}");
        // A perfect speedup has no serial part; no speedup at all is all serial.
        assert!(karp_flatt(&Estimate::exact(2.0), 2).unwrap().value.abs() < 1e-12);
        assert!((karp_flatt(&Estimate::exact(1.0), 8).unwrap().value - 1.0).abs() < 1e-12);
        assert_eq!(karp_flatt(&Estimate::exact(1.0), 1), None);
    }

    #[test]
    fn the_interval_comes_from_the_speedups_ends_swapped() {
        let k = karp_flatt(&e(1.8, 1.7, 1.9), 2).unwrap();
        let at = |s: f64| 2.0 / s - 1.0;
        assert!((k.value - at(1.8)).abs() < 1e-12);
        assert!((k.low - at(1.9)).abs() < 1e-12 && (k.high - at(1.7)).abs() < 1e-12);
        assert!(k.low < k.value && k.value < k.high, "{k:?}");
    }

    #[test]
    fn a_fixed_serial_part_stays_flat_and_overhead_grows() {
        let amdahl = |w: f64| {
            let s = 1.0 / (0.05 + 0.95 / w);
            e(s, s * 0.98, s * 1.02)
        };
        let flat: Vec<_> = [2, 4, 8]
            .map(|w| (w, karp_flatt(&amdahl(w as f64), w).unwrap()))
            .to_vec();
        let words = sentence("threads", &flat, 8);
        assert!(words.contains("stays flat"), "{words}");
        assert!(words.contains("about 5.0%"), "{words}");
        // Overhead proportional to workers: T(W) = 1/W + 0.02 W.
        let grow: Vec<_> = [2, 4, 8]
            .map(|w| {
                let s = 1.0 / (1.0 / w as f64 + 0.02 * w as f64);
                (w, karp_flatt(&e(s, s * 0.98, s * 1.02), w).unwrap())
            })
            .to_vec();
        let words = sentence("processes", &grow, 4);
        assert!(words.contains("grows with workers"), "{words}");
        assert!(words.contains("share the machine's 4 CPUs"), "{words}");
        // Wide overlapping intervals say nothing either way; no speedup reads as none.
        let wide = [(2, e(0.3, 0.1, 0.5)), (4, e(0.35, 0.2, 0.6))];
        assert!(sentence("pool", &wide, 4).contains("too wide to tell"));
        let none = [(2, e(1.1, 0.9, 1.3)), (4, e(0.35, 0.3, 0.4))];
        assert!(sentence("gil", &none, 4).contains("no faster than one sequential worker"));
    }
}
