//! `fork-rss`: fork gets slower as the parent's resident memory grows; posix_spawn does not.
//!
//! fork copies the parent's page tables (and marks every page copy-on-write), so its cost
//! grows with the parent's resident memory; a child that then writes every page copies them
//! all. posix_spawn (vfork semantics) copies nothing. Each size is allocated and touched by
//! the parent, and refused with a clear message when the machine has too little free memory:
//! the copy-on-write case needs the size twice.

use super::figures::{MS, Stats, check_interrupt, time_reps};
use super::fork::{exit_now, fork_child, fork_wait, reap_or_stop, spawn_true};
use super::{ProbeFigure, ProbeKind, ProbeOptions, ProbeReport, Series};
use crate::bench::rusage::proc_field;
use crate::error::Result;

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
        let (rss_mib, figures) = time_at(mib * MIB, reps)?;
        for ((way, stats), line) in WAYS.iter().zip(figures).zip(&mut series) {
            rows.push(ProbeFigure::new(label(way), "ms", stats));
            line.points.push((rss_mib, stats.median));
        }
    }
    let conclusion = conclude(&series[0].points, &series[2].points, &refused);
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

/// With `bytes` more resident in this process: its resident memory in MiB, and the times of
/// the [`WAYS`], in milliseconds.
fn time_at(bytes: usize, reps: usize) -> Result<(f64, [Stats; 3])> {
    let mut ballast = vec![0u8; bytes];
    // Touching a GiB takes a while on a VM: Ctrl-C is looked at every 16 MiB.
    for (k, page) in ballast.chunks_mut(PAGE).enumerate() {
        if k % (16 * MIB / PAGE) == 0 {
            check_interrupt()?;
        }
        page[0] = 1;
    }
    let rss_mib = proc_field::<f64>("/proc/self/status", "VmRSS:").unwrap_or(0.0) / 1024.0;
    let fork = time_reps(reps, MS, || fork_wait(|| exit_now(0)))?;
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
    let spawn = time_reps(reps, MS, spawn_true)?;
    std::hint::black_box(&ballast);
    Ok((rss_mib, [fork, cow, spawn]))
}

/// The conclusions from the fork and posix_spawn lines, and the sizes refused, if any.
fn conclude(fork: &[(f64, f64)], spawn: &[(f64, f64)], refused: &[usize]) -> Vec<String> {
    let mut conclusion = Vec::new();
    if let (Some(first), Some(last)) = (fork.first(), fork.last())
        && last.0 > first.0
    {
        let per_gib = (last.1 - first.1) / (last.0 - first.0) * 1024.0;
        conclusion.push(format!(
            "fork costs {:.2} ms more per GiB of parent memory ({:.2} ms at {:.0} MiB, {:.2} ms \
             at {:.0} MiB): it copies the page tables. A child that writes every page pays for \
             the copies too.",
            per_gib, first.1, first.0, last.1, last.0
        ));
    }
    if let (Some(first), Some(last)) = (spawn.first(), spawn.last()) {
        conclusion.push(format!(
            "posix_spawn stays flat ({:.2} ms, then {:.2} ms): it copies nothing. So parlab \
             never forks itself to start a worker: `--start spawn` starts every worker with \
             posix_spawn, and the default `--start forkserver` starts one small server with it \
             and forks the workers from that server, whose memory stays small however much \
             parlab holds.",
            first.1, last.1
        ));
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

    #[test]
    fn refused_sizes_are_named_in_the_conclusion() {
        let fork = [(4.0, 1.0), (260.0, 2.0)];
        let spawn = [(4.0, 0.5), (260.0, 0.5)];
        let c = conclude(&fork, &spawn, &[]);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[0].starts_with("fork costs 4.00 ms more per GiB"), "{c:?}");
        assert!(c[1].contains("--start forkserver"), "{c:?}");
        let c = conclude(&fork[..1], &spawn[..1], &[256, 1024]);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(
            c[1].contains("want of free memory: a parent of +256 MiB, +1024 MiB"),
            "{c:?}"
        );
    }
}
