//! The break-even: from one backend's runs at two or more job sizes, the smallest job at which
//! it reaches 90% of the machine's ceiling, and for a `chunks` split a bound on the chunk size
//! below which dispatch would cost more than 10% of the time.
//!
//! Over the sizes measured, the cell's median wall time `Tp` is fitted as a straight line of
//! the sequential median `T1` of the same job: `Tp = a + b T1` (least squares), `a` the fixed
//! cost of a parallel run (start, hand-out, join) and `b` the time per unit of sequential work.
//! The share of the ceiling `C` reached is `T1 / (Tp C)`, which reaches 90% at
//! `T1 = 0.9 C a / (1 - 0.9 C b)`; it is never reached when `1/b`, the speedup of an endless
//! job, is under 90% of the ceiling. Sizes are sequential seconds, so the answer holds for any
//! kernel; it is only given when it lies within a factor of ten of the sizes measured.
//!
//! The GPU is not bounded by the CPUs' ceiling, so its break-even is against the CPUs
//! themselves: its line `Tp = a + b T1` against the line of the fastest CPU cell measured
//! beside it at the same sizes (the one with the least time per unit of work `b`; the
//! sequential baseline is `Tp = T1`). They cross at `T1 = (a_gpu - a_cpu) / (b_cpu - b_gpu)`:
//! the GPU wins from there on when its slope is the smaller, and up to there when it is the
//! larger.

use std::collections::BTreeMap;

use super::schema::{BenchCell, BenchReport};
use crate::stats::median;
use crate::units::seconds;

/// The share of the ceiling the break-even asks for.
const TARGET: f64 = 0.9;
/// A cell whose speedup interval is wider than this share of it (+-) is left out of the fit.
const NOISY: f64 = 0.15;
/// How far beyond the sizes measured the fit is trusted (a factor on either side).
const REACH: f64 = 10.0;

/// One sentence per backend and worker count (above 1) measured at two or more sizes; none
/// when no backend was.
pub fn sentences(report: &BenchReport) -> Vec<String> {
    // (kernel, split, backend, workers) -> (sequential median, cell median, ceiling) per size.
    let mut groups: BTreeMap<(String, String, String, usize), Vec<Point>> = BTreeMap::new();
    for c in report.cells.iter().filter(|c| !c.baseline && c.workers > 1) {
        let Some(base) = report.cells.iter().find(|b| b.baseline && same_job(b, c)) else {
            continue;
        };
        let (Some(tp), Some(t1), Some(ceiling), Some(s)) =
            (c.wall, base.wall, c.ceiling, c.speedup)
        else {
            continue;
        };
        // A fit through noisy points would say more than the data do.
        if s.relative_half_width() > NOISY {
            continue;
        }
        groups
            .entry((
                c.kernel.clone(),
                c.split.clone(),
                c.backend.to_string(),
                c.workers,
            ))
            .or_default()
            .push((t1.median, tp.median, ceiling.value));
    }
    let mut out = Vec::new();
    out.extend(gpu_sentences(report));
    for ((kernel, split, backend, workers), points) in groups {
        let who = format!("{backend} x{workers} on {kernel}");
        out.extend(break_even(&points).map(|b| b.sentence(&who)));
        let chunk = split
            .strip_prefix("chunks:")
            .and_then(|n| n.parse::<u64>().ok());
        out.extend(chunk.and_then(|size| dispatch_bound(&points, size, &who)));
    }
    out
}

/// For a `chunks:SIZE` split: the chunk size below which dispatch would cost more than 10% of
/// the time, if all of the cost per unit of work above the ceiling's were dispatch (an upper
/// bound: a cost that does not shrink with larger chunks only lowers it). With `b` the fitted
/// time per sequential second and `C` the ceiling, the excess `bC - 1` shrinks as 1/size, and
/// its share passes 10% below `9 (bC - 1) SIZE`. Nothing when the fit finds no excess.
fn dispatch_bound(points: &[Point], size: u64, who: &str) -> Option<String> {
    let (_, b, c) = fit(points)?;
    let excess = b * c - 1.0;
    if excess <= 0.0 {
        return None;
    }
    let below = 9.0 * excess * size as f64;
    Some(format!(
        "{who}, chunks of {size}: the time per unit of work is {:.0}% above the ceiling's; if all \
         of that is dispatch, chunks below about {below:.0} indices would spend more than 10% of \
         the time on it (an upper bound).",
        excess * 100.0
    ))
}

