//! `switch`: the cost of a context switch, by ping-pong over pipes.
//!
//! Two parties pass one byte back and forth through two pipes; each round trip is two switches
//! (each side blocks in `read` until the other writes). Pinned to one CPU, every hand-over is a
//! real context switch; unpinned, the two sides may sit on two CPUs and a hand-over is a
//! cross-CPU wake-up instead.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Instant;

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::{Pid, pipe};

use super::figures::check_interrupt;
use super::figures::{US, times};
use super::fork::{exit_now, fork_child, reap};
use super::{ProbeFigure, ProbeKind, ProbeOptions, ProbeReport, Stats};
use crate::error::{Error, Result};

/// Runs the probe.
pub fn probe(o: &ProbeOptions) -> Result<ProbeReport> {
    let round_trips = if o.quick { 2_000 } else { 20_000 };
    let reps = if o.quick { 3 } else { 7 };
    let mut rows = Vec::new();
    let mut medians = [None; 4];
    for (k, (what, processes, pinned)) in [
        ("threads, pinned to one CPU", false, true),
        ("processes, pinned to one CPU", true, true),
        ("threads, unpinned", false, false),
        ("processes, unpinned", true, false),
    ]
    .into_iter()
    .enumerate()
    {
        let what = format!("switch between {what} (pipe ping-pong)");
        let mut xs = Vec::with_capacity(reps);
        let mut refused = None;
        for _ in 0..reps {
            check_interrupt()?;
            match ping_pong(round_trips, processes, pinned) {
                Ok(us) => xs.push(us),
                Err(Refused::Because(why)) => {
                    refused = Some(why);
                    break;
                }
                Err(Refused::Failed(e)) => return Err(e),
            }
        }
        rows.push(match refused {
            Some(why) => ProbeFigure::skipped(what, "us", why),
            None => {
                let s = Stats::of(xs);
                medians[k] = Some(s.median);
                ProbeFigure::new(what, "us", s)
            }
        });
    }
    let mut conclusion = Vec::new();
    if let [Some(t), Some(p), ..] = medians {
        conclusion.push(format!(
            "On one CPU a switch costs {t:.2} us between threads and {p:.2} us between processes \
             ({}): Linux switches both with the same scheduler, and the extra cost of changing \
             address spaces is small on this machine.",
            times(p, t)
        ));
    }
    if let [Some(t), _, Some(u), _] = medians {
        conclusion.push(format!(
            "Unpinned, the two sides may run on two CPUs and each hand-over is a wake-up of a \
             sleeping CPU: {u:.2} us, {} the pinned switch (when the scheduler keeps both on \
             one CPU, the two figures are the same).",
            times(u, t)
        ));
    }
    Ok(ProbeReport {
        probe: ProbeKind::Switch,
        title: "switch: one context switch, by pipe ping-pong".into(),
        rows,
        conclusion,
        series: Vec::new(),
    })
}

/// Why a measurement was not made.
enum Refused {
    /// It could not be made here (pinning refused, a pipe failed): its row says why.
    Because(String),
    /// The probe itself stops: Ctrl-C or SIGTERM, or a limit met (a thread refused).
    Failed(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        if e.interrupted_by().is_some() || e.is_limit() {
            Refused::Failed(e)
        } else {
            Refused::Because(e.to_string())
        }
    }
}

/// The error a ping-pong loop stops with when Ctrl-C or SIGTERM asks it to: an
/// [`std::io::ErrorKind::Interrupted`] that the loop's caller turns into the interruption.
fn interrupted() -> std::io::Result<()> {
    match crate::interrupt::requested() {
        Some(_) => Err(std::io::ErrorKind::Interrupted.into()),
        None => Ok(()),
    }
}

