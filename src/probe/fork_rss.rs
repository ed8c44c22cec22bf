//! `fork-rss`: fork gets slower as the parent's resident memory grows; posix_spawn does not.
//! The conclusion says what the times at the smallest and the largest parent show, in the
//! judge's words ([`growth`]).
//!
//! fork copies the parent's page tables (and marks every page copy-on-write), so its cost
//! grows with the parent's resident memory; a child that then writes every page copies them
//! all. posix_spawn (vfork semantics) copies nothing. Each size is allocated and touched by
//! the parent, and refused with a clear message when the machine has too little free memory:
//! the copy-on-write case needs the size twice.

use super::figures::{MS, Stats, check_interrupt, time_reps, time_samples};
use super::fork::{exit_now, fork_child, fork_wait, reap_or_stop, spawn_true};
use super::{ProbeFigure, ProbeKind, ProbeOptions, ProbeReport, Series};
use crate::error::Result;
use crate::measure::BOOTSTRAP_ROUNDS;
use crate::measure::judge::{self, Bounds, Verdict};
use crate::measure::rusage::proc_field;
use crate::stats::{self, Estimate};

const MIB: usize = 1 << 20;
const PAGE: usize = 4096;
/// Memory left free beside the sizes measured, so that the probe never pushes the machine into
/// swapping or the OOM killer.
const HEADROOM_MIB: u64 = 256;

/// A way of starting a child: its row in the table and its line in the plot.
struct Way {
    row: &'static str,
    series: &'static str,
}

/// The ways timed at every size, in the order of [`time_at`]'s figures.
const WAYS: [Way; 3] = [
    Way {
        row: "fork + _exit + waitpid",
        series: "fork + _exit",
    },
    Way {
        row: "fork + child writes every page",
        series: "fork + child writes every page",
    },
    Way {
        row: "posix_spawn /bin/true",
        series: "posix_spawn /bin/true",
    },
];

/// Runs the probe.
pub fn probe(o: &ProbeOptions) -> Result<ProbeReport> {
    let sizes_mib: &[usize] = if o.quick {
        &[0, 64, 256]
    } else {
        &[0, 64, 256, 1024]
    };
    let reps = if o.quick { 3 } else { 7 };
    let mut rows = Vec::new();
    let mut series = WAYS.map(|w| Series {
        label: w.series.into(),
        points: Vec::new(),
    });
    let mut refused = Vec::new();
    // Each size's every fork and posix_spawn: the intervals of the conclusion stand on them.
    let mut timed: Vec<Timings> = Vec::new();
    for &mib in sizes_mib {
        let label = |w: &Way| format!("{}, parent +{mib} MiB", w.row);
        if let Err(why) = room_for(mib) {
            rows.extend(
                WAYS.iter()
                    .map(|w| ProbeFigure::skipped(label(w), "ms", why.clone())),
            );
            refused.push(mib);
            continue;
        }
        let (figures, timings) = time_at(mib * MIB, reps)?;
        let rss_mib = timings.rss_mib;
        timed.push(timings);
        for ((way, stats), line) in WAYS.iter().zip(figures).zip(&mut series) {
            rows.push(ProbeFigure::new(label(way), "ms", stats));
            line.points.push((rss_mib, stats.median));
        }
    }
    let conclusion = conclude(&timed, &refused);
    Ok(ProbeReport {
        probe: ProbeKind::ForkRss,
        title: "fork-rss: fork against the parent's resident memory".into(),
        rows,
        conclusion,
        series: series.into(),
    })
}

/// Refuses a size the machine has no room for: the parent holds it, the copy-on-write child
/// copies it, plus [`HEADROOM_MIB`].
fn room_for(mib: usize) -> std::result::Result<(), String> {
    let need_mib = 2 * mib as u64 + HEADROOM_MIB;
    match proc_field::<u64>("/proc/meminfo", "MemAvailable:") {
        Some(free_kib) if free_kib / 1024 < need_mib => Err(format!(
            "refused: needs {need_mib} MiB free, the machine has {} MiB",
            free_kib / 1024
        )),
        // Where the kernel does not say, the probe goes ahead, as the allocation will tell.
        _ => Ok(()),
    }
}

/// Every fork's and posix_spawn's time at one size of the parent.
#[derive(Debug, Clone)]
struct Timings {
    /// The parent's resident memory, MiB.
    rss_mib: f64,
    /// Each fork + _exit + waitpid, ms.
    fork: Vec<f64>,
    /// Each posix_spawn of /bin/true, ms.
    spawn: Vec<f64>,
}