/// Cells of one kernel, split, backend and worker count.
type Group = (String, String, &'static str, usize);

/// One sentence per GPU worker count measured at two or more sizes: the size from which it
/// is faster than the fastest CPU cell measured beside it (see the module doc).
fn gpu_sentences(report: &BenchReport) -> Vec<String> {
    let gpu = crate::backend::BackendKind::Gpu.name();
    let mut groups: BTreeMap<Group, Vec<(f64, f64)>> = BTreeMap::new();
    for c in report.cells.iter().filter(|c| !c.baseline) {
        let Some(base) = report.cells.iter().find(|b| b.baseline && same_job(b, c)) else {
            continue;
        };
        let (Some(tp), Some(t1), Some(s)) = (c.wall, base.wall, c.speedup) else {
            continue;
        };
        if s.relative_half_width() > NOISY {
            continue;
        }
        groups
            .entry((
                c.kernel.clone(),
                c.split.clone(),
                c.backend.name(),
                c.workers,
            ))
            .or_default()
            .push((t1.median, tp.median));
    }
    let mut out = Vec::new();
    for ((kernel, split, backend, workers), points) in &groups {
        if *backend != gpu {
            continue;
        }
        let Some(mine) = line(points) else { continue };
        let sizes = sizes_of(points);
        // The sequential baseline is a rival at every size; the CPU cells at the same sizes
        // as the GPU's are too, and the fastest for large jobs (the least slope) is the one.
        let mut rival = ("sequential x1".to_string(), (0.0, 1.0));
        for ((k, sp, b, w), theirs) in &groups {
            if *b == gpu || k != kernel || sp != split {
                continue;
            }
            let same_sizes = points.iter().all(|p| {
                theirs
                    .iter()
                    .any(|q| (q.0 - p.0).abs() <= 1e-12 * p.0.abs())
            });
            if let Some(l) = line(theirs).filter(|_| same_sizes)
                && l.1 < rival.1.1
            {
                rival = (format!("{b} x{w}"), l);
            }
        }
        let who = format!("gpu x{workers} on {kernel}");
        out.push(crossing(mine, rival.1, sizes).sentence(&who, &rival.0));
    }
    out
}

/// Where the GPU's line `gpu` crosses its rival's `cpu`, over points whose sizes run from
/// `lo` to `hi`.
fn crossing(gpu: (f64, f64), cpu: (f64, f64), (lo, hi): (f64, f64)) -> Crossing {
    let (ag, bg) = gpu;
    let (ac, bc) = cpu;
    if bg >= bc {
        // Not faster per unit of work: faster only while its fixed cost is the smaller.
        if ag >= ac {
            return Crossing::Never(bg / bc);
        }
        let t = (ac - ag) / (bg - bc);
        return if bg == bc || t > hi * REACH {
            Crossing::Everywhere(lo)
        } else if t < lo / REACH {
            Crossing::Never(bg / bc)
        } else {
            Crossing::Until(t)
        };
    }
    let t = (ag - ac) / (bc - bg);
    if t < lo / REACH {
        Crossing::Everywhere(lo)
    } else if t > hi * REACH {
        Crossing::Beyond(hi)
    } else {
        Crossing::From(t)
    }
}

/// What the lines of the GPU and its fastest CPU rival say.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Crossing {
    /// Faster from this much sequential work on, in seconds.
    From(f64),
    /// Faster up to this much sequential work, slower beyond.
    Until(f64),
    /// Faster over the whole reach of the fit, from the smallest size measured.
    Everywhere(f64),
    /// Never faster; for large jobs its time tends to this multiple of the rival's.
    Never(f64),
    /// Faster only beyond the largest size measured by more than [`REACH`].
    Beyond(f64),
}

impl Crossing {
    fn sentence(self, who: &str, rival: &str) -> String {
        let fits = "(straight-line fits of both wall times over the sizes measured)";
        match self {
            Crossing::From(t) => format!(
                "{who}: faster than {rival} from about {} of sequential work on {fits}.",
                seconds(t)
            ),
            Crossing::Until(t) => format!(
                "{who}: faster than {rival} up to about {} of sequential work, slower beyond \
                 {fits}.",
                seconds(t)
            ),
            Crossing::Everywhere(t) => format!(
                "{who}: faster than {rival} already at the smallest job measured, {} of \
                 sequential work {fits}.",
                seconds(t)
            ),
            Crossing::Never(r) => format!(
                "{who}: never faster than {rival}; however large the job, it takes about {r:.2}x \
                 its time {fits}."
            ),
            Crossing::Beyond(t) => format!(
                "{who}: would be faster than {rival} only far beyond the largest job measured \
                 ({} of sequential work); measure larger ones.",
                seconds(t)
            ),
        }
    }
}

