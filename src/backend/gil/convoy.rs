//! The convoy effect: how a thread doing short blocking calls fares beside a CPU-bound thread.
//!
//! One thread does write+read pairs on a pipe, each call wrapped in a release and a
//! re-take of the lock, as CPython wraps `os.write` and `os.read`. Alone it re-takes the lock
//! at once. Beside a CPU-bound thread, the lock it releases may be taken by that thread, and then
//! it waits for a drop request to be honoured: up to a whole switch interval per call.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::legacy::OldGil;
use super::new::NewGil;
use super::{Held, Lock, Record, Release};
use crate::error::{Error, Result};
use crate::kernels::Ticker;
use crate::kernels::count::{count, count_with};

/// Indices of `count` the I/O thread runs for each write+read pair while it holds the lock: the
/// interpreter's own work between the two calls. CPython runs the loop's bytecodes there (the
/// attribute look-ups, the calls, their arguments and results): about 0.34 µs a pair in 2.7 on
/// this project's machine (the same loop with a cheap builtin in place of `os.write` and
/// `os.read`), and 512 indices of `count` take about as long. Without it the model's I/O thread
/// held the lock only for the ledger's few clock reads, and a CPU-bound thread woken by its
/// release nearly always found the lock free: beside one, Python 2's I/O rate fell some 7x
/// and the model's 30-60x.
pub const PAIR_WORK: u64 = 512;

/// Pairs of blocking calls per second of one I/O thread under the `gil` model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Convoy {
    /// With no other thread.
    pub alone_per_s: f64,
    /// Beside one CPU-bound thread.
    pub beside_cpu_per_s: f64,
}

/// Measures [`Convoy`] for `duration` each, at switch interval `interval`.
pub fn measure(interval: Duration, duration: Duration) -> Result<Convoy> {
    Ok(Convoy {
        alone_per_s: pairs_per_second(&NewGil::new(interval), duration, false)?,
        beside_cpu_per_s: pairs_per_second(&NewGil::new(interval), duration, true)?,
    })
}

/// [`Convoy`] under `gil-legacy`, Python 2's lock released every `check_interval` ticks: a
/// blocking call releases it and takes it back as Python 2's `Py_BEGIN_ALLOW_THREADS` did.
pub fn measure_legacy(check_interval: u32, duration: Duration) -> Result<Convoy> {
    Ok(Convoy {
        alone_per_s: pairs_per_second(&OldGil::new(check_interval), duration, false)?,
        beside_cpu_per_s: pairs_per_second(&OldGil::new(check_interval), duration, true)?,
    })
}

fn pairs_per_second<L: Lock>(gil: &L, duration: Duration, with_cpu: bool) -> Result<f64> {
    // A pipe, as CPython's measurement uses `os.pipe()`.
    let (rx, tx) = nix::unistd::pipe().map_err(|e| Error::io("creating a pipe", e.into()))?;
    let (mut rx, mut tx) = (File::from(rx), File::from(tx));
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        if with_cpu {
            let (gil, stop) = (gil, &stop);
            // Nothing runs yet that would need stopping if this thread is refused.
            crate::limits::spawn_scoped(scope, "parlab-convoy-cpu", move || {
                let mut rec = Record::new(1);
                gil.acquire(1, &mut rec);
                let mut held = Held::new(gil, 1, &mut rec, None);
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    count_with(i, i + 100_000, &mut held);
                    i += 100_000;
                }
                gil.release(1, &mut rec, Release::Exit);
            })?;
            // The CPU-bound thread is running, holding the lock, when the I/O thread starts.
            thread::sleep(Duration::from_millis(20));
        }
        let mut rec = Record::new(0);
        gil.acquire(0, &mut rec);
        let mut held = Held::new(gil, 0, &mut rec, None);
        let mut failure = None;
        let mut byte = [0u8; 1];
        let mut pairs = 0u64;
        let started = Instant::now();
        while started.elapsed() < duration && failure.is_none() {
            for _ in 0..10 {
                held.blocking(&mut || {
                    if let Err(e) = tx.write_all(b"x") {
                        failure.get_or_insert(e);
                    }
                });
                held.blocking(&mut || {
                    if let Err(e) = rx.read_exact(&mut byte) {
                        failure.get_or_insert(e);
                    }
                });
                std::hint::black_box(count(0, std::hint::black_box(PAIR_WORK)));
                // The loop's ticking bytecodes, some 8 a pair in Python 2: one check point.
                held.tick();
            }
            pairs += 10;
        }
        let rate = pairs as f64 / started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        gil.release(0, &mut rec, Release::Exit);
        match failure {
            Some(e) => Err(Error::io("writing and reading a pipe", e)),
            None => Ok(rate),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_bound_thread_slows_the_io_thread_down() {
        // The two rates are measured one after the other, so a busy machine can slow the first
        // as much as the GIL slows the second: the effect (a factor of hundreds when quiet)
        // must show in at least one of three tries.
        let tries: Vec<Convoy> = (0..3)
            .map(|_| measure(Duration::from_millis(5), Duration::from_millis(200)).unwrap())
            .collect();
        for c in &tries {
            assert!(c.alone_per_s > 0.0 && c.beside_cpu_per_s > 0.0, "{c:?}");
        }
        assert!(
            tries.iter().any(|c| c.beside_cpu_per_s < c.alone_per_s),
            "{tries:?}"
        );
    }

    #[test]
    fn the_legacy_io_thread_keeps_doing_pairs_beside_a_cpu_bound_thread() {
        // Python 2's lock is a race the I/O thread wins now and then: it never starves, and
        // the CPU-bound thread stops when asked.
        let c = measure_legacy(100, Duration::from_millis(100)).unwrap();
        assert!(c.alone_per_s > 0.0 && c.beside_cpu_per_s > 0.0, "{c:?}");
    }
}
