//! `fork-rss`: fork gets slower as the parent's resident memory grows; posix_spawn does not.
//!
//! fork copies the parent's page tables (and marks every page copy-on-write), so its cost
//! grows with the parent's resident memory; a child that then writes every page copies them
//! all. posix_spawn (vfork semantics) copies nothing. Each size is allocated and touched by
//! the parent, and refused with a clear message when the machine has too little free memory:
//! the copy-on-write case needs the size twice.

use std::process::{Command, Stdio};

use super::{
    MS, Options, ProbeKind, Report, Row, Series, exit_now, fork_wait, mem_available, proc_kib,
    time_reps,
};
use crate::error::{Error, Result};

const MIB: usize = 1 << 20;
const PAGE: usize = 4096;

/// Runs the probe.
pub fn probe(o: &Options) -> Result<Report> {
    let sizes_mib: &[usize] = if o.quick {
        &[0, 64, 256]
    } else {
        &[0, 64, 256, 1024]
    };
    let reps = if o.quick { 3 } else { 7 };
    let mut rows = Vec::new();
    let mut fork_pts = Vec::new();
    let mut cow_pts = Vec::new();
    let mut spawn_pts = Vec::new();
    for &mib in sizes_mib {
        let bytes = mib * MIB;
        // The parent holds `bytes`, the copy-on-write child copies them: twice, plus headroom.
        let need = 2 * bytes as u64 + 256 * MIB as u64;
        if mem_available().is_some_and(|free| free < need) {
            let why = format!(
                "refused: needs {} MiB free, the machine has {} MiB",
                need / MIB as u64,
                mem_available().unwrap_or(0) / MIB as u64
            );
            for what in [
                "fork + _exit + waitpid",
                "fork + child writes every page",
                "posix_spawn /bin/true",
            ] {
                rows.push(Row::skipped(
                    format!("{what}, parent +{mib} MiB"),
                    "ms",
                    why.clone(),
                ));
            }
            continue;
        }
        let mut ballast = vec![0u8; bytes];
        for page in ballast.chunks_mut(PAGE) {
            page[0] = 1;
        }
        let rss_mib = proc_kib("/proc/self/status", "VmRSS:").unwrap_or(0.0) / 1024.0;
        let fork = time_reps(reps, MS, || fork_wait(|| exit_now(0)))?;
        let ptr = ballast.as_mut_ptr() as usize;
        let cow = time_reps(reps, MS, || {
            fork_wait(|| {
                let mut at = 0;
                while at < bytes {
                    // SAFETY: `at` stays inside the child's copy of `ballast`; a plain store is
                    // async-signal-safe, and the volatile write keeps it from being removed.
                    unsafe { std::ptr::write_volatile((ptr + at) as *mut u8, 2) };
                    at += PAGE;
                }
                exit_now(0)
            })
        })?;
        let spawn = time_reps(reps, MS, || {
            Command::new("/bin/true")
                .stdin(Stdio::null())
                .status()
                .map(drop)
                .map_err(|e| Error::io("spawning /bin/true", e))
        })?;
        std::hint::black_box(&ballast);
        drop(ballast);
        rows.push(Row::new(
            format!("fork + _exit + waitpid, parent +{mib} MiB"),
            "ms",
            fork,
        ));
        rows.push(Row::new(
            format!("fork + child writes every page, parent +{mib} MiB"),
            "ms",
            cow,
        ));
        rows.push(Row::new(
            format!("posix_spawn /bin/true, parent +{mib} MiB"),
            "ms",
            spawn,
        ));
        fork_pts.push((rss_mib, fork.median));
        cow_pts.push((rss_mib, cow.median));
        spawn_pts.push((rss_mib, spawn.median));
    }
    let mut conclusion = Vec::new();
    if let (Some(first), Some(last)) = (fork_pts.first(), fork_pts.last())
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
    if let (Some(first), Some(last)) = (spawn_pts.first(), spawn_pts.last()) {
        conclusion.push(format!(
            "posix_spawn stays flat ({:.2} ms, then {:.2} ms): it copies nothing, which is why \
             parlab starts its workers with it.",
            first.1, last.1
        ));
    }
    Ok(Report {
        probe: ProbeKind::ForkRss,
        title: "fork-rss: fork against the parent's resident memory".into(),
        rows,
        conclusion,
        series: vec![
            Series {
                label: "fork + _exit".into(),
                points: fork_pts,
            },
            Series {
                label: "fork + child writes every page".into(),
                points: cow_pts,
            },
            Series {
                label: "posix_spawn /bin/true".into(),
                points: spawn_pts,
            },
        ],
    })
}