/// The smallest and largest sequential time of `points` `(T1, Tp)`.
fn sizes_of(points: &[(f64, f64)]) -> (f64, f64) {
    points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        })
}

/// The least-squares line `Tp = a + b T1` through `points` `(T1, Tp)`: `(a, b)`; none for
/// fewer than two sizes, sizes too close, or a line that does not rise.
fn line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let (lo, hi) = sizes_of(points);
    // Two sizes within 20% of each other cannot separate a fixed cost from a slope.
    if points.len() < 2 || hi <= lo * 1.2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let b = sxy / sxx;
    (b > 0.0).then_some((my - b * mx, b))
}

fn same_job(a: &BenchCell, b: &BenchCell) -> bool {
    a.kernel == b.kernel && a.range == b.range && a.split == b.split
}

/// One size of one cell: the sequential median, the cell's median, and its ceiling.
type Point = (f64, f64, f64);

/// What the fit says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BreakEven {
    /// 90% of the ceiling from this much sequential work on, in seconds.
    At(f64),
    /// Already at the smallest size measured and the fit finds no fixed cost to amortise.
    Everywhere(f64),
    /// Never: an endless job reaches this share of the ceiling.
    Never(f64),
    /// Beyond the sizes measured by more than [`REACH`]: the largest size measured.
    Beyond(f64),
}

impl BreakEven {
    fn sentence(self, who: &str) -> String {
        match self {
            BreakEven::At(t) => format!(
                "{who}: reaches {:.0}% of the machine's ceiling from about {} of sequential work \
                 on (a straight-line fit of its wall time over the sizes measured).",
                TARGET * 100.0,
                seconds(t)
            ),
            BreakEven::Everywhere(t) => format!(
                "{who}: reaches {:.0}% of the machine's ceiling already at the smallest job \
                 measured, {} of sequential work (a straight-line fit of its wall time over the \
                 sizes measured).",
                TARGET * 100.0,
                seconds(t)
            ),
            BreakEven::Never(share) => format!(
                "{who}: never reaches {:.0}% of the machine's ceiling; however large the job, it \
                 tends to {:.0}% of it.",
                TARGET * 100.0,
                share * 100.0
            ),
            BreakEven::Beyond(t) => format!(
                "{who}: would reach {:.0}% of the machine's ceiling only far beyond the largest \
                 job measured ({} of sequential work); measure larger ones.",
                TARGET * 100.0,
                seconds(t)
            ),
        }
    }
}

/// The smallest and largest sequential time of `points`.
fn sizes(points: &[Point]) -> (f64, f64) {
    points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        })
}

/// The least-squares line `Tp = a + b T1` through `points` and their median ceiling `c`:
/// `(a, b, c)`; none for fewer than two sizes, sizes too close, or a line that does not rise.
fn fit(points: &[Point]) -> Option<(f64, f64, f64)> {
    let (a, b) = line(&points.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>())?;
    let c = median(&points.iter().map(|p| p.2).collect::<Vec<_>>());
    (c > 0.0).then_some((a, b, c))
}