/// With `bytes` more resident in this process: the figures of the [`WAYS`], in milliseconds,
/// and the timings the conclusion reads.
fn time_at(bytes: usize, reps: usize) -> Result<([Stats; 3], Timings)> {
    let mut ballast = vec![0u8; bytes];
    // Touching a GiB takes a while on a VM: Ctrl-C is looked at every 16 MiB.
    for (k, page) in ballast.chunks_mut(PAGE).enumerate() {
        if k % (16 * MIB / PAGE) == 0 {
            check_interrupt()?;
        }
        page[0] = 1;
    }
    let rss_mib = proc_field::<f64>("/proc/self/status", "VmRSS:").unwrap_or(0.0) / 1024.0;
    let forks = time_samples(reps, MS, || fork_wait(|| exit_now(0)))?;
    let fork = Stats::of(forks.clone());
    let ptr = ballast.as_mut_ptr() as usize;
    let cow = time_reps(reps, MS, || {
        reap_or_stop(fork_child(|| {
            let mut at = 0;
            while at < bytes {
                // SAFETY: `at` stays inside the child's copy of `ballast`; a plain store is
                // async-signal-safe, and the volatile write keeps it from being removed.
                unsafe { std::ptr::write_volatile((ptr + at) as *mut u8, 2) };
                at += PAGE;
            }
            exit_now(0)
        })?)
    })?;
    let spawns = time_samples(reps, MS, spawn_true)?;
    let spawn = Stats::of(spawns.clone());
    std::hint::black_box(&ballast);
    let timings = Timings {
        rss_mib,
        fork: forks,
        spawn: spawns,
    };
    Ok(([fork, cow, spawn], timings))
}

/// How a way's time grows from the smallest parent to the largest (each run's ms at each):
/// the ratio of the two sizes' medians with its interval, the same interval as ms per GiB (the
/// small parent's median held fixed), and the judge's word on the ratio: "faster" (the large
/// parent's runs took longer by more than the margin) is a cost per GiB; "no faster" or
/// "slower" is no measurable cost; a ratio the noise hides is said so. `None` without two sizes.
pub fn growth(small: (f64, &[f64]), large: (f64, &[f64])) -> Option<(Estimate, Verdict)> {
    let gib = (large.0 - small.0) / 1024.0;
    if gib <= 0.0 || small.1.is_empty() || large.1.is_empty() {
        return None;
    }
    let base = stats::median(small.1);
    let ratio = stats::speedup(large.1, small.1, BOOTSTRAP_ROUNDS);
    let slope = |r: f64| (r - 1.0) * base / gib;
    let per_gib = Estimate {
        value: slope(ratio.value),
        low: slope(ratio.low),
        high: slope(ratio.high),
    };
    Some((per_gib, judge::judge(&ratio, Bounds::default())))
}

/// The sentences on fork's and posix_spawn's cost per GiB, their words the judge's
/// ([`growth`]).
fn growth_sentences(small: &Timings, large: &Timings) -> Vec<String> {
    fn at(t: &Timings, xs: fn(&Timings) -> &[f64]) -> (f64, &[f64]) {
        (t.rss_mib, xs(t))
    }
    let sizes = |xs: fn(&Timings) -> &[f64]| {
        format!(
            "{:.2} ms at {:.0} MiB, {:.2} ms at {:.0} MiB",
            stats::median(xs(small)),
            small.rss_mib,
            stats::median(xs(large)),
            large.rss_mib
        )
    };
    let mut out = Vec::new();
    fn fork(t: &Timings) -> &[f64] {
        &t.fork
    }
    if let Some((per_gib, verdict)) = growth(at(small, fork), at(large, fork)) {
        let sizes = sizes(fork);
        out.push(match verdict {
            Verdict::Faster | Verdict::Artefact => format!(
                "fork costs {} more per GiB of parent memory ({sizes}): it copies the page \
                 tables. A child that writes every page pays for the copies too.",
                per_gib.figure(2, "ms")
            ),
            Verdict::NoFaster => format!(
                "fork shows no measurable cost per GiB of parent memory ({sizes}: the times lie \
                 within the noise or {:.0}% of each other).",
                judge::MARGIN * 100.0
            ),
            Verdict::Slower => format!(
                "fork shows no measurable cost per GiB of parent memory ({sizes}: the larger \
                 parent's forks took less time)."
            ),
            Verdict::Hidden => format!(
                "noise hides what fork costs per GiB of parent memory ({sizes}, {} per GiB): \
                 run the probe again on a quieter machine.",
                per_gib.figure(2, "ms")
            ),
        });
    }
    fn spawn(t: &Timings) -> &[f64] {
        &t.spawn
    }
    if let Some((per_gib, verdict)) = growth(at(small, spawn), at(large, spawn)) {
        let sizes = sizes(spawn);
        let what = match verdict {
            Verdict::Faster | Verdict::Artefact => format!(
                "posix_spawn took {} more per GiB here ({sizes}), though it copies nothing",
                per_gib.figure(2, "ms")
            ),
            Verdict::NoFaster | Verdict::Slower => {
                format!(
                    "posix_spawn costs no more with a larger parent ({sizes}): it copies nothing"
                )
            }
            Verdict::Hidden => format!(
                "noise hides whether posix_spawn grows with the parent ({sizes}); it copies nothing"
            ),
        };
        out.push(format!(
            "{what}. So parlab never forks itself to start a worker: `--start spawn` starts every \
             worker with posix_spawn, and the default `--start forkserver` starts one small \
             server with it and forks the workers from that server, whose memory stays small \
             however much parlab holds."
        ));
    }
    out
}