/// Microseconds per switch over `n` round trips.
fn ping_pong(n: usize, processes: bool, pinned: bool) -> std::result::Result<f64, Refused> {
    let me = Pid::from_raw(0);
    let saved =
        sched_getaffinity(me).map_err(|e| Refused::Because(format!("affinity unknown: {e}")))?;
    let first_cpu = (0..CpuSet::count())
        .find(|&c| saved.is_set(c).unwrap_or(false))
        .ok_or_else(|| Refused::Because("no CPU in the affinity mask".into()))?;
    let mut one = CpuSet::new();
    one.set(first_cpu)
        .map_err(|e| Refused::Because(format!("cannot pin: {e}")))?;
    let pin = || -> std::result::Result<(), Refused> {
        if pinned {
            sched_setaffinity(me, &one)
                .map_err(|e| Refused::Because(format!("pinning refused: {e}")))?;
        }
        Ok(())
    };
    let io = |what: &str, e: std::io::Error| match e.kind() {
        std::io::ErrorKind::Interrupted => match crate::interrupt::requested() {
            Some(signal) => Refused::Failed(crate::interrupt::error(signal)),
            None => Refused::Because(Error::io(what.to_string(), e).to_string()),
        },
        _ => Refused::Because(Error::io(what.to_string(), e).to_string()),
    };
    let (a_r, a_w) = pipe().map_err(|e| io("pipe", e.into()))?;
    let (b_r, b_w) = pipe().map_err(|e| io("pipe", e.into()))?;
    pin()?;
    let result = (|| {
        if processes {
            let (ar, bw) = (a_r.as_raw_fd(), b_w.as_raw_fd());
            let child = fork_child(|| {
                let mut byte = [0u8; 1];
                for _ in 0..n {
                    // SAFETY: raw read and write on descriptors inherited from the parent are
                    // async-signal-safe; the buffer is on this stack.
                    let ok = unsafe {
                        nix::libc::read(ar, byte.as_mut_ptr().cast(), 1) == 1
                            && nix::libc::write(bw, byte.as_ptr().cast(), 1) == 1
                    };
                    if !ok {
                        exit_now(1);
                    }
                }
                exit_now(0)
            })?;
            let (mut a_w, mut b_r) = (File::from(a_w), File::from(b_r));
            let mut byte = [0u8; 1];
            let t0 = Instant::now();
            let pinged = (0..n).try_for_each(|_| {
                interrupted()?;
                a_w.write_all(b"x")?;
                b_r.read_exact(&mut byte)
            });
            let elapsed = t0.elapsed().as_secs_f64();
            if let Err(e) = pinged {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = reap(child);
                return Err(io("ping-pong with a child process", e));
            }
            reap(child)?;
            Ok(elapsed * US / (2 * n) as f64)
        } else {
            let mut a_r = File::from(a_r);
            let mut a_w = File::from(a_w);
            let mut b_r = File::from(b_r);
            let mut b_w = File::from(b_w);
            std::thread::scope(|s| {
                let echo = crate::limits::spawn_scoped(s, "parlab-probe-echo", move || {
                    if pinned {
                        let _ = sched_setaffinity(Pid::from_raw(0), &one);
                    }
                    let mut byte = [0u8; 1];
                    for _ in 0..n {
                        a_r.read_exact(&mut byte)?;
                        b_w.write_all(&byte)?;
                    }
                    std::io::Result::Ok(())
                })?;
                let mut byte = [0u8; 1];
                let t0 = Instant::now();
                let pinged = (0..n).try_for_each(|_| {
                    interrupted().map_err(|e| ("ping", e))?;
                    a_w.write_all(b"x").map_err(|e| ("ping", e))?;
                    b_r.read_exact(&mut byte).map_err(|e| ("pong", e))
                });
                let elapsed = t0.elapsed().as_secs_f64();
                // Closed, the pipe ends the echo's wait if the loop stopped early.
                drop(a_w);
                let echoed = echo.join();
                pinged.map_err(|(what, e)| io(what, e))?;
                echoed
                    .map_err(|_| Refused::Because("echo thread panicked".into()))?
                    .map_err(|e| io("echo", e))?;
                Ok(elapsed * US / (2 * n) as f64)
            })
        }
    })();
    let _ = sched_setaffinity(me, &saved);
    result
}