/// The break-even of points `(T1, Tp, ceiling)` at two or more distinct sizes.
fn break_even(points: &[Point]) -> Option<BreakEven> {
    let (lo, hi) = sizes(points);
    let (a, b, c) = fit(points)?;
    let denominator = 1.0 - TARGET * c * b;
    if denominator <= 0.0 {
        return Some(BreakEven::Never(1.0 / (b * c)));
    }
    let t = TARGET * c * a / denominator;
    Some(if a <= 0.0 || t < lo / REACH {
        BreakEven::Everywhere(lo)
    } else if t > hi * REACH {
        BreakEven::Beyond(hi)
    } else {
        BreakEven::At(t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points of a backend with fixed cost `a` and `b` per sequential second, ceiling `c`.
    fn line(a: f64, b: f64, c: f64, sizes: &[f64]) -> Vec<Point> {
        sizes.iter().map(|&t1| (t1, a + b * t1, c)).collect()
    }

    #[test]
    fn a_fixed_cost_is_amortised_at_the_size_the_algebra_gives() {
        // 2 ms to start, then perfectly parallel on a ceiling of 2: 90% of 2 at T1 = 36 ms.
        let got = break_even(&line(0.002, 0.5, 2.0, &[0.01, 0.1, 1.0])).unwrap();
        let BreakEven::At(t) = got else {
            panic!("{got:?}")
        };
        assert!((t - 0.036).abs() < 1e-9, "{t}");
        // Check the claim itself: at that size the share of the ceiling is 90%.
        assert!((t / (0.002 + 0.5 * t) / 2.0 - 0.9).abs() < 1e-9);
    }

    #[test]
    fn a_slope_under_the_ceiling_never_breaks_even() {
        // Speedup tends to 1/0.8 = 1.25 of a ceiling of 2: 62.5%.
        let got = break_even(&line(0.001, 0.8, 2.0, &[0.01, 1.0])).unwrap();
        assert_eq!(got, BreakEven::Never(0.625));
        let words = got.sentence("threads x2 on count");
        assert!(words.contains("tends to 62% of it") || words.contains("tends to 63% of it"));
    }

    #[test]
    fn one_size_or_sizes_too_close_say_nothing() {
        assert_eq!(break_even(&line(0.002, 0.5, 2.0, &[0.1])), None);
        assert_eq!(break_even(&line(0.002, 0.5, 2.0, &[0.1, 0.11])), None);
    }

    #[test]
    fn the_dispatch_bound_of_a_chunked_split() {
        // 10% above the ceiling per unit of work at chunks of 1000; all of it dispatch, it
        // grows as 1/size and passes 10% of the time below 9 * 0.1 * 1000 = 900.
        let points = line(0.001, 1.1 / 2.0, 2.0, &[0.01, 0.1, 1.0]);
        let words = dispatch_bound(&points, 1000, "pool x2 on count").unwrap();
        assert!(words.contains("10% above the ceiling's"), "{words}");
        assert!(words.contains("below about 900 indices"), "{words}");
        // Check the claim: at chunks of 900 the dispatch share is exactly 10%.
        let dispatch: f64 = 0.1 / 2.0 * 1000.0 / 900.0;
        assert!((dispatch / (1.0 / 2.0 + dispatch) - 0.1).abs() < 1e-12);
        // No excess over the ceiling: nothing to bound.
        assert!(dispatch_bound(&line(0.001, 0.5, 2.0, &[0.01, 1.0]), 1000, "x").is_none());
    }

    #[test]
    fn cells_are_grouped_by_backend_and_workers_across_sizes() {
        use crate::backend::BackendKind::{Sequential, Threads};
        use crate::bench::baseline::tests::{cell, report};
        use crate::stats::Estimate;
        // Threads x2 at two sizes: 2 ms fixed, then perfectly parallel on a ceiling of 2.
        let mut cells = Vec::new();
        for (end, t1) in [(1000, 0.01), (100_000, 1.0)] {
            let mut base = cell(Sequential, 1, &[t1], None);
            let mut two = cell(Threads, 2, &[0.002 + t1 / 2.0], Some(2.0));
            for c in [&mut base, &mut two] {
                c.range = crate::span::Span::new(0, end).unwrap();
            }
            two.speedup = Some(Estimate::exact(t1 / (0.002 + t1 / 2.0)));
            cells.extend([base, two]);
        }
        let r = report(cells.clone());
        let said = sentences(&r);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("threads x2 on count: reaches 90%"),
            "{said:?}"
        );
        assert!(said[0].contains("36.00 ms"), "{said:?}");
        // A noisy cell leaves the fit: one size left, nothing said.
        cells[3].speedup = Some(Estimate {
            value: 1.9,
            low: 1.0,
            high: 2.5,
        });
        assert!(sentences(&report(cells)).is_empty());
    }

    /// Cells of count at sequential times `t1s`: the baseline, then one cell per
    /// `(backend, workers, a, b)` with wall time `a + b T1`.
    fn lines(t1s: &[f64], of: &[(crate::backend::BackendKind, usize, f64, f64)]) -> BenchReport {
        use crate::backend::BackendKind::Sequential;
        use crate::bench::baseline::tests::{cell, report};
        use crate::stats::Estimate;
        let mut cells = Vec::new();
        for (k, &t1) in t1s.iter().enumerate() {
            let range = crate::span::Span::new(0, 1000 * 10u64.pow(k as u32)).unwrap();
            let mut base = cell(Sequential, 1, &[t1], None);
            base.range = range;
            cells.push(base);
            for &(backend, workers, a, b) in of {
                let mut c = cell(backend, workers, &[a + b * t1], None);
                c.range = range;
                c.speedup = Some(Estimate::exact(t1 / (a + b * t1)));
                cells.push(c);
            }
        }
        report(cells)
    }

    #[test]
    fn the_gpu_breaks_even_where_its_line_crosses_the_fastest_cpus() {
        use crate::backend::BackendKind::{Gpu, Pool};
        // The pool: 1 ms fixed, then twice as fast as one core. The GPU: 20 ms fixed, then
        // twenty times as fast. They cross at 19 ms / 0.45 = 42.2 ms of sequential work.
        let r = lines(
            &[0.01, 0.1, 1.0],
            &[
                (Pool, 1, 0.0005, 1.0),
                (Pool, 2, 0.001, 0.5),
                (Gpu, 2, 0.02, 0.05),
            ],
        );
        let said = sentences(&r);
        let gpu: Vec<&String> = said.iter().filter(|s| s.starts_with("gpu")).collect();
        assert_eq!(gpu.len(), 1, "{said:?}");
        assert!(
            gpu[0].starts_with("gpu x2 on count: faster than pool x2 from about 42.22 ms"),
            "{said:?}"
        );
        // Check the claim: at that size both lines give the same time.
        let t: f64 = 0.019 / 0.45;
        assert!(((0.001 + 0.5 * t) - (0.02 + 0.05 * t)).abs() < 1e-12);
        // The GPU has no ceiling: no sentence about one.
        assert!(!gpu[0].contains("ceiling"), "{said:?}");
    }

    #[test]
    fn a_gpu_slower_per_unit_of_work_never_breaks_even() {
        use crate::backend::BackendKind::{Gpu, Pool};
        let r = lines(&[0.01, 1.0], &[(Pool, 2, 0.001, 0.5), (Gpu, 2, 0.002, 0.6)]);
        let said = sentences(&r);
        assert!(
            said.iter().any(
                |s| s.starts_with("gpu x2 on count: never faster than pool x2")
                    && s.contains("about 1.20x its time")
            ),
            "{said:?}"
        );
        // Without CPU cells beside it, the rival is the sequential baseline.
        let r = lines(&[0.01, 1.0], &[(Gpu, 1, 0.005, 0.1)]);
        let said = sentences(&r);
        assert_eq!(said.len(), 1, "{said:?}");
        // 5 ms fixed against 0.9 of each sequential second saved: 5.56 ms.
        assert!(
            said[0].starts_with("gpu x1 on count: faster than sequential x1 from about 5.56 ms"),
            "{said:?}"
        );
        // Faster while small, slower once large: 1 ms against 10 ms fixed, 0.9 against 0.5.
        let r = lines(&[0.01, 0.1], &[(Pool, 2, 0.01, 0.5), (Gpu, 4, 0.001, 0.9)]);
        let said = sentences(&r);
        assert!(
            said.iter().any(|s| s.starts_with(
                "gpu x4 on count: faster than pool x2 up to about 22.50 ms of sequential work"
            )),
            "{said:?}"
        );
    }

    #[test]
    fn gpu_crossings_far_from_the_sizes_measured_are_not_trusted() {
        let sizes = (0.01, 0.1);
        assert_eq!(
            crossing((0.0, 0.05), (0.001, 0.5), sizes),
            Crossing::Everywhere(0.01)
        );
        assert_eq!(
            crossing((10.0, 0.05), (0.001, 0.5), sizes),
            Crossing::Beyond(0.1)
        );
        // Parallel lines, the GPU below: faster everywhere; above: never.
        assert_eq!(
            crossing((0.001, 0.5), (0.002, 0.5), sizes),
            Crossing::Everywhere(0.01)
        );
        assert_eq!(
            crossing((0.003, 0.5), (0.002, 0.5), sizes),
            Crossing::Never(1.0)
        );
    }

    #[test]
    fn far_beyond_the_sizes_measured_the_fit_is_not_trusted() {
        let got = break_even(&line(1.0, 0.5, 2.0, &[0.001, 0.01])).unwrap();
        assert_eq!(got, BreakEven::Beyond(0.01));
        let got = break_even(&line(0.0, 0.5, 2.0, &[0.01, 0.1])).unwrap();
        assert_eq!(got, BreakEven::Everywhere(0.01));
    }
}