/// The conclusions from the timings at every size measured, and the sizes refused, if any.
fn conclude(timed: &[Timings], refused: &[usize]) -> Vec<String> {
    let mut conclusion = Vec::new();
    if let (Some(first), Some(last)) = (timed.first(), timed.last()) {
        conclusion.extend(growth_sentences(first, last));
    }
    if !refused.is_empty() {
        let sizes: Vec<String> = refused.iter().map(|m| format!("+{m} MiB")).collect();
        conclusion.push(format!(
            "Not measured for want of free memory: a parent of {} (see the rows).",
            sizes.join(", ")
        ));
    }
    conclusion
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_beyond_the_free_memory_is_refused_with_the_figures() {
        assert!(room_for(0).is_ok());
        let why = room_for(usize::MAX / MIB / 4).unwrap_err();
        assert!(
            why.starts_with("refused: needs ") && why.contains("the machine has"),
            "{why}"
        );
    }

    /// Timings at `rss` MiB: forks of `ms`, spread by +-`jitter` ms over seven runs, and
    /// posix_spawns of 0.5 ms.
    fn at(rss: f64, ms: f64, jitter: f64) -> Timings {
        let spread = [0.0, 1.0, -1.0, 0.5, -0.5, 0.25, -0.25];
        Timings {
            rss_mib: rss,
            fork: spread.iter().map(|d| ms + d * jitter).collect(),
            spawn: spread.iter().map(|d| 0.5 + d * 0.01).collect(),
        }
    }

    #[test]
    fn refused_sizes_are_named_in_the_conclusion() {
        let timed = [at(4.0, 1.0, 0.01), at(260.0, 2.0, 0.01)];
        let c = conclude(&timed, &[]);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[0].starts_with("fork costs 4.00 ms ("), "{c:?}");
        assert!(c[0].contains("more per GiB"), "{c:?}");
        assert!(c[1].starts_with("posix_spawn costs no more"), "{c:?}");
        assert!(c[1].contains("--start forkserver"), "{c:?}");
        let c = conclude(&timed[..1], &[256, 1024]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(
            c[0].contains("want of free memory: a parent of +256 MiB, +1024 MiB"),
            "{c:?}"
        );
    }

    #[test]
    fn the_growth_sentences_take_the_judges_words() {
        let small = at(4.0, 0.95, 0.01);
        let cases = [
            // Forks 0.02 ms faster at a GiB: no negative cost, no measurable one.
            (
                at(1028.0, 0.93, 0.01),
                Verdict::NoFaster,
                "no measurable cost",
            ),
            (
                at(1028.0, 0.60, 0.01),
                Verdict::Slower,
                "no measurable cost",
            ),
            (at(1028.0, 3.0, 0.05), Verdict::Faster, "more per GiB"),
            (at(1028.0, 1.1, 0.6), Verdict::Hidden, "noise hides"),
        ];
        for (large, verdict, words) in cases {
            let (per_gib, v) =
                growth((small.rss_mib, &small.fork), (large.rss_mib, &large.fork)).unwrap();
            assert_eq!(v, verdict, "{per_gib:?}");
            let c = conclude(&[small.clone(), large], &[]);
            assert!(c[0].contains(words), "{c:?}");
            assert!(!c[0].contains("costs -"), "{c:?}");
        }
        // A posix_spawn that took longer at the larger parent is not called flat.
        let mut large = at(1028.0, 3.0, 0.05);
        large.spawn = vec![4.0; 7];
        let c = conclude(&[small.clone(), large], &[]);
        assert!(c[1].starts_with("posix_spawn took"), "{c:?}");
        // One size only: no growth, no sentence.
        assert!(growth((4.0, &small.fork), (4.0, &small.fork)).is_none());
    }
}
